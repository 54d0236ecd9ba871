/* The Gemini provider: pure request builders and response parsers for the
 * Gemini API (generativelanguage.googleapis.com), no I/O. The engine sends the
 * core_http_request records built here with libcurl and hands the bytes it gets
 * back to the parsers; the pipeline and the CLI (doctor) call both.
 *
 * What is sent matches the official JS SDK (@google/genai 2.32) byte for byte
 * where the call is the same (tests/providers compare against its recorded
 * requests): path {base}/{version}/models/{model}:{method}, headers
 * x-goog-api-key (the only place the key ever goes), x-goog-api-client:
 * wordbank/<version>, Content-Type: application/json, compact JSON bodies with
 * the SDK's key order. Model ids, voices, API version and base URL are all
 * configuration because Google retires models every few months.
 *
 * Every parser caps what it accepts (WB_GEMINI_MAX_TEXT for JSON text
 * responses, WB_GEMINI_MAX_MEDIA for decoded audio/images) and reports failures
 * in a struct core_api_error: code, retryable flag, retry hint and the API's own
 * message, so the engine can decide and the user can read why.
 */
#ifndef WB_PROVIDERS_GEMINI_H
#define WB_PROVIDERS_GEMINI_H

#include <stddef.h>
#include <stdint.h>

#include "core/http.h"
#include "providers/prompts.h"
#include "providers/sse.h"
#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"

#define WB_GEMINI_DEFAULT_BASE_URL    "https://generativelanguage.googleapis.com"
#define WB_GEMINI_DEFAULT_API_VERSION "v1beta"
#define WB_GEMINI_DEFAULT_TEXT_MODEL  "gemini-3.8-flash"
#define WB_GEMINI_DEFAULT_TTS_MODEL   "gemini-3.8-flash-tts"
#define WB_GEMINI_DEFAULT_IMAGE_MODEL "gemini-3.1-flash-image"
#define WB_GEMINI_DEFAULT_VOICE       "Kore"
#define WB_GEMINI_DEFAULT_VOICE2      "Puck"
#define WB_GEMINI_DEFAULT_ASPECT      "1:1"
#define WB_GEMINI_DEFAULT_RESOLUTION  "1K"

/* Caps on what the network can make us hold. */
#define WB_GEMINI_MAX_TEXT  ((size_t)8 << 20)  /* a JSON text/list/error response */
#define WB_GEMINI_MAX_MEDIA ((size_t)64 << 20) /* decoded audio or image bytes */
#define WB_GEMINI_MAX_EVENT ((size_t)96 << 20) /* one SSE event / one media response body */

/* Where and how to call. Every pointer is borrowed (from a wb_config, or string
 * literals); a NULL field takes the WB_GEMINI_DEFAULT_* value, except api_key,
 * which the request builders require (WB_ECONFIG without it). */
struct gemini_opts {
    const char *base_url;    /* GEMINI_BASE_URL; a trailing '/' is ignored */
    const char *api_version; /* "v1beta" (default), "v1", "v1alpha" */
    const char *api_key;     /* sent only as x-goog-api-key */
    const char *text_model, *tts_model, *image_model;
    const char *image_api;        /* "gemini" (generateContent, default) | "imagen" (:predict) */
    const char *voice, *voice2;   /* speech voice; dialogue voices for speaker 1 and 2 */
    const char *image_aspect;     /* imageConfig.aspectRatio, default "1:1" */
    const char *image_resolution; /* imageConfig.imageSize, default "1K" */
    double temperature;           /* details only; < 0 (the default) leaves it to the model */
    const char *thinking_level; /* details only: thinkingConfig.thinkingLevel; NULL: the model's */
    const char *client;         /* x-goog-api-client value, default "wordbank/" WB_VERSION */
};

/* Fill o from a configuration: base_url, api_version, gemini_api_key, text_model,
 * tts_model, image_model, image_api, voice, voice2, and the optional settings
 * "gemini.image_aspect", "gemini.image_resolution", "gemini.temperature",
 * "gemini.thinking_level".
 * Pointers borrow from cfg (which must outlive o). Registers the key as a secret
 * so it is redacted from every log line and error. -WB_ECONFIG for an unknown
 * image_api. */
int gemini_opts_from_config(const struct wb_config *cfg, struct gemini_opts *o,
                            struct wb_error *err);
/* Zero o and set the defaults (temperature -1). */
void gemini_opts_init(struct gemini_opts *o);

/* Token counts of one call (usageMetadata; absent fields are 0). */
struct prov_usage {
    int64_t prompt_tokens;  /* promptTokenCount */
    int64_t output_tokens;  /* candidatesTokenCount */
    int64_t thought_tokens; /* thoughtsTokenCount */
    int64_t total_tokens;   /* totalTokenCount */
};

/* ---- word details (text model, generateContent, JSON schema) ---- */

