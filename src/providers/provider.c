/* The provider tables and the one place a provider is chosen by name. Each
 * table's entries are the provider's own builders and parsers; the few
 * adapters here only give them the interface's common shape. */
#include <stdlib.h>
#include <string.h>

#include "providers/openai.h"
#include "providers/provider.h"
#include "wordbank/offline.h"

/* ---- Gemini ---- */

static void gemini_opts_init(void *o)
{
    wb_gemini_opts_init(o);
}

static int gemini_opts_from_config(const struct wb_config *cfg, void *o, struct wb_error *err)
{
    return wb_gemini_opts_from_config(cfg, o, err);
}

static const char *gemini_api_key(const void *o)
{
    return ((const struct wb_gemini_opts *)o)->api_key;
}

static int gemini_details_request(const void *o, const struct wb_entry *e,
                                  struct wb_http_request *out, struct wb_error *err)
{
    return wb_gemini_details_request(o, e, out, err);
}

static int gemini_image_request(const void *o, const char *prompt, struct wb_http_request *out,
                                struct wb_error *err)
{
    return wb_gemini_image_request(o, prompt, out, err);
}

static int gemini_image_parse(const char *body, size_t len, struct wb_buf *bytes,
                              struct wb_usage *u, struct wb_api_error *aerr)
{
    char mime[64];
    return wb_gemini_image_parse(body, len, bytes, mime, sizeof mime, u, aerr);
}

static int gemini_speech_request(const void *o, const char *text, const char *voice,
                                 struct wb_http_request *out, struct wb_error *err)
{
    return wb_gemini_speech_request(o, text, voice, out, err);
}

/* The speech answer is an SSE stream: its consumer is the state. */
struct prov_speech {
    struct wb_gemini_audio audio;
};

static struct prov_speech *gemini_speech_new(void)
{
    struct prov_speech *s = malloc(sizeof *s);
    if (s)
        wb_gemini_audio_init(&s->audio);
    return s;
}

static int gemini_speech_feed(struct prov_speech *s, const char *p, size_t n,
                              struct wb_api_error *aerr)
{
    return wb_gemini_audio_feed(&s->audio, p, n, aerr);
}

static void gemini_speech_reset(struct prov_speech *s)
{
    wb_gemini_audio_release(&s->audio);
    wb_gemini_audio_init(&s->audio);
}

static int gemini_speech_end(struct prov_speech *s, const char *body, size_t len,
                             struct wb_buf *pcm, int *rate, int *channels, struct wb_usage *u,
                             struct wb_api_error *aerr)
{
    struct wb_buf mine;
    int rc;
    (void)body;
    (void)len;
    /* The stream ended: it must have said it was finished. */
    if ((rc = wb_gemini_audio_finish(&s->audio, aerr)))
        return rc;
    /* Take the stream's PCM instead of copying it; the reset below frees
     * the caller's old buffer. */
    mine = *pcm;
    *pcm = s->audio.pcm;
    s->audio.pcm = mine;
    *rate = wb_gemini_audio_rate(&s->audio);
    *channels = wb_gemini_audio_channels(&s->audio);
    if (u)
        *u = *wb_gemini_audio_usage(&s->audio);
    /* The consumer's copy is no longer needed. */
    gemini_speech_reset(s);
    return 0;
}

static void gemini_speech_free(struct prov_speech *s)
{
    if (!s)
        return;
    wb_gemini_audio_release(&s->audio);
    free(s);
}

static int gemini_models_request(const void *o, int page_size, const char *page_token,
                                 struct wb_http_request *out, struct wb_error *err)
{
    return wb_gemini_models_request(o, page_size, page_token, out, err);
}

const struct prov_ops prov_gemini_ops = {
    .id = PROV_GEMINI,
    .name = "gemini",
    .batch = 1,
    .model_key = { "text_model", "image_model", "tts_model" },
    .voice_key = "voice",
    .no_key = "the gemini provider needs an API key: set GEMINI_API_KEY (or GOOGLE_API_KEY, or "
              "put GEMINI_API_KEY in .env), or use --provider offline",
    .opts_size = sizeof(struct wb_gemini_opts),
    .opts_init = gemini_opts_init,
    .opts_from_config = gemini_opts_from_config,
    .api_key = gemini_api_key,
    .details_request = gemini_details_request,
    .details_parse = wb_gemini_details_parse,
    .image_request = gemini_image_request,
    .image_parse = gemini_image_parse,
    .speech_request = gemini_speech_request,
    .speech_new = gemini_speech_new,
    .speech_feed = gemini_speech_feed,
    .speech_reset = gemini_speech_reset,
    .speech_end = gemini_speech_end,
    .speech_free = gemini_speech_free,
    .parse_error = wb_gemini_parse_error,
    .models_request = gemini_models_request,
    .models_parse = wb_gemini_models_parse,
};

/* ---- OpenAI-compatible ---- */

static void openai_opts_init(void *o)
{
    wb_openai_opts_init(o);
}

static int openai_opts_from_config(const struct wb_config *cfg, void *o, struct wb_error *err)
{
    return wb_openai_opts_from_config(cfg, o, err);
}

static const char *openai_api_key(const void *o)
{
    return ((const struct wb_openai_opts *)o)->api_key;
}

static int openai_details_request(const void *o, const struct wb_entry *e,
                                  struct wb_http_request *out, struct wb_error *err)
{
    return wb_openai_details_request(o, e, out, err);
}

static int openai_image_request(const void *o, const char *prompt, struct wb_http_request *out,
                                struct wb_error *err)
{
    return wb_openai_image_request(o, prompt, out, err);
}

static int openai_speech_request(const void *o, const char *text, const char *voice,
                                 struct wb_http_request *out, struct wb_error *err)
{
    return wb_openai_speech_request(o, text, voice, out, err);
}

/* One body of raw PCM (or a WAV some servers send instead). */
static int openai_speech_end(struct prov_speech *s, const char *body, size_t len,
                             struct wb_buf *pcm, int *rate, int *channels, struct wb_usage *u,
                             struct wb_api_error *aerr)
{
    (void)s;
    (void)u;
    wb_buf_reset(pcm);
    *rate = WB_OPENAI_PCM_RATE;
    *channels = WB_OPENAI_PCM_CHANNELS;
    return wb_openai_speech_parse(body, len, pcm, rate, channels, aerr);
}

const struct prov_ops prov_openai_ops = {
    .id = PROV_OPENAI,
    .name = "openai",
    .model_key = { "openai_text_model", "openai_image_model", "openai_tts_model" },
    .voice_key = "openai_voice",
    .no_key = "the openai provider needs an API key: set OPENAI_API_KEY (or put it in .env; a "
              "local server without keys takes any placeholder), or use --provider offline",
    .opts_size = sizeof(struct wb_openai_opts),
    .opts_init = openai_opts_init,
    .opts_from_config = openai_opts_from_config,
    .api_key = openai_api_key,
    .details_request = openai_details_request,
    .details_parse = wb_openai_details_parse,
    .image_request = openai_image_request,
    .image_parse = wb_openai_image_parse,
    .speech_request = openai_speech_request,
    .speech_end = openai_speech_end,
    .parse_error = wb_openai_parse_error,
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
