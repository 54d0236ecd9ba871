/* The sliding window: a new entry starts the moment a slot frees (PE_PLANNED
 * -> PE_CLAIMED -> PE_ACTIVE). Before it starts, an entry's stages are
 * claimed in the store (a lease each), so runs sharing a word bank never
 * both ask for one stage: entries whose stages another run holds wait aside
 * (PE_PARKED, polled) without taking a slot, then start when free
 * (PE_READY). Our leases are kept alive by a heartbeat. Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

/* Stages another run made since the plan: take them from the store. */
static void take_done_elsewhere(struct run *r, struct job *j, unsigned done)
{
    struct wb_entry stored;
    struct wb_error err = { 0 };
    wb_entry_init(&stored);
    if (wb_store_get(r->store, j->e.word, j->e.translation, j->e.language, &stored, &err) == 0) {
        if ((!stored.context || !*stored.context) && j->e.context)
            core_str_set(&stored.context, j->e.context);
        wb_entry_release(&j->e);
        j->e = stored;
    } else {
        wb_entry_release(&stored);
    }
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        if ((done & WB_STAGE_BIT(s)) && j->st[s] == PS_WAITING)
            pipe_stage_set(r, j, (enum wb_stage)s, PS_ELSEWHERE);
    }
}

/* PE_PLANNED, PE_PARKED: claim j's stages in the store (a lease each).
 * Returns 1 when the entry may start (what is left of its stages is ours), 0
 * when another run holds some of them, -1 when nothing is left. */
static int job_claim(struct run *r, struct job *j)
{
    unsigned claimed = 0, done = 0, want = pipe_job_want(j);
    struct wb_error err = { 0 };
    int rc;
    if (!want || j->state == PE_IDLE)
        return -1;
    rc = wb_store_claim(r->store, j->e.word, j->e.translation, j->e.language, want, j->redo, &r->me,
                        r->lease_ttl_ms, &claimed, &done, &err);
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
    if (!(want = pipe_job_want(j))) {
        pipe_entry_set(r, j, PE_IDLE);
        return -1;
    }
    return (claimed & want) == want ? 1 : 0;
}

static void park(struct run *r, struct job *j)
{
    if (CORE_ARRAY_RESERVE(r->parked, r->n_parked, r->cap_parked, 1, 0) != 0) {
        run_fatal(r, WB_ENOMEM, "out of memory");
        return;
    }
    r->parked[r->n_parked++] = j->index;
    pipe_entry_set(r, j, PE_PARKED);
}

static int ready_push(struct run *r, struct job *j)
{
    if (PIPE_FIFO_RESERVE(r->ready, r->ready_head, r->ready_len, r->ready_cap) != 0)
        return WB_ENOMEM;
    r->ready[r->ready_len++] = j->index;
    pipe_entry_set(r, j, PE_READY);
    return 0;
}

static void lease_poll(void *ud, int status);

static void arm_poll(struct run *r)
{
    if (r->n_parked && !r->poll_timer && !r->fatal && !r->stopping &&
        engine_timer(r->eng, r->lease_poll_ms, lease_poll, r) == 0)
        r->poll_timer = 1;
}

/* Fill the window's free slots: ready entries first, then new ones. */
void pipe_pump(struct run *r)
{
    struct wb_error err = { 0 };
    size_t first = r->next;
    int limit, batch = 0;
    /* The original's way, kept for benchmarks: batches that wait for their
     * slowest member before the next batch starts. */
    if (r->batch_barrier && r->active + r->draining > 0)
        return;
    limit = r->batch_barrier ? r->batch_barrier : r->jobs_max;
    /* Entries the poll found free (their claims are taken) go first. */
    while (r->active < limit && r->ready_head < r->ready_len && !r->fatal && !r->stopping) {
        if (engine_stopping(r->eng)) {
            r->stopping = 1;
            break;
        }
        struct job *j = &r->jobs[r->ready[r->ready_head++]];
        pipe_entry_start(r, j);
        pipe_entry_start_audio(r, j);
    }
    /* Claim the next entries; many at once (the first fill) in one
     * transaction, committed before any of them starts: a stage commit
     * never rides on the claims' transaction. Claims made while the loop
     * turn's stage transaction is open (commit.c) join it instead: it holds
     * the write lock until the turn ends, so no other run claims between. */
    if (r->active + r->starting + 1 < limit && r->next + 1 < r->n_jobs &&
        !wb_store_in_batch(r->store) && wb_store_begin_light(r->store, &err) == 0)
        batch = 1;
    while (r->active + r->starting < limit && r->next < r->n_jobs && !r->fatal && !r->stopping) {
        struct job *j = &r->jobs[r->next++];
        if (engine_stopping(r->eng)) {
            r->stopping = 1;
            r->next--;
            break;
        }
        switch (job_claim(r, j)) {
        case 1:
            pipe_entry_set(r, j, PE_CLAIMED);
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
        if (j->state == PE_CLAIMED)
            pipe_entry_start(r, j);
    }
    /* Their speech after all of their details (pipe_entry_start_audio). */
    for (size_t i = first; i < r->next && !r->fatal; i++)
        pipe_entry_start_audio(r, &r->jobs[i]);
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
        if (rc == 1 && ready_push(r, j) != 0)
            run_fatal(r, WB_ENOMEM, "out of memory");
    }
    r->n_parked = keep;
    if (batch && wb_store_commit(r->store, &err) != 0)
        wb_log(WB_LOG_WARN, "%s", wb_error_text(&err));
    pipe_pump(r);
    arm_poll(r);
}

/* Our leases stay ours while we live. */
void pipe_lease_beat(void *ud, int status)
{
    struct run *r = ud;
    struct wb_error err = { 0 };
    r->beat_timer = 0;
    if (status || r->fatal || r->stopping)
        return;
    if (wb_store_lease_heartbeat(r->store, &r->me, &err) != 0)
        wb_log(WB_LOG_WARN, "%s", wb_error_text(&err));
    if (pipe_work_left(r) &&
        engine_timer_weak(r->eng, r->lease_ttl_ms / 3, pipe_lease_beat, r) == 0)
        r->beat_timer = 1;
}