/* POST {base}/{ver}/models/{text_model}:generateContent with the details prompt
 * (word, translation, context, language of e), responseMimeType
 * application/json and a responseSchema (upper-case types, propertyOrdering).
 * out must be initialised; on failure it is left released. */
int gemini_details_request(const struct gemini_opts *o, const struct wb_entry *e,
                           struct core_http_request *out, struct wb_error *err);
/* Parse a 200 response body into e: description, examples {text, translation},
 * image_description, reading (NULL when empty), language (only when e had none).
 * e->word and e->translation are never changed (the input's are kept). Only
 * finishReason STOP succeeds; the error record says why not:
 *   promptFeedback.blockReason, SAFETY, RECITATION, ... -> WB_EBLOCKED, not retryable
 *   MAX_TOKENS, no finishReason                          -> WB_EINCOMPLETE, retryable
 *   other finish reasons                                  -> WB_EINCOMPLETE, not retryable
 *   JSON text that does not parse or lacks fields          -> WB_EPARSE, retryable
 *   an "error" object in the body                          -> as gemini_parse_error
 * Returns 0 or the code put in aerr. u may be NULL; it is filled even on failure. */
int gemini_details_parse(const char *body, size_t len, struct wb_entry *e, struct prov_usage *u,
                         struct core_api_error *aerr);

/* ---- speech (TTS model) ---- */

/* POST {base}/{ver}/models/{tts_model}:streamGenerateContent?alt=sse (stream=1)
 * with responseModalities ["AUDIO"] and speechConfig.voiceConfig.
 * prebuiltVoiceConfig.voiceName = voice (NULL: o->voice). No sampling
 * parameters. The body is identical to the SDK's generateContentStream call. */
int gemini_speech_request(const struct gemini_opts *o, const char *text, const char *voice,
                          struct core_http_request *out, struct wb_error *err);
/* The same as one unary generateContent call (stream=0); parse the whole body
 * with gemini_audio_parse_response(). */
int gemini_speech_request_unary(const struct gemini_opts *o, const char *text, const char *voice,
                                struct core_http_request *out, struct wb_error *err);
/* A two-speaker dialogue, streamed: multiSpeakerVoiceConfig with exactly two
 * speakers, named as in the lines, voice_a for the first speaker to appear and
 * voice_b for the second (NULL: o->voice / o->voice2). Any other number of
 * speakers is refused with WB_EINVAL and a message naming them, before any
 * request exists. */
int gemini_dialogue_request(const struct gemini_opts *o, const struct wb_dialogue_line *lines,
                            size_t n, const char *voice_a, const char *voice_b,
                            struct core_http_request *out, struct wb_error *err);

/* The same dialogue as one unary generateContent call (stream=0). Reported
 * [3P, 2026]: streamed TTS is cut off with finishReason OTHER once the audio
 * passes about 60 s, while the unary call returns all of it, so long dialogues
 * are safer this way; parse with gemini_audio_parse_response(). */
int gemini_dialogue_request_unary(const struct gemini_opts *o, const struct wb_dialogue_line *lines,
                                  size_t n, const char *voice_a, const char *voice_b,
                                  struct core_http_request *out, struct wb_error *err);

/* An incremental consumer of a TTS response: raw SSE bytes in (any split),
 * PCM out. Each event's inlineData is base64-decoded and appended (capped at
 * WB_GEMINI_MAX_MEDIA); "audio/L16;codec=pcm;rate=N" (and audio/pcm) is raw s16le,
 * "audio/wav" is RIFF whose header is parsed and stripped. */
struct gemini_audio {
    struct sse sse;
    struct wb_buf pcm;
    struct wb_buf scratch;  /* one decoded WAV piece */
    int rate;               /* Hz; 24000 until a mimeType says otherwise */
    int channels;           /* 1 unless a WAV header says otherwise */
    char mime[128];         /* the last inlineData mimeType */
    char finish_reason[64]; /* "" until a candidate carries one */
    int blocked;            /* promptFeedback.blockReason seen */
    size_t n_events;
    struct prov_usage usage;          /* the last usageMetadata (a running total) */
    struct core_api_error *aerr;      /* during a feed: where an event's failure goes */
    int failed;                       /* sticky: a failure was reported ... */
    struct core_api_error last_error; /* ... and this is it */
};

void gemini_audio_init(struct gemini_audio *a);
void gemini_audio_release(struct gemini_audio *a);
/* Feed raw bytes of the SSE body. Returns 0, or a code with aerr filled: an
 * "error" event (retryable by its code, as gemini_parse_error), a block or a
 * non-STOP finishReason (as for details, except that OTHER is retryable here:
 * TTS models return it intermittently), a bad event (WB_EPARSE, retryable), or
 * WB_ETOOBIG past the caps (not retryable). Sticky: later feeds return the same. */
