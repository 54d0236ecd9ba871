/* Allocation-failure torture, in curl's manner: fail the Nth allocation, for
 * every N (tests/torture, docs/architecture.md "Allocation failures").
 *
 * Built only with the meson option torture (on by default in an
 * AddressSanitizer tree), which defines WB_TORTURE and links everything that
 * uses the modules with --wrap for malloc, calloc, realloc, strdup and strndup:
 * every allocation the library's own code makes passes through a counter.
 * SQLite's allocator (src/store) and jansson's (src/providers) are routed
 * through the same counter. Inert until armed: an unarmed counter only counts.
 * Not part of the public API.
 */
#ifndef WB_CORE_TORTURE_H
#define WB_CORE_TORTURE_H

#include <stddef.h>

/* Fail the nth allocation from now (1-based), only that one; 0 disarms.
 * Resets the count and the "failed" flag. */
void core_torture_arm(unsigned long n);
/* Allocations counted since the last core_torture_arm() (counted only while
 * armed: core_torture_arm(ULONG_MAX) counts without failing). */
unsigned long core_torture_count(void);
/* Whether the armed allocation has been failed since the last arm. */
int core_torture_failed(void);

/* The counting allocator itself (what the wrapped malloc and realloc call),
 * for outside libraries' allocator hooks. Free with free(). */
void *core_torture_malloc(size_t n);
void *core_torture_realloc(void *p, size_t n);

#endif
