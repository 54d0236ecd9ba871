/* Shared scaffolding of the Gemini provider: options and their defaults, the
 * request skeleton (URL, headers), JSON loading under a cap, usage counts and
 * the candidate / finishReason rules every generateContent parser applies.
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "providers/gemini_internal.h"
#include "wordbank/log.h"

#ifndef WB_VERSION
#    define WB_VERSION "0"
#endif

/* ASCII only, whatever the locale. */
static int ascii_alnum(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

void gemini_opts_init(struct gemini_opts *o)
{
    memset(o, 0, sizeof *o);
    o->base_url = WB_GEMINI_DEFAULT_BASE_URL;
    o->api_version = WB_GEMINI_DEFAULT_API_VERSION;
    o->text_model = WB_GEMINI_DEFAULT_TEXT_MODEL;
    o->tts_model = WB_GEMINI_DEFAULT_TTS_MODEL;
    o->image_model = WB_GEMINI_DEFAULT_IMAGE_MODEL;
    o->image_api = "gemini";
    o->voice = WB_GEMINI_DEFAULT_VOICE;
    o->voice2 = WB_GEMINI_DEFAULT_VOICE2;
    o->image_aspect = WB_GEMINI_DEFAULT_ASPECT;
    o->image_resolution = WB_GEMINI_DEFAULT_RESOLUTION;
    o->temperature = -1;
}

int gemini_opts_from_config(const struct wb_config *cfg, struct gemini_opts *o,
                            struct wb_error *err)
{
    gemini_opts_init(o);
    o->base_url = prov_opt(wb_config_get(cfg, "base_url"), o->base_url);
    o->api_version = prov_opt(wb_config_get(cfg, "api_version"), o->api_version);
    o->api_key = wb_config_get(cfg, "gemini_api_key");
    o->text_model = prov_opt(wb_config_get(cfg, "text_model"), o->text_model);
    o->tts_model = prov_opt(wb_config_get(cfg, "tts_model"), o->tts_model);
    o->image_model = prov_opt(wb_config_get(cfg, "image_model"), o->image_model);
    o->image_api = prov_opt(wb_config_get(cfg, "image_api"), o->image_api);
    o->voice = prov_opt(wb_config_get(cfg, "voice"), o->voice);
    o->voice2 = prov_opt(wb_config_get(cfg, "voice2"), o->voice2);
    o->image_aspect = prov_opt(wb_config_get(cfg, "gemini.image_aspect"), o->image_aspect);
    o->image_resolution =
        prov_opt(wb_config_get(cfg, "gemini.image_resolution"), o->image_resolution);
    o->temperature = wb_config_get_double(cfg, "gemini.temperature", -1);
    o->thinking_level = wb_config_get(cfg, "gemini.thinking_level");
    if (o->api_key)
        wb_secret_register(o->api_key);
    if (strcmp(o->image_api, "gemini") != 0 && strcmp(o->image_api, "imagen") != 0)
        return wb_error_set(err, WB_ECONFIG,
                            "image_api must be \"gemini\" or \"imagen\", not \"%s\"", o->image_api);
    return 0;
}

/* A model id as the SDK accepts it: "models/" or "tunedModels/" prefix optional;
 * no "..", '?', '&' (the SDK's refusals), nor anything that would change the URL. */
static int model_ok(const char *m)
{
    const char *s = m;
    if (!strncmp(s, "models/", 7))
        s += 7;
    else if (!strncmp(s, "tunedModels/", 12))
        s += 12;
    if (!*s || strstr(s, ".."))
        return 0;
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (!(ascii_alnum(c) || c == '-' || c == '.' || c == '_' || c == '@'))
            return 0;
    }
    return 1;
}

int gemini_request_begin(const struct gemini_opts *o, const char *method, const char *model,
                         const char *suffix, enum core_req_kind kind, struct core_http_request *out,
                         struct wb_error *err)
{
    const char *base = prov_opt(o->base_url, WB_GEMINI_DEFAULT_BASE_URL);
    const char *ver = prov_opt(o->api_version, WB_GEMINI_DEFAULT_API_VERSION);
    const char *client = prov_opt(o->client, "wordbank/" WB_VERSION);
    size_t blen = strlen(base);
    struct wb_buf url;
    int rc = 0;