int gemini_audio_feed(struct gemini_audio *a, const char *data, size_t len,
                      struct core_api_error *aerr);
/* The stream ended. No finishReason -> WB_EINCOMPLETE, retryable; STOP without
 * any audio -> WB_EINCOMPLETE, retryable. 0 when PCM is ready. */
int gemini_audio_finish(struct gemini_audio *a, struct core_api_error *aerr);
/* A unary generateContent TTS body (one JSON response): parse and finish. */
int gemini_audio_parse_response(struct gemini_audio *a, const char *body, size_t len,
                                struct core_api_error *aerr);
const void *gemini_audio_pcm(const struct gemini_audio *a, size_t *len);
int gemini_audio_rate(const struct gemini_audio *a);
int gemini_audio_channels(const struct gemini_audio *a);
const struct prov_usage *gemini_audio_usage(const struct gemini_audio *a);

/* Parse a WAV (RIFF/WAVE, 16-bit PCM) file: append its samples to pcm and
 * report rate and channels. -WB_EMEDIA for anything else. Exposed for tests. */
int gemini_wav_to_pcm(const void *wav, size_t len, struct wb_buf *pcm, int *rate, int *channels);

/* ---- images ---- */

/* image_api "gemini": POST .../models/{image_model}:generateContent with
 * responseModalities ["IMAGE"] and imageConfig {aspectRatio, imageSize}.
 * image_api "imagen": POST .../models/{image_model}:predict with
 * {"instances":[{"prompt"}],"parameters":{"sampleCount":1}} (plus aspectRatio
 * when not 1:1) for endpoints that still serve Imagen. prompt is the final text
 * (see prompt_image). */
int gemini_image_request(const struct gemini_opts *o, const char *prompt,
                         struct core_http_request *out, struct wb_error *err);
/* Parse either response shape (detected from the body): the first non-thought
 * inlineData image (or the first Imagen prediction) is decoded into image_bytes
 * (its limit is raised to no more than WB_GEMINI_MAX_MEDIA), its mimeType copied
 * into mime. IMAGE_SAFETY, IMAGE_PROHIBITED_CONTENT, IMAGE_RECITATION,
 * IMAGE_OTHER, NO_IMAGE, SAFETY ..., a prompt block, an Imagen
 * raiFilteredReason, or a text-only answer -> WB_EBLOCKED, not retryable, with
 * the reason; no finishReason -> WB_EINCOMPLETE retryable. */
int gemini_image_parse(const char *body, size_t len, struct wb_buf *image_bytes, char *mime,
                       size_t mime_len, struct prov_usage *u, struct core_api_error *aerr);

/* ---- errors ---- */

/* Classify a failed call from its HTTP status, headers and body:
 *   429 -> WB_ERATELIMIT, retryable, retry_after_ms from RetryInfo.retryDelay,
 *          else a Retry-After header, else "Please retry in 38.2s" in the message;
 *          a QuotaFailure quotaId containing "PerDay" -> WB_EQUOTA, per_day, not retryable
 *   400 -> WB_EINVAL (ErrorInfo reason API_KEY_INVALID -> WB_EAUTH), 401/403 -> WB_EAUTH,
 *          (400 is retryable only for a TTS model's "Model tried to generate text")
 *   404 -> WB_EMODEL: not retryable
 *   408, 500, 502, 503, 504 -> WB_EHTTP, retryable; any other status -> WB_EHTTP, not
 * message is the API's own message (or a short excerpt of a non-JSON body).
 * http_status 0 with a JSON error (a mid-stream event) uses error.code.
 * Returns out->code. */
int gemini_parse_error(long http_status, const struct core_http_header *h, size_t nh,
                       const char *body, size_t len, struct core_api_error *out);

/* ---- models (doctor) ---- */

/* GET {base}/{ver}/models?pageSize=N[&pageToken=T]; page_size <= 0 means 1000. */
int gemini_models_request(const struct gemini_opts *o, int page_size, const char *page_token,
                          struct core_http_request *out, struct wb_error *err);
/* The model ids of one page ("models/" stripped) and the next page token (NULL
 * on the last page). *ids is a heap array of heap strings: gemini_ids_free. */
int gemini_models_parse(const char *body, size_t len, char ***ids, size_t *n,
                        char **next_page_token, struct core_api_error *aerr);
void gemini_ids_free(char **ids, size_t n);
/* True when id is in the list. */
int gemini_models_has(char *const *ids, size_t n, const char *id);
/* Up to max close alternatives to a missing model id, best first (borrowed
 * pointers into ids): same family (the id's name tokens without versions,
 * "preview", "exp", dates) first, then small edit distance. Returns how many. */
size_t gemini_models_suggest(const char *missing, char *const *ids, size_t n, const char **out,
                             size_t max);

#endif
