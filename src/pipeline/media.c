/* The stage plumbing every provider shares: answers to results, submission,
 * and the worker-pool half of the image and audio stages:
 * encode (trim, normalise, MP3/M4A/Opus) or downscale and re-encode, then
 * write the file under its content hash. Runs off the loop thread and touches
 * only its own task; the result is committed back on the loop thread.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

#include "pipeline/internal.h"

static int media_already_there(struct run *r, const char *name)
{
    struct wb_buf path;
    int ok;
    wb_buf_init(&path, 0);
    ok = core_path_join(&path, r->media_dir, name) == 0 && wb_media_file_valid(path.data);
    wb_buf_release(&path);
    return ok;
}

int stage_write_media(struct stage_task *t, const void *data, size_t len, struct wb_error *err)
{
    struct run *r = t->job->run;
    char name[128];
    int rc;
    if (wb_media_name(data, len, name, sizeof name) == 0) {
        /* The same bytes already stored (a valid file under their hash):
         * nothing is written, so nothing needs a marker. */
        if (media_already_there(r, name)) {
            if (!(t->file = strdup(name)))
                return wb_error_set(err, WB_ENOMEM, "out of memory");
            return 0;
        }
        /* The marker first: a kill after the file appears still leaves a trace. */
        if ((rc = pending_mark(r, name, err)))
            return rc;
        t->marked = 1;
    }
    return wb_media_write(r->media_dir, data, len, &t->file, err);
}

static void write_media(struct stage_task *t, const struct wb_buf *bytes)
{
    struct wb_error err = { 0 };
    int rc = stage_write_media(t, bytes->data, bytes->len, &err);
    if (rc)
        task_fail(t, rc, "%s", wb_error_text(&err));
}

static void audio_work(void *ud)
{
    struct stage_task *t = ud;
    struct run *r = t->job->run;
    struct wb_audio_options o = r->audio_opts;
    struct wb_error err = { 0 };
    struct wb_buf out;
    int rc;
    wb_buf_init(&out, 0);
    o.pcm_rate = t->pcm_rate > 0 ? t->pcm_rate : 24000;
    o.pcm_channels = t->pcm_channels > 0 ? t->pcm_channels : 1;
    rc = wb_audio_convert(t->pcm.data, t->pcm.len, &o, &out, &err);
    if (rc)
        task_fail(t, rc, "audio: %s", wb_error_text(&err));
    else
        write_media(t, &out);
    wb_buf_release(&out);
    wb_buf_release(&t->pcm);
}

static void image_work(void *ud)
{
    struct stage_task *t = ud;
    struct run *r = t->job->run;
    struct wb_error err = { 0 };
    struct wb_image_info info;
    struct wb_buf out;
    int rc;
    wb_buf_init(&out, 0);
    rc = wb_image_process(t->media.data, t->media.len, r->image_size, r->image_type, 0, &out, &info,
                          &err);
    if (rc)
        task_fail(t, rc, "image: %s", wb_error_text(&err));
    else
        write_media(t, &out);
    wb_buf_release(&out);
    wb_buf_release(&t->media);
}

static void after_work(void *ud, int status)
{
    struct stage_task *t = ud;
    if (status && !t->status)
        task_fail(t, status, "%s", wb_strerror(status));
    run_stage_finished(t);
}

static void queue(struct stage_task *t, void (*work)(void *))
{
    int rc = engine_queue_work(t->job->run->eng, work, after_work, t);
    if (rc) {
        task_fail(t, rc, "cannot queue work: %s", wb_strerror(rc));
        run_stage_finished(t);
    }
}

/* ---- what every network provider's stage driver shares ---- */

void stage_fail_from_response(struct stage_task *t, const struct engine_response *res)
{
    const struct core_api_error *ae = res->api_error;
    if (ae && ae->message[0])
        task_fail(t, res->status, "%s", ae->message);
    else
        task_fail(t, res->status, "%s", wb_strerror(res->status));
}

int stage_reset_details(struct stage_task *t)
{
    const struct wb_entry *e = &t->job->e;
    wb_entry_release(&t->details);
    memset(&t->usage, 0, sizeof t->usage);
    if (core_str_set(&t->details.word, e->word) ||
        core_str_set(&t->details.translation, e->translation) ||
        core_str_set(&t->details.language, e->language) ||
        core_str_set(&t->details.context, e->context))
        return WB_ENOMEM;
    return 0;
}

void stage_details_done(void *ud, const struct engine_response *res)
{
    struct stage_task *t = ud;
    if (res->status)
        stage_fail_from_response(t, res);
    run_stage_finished(t);
}

void stage_media_done(void *ud, const struct engine_response *res)
{
    struct stage_task *t = ud;
    if (res->status) {
        stage_fail_from_response(t, res);
        run_stage_finished(t);
        return;
    }
    /* The decoded picture or clip waits for an encoder: it counts against
     * the body budget until the task ends, so new media transfers wait
     * rather than pile up behind a busy worker pool. */
    t->held = (int64_t)(t->media.len + t->pcm.len);
    engine_hold(t->job->run->eng, t->held);
    pipe_stage_answered(t->job->run, t->job, t->stage);
    if (t->stage == WB_STAGE_IMAGE)
        media_finish_image(t);
    else
        media_finish_audio(t);
}

int stage_submit(struct stage_task *t, struct core_http_request *req,
                 const struct engine_request_cbs *cbs, int rc, struct wb_error *err)
{
    if (rc) {
        task_fail(t, rc, "%s", wb_error_text(err));
        core_http_request_release(req);
        return rc;
    }
    /* A rough token estimate for tokens-per-minute limits. */
    rc = engine_submit(t->job->run->eng, req, (int64_t)(req->body_len / 4 + 300), cbs, t, NULL);
    if (rc)
        task_fail(t, rc, "cannot submit the request: %s", wb_strerror(rc));
    return rc;
}

void media_finish_audio(struct stage_task *t)
{
    queue(t, audio_work);
}

void media_finish_image(struct stage_task *t)
{
    queue(t, image_work);
}
