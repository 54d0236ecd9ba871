/* The provider tables and the one place a provider is chosen by name. Each
 * table's entries are the provider's own builders and parsers; the few
 * adapters here only give them the interface's common shape. */
#include <stdlib.h>
#include <string.h>

#include "providers/openai.h"
#include "providers/provider.h"
#include "wordbank/offline.h"

/* ---- Gemini ---- */

static void op_gemini_opts_init(void *o)
{
    gemini_opts_init(o);
}

static int op_gemini_opts_from_config(const struct wb_config *cfg, void *o, struct wb_error *err)
{
    return gemini_opts_from_config(cfg, o, err);
}

static const char *op_gemini_api_key(const void *o)
{
    return ((const struct gemini_opts *)o)->api_key;
}

static int op_gemini_details_request(const void *o, const struct wb_entry *e,
                                     struct core_http_request *out, struct wb_error *err)
{
    return gemini_details_request(o, e, out, err);
}

static int op_gemini_image_request(const void *o, const char *prompt, struct core_http_request *out,
                                   struct wb_error *err)
{
    return gemini_image_request(o, prompt, out, err);
}

static int op_gemini_image_parse(const char *body, size_t len, struct wb_buf *bytes,
                                 struct prov_usage *u, struct core_api_error *aerr)
{
    char mime[64];
    return gemini_image_parse(body, len, bytes, mime, sizeof mime, u, aerr);
}

static int op_gemini_speech_request(const void *o, const char *text, const char *voice,
                                    struct core_http_request *out, struct wb_error *err)
{
    return gemini_speech_request(o, text, voice, out, err);
}

/* The speech answer is an SSE stream: its consumer is the state. */
struct prov_speech {
    struct gemini_audio audio;
};

static struct prov_speech *op_gemini_speech_new(void)
{
    struct prov_speech *s = malloc(sizeof *s);
    if (s)
        gemini_audio_init(&s->audio);
    return s;
}

static int op_gemini_speech_feed(struct prov_speech *s, const char *p, size_t n,
                                 struct core_api_error *aerr)
{
    return gemini_audio_feed(&s->audio, p, n, aerr);
}

static void op_gemini_speech_reset(struct prov_speech *s)
{
    gemini_audio_release(&s->audio);
    gemini_audio_init(&s->audio);
}

static int op_gemini_speech_end(struct prov_speech *s, const char *body, size_t len,
                                struct wb_buf *pcm, int *rate, int *channels, struct prov_usage *u,
                                struct core_api_error *aerr)
{
    struct wb_buf mine;
    int rc;
    (void)body;
    (void)len;
    /* The stream ended: it must have said it was finished. */
    if ((rc = gemini_audio_finish(&s->audio, aerr)))
        return rc;
    /* Take the stream's PCM instead of copying it; the reset below frees
     * the caller's old buffer. */
    mine = *pcm;
    *pcm = s->audio.pcm;
    s->audio.pcm = mine;
    *rate = gemini_audio_rate(&s->audio);
    *channels = gemini_audio_channels(&s->audio);
    if (u)
        *u = *gemini_audio_usage(&s->audio);
    /* The consumer's copy is no longer needed. */
    op_gemini_speech_reset(s);
    return 0;
}

static void op_gemini_speech_free(struct prov_speech *s)
{
    if (!s)
        return;
    gemini_audio_release(&s->audio);
    free(s);
}

static int op_gemini_models_request(const void *o, int page_size, const char *page_token,
                                    struct core_http_request *out, struct wb_error *err)
{
    return gemini_models_request(o, page_size, page_token, out, err);
}

const struct prov_ops prov_gemini_ops = {
    .id = PROV_GEMINI,
    .name = "gemini",
    .batch = 1,
    .model_key = { "text_model", "image_model", "tts_model" },
    .voice_key = "voice",
    .no_key = "the gemini provider needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY, or "
              "put GEMINI_API_KEY in .env), or use --provider offline",
    .opts_size = sizeof(struct gemini_opts),
    .opts_init = op_gemini_opts_init,
    .opts_from_config = op_gemini_opts_from_config,
    .api_key = op_gemini_api_key,
    .details_request = op_gemini_details_request,
    .details_parse = gemini_details_parse,
    .image_request = op_gemini_image_request,
    .image_parse = op_gemini_image_parse,
    .speech_request = op_gemini_speech_request,
    .speech_new = op_gemini_speech_new,
    .speech_feed = op_gemini_speech_feed,
    .speech_reset = op_gemini_speech_reset,
    .speech_end = op_gemini_speech_end,
    .speech_free = op_gemini_speech_free,
    .parse_error = gemini_parse_error,
    .models_request = op_gemini_models_request,
    .models_parse = gemini_models_parse,
};

