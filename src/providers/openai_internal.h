/* Helpers shared by the OpenAI provider's files (not for other modules):
 * request scaffolding, JSON loading under a cap, failures, usage and in-band
 * error objects.
 */
#ifndef WB_PROVIDERS_OPENAI_INTERNAL_H
#define WB_PROVIDERS_OPENAI_INTERNAL_H

#include <jansson.h>

#include "providers/common.h"
#include "providers/openai.h"

/* Start a POST to {base}/{path} for model (the rate-limit bucket): URL,
 * Content-Type, Authorization: Bearer. Validates key, model and base URL. out
 * must be initialised; on failure it is released. */
int openai_request_begin(const struct openai_opts *o, const char *path, const char *model,
                         enum core_req_kind kind, struct core_http_request *out,
                         struct wb_error *err);
/* Serialise root (compact, insertion order) as the body; releases out on failure. */

/* Fill aerr: code, retryable, message (printf, secrets redacted). Returns code. */

/* Parse a JSON object body of at most cap bytes; WB_EPARSE (retryable) or
 * WB_ETOOBIG in aerr otherwise. */

/* A top-level "error" object in a 2xx body, classified as openai_parse_error
 * with status 0; 0 when there is none. */
int openai_inband_error(const json_t *root, struct core_api_error *aerr);

/* usage {prompt_tokens|input_tokens, completion_tokens|output_tokens,
 * total_tokens, completion_tokens_details.reasoning_tokens} into u (may be NULL). */
void openai_usage_parse(const json_t *root, struct prov_usage *u);

#endif
