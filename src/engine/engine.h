/* The concurrent request engine: one event-loop thread (libuv) driving every
 * HTTP transfer through libcurl's multi interface (HTTP/2 multiplexing,
 * connection reuse, gzip), a request-level scheduler (in-flight caps and
 * smoothed rates per model, 429 pauses, AIMD, retries with backoff), a worker
 * pool for CPU work, timers and a graceful stop. Internal API used by the
 * pipeline; neither libuv nor libcurl appear here, so users need neither.
 *
 * Threading: every function here is called from the loop thread (the thread
 * that calls engine_run, or before it runs), except engine_request_stop
 * which is async-signal-safe and callable from any thread. Every callback runs
 * on the loop thread, except a work item's `work` function and a classify
 * callback of a request with classify_in_pool.
 *
 * Callbacks never run inside the call that submitted them: engine_submit,
 * engine_cancel and engine_stop only record intent; the effects (and
 * on_done) happen on the loop a moment later. So on_done may submit new work
 * at once, which makes a sliding window trivial.
 */
#ifndef WB_ENGINE_ENGINE_H
#define WB_ENGINE_ENGINE_H

#include <stddef.h>
#include <stdint.h>

#include "core/http.h"
#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/error.h"

struct engine;

/* Load libcurl now (wb_preload, on its thread): the first request otherwise
 * does (curl_int.h). 0, or -WB_EUNSUPPORTED with err set; a later transfer
 * reports the same failure. */
int engine_preload(struct wb_error *err);

/* The result of a request, handed to on_done exactly once. */
struct engine_response {
    int status;       /* 0, or WB_E* (WB_ECANCELED when canceled or stopped) */
    long http_status; /* last HTTP status, 0 when none arrived */
    /* The body of a non-streamed request (also of a streamed request that
     * failed with an HTTP error). The callback may take it with wb_buf_detach;
     * whatever is left is released after on_done returns. */
    struct wb_buf *body;
    const struct core_http_header *headers; /* last response's headers */
    size_t n_headers;
    const struct core_api_error *api_error; /* filled when status != 0 */
    int attempts;                           /* attempts made (0 when canceled before the first) */
    int64_t elapsed_ms;                     /* from submit to done */
};

/* Classification of an HTTP answer: 0 for success, else a negative WB_E* code
 * with *out filled (retryable, retry_after_ms, per_day, message...). */
typedef int (*engine_classify_fn)(void *ud, long status, const struct core_http_header *h,
                                  size_t nh, const char *body, size_t len,
                                  struct core_api_error *out);

struct engine_request_cbs {
    /* Streamed requests (req->stream): each piece of a 2xx body. Non-zero
     * aborts this attempt; *aerr (cleared before the call) says why and
     * whether to retry (aerr->retryable, aerr->retry_after_ms). May be NULL. */
    int (*on_data)(void *ud, const char *p, size_t n, struct core_api_error *aerr);
    /* Called before attempt 2, 3, ...: reset the consumer's state. May be NULL. */
    void (*on_retry)(void *ud);
    /* NULL: engine_classify_default. */
    engine_classify_fn classify;
    /* Non-zero: classify a 2xx answer on the worker pool instead of the loop
     * thread (for parsers that decode large payloads: pictures, speech). It
     * then runs on a pool thread and must touch only ud's own state; the
     * request keeps its concurrency slot until it returns. Other answers
     * (errors, 429s) are classified on the loop thread as usual. */
    int classify_in_pool;
    /* With classify_in_pool: in = 1 when a 2xx answer is in whole and its
     * parse is queued on the pool (the request no longer waits for the
     * network); in = 0 when that parse rejected it and the request is to be
     * asked again (then on_retry before the attempt). May be NULL. */
    void (*on_answer)(void *ud, int in);
    /* Exactly once per submitted request. */
    void (*on_done)(void *ud, const struct engine_response *r);
};

/* Settings read from cfg (all optional):
 *   ca_file, timeout.connect_ms, timeout.text_ms, timeout.image_ms,
 *   timeout.speech_ms, timeout.stream_idle_ms (low-speed limit for streams),
 *   retry.max_attempts, retry.deadline_ms, retry.base_ms, retry.cap_ms,
 *   limit.<model|kind>.rpm, .tpm, .concurrency, .burst (kind = text, image,
 *   speech, list), limit.headroom (fraction kept below configured rates,
 *   default 0.03), limit.aimd_step (successes per +1, default 2),
 *   http.max_host_connections (default 16, or from the window), http.max_body
 *   (bytes, 64 MiB), http.body_budget (bytes of response bodies in flight,
 *   16 MiB: picture and speech requests wait while it is spent),
 *   stop.grace_ms (for engine_request_stop, default 10000),
 *   engine.seed (jitter seed; default from the clock). */
int engine_new(const struct wb_config *cfg, struct engine **out, struct wb_error *err);
/* The window: how many entries the caller keeps in flight (-j). A model
 * without a configured limit.<model|kind>.concurrency may have that many
 * requests in flight, and HTTP/1.1 opens up to 2 x window + 8 connections a
 * host unless http.max_host_connections is set (the soft limit on open
 * files is raised to match when the hard limit allows). Without a window the
 * caps are text 64, image 16, speech 16, list 4. Call before engine_run. */
