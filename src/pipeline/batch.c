/* Gemini Batch mode (wb_run_batch): the missing stages of a run's entries go
 * to batch jobs instead of interactive requests — details first, then the
 * pictures (they need the picture description) and the speech when its model
 * accepts batchGenerateContent. Each job is recorded in the store with the
 * entries it carries in the transaction that records the create call's answer;
 * a run started again collects the jobs already submitted and submits only
 * what no job carries. Results are committed per entry and stage with the same
 * commit as interactive ones (run_commit_stage).
 *
 * Everything here runs on the calling thread: each HTTP call is one request on
 * the run's engine, run to completion (engine_run), and the waits between
 * polls are plain sleeps that watch the interrupt flag.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sized.h"
#include "core/util.h"
#include "pipeline/internal.h"
#include "providers/gemini_batch.h"
#include "wordbank/batch.h"
#include "wordbank/log.h"

/* ---- one HTTP call on an engine, run to completion ---- */

struct call {
    int status;
    long http;
    struct wb_buf body;
    char *upload_url;
    char upload_status[32];
    char message[WB_ERRMSG_MAX];
};

static int call_classify(void *ud, long status, const struct core_http_header *h, size_t nh,
                         const char *body, size_t len, struct core_api_error *out)
{
    (void)ud;
    if (status >= 200 && status < 300)
        return 0;
    return gemini_parse_error(status, h, nh, body, len, out);
}

static void call_done(void *ud, const struct engine_response *res)
{
    struct call *c = ud;
    const char *v;
    c->status = res->status;
    c->http = res->http_status;
    if (res->body) {
        size_t n;
        char *p = wb_buf_detach(res->body, &n);
        if (p) {
            wb_buf_release(&c->body);
            wb_buf_init(&c->body, 0);
            wb_buf_append(&c->body, p, n);
            free(p);
        }
    }
    if ((v = core_http_header_find(res->headers, res->n_headers, "x-goog-upload-url")))
        c->upload_url = strdup(v);
    if ((v = core_http_header_find(res->headers, res->n_headers, "x-goog-upload-status")))
        snprintf(c->upload_status, sizeof c->upload_status, "%s", v);
    if (res->status)
        snprintf(c->message, sizeof c->message, "%s",
                 res->api_error && res->api_error->message[0] ? res->api_error->message
                                                              : wb_strerror(res->status));
}

static void call_release(struct call *c)
{
    wb_buf_release(&c->body);
    free(c->upload_url);
    memset(c, 0, sizeof *c);
}

/* Send req (taken) and wait for its answer. 0 for a 2xx, else the code with
 * the API's message in err. */
static int http_call(struct engine *e, struct core_http_request *req, struct call *c,
                     struct wb_error *err)
{
    struct engine_request_cbs cbs = { 0 };
    int rc;
    memset(c, 0, sizeof *c);
    wb_buf_init(&c->body, 0);
    c->status = WB_EINTERNAL;
    cbs.classify = call_classify;
    cbs.on_done = call_done;
    if ((rc = engine_submit(e, req, 0, &cbs, c, NULL)))
        return wb_error_set(err, rc, "cannot submit a request: %s", wb_strerror(rc));
    engine_run(e);
    if (c->status)
        return wb_error_set(err, c->status, "%s", c->message);
    return 0;
}

/* ---- the batch run ---- */

struct bjob {
    char *name;
    enum wb_stage stage;
    char *model;
    int final; /* reached a final state and was collected */
    struct gemini_batch op;
};

struct bctx {
    struct run *r;
    struct wb_batch_opts *o;
    struct bjob *jobs;
    size_t n_jobs, cap_jobs;
    unsigned stages; /* the stages that go to batch */
    size_t inline_max, max_requests, chunk;
    size_t max_per_stage[WB_STAGE_COUNT]; /* media results are big: smaller jobs */
    int64_t poll_first, poll_max;
    double poll_factor;
    int64_t tokens_in, tokens_out;
    double cost;
    size_t lost;
    size_t submitted;
    size_t held_elsewhere; /* stages left to another live run (leases) */
    int64_t beat_at;       /* the last lease heartbeat (monotonic ms) */
};

