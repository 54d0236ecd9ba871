/* The generation run: a sliding window of entries, each an explicit state
 * machine over its stages (DETAILS, then IMAGE and AUDIO at once — AUDIO
 * starts with DETAILS when it only speaks the word), merging of identical
 * requests, and the commit of every finished stage to the store at once.
 *
 * Everything here runs on the engine's loop thread.
 */
#include <dirent.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

#define PROGRESS_MS 100

/* ---- small string-keyed table (entries and merged requests) ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

struct shared *shared_find(struct run *r, const char *key, int create)
{
    struct shared *s;
    size_t b;
    if (!r->n_buckets) {
        if (!create)
            return NULL;
        r->n_buckets = 1024;
        r->shared = calloc(r->n_buckets, sizeof *r->shared);
        if (!r->shared) {
            r->n_buckets = 0;
            return NULL;
        }
    }
    b = hash_str(key) % r->n_buckets;
    for (s = r->shared[b]; s; s = s->next) {
        if (!strcmp(s->key, key))
            return s;
    }
    if (!create)
        return NULL;
    s = calloc(1, sizeof *s);
    if (!s || !(s->key = strdup(key))) {
        free(s);
        return NULL;
    }
    s->next = r->shared[b];
    r->shared[b] = s;
    return s;
}

static void shared_free_all(struct run *r)
{
    for (size_t b = 0; b < r->n_buckets; b++) {
        struct shared *s = r->shared[b], *n;
        for (; s; s = n) {
            n = s->next;
            free(s->key);
            free(s->file);
            free(s->waiters);
            free(s);
        }
    }
    free(r->shared);
    r->shared = NULL;
    r->n_buckets = 0;
}

/* ---- tasks ---- */

struct stage_task *task_new(struct job *j, enum wb_stage s, const struct prov_ops *p)
{
    struct stage_task *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->job = j;
    t->stage = s;
    t->ops = p;
    wb_entry_init(&t->details);
    wb_buf_init(&t->media, PROV_MAX_MEDIA);
    wb_buf_init(&t->pcm, PROV_MAX_MEDIA);
    return t;
}

void task_free(struct stage_task *t)
{
    if (!t)
        return;
    if (t->held)
        wb_engine_hold(t->job->run->eng, -t->held);
    wb_entry_release(&t->details);
    if (t->speech)
        t->ops->speech_free(t->speech);
    wb_buf_release(&t->media);
    wb_buf_release(&t->pcm);
    free(t->model);
    free(t->voice);
    free(t->share_key);
    free(t->file);
    free(t);
}

void task_fail(struct stage_task *t, int code, const char *fmt, ...)
{
    va_list ap;
    t->status = code ? code : WB_EINTERNAL;
    va_start(ap, fmt);
    vsnprintf(t->message, sizeof t->message, fmt, ap);
    va_end(ap);
    wb_secret_redact(t->message, sizeof t->message);
}

/* ---- failures and fatal errors ---- */

static void add_failure(struct run *r, const struct job *j, enum wb_stage s, int code,
                        const char *msg)
{
    struct failure *f;
    if (r->n_failures == r->cap_failures) {
        size_t cap = r->cap_failures ? r->cap_failures * 2 : 16;
        f = realloc(r->failures, cap * sizeof *f);
        if (!f)
            return;
        r->failures = f;
        r->cap_failures = cap;
    }
    f = &r->failures[r->n_failures];
    f->message = strdup(msg && *msg ? msg : "failed");
    if (!f->message)
        return;
    f->pub.word = j->e.word;
    f->pub.translation = j->e.translation;
    f->pub.language = j->e.language;
    f->pub.stage = s;
    f->pub.message = f->message;
    f->pub.code = code;
    r->n_failures++;
}

void run_fatal(struct run *r, int code, const char *msg)
{
    if (r->fatal)
        return;
    r->fatal = 1;
    wb_error_set(&r->fatal_err, code, "%s", msg);
    /* The rest would fail the same way: start nothing more. */
    if (r->eng)
        wb_engine_stop(r->eng, 0);
}

/* Errors that say something about the whole run rather than one entry. */
static int is_fatal_code(int code)
{
    return code == WB_EAUTH || code == WB_EMODEL || code == WB_ECONFIG || code == WB_ENOSPC;
}

/* ---- commits ---- */

int run_commit_stage(struct run *r, struct job *j, enum wb_stage s, int status, const char *msg,
                     const char *file, const char *model, const char *voice,
                     const struct wb_usage *u)
{
    struct wb_stage_info info;
    struct wb_error err = { 0 };
    int rc;

    memset(&info, 0, sizeof info);
    info.state = status == 0 ? WB_STATE_DONE : WB_STATE_FAILED;
    info.error = status == 0 ? NULL : (char *)msg;
    info.file = (char *)file;
    info.provider = (char *)r->prov[s]->name;
    info.model = (char *)model;
    info.voice = (char *)voice;
    if (u) {
        info.tokens_in = u->prompt_tokens;
        info.tokens_out = u->output_tokens + u->thought_tokens;
    }
    info.updated_at = wb_clock_wall_s();
    if ((rc = wb_stage_info_copy(&j->e.stages[s], &info)))
        return rc;
    if (s == WB_STAGE_DETAILS)
        rc = wb_store_set_details(r->store, &j->e, &err);
    else
        rc = wb_store_set_stage(r->store, &j->e, s, &info, &err);
    if (rc) {
        /* The store is our promise: without it nothing else is worth doing. */
        run_fatal(r, rc == WB_ENOSPC ? WB_ENOSPC : rc, wb_error_text(&err));
    }
    return rc;
}

