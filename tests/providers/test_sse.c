/* The generic SSE parser: line endings, fields, comments, multi-line data,
 * events split at every byte, caps, stop and end-of-stream handling. */
#include <stdlib.h>
#include <string.h>

#include "providers/sse.h"
#include "test.h"

/* Records events as "event|id|data\n" lines. */
struct rec {
    struct wb_buf out;
    int stop_at; /* return 99 on this event number (1-based), 0 never */
    int n;
};

static int on_ev(void *ud, const struct sse_event *ev)
{
    struct rec *r = ud;
    r->n++;
    CHECK(strlen(ev->data) == ev->data_len);
    wb_buf_appendf(&r->out, "%s|%s|%s\n", ev->event, ev->id, ev->data);
    return r->stop_at == r->n ? 99 : 0;
}

static void run(const char *in, size_t len, size_t step, int partial, struct rec *r)
{
    struct sse p;
    struct wb_error err = { 0 };
    sse_init(&p, 0, on_ev, r);
    for (size_t i = 0; i < len; i += step) {
        size_t n = len - i < step ? len - i : step;
        CHECK_OK(sse_feed(&p, in + i, n, &err), &err);
    }
    CHECK_OK(sse_finish(&p, partial, &err), &err);
    sse_release(&p);
}

static const char stream[] = "\xEF\xBB\xBF: comment\r\n"
                             "data: one\r\n\r\n"
                             "event: update\ndata: two\ndata:  three\nid: 7\n\n"
                             "data:four\r\rdata\n\n"
                             ": only a comment\n\n"
                             "retry: 1500\nfoo: bar\ndata: {\"k\": \"v\\r\\n\"}\r\n\r\n";
static const char expected[] = "||one\n"
                               "update|7|two\n three\n"
                               "|7|four\n"
                               "|7|\n"
                               "|7|{\"k\": \"v\\r\\n\"}\n";

TEST(sse_fields_and_line_endings)
{
    struct rec r = { 0 };
    wb_buf_init(&r.out, 0);
    run(stream, sizeof stream - 1, sizeof stream, 0, &r);
    CHECK_STR(r.out.data, expected);
    CHECK_INT(r.n, 5);
    wb_buf_release(&r.out);
}

TEST(sse_split_at_every_byte)
{
    /* Two pieces split at every offset, and one byte at a time. */
    for (size_t cut = 0; cut <= sizeof stream - 1; cut++) {
        struct rec r = { 0 };
        struct sse p;
        struct wb_error err = { 0 };
        wb_buf_init(&r.out, 0);
        sse_init(&p, 0, on_ev, &r);
        CHECK_OK(sse_feed(&p, stream, cut, &err), &err);
        CHECK_OK(sse_feed(&p, stream + cut, sizeof stream - 1 - cut, &err), &err);
        CHECK_OK(sse_finish(&p, 0, &err), &err);
        CHECK_MSG(!strcmp(r.out.data, expected), "cut at %zu: %s", cut, r.out.data);
        sse_release(&p);
        wb_buf_release(&r.out);
    }
    {
        struct rec r = { 0 };
        wb_buf_init(&r.out, 0);
        run(stream, sizeof stream - 1, 1, 0, &r);
        CHECK_STR(r.out.data, expected);
        wb_buf_release(&r.out);
    }
}

TEST(sse_crlf_split_between_cr_and_lf)
{
    /* "\r" ends one piece and "\n" starts the next: one line end, not two. */
    struct rec r = { 0 };
    struct sse p;
    struct wb_error err = { 0 };
    wb_buf_init(&r.out, 0);
    sse_init(&p, 0, on_ev, &r);
    CHECK_OK(sse_feed(&p, "data: a\r", 8, &err), &err);
    CHECK_OK(sse_feed(&p, "\ndata: b\r", 9, &err), &err);
    CHECK_OK(sse_feed(&p, "\n\r", 2, &err), &err);
    CHECK_OK(sse_feed(&p, "\n", 1, &err), &err);
    CHECK_STR(r.out.data, "||a\nb\n");
    sse_release(&p);
    wb_buf_release(&r.out);
}

TEST(sse_end_of_stream)
{
    static const char s[] = "data: done\n\ndata: half";
    struct rec r = { 0 };
    wb_buf_init(&r.out, 0);
    run(s, sizeof s - 1, 5, 0, &r); /* the spec: an unterminated event is dropped */
    CHECK_STR(r.out.data, "||done\n");
    wb_buf_reset(&r.out);
    r.n = 0;
    run(s, sizeof s - 1, 5, 1, &r); /* lenient: dispatched */
    CHECK_STR(r.out.data, "||done\n||half\n");
    wb_buf_release(&r.out);
}

TEST(sse_caps_and_stop)
{
    struct rec r = { 0 };
    struct sse p;
    struct wb_error err = { 0 };
    char big[300];
    wb_buf_init(&r.out, 0);
    memset(big, 'x', sizeof big);
    sse_init(&p, 256, on_ev, &r);
    CHECK_OK(sse_feed(&p, "data: ", 6, &err), &err);
    CHECK_INT(sse_feed(&p, big, sizeof big, &err), WB_ETOOBIG);
    CHECK(strstr(err.msg, "exceeds") != NULL);
    CHECK_INT(sse_feed(&p, "\n\n", 2, &err), WB_ETOOBIG); /* sticky */
    sse_release(&p);

    /* A whole over-long line in one piece (read in place, not buffered) is
     * refused as a line, like one that arrives in pieces. */
    {
        char line[320];
        memcpy(line, "data: ", 6);
        memset(line + 6, 'y', sizeof line - 8);
        memcpy(line + sizeof line - 2, "\n\n", 2);
        sse_init(&p, 256, on_ev, &r);
        CHECK_INT(sse_feed(&p, line, sizeof line, &err), WB_ETOOBIG);
        CHECK(strstr(err.msg, "line exceeds 256") != NULL);
        sse_release(&p);
    }

    /* Many data lines, each small, still hit the per-event cap. */
    sse_init(&p, 256, on_ev, &r);
    for (int i = 0; i < 100; i++) {
        int rc = sse_feed(&p, "data: 0123456789\n", 17, &err);
        if (rc) {
            CHECK_INT(rc, WB_ETOOBIG);
            break;
        }
        CHECK(i < 30);
    }
    sse_release(&p);

    r.stop_at = 2;
    r.n = 0;
    sse_init(&p, 0, on_ev, &r);
    CHECK_INT(sse_feed(&p, "data: 1\n\ndata: 2\n\ndata: 3\n\n", 27, &err), 99);
    CHECK_INT(r.n, 2);
    CHECK_INT(sse_finish(&p, 1, &err), 99);
    sse_release(&p);
    wb_buf_release(&r.out);
}

TEST(sse_pending_and_retry)
{
    struct sse p;
    struct wb_error err = { 0 };
    sse_init(&p, 0, NULL, NULL);
    CHECK(!sse_pending(&p));
    CHECK_OK(sse_feed(&p, "retry: 2500\ndata: x", 19, &err), &err);
    CHECK(sse_pending(&p));
    CHECK_INT(p.retry_ms, 2500);
    CHECK_OK(sse_feed(&p, "\n\n", 2, &err), &err);
    CHECK(!sse_pending(&p));
    CHECK_INT(p.n_events, 1);
    sse_release(&p);
}
