/* The engine's heart: each request is an explicit state machine
 *   QUEUED -> WAITING_RATE -> IN_FLIGHT -> (BACKOFF -> QUEUED ...) -> DONE
 * with one function per state (st_*) and one place that changes the state
 * (job_set_state, which logs every transition at TRACE). A scheduler pass
 * (sched_pass) runs on the loop whenever something changed ("kick") or a
 * deadline came (the "wake" timer): it applies cancels and stops, moves
 * finished backoffs back to their queue and starts every request that its
 * model's concurrency cap, 429 pause and rate limiter allow. User callbacks
 * never run inside engine_submit/cancel/stop, only from the loop.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "engine/engine_int.h"
#include "wordbank/log.h"

static const char *state_names[] = {
    "NEW", "QUEUED", "WAITING_RATE", "IN_FLIGHT", "BACKOFF", "DONE"
};

static void sched_pass(struct engine *e);

/* ---- small helpers ---- */

double eng_rand(struct engine *e)
{
    /* xorshift64*: jitter only, not security. */
    uint64_t x = e->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    e->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

int64_t engine_now(const struct engine *e)
{
    (void)e;
    return core_clock_mono_ms();
}

static void on_kick(uv_timer_t *t)
{
    struct engine *e = t->data;
    e->kick_armed = 0;
    sched_pass(e);
}

void eng_kick(struct engine *e)
{
    if (e->kick_armed)
        return;
    e->kick_armed = 1;
    uv_timer_start(&e->kick, on_kick, 0, 0);
}

void eng_kick_run(struct engine *e)
{
    if (!e->kick_armed || e->in_pass)
        return;
    uv_timer_stop(&e->kick);
    e->kick_armed = 0;
    sched_pass(e);
}

static void on_wake(uv_timer_t *t)
{
    sched_pass(t->data);
}

static void list_push(struct eng_list *l, struct eng_job *j)
{
    j->prev = l->tail;
    j->next = NULL;
    if (l->tail)
        l->tail->next = j;
    else
        l->head = j;
    l->tail = j;
}

static void list_remove(struct eng_list *l, struct eng_job *j)
{
    if (j->prev)
        j->prev->next = j->next;
    else
        l->head = j->next;
    if (j->next)
        j->next->prev = j->prev;
    else
        l->tail = j->prev;
    j->prev = j->next = NULL;
}

static void queue_push(struct eng_model *m, struct eng_job *j, int front)
{
    j->qprev = j->qnext = NULL;
    if (!m->qhead) {
        m->qhead = m->qtail = j;
    } else if (front) {
        j->qnext = m->qhead;
        m->qhead->qprev = j;
        m->qhead = j;
    } else {
        j->qprev = m->qtail;
        m->qtail->qnext = j;
        m->qtail = j;
    }
    m->queued++;
}

static void queue_remove(struct eng_model *m, struct eng_job *j)
{
    if (j->qprev)
        j->qprev->qnext = j->qnext;
    else
        m->qhead = j->qnext;
    if (j->qnext)
        j->qnext->qprev = j->qprev;
    else
        m->qtail = j->qprev;
    j->qprev = j->qnext = NULL;
    m->queued--;
}

/* ---- the one place a state changes ---- */

static void job_set_state(struct engine *e, struct eng_job *j, enum job_state to)
{
    enum job_state from = j->state;
    (void)e;
    wb_log(WB_LOG_TRACE, "engine: request #%llu (%s) %s -> %s, attempt %d",
           (unsigned long long)j->id, j->model->name, state_names[from], state_names[to],
           j->attempts);
    int was_queued = from == JOB_QUEUED || from == JOB_WAITING_RATE;
    int queued = to == JOB_QUEUED || to == JOB_WAITING_RATE;
    /* Leave the old state's lists and counters ... */
    if (was_queued && !queued)
        queue_remove(j->model, j);
    if (from == JOB_IN_FLIGHT) {
        j->model->in_flight--;
        e->in_flight--;
    }
    /* ... enter the new one's. Backoff jobs sit in no queue; the pass finds
     * them through e->jobs when their time has come. */
    if (queued && !was_queued)
        queue_push(j->model, j, j->attempts > 0); /* retries go first */
    if (to == JOB_IN_FLIGHT) {
        j->model->in_flight++;
        e->in_flight++;
        if (j->model->in_flight > j->model->peak_in_flight)
            j->model->peak_in_flight = j->model->in_flight;
        if (e->in_flight > e->st.peak_in_flight)
            e->st.peak_in_flight = e->in_flight;
    }
    j->state = to;
}

/* ---- DONE ---- */

static void st_done(struct engine *e, struct eng_job *j, int status,
                    const struct core_api_error *ae)
{
    if (j->state == JOB_DONE)
        return;
    if (j->state == JOB_IN_FLIGHT)
        eng_transfer_abort(e, j);
    job_set_state(e, j, JOB_DONE);
    struct core_api_error local;
    if (!ae || (status != 0 && ae->code == 0)) {
        core_api_error_clear(&local);
        local.code = status;
        if (ae && ae->message[0])
            memcpy(local.message, ae->message, sizeof local.message);
        else
            snprintf(local.message, sizeof local.message, "%s", wb_strerror(status));
        ae = &local;
    }
    if (status == 0) {
        e->st.succeeded++;
        j->model->succeeded++;
    } else if (status == WB_ECANCELED) {
        e->st.canceled++;
    } else {
        e->st.failures++;
        j->model->failed++;
    }
    struct engine_response r = {
        .status = status,
        .http_status = j->http_status,
        .body = &j->body,
        .headers = j->rhdr,
        .n_headers = j->n_rhdr,
        .api_error = ae,
        .attempts = j->attempts,
        .elapsed_ms = core_clock_mono_ms() - j->submitted_at,
    };
    wb_log(WB_LOG_DEBUG, "engine: request #%llu (%s) done: %s after %d attempt(s)",
           (unsigned long long)j->id, j->model->name, status ? ae->message : "ok", j->attempts);
    if (j->cbs.on_done)
        j->cbs.on_done(j->ud, &r);
    list_remove(&e->jobs, j);
    e->live_jobs--;
    eng_transfer_job_release(j);
    wb_buf_release(&j->body);
    core_http_request_release(&j->req);
    free(j);
}

static void fail_canceled(struct engine *e, struct eng_job *j, const char *why)
{
    struct core_api_error ae;
    core_api_error_clear(&ae);
    ae.code = WB_ECANCELED;
    snprintf(ae.message, sizeof ae.message, "%s", why);
    st_done(e, j, WB_ECANCELED, &ae);
}

/* ---- QUEUED / WAITING_RATE: may the queue's head start now? ----
 * Returns 1 when the job left the queue (started or finished), 0 when the
 * model must wait; *wake gets the time worth waking up for. */
static int st_waiting(struct engine *e, struct eng_job *j, int64_t now, int64_t *wake)
{
    struct eng_model *m = j->model;
    if (m->exhausted) {
        st_done(e, j, m->exhausted_err.code ? m->exhausted_err.code : WB_EQUOTA, &m->exhausted_err);
        return 1;
    }
    int cap = m->aimd.cur;
    if (m->in_flight >= cap) {
        if (j->state != JOB_QUEUED)
            job_set_state(e, j, JOB_QUEUED);
        return 0;
    }
    int64_t until = 0;
    if (now < m->pause_until)
        until = m->pause_until;
    int64_t w = eng_gcra_wait(&m->rpm, now, 1);
    int64_t wt = eng_gcra_wait(&m->tpm, now, j->est_tokens > 0 ? (double)j->est_tokens : 0);
    if (wt > w)
        w = wt;
    if (w > 0 && now + w > until)
        until = now + w;
    if (until > now) {
        if (j->state != JOB_WAITING_RATE)
            job_set_state(e, j, JOB_WAITING_RATE);
        if (until < *wake)
            *wake = until;
        return 0;
    }
    /* Bytes: a picture or a clip starts when the body budget has room for
     * it (what is given back kicks the scheduler). */
    if (!eng_budget_reserve(e, j)) {
        if (j->state != JOB_QUEUED)
            job_set_state(e, j, JOB_QUEUED);
        if (!m->budget_blocked)
            e->st.budget_waits++;
        m->budget_blocked = 1;
        return 0;
    }
    m->budget_blocked = 0;
    eng_gcra_take(&m->rpm, now, 1);
    if (j->est_tokens > 0)
        eng_gcra_take(&m->tpm, now, (double)j->est_tokens);
    if (j->attempts > 0) {
        e->st.retries++;
        if (j->cbs.on_retry)
            j->cbs.on_retry(j->ud);
    } else {
        j->first_attempt_at = now;
    }
    j->attempts++;
    j->attempt_at = now;
    e->st.attempts++;
    m->requests++;
    job_set_state(e, j, JOB_IN_FLIGHT);
    int rc = eng_transfer_start(e, j);
    if (rc != 0)
        st_done(e, j, rc, e->load_error.code ? &e->load_error : NULL);
    else if (++e->pass_starts <= ENG_DRIVE_EACH)
        eng_transfer_drive(e); /* connect and write it now, not next turn */
    return 1;
}

/* ---- BACKOFF: back to the queue when the time has come ---- */
static void st_backoff(struct engine *e, struct eng_job *j, int64_t now, int64_t *wake)
{
    if (now >= j->ready_at)
        job_set_state(e, j, JOB_QUEUED);
    else if (j->ready_at < *wake)
        *wake = j->ready_at;
}

static int run_classify(struct eng_job *j, struct core_api_error *ae);
static void classify_result(struct eng_job *j, int rc, struct core_api_error *ae);

/* What the answer (or the transport failure) of attempt j says. */
static void attempt_outcome(struct engine *e, struct eng_job *j, int curl_code,
                            struct core_api_error *ae)
{
    core_api_error_clear(ae);
    if (j->consumer_failed) {
        *ae = j->aerr;
        if (ae->code == 0)
            ae->code = WB_EINCOMPLETE;
        if (!ae->message[0])
            snprintf(ae->message, sizeof ae->message, "response stream failed");
        return;
    }
    if (j->too_big) {
        ae->code = WB_ETOOBIG;
        snprintf(ae->message, sizeof ae->message, "response body larger than %zu bytes",
                 j->body.limit);
        return;
    }
    if (curl_code != CURLE_OK) {
        eng_transfer_error(curl_code, j->curl_errbuf, ae);
        return;
    }
    classify_result(j, run_classify(j, ae), ae);
    (void)e;
}

/* The classify callback on the answer of attempt j: its code, *ae filled. */
static int run_classify(struct eng_job *j, struct core_api_error *ae)
{
    engine_classify_fn fn = j->cbs.classify ? j->cbs.classify : engine_classify_default;
    /* A stream's consumer had its bytes already (on_data). */
    int stream_ok = ENG_JOB_STREAMS(j) && j->http_status >= 200 && j->http_status < 300;
    return fn(j->ud, j->http_status, j->rhdr, j->n_rhdr, stream_ok ? "" : j->body.data,
              stream_ok ? 0 : j->body.len, ae);
}

static void classify_result(struct eng_job *j, int rc, struct core_api_error *ae)
{
    if (rc == 0) {
        core_api_error_clear(ae);
        return;
    }
    if (ae->code == 0)
        ae->code = rc;
    if (ae->http_status == 0)
        ae->http_status = (int)j->http_status;
    if (ae->retry_after_ms < 0)
        ae->retry_after_ms = eng_retry_after_hint(j->rhdr, j->n_rhdr, core_clock_wall_s());
}

static void job_outcome(struct engine *e, struct eng_job *j, struct core_api_error *ae_in);

/* ---- classify on the worker pool (cbs.classify_in_pool) ---- */

static void classify_work(void *ud)
{
    struct eng_job *j = ud;
    core_api_error_clear(&j->pool_ae);
    j->pool_rc = run_classify(j, &j->pool_ae);
}

static void classify_after(void *ud, int status)
{
    struct eng_job *j = ud;
    struct engine *e = j->eng;
    j->classifying = 0;
    engine_hold(e, -j->pool_held);
    j->pool_held = 0;
    if (status != 0 || j->cancel_requested || e->stopping == 2) {
        fail_canceled(e, j, "canceled");
        eng_kick(e);
        return;
    }
    classify_result(j, j->pool_rc, &j->pool_ae);
    job_outcome(e, j, &j->pool_ae);
}

/* A 2xx answer whose parser may run on the worker pool: parse it there, so
 * the loop thread never decodes a picture's JSON and base64. The job stays
 * in flight (holding its slot) until classify_after. */
static int classify_in_pool(struct engine *e, struct eng_job *j, int curl_code)
{
    if (!j->cbs.classify_in_pool || !j->cbs.classify || curl_code != CURLE_OK ||
        j->consumer_failed || j->too_big || j->http_status < 200 || j->http_status >= 300)
        return 0;
    j->classifying = 1;
    if (engine_queue_work_urgent(e, classify_work, classify_after, j) != 0) {
        j->classifying = 0;
        return 0; /* no memory for the item: parse here */
    }
    /* The transfer gave its bytes back to the body budget; the body (and the
     * parser's copy and decoded payload) live on until the parse returns:
     * count them, or a pool that falls behind lets downloads pile up. */
    j->pool_held = (int64_t)j->body.len * 3;
    engine_hold(e, j->pool_held);
    if (j->cbs.on_answer) {
        j->answer_told = 1;
        j->cbs.on_answer(j->ud, 1);
    }
    return 1;
}

/* ---- IN_FLIGHT ends: decide DONE, BACKOFF or (after a 429) QUEUED ---- */
void eng_job_transfer_done(struct engine *e, struct eng_job *j, int curl_code)
{
    struct core_api_error ae;
    if (j->cancel_requested || e->stopping == 2) {
        fail_canceled(e, j, "canceled");
        eng_kick(e);
        return;
    }
    if (classify_in_pool(e, j, curl_code))
        return;
    attempt_outcome(e, j, curl_code, &ae);
    job_outcome(e, j, &ae);
}

static void job_outcome(struct engine *e, struct eng_job *j, struct core_api_error *ae_in)
{
    struct eng_model *m = j->model;
    int64_t now = core_clock_mono_ms();
    struct core_api_error ae = *ae_in;
    int limited = ae.code == WB_ERATELIMIT || ae.http_status == 429;
    if (limited) {
        e->st.rate_limited++;
        m->rate_limited++;
        if (!ae.per_day && !m->first_limit_at)
            m->first_limit_at = now;
        if (eng_aimd_on_limit(&m->aimd, now, j->attempt_at))
            wb_log(WB_LOG_DEBUG, "engine: %s: concurrency cap down to %d", m->name, m->aimd.cur);
    } else if (ae.code == 0) {
        m->consecutive_limits = 0;
        /* Requests already on their way when the first 429 came do not
         * say what the server allows. */
        if (m->first_limit_at && j->attempt_at >= m->first_limit_at) {
            m->ok_since_limit++;
            m->last_ok_at = now;
        }
        if (eng_aimd_on_success(&m->aimd))
            wb_log(WB_LOG_TRACE, "engine: %s: concurrency cap up to %d", m->name, m->aimd.cur);
    }
    if (ae.per_day) {
        if (!m->exhausted)
            wb_log(WB_LOG_WARN, "engine: %s: daily quota exhausted: %s", m->name, ae.message);
        m->exhausted = 1;
        m->exhausted_err = ae;
        if (!m->exhausted_err.code)
            m->exhausted_err.code = WB_EQUOTA;
    }
    int64_t delay = 0;
    enum eng_verdict v = eng_retry_decide(&e->retry, &ae, j->attempts, j->first_attempt_at, now,
                                          eng_rand(e), &delay);
    if (limited && !ae.per_day) {
        /* Pause the whole model: the hint if the server gave one, else backoff
         * that grows with consecutive 429s. AIMD (above) has already halved
         * how many requests go at once when the pause ends. */
        int64_t p = ae.retry_after_ms >= 0 ? eng_hint_delay_ms(ae.retry_after_ms, eng_rand(e))
                                           : eng_backoff_ms(&e->retry, m->consecutive_limits + 1,
                                                            0.5 + eng_rand(e) / 2);
        m->consecutive_limits++;
        if (now + p > m->pause_until) {
            m->pause_until = now + p;
            wb_log(WB_LOG_INFO, "engine: %s: rate limited, paused for %lld ms", m->name,
                   (long long)p);
        }
    }
    if (v == ENG_RETRY && j->answer_told) {
        /* The answer the caller was told about is not one: it waits again. */
        j->answer_told = 0;
        j->cbs.on_answer(j->ud, 0);
    }
    if (v == ENG_RETRY && e->stopping) {
        char msg[WB_ERRMSG_MAX];
        snprintf(msg, sizeof msg, "stopped before retrying: %.900s", ae.message);
        fail_canceled(e, j, msg);
    } else if (v == ENG_RETRY && limited) {
        job_set_state(e, j, JOB_QUEUED); /* the model pause spaces it */
    } else if (v == ENG_RETRY) {
        j->ready_at = now + delay;
        wb_log(WB_LOG_INFO, "engine: request #%llu (%s): %s; retry in %lld ms",
               (unsigned long long)j->id, m->name, ae.message, (long long)delay);
        job_set_state(e, j, JOB_BACKOFF);
    } else if (v == ENG_DONE_OK) {
        st_done(e, j, 0, NULL);
    } else {
        st_done(e, j, ae.code ? ae.code : WB_EHTTP, &ae);
    }
    eng_kick(e);
}

/* ---- the scheduler pass ---- */

static void sched_pass(struct engine *e)
{
    if (e->in_pass) {
        eng_kick(e);
        return;
    }
    e->in_pass = 1;
    /* The first pass loads libcurl (or waits for wb_preload's load) before
     * it reads the clock and takes any rate token: loaded at a transfer's
     * start, a request would leave tens of milliseconds late and crowd the
     * next ones into the provider's window. Not in engine_submit: a caller
     * that submits many requests before engine_run (a run's first fill)
     * builds them meanwhile. A failure is each request's, at its start.
     * Without a request nothing is loaded (render of a page whose entries
     * are all in the bank never maps libcurl). */
    if (e->jobs.head)
        eng_transfer_prepare(e);
    int64_t now = core_clock_mono_ms();
    int64_t wake = INT64_MAX;

    /* Cancels, stop and abort, backoffs that are due. on_done may submit new
     * jobs (appended at the tail, handled here too) but cannot free others. */
    struct eng_job *j = e->jobs.head, *next;
    for (; j; j = next) {
        next = j->next;
        if (j->classifying)
            continue; /* its answer is being parsed; classify_after decides */
        if (j->cancel_requested || e->stopping == 2) {
            fail_canceled(e, j, e->stopping ? "stopped" : "canceled");
        } else if (e->stopping && j->state != JOB_IN_FLIGHT) {
            fail_canceled(e, j, "stopped before it started");
        } else if (j->state == JOB_BACKOFF) {
            st_backoff(e, j, now, &wake);
        }
    }
    /* Start what the limits allow, model by model, oldest (and retries) first. */
    for (size_t i = 0; i < e->n_models; i++) {
        struct eng_model *m = e->models[i];
        while (m->qhead && st_waiting(e, m->qhead, now, &wake))
            ;
    }
    if (e->pass_starts > ENG_DRIVE_EACH)
        eng_transfer_drive(e); /* the rest of the pass's starts, together */
    e->pass_starts = 0;
    /* What the drives finished (a refused connect, say). */
    eng_transfer_collect(e);
    if (wake != INT64_MAX) {
        uv_update_time(&e->loop);
        int64_t d = wake - core_clock_mono_ms();
        uv_timer_start(&e->wake, on_wake, (uint64_t)(d < 1 ? 1 : d), 0);
    } else {
        uv_timer_stop(&e->wake);
    }
    e->in_pass = 0;
}

/* ---- public API ---- */

static void on_stop_async(uv_async_t *a)
{
    struct engine *e = a->data;
    int n = atomic_load(&e->stop_requests);
    if (n <= e->stop_seen)
        return;
    /* uv_async coalesces: two quick Ctrl-C may arrive as one callback, so
     * the count, not the number of callbacks, says "abort". */
    int graceful = e->stop_seen == 0 && n == 1;
    e->stop_seen = n;
    engine_stop(e, graceful ? e->grace_ms : 0);
}

static void on_grace(uv_timer_t *t)
{
    struct engine *e = t->data;
    wb_log(WB_LOG_INFO, "engine: grace period over, canceling %d request(s) in flight",
           e->in_flight);
    engine_stop(e, 0);
}

int engine_new(const struct wb_config *cfg, struct engine **out, struct wb_error *err)
{
    *out = NULL;
    struct engine *e = calloc(1, sizeof *e);
    if (!e)
        return wb_error_set(err, WB_ENOMEM, "engine: out of memory");
    e->cfg = cfg;
    const char *ca = cfg ? wb_config_get(cfg, "ca_file") : NULL;
    if (ca && *ca && !(e->ca_file = strdup(ca))) {
        free(e);
        return wb_error_set(err, WB_ENOMEM, "engine: out of memory");
    }
    e->connect_ms = wb_config_int(cfg, "timeout.connect_ms");
    e->kind_timeout_ms[WB_REQ_TEXT] = wb_config_int(cfg, "timeout.text_ms");
    e->kind_timeout_ms[WB_REQ_IMAGE] = wb_config_int(cfg, "timeout.image_ms");
    e->kind_timeout_ms[WB_REQ_SPEECH] = wb_config_int(cfg, "timeout.speech_ms");
    e->kind_timeout_ms[WB_REQ_LIST] = e->kind_timeout_ms[WB_REQ_TEXT];
    e->stream_idle_ms = wb_config_int(cfg, "timeout.stream_idle_ms");
    /* The settings table holds the defaults and the ranges (retry.max_attempts
     * at least 1, http.body_budget at least 1 MiB, limit.headroom 0 to 0.5). */
    e->retry.max_attempts = (int)wb_config_int(cfg, "retry.max_attempts");
    e->retry.deadline_ms = wb_config_int(cfg, "retry.deadline_ms");
    e->retry.base_ms = wb_config_int(cfg, "retry.base_ms");
    e->retry.cap_ms = wb_config_int(cfg, "retry.cap_ms");
    e->max_body = (size_t)wb_config_int(cfg, "http.max_body");
    e->host_conns_set = cfg && wb_config_get(cfg, "http.max_host_connections") != NULL;
    e->max_host_conns = (long)wb_config_int(cfg, "http.max_host_connections");
    e->window = 0; /* engine_set_window */
    if (!e->host_conns_set)
        e->max_host_conns = eng_host_conns(e);
    e->budget = (size_t)wb_config_int(cfg, "http.body_budget");
    e->grace_ms = wb_config_int(cfg, "stop.grace_ms");
    e->headroom = wb_config_double(cfg, "limit.headroom");
    e->aimd_step = (int)wb_config_int(cfg, "limit.aimd_step");
    e->rng = (uint64_t)wb_config_int(cfg, "engine.seed");
    e->worker_nice = (int)wb_config_int(cfg, "engine.worker_nice");
    if (!e->rng)
        e->rng = (uint64_t)core_clock_mono_ms() * 2654435761ULL + (uint64_t)(uintptr_t)e;
    if (!e->rng)
        e->rng = 88172645463325252ULL;
    atomic_init(&e->stop_requests, 0);

    if (uv_loop_init(&e->loop) != 0) {
        free(e->ca_file);
        free(e);
        return wb_error_set(err, WB_EINTERNAL, "engine: uv_loop_init failed");
    }
    uv_timer_init(&e->loop, &e->kick);
    uv_timer_init(&e->loop, &e->wake);
    uv_timer_init(&e->loop, &e->grace);
    e->kick.data = e->wake.data = e->grace.data = e;
    uv_async_init(&e->loop, &e->stop_async, on_stop_async);
    e->stop_async.data = e;
    uv_unref((uv_handle_t *)&e->stop_async);
    /* libcurl is loaded by the first transfer (eng_transfer_start). */
    *out = e;
    return 0;
}

void engine_free(struct engine *e)
{
    if (!e)
        return;
    if (e->utimers && !e->live_jobs && !e->pending_timers && !e->pending_work)
        eng_work_abort(e); /* weak timers left after the run */
    if (e->live_jobs > 0 || e->pending_timers > 0 || e->pending_work > 0) {
        e->stopping = 2;
        eng_work_abort(e);
        sched_pass(e);
        while (e->pending_work > 0) /* cancel callbacks (or finished work) land here */
            uv_run(&e->loop, UV_RUN_ONCE);
    }
    eng_pool_free(e);
    eng_transfer_release(e);
    eng_models_free(e);
    uv_close((uv_handle_t *)&e->kick, NULL);
    uv_close((uv_handle_t *)&e->wake, NULL);
    uv_close((uv_handle_t *)&e->grace, NULL);
    uv_close((uv_handle_t *)&e->stop_async, NULL);
    if (e->curl_timer.data)
        uv_close((uv_handle_t *)&e->curl_timer, NULL);
    uv_run(&e->loop, UV_RUN_DEFAULT);
    uv_loop_close(&e->loop);
    free(e->ca_file);
    free(e);
}

int engine_submit(struct engine *e, struct core_http_request *req, int64_t est_tokens,
                  const struct engine_request_cbs *cbs, void *ud, uint64_t *id_out)
{
    int rc = 0;
    struct eng_job *j = NULL;
    if (!req->url || !req->method || !cbs || !cbs->on_done || req->kind < 0 ||
        req->kind >= WB_REQ_KIND_COUNT) {
        rc = WB_EINVAL;
        goto out;
    }
    j = calloc(1, sizeof *j);
    if (!j) {
        rc = WB_ENOMEM;
        goto out;
    }
    j->model = eng_model_get(e, req->model, req->kind);
    if (!j->model) {
        rc = WB_ENOMEM;
        goto out;
    }
    j->req = *req;
    memset(req, 0, sizeof *req);
    j->eng = e;
    j->id = ++e->next_id;
    j->est_tokens = est_tokens;
    j->cbs = *cbs;
    j->ud = ud;
    j->submitted_at = core_clock_mono_ms();
    j->state = JOB_NEW;
    wb_buf_init(&j->body, e->max_body);
    list_push(&e->jobs, j);
    e->live_jobs++;
    e->st.submitted++;
    job_set_state(e, j, JOB_QUEUED);
    if (id_out)
        *id_out = j->id;
    j = NULL;
    eng_kick(e);
out:
    if (j)
        free(j);
    core_http_request_release(req);
    return rc;
}

int engine_cancel(struct engine *e, uint64_t id)
{
    for (struct eng_job *j = e->jobs.head; j; j = j->next) {
        if (j->id == id) {
            j->cancel_requested = 1;
            eng_kick(e);
            return 0;
        }
    }
    return WB_ENOTFOUND;
}

int engine_run(struct engine *e)
{
    sched_pass(e);
    while (e->live_jobs > 0 || e->pending_work > 0 || e->pending_timers > 0) {
        if (uv_run(&e->loop, UV_RUN_ONCE) == 0 && e->live_jobs > 0 && e->in_flight == 0 &&
            !uv_is_active((uv_handle_t *)&e->wake) && !uv_is_active((uv_handle_t *)&e->kick) &&
            e->pending_work == 0 && e->pending_timers == 0) {
            /* Nothing can ever wake us: a broken invariant. Fail loudly
             * rather than spin. */
            wb_log(WB_LOG_ERROR, "engine: %d request(s) stuck with nothing to wait for; canceling",
                   e->live_jobs);
            e->stopping = 2;
            sched_pass(e);
        }
    }
    uv_timer_stop(&e->grace);
    uv_timer_stop(&e->wake);
    wb_log(WB_LOG_DEBUG,
           "engine: body budget peak %zu of %zu bytes, %llu transfer(s) waited for it",
           e->budget_peak, e->budget, (unsigned long long)e->st.budget_waits);
    return e->stopping ? WB_ECANCELED : 0;
}

void engine_stop(struct engine *e, int64_t grace_ms)
{
    if (e->stopping || grace_ms <= 0) {
        if (e->stopping != 2)
            wb_log(WB_LOG_INFO, "engine: aborting");
        e->stopping = 2;
        uv_timer_stop(&e->grace);
        eng_work_abort(e);
    } else {
        wb_log(WB_LOG_INFO, "engine: stopping; %d request(s) in flight get %lld ms", e->in_flight,
               (long long)grace_ms);
        e->stopping = 1;
        uv_timer_start(&e->grace, on_grace, (uint64_t)grace_ms, 0);
        uv_unref((uv_handle_t *)&e->grace);
    }
    eng_kick(e);
}

void engine_request_stop(struct engine *e)
{
    atomic_fetch_add(&e->stop_requests, 1);
    uv_async_send(&e->stop_async);
}

void engine_set_window(struct engine *e, int window)
{
    ENG_CURL_CHECKED;
    e->window = window < 1 ? 1 : window;
    eng_models_rewindow(e);
    if (!e->host_conns_set) {
        e->max_host_conns = eng_host_conns(e);
        if (e->multi) /* else set when the first transfer makes it */
            curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, e->max_host_conns);
    }
}

void engine_hold(struct engine *e, int64_t delta)
{
    if (delta >= 0) {
        e->budget_used += (size_t)delta;
        if (e->budget_used > e->budget_peak)
            e->budget_peak = e->budget_used;
    } else {
        size_t d = (size_t)-delta;
        e->budget_used = d > e->budget_used ? 0 : e->budget_used - d;
        eng_kick(e);
    }
}

int engine_stopping(const struct engine *e)
{
    return e->stopping;
}

int engine_classify_default(void *ud, long status, const struct core_http_header *h, size_t nh,
                            const char *body, size_t len, struct core_api_error *out)
{
    (void)ud;
    return eng_classify_status(status, h, nh, body, len, core_clock_wall_s(), out);
}

void engine_get_stats(const struct engine *e, struct engine_stats *s)
{
    *s = e->st;
    s->in_flight = e->in_flight;
    s->budget_peak = e->budget_peak;
    s->budget_used = e->budget_used;
    s->host_conns = e->max_host_conns;
    s->queued = 0;
    for (size_t i = 0; i < e->n_models; i++)
        s->queued += e->models[i]->queued;
}
