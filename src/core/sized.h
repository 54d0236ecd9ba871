/* Public structs that grow (wordbank/api.h): their first member is a size_t
 * size the caller sets to the sizeof it was compiled with. These copy such a
 * struct between the caller's layout and the library's. */
#ifndef WB_CORE_SIZED_H
#define WB_CORE_SIZED_H

#include <stddef.h>

#include "wordbank/error.h"

/* The smallest size accepted for struct T: up to and including its member M,
 * the first after size (a caller of any release knows that much). */
#define CORE_SIZED_MIN(T, M) (offsetof(T, M) + sizeof(((T *)0)->M))

/* Copy the caller's struct src (its size in its first member) into dst, the
 * library's (dst_size bytes): the members the caller does not know are zero
 * (their defaults), and dst's size becomes dst_size. -WB_EINVAL, naming what,
 * when src's size is below min (not set) or above dst_size (a caller built
 * against a newer wordbank: members this library would ignore). */
int core_sized_load(void *dst, size_t dst_size, const void *src, size_t min, const char *what,
                    struct wb_error *err);

/* Check the size of a struct the library fills (a report) as core_sized_load
 * does; 0 or -WB_EINVAL. */
int core_sized_check(const void *s, size_t lib_size, size_t min, const char *what,
                     struct wb_error *err);

/* Copy the library's filled struct src (lib_size bytes) back into the
 * caller's dst, only as far as dst's own size; dst keeps its size. */
void core_sized_store(void *dst, const void *src, size_t lib_size);

#endif
