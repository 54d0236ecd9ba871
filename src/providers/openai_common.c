/* Shared scaffolding of the OpenAI provider: options and their defaults, the
 * request skeleton (URL under the configured base, Bearer auth), JSON loading
 * under a cap, failure records and usage counts.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "providers/openai_internal.h"
#include "wordbank/log.h"

#define MAX_MODEL_LEN 256

void openai_opts_init(struct openai_opts *o)
{
    memset(o, 0, sizeof *o);
    o->base_url = WB_OPENAI_DEFAULT_BASE_URL;
    o->text_model = WB_OPENAI_DEFAULT_TEXT_MODEL;
    o->tts_model = WB_OPENAI_DEFAULT_TTS_MODEL;
    o->image_model = WB_OPENAI_DEFAULT_IMAGE_MODEL;
    o->voice = WB_OPENAI_DEFAULT_VOICE;
    o->image_size = WB_OPENAI_DEFAULT_IMAGE_SIZE;
    o->temperature = -1;
}

int openai_opts_from_config(const struct wb_config *cfg, struct openai_opts *o,
                            struct wb_error *err)
{
    openai_opts_init(o);
    o->base_url = prov_opt(wb_config_get(cfg, "openai_base_url"), o->base_url);
    o->api_key = wb_config_get(cfg, "openai_api_key");
    o->text_model = prov_opt(wb_config_get(cfg, "openai_text_model"), o->text_model);
    o->tts_model = prov_opt(wb_config_get(cfg, "openai_tts_model"), o->tts_model);
    o->image_model = prov_opt(wb_config_get(cfg, "openai_image_model"), o->image_model);
    o->voice = prov_opt(wb_config_get(cfg, "openai_voice"), o->voice);
    o->image_size = prov_opt(wb_config_get(cfg, "openai.image_size"), o->image_size);
    o->image_quality = prov_opt(wb_config_get(cfg, "openai.image_quality"), NULL);
    o->speech_instructions = prov_opt(wb_config_get(cfg, "openai.speech_instructions"), NULL);
    o->temperature = wb_config_get_double(cfg, "openai.temperature", -1);
    if (o->api_key && *o->api_key)
        wb_secret_register(o->api_key);
    else
        o->api_key = NULL;
    if (!prov_http_url(o->base_url))
        return wb_error_set(err, WB_ECONFIG,
                            "openai_base_url must start with http:// or https://: \"%s\"",
                            o->base_url);
    return 0;
}

int openai_request_begin(const struct openai_opts *o, const char *path, const char *model,
                         enum core_req_kind kind, struct core_http_request *out,
                         struct wb_error *err)
{
    const char *base = prov_opt(o->base_url, WB_OPENAI_DEFAULT_BASE_URL);
    size_t blen = strlen(base);
    struct wb_buf url, auth;
    int rc = 0;

    wb_buf_init(&url, 8192);
    wb_buf_init(&auth, 8192);
    if (!o->api_key || !*o->api_key) {
        rc = wb_error_set(err, WB_ECONFIG,
                          "no OpenAI API key (set OPENAI_API_KEY; a local server that needs "
                          "none still wants some placeholder value)");
        goto out;
    }
    if (!prov_printable(o->api_key)) {
        rc = wb_error_set(err, WB_ECONFIG, "the OpenAI API key contains control characters");
        goto out;
    }
    if (!model || !*model || strlen(model) > MAX_MODEL_LEN || !prov_printable(model)) {
        rc = wb_error_set(err, WB_ECONFIG, "invalid model id \"%.300s\"", model ? model : "");
        goto out;
    }
    if (!prov_http_url(base) || !prov_printable(base) || strchr(base, ' ')) {
        rc = wb_error_set(err, WB_ECONFIG,
                          "openai_base_url must be an http:// or https:// URL: \"%.300s\"", base);
        goto out;
    }
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    rc = wb_buf_append(&url, base, blen);
    if (!rc)
        rc = wb_buf_appendf(&url, "/%s", path);
    if (!rc)
        rc = wb_buf_appendf(&auth, "Bearer %s", o->api_key);
    if (rc) {
        wb_error_set(err, rc, "request URL or key too long");
        goto out;
    }
    out->url = wb_buf_detach(&url, NULL);
    out->method = strdup("POST");
    out->model = strdup(model);
    out->kind = kind;
    if (!out->url || !out->method || !out->model)
        rc = WB_ENOMEM;
    if (!rc)
        rc = core_http_request_add_header(out, "Content-Type", "application/json");
    if (!rc)
        rc = core_http_request_add_header(out, "Authorization", auth.data);
    if (rc)
        wb_error_set(err, rc, "out of memory");
out:
    wb_buf_release(&url);
    /* The buffer held the key: wipe it before it goes back to the allocator. */
    if (auth.len)
        memset(auth.data, 0, auth.len);
    wb_buf_release(&auth);
    if (rc)
        core_http_request_release(out);
    return rc;
}

static int64_t count(const json_t *obj, const char *a, const char *b)
{
    const json_t *v = json_object_get(obj, a);
    if (!json_is_integer(v) && b)
        v = json_object_get(obj, b);
    if (json_is_integer(v) && json_integer_value(v) >= 0)
        return (int64_t)json_integer_value(v);
    return 0;
}

void openai_usage_parse(const json_t *root, struct prov_usage *u)
{
    const json_t *m = json_object_get(root, "usage");
    if (!u || !json_is_object(m))
        return;
    /* Chat says prompt/completion, the images API input/output. */
    u->prompt_tokens = count(m, "prompt_tokens", "input_tokens");
    u->output_tokens = count(m, "completion_tokens", "output_tokens");
    u->thought_tokens =
        count(json_object_get(m, "completion_tokens_details"), "reasoning_tokens", NULL);
    u->total_tokens = count(m, "total_tokens", NULL);
    if (!u->total_tokens)
        u->total_tokens = u->prompt_tokens + u->output_tokens;
}