/* ---- the window and the per-entry state machine ---- */

static void pump(struct run *r);
static void stage_start(struct run *r, struct job *j, enum wb_stage s);

static int job_wants(const struct job *j, enum wb_stage s)
{
    return (j->want & WB_STAGE_BIT(s)) && !((j->started | j->deferred) & WB_STAGE_BIT(s));
}

static int defer_push(struct run *r, struct job *j, enum wb_stage s)
{
    if (r->def_head && r->def_len == r->def_cap) {
        memmove(r->deferred, r->deferred + r->def_head,
                (r->def_len - r->def_head) * sizeof *r->deferred);
        r->def_len -= r->def_head;
        r->def_head = 0;
    }
    if (r->def_len == r->def_cap) {
        size_t cap = r->def_cap ? r->def_cap * 2 : 64;
        struct deferred_stage *v = realloc(r->deferred, cap * sizeof *v);
        if (!v)
            return WB_ENOMEM;
        r->deferred = v;
        r->def_cap = cap;
    }
    r->deferred[r->def_len].job = j;
    r->deferred[r->def_len].stage = s;
    r->def_len++;
    j->deferred |= WB_STAGE_BIT(s);
    return 0;
}

/* Room in the media pipeline again: start the stages that waited, in order. */
static void resume_deferred(struct run *r)
{
    while (r->media_active < r->media_max && r->def_head < r->def_len) {
        struct deferred_stage d = r->deferred[r->def_head++];
        d.job->deferred &= ~WB_STAGE_BIT(d.stage);
        stage_start(r, d.job, d.stage);
    }
}

/* How a stage of an entry ended. */
enum outcome { STAGE_FAILED = 0, STAGE_OK = 1, STAGE_NOT_MADE = 2 };

/* A stage of j ended: move the entry on. An entry is done when every stage it
 * wanted is; failed when one failed; neither when a stage was not made (the
 * run stopped, a daily quota, no picture description): the next run does it. */
static void job_stage_done(struct run *r, struct job *j, enum wb_stage s, enum outcome how)
{
    j->finished |= WB_STAGE_BIT(s);
    if (how == STAGE_FAILED)
        j->failed |= WB_STAGE_BIT(s);
    else if (how == STAGE_NOT_MADE)
        j->unmade |= WB_STAGE_BIT(s);
    if (s == WB_STAGE_DETAILS) {
        if (how == STAGE_OK) {
            if (job_wants(j, WB_STAGE_IMAGE))
                stage_start(r, j, WB_STAGE_IMAGE);
            if (job_wants(j, WB_STAGE_AUDIO))
                stage_start(r, j, WB_STAGE_AUDIO);
        } else {
            /* Without details there is no picture to draw; the next run retries. */
            for (int o = WB_STAGE_IMAGE; o <= WB_STAGE_AUDIO; o++) {
                if (job_wants(j, (enum wb_stage)o) &&
                    (o == WB_STAGE_IMAGE || strcmp(r->speech_mode, "word"))) {
                    j->started |= WB_STAGE_BIT(o);
                    j->finished |= WB_STAGE_BIT(o);
                    j->unmade |= WB_STAGE_BIT(o);
                    r->stats.stage[o].queued--;
                    r->stats.stage[o].skipped++;
                } else if (job_wants(j, (enum wb_stage)o)) {
                    stage_start(r, j, (enum wb_stage)o);
                }
            }
        }
    }
    if ((j->finished & j->want) == j->want && j->active) {
        j->active = 0;
        r->active--;
        if (j->failed)
            r->stats.entries_failed++;
        else if (!j->unmade)
            r->stats.entries_done++;
        pump(r);
    }
}

/* A stage of a merged request: every waiter gets the leader's result. */
static const char *stage_model(const struct run *r, enum wb_stage s);
static double price(const struct run *r, const char *model, const char *dir, double dflt);

