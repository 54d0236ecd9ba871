/* A blocking request on a private engine: a fresh configuration with one
 * attempt and the caller's time limit, a classifier that accepts every HTTP
 * answer (the caller reads the status and the body), submit, run the loop.
 */
#include <stdio.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/fetch.h"

struct fetch {
    int status;
    long http_status;
    struct wb_buf *body;
    char message[WB_ERRMSG_MAX];
};

/* Every answer is the caller's to read; only transport failures are errors. */
static int accept_all(void *ud, long status, const struct core_http_header *h, size_t nh,
                      const char *body, size_t len, struct core_api_error *out)
{
    (void)ud, (void)status, (void)h, (void)nh, (void)body, (void)len, (void)out;
    return 0;
}

static void fetch_done(void *ud, const struct engine_response *r)
{
    struct fetch *f = ud;
    f->status = r->status;
    f->http_status = r->http_status;
    if (r->status && r->api_error)
        snprintf(f->message, sizeof f->message, "%s", r->api_error->message);
    if (r->body && r->body->len)
        f->status = f->status ? f->status : wb_buf_append(f->body, r->body->data, r->body->len);
}

int engine_fetch(const struct wb_config *cfg, struct core_http_request *req, int64_t timeout_ms,
                 long *http_status, struct wb_buf *body, struct wb_error *err)
{
    static const char *const copied[] = { "ca_file", "timeout.connect_ms", "http.max_body" };
    struct wb_config *c = NULL;
    struct engine *eng = NULL;
    struct engine_request_cbs cbs = { 0 };
    struct fetch f = { .body = body };
    char ms[32];
    int rc;

    *http_status = 0;
    if (wb_config_new(&c) != 0) {
        core_http_request_release(req);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < sizeof copied / sizeof *copied; i++) {
        const char *v = cfg ? wb_config_get(cfg, copied[i]) : NULL;
        if (v)
            wb_config_set(c, copied[i], v, WB_SRC_FLAG);
    }
    snprintf(ms, sizeof ms, "%lld", (long long)(timeout_ms > 0 ? timeout_ms : 120000));
    wb_config_set(c, "retry.max_attempts", "1", WB_SRC_FLAG);
    wb_config_set(c, "retry.deadline_ms", ms, WB_SRC_FLAG);
    wb_config_set(c, "timeout.text_ms", ms, WB_SRC_FLAG);
    req->kind = WB_REQ_TEXT;
    cbs.classify = accept_all;
    cbs.on_done = fetch_done;
    if ((rc = engine_new(c, &eng, err)) != 0) {
        core_http_request_release(req);
        goto out;
    }
    if ((rc = engine_submit(eng, req, 0, &cbs, &f, NULL)) != 0) {
        rc = wb_error_set(err, rc, "sending the request: %s", wb_strerror(rc));
        goto out;
    }
    engine_run(eng);
    rc = f.status;
    if (rc)
        wb_error_set(err, rc, "%s", f.message[0] ? f.message : wb_strerror(rc));
    *http_status = f.http_status;
out:
    engine_free(eng);
    wb_config_free(c);
    return rc;
}
