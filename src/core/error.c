/* The error table's names and messages, and the error buffer. */
#include <stdio.h>
#include <string.h>

#include "wordbank/error.h"
#include "wordbank/log.h"

/* clang-format off: it would pull the X-macro rows up beside "WB_OK" */
static const char *const names[] = { "WB_OK",
#define X(name, msg) "WB_E" #name,
                                     WB_ERROR_TABLE(X)
#undef X
};

static const char *const messages[] = { "success",
#define X(name, msg) msg,
                                        WB_ERROR_TABLE(X)
#undef X
};
/* clang-format on */

static int index_of(int code)
{
    int i = -code;
    return (i >= 0 && i < WB__ERRIDX_COUNT) ? i : -1;
}

const char *wb_errname(int code)
{
    int i = index_of(code);
    return i < 0 ? "WB_E?" : names[i];
}

const char *wb_strerror(int code)
{
    int i = index_of(code);
    return i < 0 ? "unknown error" : messages[i];
}

int wb_error_setv(struct wb_error *err, int code, const char *fmt, va_list ap)
{
    if (!err)
        return code;
    err->code = code;
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    wb_secret_redact(err->msg, sizeof err->msg);
    return code;
}

int wb_error_set(struct wb_error *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    wb_error_setv(err, code, fmt, ap);
    va_end(ap);
    return code;
}

int wb_error_prefix(struct wb_error *err, const char *fmt, ...)
{
    char prefix[256], old[WB_ERRMSG_MAX];
    va_list ap;
    if (!err)
        return 0;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old[0] ? old : wb_strerror(err->code));
    wb_secret_redact(err->msg, sizeof err->msg);
    return err->code;
}

void wb_error_clear(struct wb_error *err)
{
    if (!err)
        return;
    err->code = 0;
    err->msg[0] = '\0';
}

const char *wb_error_text(const struct wb_error *err)
{
    if (!err)
        return "";
    return err->msg[0] ? err->msg : wb_strerror(err->code);
}