static void settle_one(struct run *r, struct job *j, struct stage_task *t)
{
    enum wb_stage s = t->stage;
    enum outcome how = t->status == 0 ? STAGE_OK : STAGE_FAILED;
    struct wb_stage_counts *c = &r->stats.stage[s];

    c->in_flight--;
    if (how == STAGE_OK) {
        if (s == WB_STAGE_DETAILS) {
            /* Take what the provider wrote; the key and context stay ours. */
            wb_str_set(&j->e.reading, t->details.reading);
            wb_str_set(&j->e.description, t->details.description);
            wb_str_set(&j->e.image_description, t->details.image_description);
            wb_entry_clear_examples(&j->e);
            for (size_t i = 0; i < t->details.n_examples; i++)
                wb_entry_add_example(&j->e, t->details.examples[i].text,
                                     t->details.examples[i].translation);
            run_japanese_details(r, &j->e);
        }
        if (run_commit_stage(r, j, s, 0, NULL, t->file, t->model, t->voice,
                             j == t->job ? &t->usage : NULL) == 0) {
            c->done++;
        } else {
            /* The store refused (a full disk): the run stops; this stage was
             * not made, and the next run makes it. */
            how = STAGE_NOT_MADE;
            c->skipped++;
        }
    } else if (t->status == WB_ECANCELED || is_fatal_code(t->status) || t->status == WB_EQUOTA) {
        /* Not this entry's fault: leave the stage as it was for the next run. */
        how = STAGE_NOT_MADE;
        c->skipped++;
        if (t->status == WB_EQUOTA && !(r->exhausted & WB_STAGE_BIT(s))) {
            r->exhausted |= WB_STAGE_BIT(s);
            snprintf(r->exhausted_msg[s], sizeof r->exhausted_msg[s], "%s", t->message);
            wb_log(WB_LOG_WARN, "%s stage stopped for this run: daily quota of %s exhausted: %s",
                   wb_stage_name(s), t->model ? t->model : "the model", t->message);
        }
        if (is_fatal_code(t->status))
            run_fatal(r, t->status, t->message);
    } else {
        c->failed++;
        run_commit_stage(r, j, s, t->status, t->message, NULL, t->model, t->voice, NULL);
        add_failure(r, j, s, t->status, t->message);
    }
    if (j == t->job) {
        /* Each request's tokens at its own model's price (price.<model>.in/out). */
        const char *m = t->model ? t->model : stage_model(r, s);
        int64_t out = t->usage.output_tokens + t->usage.thought_tokens;
        r->stats.tokens_in += t->usage.prompt_tokens;
        r->stats.tokens_out += out;
        r->cost_usd += (double)t->usage.prompt_tokens / 1e6 * price(r, m, "in", 0.30) +
                       (double)out / 1e6 * price(r, m, "out", 2.50);
    }
    job_stage_done(r, j, s, how);
}

void run_stage_finished(struct stage_task *t)
{
    struct job *j = t->job;
    struct run *r = j->run;
    struct shared *sh = t->share_key ? shared_find(r, t->share_key, 0) : NULL;
    struct job **waiters = NULL;
    size_t n = 0;
    if (sh && sh->state == SH_RUNNING) {
        waiters = sh->waiters;
        n = sh->n;
        sh->waiters = NULL;
        sh->n = sh->cap = 0;
        /* Later entries with the same request reuse a success directly;
         * after a failure the next one tries again. */
        if (t->status == 0 && t->file && (sh->file = strdup(t->file)) != NULL)
            sh->state = SH_DONE;
        else
            sh->state = 0;
    }
    if (t->counts_media)
        r->media_active--;
    settle_one(r, j, t);
    for (size_t i = 0; i < n; i++)
        settle_one(r, waiters[i], t);
    free(waiters);
    /* Committed (or failed): the file is no longer pending. A failed commit
     * (a full disk) keeps the marker, so the next run settles it. */
    if (t->marked && t->file && !r->fatal)
        pending_clear(r, t->file);
    task_free(t);
    resume_deferred(r);
}

static const char *stage_model(const struct run *r, enum wb_stage s)
{
    return prov_model(r->prov[s], r->cfg, s);
}

/* The voice of the speech stage: the provider's setting, or (offline,
 * espeak-ng) the language. */
static const char *stage_voice(const struct run *r, enum wb_stage s)
{
    if (s != WB_STAGE_AUDIO)
        return NULL;
    if (r->prov[s]->voice_key)
        return wb_config_get(r->cfg, r->prov[s]->voice_key);
    return r->lang;
}

/* The merge key of a stage's request, or NULL when it cannot be shared. */
static char *share_key(struct run *r, struct job *j, enum wb_stage s)
{
    struct wb_buf k;
    char *text = NULL;
    if (s == WB_STAGE_DETAILS)
        return NULL; /* entries are merged by key already */
    wb_buf_init(&k, 0);
    if (s == WB_STAGE_AUDIO)
        text = wb_prompt_speech_text(&j->e, r->speech_mode);
    else
        text = j->e.image_description ? strdup(j->e.image_description) : NULL;
    if (!text)
        return NULL;
    wb_buf_appendf(&k, "%d|%d|%s|%s|%s|%s", (int)s, (int)r->prov[s]->id, stage_model(r, s),
                   stage_voice(r, s) ? stage_voice(r, s) : "", r->lang, text);
    free(text);
    return wb_buf_detach(&k, NULL);
}

static void stage_start(struct run *r, struct job *j, enum wb_stage s)
{
    struct wb_stage_counts *c = &r->stats.stage[s];
    struct stage_task *t;
    struct shared *sh;
    char *key;
    int rc;

    /* Requests for pictures and speech run ahead of the encoders when the
     * CPU is the bottleneck; their bytes would pile up in memory. Wait. */
    if (s != WB_STAGE_DETAILS && r->media_active >= r->media_max && !r->fatal && !r->stopping &&
        defer_push(r, j, s) == 0)
        return;
    j->started |= WB_STAGE_BIT(s);
    c->queued--;
    if ((r->exhausted & WB_STAGE_BIT(s)) || r->fatal || r->stopping) {
        c->skipped++;
        job_stage_done(r, j, s, STAGE_NOT_MADE);
        return;
    }
    c->in_flight++;
    key = share_key(r, j, s);
    sh = key ? shared_find(r, key, 1) : NULL;
    if (sh && sh->state == SH_DONE) {
        /* Already made in this run: the same file, no request. */
        if ((t = task_new(j, s, r->prov[s])) != NULL) {
            r->stats.merged++;
            t->file = strdup(sh->file);
            t->model = wb_strdup0(stage_model(r, s));
            t->voice = wb_strdup0(stage_voice(r, s));
            free(key);
            run_stage_finished(t);
            return;
        }
    } else if (sh && sh->state == SH_RUNNING) {
        /* In flight for another entry: wait for its result. */
        if (sh->n == sh->cap) {
            size_t cap = sh->cap ? sh->cap * 2 : 4;
            struct job **w = realloc(sh->waiters, cap * sizeof *w);
            if (w) {
                sh->waiters = w;
                sh->cap = cap;
            }
        }
        if (sh->n < sh->cap) {
            sh->waiters[sh->n++] = j;
            r->stats.merged++;
            free(key);
            return;
        }
    } else if (sh) {
        sh->state = SH_RUNNING; /* this entry leads */
    }
    t = task_new(j, s, r->prov[s]);
    if (!t) {
        free(key);
        c->in_flight--;
        c->failed++;
        job_stage_done(r, j, s, STAGE_FAILED);
        return;
    }
    t->share_key = key;
    if (s != WB_STAGE_DETAILS) {
        t->counts_media = 1;
        r->media_active++;
    }
    t->model = wb_strdup0(stage_model(r, s));
    t->voice = wb_strdup0(stage_voice(r, s));
    rc = r->prov[s]->local ? offline_start(t) : stage_request_start(t);
    if (rc) {
        if (!t->status)
            task_fail(t, rc, "%s", wb_strerror(rc));
        run_stage_finished(t);
    }
}

