/* Helpers shared by the Gemini provider's files (not for other modules):
 * request scaffolding (URL, headers, body), JSON loading with caps, usage,
 * candidate and finish-reason checks, and API error classification.
 */
#ifndef WB_PROVIDERS_GEMINI_INTERNAL_H
#define WB_PROVIDERS_GEMINI_INTERNAL_H

#include <jansson.h>

#include "providers/common.h"
#include "providers/gemini.h"

/* Start a request: method, URL {base}/{version}/models/{model}{suffix}
 * (suffix like ":generateContent" or ":streamGenerateContent?alt=sse"; model NULL
 * for a collection path given whole in suffix), the three headers, kind, model
 * bucket. Validates the key and the model id. out must be initialised. */
int gemini_request_begin(const struct gemini_opts *o, const char *method, const char *model,
                         const char *suffix, enum core_req_kind kind, struct core_http_request *out,
                         struct wb_error *err);
/* Serialise root (compact, insertion order, as JSON.stringify) as the body. */

/* Parse a body of at most cap bytes; on failure aerr is WB_EPARSE (retryable) or
 * WB_ETOOBIG. */

/* usageMetadata (numbers or int64-as-strings) into u; u may be NULL. */
void gemini_usage_parse(const json_t *root, struct prov_usage *u);

/* Fill aerr: code, retryable, message (printf, secrets redacted). Returns code. */

/* A top-level {"error": {...}} in a 200 body or an SSE event: classify it as
 * gemini_parse_error does (http_status 0: from error.code). 0 when absent. */
int gemini_inband_error(const json_t *root, struct core_api_error *aerr);

/* The first candidate after checking prompt blocks and the finish reason.
 * image != 0 words failures for images (a text-only answer is a refusal).
 * Returns 0 with *cand set, or a code with aerr filled. A missing finishReason
 * (possible only mid-stream) is an error only when require_finish. */
int gemini_candidate(const json_t *root, int require_finish, json_t **cand,
                     struct core_api_error *aerr);
/* Classify a finishReason other than STOP (code, retryable, message). */
int gemini_finish_error(const char *reason, const json_t *cand, struct core_api_error *aerr);

/* Concatenated text of the candidate's parts that are not thoughts. */
int gemini_candidate_text(const json_t *cand, struct wb_buf *out);

/* Integer from a JSON number or a decimal string; dflt otherwise. */
int64_t gemini_json_int(const json_t *v, int64_t dflt);

#endif
