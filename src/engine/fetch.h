/* One HTTP request, blocking: for a caller that talks to a local service now
 * and then (AnkiConnect), not to a rate-limited API. Internal API; neither
 * libuv nor libcurl appear here.
 */
#ifndef WB_ENGINE_FETCH_H
#define WB_ENGINE_FETCH_H

#include <stdint.h>

#include "core/http.h"
#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/error.h"

/* Send *req (taken: released here) on a private engine and wait. cfg (may be
 * NULL) gives ca_file and timeout.connect_ms; the request gets one attempt
 * (no retries: a service that is not running should say so at once) and
 * timeout_ms in all (0: 120 s). Returns 0 with *http_status and the body
 * appended to body for any HTTP answer, or a negative code (WB_ETRANSPORT:
 * nothing answered; WB_ETIMEOUT; WB_ETOOBIG) with the message in err. */
int engine_fetch(const struct wb_config *cfg, struct core_http_request *req, int64_t timeout_ms,
                 long *http_status, struct wb_buf *body, struct wb_error *err);

#endif