/* Stages another run made since the plan: take them from the store. */
static void take_done_elsewhere(struct run *r, struct job *j, unsigned done)
{
    struct wb_entry stored;
    struct wb_error err = { 0 };
    wb_entry_init(&stored);
    if (wb_store_get(r->store, j->e.word, j->e.translation, j->e.language, &stored, &err) == 0) {
        if ((!stored.context || !*stored.context) && j->e.context)
            wb_str_set(&stored.context, j->e.context);
        wb_entry_release(&j->e);
        j->e = stored;
    } else {
        wb_entry_release(&stored);
    }
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        if (done & WB_STAGE_BIT(s)) {
            j->want &= ~WB_STAGE_BIT(s);
            r->stats.stage[s].queued--;
            r->stats.stage[s].cached++;
        }
    }
}

/* Claim j's stages in the store (a lease each). Returns 1 when the entry may
 * start (what is left of its stages is ours), 0 when another run holds some
 * of them (the entry is parked and polled), -1 when nothing is left. */
static int job_claim(struct run *r, struct job *j)
{
    unsigned claimed = 0, done = 0;
    struct wb_error err = { 0 };
    if (!j->want)
        return -1;
    int rc = wb_store_claim(r->store, j->e.word, j->e.translation, j->e.language, j->want,
                            j->redo, &r->me, r->lease_ttl_ms, &claimed, &done, &err);
    if (rc == WB_ENOSPC) {
        /* Nothing could be committed either: stop, said once. */
        run_fatal(r, rc, wb_error_text(&err));
        return -1;
    }
    if (rc != 0) {
        /* Without a lease we cannot cooperate; make the stages anyway (the
         * worst case is the old behaviour: asking twice). */
        if (!r->claim_warned++)
            wb_log(WB_LOG_WARN, "%s", wb_error_text(&err));
        return 1;
    }
    /* (Done in the store but wanted anyway — forced, or its file is bad —
     * is claimed like a missing stage: j->redo.) */
    if (done)
        take_done_elsewhere(r, j, done);
    if (!j->want) {
        r->stats.entries_done++;
        return -1;
    }
    return (claimed & j->want) == j->want ? 1 : 0;
}

static void park(struct run *r, struct job *j)
{
    if (r->n_parked == r->cap_parked) {
        size_t cap = r->cap_parked ? r->cap_parked * 2 : 64;
        size_t *v = realloc(r->parked, cap * sizeof *v);
        if (!v) {
            run_fatal(r, WB_ENOMEM, "out of memory");
            return;
        }
        r->parked = v;
        r->cap_parked = cap;
    }
    r->parked[r->n_parked++] = j->index;
    j->parked = 1;
}

/* Start entry j: every stage whose inputs are there. */
static void job_start(struct run *r, struct job *j)
{
    int audio_needs_details = strcmp(r->speech_mode, "word") != 0;
    if (!j->want)
        return;
    j->active = 1;
    r->active++;
    if (job_wants(j, WB_STAGE_DETAILS))
        stage_start(r, j, WB_STAGE_DETAILS);
    if (job_wants(j, WB_STAGE_AUDIO) &&
        (!audio_needs_details || !(j->want & WB_STAGE_BIT(WB_STAGE_DETAILS))))
        stage_start(r, j, WB_STAGE_AUDIO);
    if (job_wants(j, WB_STAGE_IMAGE) && !(j->want & WB_STAGE_BIT(WB_STAGE_DETAILS))) {
        if (j->e.image_description && *j->e.image_description) {
            stage_start(r, j, WB_STAGE_IMAGE);
        } else {
            /* Details were done elsewhere without a picture description. */
            j->started |= WB_STAGE_BIT(WB_STAGE_IMAGE);
            r->stats.stage[WB_STAGE_IMAGE].queued--;
            r->stats.stage[WB_STAGE_IMAGE].skipped++;
            job_stage_done(r, j, WB_STAGE_IMAGE, STAGE_NOT_MADE);
        }
    }
}

static void lease_poll(void *ud, int status);

