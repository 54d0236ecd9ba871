/* Internals of the generation pipeline: the run, its entries ("jobs") and the
 * stage drivers (one set per provider). Everything here lives on the engine's
 * loop thread, except the work functions handed to the worker pool, which
 * touch only their own work item.
 */
#ifndef WB_PIPELINE_INTERNAL_H
#define WB_PIPELINE_INTERNAL_H

#include <pthread.h>
#include <signal.h>

#include "engine/engine.h"
#include "providers/gemini.h"
#include "providers/openai.h"
#include "providers/provider.h"
#include "wordbank/media.h"
#include "wordbank/offline.h"
#include "wordbank/pipeline.h"
#include "wordbank/text.h"

/* The pipeline's state machine (state.c; the diagram is in
 * docs/architecture.md). An entry moves through enum pipe_entry_state in the
 * window; each of its stages through enum pipe_stage_state. Each state has its
 * function, and pipe_entry_set / pipe_stage_set are the only places a state
 * changes: they keep the run's counters and log the change (-vv). */
enum pipe_entry_state {
    PE_PLANNED = 0, /* in the window's order, not claimed yet */
    PE_CLAIMED,     /* its stages are leased to this run; starts after the claim batch */
    PE_PARKED,      /* another run holds some of its stages: polled */
    PE_READY,       /* the poll found it free (claimed): starts at the next free slot */
    PE_ACTIVE,      /* its stages are on their way: holds a slot in the window */
    PE_DRAINING,    /* every answer is in; files are being written: no slot */
    PE_FINISHED,    /* every stage it wanted ended */
    PE_IDLE,        /* nothing for this run to do (all there, or made elsewhere) */
    PE_COUNT
};

enum pipe_stage_state {
    PS_SKIP = 0,  /* not this run's to make (skipped, cached, cache-only) */
    PS_WAITING,   /* wanted: waits for its entry to start or for its inputs */
    PS_DEFERRED,  /* waits for room in the media pipeline (defer.c) */
    PS_RUNNING,   /* its request or work is on its way, or it waits on a merged one */
    PS_DONE,      /* made and committed */
    PS_FAILED,    /* failed; the failure is committed */
    PS_NOT_MADE,  /* not made this run (stopped, a daily quota, no picture description) */
    PS_ELSEWHERE, /* another run made it meanwhile: taken from the store */
    PS_COUNT
};

/* One entry of the run. */
struct job {
    struct run *run;
    size_t index;
    struct wb_entry e; /* the entry as stored, updated as stages finish */
    enum pipe_entry_state state;
    enum pipe_stage_state st[WB_STAGE_COUNT];
    unsigned redo;     /* wanted though stored as done (--force, a bad file) */
    unsigned answered; /* RUNNING stages whose answer is in (encoding, writing) */
};

/* A stage of one job in flight: what the drivers carry between callbacks. */
struct stage_task {
    struct job *job; /* the leader; followers hang on the shared request */
    enum wb_stage stage;
    const struct prov_ops *ops; /* the stage's provider */
    char *model, *voice;
    char *share_key; /* identical requests in this run merge on this key */
    /* results */
    struct wb_entry details;    /* details: parsed into a scratch entry */
    struct prov_speech *speech; /* speech: the provider's stream state, or NULL */
    struct wb_buf media;        /* raw image or encoded audio bytes */
    struct wb_buf pcm;          /* raw PCM for encoding */
    int pcm_rate, pcm_channels;
    char *file;                  /* media file name once written */
    int status;                  /* 0 or WB_E* */
    char message[WB_ERRMSG_MAX]; /* the failure, in the API's words */
    struct prov_usage usage;
    int resubmits;    /* pipeline-level retries of a bad 200 */
    int counts_media; /* holds one of run.media_max slots */
    int marked;       /* a pending marker names t->file */
    int64_t held;     /* bytes counted against the engine's body budget */
};

/* A request that identical stages of several entries share. */
enum shared_state {
    SH_RUNNING = 1,
    SH_DONE
};
struct shared {
    char *key;
    enum shared_state state;
    char *file;           /* SH_DONE with success: the media file made */
    struct job **waiters; /* SH_RUNNING: entries waiting for the leader */
    size_t n, cap;
    struct shared *next;
};

