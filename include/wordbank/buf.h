/* The one string builder.
 *
 * After wb_buf_init() `data` is never NULL and always NUL-terminated, so it can
 * be handed to any C string function. A non-zero limit caps the length: data
 * arriving from a network or a file cannot make us allocate without bound.
 */
#ifndef WORDBANK_BUF_H
#define WORDBANK_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "wordbank/api.h"

#ifdef __cplusplus
extern "C" {
#endif

struct wb_buf {
    char *data;
    size_t len;
    size_t cap;   /* 0 while data points at the shared empty string */
    size_t limit; /* 0: no cap */
};

WB_API void wb_buf_init(struct wb_buf *b, size_t limit);
WB_API void wb_buf_release(struct wb_buf *b);
/* Empty the buffer but keep its memory. */
WB_API void wb_buf_reset(struct wb_buf *b);
/* Make room for n more bytes. -WB_ETOOBIG past the limit, -WB_ENOMEM. */
WB_API int wb_buf_grow(struct wb_buf *b, size_t n);
WB_API int wb_buf_append(struct wb_buf *b, const void *p, size_t n);
WB_API int wb_buf_appends(struct wb_buf *b, const char *s);
WB_API int wb_buf_appendc(struct wb_buf *b, char c);
WB_API int wb_buf_appendf(struct wb_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
WB_API int wb_buf_appendvf(struct wb_buf *b, const char *fmt, va_list ap);
/* Hand the memory to the caller (free() it); the buffer is left empty and usable.
 * Never returns NULL unless out of memory. */
WB_API char *wb_buf_detach(struct wb_buf *b, size_t *len);
/* Remove n bytes from the front. */
WB_API void wb_buf_consume(struct wb_buf *b, size_t n);

#ifdef __cplusplus
}
#endif

#endif