static int ready_push(struct run *r, size_t idx)
{
    if (r->ready_head && r->ready_len == r->ready_cap) {
        memmove(r->ready, r->ready + r->ready_head, (r->ready_len - r->ready_head) * sizeof *r->ready);
        r->ready_len -= r->ready_head;
        r->ready_head = 0;
    }
    if (r->ready_len == r->ready_cap) {
        size_t cap = r->ready_cap ? r->ready_cap * 2 : 64;
        size_t *v = realloc(r->ready, cap * sizeof *v);
        if (!v)
            return WB_ENOMEM;
        r->ready = v;
        r->ready_cap = cap;
    }
    r->ready[r->ready_len++] = idx;
    return 0;
}

static void arm_poll(struct run *r)
{
    if (r->n_parked && !r->poll_timer && !r->fatal && !r->stopping &&
        wb_engine_timer(r->eng, r->lease_poll_ms, lease_poll, r) == 0)
        r->poll_timer = 1;
}

/* The sliding window: a new entry starts the moment a slot frees. Entries
 * whose stages another run holds wait aside (parked) without taking a slot,
 * so both runs work through different entries. */
static void pump(struct run *r)
{
    struct wb_error err = { 0 };
    size_t first = r->next;
    int limit, batch = 0;
    /* The original's way, kept for benchmarks: batches that wait for their
     * slowest member before the next batch starts. */
    if (r->batch_barrier && r->active > 0)
        return;
    limit = r->batch_barrier ? r->batch_barrier : r->jobs_max;
    /* Entries the poll found free (their claims are taken) go first. */
    while (r->active < limit && r->ready_head < r->ready_len && !r->fatal && !r->stopping) {
        if (wb_engine_stopping(r->eng)) {
            r->stopping = 1;
            break;
        }
        job_start(r, &r->jobs[r->ready[r->ready_head++]]);
    }
    /* Claim the next entries; many at once (the first fill) in one
     * transaction, committed before any of them starts: a stage commit
     * never rides on the claims' transaction. */
    if (r->active + r->starting + 1 < limit && r->next + 1 < r->n_jobs &&
        !wb_store_in_batch(r->store) && wb_store_begin_light(r->store, &err) == 0)
        batch = 1;
    while (r->active + r->starting < limit && r->next < r->n_jobs && !r->fatal && !r->stopping) {
        struct job *j = &r->jobs[r->next++];
        if (wb_engine_stopping(r->eng)) {
            r->stopping = 1;
            r->next--;
            break;
        }
        switch (job_claim(r, j)) {
        case 1:
            j->claimed_ok = 1;
            r->starting++;
            break;
        case 0:
            park(r, j);
            break;
        default:
            break;
        }
    }
    if (batch && wb_store_commit(r->store, &err) != 0)
        wb_log(WB_LOG_WARN, "%s", wb_error_text(&err));
    for (size_t i = first; i < r->next && !r->fatal; i++) {
        struct job *j = &r->jobs[i];
        if (j->claimed_ok) {
            j->claimed_ok = 0;
            r->starting--;
            job_start(r, j);
        }
    }
    arm_poll(r);
}

/* Parked entries: has the other run committed their stages, or gone away? */
static void lease_poll(void *ud, int status)
{
    struct run *r = ud;
    struct wb_error err = { 0 };
    size_t keep = 0;
    int batch;
    r->poll_timer = 0;
    if (status || r->fatal || r->stopping)
        return;
    batch = wb_store_begin_light(r->store, &err) == 0;
    for (size_t i = 0; i < r->n_parked; i++) {
        struct job *j = &r->jobs[r->parked[i]];
        int rc = job_claim(r, j);
        if (rc == 0) {
            r->parked[keep++] = r->parked[i];
            continue;
        }
        j->parked = 0;
        if (rc == 1 && ready_push(r, j->index) != 0)
            run_fatal(r, WB_ENOMEM, "out of memory");
    }
    r->n_parked = keep;
    if (batch && wb_store_commit(r->store, &err) != 0)
        wb_log(WB_LOG_WARN, "%s", wb_error_text(&err));
    pump(r);
    arm_poll(r);
}

/* Our leases stay ours while we live. */
static void lease_beat(void *ud, int status)
{
    struct run *r = ud;
    struct wb_error err = { 0 };
    r->beat_timer = 0;
    if (status || r->fatal || r->stopping)
        return;
    if (wb_store_lease_heartbeat(r->store, &r->me, &err) != 0)
        wb_log(WB_LOG_WARN, "%s", wb_error_text(&err));
    if ((r->active > 0 || r->next < r->n_jobs || r->n_parked || r->ready_head < r->ready_len) &&
        wb_engine_timer_weak(r->eng, r->lease_ttl_ms / 3, lease_beat, r) == 0)
        r->beat_timer = 1;
}

/* ---- progress ---- */

static double price(const struct run *r, const char *model, const char *dir, double dflt)
{
    char name[256];
    snprintf(name, sizeof name, "price.%s.%s", model, dir);
    return wb_config_get_double(r->cfg, name, dflt);
}

