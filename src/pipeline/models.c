/* doctor's model check: list the endpoint's models (GET /v1beta/models, every
 * page) and say which configured model is missing, with close alternatives. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"

struct listing {
    const struct prov_ops *ops;
    const void *o;
    struct engine *eng;
    char **ids;
    size_t n;
    int status;
    struct wb_error *err;
};

static void list_page(struct listing *l, const char *token);

static int list_classify(void *ud, long status, const struct core_http_header *h, size_t nh,
                         const char *body, size_t len, struct core_api_error *out)
{
    struct listing *l = ud;
    if (prov_ok_status(status))
        return 0;
    return l->ops->parse_error(status, h, nh, body, len, out);
}

static void list_done(void *ud, const struct engine_response *r)
{
    struct listing *l = ud;
    char **ids = NULL, *next = NULL;
    size_t n = 0;
    struct core_api_error ae;
    core_api_error_clear(&ae);
    if (r->status) {
        l->status = r->status;
        wb_error_set(l->err, r->status, "listing models: %s",
                     r->api_error && r->api_error->message[0] ? r->api_error->message
                                                              : wb_strerror(r->status));
        return;
    }
    if ((l->status = l->ops->models_parse(r->body->data, r->body->len, &ids, &n, &next, &ae))) {
        wb_error_set(l->err, l->status, "listing models: %s", ae.message);
        return;
    }
    if (CORE_ARRAY_RESIZE(l->ids, l->n + n + 1, 0) != 0) {
        gemini_ids_free(ids, n);
        free(next);
        l->status = wb_error_set(l->err, WB_ENOMEM, "out of memory");
        return;
    }
    memcpy(l->ids + l->n, ids, n * sizeof *ids);
    l->n += n;
    free(ids);
    if (next && *next)
        list_page(l, next);
    free(next);
}

static void list_page(struct listing *l, const char *token)
{
    struct core_http_request req;
    struct engine_request_cbs cbs = { 0 };
    int rc;
    core_http_request_init(&req);
    cbs.classify = list_classify;
    cbs.on_done = list_done;
    if ((rc = l->ops->models_request(l->o, 1000, token, &req, l->err)) == 0)
        rc = engine_submit(l->eng, &req, 0, &cbs, l, NULL);
    if (rc) {
        core_http_request_release(&req);
        l->status = rc;
    }
}

int wb_check_models(const struct wb_config *cfg, struct wb_model_check out[3], struct wb_error *err)
{
    static const char *const roles[3] = { "text", "speech", "image" };
    struct gemini_opts o;
    struct listing l = { 0 };
    int rc;
    memset(out, 0, 3 * sizeof *out);
    if ((rc = gemini_opts_from_config(cfg, &o, err)))
        return rc;
    if (!o.api_key)
        return wb_error_set(err, WB_ECONFIG, "no Gemini API key");
    out[0].model = o.text_model;
    out[1].model = o.tts_model;
    out[2].model = o.image_model;
    l.ops = &prov_gemini_ops;
    l.o = &o;
    l.err = err;
    if ((rc = engine_new(cfg, &l.eng, err)))
        return rc;
    list_page(&l, NULL);
    if (!l.status)
        engine_run(l.eng);
    engine_free(l.eng);
    rc = l.status;
    for (int i = 0; i < 3 && !rc; i++) {
        const char *alt[3];
        size_t k;
        out[i].role = roles[i];
        out[i].found = gemini_models_has(l.ids, l.n, out[i].model);
        if (out[i].found)
            continue;
        k = gemini_models_suggest(out[i].model, l.ids, l.n, alt, 3);
        for (size_t a = 0; a < k && a < 3; a++) {
            size_t used = strlen(out[i].suggestions);
            snprintf(out[i].suggestions + used, sizeof out[i].suggestions - used, "%s%s",
                     a ? ", " : "", alt[a]);
        }
    }
    gemini_ids_free(l.ids, l.n);
    return rc;
}
