/* The embedding API (wordbank/bank.h): a word bank as one handle over the
 * store, the pipeline and the renderer. Thin on purpose: every call here is
 * a few calls of the lower-level public API (and core_sized_load for the
 * caller's option structs). An asynchronous add is the same work as
 * wb_bank_add on a thread of its own, reporting through a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/sized.h"
#include "core/util.h"
#include "wordbank/bank.h"
#include "wordbank/file.h"

struct wb_bank {
    struct wb_store *store;
    const struct wb_config *cfg;
    struct wb_config *own_cfg; /* the private configuration when none was given */
    char *media_dir;
    struct wb_bank_job *job; /* the add in progress, while there is one */
};

/* An asynchronous add: its own copies of the strings, the run (while it
 * exists: cancel interrupts it), and the result. */
struct wb_bank_job {
    struct wb_bank *bank;
    char *word, *translation, *context;
    struct wb_run_opts opts;
    wb_bank_done_fn on_done;
    void *ud;
    pthread_t thread;
    pthread_t self; /* the job's thread as it knows itself (set under lock) */
    int self_set;
    pthread_mutex_t lock; /* run, canceled, done */
    struct wb_run *run;
    int canceled;
    int done;
    int fds[2]; /* a byte is written to fds[1] when done */
    int rc;
    struct wb_error err;
};

static const char *bank_lang(const struct wb_bank *b)
{
    const char *l = wb_config_get(b->cfg, "lang");
    return l && *l ? l : "ja";
}

int wb_bank_open(const char *path, const struct wb_config *cfg, unsigned flags,
                 struct wb_bank **out, struct wb_error *err)
{
    struct wb_bank *b;
    const char *media;
    char dir[PATH_MAX];
    int rc;
    *out = NULL;
    b = calloc(1, sizeof *b);
    if (!b)
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    if (!cfg) {
        rc = wb_config_new(&b->own_cfg);
        if (rc) {
            free(b);
            return wb_error_set(err, rc, "out of memory");
        }
        cfg = b->own_cfg;
    }
    b->cfg = cfg;
    if (!path || !*path)
        path = wb_config_get(cfg, "db");
    if (!path || !*path)
        path = "wordbank.db";
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        rc = wb_error_set(err, WB_EINVAL, "%s: path too long", path);
        goto fail;
    }
    if ((flags & WB_STORE_CREATE) && strcmp(path, ":memory:")) {
        struct stat sb;
        const char *d = dirname(dir);
        if (stat(d, &sb) != 0 && (rc = wb_mkdirs(d, err)) != 0)
            goto fail;
    }
    media = wb_config_get(cfg, "media");
    if (media && *media) {
        b->media_dir = strdup(media);
    } else {
        struct wb_buf m;
        wb_buf_init(&m, 0);
        snprintf(dir, sizeof dir, "%s", path);
        if (wb_buf_appendf(&m, "%s/media", dirname(dir)) == 0)
            b->media_dir = wb_buf_detach(&m, NULL);
        wb_buf_release(&m);
    }
    if (!b->media_dir) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto fail;
    }
    rc = wb_store_open(path, flags, &b->store, err);
    if (rc)
        goto fail;
    *out = b;
    return 0;
fail:
    wb_bank_close(b);
    return rc;
}

void wb_bank_close(struct wb_bank *b)
{
    if (!b)
        return;
    if (b->job) { /* a job never waited for: stop it before its store goes */
        wb_bank_job_cancel(b->job);
        wb_bank_job_wait(b->job, NULL, NULL);
    }
    wb_store_close(b->store);
    wb_config_free(b->own_cfg);
    free(b->media_dir);
    free(b);
}

struct wb_store *wb_bank_store(struct wb_bank *b)
{
    return b->store;
}

const struct wb_config *wb_bank_config(const struct wb_bank *b)
{
    return b->cfg;
}

const char *wb_bank_media_dir(const struct wb_bank *b)
{
    return b->media_dir;
}