static void update_stats(struct run *r)
{
    struct wb_engine_stats es;
    struct wb_engine_model_info mi;
    int64_t now = wb_clock_mono_ms(), done = 0, left = 0;
    wb_engine_get_stats(r->eng, &es);
    r->stats.requests = (int64_t)es.attempts;
    r->stats.retries = (int64_t)es.retries;
    r->stats.rate_limited = (int64_t)es.rate_limited;
    r->stats.elapsed_s = (double)(now - r->started_ms) / 1000.0;
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        done += r->stats.stage[s].done + r->stats.stage[s].failed;
        left += r->stats.stage[s].queued + r->stats.stage[s].in_flight;
    }
    /* A smoothed completion rate: an exponential moving average per second. */
    if (now - r->rate_last_ms >= 1000) {
        double inst = (double)(done - r->rate_last_done) * 60000.0 / (double)(now - r->rate_last_ms);
        r->rate_ewma = r->rate_last_ms ? 0.7 * r->rate_ewma + 0.3 * inst : inst;
        r->rate_last_ms = now;
        r->rate_last_done = done;
    }
    r->stats.rate_per_min = r->rate_ewma;
    r->stats.eta_s = r->rate_ewma > 0.01 ? (double)left * 60.0 / r->rate_ewma : -1;
    /* Rough cost, summed per request at its model's price (USD per million
     * tokens; defaults for the default text model, price.<model>.in / .out). */
    r->stats.cost_usd = r->cost_usd;
    r->stats.paused[0] = '\0';
    for (size_t i = 0; i < wb_engine_model_count(r->eng); i++) {
        if (wb_engine_model_info(r->eng, i, &mi) == 0 && (mi.pause_ms > 0 || mi.exhausted)) {
            if (mi.exhausted)
                snprintf(r->stats.paused, sizeof r->stats.paused, "%s: daily quota exhausted",
                         mi.model);
            else
                snprintf(r->stats.paused, sizeof r->stats.paused, "%s paused %.0f s (rate limit)",
                         mi.model, (double)mi.pause_ms / 1000.0);
            break;
        }
    }
}

static void progress_tick(void *ud, int status)
{
    struct run *r = ud;
    r->progress_timer = 0;
    if (status)
        return;
    update_stats(r);
    if (r->opts.on_progress)
        r->opts.on_progress(r->opts.ud, &r->stats);
    if ((r->active > 0 || r->next < r->n_jobs || r->n_parked) && !r->fatal && !r->stopping &&
        wb_engine_timer(r->eng, PROGRESS_MS, progress_tick, r) == 0)
        r->progress_timer = 1;
}

/* ---- rates learned from 429s, remembered in the store ---- */

static const enum wb_req_kind stage_kind[WB_STAGE_COUNT] = { WB_REQ_TEXT, WB_REQ_IMAGE,
                                                             WB_REQ_SPEECH };

/* Start each model at the pace an earlier run learned, grown back with its
 * age (doubling every limit.learned_half_life_s, default an hour) so an old
 * lesson fades and the next 429 teaches a new one. */
static void rates_load(struct run *r)
{
    double half = wb_config_get_double(r->cfg, "limit.learned_half_life_s", 3600);
    int64_t now = wb_clock_wall_s();
    if (half < 1)
        half = 1;
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        const char *model = stage_model(r, (enum wb_stage)s);
        double rpm = 0, grown;
        int64_t at = 0;
        struct wb_error err = { 0 };
        if (r->prov[s]->local || !model || !*model ||
            (r->opts.skip & WB_STAGE_BIT(s)))
            continue;
        if (wb_store_rate_get(r->store, model, &rpm, &at, &err) != 0)
            continue;
        grown = rpm * pow(2.0, (double)(now > at ? now - at : 0) / half);
        if (grown > rpm * 16)
            continue; /* forgotten */
        wb_log(WB_LOG_INFO, "%s: starting at %.0f requests a minute (learned from 429s)", model,
               grown);
        wb_engine_set_rate(r->eng, model, stage_kind[s], grown);
    }
}

/* What this run learned: the pace the server allowed after its 429s; a
 * learned pace that drew no 429 may go a little faster next time. */
static void rates_save(struct run *r)
{
    struct wb_engine_model_info mi;
    for (size_t i = 0; i < wb_engine_model_count(r->eng); i++) {
        struct wb_error err = { 0 };
        double rpm = 0;
        if (wb_engine_model_info(r->eng, i, &mi) != 0)
            continue;
        if (mi.learned_rpm > 0)
            rpm = mi.learned_rpm;
        else if (mi.start_rpm > 0 && mi.rate_limited == 0 && mi.succeeded >= 10)
            rpm = mi.start_rpm * 1.25;
        if (rpm > 0 && wb_store_rate_set(r->store, mi.model, rpm, &err) != 0)
            wb_log(WB_LOG_WARN, "%s", wb_error_text(&err));
        else if (rpm > 0)
            wb_log(WB_LOG_INFO, "%s: %.0f requests a minute remembered for the next run", mi.model,
                   rpm);
    }
}

/* ---- public API ---- */