struct failure {
    struct wb_run_failure pub;
    char *message;
};

/* A stage waiting for room in the media pipeline (run.deferred). */
struct deferred_stage {
    struct job *job;
    enum wb_stage stage;
};

struct run {
    const struct wb_config *cfg;
    double cost_usd; /* the tokens so far, each at its model's price */
    struct wb_store *store;
    char *media_dir;
    char *db_real; /* the database's absolute path (pending markers name it) */
    struct wb_run_opts opts;
    struct engine *eng;
    void *popts[PROV_COUNT];                     /* each provider's options (ops->opts_size) */
    const struct prov_ops *prov[WB_STAGE_COUNT]; /* each stage's provider */
    const char *lang;
    const char *speech_mode;
    struct wb_audio_options audio_opts;
    int image_size;
    enum wb_image_type image_type;

    struct job *jobs;
    size_t n_jobs, cap_jobs;
    size_t next;          /* next job to start */
    int active, jobs_max; /* PE_ACTIVE entries; the window's size */
    int draining;         /* PE_DRAINING entries (no slot; the run waits for them) */
    int batch_barrier;    /* > 0: batches of this size with a barrier (benchmarks) */
    /* Back-pressure: image and audio stages from request to written file hold
     * big buffers; at most media_max at once, the rest wait here in order. */
    int media_active, media_max;
    struct deferred_stage *deferred;
    size_t def_head, def_len, def_cap;
    /* encoders.c: the stages (WB_STAGE_BIT) whose encoders are being loaded
     * on the pool; picture and speech stages wait (PS_DEFERRED) while any */
    unsigned enc_pending;
    struct wb_error enc_err;

    /* Runs sharing the word bank: this run's leases, and entries waiting for
     * stages another run holds (polled), then ready to start. */
    struct wb_lease_holder me;
    char host[256];
    int64_t lease_ttl_ms, lease_poll_ms;
    size_t *parked, n_parked, cap_parked;            /* PE_PARKED entries */
    size_t *ready, ready_head, ready_len, ready_cap; /* PE_READY entries, in order */
    int poll_timer, beat_timer;
    int starting;     /* PE_CLAIMED entries (counted in the window) */
    int sync_each;    /* pipeline.sync_commits: sync every stage commit */
    int claim_warned; /* a failed claim was logged */

    struct shared **shared; /* hash table of merged requests */
    size_t n_buckets;

    struct failure *failures;
    size_t n_failures, cap_failures;

    struct wb_run_stats stats;
    int64_t started_ms;
    uint64_t commits_at_start; /* wb_store_commits when the run began */
    double rate_ewma;
    int64_t rate_last_ms, rate_last_done;

    volatile sig_atomic_t interrupted;
    int stopping;
    int fatal; /* a configuration-level failure: stop early */
    struct wb_error fatal_err;
    unsigned exhausted; /* stages whose model's daily quota ran out */
    char exhausted_msg[WB_STAGE_COUNT][WB_ERRMSG_MAX];
    int progress_timer;
    /* Stage commits of one loop turn share one transaction (commit.c): open
     * while turn_batch; the markers of their files are removed once it is
     * committed. turn_commits: wb_run_execute's runs do so; batch mode, whose
     * job records must be committed before each API call, does not. */
    int turn_commits, turn_batch;
    char **clear_after;
    size_t n_clear_after, cap_clear_after;

    /* offline provider: one tagger and dictionary, used on worker threads
     * under this lock */
    pthread_mutex_t text_lock;
    struct wb_text *text;
    struct wb_edict *edict;
    int text_failed;
    int ja_failed, ja_no_edict, ja_no_pitch; /* japanese.c: tools that could not open */
    /* japanese.c: the tools are being opened on the pool; the details
     * answers that came in meanwhile wait here for them */
    int ja_preparing;
    struct stage_task **ja_parked;
    size_t n_ja_parked, cap_ja_parked;
};

