/* The pipeline's state machine, in the engine's manner: an entry moves
 *   PLANNED -> CLAIMED -> ACTIVE (-> DRAINING) -> FINISHED
 *                        (or PARKED -> READY -> ACTIVE, or IDLE: nothing to do)
 * and each of its stages
 *   SKIP | WAITING -> (DEFERRED ->) RUNNING -> DONE | FAILED | NOT_MADE
 *                  -> NOT_MADE | ELSEWHERE
 * (DETAILS first; IMAGE and AUDIO once DETAILS is done, AUDIO with DETAILS
 * when it only speaks the word). An entry holds its slot in the window while
 * it waits for an answer; once every answer is in and only encoding, writing
 * and committing are left (DRAINING), the slot goes to the next entry, so the
 * CPU work overlaps the next entry's requests instead of delaying them
 * (pipeline.media_in_flight still bounds the pictures and clips between
 * request and file). One function per state: pipe_entry_start
 * (CLAIMED, READY), pipe_stage_start (WAITING, DEFERRED), pipe_stage_settle
 * (the end of RUNNING), stage_ended (every end state); the window's states
 * (PLANNED, PARKED) are window.c's. pipe_entry_set and pipe_stage_set are the
 * only places a state changes: they keep the run's counters and log each
 * change at WB_LOG_DEBUG. Everything here runs on the engine's loop thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

static const char *const entry_names[PE_COUNT] = { "PLANNED", "CLAIMED",  "PARKED",   "READY",
                                                   "ACTIVE",  "DRAINING", "FINISHED", "IDLE" };
static const char *const stage_names[PS_COUNT] = { "SKIP", "WAITING", "DEFERRED", "RUNNING",
                                                   "DONE", "FAILED",  "NOT_MADE", "ELSEWHERE" };

static int stage_ended(enum pipe_stage_state st)
{
    return st == PS_SKIP || st == PS_DONE || st == PS_FAILED || st == PS_NOT_MADE ||
           st == PS_ELSEWHERE;
}

/* ---- the one place a state changes ---- */

void pipe_entry_set(struct run *r, struct job *j, enum pipe_entry_state to)
{
    enum pipe_entry_state from = j->state;
    wb_log(WB_LOG_DEBUG, "pipeline: entry %zu (%s / %s) %s -> %s", j->index, j->e.word,
           j->e.translation, entry_names[from], entry_names[to]);
    /* Leave the old state's counters ... */
    if (from == PE_CLAIMED)
        r->starting--;
    if (from == PE_ACTIVE)
        r->active--;
    if (from == PE_DRAINING)
        r->draining--;
    /* ... and enter the new one's. */
    switch (to) {
    case PE_CLAIMED:
        r->starting++;
        break;
    case PE_ACTIVE:
        r->active++;
        break;
    case PE_DRAINING:
        r->draining++;
        break;
    case PE_FINISHED: {
        int failed = 0, unmade = 0;
        for (int s = 0; s < WB_STAGE_COUNT; s++) {
            failed |= j->st[s] == PS_FAILED;
            unmade |= j->st[s] == PS_NOT_MADE;
        }
        if (failed)
            r->stats.entries_failed++;
        else if (!unmade)
            r->stats.entries_done++;
        break;
    }
    case PE_IDLE:
        r->stats.entries_done++; /* everything is there */
        break;
    default:
        break;
    }
    j->state = to;
}

int pipe_work_left(const struct run *r)
{
    return r->active > 0 || r->draining > 0 || r->next < r->n_jobs || r->n_parked > 0 ||
           r->ready_head < r->ready_len;
}

void pipe_stage_set(struct run *r, struct job *j, enum wb_stage s, enum pipe_stage_state to)
{
    enum pipe_stage_state from = j->st[s];
    struct wb_stage_counts *c = &r->stats.stage[s];
    wb_log(WB_LOG_DEBUG, "pipeline: entry %zu (%s / %s) %s %s -> %s", j->index, j->e.word,
           j->e.translation, wb_stage_name(s), stage_names[from], stage_names[to]);
    /* Leave the old state's counters ... */
    if (from == PS_WAITING || from == PS_DEFERRED)
        c->queued--;
    else if (from == PS_RUNNING)
        c->in_flight--;
    /* ... and enter the new one's (a deferred stage still counts as queued). */
    switch (to) {
    case PS_WAITING:
    case PS_DEFERRED:
        c->queued++;
        break;
    case PS_RUNNING:
        c->in_flight++;
        break;
    case PS_DONE:
        c->done++;
        break;
    case PS_FAILED:
        c->failed++;
        break;
    case PS_NOT_MADE:
        c->skipped++;
        break;
    case PS_ELSEWHERE:
        c->cached++;
        break;
    default:
        break;
    }
    j->st[s] = to;
}