/* ---- OpenAI-compatible ---- */

static void op_openai_opts_init(void *o)
{
    openai_opts_init(o);
}

static int op_openai_opts_from_config(const struct wb_config *cfg, void *o, struct wb_error *err)
{
    return openai_opts_from_config(cfg, o, err);
}

static const char *op_openai_api_key(const void *o)
{
    return ((const struct openai_opts *)o)->api_key;
}

static int op_openai_details_request(const void *o, const struct wb_entry *e,
                                     struct core_http_request *out, struct wb_error *err)
{
    return openai_details_request(o, e, out, err);
}

static int op_openai_image_request(const void *o, const char *prompt, struct core_http_request *out,
                                   struct wb_error *err)
{
    return openai_image_request(o, prompt, out, err);
}

static int op_openai_speech_request(const void *o, const char *text, const char *voice,
                                    struct core_http_request *out, struct wb_error *err)
{
    return openai_speech_request(o, text, voice, out, err);
}

/* One body of raw PCM (or a WAV some servers send instead). */
static int op_openai_speech_end(struct prov_speech *s, const char *body, size_t len,
                                struct wb_buf *pcm, int *rate, int *channels, struct prov_usage *u,
                                struct core_api_error *aerr)
{
    (void)s;
    (void)u;
    wb_buf_reset(pcm);
    *rate = WB_OPENAI_PCM_RATE;
    *channels = WB_OPENAI_PCM_CHANNELS;
    return openai_speech_parse(body, len, pcm, rate, channels, aerr);
}

const struct prov_ops prov_openai_ops = {
    .id = PROV_OPENAI,
    .name = "openai",
    .model_key = { "openai_text_model", "openai_image_model", "openai_tts_model" },
    .voice_key = "openai_voice",
    .no_key = "the openai provider needs an API key: set OPENAI_API_KEY (or put it in .env; a "
              "local server without keys takes any placeholder), or use --provider offline",
    .opts_size = sizeof(struct openai_opts),
    .opts_init = op_openai_opts_init,
    .opts_from_config = op_openai_opts_from_config,
    .api_key = op_openai_api_key,
    .details_request = op_openai_details_request,
    .details_parse = openai_details_parse,
    .image_request = op_openai_image_request,
    .image_parse = openai_image_parse,
    .speech_request = op_openai_speech_request,
    .speech_end = op_openai_speech_end,
    .parse_error = openai_parse_error,
};

/* ---- offline (MeCab, EDICT, espeak-ng: run by the pipeline) ---- */

const struct prov_ops prov_offline_ops = {
    .id = PROV_OFFLINE,
    .name = WB_OFFLINE_PROVIDER,
    .local = 1,
    .fixed_model = { WB_OFFLINE_DETAILS_MODEL, WB_OFFLINE_DETAILS_MODEL, WB_OFFLINE_SPEECH_MODEL },
};

/* ---- the registry ---- */

static const struct prov_ops *const registry[] = { &prov_gemini_ops, &prov_openai_ops,
                                                   &prov_offline_ops };

const struct prov_ops *prov_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof registry / sizeof registry[0]; i++) {
        if (!strcmp(registry[i]->name, name))
            return registry[i];
    }
    return NULL;
}

const struct prov_ops *prov_get(enum prov_id id)
{
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++) {
        if (registry[i]->id == id)
            return registry[i];
    }
    return NULL;
}

const char *prov_configured(const struct wb_config *cfg, enum wb_stage s)
{
    static const char *const keys[WB_STAGE_COUNT] = { "details_provider", "image_provider",
                                                      "audio_provider" };
    const char *p = wb_config_get(cfg, keys[s]);
    return p && *p ? p : prov_default(cfg);
}

const char *prov_default(const struct wb_config *cfg)
{
    const char *p = wb_config_get(cfg, "provider");
    if (p && *p)
        return p;
    return wb_config_get(cfg, "gemini_api_key") ? prov_gemini_ops.name : prov_offline_ops.name;
}

const char *prov_model(const struct prov_ops *p, const struct wb_config *cfg, enum wb_stage s)
{
    if (!p)
        return "";
    if (p->fixed_model[s])
        return p->fixed_model[s];
    return p->model_key[s] ? wb_config_get(cfg, p->model_key[s]) : "";
}
