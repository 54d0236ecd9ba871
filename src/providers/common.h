/* What every provider shares: failure records, loading a response body as a
 * JSON object under a size cap, serialising a request body, and reading the
 * flashcard JSON a model wrote into an entry. Internal to src/providers.
 */
#ifndef WB_PROVIDERS_COMMON_H
#define WB_PROVIDERS_COMMON_H

#include <jansson.h>
#include <stddef.h>
#include <string.h>

#include "core/http.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"

/* The card a model writes, field by field, in order: one list that both
 * providers turn into their own schema dialect (Gemini's upper-case OpenAPI
 * subset, OpenAI's strict JSON Schema). "examples" is the array whose items
 * have prov_example_fields. */
struct prov_card_field {
    const char *name;
    const char *description;
};
#define PROV_CARD_N_FIELDS    7
#define PROV_EXAMPLE_N_FIELDS 2
#define PROV_CARD_EXAMPLES    5 /* the index of "examples" */
extern const struct prov_card_field prov_card_fields[PROV_CARD_N_FIELDS];
extern const struct prov_card_field prov_example_fields[PROV_EXAMPLE_N_FIELDS];

/* How a provider spells a JSON schema: its type names, whether objects list
 * their property order (Gemini's propertyOrdering) or are closed (OpenAI's
 * strict mode: additionalProperties false), and the examples' bounds
 * (max_items 0: none; older strict-mode models refuse them). */
struct prov_schema_dialect {
    const char *string, *array, *object;
    int property_ordering;
    int closed;
    int min_items, max_items;
};
/* The card's schema (prov_card_fields, in order, all required) in that
 * dialect, or NULL when out of memory. One builder for both providers. */
json_t *prov_card_schema(const struct prov_schema_dialect *d);

/* The most examples a card keeps. */
#define PROV_MAX_EXAMPLES 8

/* v when set and not empty, else dflt. */
static inline const char *prov_opt(const char *v, const char *dflt)
{
    return v && *v ? v : dflt;
}

/* 1 when url starts with http:// or https://. */
static inline int prov_http_url(const char *url)
{
    return !strncmp(url, "http://", 7) || !strncmp(url, "https://", 8);
}

/* 1 when v has no control character (below 0x20, or DEL): fit for a header. */
int prov_printable(const char *v);

/* Fill aerr (code, retryable, a redacted message) and return code. */
int prov_fail(struct core_api_error *aerr, int code, int retryable, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* out->message for a refusal whose body is not a JSON error: "HTTP 502: "
 * and the body's first 200 bytes on one line (an HTML page: its <title>),
 * redacted. */
void prov_body_excerpt(long status, const char *body, size_t len, struct core_api_error *out);
/* Parse body as one JSON object (no more than cap bytes): WB_ETOOBIG past the
 * cap, WB_EPARSE (retryable) for empty, broken or non-object bodies. */
int prov_load_json(const char *body, size_t len, size_t cap, json_t **root,
                   struct core_api_error *aerr);
/* Serialise root compactly, in key order, as out's body; out is released on failure. */
int prov_set_body(struct core_http_request *out, json_t *root, struct wb_error *err);
/* The card a model wrote (JSON text; a leading <think>…</think> block and a
 * Markdown code fence are tolerated): description, examples {text,
 * translation} (or plain strings), image_description, reading, language_code.
 * A card without a description or any example is WB_EPARSE (retryable). Only
 * a valid card changes e; word and translation are never touched. */
int prov_card_apply(const char *text, size_t len, struct wb_entry *e, struct core_api_error *aerr);

#endif