void pipe_job_replan(struct job *j)
{
    /* Not a transition: a plan starts the machine afresh (wb_run_batch's
     * plan, then the interactive run's), and counts anew. */
    j->state = PE_PLANNED;
    for (int s = 0; s < WB_STAGE_COUNT; s++)
        j->st[s] = PS_SKIP;
    j->redo = 0;
}

int pipe_stage_wanted(const struct job *j, enum wb_stage s)
{
    return j->st[s] != PS_SKIP && j->st[s] != PS_ELSEWHERE;
}

unsigned pipe_job_want(const struct job *j)
{
    unsigned m = 0;
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        if (pipe_stage_wanted(j, (enum wb_stage)s))
            m |= WB_STAGE_BIT(s);
    }
    return m;
}

/* ---- ACTIVE -> DRAINING: every answer is in ---- */

/* j leaves the window when nothing of it waits for the network any more:
 * each stage ended, or running with its answer in (pipe_stage_answered). */
static void entry_maybe_drain(struct run *r, struct job *j)
{
    if (j->state != PE_ACTIVE || !j->answered)
        return;
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        if (!stage_ended(j->st[s]) && !(j->st[s] == PS_RUNNING && (j->answered & WB_STAGE_BIT(s))))
            return;
    }
    pipe_entry_set(r, j, PE_DRAINING);
    pipe_pump(r);
}

void pipe_stage_answered(struct run *r, struct job *j, enum wb_stage s)
{
    if (j->st[s] != PS_RUNNING)
        return;
    j->answered |= WB_STAGE_BIT(s);
    entry_maybe_drain(r, j);
}

/* The answer turned out bad and is asked for again: j waits for the
 * network once more and takes its slot back (the window may be one over
 * until the next entry finishes; none starts meanwhile). */
void pipe_stage_unanswered(struct run *r, struct job *j, enum wb_stage s)
{
    if (!(j->answered & WB_STAGE_BIT(s)))
        return;
    j->answered &= ~WB_STAGE_BIT(s);
    if (j->state == PE_DRAINING)
        pipe_entry_set(r, j, PE_ACTIVE);
}

/* ---- the end states ---- */

/* Stage s of j ended (to: DONE, FAILED or NOT_MADE): move the entry on. An
 * entry is done when every stage it wanted is; failed when one failed;
 * neither when a stage was not made (the run stopped, a daily quota, no
 * picture description): the next run does it. */
static void stage_ended_to(struct run *r, struct job *j, enum wb_stage s, enum pipe_stage_state to)
{
    int finished = 1;
    pipe_stage_set(r, j, s, to);
    j->answered &= ~WB_STAGE_BIT(s);
    if (s == WB_STAGE_DETAILS) {
        for (int o = WB_STAGE_IMAGE; o <= WB_STAGE_AUDIO; o++) {
            if (j->st[o] != PS_WAITING)
                continue;
            if (to == PS_DONE || (o == WB_STAGE_AUDIO && !strcmp(r->speech_mode, "word")))
                pipe_stage_start(r, j, (enum wb_stage)o);
            else /* without details there is nothing to draw or read: the next run */
                pipe_stage_set(r, j, (enum wb_stage)o, PS_NOT_MADE);
        }
    }
    for (int o = 0; o < WB_STAGE_COUNT; o++)
        finished &= stage_ended(j->st[o]);
    if (finished && (j->state == PE_ACTIVE || j->state == PE_DRAINING)) {
        pipe_entry_set(r, j, PE_FINISHED);
        pipe_pump(r);
    } else {
        entry_maybe_drain(r, j);
    }
}

/* ---- PS_WAITING, PS_DEFERRED: start ---- */

void pipe_stage_start(struct run *r, struct job *j, enum wb_stage s)
{
    struct stage_task *t;
    char *key = NULL;
    int rc;

    /* Requests for pictures and speech run ahead of the encoders when the
     * CPU is the bottleneck; their bytes would pile up in memory. Wait; and
     * until the encoders are known to load (encoders.c). */
    if (s != WB_STAGE_DETAILS && j->st[s] == PS_WAITING && !pipe_media_room(r) && !r->fatal &&
        !r->stopping && pipe_defer_push(r, j, s) == 0) {
        pipe_stage_set(r, j, s, PS_DEFERRED);
        return;
    }
    if ((r->exhausted & WB_STAGE_BIT(s)) || r->fatal || r->stopping) {
        stage_ended_to(r, j, s, PS_NOT_MADE);
        return;
    }
    pipe_stage_set(r, j, s, PS_RUNNING);
    if (pipe_merge_join(r, j, s, &key))
        return;
    t = task_new(j, s, r->prov[s]);
    if (!t) {
        free(key);
        stage_ended_to(r, j, s, PS_FAILED);
        return;
    }
    t->share_key = key;
    if (s != WB_STAGE_DETAILS) {
        t->counts_media = 1;
        r->media_active++;
    }
    t->model = core_strdup0(pipe_stage_model(r, s));
    t->voice = core_strdup0(pipe_stage_voice(r, s));
    rc = r->prov[s]->local ? offline_start(t) : stage_request_start(t);
    if (rc) {
        if (!t->status)
            task_fail(t, rc, "%s", wb_strerror(rc));
        run_stage_finished(t);
    }
}

