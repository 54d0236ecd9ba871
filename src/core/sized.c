/* Growing public structs: the caller's layout against the library's. */
#include <string.h>

#include "core/sized.h"

static size_t sized_get(const void *s)
{
    size_t n;
    memcpy(&n, s, sizeof n);
    return n;
}

int core_sized_check(const void *s, size_t lib_size, size_t min, const char *what,
                     struct wb_error *err)
{
    size_t n = sized_get(s);
    if (n < min)
        return wb_error_set(err, WB_EINVAL,
                            "%s: size %zu is too small (set it to sizeof the struct, or use "
                            "its _init function)",
                            what, n);
    if (n > lib_size)
        return wb_error_set(err, WB_EINVAL,
                            "%s: size %zu is larger than this library's %zu (a program built "
                            "against a newer wordbank)",
                            what, n, lib_size);
    return 0;
}

int core_sized_load(void *dst, size_t dst_size, const void *src, size_t min, const char *what,
                    struct wb_error *err)
{
    int rc = core_sized_check(src, dst_size, min, what, err);
    if (rc)
        return rc;
    memset(dst, 0, dst_size);
    memcpy(dst, src, sized_get(src));
    memcpy(dst, &dst_size, sizeof dst_size);
    return 0;
}

void core_sized_store(void *dst, const void *src, size_t lib_size)
{
    size_t n = sized_get(dst);
    if (n > lib_size)
        n = lib_size;
    if (n > sizeof n)
        memcpy((char *)dst + sizeof n, (const char *)src + sizeof n, n - sizeof n);
}
