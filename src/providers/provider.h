/* The provider interface: one table of operations per provider, and the one
 * place that chooses a provider by name.
 *
 * A provider is pure: it builds core_http_request records and parses the bytes
 * that come back, with no I/O (the engine sends them). The table says, per
 * stage, how to build the request and how to read a 2xx answer, how to read a
 * refusal (classify an error for the engine), where its models and voice are
 * configured, and what else it offers (a model listing, a batch API). The
 * pipeline's stage driver (src/pipeline/stages.c) is written once against it.
 *
 * A local provider (offline) has no request builders: its stages are CPU work
 * the pipeline runs on the worker pool; its table names it and its models.
 */
#ifndef WB_PROVIDERS_PROVIDER_H
#define WB_PROVIDERS_PROVIDER_H

#include <stddef.h>

#include "core/http.h"
#include "providers/gemini.h" /* struct prov_usage */
#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"

enum prov_id {
    PROV_NONE = 0,
    PROV_GEMINI,
    PROV_OPENAI,
    PROV_OFFLINE,
    PROV_COUNT
};

/* The most decoded media bytes (a picture or a clip) any provider hands back. */
#define PROV_MAX_MEDIA ((size_t)64 << 20)

/* A speech answer being read: the provider's own state (a stream consumer). */
struct prov_speech;

struct prov_ops {
    enum prov_id id;
    const char *name; /* "gemini", what settings and the store say */
    int local;        /* no requests: the pipeline runs the stages itself */
    int batch;        /* has a batch API (wordbank propagate --batch) */
    /* The settings naming each stage's model, and the voice's. A local
     * provider's models are fixed names instead. */
    const char *model_key[WB_STAGE_COUNT];
    const char *fixed_model[WB_STAGE_COUNT];
    const char *voice_key;
    /* Said when a stage needs the key and none is set. */
    const char *no_key;

    /* Options: opts_size bytes the provider fills from a configuration
     * (pointers borrow from cfg); api_key is the key they carry, or NULL. */
    size_t opts_size;
    void (*opts_init)(void *o);
    int (*opts_from_config)(const struct wb_config *cfg, void *o, struct wb_error *err);
    const char *(*api_key)(const void *o);

    /* Details: the request for an entry; a 2xx body parsed into e (and u). */
    int (*details_request)(const void *o, const struct wb_entry *e, struct core_http_request *out,
                           struct wb_error *err);
    int (*details_parse)(const char *body, size_t len, struct wb_entry *e, struct prov_usage *u,
                         struct core_api_error *aerr);
    /* Image: the request for a final prompt; a 2xx body's picture into bytes. */
    int (*image_request)(const void *o, const char *prompt, struct core_http_request *out,
                         struct wb_error *err);
    int (*image_parse)(const char *body, size_t len, struct wb_buf *bytes, struct prov_usage *u,
                       struct core_api_error *aerr);
    /* Speech: the request (voice NULL: the configured one). A streamed answer
     * is fed piece by piece into the provider's state (speech_new; NULL when
     * the answer is one body); speech_end then puts the PCM (replacing pcm's
     * contents), its rate, channels and usage, from the state or the body. */
    int (*speech_request)(const void *o, const char *text, const char *voice,
                          struct core_http_request *out, struct wb_error *err);
    struct prov_speech *(*speech_new)(void);
    int (*speech_feed)(struct prov_speech *s, const char *p, size_t n, struct core_api_error *aerr);
    void (*speech_reset)(struct prov_speech *s);
    int (*speech_end)(struct prov_speech *s, const char *body, size_t len, struct wb_buf *pcm,
                      int *rate, int *channels, struct prov_usage *u, struct core_api_error *aerr);
    void (*speech_free)(struct prov_speech *s);

    /* Classify a refusal (a non-2xx answer) for the engine. */
    int (*parse_error)(long status, const struct core_http_header *h, size_t nh, const char *body,
                       size_t len, struct core_api_error *out);

    /* The models the endpoint serves, a page at a time (NULL: cannot list). */
    int (*models_request)(const void *o, int page_size, const char *page_token,
                          struct core_http_request *out, struct wb_error *err);
    int (*models_parse)(const char *body, size_t len, char ***ids, size_t *n, char **next,
                        struct core_api_error *aerr);
};

extern const struct prov_ops prov_gemini_ops;
extern const struct prov_ops prov_openai_ops;
extern const struct prov_ops prov_offline_ops;

/* The provider of that name, or NULL. */
const struct prov_ops *prov_find(const char *name);
/* The provider by id (PROV_NONE: NULL). */
const struct prov_ops *prov_get(enum prov_id id);
/* The name of the provider configured for a stage: <stage>_provider, else
 * provider, else gemini when a Gemini key is set, else offline. */
const char *prov_configured(const struct wb_config *cfg, enum wb_stage s);
/* The provider of every stage without its own: provider, else gemini when a
 * Gemini key is set, else offline. */
const char *prov_default(const struct wb_config *cfg);
/* The configured model of a stage ("" when none). */
const char *prov_model(const struct prov_ops *p, const struct wb_config *cfg, enum wb_stage s);
/* Answer classification every stage shares: a 2xx status is read by the
 * stage's parser; anything else by the provider's error parser. */
static inline int prov_ok_status(long status)
{
    return status >= 200 && status < 300;
}

#endif
