/* The OpenAI-compatible stage drivers: build the request with the OpenAI
 * provider, submit it to the engine, and turn the answer into the stage's
 * result, as stages_gemini.c does for Gemini. The provider's parsers run in the
 * engine's classify step, so a 200 that is malformed, cut off (finish_reason
 * "length") or an odd-length PCM body is retried like any temporary failure.
 * Speech is one non-streamed response_format "pcm" body (24 kHz s16le mono)
 * that the worker pool encodes (media.c); images come back as base64.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"

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
        return wb_openai_parse_error(status, h, nh, body, len, out);
    if (stage_reset_details(t))
        return WB_ENOMEM;
    return wb_openai_details_parse(body, len, &t->details, &t->usage, out);
}

/* ---- image and speech ---- */

static int image_classify(void *ud, long status, const struct wb_http_header *h, size_t nh,
                          const char *body, size_t len, struct wb_api_error *out)
{
    struct stage_task *t = ud;
    if (!ok_status(status))
        return wb_openai_parse_error(status, h, nh, body, len, out);
    wb_buf_reset(&t->media);
    memset(&t->usage, 0, sizeof t->usage);
    return wb_openai_image_parse(body, len, &t->media, &t->usage, out);
}

static int speech_classify(void *ud, long status, const struct wb_http_header *h, size_t nh,
                           const char *body, size_t len, struct wb_api_error *out)
{
    struct stage_task *t = ud;
    if (!ok_status(status))
        return wb_openai_parse_error(status, h, nh, body, len, out);
    wb_buf_reset(&t->pcm);
    t->pcm_rate = WB_OPENAI_PCM_RATE;
    t->pcm_channels = WB_OPENAI_PCM_CHANNELS;
    return wb_openai_speech_parse(body, len, &t->pcm, &t->pcm_rate, &t->pcm_channels, out);
}

int openai_start(struct stage_task *t)
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
        rc = wb_openai_details_request(&r->oai, &t->job->e, &req, &err);
        cbs.classify = details_classify;
        cbs.on_done = stage_details_done;
        break;
    case WB_STAGE_IMAGE:
        text = wb_prompt_image(t->job->e.image_description);
        rc = text ? wb_openai_image_request(&r->oai, text, &req, &err)
                  : wb_error_set(&err, WB_EINVAL, "no image description to draw from");
        cbs.classify = image_classify;
        cbs.classify_in_pool = 1; /* decodes the whole payload */
        cbs.on_done = stage_media_done;
        break;
    default:
        text = wb_prompt_speech_text(&t->job->e, r->speech_mode);
        rc = text ? wb_openai_speech_request(&r->oai, text, t->voice, &req, &err) : WB_ENOMEM;
        cbs.classify = speech_classify;
        cbs.classify_in_pool = 1; /* decodes the whole payload */
        cbs.on_done = stage_media_done;
        break;
    }
    free(text);
    return stage_submit(t, &req, &cbs, rc, &err);
}

/* ---- one-off speech (wordbank tts) ---- */

struct say {
    struct wb_buf *pcm;
    int rate, channels;
    int status;
    struct wb_error *err;
};

static int say_classify(void *ud, long status, const struct wb_http_header *h, size_t nh,
                        const char *body, size_t len, struct wb_api_error *out)
{
    struct say *s = ud;
    if (!ok_status(status))
        return wb_openai_parse_error(status, h, nh, body, len, out);
    wb_buf_reset(s->pcm);
    return wb_openai_speech_parse(body, len, s->pcm, &s->rate, &s->channels, out);
}

static void say_done(void *ud, const struct wb_response *r)
{
    struct say *s = ud;
    s->status = r->status;
    if (r->status)
        wb_error_set(s->err, r->status, "%s",
                     r->api_error && r->api_error->message[0] ? r->api_error->message
                                                              : wb_strerror(r->status));
}

int openai_say(const struct wb_config *cfg, const char *text, struct wb_buf *pcm, int *rate,
               int *channels, struct wb_error *err)
{
    struct wb_openai_opts o;
    struct wb_http_request req;
    struct wb_engine *eng = NULL;
    struct wb_request_cbs cbs = { 0 };
    struct say s = { pcm, WB_OPENAI_PCM_RATE, WB_OPENAI_PCM_CHANNELS, 0, err };
    int rc;

    wb_http_request_init(&req);
    cbs.classify = say_classify;
    cbs.on_done = say_done;
    if ((rc = wb_openai_opts_from_config(cfg, &o, err)))
        goto out;
    if (!o.api_key) {
        rc = wb_error_set(err, WB_ECONFIG,
                          "the openai provider needs an API key "
                          "(OPENAI_API_KEY), or use --provider offline");
        goto out;
    }
    if ((rc = wb_openai_speech_request(&o, text, NULL, &req, err)))
        goto out;
    if ((rc = wb_engine_new(cfg, &eng, err)))
        goto out;
    rc = wb_engine_submit(eng, &req, 0, &cbs, &s, NULL);
    if (!rc)
        rc = wb_engine_run(eng);
    if (!rc)
        rc = s.status;
    else if (!err->code)
        wb_error_set(err, rc, "%s", wb_strerror(rc));
    if (!rc) {
        *rate = s.rate;
        *channels = s.channels;
    }
out:
    wb_engine_free(eng);
    wb_http_request_release(&req);
    return rc;
}