int wb_run_new(const struct wb_config *cfg, struct wb_store *store, const char *media_dir,
               const struct wb_run_opts *opts, struct wb_run **out, struct wb_error *err)
{
    struct run *r = calloc(1, sizeof *r);
    const char *af;
    int rc = 0, used[PROV_COUNT] = { 0 };
    if (!r)
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    r->cfg = cfg;
    r->store = store;
    if (opts)
        r->opts = *opts;
    pthread_mutex_init(&r->text_lock, NULL);
    {
        char real[PATH_MAX];
        const char *db = wb_store_path(store);
        r->db_real = strdup(db && realpath(db, real) ? real : db ? db : "");
    }
    if (!r->db_real || !(r->media_dir = strdup(media_dir))) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    r->lang = wb_config_get(cfg, "lang");
    if (!r->lang)
        r->lang = "ja";
    r->speech_mode = wb_config_get(cfg, "speech_text");
    if (!r->speech_mode)
        r->speech_mode = "word";
    r->batch_barrier = (int)wb_config_get_int(cfg, "pipeline.batch_barrier", 0);
    r->lease_ttl_ms = wb_config_get_int(cfg, "pipeline.lease_ttl_ms", 30000);
    if (r->lease_ttl_ms < 300)
        r->lease_ttl_ms = 300;
    r->lease_poll_ms = wb_config_get_int(cfg, "pipeline.lease_poll_ms", 200);
    if (r->lease_poll_ms < 10)
        r->lease_poll_ms = 10;
    if (gethostname(r->host, sizeof r->host - 1) != 0)
        snprintf(r->host, sizeof r->host, "localhost");
    r->me.host = r->host;
    r->me.pid = (long)getpid();
    {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        r->me.token = ((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec) ^ ((int64_t)getpid() << 40);
        r->me.token &= INT64_MAX;
    }
    r->jobs_max = r->opts.jobs > 0 ? r->opts.jobs : (int)wb_config_get_int(cfg, "jobs", 16);
    if (r->jobs_max < 1)
        r->jobs_max = 1;
    /* Each entry in the window has at most a picture and a clip on their
     * way; memory is bounded by bytes (the engine's http.body_budget), not
     * by holding requests back. */
    r->media_max = (int)wb_config_get_int(cfg, "pipeline.media_in_flight", 2L * r->jobs_max);
    if (r->media_max < 1)
        r->media_max = 1;
    wb_audio_options_init(&r->audio_opts);
    af = wb_config_get(cfg, "audio_format");
    if (af && wb_audio_format_from_name(af) >= 0)
        r->audio_opts.format = (enum wb_audio_format)wb_audio_format_from_name(af);
    r->audio_opts.trim = wb_config_get_bool(cfg, "audio_trim", 1);
    r->image_size = (int)wb_config_get_int(cfg, "image_size", WB_IMAGE_MAX_PX_DEFAULT);
    r->image_type = wb_image_type_from_name(wb_config_get(cfg, "image_format"));
    if (r->image_type == WB_IMAGE_UNKNOWN)
        r->image_type = WB_IMAGE_JPEG;
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        r->prov[s] = prov_find(prov_configured(cfg, (enum wb_stage)s));
        if (!r->prov[s]) {
            rc = wb_error_set(err, WB_ECONFIG, "unknown provider for the %s stage",
                              wb_stage_name((enum wb_stage)s));
            goto out;
        }
        if (!(r->opts.skip & WB_STAGE_BIT(s)))
            used[r->prov[s]->id] = 1;
    }
    /* Every network provider's options (batch reads Gemini's even when no
     * stage uses it); read from the configuration where a stage needs them. */
    for (int p = PROV_NONE + 1; p < PROV_COUNT; p++) {
        const struct prov_ops *ops = prov_get((enum prov_id)p);
        if (!ops || !ops->opts_size)
            continue;
        if (!(r->popts[p] = calloc(1, ops->opts_size))) {
            rc = wb_error_set(err, WB_ENOMEM, "out of memory");
            goto out;
        }
        ops->opts_init(r->popts[p]);
        if (!used[p] || r->opts.cache_only)
            continue;
        if ((rc = ops->opts_from_config(cfg, r->popts[p], err)))
            goto out;
        if (!ops->api_key(r->popts[p])) {
            rc = wb_error_set(err, WB_ECONFIG, "%s", ops->no_key);
            goto out;
        }
    }
    if ((rc = wb_engine_new(cfg, &r->eng, err)))
        goto out;
    wb_engine_set_window(r->eng, r->jobs_max);
out:
    if (rc) {
        wb_run_free((struct wb_run *)r);
        return rc;
    }
    *out = (struct wb_run *)r;
    return 0;
}

void wb_run_free(struct wb_run *pub)
{
    struct run *r = (struct run *)pub;
    if (!r)
        return;
    wb_engine_free(r->eng);
    for (size_t i = 0; i < r->n_jobs; i++)
        wb_entry_release(&r->jobs[i].e);
    free(r->jobs);
    free(r->deferred);
    free(r->parked);
    free(r->ready);
    shared_free_all(r);
    for (size_t i = 0; i < r->n_failures; i++)
        free(r->failures[i].message);
    free(r->failures);
    wb_edict_close(r->edict);
    wb_text_free(r->text);
    pthread_mutex_destroy(&r->text_lock);
    for (int p = 0; p < PROV_COUNT; p++)
        free(r->popts[p]);
    free(r->media_dir);
    free(r->db_real);
    free(r);
}

