/* The stage driver, written once for every network provider: build the
 * stage's request with the provider's table (providers/provider.h), submit it
 * to the engine, and turn the answer into the stage's result. The provider's
 * parsers run inside the engine's classify step, so a 200 whose body is
 * malformed, truncated, cut off (a length limit) or a stream without its end
 * is retried by the engine like any other temporary failure. Media bytes then
 * go to the worker pool (media.c) for encoding and writing. The offline
 * provider's stages are local work (stages_offline.c).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"

/* ---- the answers, one reader per stage ---- */

static int details_classify(void *ud, long status, const struct core_http_header *h, size_t nh,
                            const char *body, size_t len, struct core_api_error *out)
{
    struct stage_task *t = ud;
    if (!prov_ok_status(status))
        return t->ops->parse_error(status, h, nh, body, len, out);
    if (stage_reset_details(t))
        return WB_ENOMEM;
    return t->ops->details_parse(body, len, &t->details, &t->usage, out);
}

static int image_classify(void *ud, long status, const struct core_http_header *h, size_t nh,
                          const char *body, size_t len, struct core_api_error *out)
{
    struct stage_task *t = ud;
    if (!prov_ok_status(status))
        return t->ops->parse_error(status, h, nh, body, len, out);
    wb_buf_reset(&t->media);
    memset(&t->usage, 0, sizeof t->usage);
    return t->ops->image_parse(body, len, &t->media, &t->usage, out);
}

/* A streamed answer (Gemini's SSE) is read whole, then parsed here, on the
 * worker pool like a picture's: its events' JSON and base64 (~1.7 ms a clip)
 * no longer run on the loop thread as the bytes arrive. Each attempt starts
 * from a fresh stream state. */
static int speech_classify(void *ud, long status, const struct core_http_header *h, size_t nh,
                           const char *body, size_t len, struct core_api_error *out)
{
    struct stage_task *t = ud;
    int rc;
    if (!prov_ok_status(status))
        return t->ops->parse_error(status, h, nh, body, len, out);
    if (t->speech) {
        t->ops->speech_reset(t->speech);
        if ((rc = t->ops->speech_feed(t->speech, body, len, out)) != 0)
            return rc;
    }
    return t->ops->speech_end(t->speech, body, len, &t->pcm, &t->pcm_rate, &t->pcm_channels,
                              &t->usage, out);
}

/* A picture's or a clip's bytes are in and wait for their parse on the
 * pool: the entry no longer waits for the network, so its slot can go to
 * the next entry now (a parse takes milliseconds on a busy pool); a bad
 * answer, asked for again, takes the slot back. */
static void media_answer(void *ud, int in)
{
    struct stage_task *t = ud;
    if (in)
        pipe_stage_answered(t->job->run, t->job, t->stage);
    else
        pipe_stage_unanswered(t->job->run, t->job, t->stage);
}

/* ---- the requests ---- */

static int details_request(struct stage_task *t, const void *o, struct core_http_request *req,
                           struct engine_request_cbs *cbs, struct wb_error *err)
{
    cbs->classify = details_classify;
    cbs->on_done = stage_details_done;
    return t->ops->details_request(o, &t->job->e, req, err);
}

static int image_request(struct stage_task *t, const void *o, struct core_http_request *req,
                         struct engine_request_cbs *cbs, struct wb_error *err)
{
    char *text = prompt_image(t->job->e.image_description);
    int rc;
    cbs->classify = image_classify;
    cbs->classify_in_pool = 1; /* decodes the whole payload */
    cbs->on_answer = media_answer;
    cbs->on_done = stage_media_done;
    if (!text)
        return wb_error_set(err, t->job->e.image_description ? WB_ENOMEM : WB_EINVAL, "%s",
                            t->job->e.image_description ? "out of memory"
                                                        : "no image description to draw from");
    rc = t->ops->image_request(o, text, req, err);
    free(text);
    return rc;
}

static int speech_request(struct stage_task *t, const void *o, struct core_http_request *req,
                          struct engine_request_cbs *cbs, struct wb_error *err)
{
    struct run *r = t->job->run;
    char *text = prompt_speech_text(&t->job->e, r->speech_mode);
    int rc;
    if (t->ops->speech_new) {
        if (!t->speech && !(t->speech = t->ops->speech_new())) {
            free(text);
            return wb_error_set(err, WB_ENOMEM, "out of memory");
        }
    }
    cbs->classify = speech_classify;
    cbs->classify_in_pool = 1; /* decodes the whole payload */
    cbs->on_answer = media_answer;
    cbs->on_done = stage_media_done;
    if (!text)
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    rc = t->ops->speech_request(o, text, t->voice, req, err);
    free(text);
    return rc;
}

typedef int (*request_fn)(struct stage_task *t, const void *o, struct core_http_request *req,
                          struct engine_request_cbs *cbs, struct wb_error *err);
static const request_fn requests[WB_STAGE_COUNT] = { details_request, image_request,
                                                     speech_request };

int stage_request_start(struct stage_task *t)
{
    struct run *r = t->job->run;
    struct core_http_request req;
    struct engine_request_cbs cbs = { 0 };
    struct wb_error err = { 0 };
    int rc;

    core_http_request_init(&req);
    rc = requests[t->stage](t, r->popts[t->ops->id], &req, &cbs, &err);
    return stage_submit(t, &req, &cbs, rc, &err);
}