/* japanese.c: check the reading and add the pitch accent of a Japanese entry */
void run_japanese_details(struct run *r, struct wb_entry *e);
/* A Japanese entry's details answer while the tools are still being opened
 * on the pool: kept until they are (then run_stage_finished again), so the
 * loop thread never waits for the text lock. 1 when t was kept. */
int run_japanese_park(struct run *r, struct stage_task *t);
/* Opens the tagger, EDICT and the accent dictionary on the worker pool when
 * a Japanese entry of the plan wants details (japanese.c). */
void run_japanese_prepare(struct run *r);
/* plan.c */
int run_plan(struct run *r, struct wb_error *err);
/* pending.c: media written but not yet committed */
int pending_mark(struct run *r, const char *name, struct wb_error *err);
void pending_clear(struct run *r, const char *name);
void run_sweep_orphans(struct run *r);

/* state.c: the state machine. The one place each state changes: */
void pipe_entry_set(struct run *r, struct job *j, enum pipe_entry_state to);
/* Entries still to start, waiting aside, waiting on answers or draining. */
int pipe_work_left(const struct run *r);
void pipe_stage_set(struct run *r, struct job *j, enum wb_stage s, enum pipe_stage_state to);
/* A fresh plan (plan.c): the entry PE_PLANNED, every stage PS_SKIP. */
void pipe_job_replan(struct job *j);
/* Is stage s this run's to make (neither skipped nor made elsewhere)? */
int pipe_stage_wanted(const struct job *j, enum wb_stage s);
/* The stages still this run's to make, as WB_STAGE_BIT()s (for claims). */
unsigned pipe_job_want(const struct job *j);
/* PE_CLAIMED / PE_READY -> PE_ACTIVE: start every stage whose inputs are
 * there, but its speech: pipe_entry_start_audio, which pipe_pump calls after
 * the details of every entry it starts. */
void pipe_entry_start(struct run *r, struct job *j);
void pipe_entry_start_audio(struct run *r, struct job *j);
/* PS_WAITING / PS_DEFERRED: defer, or start its request (or merge with one). */
void pipe_stage_start(struct run *r, struct job *j, enum wb_stage s);
/* PS_RUNNING ended with t's result: commit it for j and move the entry on. */
void pipe_stage_settle(struct run *r, struct job *j, struct stage_task *t);
/* RUNNING stage s of j has its answer; only local work is left. */
void pipe_stage_answered(struct run *r, struct job *j, enum wb_stage s);
void pipe_stage_unanswered(struct run *r, struct job *j, enum wb_stage s);

/* window.c: the sliding window, claims (leases), parked entries */
void pipe_pump(struct run *r);
void pipe_lease_beat(void *ud, int status);

/* merge.c: identical requests of several entries share one, and the string
 * table (entries by key, merged requests by key) */
struct shared *shared_find(struct run *r, const char *key, int create);
void pipe_shared_free_all(struct run *r);
/* Join an identical request already made or on its way (1: j's stage is
 * settled or waits for it), or lead it (0: *key is the merge key, or NULL). */
int pipe_merge_join(struct run *r, struct job *j, enum wb_stage s, char **key);
/* A stage's task ended (loop thread): settle it for its entry and every entry
 * that waited on the same request, then free it. */
void run_stage_finished(struct stage_task *t);

/* defer.c: back-pressure of the media pipeline; and the FIFO queues (the
 * deferred stages, the ready entries): arr[head..len) waits, capacity cap.
 * Room for one more at arr[len]: the waiting part moves to the front when
 * the array is full, else it grows (core_array_reserve). 0 or WB_ENOMEM. */
int pipe_fifo_reserve(void *arrp, size_t *head, size_t *len, size_t *cap, size_t elem);
#define PIPE_FIFO_RESERVE(arr, head, len, cap) \
    pipe_fifo_reserve(&(arr), &(head), &(len), &(cap), sizeof *(arr))
int pipe_defer_push(struct run *r, struct job *j, enum wb_stage s);
void pipe_resume_deferred(struct run *r);
/* Whether a picture or speech stage may start now: its encoders are known
 * to load (encoders.c) and the media pipeline has room. */
