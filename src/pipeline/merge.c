/* Request merging: identical stages of several entries (the same picture
 * description, the same words to speak, with the same provider, model and
 * voice) share one request. The first entry leads; the others wait on the
 * shared record and get the leader's result; later entries reuse a success
 * directly. The same string-keyed table also indexes the run's entries by key
 * (wb_run_add) and the media files a run knows (pending.c). Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"

/* ---- the run's string-keyed table ---- */

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

void pipe_shared_free_all(struct run *r)
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

/* ---- merging ---- */

/* The merge key of a stage's request, or NULL when it cannot be shared. */
static char *share_key(struct run *r, struct job *j, enum wb_stage s)
{
    struct wb_buf k;
    char *text = NULL;
    const char *voice = pipe_stage_voice(r, s);
    if (s == WB_STAGE_DETAILS)
        return NULL; /* entries are merged by key already */
    wb_buf_init(&k, 0);
    if (s == WB_STAGE_AUDIO)
        text = prompt_speech_text(&j->e, r->speech_mode);
    else
        text = j->e.image_description ? strdup(j->e.image_description) : NULL;
    if (!text)
        return NULL;
    wb_buf_appendf(&k, "%d|%d|%s|%s|%s|%s", (int)s, (int)r->prov[s]->id, pipe_stage_model(r, s),
                   voice ? voice : "", r->lang, text);
    free(text);
    return wb_buf_detach(&k, NULL);
}

int pipe_merge_join(struct run *r, struct job *j, enum wb_stage s, char **key_out)
{
    char *key = share_key(r, j, s);
    struct shared *sh = key ? shared_find(r, key, 1) : NULL;
    struct stage_task *t;
    *key_out = NULL;
    if (sh && sh->state == SH_DONE) {
        /* Already made in this run: the same file, no request. */
        if ((t = task_new(j, s, r->prov[s])) != NULL) {
            r->stats.merged++;
            t->file = strdup(sh->file);
            t->model = core_strdup0(pipe_stage_model(r, s));
            t->voice = core_strdup0(pipe_stage_voice(r, s));
            free(key);
            run_stage_finished(t);
            return 1;
        }
    } else if (sh && sh->state == SH_RUNNING) {
        /* In flight for another entry: wait for its result. */
        if (CORE_ARRAY_RESERVE(sh->waiters, sh->n, sh->cap, 1, 0) == 0) {
            sh->waiters[sh->n++] = j;
            r->stats.merged++;
            free(key);
            return 1;
        }
    } else if (sh) {
        sh->state = SH_RUNNING; /* this entry leads */
    }
    *key_out = key;
    return 0;
}

void run_stage_finished(struct stage_task *t)
{
    struct job *j = t->job;
    struct run *r = j->run;
    struct shared *sh;
    struct job **waiters = NULL;
    size_t n = 0;
    if (run_japanese_park(r, t))
        return;
    sh = t->share_key ? shared_find(r, t->share_key, 0) : NULL;
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
    pipe_stage_settle(r, j, t);
    for (size_t i = 0; i < n; i++)
        pipe_stage_settle(r, waiters[i], t);
    free(waiters);
    /* Committed (or failed): the file is no longer pending once the turn's
     * transaction is. A failed commit (a full disk) keeps the marker, so the
     * next run settles it. */
    if (t->marked && t->file && !r->fatal)
        pipe_clear_when_committed(r, t->file);
    task_free(t);
    pipe_resume_deferred(r);
}
