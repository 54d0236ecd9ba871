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

/* The job table (struct wb_batch_job, wb_store_batch_*) is the store's:
 * wordbank/store.h. */

/* ---- the batch run (pipeline) ---- */

/* A job's live state for a display. */
struct wb_batch_view {
    const char *name, *state;
    enum wb_stage stage;
    int64_t requests, succeeded, failed, pending;
};

/* Options and results of wb_run_batch: wb_batch_opts_init() it (it sets
 * size; fields are only ever added at its end, see wordbank/api.h). */
struct wb_batch_opts {
    size_t size; /* sizeof(struct wb_batch_opts): wb_batch_opts_init sets it */
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
/* Zeroes o (wait for the jobs, no callbacks) and sets its size. */
WB_API void wb_batch_opts_init(struct wb_batch_opts *o);

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
