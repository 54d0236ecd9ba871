/* The string builder (see wordbank/buf.h). Borrowed from git's strbuf: never
 * NULL, always NUL-terminated, memory handed over with _detach. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordbank/buf.h"
#include "wordbank/error.h"

static char empty_slot[1];

void wb_buf_init(struct wb_buf *b, size_t limit)
{
    b->data = empty_slot;
    b->len = 0;
    b->cap = 0;
    b->limit = limit;
}

void wb_buf_release(struct wb_buf *b)
{
    if (b->cap)
        free(b->data);
    wb_buf_init(b, b->limit);
}

void wb_buf_reset(struct wb_buf *b)
{
    b->len = 0;
    if (b->cap)
        b->data[0] = '\0';
}

int wb_buf_grow(struct wb_buf *b, size_t n)
{
    size_t need, cap;
    char *p;
    if (n > SIZE_MAX / 2 - b->len)
        return WB_ETOOBIG;
    need = b->len + n;
    if (b->limit && need > b->limit)
        return WB_ETOOBIG;
    if (need + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need + 1)
        cap = cap / 2 * 3 + 16;
    p = b->cap ? realloc(b->data, cap) : malloc(cap);
    if (!p)
        return WB_ENOMEM;
    if (!b->cap)
        p[0] = '\0';
    b->data = p;
    b->cap = cap;
    return 0;
}

int wb_buf_append(struct wb_buf *b, const void *p, size_t n)
{
    int rc = wb_buf_grow(b, n);
    if (rc)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int wb_buf_appends(struct wb_buf *b, const char *s)
{
    return wb_buf_append(b, s, strlen(s));
}

int wb_buf_appendc(struct wb_buf *b, char c)
{
    return wb_buf_append(b, &c, 1);
}

int wb_buf_appendvf(struct wb_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n, rc;
    va_copy(cp, ap);
    n = vsnprintf(NULL, 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return WB_EINVAL;
    rc = wb_buf_grow(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return 0;
}

int wb_buf_appendf(struct wb_buf *b, const char *fmt, ...)
{
    va_list ap;
    int rc;
    va_start(ap, fmt);
    rc = wb_buf_appendvf(b, fmt, ap);
    va_end(ap);
    return rc;
}

char *wb_buf_detach(struct wb_buf *b, size_t *len)
{
    char *p;
    if (len)
        *len = b->len;
    if (!b->cap) {
        p = malloc(1);
        if (p)
            p[0] = '\0';
        return p;
    }
    p = b->data;
    wb_buf_init(b, b->limit);
    return p;
}

void wb_buf_consume(struct wb_buf *b, size_t n)
{
    if (n >= b->len) {
        wb_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}
