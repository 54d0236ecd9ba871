/* The engine's private structures, shared by its files: engine.c (the request
 * state machine and scheduler), transfer.c (libcurl on libuv), model.c (per-
 * model limits) and work.c (worker pool, timers). The only header besides
 * transfer.c and engine.c that sees libuv and libcurl.
 */
#ifndef WB_ENGINE_INT_H
#define WB_ENGINE_INT_H

#include <stdatomic.h>
#include <uv.h>

#include "engine/curl_int.h"
#include "engine/engine.h"
#include "engine/policy.h"

/* A request's life. One function per state in engine.c; job_set_state is the
 * only place that changes it. */
/* A scheduler pass drives libcurl right after each of its first
 * ENG_DRIVE_EACH starts (that request is written at once), and once at its
 * end for the rest, written together. A request written alone wakes the
 * server for it alone: the 500 starts of a -j 500 fill written one by one
 * reached a loopback server over ~230 ms instead of ~110 ms, on two cores
 * shared with it (docs/engine.md, "Transfers"). */
#define ENG_DRIVE_EACH 16

enum job_state {
    JOB_NEW = 0,      /* being submitted */
    JOB_QUEUED,       /* waiting for a concurrency slot in its model */
    JOB_WAITING_RATE, /* has a slot's turn, waiting for the rate limiter or a 429 pause */
    JOB_IN_FLIGHT,    /* a transfer is running */
    JOB_BACKOFF,      /* waiting to retry */
    JOB_DONE,         /* on_done has fired */
};

struct eng_model;

struct eng_job {
    uint64_t id;
    enum job_state state;
    struct engine *eng;
    struct eng_model *model;
    struct core_http_request req;
    int64_t est_tokens;
    struct engine_request_cbs cbs;
    void *ud;

    /* Links: every live job is in e->jobs; a job waiting to start is also in
     * its model's queue; a job in BACKOFF in e->backoff. */
    struct eng_job *prev, *next;
    struct eng_job *qprev, *qnext;

    int attempts;
    int cancel_requested;
    int64_t submitted_at, first_attempt_at, attempt_at, ready_at;

    /* The current attempt. */
    CURL *easy;
    struct curl_slist *hdr_list;
    long http_status;
    struct wb_buf body;
    struct core_http_header *rhdr; /* response headers of the last response */
    size_t n_rhdr;
    size_t rhdr_bytes;
    int consumer_failed;
    int too_big;
    /* The body budget (http.body_budget): bytes this attempt counts for
     * (its reservation, or what arrived when more). */
    size_t budget_held, content_length;
    size_t stream_got; /* bytes a streamed 2xx body carried to the consumer */
    int budget_admitted;
    struct core_api_error aerr;
    char curl_errbuf[CURL_ERROR_SIZE];
    /* cbs.classify_in_pool: the answer is being parsed on the worker pool;
     * the result lands in pool_rc / pool_ae. */
    int classifying;
    int answer_told;   /* cbs.on_answer(ud, 1) was called for this attempt */
    int64_t pool_held; /* bytes counted in the body budget meanwhile */
    int pool_rc;
    struct core_api_error pool_ae;
};

struct eng_model {
    char *name;
    enum core_req_kind kind;
    struct eng_gcra rpm, tpm;
    double rpm_cfg, tpm_cfg;
    struct eng_aimd aimd;
    int conc_configured; /* limit.<model|kind>.concurrency set: a real quota */
    size_t body_est;     /* expected body size (largest seen), for the budget */
    int budget_blocked;  /* the queue's head waits for room in the budget */
    /* The pace the server allowed: successes of requests sent after the
     * first 429, over the time since. */
    int64_t first_limit_at, last_ok_at;
    uint64_t ok_since_limit;
    double start_rpm; /* a rate learned by an earlier run (engine_set_rate) */
    int in_flight, peak_in_flight, queued;
    int64_t pause_until;
    int consecutive_limits; /* 429s since the last success, for backoff without a hint */
    int exhausted;          /* per-day quota */
    struct core_api_error exhausted_err;
    struct eng_job *qhead, *qtail;
    uint64_t requests, rate_limited, succeeded, failed;
};

struct eng_list {
    struct eng_job *head, *tail;
};

struct engine {
    uv_loop_t loop;
    /* NULL until the first request is submitted: libcurl is loaded then (an
     * engine that never sends a request never loads it). */
    CURLM *multi;
    uv_timer_t curl_timer;            /* libcurl's own timeout */
    struct core_api_error load_error; /* why libcurl could not be loaded */
    uv_timer_t kick;                  /* "run the scheduler soon" (zero timeout) */
    uv_timer_t wake;                  /* the next backoff / rate / pause deadline */
    uv_timer_t grace;                 /* stop's grace period */
    uv_async_t stop_async;
    atomic_int stop_requests;
    int stop_seen;
    int kick_armed;
    int in_pass;

