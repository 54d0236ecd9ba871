/* A generic, incremental Server-Sent Events parser (the WHATWG event-stream
 * format), shared by every provider that streams: Gemini's
 * streamGenerateContent?alt=sse and OpenAI-style chat/completions streams.
 *
 * Bytes go in as they arrive from the network, in pieces of any size: an event
 * may be split at any byte (inside a CRLF, inside a UTF-8 sequence), and one
 * piece may hold many events. Lines end with CRLF, LF or CR. Fields: "data"
 * (several data lines are joined with "\n"), "event", "id", "retry"; lines
 * starting with ':' are comments; an empty line dispatches the event. A leading
 * UTF-8 BOM is skipped. Every buffer is capped: an event (or a line) longer
 * than max_event bytes fails with WB_ETOOBIG instead of growing without bound.
 *
 * No I/O, no allocation outside the parser's own buffers.
 */
#ifndef WB_PROVIDERS_SSE_H
#define WB_PROVIDERS_SSE_H

#include <stddef.h>

#include "wordbank/buf.h"
#include "wordbank/error.h"

/* One dispatched event. Strings are borrowed: valid only during the callback. */
struct sse_event {
    const char *event; /* the "event:" field, "" when none was given ("message") */
    const char *data;  /* data lines joined with "\n", NUL-terminated */
    size_t data_len;
    const char *id; /* the last "id:" seen on the stream, "" when none */
};

/* Called once per event. A non-zero return stops the parser: sse_feed()
 * returns that value and the parser refuses further input. */
typedef int (*sse_event_fn)(void *ud, const struct sse_event *ev);

struct sse {
    struct wb_buf line;  /* the current, unfinished line */
    struct wb_buf data;  /* data of the event being built */
    struct wb_buf event; /* its event type */
    struct wb_buf id;    /* last event id */
    long retry_ms;       /* last "retry:" value, -1 when none */
    int has_data;        /* at least one data line in the current event */
    int after_cr;        /* the previous byte was CR: a following LF belongs to it */
    int started;         /* any byte seen (for the BOM check) */
    int stopped;         /* the callback or an error stopped the parser: sticky rc */
    size_t n_events;     /* events dispatched so far */
    sse_event_fn fn;
    void *ud;
};

/* Default cap on one event's size (and one line's). */
#define WB_SSE_DEFAULT_MAX (8u << 20)

/* max_event 0 means WB_SSE_DEFAULT_MAX. */
void sse_init(struct sse *p, size_t max_event, sse_event_fn fn, void *ud);
void sse_release(struct sse *p);
/* Feed len bytes. Returns 0, the callback's non-zero value, or -WB_ETOOBIG /
 * -WB_ENOMEM (err, which may be NULL, says which buffer). After a non-zero
 * return every later call returns the same value. */
int sse_feed(struct sse *p, const char *data, size_t len, struct wb_error *err);
/* The stream ended. The spec discards an event that was not terminated by an
 * empty line; with dispatch_partial != 0 a pending event (including a last line
 * without its line end) is dispatched instead, which is what a lenient client of
 * a server that closes right after its last "data:" line wants. Returns as feed. */
int sse_finish(struct sse *p, int dispatch_partial, struct wb_error *err);
/* True when bytes of an unfinished event are pending (a truncated stream). */
int sse_pending(const struct sse *p);

#endif