/* ---- the end of PS_RUNNING: settle a result ---- */

/* Take what the provider wrote; the key and context stay ours. WB_ENOMEM
 * when any of it could not be copied. */
static int take_details(struct run *r, struct job *j, const struct stage_task *t)
{
    int rc = core_str_set(&j->e.reading, t->details.reading) ||
             core_str_set(&j->e.description, t->details.description) ||
             core_str_set(&j->e.image_description, t->details.image_description);
    wb_entry_clear_examples(&j->e);
    for (size_t i = 0; !rc && i < t->details.n_examples; i++)
        rc = wb_entry_add_example(&j->e, t->details.examples[i].text,
                                  t->details.examples[i].translation);
    if (rc)
        return WB_ENOMEM;
    run_japanese_details(r, &j->e);
    return 0;
}

void pipe_stage_settle(struct run *r, struct job *j, struct stage_task *t)
{
    enum wb_stage s = t->stage;
    enum pipe_stage_state to = t->status == 0 ? PS_DONE : PS_FAILED;

    if (to == PS_DONE && s == WB_STAGE_DETAILS && take_details(r, j, t) != 0) {
        /* Never details done with half of the answer. */
        task_fail(t, WB_ENOMEM, "out of memory");
        to = PS_FAILED;
    }
    if (to == PS_DONE) {
        /* The store refused (a full disk): the run stops; this stage was
         * not made, and the next run makes it. */
        if (run_commit_stage(r, j, s, 0, NULL, t->file, t->model, t->voice,
                             j == t->job ? &t->usage : NULL) != 0)
            to = PS_NOT_MADE;
    } else if (t->status == WB_ECANCELED || pipe_is_fatal_code(t->status) ||
               t->status == WB_EQUOTA) {
        /* Not this entry's fault: leave the stage as it was for the next run. */
        to = PS_NOT_MADE;
        if (t->status == WB_EQUOTA && !(r->exhausted & WB_STAGE_BIT(s))) {
            r->exhausted |= WB_STAGE_BIT(s);
            snprintf(r->exhausted_msg[s], sizeof r->exhausted_msg[s], "%s", t->message);
            wb_log(WB_LOG_WARN, "%s stage stopped for this run: daily quota of %s exhausted: %s",
                   wb_stage_name(s), t->model ? t->model : "the model", t->message);
        }
        if (pipe_is_fatal_code(t->status))
            run_fatal(r, t->status, t->message);
    } else {
        run_commit_stage(r, j, s, t->status, t->message, NULL, t->model, t->voice, NULL);
        pipe_add_failure(r, j, s, t->status, t->message);
    }
    if (j == t->job)
        pipe_add_cost(r, s, t);
    stage_ended_to(r, j, s, to);
}

/* ---- PE_CLAIMED, PE_READY: start the entry ---- */

void pipe_entry_start(struct run *r, struct job *j)
{
    int details = pipe_stage_wanted(j, WB_STAGE_DETAILS);
    if (!pipe_job_want(j))
        return;
    pipe_entry_set(r, j, PE_ACTIVE);
    if (j->st[WB_STAGE_DETAILS] == PS_WAITING)
        pipe_stage_start(r, j, WB_STAGE_DETAILS);
    if (j->st[WB_STAGE_IMAGE] == PS_WAITING && !details) {
        if (j->e.image_description && *j->e.image_description)
            pipe_stage_start(r, j, WB_STAGE_IMAGE);
        else /* details were done elsewhere without a picture description */
            stage_ended_to(r, j, WB_STAGE_IMAGE, PS_NOT_MADE);
    }
}

/* The entry's speech, when it waits for nothing: word mode (the word is
 * spoken, not the sentences the details bring) or details not wanted. Apart
 * from pipe_entry_start because it goes last (pipe_pump): an entry's path is
 * details then picture, its speech runs beside them with time to spare, so
 * when many entries start at once (the first fill: 50 details and 50 speech
 * requests at -j 50) every details request goes to the engine, and out,
 * before any speech request. */
void pipe_entry_start_audio(struct run *r, struct job *j)
{
    if (j->state != PE_ACTIVE || j->st[WB_STAGE_AUDIO] != PS_WAITING)
        return;
    if (strcmp(r->speech_mode, "word") != 0 && pipe_stage_wanted(j, WB_STAGE_DETAILS))
        return; /* the sentences to speak come with the details */
    pipe_stage_start(r, j, WB_STAGE_AUDIO);
}
