/* Error codes and the error buffer.
 *
 * Every library function returns 0 or a negative code from the one table below;
 * the human detail ("HTTP 429 from gemini-3.8-flash-tts: ...") goes into a
 * struct wb_error beside it. The table generates the codes, their names and
 * their default messages, so the three can never drift apart.
 */
#ifndef WORDBANK_ERROR_H
#define WORDBANK_ERROR_H

#include <stdarg.h>

#include "wordbank/api.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, message) — add new codes at the end only: codes are never reused. */
#define WB_ERROR_TABLE(X)                              \
    X(NOMEM, "out of memory")                          \
    X(INVAL, "invalid argument or input")              \
    X(IO, "input/output error")                        \
    X(NOTFOUND, "not found")                           \
    X(EXIST, "already exists")                         \
    X(CORRUPT, "corrupt or unreadable data")           \
    X(LOCKED, "resource is locked by another process") \
    X(CONFIG, "configuration error")                   \
    X(PARSE, "could not parse")                        \
    X(HTTP, "HTTP error")                              \
    X(TRANSPORT, "network transport error")            \
    X(RATELIMIT, "rate limited")                       \
    X(QUOTA, "daily quota exhausted")                  \
    X(BLOCKED, "content blocked")                      \
    X(AUTH, "authentication or permission failure")    \
    X(MODEL, "model not found")                        \
    X(CANCELED, "canceled")                            \
    X(TIMEOUT, "timed out")                            \
    X(TOOBIG, "size limit exceeded")                   \
    X(UNSUPPORTED, "not supported")                    \
    X(MEDIA, "invalid media data")                     \
    X(NOSPC, "no space left on device")                \
    X(INTERNAL, "internal error")                      \
    X(RETRYABLE, "temporary failure")                  \
    X(INCOMPLETE, "response incomplete")

enum wb_err_index {
    WB__ERRIDX_NONE = 0,
#define WB__X(name, msg) WB__ERRIDX_##name,
    WB_ERROR_TABLE(WB__X)
#undef WB__X
    WB__ERRIDX_COUNT
};

/* The codes themselves: WB_OK is 0, the rest negative. */
enum wb_err {
    WB_OK = 0,
#define WB__X(name, msg) WB_E##name = -WB__ERRIDX_##name,
    WB_ERROR_TABLE(WB__X)
#undef WB__X
};

#define WB_ERRMSG_MAX 1024

/* A code and its human message. Caller-owned; zero-initialise or wb_error_clear(). */
struct wb_error {
    int code;
    char msg[WB_ERRMSG_MAX];
};

/* "WB_ENOTFOUND" for -WB_ENOTFOUND's index ... "WB_OK" for 0, "WB_E?" for unknown. */
WB_API const char *wb_errname(int code);
/* The table's default message for a code. */
WB_API const char *wb_strerror(int code);

/* Set err (may be NULL) to code and a formatted message; registered secrets are
 * redacted from the message. Returns code, so `return wb_error_set(...)` works. */
WB_API int wb_error_set(struct wb_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
WB_API int wb_error_setv(struct wb_error *err, int code, const char *fmt, va_list ap);
/* Prefix an existing message: "context: old message". Keeps the code. */
WB_API int wb_error_prefix(struct wb_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
WB_API void wb_error_clear(struct wb_error *err);
/* The message, or the table's message when none was set. */
WB_API const char *wb_error_text(const struct wb_error *err);

#ifdef __cplusplus
}
#endif

#endif