static void notice(struct bctx *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void notice(struct bctx *b, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wb_log(WB_LOG_INFO, "batch: %s", msg);
    if (b->o->on_notice)
        b->o->on_notice(b->o->ud, msg);
}

static const char *prov_opt_str(const char *v, const char *dflt)
{
    return v && *v ? v : dflt;
}

static const char *stage_model_of(const struct run *r, enum wb_stage s)
{
    if (s == WB_STAGE_DETAILS)
        return prov_opt_str(run_gemini_opts(r)->text_model, WB_GEMINI_DEFAULT_TEXT_MODEL);
    if (s == WB_STAGE_IMAGE)
        return prov_opt_str(run_gemini_opts(r)->image_model, WB_GEMINI_DEFAULT_IMAGE_MODEL);
    return prov_opt_str(run_gemini_opts(r)->tts_model, WB_GEMINI_DEFAULT_TTS_MODEL);
}

/* "B|stage|word|translation|language": carried by a job already. */
static char *carry_key(enum wb_stage s, const char *w, const char *t, const char *l)
{
    struct wb_buf k;
    wb_buf_init(&k, 0);
    if (wb_buf_appendf(&k, "B|%d|%s|%s|%s", (int)s, w, t, l)) {
        wb_buf_release(&k);
        return NULL;
    }
    return wb_buf_detach(&k, NULL);
}

static int carried(struct run *r, enum wb_stage s, const struct wb_entry *e, int mark)
{
    char *k = carry_key(s, e->word, e->translation, e->language);
    struct shared *sh;
    int was;
    if (!k)
        return WB_ENOMEM;
    sh = shared_find(r, k, mark);
    free(k);
    if (!sh)
        return mark ? WB_ENOMEM : 0;
    was = sh->state == SH_DONE;
    if (mark)
        sh->state = SH_DONE;
    return was;
}

static int add_job(struct bctx *b, const char *name, enum wb_stage s, const char *model)
{
    struct bjob *j;
    if (CORE_ARRAY_RESERVE(b->jobs, b->n_jobs, b->cap_jobs, 1, 0) != 0)
        return WB_ENOMEM;
    j = &b->jobs[b->n_jobs];
    memset(j, 0, sizeof *j);
    gemini_batch_init(&j->op);
    j->stage = s;
    j->name = strdup(name);
    j->model = strdup(model);
    if (!j->name || !j->model) {
        free(j->name);
        free(j->model);
        return WB_ENOMEM;
    }
    b->n_jobs++;
    return 0;
}

/* The run's entry for a key, or NULL. */
static struct job *run_job_for(struct run *r, const struct wb_batch_key *k)
{
    struct wb_buf key;
    struct shared *sh;
    struct job *j = NULL;
    wb_buf_init(&key, 0);
    if (wb_buf_appendf(&key, "E|%s|%s", k->word, k->translation) == 0 &&
        (sh = shared_find(r, key.data, 0)) != NULL && sh->state && sh->n < r->n_jobs &&
        !strcmp(r->jobs[sh->n].e.language, k->language))
        j = &r->jobs[sh->n];
    wb_buf_release(&key);
    return j;
}

/* ---- committing one result ---- */

static int write_and_commit(struct run *r, struct job *j, enum wb_stage s, const void *data,
                            size_t len, const char *model, const char *voice,
                            const struct prov_usage *u, char *why, size_t why_len)
{
    struct wb_error err = { 0 };
    char name[128];
    char *file = NULL;
    int marked = 0, rc;
    if (wb_media_name(data, len, name, sizeof name) == 0) {
        if ((rc = pending_mark(r, name, &err))) {
            snprintf(why, why_len, "%s", wb_error_text(&err));
            return rc;
        }
        marked = 1;
    }
    if ((rc = wb_media_write(r->media_dir, data, len, &file, &err))) {
        snprintf(why, why_len, "%s", wb_error_text(&err));
        return rc;
    }
    rc = run_commit_stage(r, j, s, 0, NULL, file, model, voice, u);
    if (marked && rc == 0)
        pipe_clear_when_committed(r, name);
    free(file);
    return rc ? -1 : 0;
}

/* Turn one response into the stage's result and commit it. 0: done; 1: the
 * stage failed (committed as failed); < 0: the store refused (fatal). */
static int commit_result(struct bctx *b, struct job *j, enum wb_stage s, const char *model,
                         const struct gemini_batch_result *res)
{
    struct run *r = b->r;
    struct core_api_error aerr;
    struct prov_usage u = { 0 };
    char why[WB_ERRMSG_MAX] = "";
    const char *voice = s == WB_STAGE_AUDIO ? wb_config_get(r->cfg, "voice") : NULL;
    int rc = 0;

    core_api_error_clear(&aerr);
    if (!res->response) {
        snprintf(why, sizeof why, "%s", res->error_message);
        rc = WB_EHTTP;
    } else if (s == WB_STAGE_DETAILS) {
        struct wb_entry d;
        wb_entry_init(&d);
        if (core_str_set(&d.word, j->e.word) || core_str_set(&d.translation, j->e.translation) ||
            core_str_set(&d.language, j->e.language) || core_str_set(&d.context, j->e.context)) {
            rc = WB_ENOMEM;
        } else if ((rc = gemini_details_parse(res->response, res->response_len, &d, &u, &aerr)) ==
                   0) {
            /* Never details done with half of the answer. */
            if (core_str_set(&j->e.reading, d.reading) ||
                core_str_set(&j->e.description, d.description) ||
                core_str_set(&j->e.image_description, d.image_description))
                rc = WB_ENOMEM;
            wb_entry_clear_examples(&j->e);
            for (size_t i = 0; !rc && i < d.n_examples; i++)
                if (wb_entry_add_example(&j->e, d.examples[i].text, d.examples[i].translation))
                    rc = WB_ENOMEM;
        } else {
            snprintf(why, sizeof why, "%s", aerr.message);
        }
        wb_entry_release(&d);
        if (rc == 0 && run_commit_stage(r, j, s, 0, NULL, NULL, model, NULL, &u))
            return -1;
    } else if (s == WB_STAGE_IMAGE) {
        struct wb_buf raw, out;
        struct wb_image_info info;
        struct wb_error err = { 0 };
        char mime[64];
        wb_buf_init(&raw, 0);
        wb_buf_init(&out, 0);
        rc = gemini_image_parse(res->response, res->response_len, &raw, mime, sizeof mime, &u,
                                &aerr);
        if (rc)
            snprintf(why, sizeof why, "%s", aerr.message);
        else if ((rc = wb_image_process(raw.data, raw.len, r->image_size, r->image_type, 0, &out,
                                        &info, &err)))
            snprintf(why, sizeof why, "image: %s", wb_error_text(&err));
        else
            rc = write_and_commit(r, j, s, out.data, out.len, model, NULL, &u, why, sizeof why);
        wb_buf_release(&raw);
        wb_buf_release(&out);
        if (rc == WB_ENOSPC && !r->fatal)
            run_fatal(r, rc, why); /* a full disk stops the run, as interactively */
        if (rc < 0 && r->fatal)
            return -1;
    } else {
        struct gemini_audio a;
        struct wb_audio_options ao = r->audio_opts;
        struct wb_error err = { 0 };
        struct wb_buf out;
        gemini_audio_init(&a);
        wb_buf_init(&out, 0);
        if ((rc = gemini_audio_parse_response(&a, res->response, res->response_len, &aerr))) {
            snprintf(why, sizeof why, "%s", aerr.message);
        } else {
            const void *pcm;
            size_t n;
            pcm = gemini_audio_pcm(&a, &n);
            u = *gemini_audio_usage(&a);
            ao.pcm_rate = gemini_audio_rate(&a) > 0 ? gemini_audio_rate(&a) : 24000;
            ao.pcm_channels = gemini_audio_channels(&a) > 0 ? gemini_audio_channels(&a) : 1;
            if ((rc = wb_audio_convert(pcm, n, &ao, &out, &err)))
                snprintf(why, sizeof why, "audio: %s", wb_error_text(&err));
            else
                rc =
                    write_and_commit(r, j, s, out.data, out.len, model, voice, &u, why, sizeof why);
        }
        gemini_audio_release(&a);
        wb_buf_release(&out);
        if (rc == WB_ENOSPC && !r->fatal)
            run_fatal(r, rc, why); /* a full disk stops the run, as interactively */
        if (rc < 0 && r->fatal)
            return -1;
    }
    b->tokens_in += u.prompt_tokens;
    b->tokens_out += u.output_tokens + u.thought_tokens;
    if (rc == 0) {
        r->stats.stage[s].done++;
        return 0;
    }
    r->stats.stage[s].failed++;
    if (run_commit_stage(r, j, s, rc, why[0] ? why : wb_strerror(rc), NULL, model, voice, NULL))
        return -1;
    notice(b, "%s of %s (%s) failed: %s", wb_stage_name(s), j->e.word, j->e.translation,
           why[0] ? why : wb_strerror(rc));
    return 1;
}

/* Commit every result of a succeeded job. */
static int collect_results(struct bctx *b, struct bjob *bj, struct wb_error *err)
{
    struct run *r = b->r;
    struct wb_batch_key *keys = NULL;
    size_t n_keys = 0, missing = 0;
    unsigned char *seen = NULL;
    int rc;
    if (bj->op.responses_file && !bj->op.n_results) {
        struct core_http_request req;
        struct call c;
        struct core_api_error aerr;
        core_http_request_init(&req);
        if ((rc = gemini_download_request(run_gemini_opts(r), bj->op.responses_file, &req, err)))
            return rc;
        if ((rc = http_call(r->eng, &req, &c, err))) {
            call_release(&c);
            return rc;
        }
        core_api_error_clear(&aerr);
        rc = gemini_batch_parse_jsonl(c.body.data, c.body.len, &bj->op, &aerr);
        call_release(&c);
        if (rc)
            return wb_error_set(err, rc, "%s: responses file: %s", bj->name, aerr.message);
    }
    if ((rc = wb_store_batch_keys(r->store, bj->name, &keys, &n_keys, err)))
        return rc;
    seen = calloc(n_keys ? n_keys : 1, 1);
    if (!seen) {
        wb_batch_keys_free(keys, n_keys);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < bj->op.n_results && !r->fatal; i++) {
        const struct gemini_batch_result *res = &bj->op.results[i];
        char *end = NULL;
        unsigned long idx;
        struct job tmp, *j;
        if (res->key[0] != 'k' || (errno = 0, idx = strtoul(res->key + 1, &end, 10), errno) ||
            !end || *end || idx >= n_keys || !keys[idx].word || seen[idx]) {
            wb_log(WB_LOG_WARN, "batch %s: ignoring a result with an unknown key \"%s\"", bj->name,
                   res->key);
            continue;
        }
        seen[idx] = 1;
        j = run_job_for(r, &keys[idx]);
        if (!j) {
            /* An entry of an earlier run's list: commit to the store all the same. */
            struct wb_error e2 = { 0 };
            memset(&tmp, 0, sizeof tmp);
            tmp.run = r;
            wb_entry_init(&tmp.e);
            rc = wb_store_get(r->store, keys[idx].word, keys[idx].translation, keys[idx].language,
                              &tmp.e, &e2);
            if (rc && rc != WB_ENOTFOUND) {
                wb_entry_release(&tmp.e);
                continue;
            }
            if (rc == WB_ENOTFOUND) {
                wb_entry_release(&tmp.e);
                wb_entry_init(&tmp.e);
                core_str_set(&tmp.e.word, keys[idx].word);
                core_str_set(&tmp.e.translation, keys[idx].translation);
                core_str_set(&tmp.e.language, keys[idx].language);
            }
            j = &tmp;
        }
        commit_result(b, j, bj->stage, bj->model, res);
        if (j == &tmp)
            wb_entry_release(&tmp.e);
    }
    for (size_t i = 0; i < n_keys; i++)
        if (keys[i].word && !seen[i])
            missing++;
    if (missing)
        notice(b, "%s: %zu of %zu results missing; those entries go into a new job next time",
               bj->name, missing, n_keys);
    free(seen);
    wb_batch_keys_free(keys, n_keys);
    if (r->fatal) {
        *err = r->fatal_err;
        return r->fatal_err.code ? r->fatal_err.code : WB_EINTERNAL;
    }
    return 0;
}

/* Poll one job; collect it when final. */
static int poll_job(struct bctx *b, struct bjob *bj, struct wb_error *err)
{
    struct run *r = b->r;
    struct core_http_request req;
    struct core_api_error aerr;
    struct call c;
    int rc;
    core_http_request_init(&req);
    if ((rc = gemini_batch_get_request(run_gemini_opts(r), bj->name, &req, err)))
        return rc;
    rc = http_call(r->eng, &req, &c, err);
    if (rc == WB_EMODEL && c.http == 404) {
        /* The API no longer knows the job (deleted, or gone after 48 h). */
        call_release(&c);
        wb_error_clear(err);
        snprintf(bj->op.state, sizeof bj->op.state, "expired");
        bj->op.done = 1;
    } else if (rc) {
        call_release(&c);
        return rc;
    } else {
        core_api_error_clear(&aerr);
        rc = gemini_batch_parse(c.body.data, c.body.len, &bj->op, &aerr);
        call_release(&c);
        if (rc)
            return wb_error_set(err, rc, "%s: %s", bj->name, aerr.message);
    }
    if (!gemini_batch_state_final(bj->op.state)) {
        wb_store_batch_update(r->store, bj->name, bj->op.state, bj->op.succeeded, bj->op.failed, 0,
                              NULL);
        return 0;
    }
    if (!strcmp(bj->op.state, "succeeded")) {
        if ((rc = collect_results(b, bj, err)))
            return rc;
    } else {
        b->lost += (size_t)(bj->op.requests > 0 ? bj->op.requests : 0);
        notice(b,
               "%s (%s, %lld requests) %s%s%s: its entries are missing again and go into a new "
               "job on the next run",
               bj->name, wb_stage_name(bj->stage), (long long)bj->op.requests, bj->op.state,
               bj->op.error_message ? ": " : "", bj->op.error_message ? bj->op.error_message : "");
    }
    bj->final = 1;
    return wb_store_batch_update(r->store, bj->name, bj->op.state, bj->op.succeeded, bj->op.failed,
                                 1, err);
}

static void show_jobs(struct bctx *b)
{
    struct wb_batch_view *v;
    size_t n = 0;
    if (!b->o->on_jobs || !b->n_jobs)
        return;
    if (!(v = calloc(b->n_jobs, sizeof *v)))
        return;
    for (size_t i = 0; i < b->n_jobs; i++) {
        struct bjob *bj = &b->jobs[i];
        v[n].name = bj->name;
        v[n].state = bj->op.state[0] ? bj->op.state : "pending";
        v[n].stage = bj->stage;
        v[n].requests = bj->op.requests;
        v[n].succeeded = bj->op.succeeded;
        v[n].failed = bj->op.failed;
        v[n].pending = bj->op.pending;
        n++;
    }
    b->o->on_jobs(b->o->ud, v, n);
    free(v);
}

static size_t unfinished(const struct bctx *b)
{
    size_t n = 0;
    for (size_t i = 0; i < b->n_jobs; i++)
        n += !b->jobs[i].final;
    return n;
}

/* Our leases stay ours while we wait (as an interactive run's heartbeat). */
static void lease_beat(struct bctx *b)
{
    struct wb_error err = { 0 };
    int64_t now = core_clock_mono_ms();
    if (now - b->beat_at < b->r->lease_ttl_ms / 3)
        return;
    b->beat_at = now;
    if (wb_store_lease_heartbeat(b->r->store, &b->r->me, &err) != 0)
        wb_log(WB_LOG_WARN, "%s", wb_error_text(&err));
}

/* Sleep ms, waking early on an interrupt. */
static int nap(struct bctx *b, int64_t ms)
{
    struct run *r = b->r;
    while (ms > 0 && !r->interrupted) {
        lease_beat(b);
        int64_t step = ms < 100 ? ms : 100;
        struct timespec ts = { (time_t)(step / 1000), (long)(step % 1000) * 1000000L };
        nanosleep(&ts, NULL);
        ms -= step;
    }
    return r->interrupted ? WB_ECANCELED : 0;
}

/* Poll every unfinished job until all are final (once when no_wait). */
static int wait_jobs(struct bctx *b, struct wb_error *err)
{
    struct run *r = b->r;
    int64_t delay = b->poll_first;
    for (;;) {
        int rc;
        for (size_t i = 0; i < b->n_jobs; i++) {
            if (b->jobs[i].final)
                continue;
            if ((rc = poll_job(b, &b->jobs[i], err)))
                return r->interrupted ? WB_ECANCELED : rc;
        }
        show_jobs(b);
        if (!unfinished(b) || b->o->no_wait)
            return 0;
        if (nap(b, delay))
            return WB_ECANCELED;
        delay = (int64_t)((double)delay * b->poll_factor);
        if (delay > b->poll_max)
            delay = b->poll_max;
    }
}

/* Upload a JSONL file through the resumable protocol; *file_name: free it. */
static int upload(struct bctx *b, const char *display, const struct wb_buf *data, char **file_name,
                  struct wb_error *err)
{
    struct run *r = b->r;
    struct core_http_request req;
    struct core_api_error aerr;
    struct call c;
    char *url;
    size_t off = 0;
    int rc;
    *file_name = NULL;
    core_http_request_init(&req);
    if ((rc = gemini_upload_start_request(run_gemini_opts(r), display, data->len,
                                          "application/jsonl", &req, err)))
        return rc;
    if ((rc = http_call(r->eng, &req, &c, err))) {
        call_release(&c);
        return rc;
    }
    url = c.upload_url;
    c.upload_url = NULL;
    call_release(&c);
    if (!url)
        return wb_error_set(err, WB_EPARSE, "the upload start reply has no x-goog-upload-url");
    for (;;) {
        size_t n = data->len - off > b->chunk ? b->chunk : data->len - off;
        int final = off + n == data->len;
        core_http_request_init(&req);
        if ((rc = gemini_upload_chunk_request(run_gemini_opts(r), url, data->data + off, n, off,
                                              final, &req, err)))
            break;
        if ((rc = http_call(r->eng, &req, &c, err))) {
            call_release(&c);
            break;
        }
        off += n;
        if (final) {
            core_api_error_clear(&aerr);
            if (strcmp(c.upload_status, "final") != 0)
                rc = wb_error_set(err, WB_EPARSE, "the upload did not finish (status \"%s\")",
                                  c.upload_status);
            else if ((rc = gemini_file_parse(c.body.data, c.body.len, file_name, &aerr)))
                wb_error_set(err, rc, "%s", aerr.message);
            call_release(&c);
            break;
        }
        call_release(&c);
    }
    free(url);
    return rc;
}

/* Submit one job for items (keys[i] is the entry of items[i]).
 *
 * Creating is not idempotent, and its answer carries the job's name. So the
 * job is recorded first as "pending/<display name>" with its entries, and
 * renamed once the API answered: a run killed in between leaves the pending
 * row, and the next run finds the job by its (unique) display name, or
 * learns it was never made (resolve_pending). */
static int submit(struct bctx *b, enum wb_stage s, const struct gemini_batch_item *items,
                  const struct wb_batch_key *keys, size_t n, struct wb_error *err)
{
    struct run *r = b->r;
    const char *model = stage_model_of(r, s);
    struct core_http_request req;
    struct gemini_batch op;
    struct core_api_error aerr;
    struct wb_batch_job rec;
    struct call c;
    char display[128], pending[160], *file = NULL;
    int rc;

    snprintf(display, sizeof display, "wordbank-%s-%lld-%ld-%zu", wb_stage_name(s),
             (long long)core_clock_wall_s(), (long)getpid(), ++b->submitted);
    snprintf(pending, sizeof pending, "pending/%s", display);
    if (gemini_batch_inline_size(items, n) > b->inline_max) {
        struct wb_buf jsonl;
        wb_buf_init(&jsonl, 0);
        rc = gemini_batch_jsonl(items, n, &jsonl, err);
        if (!rc)
            rc = upload(b, display, &jsonl, &file, err);
        wb_buf_release(&jsonl);
        if (rc)
            return rc;
    }
    memset(&rec, 0, sizeof rec);
    rec.name = pending;
    rec.model = (char *)model;
    rec.stage = s;
    rec.state = "creating";
    rec.input_file = file;
    if ((rc = wb_store_batch_add(r->store, &rec, keys, n, err))) {
        free(file);
        return rc;
    }
    core_http_request_init(&req);
    if ((rc = gemini_batch_create_request(run_gemini_opts(r), model, display, items, n, file, &req,
                                          err))) {
        wb_store_batch_remove(r->store, pending, NULL);
        free(file);
        return rc;
    }
    free(file);
    if ((rc = http_call(r->eng, &req, &c, err))) {
        /* An HTTP answer means no job was made; without one (a transport
         * failure, a 5xx) the next run looks for it by its display name. */
        if (c.http >= 400 && c.http < 500)
            wb_store_batch_remove(r->store, pending, NULL);
        call_release(&c);
        return rc;
    }
    gemini_batch_init(&op);
    core_api_error_clear(&aerr);
    rc = gemini_batch_parse(c.body.data, c.body.len, &op, &aerr);
    call_release(&c);
    if (rc) {
        gemini_batch_release(&op);
        return wb_error_set(err, rc, "the batch create reply: %s", aerr.message);
    }
    rc = wb_store_batch_rename(r->store, pending, op.name, op.state, err);
    if (!rc)
        rc = add_job(b, op.name, s, model) ? wb_error_set(err, WB_ENOMEM, "out of memory") : 0;
    if (!rc) {
        struct bjob *bj = &b->jobs[b->n_jobs - 1];
        snprintf(bj->op.state, sizeof bj->op.state, "%s", op.state);
        bj->op.requests = (int64_t)n;
        notice(b, "submitted %s: %s for %zu entries%s", op.name, wb_stage_name(s), n,
               rec.input_file ? " (uploaded as a file)" : "");
    }
    gemini_batch_release(&op);
    return rc;
}

/* Jobs an interrupted run was creating: find each by its display name at the
 * API and adopt it (canceling accidental duplicates), or forget it so that
 * its entries are submitted again. */
static int resolve_pending(struct bctx *b, const struct wb_batch_job *known, size_t n_known,
                           struct wb_error *err)
{
    struct run *r = b->r;
    struct gemini_batch_brief *ops = NULL;
    size_t n_ops = 0, n_pending = 0;
    char *token = NULL;
    int rc = 0, pages = 0;
    for (size_t i = 0; i < n_known; i++)
        n_pending += !strncmp(known[i].name, "pending/", 8);
    if (!n_pending)
        return 0;
    do {
        struct core_http_request req;
        struct core_api_error aerr;
        struct call c;
        char *next = NULL;
        core_http_request_init(&req);
        if ((rc = gemini_batch_list_request(run_gemini_opts(r), 100, token, &req, err)))
            break;
        if ((rc = http_call(r->eng, &req, &c, err))) {
            call_release(&c);
            break;
        }
        core_api_error_clear(&aerr);
        rc = gemini_batch_list_parse(c.body.data, c.body.len, &ops, &n_ops, &next, &aerr);
        call_release(&c);
        if (rc) {
            wb_error_set(err, rc, "listing batch jobs: %s", aerr.message);
            break;
        }
        free(token);
        token = next;
    } while (token && ++pages < 1000);
    free(token);
    for (size_t i = 0; i < n_known && !rc; i++) {
        const char *display = known[i].name + 8;
        size_t found = 0;
        if (strncmp(known[i].name, "pending/", 8) != 0)
            continue;
        for (size_t k = 0; k < n_ops && !rc; k++) {
            if (strcmp(ops[k].display_name, display) != 0)
                continue;
            if (found++ == 0) {
                rc = wb_store_batch_rename(r->store, known[i].name, ops[k].name, ops[k].state, err);
                if (!rc)
                    notice(b, "found %s, created by an interrupted run", ops[k].name);
            } else if (!gemini_batch_state_final(ops[k].state)) {
                /* A duplicate (a retried create): nobody will read it. */
                struct core_http_request req;
                struct wb_error e2 = { 0 };
                struct call c;
                core_http_request_init(&req);
                if (gemini_batch_cancel_request(run_gemini_opts(r), ops[k].name, &req, &e2) == 0) {
                    http_call(r->eng, &req, &c, &e2);
                    call_release(&c);
                }
                notice(b, "cancelled %s, a duplicate of a job created by an interrupted run",
                       ops[k].name);
            }
        }
        if (!rc && !found) {
            rc = wb_store_batch_remove(r->store, known[i].name, err);
            if (!rc)
                notice(b,
                       "an interrupted run never created its job %s; its entries go into a new "
                       "job",
                       display);
        }
    }
    gemini_batch_briefs_free(ops, n_ops);
    return rc;
}

/* The GenerateContentRequest body of one stage of an entry. */
static int stage_body(struct bctx *b, struct job *j, enum wb_stage s, struct core_http_request *req,
                      struct wb_error *err)
{
    struct run *r = b->r;
    char *text = NULL;
    int rc;
    core_http_request_init(req);
    if (s == WB_STAGE_DETAILS)
        return gemini_details_request(run_gemini_opts(r), &j->e, req, err);
    if (s == WB_STAGE_IMAGE) {
        text = prompt_image(j->e.image_description);
        rc = text ? gemini_image_request(run_gemini_opts(r), text, req, err)
                  : wb_error_set(err, WB_ENOMEM, "out of memory");
    } else {
        text = prompt_speech_text(&j->e, r->speech_mode);
        rc = text ? gemini_speech_request_unary(run_gemini_opts(r), text,
                                                wb_config_get(r->cfg, "voice"), req, err)
                  : wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    free(text);
    return rc;
}

/* Can this entry's stage go now? (Pictures need the description; speech
 * needs the details unless it says only the word.) */
static int ready(const struct run *r, const struct job *j, enum wb_stage s)
{
    int details = j->e.stages[WB_STAGE_DETAILS].state == WB_STATE_DONE;
    if (j->st[s] != PS_WAITING)
        return 0;
    if (s == WB_STAGE_DETAILS)
        return 1;
    if (s == WB_STAGE_IMAGE)
        return details && j->e.image_description && *j->e.image_description;
    return !strcmp(r->speech_mode, "word") || details;
}

/* A batch run makes only the stages it holds, as an interactive run does
 * (window.c): each stage is claimed (a lease) before it goes into a job, so a
 * batch run and an interactive run on one word bank never both request it. 1:
 * ours; 0: made elsewhere meanwhile, or another live run is making it. */
static int batch_claim(struct bctx *b, struct job *j, enum wb_stage s, struct wb_error *err)
{
    struct run *r = b->r;
    unsigned bit = WB_STAGE_BIT(s), claimed = 0, done = 0;
    struct wb_error cerr = { 0 };
    int rc = wb_store_claim(r->store, j->e.word, j->e.translation, j->e.language, bit,
                            j->redo & bit, &r->me, r->lease_ttl_ms, &claimed, &done, &cerr);
    if (rc == WB_ENOSPC) {
        run_fatal(r, rc, wb_error_text(&cerr));
        return wb_error_set(err, rc, "%s", wb_error_text(&cerr));
    }
    if (rc != 0) {
        /* Without a lease we cannot cooperate; make it anyway (asking twice
         * at worst, as before leases). */
        if (!r->claim_warned++)
            wb_log(WB_LOG_WARN, "%s", wb_error_text(&cerr));
        return 1;
    }
    if (done & bit) {
        pipe_stage_set(r, j, s, PS_ELSEWHERE);
        return 0;
    }
    if (!(claimed & bit)) {
        b->held_elsewhere++;
        return 0;
    }
    return 1;
}

/* Submit jobs for every entry whose stage s is missing, ready, carried by
 * no job and not made by another run. */
static int submit_stage(struct bctx *b, enum wb_stage s, struct wb_error *err)
{
    struct run *r = b->r;
    struct gemini_batch_item *items = NULL;
    struct wb_batch_key *keys = NULL;
    struct core_http_request *reqs = NULL;
    char(*names)[24] = NULL;
    size_t n = 0, cap = b->max_per_stage[s];
    int rc = 0;

    if (!(b->stages & WB_STAGE_BIT(s)))
        return 0;
    items = calloc(cap, sizeof *items);
    keys = calloc(cap, sizeof *keys);
    reqs = calloc(cap, sizeof *reqs);
    names = calloc(cap, sizeof *names);
    if (!items || !keys || !reqs || !names) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i <= r->n_jobs && !rc; i++) {
        struct job *j = i < r->n_jobs ? &r->jobs[i] : NULL;
        if (j) {
            int c;
            if (!ready(r, j, s))
                continue;
            if ((c = carried(r, s, &j->e, 0)) != 0)
                continue;
            if ((c = batch_claim(b, j, s, err)) < 0) {
                rc = c;
                break;
            }
            if (c == 0)
                continue;
            if ((rc = stage_body(b, j, s, &reqs[n], err)))
                break;
            snprintf(names[n], sizeof names[n], "k%zu", n);
            items[n].key = names[n];
            items[n].body = reqs[n].body;
            items[n].body_len = reqs[n].body_len;
            keys[n].word = j->e.word;
            keys[n].translation = j->e.translation;
            keys[n].language = j->e.language;
            n++;
        }
        if (n && (n == cap || !j)) {
            rc = submit(b, s, items, keys, n, err);
            for (size_t k = 0; k < n; k++) {
                struct wb_entry e;
                if (!rc) {
                    memset(&e, 0, sizeof e);
                    e.word = keys[k].word;
                    e.translation = keys[k].translation;
                    e.language = keys[k].language;
                    if (carried(r, s, &e, 1) < 0)
                        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
                }
                core_http_request_release(&reqs[k]);
            }
            n = 0;
        }
    }
out:
    for (size_t k = 0; k < n; k++)
        core_http_request_release(&reqs[k]);
    free(items);
    free(keys);
    free(reqs);
    free(names);
    return rc;
}

/* Does the model take batchGenerateContent? (GET models/{model}) */
static int model_batches(struct bctx *b, const char *model)
{
    struct core_http_request req;
    struct wb_error err = { 0 };
    struct core_api_error aerr;
    struct call c;
    int yes = 0;
    memset(&c, 0, sizeof c);
    core_http_request_init(&req);
    if (gemini_model_get_request(run_gemini_opts(b->r), model, &req, &err) == 0 &&
        http_call(b->r->eng, &req, &c, &err) == 0) {
        core_api_error_clear(&aerr);
        yes = gemini_model_supports(c.body.data, c.body.len, "batchGenerateContent", &aerr) == 1;
    }
    call_release(&c);
    return yes;
}

static int run_batch(struct wb_run *pub, struct wb_batch_opts *o, struct wb_error *err)
{
    struct run *r = (struct run *)pub;
    struct wb_batch_job *known = NULL;
    size_t n_known = 0;
    struct bctx b;
    int rc = 0;

    memset(&b, 0, sizeof b);
    b.r = r;
    b.o = o;
    o->jobs_left = 0;
    o->batched = 0;
    o->failed = 0;
    o->lost = 0;
    if (r->opts.cache_only)
        return 0;
    b.inline_max = (size_t)wb_config_int(r->cfg, "batch.inline_max_bytes");
    b.max_requests = (size_t)wb_config_int(r->cfg, "batch.max_requests");
    if (b.max_requests < 1)
        b.max_requests = 1;
    /* A job's results come back in one body (the operation, or the responses
     * file) under http.max_body: pictures (~1.5 MB each in base64) and speech
     * go in smaller jobs. */
    b.max_per_stage[WB_STAGE_DETAILS] = b.max_requests;
    b.max_per_stage[WB_STAGE_IMAGE] = (size_t)wb_config_int(r->cfg, "batch.max_image_requests");
    b.max_per_stage[WB_STAGE_AUDIO] = (size_t)wb_config_int(r->cfg, "batch.max_speech_requests");
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        if (b.max_per_stage[s] < 1 || b.max_per_stage[s] > b.max_requests)
            b.max_per_stage[s] = b.max_requests;
    }
    /* Upload chunks: the SDK's 8 MiB unless set (tests use small ones). */
    b.chunk = (size_t)wb_config_int(r->cfg, "batch.upload_chunk_bytes");
    if (b.chunk < 1)
        b.chunk = (size_t)8 << 20;
    b.poll_first = wb_config_int(r->cfg, "batch.poll_first_ms");
    b.poll_max = wb_config_int(r->cfg, "batch.poll_max_ms");
    b.poll_factor = wb_config_double(r->cfg, "batch.poll_factor");
    if (b.poll_first < 1)
        b.poll_first = 1;
    if (b.poll_factor < 1.0)
        b.poll_factor = 1.0;

    r->started_ms = core_clock_mono_ms();
    run_sweep_orphans(r);
    if ((rc = run_plan(r, err)))
        return rc;
    /* Nothing is sent, batched or not, for pictures or clips that could not
     * be encoded (encoders.c). */
    if ((rc = run_encoders_check_before(r, err)))
        return rc;
    wb_error_clear(err);

    /* Which stages go to batch: Gemini ones; pictures unless through Imagen;
     * speech only when its model takes batchGenerateContent. */
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        int wanted = 0;
        if (!r->prov[s]->batch || (r->opts.skip & WB_STAGE_BIT(s)))
            continue;
        for (size_t i = 0; i < r->n_jobs && !wanted; i++)
            wanted = r->jobs[i].st[s] == PS_WAITING;
        if (s == WB_STAGE_IMAGE && run_gemini_opts(r)->image_api &&
            !strcmp(run_gemini_opts(r)->image_api, "imagen")) {
            if (wanted)
                notice(&b, "pictures through Imagen (:predict) are made interactively");
            continue;
        }
        if (s == WB_STAGE_AUDIO && wanted && !model_batches(&b, stage_model_of(r, s))) {
            notice(&b, "%s does not support batchGenerateContent: speech is made interactively",
                   stage_model_of(r, s));
            continue;
        }
        b.stages |= WB_STAGE_BIT(s);
    }
    o->batched = b.stages;

    /* The jobs earlier runs submitted: collect them, never submit their entries again. */
    if ((rc = wb_store_batch_list(r->store, 1, &known, &n_known, err)))
        goto out;
    if ((rc = resolve_pending(&b, known, n_known, err)))
        goto out;
    wb_batch_jobs_free(known, n_known);
    known = NULL;
    if ((rc = wb_store_batch_list(r->store, 1, &known, &n_known, err)))
        goto out;
    for (size_t i = 0; i < n_known && !rc; i++) {
        struct wb_batch_key *keys = NULL;
        size_t nk = 0;
        if ((rc = add_job(&b, known[i].name, known[i].stage, known[i].model))) {
            rc = wb_error_set(err, rc, "out of memory");
            break;
        }
        snprintf(b.jobs[b.n_jobs - 1].op.state, sizeof b.jobs[0].op.state, "%s", known[i].state);
        b.jobs[b.n_jobs - 1].op.requests = known[i].requests;
        if ((rc = wb_store_batch_keys(r->store, known[i].name, &keys, &nk, err)))
            break;
        for (size_t k = 0; k < nk && !rc; k++) {
            struct wb_entry e;
            if (!keys[k].word)
                continue;
            memset(&e, 0, sizeof e);
            e.word = keys[k].word;
            e.translation = keys[k].translation;
            e.language = keys[k].language;
            if (carried(r, known[i].stage, &e, 1) < 0)
                rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        }
        wb_batch_keys_free(keys, nk);
    }
    wb_batch_jobs_free(known, n_known);
    known = NULL;
    n_known = 0;
    if (rc)
        goto out;
    if (b.n_jobs)
        notice(&b, "collecting %zu batch job(s) submitted earlier", b.n_jobs);

    /* Details first; then pictures and speech, which may need them. */
    if (!rc && !r->interrupted)
        rc = submit_stage(&b, WB_STAGE_DETAILS, err);
    if (!rc && !r->interrupted && !strcmp(r->speech_mode, "word"))
        rc = submit_stage(&b, WB_STAGE_AUDIO, err);
    if (!rc && b.n_jobs)
        rc = wait_jobs(&b, err);
    if (!rc && !r->interrupted) {
        rc = submit_stage(&b, WB_STAGE_IMAGE, err);
        if (!rc)
            rc = submit_stage(&b, WB_STAGE_AUDIO, err);
        if (!rc && unfinished(&b))
            rc = wait_jobs(&b, err);
    }
    if (b.held_elsewhere)
        notice(&b, "%zu stage(s) left to another run that is making them", b.held_elsewhere);
    if (rc == WB_ECANCELED || r->interrupted) {
        rc = wb_error_set(err, WB_ECANCELED,
                          "interrupted: %zu batch job(s) keep running on Google's side; run the "
                          "same command again to collect them (wordbank batch status lists them)",
                          unfinished(&b));
    }
