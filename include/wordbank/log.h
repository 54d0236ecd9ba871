/* Logging goes through one callback the application installs; the library
 * never prints on its own. Registered secrets are redacted from every message,
 * error text and log line before anyone sees it.
 */
#ifndef WORDBANK_LOG_H
#define WORDBANK_LOG_H

#include <stddef.h>

#include "wordbank/api.h"

#ifdef __cplusplus
extern "C" {
#endif

enum wb_log_level {
    WB_LOG_ERROR = 0,
    WB_LOG_WARN,
    WB_LOG_INFO,
    WB_LOG_DEBUG,
    WB_LOG_TRACE
};

typedef void (*wb_log_fn)(void *ud, enum wb_log_level level, const char *msg);

/* Install the handler (NULL: discard) and the most verbose level passed to it.
 * Thread-safe: the handler is called under a lock, from any thread. */
WB_API void wb_log_set_handler(wb_log_fn fn, void *ud, enum wb_log_level max_level);
WB_API int wb_log_enabled(enum wb_log_level level);
WB_API void wb_log(enum wb_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Secrets (API keys) that must never appear in output: every log line and every
 * wb_error message is scrubbed of them. Copies the string; up to 8 secrets. */
WB_API void wb_secret_register(const char *secret);
/* Replace every registered secret in s with "[REDACTED]" in place (s shrinks or
 * is truncated to cap bytes including the NUL). */
WB_API void wb_secret_redact(char *s, size_t cap);

#ifdef __cplusplus
}
#endif

#endif
