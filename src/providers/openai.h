/* The OpenAI-compatible provider: pure request builders and response parsers
 * for OpenAI's API (api.openai.com/v1) and the local model servers that speak
 * the same protocol (OPENAI_BASE_URL), no I/O. Three endpoints: chat/completions
 * with a strict json_schema response_format (word details), audio/speech asking
 * for raw PCM (24 kHz s16le mono; the pipeline encodes it) and
 * images/generations with base64 answers. The engine sends the core_http_request
 * records built here and hands what comes back to the parsers.
 *
 * The key only ever goes in "Authorization: Bearer <key>". Model ids, voice,
 * base URL and image size are configuration. Errors ({"error": {message, type,
 * param, code}}) are classified for the engine from the status, the body and
 * the rate-limit headers (retry-after-ms, Retry-After, x-ratelimit-reset-*),
 * keeping the API's own message for the user. Every parser caps what it
 * accepts. Token counts use struct prov_usage (gemini.h), the pipeline's record.
 */
#ifndef WB_PROVIDERS_OPENAI_H
#define WB_PROVIDERS_OPENAI_H

#include <stddef.h>
#include <stdint.h>

#include "core/http.h"
#include "providers/gemini.h" /* struct prov_usage */
#include "providers/prompts.h"
#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"

#define WB_OPENAI_DEFAULT_BASE_URL    "https://api.openai.com/v1"
#define WB_OPENAI_DEFAULT_TEXT_MODEL  "gpt-4o-mini"
#define WB_OPENAI_DEFAULT_TTS_MODEL   "gpt-4o-mini-tts"
#define WB_OPENAI_DEFAULT_IMAGE_MODEL "gpt-image-1"
#define WB_OPENAI_DEFAULT_VOICE       "alloy"
#define WB_OPENAI_DEFAULT_IMAGE_SIZE  "1024x1024"

/* What response_format "pcm" returns. */
#define WB_OPENAI_PCM_RATE     24000
#define WB_OPENAI_PCM_CHANNELS 1

/* Caps on what the network can make us hold. */
#define WB_OPENAI_MAX_TEXT  ((size_t)8 << 20)  /* a chat or error JSON response */
#define WB_OPENAI_MAX_MEDIA ((size_t)64 << 20) /* decoded image or PCM bytes */
#define WB_OPENAI_MAX_BODY  ((size_t)96 << 20) /* an images response (base64 inside) */

/* Where and how to call. Every pointer is borrowed (from a wb_config or string
 * literals); a NULL or empty field takes the WB_OPENAI_DEFAULT_* value, except
 * api_key, which the request builders require (WB_ECONFIG without it). */
struct openai_opts {
    const char *base_url; /* including the version: ".../v1"; a trailing '/' is ignored */
    const char *api_key;  /* sent only as Authorization: Bearer */
    const char *text_model, *tts_model, *image_model;
    const char *voice;               /* alloy, ash, coral, ... (or a local server's voice) */
    const char *image_size;          /* "1024x1024" (default), "1536x1024", "auto", ... */
    const char *image_quality;       /* NULL: the model's default ("low", "hd", ...) */
    const char *speech_instructions; /* NULL: none (gpt-4o-mini-tts "instructions") */
    double temperature;              /* details only; < 0 (the default) leaves it to the model */
};

/* Zero o and set the defaults (temperature -1). */
void openai_opts_init(struct openai_opts *o);
/* Fill o from a configuration: openai_base_url, openai_api_key,
 * openai_text_model, openai_tts_model, openai_image_model, openai_voice and
 * the optional settings "openai.image_size", "openai.image_quality",
 * "openai.speech_instructions", "openai.temperature". Pointers borrow from cfg
 * (which must outlive o). Registers the key as a secret. -WB_ECONFIG for a base
 * URL that is not http:// or https://. A missing key is not an error here
 * (the request builders refuse); check o->api_key. */
int openai_opts_from_config(const struct wb_config *cfg, struct openai_opts *o,
                            struct wb_error *err);

/* ---- word details (chat/completions, strict json_schema) ---- */

/* POST {base}/chat/completions: messages [system, user (prompt_details(e))],
 * response_format {type: json_schema, json_schema: {name: "flashcard", strict:
 * true, schema}} where every object has additionalProperties false and lists
 * all its properties in required. out must be initialised; on failure it is
 * left released. */
int openai_details_request(const struct openai_opts *o, const struct wb_entry *e,
                           struct core_http_request *out, struct wb_error *err);
