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

/* One entry of the run. */
struct job {
    struct run *run;
    size_t index;
    struct wb_entry e;     /* the entry as stored, updated as stages finish */
    unsigned want;         /* stages this run must do */
    unsigned started;      /* stages started */
    unsigned finished;     /* stages finished (done, failed or given up) */
    unsigned failed;       /* stages that failed */
    unsigned unmade;       /* stages not made this run (stopped, quota) */
    unsigned deferred;     /* stages waiting for room in the media pipeline */
    int active;            /* counted in the window */
    int parked;            /* waiting for stages another run holds (leases) */
    unsigned redo;         /* wanted though stored as done (--force, a bad file) */
    int claimed_ok;        /* claimed by pump, about to start */
};

/* A stage of one job in flight: what the drivers carry between callbacks. */
struct stage_task {
    struct job *job;       /* the leader; followers hang on the shared request */
    enum wb_stage stage;
    const struct prov_ops *ops; /* the stage's provider */
    char *model, *voice;
    char *share_key;       /* identical requests in this run merge on this key */
    /* results */
    struct wb_entry details;         /* details: parsed into a scratch entry */
    struct prov_speech *speech;      /* speech: the provider's stream state, or NULL */
    struct wb_buf media;             /* raw image or encoded audio bytes */
    struct wb_buf pcm;               /* raw PCM for encoding */
    int pcm_rate, pcm_channels;
    char *file;                      /* media file name once written */
    int status;                      /* 0 or WB_E* */
    char message[WB_ERRMSG_MAX];     /* the failure, in the API's words */
    struct wb_usage usage;
    int resubmits;                   /* pipeline-level retries of a bad 200 */
    int counts_media;                /* holds one of run.media_max slots */
    int marked;                      /* a pending marker names t->file */
    int64_t held;                    /* bytes counted against the engine's body budget */
};

/* A request that identical stages of several entries share. */
enum shared_state { SH_RUNNING = 1, SH_DONE };
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

struct run {
    const struct wb_config *cfg;
    double cost_usd; /* the tokens so far, each at its model's price */
    struct wb_store *store;
    char *media_dir;
    char *db_real;      /* the database's absolute path (pending markers name it) */
    struct wb_run_opts opts;
    struct wb_engine *eng;
    void *popts[PROV_COUNT];                 /* each provider's options (ops->opts_size) */
    const struct prov_ops *prov[WB_STAGE_COUNT]; /* each stage's provider */
    const char *lang;
    const char *speech_mode;
    struct wb_audio_options audio_opts;
    int image_size;
    enum wb_image_type image_type;

    struct job *jobs;
    size_t n_jobs, cap_jobs;
    size_t next;        /* next job to start */
    int active, jobs_max;
    int batch_barrier;  /* > 0: batches of this size with a barrier (benchmarks) */
    /* Back-pressure: image and audio stages from request to written file hold
     * big buffers; at most media_max at once, the rest wait here in order. */
    int media_active, media_max;
    struct deferred_stage {
        struct job *job;
        enum wb_stage stage;
    } *deferred;
    size_t def_head, def_len, def_cap;

    /* Runs sharing the word bank: this run's leases, and entries waiting for
     * stages another run holds (polled), then ready to start. */
    struct wb_lease_holder me;
    char host[256];
    int64_t lease_ttl_ms, lease_poll_ms;
    size_t *parked, n_parked, cap_parked;
    size_t *ready, ready_head, ready_len, ready_cap;
    int poll_timer, beat_timer;
    int starting;       /* claimed by pump, not started yet (counted in the window) */
    int sync_each;      /* pipeline.sync_commits: sync every stage commit */
    int claim_warned;   /* a failed claim was logged */

    struct shared **shared; /* hash table of merged requests */
    size_t n_buckets;

    struct failure *failures;
    size_t n_failures, cap_failures;

    struct wb_run_stats stats;
    int64_t started_ms;
    double rate_ewma;
    int64_t rate_last_ms, rate_last_done;

    volatile sig_atomic_t interrupted;
    int stopping;
    int fatal;                 /* a configuration-level failure: stop early */
    struct wb_error fatal_err;
    unsigned exhausted;        /* stages whose model's daily quota ran out */
    char exhausted_msg[WB_STAGE_COUNT][WB_ERRMSG_MAX];
    int progress_timer;

    /* offline provider: one tagger and dictionary, used on worker threads
     * under this lock */
    pthread_mutex_t text_lock;
    struct wb_text *text;
    struct wb_edict *edict;
    int text_failed;
    int ja_failed, ja_no_edict, ja_no_pitch; /* japanese.c: tools that could not open */
};

/* japanese.c: check the reading and add the pitch accent of a Japanese entry */
void run_japanese_details(struct run *r, struct wb_entry *e);
/* run.c */
struct shared *shared_find(struct run *r, const char *key, int create);
/* plan.c */
int run_plan(struct run *r, struct wb_error *err);
/* pending.c: media written but not yet committed */
int pending_mark(struct run *r, const char *name, struct wb_error *err);
void pending_clear(struct run *r, const char *name);
void run_sweep_orphans(struct run *r);
void run_stage_finished(struct stage_task *t);
int run_commit_stage(struct run *r, struct job *j, enum wb_stage s, int status, const char *msg,
                     const char *file, const char *model, const char *voice,
                     const struct wb_usage *u);
void run_fatal(struct run *r, int code, const char *msg);
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
void stage_fail_from_response(struct stage_task *t, const struct wb_response *res);
/* Reset t->details to the entry's key and context before parsing into it. */
int stage_reset_details(struct stage_task *t);
void stage_details_done(void *ud, const struct wb_response *res);
void stage_media_done(void *ud, const struct wb_response *res);
/* Write a stage's media file (worker thread), marked pending until committed. */
int stage_write_media(struct stage_task *t, const void *data, size_t len, struct wb_error *err);
/* Submit req (taken) unless building it failed (rc, err); the failure goes into t. */
int stage_submit(struct stage_task *t, struct wb_http_request *req, const struct wb_request_cbs *cbs,
                 int rc, struct wb_error *err);
void media_finish_audio(struct stage_task *t);
void media_finish_image(struct stage_task *t);

/* The Gemini options (the batch API is Gemini's). */
static inline const struct wb_gemini_opts *run_gemini_opts(const struct run *r)
{
    return (const struct wb_gemini_opts *)r->popts[PROV_GEMINI];
}

#endif