    /* Settings. */
    char *ca_file;
    int64_t connect_ms, kind_timeout_ms[WB_REQ_KIND_COUNT], stream_idle_ms;
    struct eng_retry_policy retry;
    size_t max_body;
    long max_host_conns;
    int64_t grace_ms;
    double headroom;
    int aimd_step;
    int worker_nice;    /* nice levels the pool's threads run below the loop */
    int window;         /* -j: default concurrency per model */
    int host_conns_set; /* http.max_host_connections was configured */
    const struct wb_config *cfg;

    /* Bytes of response bodies in flight (and held by the caller through
     * engine_hold) against http.body_budget. */
    size_t budget, budget_used, budget_peak;

    uint64_t rng;
    uint64_t next_id;
    struct eng_list jobs;
    int live_jobs;
    int pending_work, pending_timers;
    struct eng_pool *pool;      /* the worker threads and their queues (work.c) */
    struct eng_utimer *utimers; /* pending user timers */
    struct eng_model **models;
    size_t n_models;
    int in_flight;

    CURL **free_easy;
    size_t n_free_easy, cap_free_easy;
    /* eng_transfer_drive: sockets libcurl opened during the drive and wants
     * to hear are writable (a connect under way), checked at once after it. */
    int driving;
    int n_fresh, cap_fresh;
    curl_socket_t *fresh;
    /* sched_pass: the transfers it started (past ENG_DRIVE_EACH, the rest
     * wait for the drive at its end). */
    int pass_starts;

    int stopping; /* 1: graceful stop, 2: abort */
    struct engine_stats st;
};

/* engine.c */
void eng_kick(struct engine *e);
/* Run the pass a kick asked for now, if one is pending: at the end of the
 * event whose callbacks kicked (an answer, a finished work item) and before
 * a user timer (the pipeline's 0 ms turn commit), so new requests leave
 * before whatever else the loop turn holds. */
void eng_kick_run(struct engine *e);
/* The transfer of j ended (curl result code, -1 when it could not start). */
void eng_job_transfer_done(struct engine *e, struct eng_job *j, int curl_code);
double eng_rand(struct engine *e);

/* transfer.c */
void eng_transfer_release(struct engine *e);
/* Load libcurl and make the multi handle, if not done yet (the first
 * engine_submit); a failure is kept in e->load_error for the transfers. */
void eng_transfer_prepare(struct engine *e);
/* Start j's transfer; the first one loads libcurl (eng_curl_load, waiting for
 * a load wb_preload started) and makes the multi handle. A negative code
 * when it cannot start: WB_ECONFIG when libcurl could not be loaded, with
 * e->load_error saying why. */
int eng_transfer_start(struct engine *e, struct eng_job *j);
/* Let libcurl run the transfers just started, now: connect, and write the
 * request as soon as its connection takes it (eng_transfer_start only adds
 * the handle). Completions it finds wait for eng_transfer_collect. */
void eng_transfer_drive(struct engine *e);
/* Hand every transfer libcurl has finished to eng_job_transfer_done. */
void eng_transfer_collect(struct engine *e);
/* Stop j's running transfer without calling eng_job_transfer_done. */
void eng_transfer_abort(struct engine *e, struct eng_job *j);
/* Map a libcurl result to an api error (retryable for transient transport faults). */
void eng_transfer_error(int curl_code, const char *errbuf, struct core_api_error *out);
void eng_transfer_job_release(struct eng_job *j);
/* Reserve j's expected body in the budget: 0 when there is no room (a media
 * request then waits in its queue), 1 when reserved. */
int eng_budget_reserve(struct engine *e, struct eng_job *j);
/* Connections per host: configured, else from the window. */
long eng_host_conns(struct engine *e);

/* model.c */
struct eng_model *eng_model_get(struct engine *e, const char *name, enum core_req_kind kind);
/* The default concurrency of a model without a configured one follows the
 * window: recompute it for every model (after engine_set_window). */
void eng_models_rewindow(struct engine *e);
void eng_models_free(struct engine *e);

/* The attempt's 2xx body goes to the consumer piece by piece (on_data)
 * instead of into j->body. */
#define ENG_JOB_STREAMS(j) ((j)->req.stream && (j)->cbs.on_data)

/* work.c */
struct eng_work;
struct eng_task;
struct eng_utimer;
/* Abort: cancel work items that have not started, fire timers with WB_ECANCELED. */
void eng_work_abort(struct engine *e);
/* Join the worker threads (after every item ended) and close the pool. */
void eng_pool_free(struct engine *e);

#endif