/* The run of an add, on whichever thread: new, add, execute (unless
 * canceled first), the first failure as the message. */
static int bank_generate(struct wb_bank_job *j)
{
    struct wb_bank *b = j->bank;
    struct wb_run *run = NULL;
    int rc;
    rc = wb_run_new(b->cfg, b->store, b->media_dir, &j->opts, &run, &j->err);
    if (!rc)
        rc = wb_run_add(run, j->word, j->translation, j->context, &j->err);
    if (!rc) {
        pthread_mutex_lock(&j->lock);
        j->run = run;
        rc = j->canceled ? wb_error_set(&j->err, WB_ECANCELED, "canceled") : 0;
        pthread_mutex_unlock(&j->lock);
    }
    if (!rc)
        rc = wb_run_execute(run, &j->err);
    if (rc == WB_EINCOMPLETE && wb_run_failure_count(run) > 0) {
        const struct wb_run_failure *f = wb_run_failure_at(run, 0);
        wb_error_set(&j->err, rc, "%s: %s", wb_stage_name(f->stage), f->message ? f->message : "");
    }
    pthread_mutex_lock(&j->lock);
    j->run = NULL;
    pthread_mutex_unlock(&j->lock);
    wb_run_free(run);
    return rc;
}

static void job_free(struct wb_bank_job *j)
{
    if (!j)
        return;
    if (j->fds[0] >= 0)
        close(j->fds[0]);
    if (j->fds[1] >= 0)
        close(j->fds[1]);
    pthread_mutex_destroy(&j->lock);
    free(j->word);
    free(j->translation);
    free(j->context);
    free(j);
}

