/* The worker-pool half of the image and audio stages, for every provider:
 * encode (trim, normalise, MP3/M4A/Opus) or downscale and re-encode, then
 * write the file under its content hash. Runs off the loop thread and touches
 * only its own task; the result is committed back on the loop thread.
 */
#include <stdlib.h>
#include <string.h>

#include "pipeline/internal.h"

static void write_media(struct stage_task *t, const struct wb_buf *bytes)
{
    struct wb_error err = { 0 };
    int rc = wb_media_write(t->job->run->media_dir, bytes->data, bytes->len, &t->file, &err);
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
    rc = wb_image_process(t->media.data, t->media.len, r->image_size, r->image_type, 0, &out,
                          &info, &err);
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
    int rc = wb_engine_queue_work(t->job->run->eng, work, after_work, t);
    if (rc) {
        task_fail(t, rc, "cannot queue work: %s", wb_strerror(rc));
        run_stage_finished(t);
    }
}

void media_finish_audio(struct stage_task *t)
{
    queue(t, audio_work);
}

void media_finish_image(struct stage_task *t)
{
    queue(t, image_work);
}
