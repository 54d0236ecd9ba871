/* The generation run: its public API (wb_run_*), the stage tasks, and each
 * stage's model and voice. The run's parts live beside it: the state machine
 * of entries and stages (state.c), the window and its claims (window.c),
 * merged requests and the run's table (merge.c), back-pressure (defer.c),
 * commits and failures (commit.c), progress, cost and learned rates
 * (progress.c), the plan (plan.c) and pending media (pending.c).
 *
 * Everything here runs on the engine's loop thread.
 */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/sized.h"
#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

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
        engine_hold(t->job->run->eng, -t->held);
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

/* ---- each stage's model and voice ---- */

const char *pipe_stage_model(const struct run *r, enum wb_stage s)
{
    return prov_model(r->prov[s], r->cfg, s);
}

/* The voice of the speech stage: the provider's setting, or (offline,
 * espeak-ng) the language. */
const char *pipe_stage_voice(const struct run *r, enum wb_stage s)
{
    if (s != WB_STAGE_AUDIO)
        return NULL;
    if (r->prov[s]->voice_key)
        return wb_config_get(r->cfg, r->prov[s]->voice_key);
    return r->lang;
}

/* ---- public API ---- */

const char *wb_provider_for(const struct wb_config *cfg, enum wb_stage stage)
{
    if ((int)stage < 0 || stage >= WB_STAGE_COUNT)
        return prov_default(cfg);
    return prov_configured(cfg, stage);
}

int wb_provider_known(const char *name)
{
    return prov_find(name) != NULL;
}

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
    wb_run_opts_init(&r->opts);
    if (opts &&
        (rc = core_sized_load(&r->opts, sizeof r->opts, opts,
                              CORE_SIZED_MIN(struct wb_run_opts, skip), "wb_run_opts", err)) != 0) {
        free(r);
        return rc;
    }
    r->stats.size = sizeof r->stats;
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
    r->batch_barrier = (int)wb_config_int(cfg, "pipeline.batch_barrier");
    r->lease_ttl_ms = wb_config_int(cfg, "pipeline.lease_ttl_ms");
    if (r->lease_ttl_ms < 300)
        r->lease_ttl_ms = 300;
    r->lease_poll_ms = wb_config_int(cfg, "pipeline.lease_poll_ms");
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
    r->jobs_max = r->opts.jobs > 0 ? r->opts.jobs : (int)wb_config_int(cfg, "jobs");
    if (r->jobs_max < 1)
        r->jobs_max = 1;
    /* Each entry in the window has at most a picture and a clip on their
     * way; memory is bounded by bytes (the engine's http.body_budget), not
     * by holding requests back. */
    r->media_max = (int)wb_config_get_int(cfg, "pipeline.media_in_flight", 4L * r->jobs_max);
    if (r->media_max < 1)
        r->media_max = 1;
    wb_audio_options_init(&r->audio_opts);
    af = wb_config_get(cfg, "audio_format");
    if (af && wb_audio_format_from_name(af) >= 0)
        r->audio_opts.format = (enum wb_audio_format)wb_audio_format_from_name(af);
    r->audio_opts.trim = wb_config_bool(cfg, "audio_trim");
    r->image_size = (int)wb_config_int(cfg, "image_size");
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
    if ((rc = engine_new(cfg, &r->eng, err)))
        goto out;
    engine_set_window(r->eng, r->jobs_max);
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
    engine_free(r->eng);
    for (size_t i = 0; i < r->n_jobs; i++)
        wb_entry_release(&r->jobs[i].e);
    free(r->jobs);
    free(r->deferred);
    free(r->parked);
    free(r->ready);
    pipe_shared_free_all(r);
    for (size_t i = 0; i < r->n_clear_after; i++)
        free(r->clear_after[i]);
    free(r->clear_after);
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
                core_str_set(&j->e.context, context);
            return 0;
        }
        sh->state = SH_DONE;
        sh->n = r->n_jobs;
    }
    if (CORE_ARRAY_RESERVE(r->jobs, r->n_jobs, r->cap_jobs, 1, 0) != 0)
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    j = &r->jobs[r->n_jobs];
    memset(j, 0, sizeof *j);
    j->run = r;
    j->index = r->n_jobs;
    wb_entry_init(&j->e);
    if (core_str_set(&j->e.word, word) || core_str_set(&j->e.translation, translation) ||
        core_str_set(&j->e.language, r->lang) ||
        core_str_set(&j->e.context, context && *context ? context : NULL)) {
        wb_entry_release(&j->e);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    r->n_jobs++;
    r->stats.entries++;
    return 0;
}