int pipe_media_room(const struct run *r);

/* commit.c: stage results into the store, failures, fatal errors */
int run_commit_stage(struct run *r, struct job *j, enum wb_stage s, int status, const char *msg,
                     const char *file, const char *model, const char *voice,
                     const struct prov_usage *u);
void pipe_add_failure(struct run *r, const struct job *j, enum wb_stage s, int code,
                      const char *msg);
void run_fatal(struct run *r, int code, const char *msg);
/* The same, but the requests in flight may finish within grace_ms (their
 * answers are kept): for an error they do not share. */
void run_fatal_grace(struct run *r, int code, const char *msg, int64_t grace_ms);
/* Commit the loop turn's transaction now (nothing when none is open); then
 * remove the pending markers of the files it committed. */
void pipe_commit_flush(struct run *r);
/* The marker of a file whose stage was just committed: removed now, or once
 * the loop turn's transaction is committed. */
void pipe_clear_when_committed(struct run *r, const char *name);
/* Errors that say something about the whole run rather than one entry. */
int pipe_is_fatal_code(int code);

/* progress.c: progress, cost and the rates learned from 429s */
double pipe_price(const struct run *r, const char *model, const char *dir);
void pipe_add_cost(struct run *r, enum wb_stage s, const struct stage_task *t);
void pipe_update_stats(struct run *r);
void pipe_progress_tick(void *ud, int status);
void pipe_rates_load(struct run *r);
void pipe_rates_save(struct run *r);
#define PIPE_PROGRESS_MS 100

/* run.c: tasks, and each stage's model and voice */
const char *pipe_stage_model(const struct run *r, enum wb_stage s);
const char *pipe_stage_voice(const struct run *r, enum wb_stage s);
struct stage_task *task_new(struct job *j, enum wb_stage s, const struct prov_ops *p);
void task_free(struct stage_task *t);
void task_fail(struct stage_task *t, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* stages.c: start a stage's request with its provider's table */
int stage_request_start(struct stage_task *t);
/* stages_offline.c */
int offline_start(struct stage_task *t);
int offline_prepare(struct run *r, struct wb_error *err);
/* media.c: what every provider's stage driver shares */
void stage_fail_from_response(struct stage_task *t, const struct engine_response *res);
/* Reset t->details to the entry's key and context before parsing into it. */
int stage_reset_details(struct stage_task *t);
void stage_details_done(void *ud, const struct engine_response *res);
void stage_media_done(void *ud, const struct engine_response *res);
/* Write a stage's media file (worker thread), marked pending until committed. */
int stage_write_media(struct stage_task *t, const void *data, size_t len, struct wb_error *err);
/* Submit req (taken) unless building it failed (rc, err); the failure goes into t. */
int stage_submit(struct stage_task *t, struct core_http_request *req,
                 const struct engine_request_cbs *cbs, int rc, struct wb_error *err);
void media_finish_audio(struct stage_task *t);
void media_finish_image(struct stage_task *t);

/* encoders.c: the libraries of the encoders a run's pictures and clips
 * need, loaded before any is asked for. run_encoders_ready: those of
 * stages (WB_STAGE_BIT of IMAGE, AUDIO), 0 or WB_ECONFIG;
 * run_encoders_check_before: those of the stages the plan wants, at once
 * (batch mode); run_encoders_begin: picture and speech stages wait from now
 * on, until run_encoders_check (after the first requests are out; cancelled:
 * the engine stops, nothing is checked) has loaded them on the pool, then
 * they start, or the run stops with the loader's reason. */
int run_encoders_ready(const struct run *r, unsigned stages, struct wb_error *err);
int run_encoders_check_before(struct run *r, struct wb_error *err);
void run_encoders_begin(struct run *r);
void run_encoders_check(struct run *r, int cancelled);

/* The Gemini options (the batch API is Gemini's). */
static inline const struct gemini_opts *run_gemini_opts(const struct run *r)
{
    return (const struct gemini_opts *)r->popts[PROV_GEMINI];
}

#endif
