/* The Server-Sent Events parser behind sse.h: a byte-at-a-time-safe line
 * splitter (CRLF, LF or CR, with a CR at the end of one piece and its LF at the
 * start of the next counted once) and the WHATWG field rules on each line.
 */
#include <stdlib.h>
#include <string.h>

#include "providers/sse.h"

void sse_init(struct sse *p, size_t max_event, sse_event_fn fn, void *ud)
{
    memset(p, 0, sizeof *p);
    if (max_event == 0)
        max_event = WB_SSE_DEFAULT_MAX;
    wb_buf_init(&p->line, max_event);
    wb_buf_init(&p->data, max_event);
    wb_buf_init(&p->event, 256);
    wb_buf_init(&p->id, 1024);
    p->retry_ms = -1;
    p->fn = fn;
    p->ud = ud;
}

void sse_release(struct sse *p)
{
    wb_buf_release(&p->line);
    wb_buf_release(&p->data);
    wb_buf_release(&p->event);
    wb_buf_release(&p->id);
}

int sse_pending(const struct sse *p)
{
    return p->line.len > 0 || p->has_data;
}

static int too_big(struct sse *p, int rc, const char *what, struct wb_error *err)
{
    p->stopped = rc;
    if (rc == WB_ETOOBIG)
        return wb_error_set(err, rc, "server-sent event %s exceeds %zu bytes", what, p->line.limit);
    return wb_error_set(err, rc, "out of memory in the event-stream parser");
}

static int dispatch(struct sse *p)
{
    int rc = 0;
    if (p->has_data) {
        struct sse_event ev;
        /* Every data line appended a "\n"; the last one is not part of the data. */
        if (p->data.len > 0)
            p->data.data[--p->data.len] = '\0';
        ev.event = p->event.data;
        ev.data = p->data.data;
        ev.data_len = p->data.len;
        ev.id = p->id.data;
        p->n_events++;
        rc = p->fn ? p->fn(p->ud, &ev) : 0;
    }
    wb_buf_reset(&p->data);
    wb_buf_reset(&p->event);
    p->has_data = 0;
    if (rc)
        p->stopped = rc;
    return rc;
}

/* One complete line (without its end). */
static int process_line(struct sse *p, const char *s, size_t n, struct wb_error *err)
{
    const char *val;
    size_t name_len, vlen;
    int rc = 0;

    if (n == 0)
        return dispatch(p);
    if (s[0] == ':')
        return 0; /* comment (keep-alive) */
    {
        const char *colon = memchr(s, ':', n);
        if (colon) {
            name_len = (size_t)(colon - s);
            val = colon + 1;
            vlen = n - name_len - 1;
            if (vlen > 0 && val[0] == ' ') {
                val++;
                vlen--;
            }
        } else {
            name_len = n;
            val = "";
            vlen = 0;
        }
    }
    if (name_len == 4 && memcmp(s, "data", 4) == 0) {
        rc = wb_buf_append(&p->data, val, vlen);
        if (!rc)
            rc = wb_buf_appendc(&p->data, '\n');
        if (rc)
            return too_big(p, rc, "data", err);
        p->has_data = 1;
    } else if (name_len == 5 && memcmp(s, "event", 5) == 0) {
        wb_buf_reset(&p->event);
        if (wb_buf_append(&p->event, val, vlen) != 0)
            wb_buf_reset(&p->event); /* an absurd event name is dropped, not fatal */
    } else if (name_len == 2 && memcmp(s, "id", 2) == 0) {
        if (!memchr(val, '\0', vlen)) {
            wb_buf_reset(&p->id);
            if (wb_buf_append(&p->id, val, vlen) != 0)
                wb_buf_reset(&p->id);
        }
    } else if (name_len == 5 && memcmp(s, "retry", 5) == 0) {
        long v = 0;
        size_t i;
        for (i = 0; i < vlen && val[i] >= '0' && val[i] <= '9' && v < 100000000; i++)
            v = v * 10 + (val[i] - '0');
        if (vlen > 0 && i == vlen)
            p->retry_ms = v;
    }
    /* Unknown fields are ignored, as the spec says. */
    return 0;
}

/* One whole line s[0..n), from the line buffer or straight from the input. */
static int take_line(struct sse *p, const char *s, size_t n, struct wb_error *err)
{
    if (n > p->line.limit && p->line.limit)
        return too_big(p, WB_ETOOBIG, "line", err);
    if (!p->started) {
        p->started = 1;
        if (n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            s += 3;
            n -= 3;
        }
    }
    return process_line(p, s, n, err);
}

static int end_line(struct sse *p, struct wb_error *err)
{
    int rc = take_line(p, p->line.data, p->line.len, err);
    wb_buf_reset(&p->line);
    return rc;
}

/* The end of the line that starts at s: the first CR or LF, or end. */
static const char *line_end(const char *s, const char *end)
{
    const char *lf = memchr(s, '\n', (size_t)(end - s));
    const char *cr = memchr(s, '\r', (size_t)((lf ? lf : end) - s));
    return cr ? cr : lf ? lf : end;
}

int sse_feed(struct sse *p, const char *data, size_t len, struct wb_error *err)
{
    const char *s = data, *end = data + len;
    int rc = 0;

    if (p->stopped)
        return p->stopped;
    while (s < end) {
        const char *e;
        if (p->after_cr) {
            p->after_cr = 0;
            if (*s == '\n') {
                s++;
                continue;
            }
        }
        e = line_end(s, end);
        if (e == end) {
            /* The rest of the line comes in a later piece. */
            rc = wb_buf_append(&p->line, s, (size_t)(e - s));
            return rc ? too_big(p, rc, "line", err) : 0;
        }
        if (*e == '\r')
            p->after_cr = 1;
        if (p->line.len) {
            rc = wb_buf_append(&p->line, s, (size_t)(e - s));
            rc = rc ? too_big(p, rc, "line", err) : end_line(p, err);
        } else {
            rc = take_line(p, s, (size_t)(e - s), err); /* whole in this piece: no copy */
        }
        if (rc)
            return rc;
        s = e + 1;
    }
    return 0;
}

int sse_finish(struct sse *p, int dispatch_partial, struct wb_error *err)
{
    int rc = 0;
    if (p->stopped)
        return p->stopped;
    if (dispatch_partial) {
        if (p->line.len > 0)
            rc = end_line(p, err);
        if (!rc)
            rc = dispatch(p);
    } else {
        wb_buf_reset(&p->line);
        wb_buf_reset(&p->data);
        p->has_data = 0;
    }
    return rc;
}