out : {
    /* Committed stages dropped their leases; the rest are free again. */
    struct wb_error lerr = { 0 };
    if (wb_store_lease_release_all(r->store, &r->me, &lerr) != 0)
        wb_log(r->fatal ? WB_LOG_DEBUG : WB_LOG_WARN, "%s", wb_error_text(&lerr));
}
    wb_batch_jobs_free(known, n_known);
    o->jobs_left = unfinished(&b);
    o->failed = 0;
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        o->failed += (size_t)r->stats.stage[s].failed;
        o->done[s] = (size_t)r->stats.stage[s].done;
    }
    o->lost = b.lost;
    o->tokens_in = b.tokens_in;
    o->tokens_out = b.tokens_out;
    {
        /* Batch price: half the interactive one unless price.<model>.batch_in/out is set. */
        const char *m = stage_model_of(r, WB_STAGE_DETAILS);
        o->cost_usd = (double)b.tokens_in / 1e6 * pipe_price(r, m, "batch_in") +
                      (double)b.tokens_out / 1e6 * pipe_price(r, m, "batch_out");
    }
    for (size_t i = 0; i < b.n_jobs; i++) {
        free(b.jobs[i].name);
        free(b.jobs[i].model);
        gemini_batch_release(&b.jobs[i].op);
    }
    free(b.jobs);
    /* The interactive run that may follow plans afresh and leaves the batched
     * stages alone (done, failed, or waiting in a job). */
    for (size_t i = 0; i < r->n_jobs; i++) {
        for (int s = 0; s < WB_STAGE_COUNT; s++) {
            if (r->jobs[i].st[s] == PS_WAITING)
                pipe_stage_set(r, &r->jobs[i], (enum wb_stage)s, PS_SKIP);
        }
    }
    {
        int64_t entries = r->stats.entries;
        memset(&r->stats, 0, sizeof r->stats);
        r->stats.size = sizeof r->stats;
        r->stats.entries = entries;
    }
    r->opts.skip |= b.stages;
    return rc;
}

