/* The plain data that passes between providers (which build requests and parse
 * responses, with no I/O) and the engine (which does the I/O). No libcurl here.
 */
#ifndef WB_CORE_HTTP_H
#define WB_CORE_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/buf.h"
#include "wordbank/error.h"

/* What a request is for: picks its timeouts and its rate-limit bucket kind. */
enum core_req_kind {
    WB_REQ_TEXT = 0,
    WB_REQ_IMAGE,
    WB_REQ_SPEECH,
    WB_REQ_LIST,
    WB_REQ_KIND_COUNT
};

struct core_http_header {
    char *name;
    char *value;
};

struct core_http_request {
    char *method; /* "GET", "POST" */
    char *url;    /* full URL; never contains a key */
    struct core_http_header *headers;
    size_t n_headers;
    char *body; /* may be NULL for GET */
    size_t body_len;
    int stream; /* response is an SSE stream, delivered in pieces */
    enum core_req_kind kind;
    char *model; /* rate-limit bucket: the model id ("gemini-3.8-flash") */
};

void core_http_request_init(struct core_http_request *r);
void core_http_request_release(struct core_http_request *r);
/* Adds a copy of "name: value". Secrets (the key header) are sent but never logged:
 * callers register them with wb_secret_register(). */
int core_http_request_add_header(struct core_http_request *r, const char *name, const char *value);
/* The value of a header (case-insensitive name), or NULL. */
const char *core_http_header_find(const struct core_http_header *h, size_t n, const char *name);

/* What an API said when it refused, in a shape the engine can act on. Filled
 * by a provider's error parser from the status, headers and body. */
struct core_api_error {
    int code;                    /* WB_ERATELIMIT, WB_EQUOTA, WB_EAUTH, WB_EMODEL, WB_EBLOCKED,
                                    WB_EHTTP, WB_ETRANSPORT, WB_EINCOMPLETE, WB_EPARSE, ... */
    int http_status;             /* 0 for transport failures */
    int retryable;               /* 408/429/5xx/transport/incomplete stream: 1 */
    int64_t retry_after_ms;      /* server's hint (RetryInfo, Retry-After, ...), -1 if none */
    int per_day;                 /* a per-day quota: stop this stage for the run */
    char status[64];             /* "RESOURCE_EXHAUSTED", "" if none */
    char message[WB_ERRMSG_MAX]; /* the API's own words, for the user */
};

void core_api_error_clear(struct core_api_error *e);

/* The servers' retry hints, read the same way everywhere (both providers and
 * the engine's default classifier):
 * core_retry_after_ms: a Retry-After value, delta-seconds (a fraction too) or
 * an HTTP-date counted from now_wall_s (past dates are 0);
 * core_delay_ms: a plain number of unit_ms (retry-after-ms: unit 1).
 * Milliseconds rounded up, no more than max_ms; -1 for anything else. */
int64_t core_retry_after_ms(const char *v, int64_t now_wall_s, int64_t max_ms);
int64_t core_delay_ms(const char *v, double unit_ms, int64_t max_ms);
/* Their parts, for a provider's own duration syntax: core_decimal_at reads a
 * decimal number ("12", "1.5", ".25") at *p and advances *p past it (-1, *p
 * unchanged, when there is none); core_clamp_ms rounds ms up (a hint of
 * 0.2 ms still means "wait"), negative to 0, no more than max_ms. */
double core_decimal_at(const char **p);
int64_t core_clamp_ms(double ms, int64_t max_ms);

#endif
