/* The encoders' libraries, loaded before a picture or a clip is bought. A
 * missing one (LAME, libavcodec/libavformat for M4A, libopusenc, the picture
 * libraries) is the installation's fault and the same for every entry:
 * found after the first answers, every picture or clip already paid for
 * would be lost, and for M4A every entry failed one by one. The run checks
 * on the worker pool as it starts (run_encoders_check), while the first
 * details requests are out; picture and speech stages wait (PS_DEFERRED)
 * until it is done, then start, or the run stops with WB_ECONFIG and the
 * loader's reason before any of them was asked for. Loop thread, except
 * check_work.
 */
#include "pipeline/internal.h"
#include "wordbank/log.h"

static unsigned stages_to_check(const struct run *r)
{
    const unsigned both = WB_STAGE_BIT(WB_STAGE_AUDIO) | WB_STAGE_BIT(WB_STAGE_IMAGE);
    unsigned want = 0;
    for (size_t i = 0; i < r->n_jobs && want != both; i++) {
        const struct job *j = &r->jobs[i];
        if (pipe_stage_wanted(j, WB_STAGE_AUDIO))
            want |= WB_STAGE_BIT(WB_STAGE_AUDIO);
        /* the offline provider makes no pictures: nothing to encode */
        if (pipe_stage_wanted(j, WB_STAGE_IMAGE) && !r->prov[WB_STAGE_IMAGE]->local)
            want |= WB_STAGE_BIT(WB_STAGE_IMAGE);
    }
    return want;
}

/* The message names the stage, as a failed stage's would. */
int run_encoders_ready(const struct run *r, unsigned stages, struct wb_error *err)
{
    int rc = 0;
    if ((stages & WB_STAGE_BIT(WB_STAGE_AUDIO)) &&
        (rc = wb_audio_ready(r->audio_opts.format, err)) != 0)
        return wb_error_prefix(err, "%s", wb_stage_name(WB_STAGE_AUDIO));
    if ((stages & WB_STAGE_BIT(WB_STAGE_IMAGE)) && (rc = wb_image_ready(err)) != 0)
        return wb_error_prefix(err, "%s", wb_stage_name(WB_STAGE_IMAGE));
    return rc;
}

int run_encoders_check_before(struct run *r, struct wb_error *err)
{
    return run_encoders_ready(r, stages_to_check(r), err);
}

void run_encoders_begin(struct run *r)
{
    r->enc_pending = stages_to_check(r);
}

static void check_work(void *ud)
{
    struct run *r = ud;
    run_encoders_ready(r, r->enc_pending, &r->enc_err);
}

/* The check is over (or was never made: the engine stops): the stages that
 * waited start, or the run stops. */
static void settle(struct run *r)
{
    r->enc_pending = 0;
    if (r->enc_err.code) {
        wb_log(WB_LOG_DEBUG, "pipeline: no picture or clip asked for: %s",
               wb_error_text(&r->enc_err));
        /* The details requests out meanwhile are answered and kept, as
         * after Ctrl-C: they do not need the encoders. */
        run_fatal_grace(r, r->enc_err.code, wb_error_text(&r->enc_err),
                        wb_config_int(r->cfg, "stop.grace_ms"));
    }
    /* Started now, or (a fatal error, a stop) ended as not made. */
    pipe_resume_deferred(r);
}

/* status: WB_ECANCELED when the item never ran (the engine stops). */
static void check_done(void *ud, int status)
{
    (void)status;
    settle(ud);
}

void run_encoders_check(struct run *r, int cancelled)
{
    if (!r->enc_pending)
        return;
    if (!cancelled && engine_queue_work(r->eng, check_work, check_done, r) == 0)
        return;
    if (!cancelled) /* the pool took nothing: here, then */
        run_encoders_ready(r, r->enc_pending, &r->enc_err);
    settle(r);
}