void wb_batch_opts_init(struct wb_batch_opts *o)
{
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
}

/* The caller's options in the library's layout, its results copied back as
 * far as its struct reaches (wordbank/api.h). */
int wb_run_batch(struct wb_run *pub, struct wb_batch_opts *o, struct wb_error *err)
{
    struct wb_batch_opts lo;
    int rc = core_sized_load(&lo, sizeof lo, o, CORE_SIZED_MIN(struct wb_batch_opts, no_wait),
                             "wb_batch_opts", err);
    if (rc)
        return rc;
    rc = run_batch(pub, &lo, err);
    core_sized_store(o, &lo, sizeof lo);
    return rc;
}

/* ---- status and cancel (wordbank batch) ---- */

static int standalone(const struct wb_config *cfg, struct gemini_opts *g, struct engine **e,
                      struct wb_error *err)
{
    int rc;
    gemini_opts_init(g);
    if ((rc = gemini_opts_from_config(cfg, g, err)))
        return rc;
    if (!g->api_key)
        return wb_error_set(err, WB_ECONFIG,
                            "batch jobs live at the Gemini API: set GEMINI_API_KEY (or "
                            "GOOGLE_API_KEY)");
    return engine_new(cfg, e, err);
}

int wb_batch_refresh(const struct wb_config *cfg, struct wb_store *st, struct wb_error *err)
{
    struct gemini_opts g;
    struct engine *e = NULL;
    struct wb_batch_job *v = NULL;
    size_t n = 0;
    int rc;
    if ((rc = wb_store_batch_list(st, 1, &v, &n, err)) || n == 0)
        goto out;
    if ((rc = standalone(cfg, &g, &e, err)))
        goto out;
    for (size_t i = 0; i < n && !rc; i++) {
        struct core_http_request req;
        struct gemini_batch op;
        if (strncmp(v[i].name, "batches/", 8) != 0)
            continue; /* being created: the next propagate --batch settles it */
        struct core_api_error aerr;
        struct call c;
        core_http_request_init(&req);
        if ((rc = gemini_batch_get_request(&g, v[i].name, &req, err)))
            break;
        if ((rc = http_call(e, &req, &c, err))) {
            call_release(&c);
            break;
        }
        gemini_batch_init(&op);
        core_api_error_clear(&aerr);
        if ((rc = gemini_batch_parse(c.body.data, c.body.len, &op, &aerr)))
            wb_error_set(err, rc, "%s: %s", v[i].name, aerr.message);
        else
            rc = wb_store_batch_update(st, v[i].name, op.state, op.succeeded, op.failed, 0, err);
        call_release(&c);
        gemini_batch_release(&op);
    }
out:
    engine_free(e);
    wb_batch_jobs_free(v, n);
    return rc;
}

