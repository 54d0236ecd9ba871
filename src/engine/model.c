/* Per-model scheduling state: the table of models seen in this run, and their
 * limits from configuration ("limit.<model>.<what>", then "limit.<kind>.<what>",
 * then a default per request kind: text requests get a high concurrency cap,
 * image and speech requests a lower one). Rates are unlimited unless
 * configured; a configured rate is applied with a little headroom
 * (limit.headroom) so clock skew between us and the server's window never
 * pushes us over.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "engine/engine_int.h"
#include "wordbank/log.h"

static const char *kind_names[WB_REQ_KIND_COUNT] = { "text", "image", "speech", "list" };
/* Without a window (engine_set_window) or a configured cap. */
static const int default_concurrency[WB_REQ_KIND_COUNT] = { 64, 16, 16, 4 };

static int has_limit(const struct engine *e, const char *model, enum core_req_kind kind,
                     const char *what)
{
    char name[256];
    if (!e->cfg)
        return 0;
    snprintf(name, sizeof name, "limit.%s.%s", model, what);
    if (wb_config_get(e->cfg, name))
        return 1;
    snprintf(name, sizeof name, "limit.%s.%s", kind_names[kind], what);
    return wb_config_get(e->cfg, name) != NULL;
}

/* A model's concurrency cap: the configured one (a real quota), else the
 * window: -j entries in flight may each have a request for every model
 * (list requests stay few). */
static int default_cap(const struct engine *e, enum core_req_kind kind)
{
    if (kind == WB_REQ_LIST || e->window <= 0)
        return default_concurrency[kind];
    return e->window;
}

static double limit_get(const struct engine *e, const char *model, enum core_req_kind kind,
                        const char *what, double dflt)
{
    char name[256];
    snprintf(name, sizeof name, "limit.%s.%s", model, what);
    if (e->cfg && wb_config_get(e->cfg, name))
        return wb_config_double(e->cfg, name);
    snprintf(name, sizeof name, "limit.%s.%s", kind_names[kind], what);
    if (e->cfg && wb_config_get(e->cfg, name))
        return wb_config_double(e->cfg, name);
    return dflt;
}

static struct eng_model *model_new(struct engine *e, const char *name, enum core_req_kind kind)
{
    struct eng_model *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->name = strdup(name);
    if (!m->name) {
        free(m);
        return NULL;
    }
    m->kind = kind;
    /* Until a body has been seen: a 1K picture, a few seconds of speech. */
    m->body_est = kind == WB_REQ_IMAGE ? 256u << 10 : kind == WB_REQ_SPEECH ? 64u << 10 : 0;
    double keep = 1.0 - e->headroom;
    m->rpm_cfg = limit_get(e, name, kind, "rpm", 0);
    m->tpm_cfg = limit_get(e, name, kind, "tpm", 0);
    /* Image and speech quotas are small: no burst beyond one request, so a
     * window of the server's never sees more than its quota. Text: half a
     * second's worth. */
    double burst_dflt = 1;
    if (kind == WB_REQ_TEXT || kind == WB_REQ_LIST)
        burst_dflt = m->rpm_cfg / 120 > 1 ? m->rpm_cfg / 120 : 1;
    double burst = limit_get(e, name, kind, "burst", burst_dflt);
    eng_gcra_init(&m->rpm, m->rpm_cfg * keep, burst);
    eng_gcra_init(&m->tpm, m->tpm_cfg * keep, m->tpm_cfg / 60 > 1 ? m->tpm_cfg / 60 : 1);
    m->conc_configured = has_limit(e, name, kind, "concurrency");
    int conc = (int)limit_get(e, name, kind, "concurrency", default_cap(e, kind));
    eng_aimd_init(&m->aimd, conc, e->aimd_step);
    wb_log(WB_LOG_DEBUG, "engine: model %s (%s): concurrency %d, rpm %.0f, tpm %.0f, burst %.1f",
           name, kind_names[kind], m->aimd.max, m->rpm_cfg, m->tpm_cfg, burst);
    return m;
}

struct eng_model *eng_model_get(struct engine *e, const char *name, enum core_req_kind kind)
{
    if (!name || !*name)
        name = kind_names[kind];
    for (size_t i = 0; i < e->n_models; i++) {
        if (strcmp(e->models[i]->name, name) == 0)
            return e->models[i];
    }
    if (CORE_ARRAY_RESIZE(e->models, e->n_models + 1, 0) != 0)
        return NULL;
    struct eng_model *m = model_new(e, name, kind);
    if (!m)
        return NULL;
    e->models[e->n_models++] = m;
    return m;
}

void eng_models_rewindow(struct engine *e)
{
    for (size_t i = 0; i < e->n_models; i++) {
        struct eng_model *m = e->models[i];
        if (!m->conc_configured)
            eng_aimd_set_max(&m->aimd, default_cap(e, m->kind));
    }
}

void eng_models_free(struct engine *e)
{
    for (size_t i = 0; i < e->n_models; i++) {
        free(e->models[i]->name);
        free(e->models[i]);
    }
    free(e->models);
    e->models = NULL;
    e->n_models = 0;
}

size_t engine_model_count(const struct engine *e)
{
    return e->n_models;
}

int engine_model_info(const struct engine *e, size_t i, struct engine_model_info *out)
{
    if (i >= e->n_models)
        return WB_ENOTFOUND;
    const struct eng_model *m = e->models[i];
    int64_t now = engine_now(e);
    memset(out, 0, sizeof *out);
    out->model = m->name;
    out->in_flight = m->in_flight;
    out->peak_in_flight = m->peak_in_flight;
    out->queued = m->queued;
    out->cap = m->aimd.cur;
    out->cap_max = m->aimd.max;
    out->rpm = m->rpm_cfg;
    out->pause_ms = m->pause_until > now ? m->pause_until - now : 0;
    out->exhausted = m->exhausted;
    out->requests = m->requests;
    out->rate_limited = m->rate_limited;
    out->succeeded = m->succeeded;
    out->failed = m->failed;
    out->start_rpm = m->start_rpm;
    if (m->first_limit_at && m->ok_since_limit >= 3 && m->last_ok_at - m->first_limit_at >= 500)
        out->learned_rpm =
            (double)m->ok_since_limit * 60000.0 / (double)(m->last_ok_at - m->first_limit_at);
    return 0;
}

int engine_set_rate(struct engine *e, const char *model, enum core_req_kind kind, double rpm)
{
    struct eng_model *m = eng_model_get(e, model, kind);
    if (!m)
        return WB_ENOMEM;
    if (m->rpm_cfg > 0 || !(rpm > 0))
        return 0;
    m->start_rpm = rpm;
    eng_gcra_init(&m->rpm, rpm * (1.0 - e->headroom), 1);
    wb_log(WB_LOG_DEBUG, "engine: model %s starts at the learned rate of %.0f requests a minute",
           m->name, rpm);
    return 0;
}
