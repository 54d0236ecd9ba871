/* libFuzzer target for the SSE parser. Besides "no crash, no leak" it checks a
 * property: the events (and the final status) are the same whether the input
 * arrives in one piece, in small chunks or split at one arbitrary byte. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/sse.h"

static int record(void *ud, const struct sse_event *ev)
{
    struct wb_buf *b = ud;
    wb_buf_append(b, ev->event, strlen(ev->event) + 1);
    wb_buf_append(b, ev->id, strlen(ev->id) + 1);
    wb_buf_append(b, ev->data, ev->data_len + 1);
    return 0;
}

/* Feed data in pieces of `step` bytes after a first piece of `first` bytes. */
static int run(const uint8_t *data, size_t len, size_t first, size_t step, struct wb_buf *out)
{
    struct sse p;
    int rc = 0;
    sse_init(&p, 1024, record, out);
    if (first > len)
        first = len;
    rc = sse_feed(&p, (const char *)data, first, NULL);
    for (size_t i = first; i < len && !rc; i += step)
        rc = sse_feed(&p, (const char *)data + i, len - i < step ? len - i : step, NULL);
    if (!rc)
        rc = sse_finish(&p, len & 1, NULL);
    wb_buf_appendf(out, "rc=%d", rc);
    sse_release(&p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct wb_buf a, b, c;
    size_t cut = len > 2 ? ((size_t)data[1] << 8 | data[2]) % (len + 1) : 0;
    size_t step = len ? 1 + data[0] % 7 : 1;
    wb_buf_init(&a, 0);
    wb_buf_init(&b, 0);
    wb_buf_init(&c, 0);
    run(data, len, len, 1, &a);
    run(data, len, 0, step, &b);
    run(data, len, cut, len ? len : 1, &c);
    if (a.len != b.len || memcmp(a.data, b.data, a.len) || a.len != c.len ||
        memcmp(a.data, c.data, a.len))
        abort();
    wb_buf_release(&a);
    wb_buf_release(&b);
    wb_buf_release(&c);
    return 0;
}