static int job_new(struct wb_bank *b, const char *word, const char *translation,
                   const char *context, const struct wb_run_opts *opts, struct wb_bank_job **out,
                   struct wb_error *err)
{
    struct wb_bank_job *j;
    int rc;
    *out = NULL;
    if ((rc = wb_entry_check(word, translation, context, bank_lang(b), err)))
        return rc;
    if (b->job)
        return wb_error_set(err, WB_ELOCKED, "the word bank has an add in progress");
    if (!(j = calloc(1, sizeof *j)))
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    j->fds[0] = j->fds[1] = -1;
    pthread_mutex_init(&j->lock, NULL);
    j->bank = b;
    wb_run_opts_init(&j->opts);
    if (opts &&
        (rc = core_sized_load(&j->opts, sizeof j->opts, opts,
                              CORE_SIZED_MIN(struct wb_run_opts, skip), "wb_run_opts", err)) != 0) {
        job_free(j);
        return rc;
    }
    j->word = strdup(word);
    j->translation = strdup(translation);
    j->context = context ? strdup(context) : NULL;
    if (!j->word || !j->translation || (context && !j->context)) {
        job_free(j);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    *out = j;
    return 0;
}

/* The entry as stored, whatever happened: which stages failed and why. */
static int job_result(struct wb_bank_job *j, struct wb_entry *out, struct wb_error *err)
{
    struct wb_bank *b = j->bank;
    struct wb_error gerr = { 0 };
    int rc = j->rc;
    if (rc)
        wb_error_set(err, rc, "%s", wb_error_text(&j->err));
    if (out && (rc == 0 || rc == WB_EINCOMPLETE) &&
        wb_store_get(b->store, j->word, j->translation, bank_lang(b), out, &gerr) && !rc)
        rc = wb_error_set(err, gerr.code, "%s", wb_error_text(&gerr));
    return rc;
}

int wb_bank_add(struct wb_bank *b, const char *word, const char *translation, const char *context,
                const struct wb_run_opts *opts, struct wb_entry *out, struct wb_error *err)
{
    struct wb_bank_job *j;
    int rc = job_new(b, word, translation, context, opts, &j, err);
    if (rc)
        return rc;
    j->rc = bank_generate(j);
    rc = job_result(j, out, err);
    job_free(j);
    return rc;
}

static void *job_main(void *arg)
{
    struct wb_bank_job *j = arg;
    int rc;
    pthread_mutex_lock(&j->lock);
    j->self = pthread_self();
    j->self_set = 1;
    pthread_mutex_unlock(&j->lock);
    rc = bank_generate(j);
    ssize_t w;
    pthread_mutex_lock(&j->lock);
    j->rc = rc;
    j->done = 1;
    pthread_mutex_unlock(&j->lock);
    do
        w = write(j->fds[1], "", 1);
    while (w < 0 && errno == EINTR);
    if (j->on_done)
        j->on_done(j->ud, j, rc);
    return NULL;
}

int wb_bank_add_start(struct wb_bank *b, const char *word, const char *translation,
                      const char *context, const struct wb_run_opts *opts, wb_bank_done_fn on_done,
                      void *ud, struct wb_bank_job **out, struct wb_error *err)
{
    struct wb_bank_job *j;
    int rc = job_new(b, word, translation, context, opts, &j, err);
    *out = NULL;
    if (rc)
        return rc;
    j->on_done = on_done;
    j->ud = ud;
    if (pipe(j->fds) != 0 || fcntl(j->fds[0], F_SETFD, FD_CLOEXEC) != 0 ||
        fcntl(j->fds[1], F_SETFD, FD_CLOEXEC) != 0 || fcntl(j->fds[0], F_SETFL, O_NONBLOCK) != 0) {
        rc = wb_error_set(err, WB_EIO, "a pipe for the job: %s", strerror(errno));
        job_free(j);
        return rc;
    }
    b->job = j;
    if ((rc = pthread_create(&j->thread, NULL, job_main, j)) != 0) {
        b->job = NULL;
        job_free(j);
        return wb_error_set(err, rc == EAGAIN ? WB_ENOMEM : WB_EIO, "a thread for the job: %s",
                            strerror(rc));
    }
    *out = j;
    return 0;
}

int wb_bank_job_fd(const struct wb_bank_job *j)
{
    return j->fds[0];
}

int wb_bank_job_done(const struct wb_bank_job *j)
{
    struct wb_bank_job *m = (struct wb_bank_job *)j;
    int done;
    pthread_mutex_lock(&m->lock);
    done = m->done;
    pthread_mutex_unlock(&m->lock);
    return done;
}

void wb_bank_job_cancel(struct wb_bank_job *j)
{
    pthread_mutex_lock(&j->lock);
    j->canceled = 1;
    if (j->run)
        wb_run_interrupt(j->run);
    pthread_mutex_unlock(&j->lock);
}

int wb_bank_job_wait(struct wb_bank_job *j, struct wb_entry *out, struct wb_error *err)
{
    int rc, own;
    pthread_mutex_lock(&j->lock);
    own = j->self_set && pthread_equal(pthread_self(), j->self);
    pthread_mutex_unlock(&j->lock);
    if (own)
        return wb_error_set(err, WB_EINVAL, "wb_bank_job_wait called from the job's own thread");
    pthread_join(j->thread, NULL);
    j->bank->job = NULL;
    rc = job_result(j, out, err);
    job_free(j);
    return rc;
}

int wb_bank_get(struct wb_bank *b, const char *word, const char *translation, struct wb_entry *out,
                struct wb_error *err)
{
    return wb_store_get(b->store, word, translation, bank_lang(b), out, err);
}

/* ---- Markdown ---- */

struct lookup {
    struct wb_bank *bank;
    const char *lang;
    struct wb_entry *v; /* every entry looked up, alive until the render ends */
    size_t n, cap;
    struct wb_error err; /* the first failure other than "not in the bank" */
};

static const struct wb_entry *lookup(void *ud, const char *word, const char *translation)
{
    struct lookup *l = ud;
    struct wb_error err = { 0 };
    int rc;
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i].word, word) && !strcmp(l->v[i].translation, translation))
            return &l->v[i];
    }
    if (CORE_ARRAY_RESERVE(l->v, l->n, l->cap, 1, 0) != 0) {
        if (!l->err.code)
            wb_error_set(&l->err, WB_ENOMEM, "out of memory");
        return NULL;
    }
    wb_entry_init(&l->v[l->n]);
    rc = wb_store_get(l->bank->store, word, translation, l->lang, &l->v[l->n], &err);
    if (rc) {
        wb_entry_release(&l->v[l->n]);
        if (rc != WB_ENOTFOUND && !l->err.code)
            l->err = err;
        return NULL;
    }
    return &l->v[l->n++];
}