/* Parse a 2xx chat.completion body into e, as gemini_details_parse does:
 * description, examples, image_description, reading (NULL when empty), language
 * (only when e had none); e->word and e->translation are never changed, and
 * nothing in e changes unless the parse succeeds.
 *   choices[0].message.refusal (a string) -> WB_EBLOCKED, not retryable, the refusal text
 *   finish_reason "content_filter"       -> WB_EBLOCKED, not retryable
 *   finish_reason "length" or missing    -> WB_EINCOMPLETE, retryable
 *   any other finish_reason but "stop"   -> WB_EINCOMPLETE, not retryable
 *   content that is not the card's JSON  -> WB_EPARSE, retryable
 *   an "error" object in the body        -> as openai_parse_error (status 0)
 * u may be NULL; it is filled even on failure. Returns 0 or aerr->code. */
int openai_details_parse(const char *body, size_t len, struct wb_entry *e, struct prov_usage *u,
                         struct core_api_error *aerr);

/* ---- speech (audio/speech) ---- */

/* POST {base}/audio/speech {model, input: text, voice (NULL: o->voice),
 * response_format: "pcm"[, instructions]}. The answer is the raw audio. */
int openai_speech_request(const struct openai_opts *o, const char *text, const char *voice,
                          struct core_http_request *out, struct wb_error *err);
/* Check a 2xx speech body and append its PCM to pcm (cap WB_OPENAI_MAX_MEDIA):
 * raw PCM is taken as 24 kHz mono s16le; a RIFF/WAVE body (servers that ignore
 * "pcm") is unwrapped with its own rate and channels. Empty or odd-length
 * bodies -> WB_EINCOMPLETE, retryable; a JSON error -> as openai_parse_error;
 * MP3/Ogg/other containers -> WB_EMEDIA, not retryable. rate/channels may be NULL. */
int openai_speech_parse(const char *body, size_t len, struct wb_buf *pcm, int *rate, int *channels,
                        struct core_api_error *aerr);

/* ---- images (images/generations) ---- */

/* True for models that always answer base64 and reject response_format
 * (gpt-image-*, chatgpt-image-*). */
int openai_image_model_is_gpt(const char *model);
/* POST {base}/images/generations {model, prompt, n: 1, size[, quality]
 * [, response_format: "b64_json" for every model but the gpt-image family]}. */
int openai_image_request(const struct openai_opts *o, const char *prompt,
                         struct core_http_request *out, struct wb_error *err);
/* Decode data[0].b64_json into bytes (its limit is lowered to no more than
 * WB_OPENAI_MAX_MEDIA). Only a URL (response_format ignored) -> WB_EUNSUPPORTED,
 * not retryable; no data -> WB_EINCOMPLETE, retryable; bad base64 -> WB_EPARSE,
 * retryable; an "error" object -> as openai_parse_error. u may be NULL
 * (usage.input_tokens/output_tokens of gpt-image models). */
int openai_image_parse(const char *body, size_t len, struct wb_buf *bytes, struct prov_usage *u,
                       struct core_api_error *aerr);

/* ---- errors ---- */

/* Classify a failed call from its HTTP status, headers and body:
 *   429 -> WB_ERATELIMIT, retryable; retry_after_ms from retry-after-ms (ms),
 *          else Retry-After (seconds or an HTTP date), else the
 *          x-ratelimit-reset-requests / -tokens duration ("1s", "6m0s",
 *          "120ms") of the exhausted limit (remaining 0; both or neither: the
 *          larger), else "try again in 1.5s" in the message;
 *          code/type insufficient_quota -> WB_EQUOTA, per_day, not retryable
 *   401, 403 -> WB_EAUTH; 404 -> WB_EMODEL; 400, 422 -> WB_EINVAL (a
 *   moderation_blocked / content_policy_violation code -> WB_EBLOCKED);
 *   408, 409, 5xx -> WB_EHTTP, retryable (with the header hint if any);
 *   other -> WB_EHTTP, not retryable. "x-should-retry: true|false" overrides
 *   the retryable flag (not for a per-day quota).
 * message is error.message (or an excerpt of a non-JSON body), status the
 * error's code or type. http_status 0 (an error inside a 2xx body) is
 * WB_EHTTP, retryable, unless the code says otherwise. Returns out->code. */
int openai_parse_error(long http_status, const struct core_http_header *h, size_t nh,
                       const char *body, size_t len, struct core_api_error *out);

/* A Go-style duration as in x-ratelimit-reset-* ("1s", "6m0s", "1h2m3.5s",
 * "120ms", "250us", "0.5s") in milliseconds (rounded up), or -1. Exposed for tests. */
int64_t openai_duration_ms(const char *s);

#endif