int wb_run_add(struct wb_run *pub, const char *word, const char *translation, const char *context,
               struct wb_error *err)
{
    struct run *r = (struct run *)pub;
    struct job *j;
    if (!word || !*word || !translation || !*translation)
        return wb_error_set(err, WB_EINVAL, "an entry needs a word and a translation");
    if (wb_entry_check(word, translation, context, NULL, err))
        return WB_EINVAL;
    /* Merge duplicates: an index over (word, translation) in the shared table. */
    {
        struct wb_buf k;
        struct shared *sh;
        wb_buf_init(&k, 0);
        if (wb_buf_appendf(&k, "E|%s|%s", word, translation))
            return wb_error_set(err, WB_ENOMEM, "out of memory");
        sh = shared_find(r, k.data, 1);
        wb_buf_release(&k);
        if (!sh)
            return wb_error_set(err, WB_ENOMEM, "out of memory");
        if (sh->state) {
            j = &r->jobs[sh->n];
            if ((!j->e.context || !*j->e.context) && context && *context)
                wb_str_set(&j->e.context, context);
            return 0;
        }
        sh->state = SH_DONE;
        sh->n = r->n_jobs;
    }
    if (r->n_jobs == r->cap_jobs) {
        size_t cap = r->cap_jobs ? r->cap_jobs * 2 : 64;
        struct job *v = realloc(r->jobs, cap * sizeof *v);
        if (!v)
            return wb_error_set(err, WB_ENOMEM, "out of memory");
        r->jobs = v;
        r->cap_jobs = cap;
    }
    j = &r->jobs[r->n_jobs];
    memset(j, 0, sizeof *j);
    j->run = r;
    j->index = r->n_jobs;
    wb_entry_init(&j->e);
    if (wb_str_set(&j->e.word, word) || wb_str_set(&j->e.translation, translation) ||
        wb_str_set(&j->e.language, r->lang) ||
        wb_str_set(&j->e.context, context && *context ? context : NULL)) {
        wb_entry_release(&j->e);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    r->n_jobs++;
    r->stats.entries++;
    return 0;
}

int wb_run_execute(struct wb_run *pub, struct wb_error *err)
{
    struct run *r = (struct run *)pub;
    int rc, any_offline = 0;
    r->started_ms = wb_clock_mono_ms();
    if (!r->opts.cache_only)
        run_sweep_orphans(r);
    if ((rc = run_plan(r, err)))
        return rc;
    for (size_t i = 0; i < r->n_jobs && !any_offline; i++) {
        for (int s = 0; s < WB_STAGE_COUNT; s++) {
            if ((r->jobs[i].want & WB_STAGE_BIT(s)) && r->prov[s]->local)
                any_offline = 1;
        }
    }
    if (any_offline && (rc = offline_prepare(r, err)))
        return rc;
    if (r->opts.on_progress && wb_engine_timer(r->eng, PROGRESS_MS, progress_tick, r) == 0)
        r->progress_timer = 1;
    if (!r->opts.cache_only && wb_engine_timer_weak(r->eng, r->lease_ttl_ms / 3, lease_beat, r) == 0)
        r->beat_timer = 1;
    if (!r->opts.cache_only)
        rates_load(r);
    /* A finished stage is committed at once, to the log without a sync of
     * its own (a commit costs ~4 ms of the loop's time with one): it
     * survives Ctrl-C and kill -9; the run syncs at its end.
     * pipeline.sync_commits = 1 syncs every commit. */
    r->sync_each = wb_config_get_bool(r->cfg, "pipeline.sync_commits", 0);
    if (!r->sync_each) {
        struct wb_error serr = { 0 };
        if (wb_store_set_sync(r->store, 0, &serr) != 0)
            wb_log(WB_LOG_WARN, "%s", wb_error_text(&serr));
    }
    pump(r);
    rc = wb_engine_run(r->eng);
    if (!r->opts.cache_only) {
        /* Stages not made are free for the next run at once. After a fatal
         * error (a full disk) these fail the same way: said once already. */
        struct wb_error lerr = { 0 };
        enum wb_log_level lv = r->fatal ? WB_LOG_DEBUG : WB_LOG_WARN;
        if (wb_store_lease_release_all(r->store, &r->me, &lerr) != 0)
            wb_log(lv, "%s", wb_error_text(&lerr));
        if (!r->fatal)
            rates_save(r);
        if (!r->sync_each && (wb_store_set_sync(r->store, 1, &lerr) != 0 ||
                              wb_store_sync(r->store, &lerr) != 0))
            wb_log(lv, "%s", wb_error_text(&lerr));
    }
    update_stats(r);
    if (r->opts.on_progress)
        r->opts.on_progress(r->opts.ud, &r->stats);
    if (r->fatal) {
        *err = r->fatal_err;
        return r->fatal_err.code ? r->fatal_err.code : WB_EINTERNAL;
    }
    if (r->interrupted || rc == WB_ECANCELED || r->next < r->n_jobs || r->n_parked)
        return wb_error_set(err, WB_ECANCELED, "interrupted: %zu of %zu entries not started",
                            r->n_jobs - r->next + r->n_parked, r->n_jobs);
    if (r->stats.entries_failed || r->exhausted) {
        return wb_error_set(err, WB_EINCOMPLETE, "%lld of %lld entries failed",
                            (long long)r->stats.entries_failed, (long long)r->stats.entries);
    }
    return 0;
}

void wb_run_interrupt(struct wb_run *pub)
{
    struct run *r = (struct run *)pub;
    r->interrupted = 1;
    if (r->eng)
        wb_engine_request_stop(r->eng);
}

void wb_run_get_stats(const struct wb_run *pub, struct wb_run_stats *out)
{
    *out = ((const struct run *)pub)->stats;
}

size_t wb_run_failure_count(const struct wb_run *pub)
{
    return ((const struct run *)pub)->n_failures;
}

const struct wb_run_failure *wb_run_failure_at(const struct wb_run *pub, size_t i)
{
    const struct run *r = (const struct run *)pub;
    return i < r->n_failures ? &r->failures[i].pub : NULL;
}