int wb_batch_cancel(const struct wb_config *cfg, struct wb_store *st, const char *name,
                    size_t *n_canceled, struct wb_error *err)
{
    struct gemini_opts g;
    struct engine *e = NULL;
    struct wb_batch_job *v = NULL;
    size_t n = 0, found = 0;
    int rc;
    *n_canceled = 0;
    if ((rc = wb_store_batch_list(st, 1, &v, &n, err)))
        goto out;
    for (size_t i = 0; i < n; i++)
        found += !name || !strcmp(v[i].name, name);
    if (name && !found) {
        rc = wb_error_set(err, WB_ENOTFOUND, "no unfinished batch job %s in this word bank", name);
        goto out;
    }
    if (!found)
        goto out;
    if ((rc = standalone(cfg, &g, &e, err)))
        goto out;
    for (size_t i = 0; i < n && !rc; i++) {
        struct core_http_request req;
        struct call c;
        if (name && strcmp(v[i].name, name))
            continue;
        if (gemini_batch_state_final(v[i].state) || strncmp(v[i].name, "batches/", 8) != 0)
            continue;
        core_http_request_init(&req);
        if ((rc = gemini_batch_cancel_request(&g, v[i].name, &req, err)))
            break;
        rc = http_call(e, &req, &c, err);
        call_release(&c);
        /* Cancelled: what it carried is missing again for the next run. */
        if (!rc && (rc = wb_store_batch_update(st, v[i].name, "cancelled", v[i].succeeded,
                                               v[i].failed, 1, err)) == 0)
            (*n_canceled)++;
    }
out:
    engine_free(e);
    wb_batch_jobs_free(v, n);
    return rc;
}
