/* The one growable array: room for more elements of a T * array, sized with
 * overflow checks and a per-array cap, so that no caller multiplies sizes by
 * hand. See util.h for the two entry points. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

/* The largest element count allowed: max, and never more than size_t holds. */
static size_t limit(size_t elem, size_t max)
{
    size_t most = SIZE_MAX / elem;
    return max && max < most ? max : most;
}

static int resize(void *arrp, size_t count, size_t elem)
{
    void *old, *p;
    memcpy(&old, arrp, sizeof old);
    if (!(p = realloc(old, count * elem))) /* count > 0, count * elem checked */
        return WB_ENOMEM;
    memcpy(arrp, &p, sizeof p);
    return 0;
}

int core_array_reserve(void *arrp, size_t *cap, size_t n, size_t add, size_t elem, size_t max)
{
    size_t most, nc;
    int rc;

    if (elem == 0)
        return WB_EINVAL;
    most = limit(elem, max);
    if (add > most || n > most - add)
        return WB_ETOOBIG;
    if (n + add <= *cap)
        return 0;
    nc = *cap >= 8 ? *cap : 8;
    while (nc < n + add)
        nc = nc > most / 2 ? most : nc * 2;
    if (nc > most)
        nc = most;
    if ((rc = resize(arrp, nc, elem)) != 0)
        return rc;
    *cap = nc;
    return 0;
}

int core_array_resize(void *arrp, size_t count, size_t elem, size_t max)
{
    if (elem == 0)
        return WB_EINVAL;
    if (count > limit(elem, max))
        return WB_ETOOBIG;
    return resize(arrp, count ? count : 1, elem);
}