int wb_bank_render_markdown(struct wb_bank *b, const char *name, const char *src, size_t len,
                            const struct wb_render_opts *opts,
                            void (*on_diag)(void *ud, const char *msg), void *ud,
                            struct wb_buf *out, struct wb_error *err)
{
    struct wb_render_opts o;
    struct wb_doc doc;
    struct lookup l = { .bank = b };
    int rc;
    if (!opts)
        wb_render_opts_init(&o);
    else if ((rc = core_sized_load(&o, sizeof o, opts, CORE_SIZED_MIN(struct wb_render_opts, mode),
                                   "render options", err)))
        return rc;
    if (!o.lang)
        o.lang = bank_lang(b);
    l.lang = o.lang;
    wb_doc_init(&doc);
    rc = wb_doc_parse(&doc, name ? name : "<input>", src, len, err);
    for (size_t i = 0; !rc && on_diag && i < doc.n_diags; i++)
        on_diag(ud, doc.diags[i]);
    if (!rc)
        rc = wb_doc_render(&doc, lookup, &l, &o, out, err);
    if (!rc && l.err.code) /* a card rendered without its entry: say so */
        rc = wb_error_set(err, l.err.code, "%s", wb_error_text(&l.err));
    for (size_t i = 0; i < l.n; i++)
        wb_entry_release(&l.v[i]);
    free(l.v);
    wb_doc_release(&doc);
    return rc;
}

/* ---- sites ---- */

int wb_bank_build_site(struct wb_bank *b, const char *lessons_dir,
                       const struct wb_site_opts *site_opts, const struct wb_run_opts *run_opts,
                       struct wb_error *err)
{
    struct wb_site_opts o;
    struct wb_site *site = NULL;
    struct wb_run *run = NULL;
    struct wb_run_opts ro;
    size_t n = 0;
    int rc, failed = 0;
    if (!site_opts)
        return wb_error_set(err, WB_EINVAL, "site options: none given");
    if ((rc = core_sized_load(&o, sizeof o, site_opts, CORE_SIZED_MIN(struct wb_site_opts, kind),
                              "site options", err)))
        return rc;
    o.kind = WB_SITE_BUILD;
    if (!o.cfg)
        o.cfg = b->cfg;
    if (!o.media_dir)
        o.media_dir = b->media_dir;
    if (b->job)
        return wb_error_set(err, WB_ELOCKED, "the word bank has an add in progress");
    if ((rc = wb_site_new(&o, &site, err)) || (rc = wb_site_add_dir(site, lessons_dir, err)))
        goto out;
    if (!o.cache_only) {
        wb_run_opts_init(&ro);
        if ((run_opts && (rc = core_sized_load(&ro, sizeof ro, run_opts,
                                               CORE_SIZED_MIN(struct wb_run_opts, skip),
                                               "wb_run_opts", err))) ||
            (rc = wb_run_new(o.cfg, b->store, o.media_dir, &ro, &run, err)) ||
            (rc = wb_site_queue(site, run, &n, err)))
            goto out;
        if (n && (rc = wb_run_execute(run, err))) {
            if (rc != WB_EINCOMPLETE)
                goto out;
            failed = 1;
        }
    }
    rc = wb_site_write(site, b->store, err);
    if (!rc && failed)
        rc = wb_error_set(err, WB_EINCOMPLETE, "the site was written; some entries failed");
out:
    wb_run_free(run);
    wb_site_free(site);
    return rc;
}
