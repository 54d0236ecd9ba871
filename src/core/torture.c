/* The counting allocator behind core/torture.h. The linker's --wrap=SYM sends
 * every call to SYM from the library's objects to __wrap_SYM; __real_SYM is
 * the C library's (or the sanitizer's) function. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/torture.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static atomic_ulong torture_count;
static atomic_ulong torture_at; /* 0: disarmed */
static atomic_int torture_hit;

void core_torture_arm(unsigned long n)
{
    atomic_store(&torture_at, 0);
    atomic_store(&torture_count, 0);
    atomic_store(&torture_hit, 0);
    atomic_store(&torture_at, n);
}

unsigned long core_torture_count(void)
{
    return atomic_load(&torture_count);
}

int core_torture_failed(void)
{
    return atomic_load(&torture_hit);
}

/* Counts one allocation; true when it is the one to fail. */
static int torture_fail_now(void)
{
    unsigned long at = atomic_load(&torture_at);
    if (!at)
        return 0;
    if (atomic_fetch_add(&torture_count, 1) + 1 != at)
        return 0;
    atomic_store(&torture_hit, 1);
    return 1;
}

void *core_torture_malloc(size_t n)
{
    return torture_fail_now() ? NULL : __real_malloc(n);
}

void *core_torture_realloc(void *p, size_t n)
{
    return torture_fail_now() ? NULL : __real_realloc(p, n);
}

void *__wrap_malloc(size_t n)
{
    return core_torture_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    return torture_fail_now() ? NULL : __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    return core_torture_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return torture_fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return torture_fail_now() ? NULL : __real_strndup(s, n);
}
