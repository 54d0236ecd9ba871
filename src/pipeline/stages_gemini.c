/* The Gemini stage drivers: build the request with the provider, submit it to
 * the engine, and turn the answer into the stage's result. The provider's
 * parsers run inside the engine's classify step, so a 200 whose body is
 * malformed, truncated or a stream without a finishReason is retried by the
 * engine like any other temporary failure. Media bytes then go to the worker
 * pool (media.c) for encoding and writing.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"

/* Errors from the API: the provider reads Gemini's error body. */
static int classify_error(long status, const struct wb_http_header *h, size_t nh, const char *body,
                          size_t len, struct wb_api_error *out)
{
    return wb_gemini_parse_error(status, h, nh, body, len, out);
}

static int ok_status(long status)
{
    return status >= 200 && status < 300;
}

/* ---- details ---- */

static int details_classify(void *ud, long status, const struct wb_http_header *h, size_t nh,
                            const char *body, size_t len, struct wb_api_error *out)
{
    struct stage_task *t = ud;
    if (!ok_status(status))
        return classify_error(status, h, nh, body, len, out);
    if (stage_reset_details(t))
        return WB_ENOMEM;
    return wb_gemini_details_parse(body, len, &t->details, &t->usage, out);
}

/* ---- image ---- */

static int image_classify(void *ud, long status, const struct wb_http_header *h, size_t nh,
                          const char *body, size_t len, struct wb_api_error *out)
{
    struct stage_task *t = ud;
    char mime[64];
    if (!ok_status(status))
        return classify_error(status, h, nh, body, len, out);
    wb_buf_reset(&t->media);
    memset(&t->usage, 0, sizeof t->usage);
    return wb_gemini_image_parse(body, len, &t->media, mime, sizeof mime, &t->usage, out);
}

/* ---- speech ---- */

static int audio_data(void *ud, const char *p, size_t n, struct wb_api_error *aerr)
{
    struct stage_task *t = ud;
    return wb_gemini_audio_feed(&t->audio, p, n, aerr);
}

static void audio_retry(void *ud)
{
    struct stage_task *t = ud;
    wb_gemini_audio_release(&t->audio);
    wb_gemini_audio_init(&t->audio);
}

static int audio_classify(void *ud, long status, const struct wb_http_header *h, size_t nh,
                          const char *body, size_t len, struct wb_api_error *out)
{
    struct stage_task *t = ud;
    struct wb_buf mine;
    int rc;
    if (!ok_status(status))
        return classify_error(status, h, nh, body, len, out);
    /* The stream ended: it must have said it was finished. */
    if ((rc = wb_gemini_audio_finish(&t->audio, out)))
        return rc;
    /* Take the consumer's PCM instead of copying it (audio_retry frees ours). */
    mine = t->pcm;
    t->pcm = t->audio.pcm;
    t->audio.pcm = mine;
    t->pcm_rate = wb_gemini_audio_rate(&t->audio);
    t->pcm_channels = wb_gemini_audio_channels(&t->audio);
    t->usage = *wb_gemini_audio_usage(&t->audio);
    /* The stream consumer's copy is no longer needed. */
    audio_retry(t);
    return 0;
}

int gemini_start(struct stage_task *t)
{
    struct run *r = t->job->run;
    struct wb_http_request req;
    struct wb_request_cbs cbs = { 0 };
    struct wb_error err = { 0 };
    char *text = NULL;
    int rc;

    wb_http_request_init(&req);
    switch (t->stage) {
    case WB_STAGE_DETAILS:
        rc = wb_gemini_details_request(&r->gem, &t->job->e, &req, &err);
        cbs.classify = details_classify;
        cbs.on_done = stage_details_done;
        break;
    case WB_STAGE_IMAGE:
        text = wb_prompt_image(t->job->e.image_description);
        rc = text ? wb_gemini_image_request(&r->gem, text, &req, &err) : WB_ENOMEM;
        cbs.classify = image_classify;
        cbs.classify_in_pool = 1; /* decodes the whole payload */
        cbs.on_done = stage_media_done;
        break;
    default:
        text = wb_prompt_speech_text(&t->job->e, r->speech_mode);
        rc = text ? wb_gemini_speech_request(&r->gem, text, t->voice, &req, &err) : WB_ENOMEM;
        cbs.on_data = audio_data;
        cbs.on_retry = audio_retry;
        cbs.classify = audio_classify;
        cbs.classify_in_pool = 1; /* decodes the whole payload */
        cbs.on_done = stage_media_done;
        break;
    }
    free(text);
    return stage_submit(t, &req, &cbs, rc, &err);
}
