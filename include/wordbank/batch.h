/* Gemini Batch mode: the missing stages of a run go to batch jobs (half the
 * interactive price, separate quotas, results within 24 h) instead of
 * interactive requests. The store remembers every job and the entries it
 * carries, so a run killed at any moment and started again collects the jobs
 * already submitted and submits only what no job carries.
 *
 *   wb_run_new(...); wb_run_add(...)...
 *   rc = wb_run_batch(run, &bopts, &err);  0: every batched stage collected, or
 *                                          (no_wait) submitted: bopts.jobs_left > 0
 *                                          WB_ECANCELED: interrupted while waiting
 *   then wb_run_execute(run, &err) does what batch mode does not (speech for
 *   a model without batchGenerateContent) interactively.
 */
#ifndef WORDBANK_BATCH_H
#define WORDBANK_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/api.h"
#include "wordbank/config.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"
#include "wordbank/pipeline.h"
#include "wordbank/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the job table (store) ---- */

/* One batch job as the store knows it. state is the API's state in lower case
 * without prefix ("pending", "running", "succeeded", "failed", "cancelled",
 * "expired"); collected is set once its results were committed (or, for a
 * failed/expired/cancelled job, once its entries were released). */
struct wb_batch_job {
    char *name; /* "batches/..." */
    char *model;
    enum wb_stage stage;
    char *state;
    char *input_file; /* "files/..." for a file job, else NULL */
    int collected;
    int64_t requests, succeeded, failed; /* the last batchStats seen */
    int64_t created_at, updated_at;      /* unix seconds */
};

/* An entry a job carries; index is the request's key in the job ("k<index>"). */
struct wb_batch_key {
    char *word, *translation, *language;
};

/* Record a job and the entries it carries in one transaction. */
WB_API int wb_store_batch_add(struct wb_store *st, const struct wb_batch_job *job,
                              const struct wb_batch_key *keys, size_t n, struct wb_error *err);
/* Update a job's state and counts (collected: 1 marks it done with). */
WB_API int wb_store_batch_update(struct wb_store *st, const char *name, const char *state,
                                 int64_t succeeded, int64_t failed, int collected,
                                 struct wb_error *err);
/* Every job (uncollected_only: those not collected yet), oldest first.
 * Free with wb_batch_jobs_free. */
WB_API int wb_store_batch_list(struct wb_store *st, int uncollected_only, struct wb_batch_job **out,
                               size_t *n, struct wb_error *err);
/* The entries a job carries, by index. Free with wb_batch_keys_free. */
WB_API int wb_store_batch_keys(struct wb_store *st, const char *name, struct wb_batch_key **out,
                               size_t *n, struct wb_error *err);
/* A job recorded before its create call as "pending/<display name>" gets its
 * real name (and state) once the API answered. */
WB_API int wb_store_batch_rename(struct wb_store *st, const char *old_name, const char *new_name,
                                 const char *state, struct wb_error *err);
/* Forget a job and the entries it carries (a create call that never made one). */
WB_API int wb_store_batch_remove(struct wb_store *st, const char *name, struct wb_error *err);
WB_API void wb_batch_jobs_free(struct wb_batch_job *v, size_t n);
WB_API void wb_batch_keys_free(struct wb_batch_key *v, size_t n);

/* ---- the batch run (pipeline) ---- */

/* A job's live state for a display. */
struct wb_batch_view {
    const char *name, *state;
    enum wb_stage stage;
    int64_t requests, succeeded, failed, pending;
};

struct wb_batch_opts {
    int no_wait; /* submit and return without waiting (jobs_left says how many) */
    /* Called after every poll round with the jobs being waited for. */
    void (*on_jobs)(void *ud, const struct wb_batch_view *jobs, size_t n);
    /* One-line notices (a job expired, speech goes interactively...). */
    void (*on_notice)(void *ud, const char *msg);
    void *ud;
    /* out: jobs still running when wb_run_batch returned */
    size_t jobs_left;
    /* out: the stages batch mode took care of (done, failed, or in a job) */
    unsigned batched;
    /* out: stages made and failed from batch results in this call, tokens,
     * and the cost at the batch price (price.<model>.batch_in/out per million
     * tokens, else half of price.<model>.in/out) */
    size_t done[WB_STAGE_COUNT], failed;
    /* out: requests of jobs that expired, failed or were cancelled (their
     * entries are missing again) */
    size_t lost;
    int64_t tokens_in, tokens_out;
    double cost_usd;
};

/* Settings: batch.inline_max_bytes (default 20000000: bigger jobs go through
 * the Files API as JSONL), batch.max_requests (per job, default 10000),
 * batch.max_image_requests (25) and batch.max_speech_requests (200): a job's
 * results arrive in one body under http.max_body; batch.upload_chunk_bytes
 * (8 MiB),
 * batch.poll_first_ms (default 5000), batch.poll_max_ms (default 120000),
 * batch.poll_factor (default 1.5). */
WB_API int wb_run_batch(struct wb_run *run, struct wb_batch_opts *o, struct wb_error *err);

/* Fetch the state of every uncollected job of the store from the API and
 * update the store (status). */
WB_API int wb_batch_refresh(const struct wb_config *cfg, struct wb_store *st, struct wb_error *err);
/* Cancel one job (name) or every uncollected unfinished job (name NULL);
 * *n_canceled counts them. */
WB_API int wb_batch_cancel(const struct wb_config *cfg, struct wb_store *st, const char *name,
                           size_t *n_canceled, struct wb_error *err);

#ifdef __cplusplus
}
#endif

#endif