    wb_buf_init(&url, 8192);
    if (!o->api_key || !*o->api_key) {
        rc = wb_error_set(err, WB_ECONFIG,
                          "no Gemini API key (set GEMINI_API_KEY or GOOGLE_API_KEY)");
        goto out;
    }
    if (!prov_printable(o->api_key)) {
        rc = wb_error_set(err, WB_ECONFIG, "the Gemini API key contains control characters");
        goto out;
    }
    if (model && !model_ok(model)) {
        rc = wb_error_set(err, WB_ECONFIG, "invalid model id \"%s\"", model);
        goto out;
    }
    for (const char *p = ver; *p; p++) {
        if (!ascii_alnum((unsigned char)*p)) {
            rc = wb_error_set(err, WB_ECONFIG, "invalid API version \"%s\"", ver);
            goto out;
        }
    }
    if (!prov_http_url(base)) {
        rc = wb_error_set(err, WB_ECONFIG, "base URL must start with http:// or https://: \"%s\"",
                          base);
        goto out;
    }
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    rc = wb_buf_append(&url, base, blen);
    if (!rc)
        rc = wb_buf_appendf(&url, "/%s/", ver);
    if (!rc && model)
        rc = wb_buf_appendf(
            &url, "%s%s",
            strncmp(model, "models/", 7) && strncmp(model, "tunedModels/", 12) ? "models/" : "",
            model);
    if (!rc)
        rc = wb_buf_appends(&url, suffix);
    if (rc) {
        wb_error_set(err, rc, "request URL too long");
        goto out;
    }
    out->url = wb_buf_detach(&url, NULL);
    out->method = strdup(method);
    if (model)
        out->model = strdup(strncmp(model, "models/", 7) ? model : model + 7);
    else
        out->model = strdup("models");
    out->kind = kind;
    if (!out->url || !out->method || !out->model)
        rc = WB_ENOMEM;
    if (!rc)
        rc = core_http_request_add_header(out, "Content-Type", "application/json");
    if (!rc)
        rc = core_http_request_add_header(out, "x-goog-api-client", client);
    if (!rc)
        rc = core_http_request_add_header(out, "x-goog-api-key", o->api_key);
    if (rc)
        wb_error_set(err, rc, "out of memory");
out:
    wb_buf_release(&url);
    if (rc)
        core_http_request_release(out);
    return rc;
}

int64_t gemini_json_int(const json_t *v, int64_t dflt)
{
    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v)) {
        /* A real outside int64's range (or NaN) would be undefined to convert. */
        double d = json_real_value(v);
        return d > -9.2e18 && d < 9.2e18 ? (int64_t)d : dflt;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        long long x;
        if (!*s)
            return dflt;
        x = strtoll(s, &end, 10);
        if (*end == '\0')
            return (int64_t)x;
    }
    return dflt;
}

void gemini_usage_parse(const json_t *root, struct prov_usage *u)
{
    const json_t *m = json_object_get(root, "usageMetadata");
    if (!u || !json_is_object(m))
        return;
    u->prompt_tokens = gemini_json_int(json_object_get(m, "promptTokenCount"), 0);
    u->output_tokens = gemini_json_int(json_object_get(m, "candidatesTokenCount"), 0);
    u->thought_tokens = gemini_json_int(json_object_get(m, "thoughtsTokenCount"), 0);
    u->total_tokens = gemini_json_int(json_object_get(m, "totalTokenCount"), 0);
}

static const char *str_or(const json_t *v, const char *dflt)
{
    return json_is_string(v) ? json_string_value(v) : dflt;
}

/* The category of the first safety rating marked blocked, or "". */
static const char *blocked_category(const json_t *obj)
{
    const json_t *r = json_object_get(obj, "safetyRatings");
    size_t i;
    const json_t *x;
    if (!json_is_array(r))
        return "";
    json_array_foreach(r, i, x) {
        if (json_is_true(json_object_get(x, "blocked")))
            return str_or(json_object_get(x, "category"), "");
    }
    return "";
}

