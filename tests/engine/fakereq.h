/* Test and bench helper: plausible Gemini requests for the loopback fake
 * (text with a JSON schema, speech, image; plain or SSE-streamed), and a small
 * Gemini error classifier (RetryInfo retryDelay, PerDay quota ids) so engine
 * tests do not depend on the providers module.
 */
#ifndef WB_TEST_FAKEREQ_H
#define WB_TEST_FAKEREQ_H

#include "core/http.h"

/* Fills r (core_http_request_init'ed) with a generateContent call (or
 * streamGenerateContent?alt=sse when stream) for `word` against base_url. */
int fake_gemini_request(struct core_http_request *r, const char *base_url, const char *model,
                        enum core_req_kind kind, const char *word, int stream);
/* engine_classify_fn for Gemini errors: status-based, plus retryDelay and PerDay. */
int fake_gemini_classify(void *ud, long status, const struct core_http_header *h, size_t nh,
                         const char *body, size_t len, struct core_api_error *out);

#endif