void engine_set_window(struct engine *e, int window);
/* Start model (of that kind) at rpm requests a minute, e.g. a rate an
 * earlier run learned from 429s, unless limit.<model|kind>.rpm is
 * configured (a configured quota wins). Smoothed like a configured rate,
 * burst 1. Call before engine_run. */
int engine_set_rate(struct engine *e, const char *model, enum core_req_kind kind, double rpm);
/* Bytes the caller holds on behalf of finished responses (decoded media
 * waiting for an encoder): they count against http.body_budget like bodies
 * in flight, so new media transfers wait while they are held. delta < 0
 * gives them back. Loop thread only. */
void engine_hold(struct engine *e, int64_t delta);

/* Frees an engine that is not running. Requests still pending are canceled
 * (their on_done fires with WB_ECANCELED) before it returns. NULL: no-op. */
void engine_free(struct engine *e);

/* Queue a request. The engine takes *req (released and zeroed here, also on
 * failure). est_tokens: the request's estimated token cost for a tpm limit (0
 * if unknown). Returns 0 and the request's id, or a negative code (then no
 * callback fires). */
int engine_submit(struct engine *e, struct core_http_request *req, int64_t est_tokens,
                  const struct engine_request_cbs *cbs, void *ud, uint64_t *id_out);
/* Cancel a request: its on_done fires (soon, on the loop) with WB_ECANCELED
 * unless it has already finished. -WB_ENOTFOUND for an unknown/finished id. */
int engine_cancel(struct engine *e, uint64_t id);

/* Run the loop until no request, work item or timer is left. Returns 0, or
 * WB_ECANCELED when the run was stopped. */
int engine_run(struct engine *e);
/* Stop: start nothing new (queued requests finish with WB_ECANCELED), let
 * in-flight requests finish within grace_ms, then cancel them. A second call
 * (or grace_ms <= 0) aborts at once. Loop thread only. */
void engine_stop(struct engine *e, int64_t grace_ms);
/* Async-signal-safe request for engine_stop(e, stop.grace_ms); a second
 * request aborts at once. */
void engine_request_stop(struct engine *e);
int engine_stopping(const struct engine *e);

/* CPU work on the worker pool: work(ud) on a pool thread, then after(ud, status)
 * on the loop thread (status 0, or WB_ECANCELED when it never ran). */
int engine_queue_work(struct engine *e, void (*work)(void *ud), void (*after)(void *ud, int status),
                      void *ud);
/* The same, taken by the next free pool thread before any engine_queue_work
 * item still waiting (parsing an answer a request slot waits for, ahead of
 * encoding). */
int engine_queue_work_urgent(struct engine *e, void (*work)(void *ud),
                             void (*after)(void *ud, int status), void *ud);
/* cb(ud, 0) after ms milliseconds on the loop thread; cb(ud, WB_ECANCELED) at
 * once if the engine aborts first. Keeps engine_run alive until it fires. */
int engine_timer(struct engine *e, int64_t ms, void (*cb)(void *ud, int status), void *ud);
/* The same, but it does not keep engine_run alive: when nothing else is
 * left the run returns, and the timer fires with WB_ECANCELED when the
 * engine is freed (or aborts). For housekeeping (heartbeats). */
int engine_timer_weak(struct engine *e, int64_t ms, void (*cb)(void *ud, int status), void *ud);
/* Monotonic milliseconds as the loop sees them. */
int64_t engine_now(const struct engine *e);

/* The default classifier: by status code; Retry-After / retry-after-ms headers
 * give the hint. */
int engine_classify_default(void *ud, long status, const struct core_http_header *h, size_t nh,
                            const char *body, size_t len, struct core_api_error *out);

struct engine_stats {
    uint64_t submitted;    /* requests submitted */
    uint64_t attempts;     /* HTTP attempts started */
    uint64_t retries;      /* attempts after the first */
    uint64_t rate_limited; /* 429 answers */
    uint64_t succeeded, failures, canceled;
    uint64_t bytes_in; /* response body bytes */
    int in_flight, queued, peak_in_flight;
    uint64_t budget_waits; /* transfers that waited for room in the body budget */
    size_t budget_peak;    /* most bytes counted against the budget at once */
    size_t budget_used;    /* bytes counted against it now */
    long host_conns;       /* connections per host allowed */
};
void engine_get_stats(const struct engine *e, struct engine_stats *s);

/* Per-model state, for a progress display. */
struct engine_model_info {
    const char *model; /* valid while the engine lives */
    int in_flight, peak_in_flight, queued;
    int cap;          /* concurrency cap now (AIMD) */
    int cap_max;      /* configured cap */
    double rpm;       /* configured rate, 0: none */
    int64_t pause_ms; /* remaining 429 pause, 0: none */
    int exhausted;    /* per-day quota hit: every request fails */
    uint64_t requests, rate_limited, succeeded, failed;
    /* The pace the server allowed after its first 429 (requests a minute:
     * successes from then on over that time); 0 without enough 429s. */
    double learned_rpm;
    double start_rpm; /* the rate given by engine_set_rate, 0: none */
};
size_t engine_model_count(const struct engine *e);
int engine_model_info(const struct engine *e, size_t i, struct engine_model_info *out);

#endif