int gemini_finish_error(const char *reason, const json_t *cand, struct core_api_error *aerr)
{
    static const char *const blocked[] = {
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "IMAGE_OTHER",
        "NO_IMAGE",
    };
    const char *fm = str_or(json_object_get(cand, "finishMessage"), "");
    const char *cat = blocked_category(cand);
    snprintf(aerr->status, sizeof aerr->status, "%s", reason);
    for (size_t i = 0; i < sizeof blocked / sizeof blocked[0]; i++) {
        if (!strcmp(reason, blocked[i]))
            return prov_fail(aerr, WB_EBLOCKED, 0, "%s%s%s%s%s%s", reason, *cat ? " (" : "", cat,
                             *cat ? ")" : "", *fm ? ": " : "", fm);
    }
    if (!strcmp(reason, "MAX_TOKENS"))
        /* We set no maxOutputTokens, so hitting the model's own limit means a
         * runaway answer; another sample usually ends normally. */
        return prov_fail(aerr, WB_EINCOMPLETE, 1,
                         "MAX_TOKENS: the answer was cut off at the model's output limit%s%s",
                         *fm ? ": " : "", fm);
    if (!strcmp(reason, "CONTINUATION"))
        return prov_fail(aerr, WB_EINCOMPLETE, 0,
                         "CONTINUATION: the model wants a continued request (not supported)");
    return prov_fail(aerr, WB_EINCOMPLETE, 0, "finishReason %s%s%s", reason, *fm ? ": " : "", fm);
}

int gemini_candidate(const json_t *root, int require_finish, json_t **cand,
                     struct core_api_error *aerr)
{
    const json_t *cands = json_object_get(root, "candidates");
    const json_t *pf = json_object_get(root, "promptFeedback");
    const json_t *c, *fr;
    int rc;

    *cand = NULL;
    if ((rc = gemini_inband_error(root, aerr)) != 0)
        return rc;
    if (json_is_object(pf) && json_is_string(json_object_get(pf, "blockReason"))) {
        const char *r = json_string_value(json_object_get(pf, "blockReason"));
        const char *cat = blocked_category(pf);
        const char *m = str_or(json_object_get(pf, "blockReasonMessage"), "");
        snprintf(aerr->status, sizeof aerr->status, "%s", r);
        return prov_fail(aerr, WB_EBLOCKED, 0, "prompt blocked: %s%s%s%s%s%s", r, *cat ? " (" : "",
                         cat, *cat ? ")" : "", *m ? ": " : "", m);
    }
    if (!json_is_array(cands) || json_array_size(cands) == 0) {
        if (!require_finish)
            return 0; /* a stream event with only usage or metadata */
        return prov_fail(aerr, WB_EINCOMPLETE, 1, "response has no candidates");
    }
    c = json_array_get(cands, 0);
    if (!json_is_object(c))
        return prov_fail(aerr, WB_EPARSE, 1, "candidate is not an object");
    fr = json_object_get(c, "finishReason");
    if (json_is_string(fr)) {
        if (strcmp(json_string_value(fr), "STOP") != 0)
            return gemini_finish_error(json_string_value(fr), c, aerr);
    } else if (require_finish) {
        return prov_fail(aerr, WB_EINCOMPLETE, 1, "response has no finishReason (incomplete)");
    }
    *cand = (json_t *)c;
    return 0;
}

int gemini_candidate_text(const json_t *cand, struct wb_buf *out)
{
    const json_t *parts = json_object_get(json_object_get(cand, "content"), "parts");
    const json_t *p;
    size_t i;
    int rc = 0;
    if (!json_is_array(parts))
        return 0;
    json_array_foreach(parts, i, p) {
        const json_t *t = json_object_get(p, "text");
        if (json_is_true(json_object_get(p, "thought")) || !json_is_string(t))
            continue;
        rc = wb_buf_append(out, json_string_value(t), json_string_length(t));
        if (rc)
            break;
    }
    return rc;
}