static void prepare_soon(void *ud, int status)
{
    if (!status)
        run_japanese_prepare(ud);
    run_encoders_check(ud, status != 0);
}

int wb_run_execute(struct wb_run *pub, struct wb_error *err)
{
    struct run *r = (struct run *)pub;
    int rc, any_offline = 0;
    r->started_ms = core_clock_mono_ms();
    r->commits_at_start = wb_store_commits(r->store);
    if (!r->opts.cache_only)
        run_sweep_orphans(r);
    if ((rc = run_plan(r, err)))
        return rc;
    for (size_t i = 0; i < r->n_jobs && !any_offline; i++) {
        for (int s = 0; s < WB_STAGE_COUNT; s++) {
            if (pipe_stage_wanted(&r->jobs[i], (enum wb_stage)s) && r->prov[s]->local)
                any_offline = 1;
        }
    }
    if (any_offline && (rc = offline_prepare(r, err)))
        return rc;
    if (r->opts.on_progress &&
        engine_timer_weak(r->eng, PIPE_PROGRESS_MS, pipe_progress_tick, r) == 0)
        r->progress_timer = 1;
    if (!r->opts.cache_only &&
        engine_timer_weak(r->eng, r->lease_ttl_ms / 3, pipe_lease_beat, r) == 0)
        r->beat_timer = 1;
    if (!r->opts.cache_only)
        pipe_rates_load(r);
    /* A finished stage is committed at once, to the log without a sync of
     * its own (a commit costs ~4 ms of the loop's time with one): it
     * survives Ctrl-C and kill -9; the run syncs at its end.
     * pipeline.sync_commits = 1 syncs every commit. */
    r->sync_each = wb_config_bool(r->cfg, "pipeline.sync_commits");
    if (!r->sync_each) {
        struct wb_error serr = { 0 };
        if (wb_store_set_sync(r->store, 0, &serr) != 0)
            wb_log(WB_LOG_WARN, "%s", wb_error_text(&serr));
    }
    r->turn_commits = 1;
    if (!r->opts.cache_only)
        run_encoders_begin(r);
    pipe_pump(r);
    /* The worker pool's threads start with its first item: after the first
     * requests are out (a 1 ms timer runs after libcurl's 0 ms one), not
     * before them (~2-5 ms of the loop thread, before any connect). */
    if (!r->opts.cache_only && engine_timer(r->eng, 1, prepare_soon, r) != 0)
        run_encoders_check(r, 0);
    rc = engine_run(r->eng);
    pipe_commit_flush(r); /* the last turn's stages (its timer has fired, unless aborted) */
    r->turn_commits = 0;
    if (!r->opts.cache_only) {
        /* Stages not made are free for the next run at once. After a fatal
         * error (a full disk) these fail the same way: said once already. */
        struct wb_error lerr = { 0 };
        enum wb_log_level lv = r->fatal ? WB_LOG_DEBUG : WB_LOG_WARN;
        if (wb_store_lease_release_all(r->store, &r->me, &lerr) != 0)
            wb_log(lv, "%s", wb_error_text(&lerr));
        if (!r->fatal)
            pipe_rates_save(r);
        if (!r->sync_each &&
            (wb_store_set_sync(r->store, 1, &lerr) != 0 || wb_store_sync(r->store, &lerr) != 0))
            wb_log(lv, "%s", wb_error_text(&lerr));
    }
    pipe_update_stats(r);
    wb_log(WB_LOG_DEBUG, "store: %llu write transactions for %zu entries",
           (unsigned long long)(wb_store_commits(r->store) - r->commits_at_start), r->n_jobs);
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
        engine_request_stop(r->eng);
}

void wb_run_opts_init(struct wb_run_opts *o)
{
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
}

void wb_run_get_stats(const struct wb_run *pub, struct wb_run_stats *out)
{
    struct wb_run_stats s = ((const struct run *)pub)->stats;
    if (!out->size || out->size > sizeof s)
        return;
    s.size = sizeof s;
    core_sized_store(out, &s, sizeof s);
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
