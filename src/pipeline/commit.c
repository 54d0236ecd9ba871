/* Commits: every finished stage goes to the store (its data, file,
 * provider, model, voice and tokens, or its failure) in the transaction of
 * its loop turn: the first stage a turn finishes opens it, a zero-delay timer
 * (which fires once the turn's callbacks have run) commits it. Each stage is
 * a savepoint inside it. Failures are kept for the run's report; a
 * configuration-level failure or a store that refuses stops the run. Loop
 * thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

void pipe_add_failure(struct run *r, const struct job *j, enum wb_stage s, int code,
                      const char *msg)
{
    struct failure *f;
    if (CORE_ARRAY_RESERVE(r->failures, r->n_failures, r->cap_failures, 1, 0) != 0)
        return;
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

void run_fatal_grace(struct run *r, int code, const char *msg, int64_t grace_ms)
{
    if (r->fatal)
        return;
    r->fatal = 1;
    wb_error_set(&r->fatal_err, code, "%s", msg);
    /* The rest would fail the same way: start nothing more. */
    if (r->eng)
        engine_stop(r->eng, grace_ms);
}

void run_fatal(struct run *r, int code, const char *msg)
{
    run_fatal_grace(r, code, msg, 0);
}

int pipe_is_fatal_code(int code)
{
    return code == WB_EAUTH || code == WB_EMODEL || code == WB_ECONFIG || code == WB_ENOSPC;
}

static void free_clear_after(struct run *r)
{
    for (size_t i = 0; i < r->n_clear_after; i++)
        free(r->clear_after[i]);
    r->n_clear_after = 0;
}

void pipe_commit_flush(struct run *r)
{
    struct wb_error err = { 0 };
    if (!r->turn_batch)
        return;
    r->turn_batch = 0;
    if (wb_store_commit(r->store, &err) != 0) {
        /* The turn's stages are lost: their markers stay, so the next run
         * settles their files and makes them again. */
        free_clear_after(r);
        run_fatal(r, err.code ? err.code : WB_EIO, wb_error_text(&err));
        return;
    }
    for (size_t i = 0; i < r->n_clear_after; i++)
        pending_clear(r, r->clear_after[i]);
    free_clear_after(r);
}

static void turn_end(void *ud, int status)
{
    (void)status; /* canceled (the engine aborts): what finished is still kept */
    pipe_commit_flush(ud);
}

/* Open the turn's transaction unless one is open. Without one (batch mode,
 * inside someone else's batch, no timer to end it, the lock not had) each
 * stage commits on its own, as before. The engine runs the scheduler pass a
 * turn asked for before any user timer fires (docs/engine.md, "Threading"):
 * the requests this turn submits (a picture after its details, the next
 * entry's details) are written before turn_end commits and unlinks. */
static void turn_begin(struct run *r)
{
    struct wb_error err = { 0 };
    if (!r->turn_commits || r->turn_batch || !r->eng || wb_store_in_batch(r->store))
        return;
    if (engine_timer(r->eng, 0, turn_end, r) != 0)
        return;
    if (wb_store_begin(r->store, &err) != 0) {
        wb_log(WB_LOG_DEBUG, "%s", wb_error_text(&err)); /* each stage commits alone */
        return;
    }
    r->turn_batch = 1;
}

void pipe_clear_when_committed(struct run *r, const char *name)
{
    char *copy;
    if (!r->turn_batch) {
        pending_clear(r, name);
        return;
    }
    /* Out of memory: the marker stays; the next run finds its file
     * referenced and removes only the marker. */
    if (CORE_ARRAY_RESERVE(r->clear_after, r->n_clear_after, r->cap_clear_after, 1, 0) != 0 ||
        !(copy = strdup(name)))
        return;
    r->clear_after[r->n_clear_after++] = copy;
}

int run_commit_stage(struct run *r, struct job *j, enum wb_stage s, int status, const char *msg,
                     const char *file, const char *model, const char *voice,
                     const struct prov_usage *u)
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
    info.updated_at = core_clock_wall_s();
    if ((rc = wb_stage_info_copy(&j->e.stages[s], &info))) {
        run_fatal(r, rc, "out of memory"); /* never a stage made and not kept */
        return rc;
    }
    turn_begin(r);
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
