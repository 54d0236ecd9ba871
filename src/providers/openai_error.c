/* OpenAI API errors: {"error": {message, type, param, code}} with the HTTP
 * status and the rate-limit headers (retry-after-ms, Retry-After,
 * x-ratelimit-remaining-* / x-ratelimit-reset-*, x-should-retry), classified
 * for the engine's retry decisions while the API's own message is kept for the
 * user. Also the Go-style durations those reset headers use.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "providers/openai_internal.h"
#include "wordbank/log.h"

#define MAX_DELAY_MS ((int64_t)86400 * 1000)

int64_t openai_duration_ms(const char *s)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {
        /* Longest first: "ms" before "m", "us" before "s". */
        { "ms", 1 },    { "us", 1e-3 },  { "\xc2\xb5s", 1e-3 }, { "\xce\xbcs", 1e-3 },
        { "ns", 1e-6 }, { "h", 3600e3 }, { "m", 60e3 },         { "s", 1e3 },
    };
    double total = 0;
    int parts = 0;
    if (!s)
        return -1;
    while (*s == ' ')
        s++;
    if (!strcmp(s, "0"))
        return 0;
    while (*s && *s != ' ') {
        double v = core_decimal_at(&s);
        size_t i, n = sizeof units / sizeof units[0];
        if (v < 0)
            return -1;
        for (i = 0; i < n; i++) {
            size_t k = strlen(units[i].unit);
            if (!strncmp(s, units[i].unit, k)) {
                total += v * units[i].ms;
                s += k;
                break;
            }
        }
        if (i == n || ++parts > 8)
            return -1;
    }
    while (*s == ' ')
        s++;
    if (*s || !parts)
        return -1;
    return core_clamp_ms(total, MAX_DELAY_MS);
}

static int is_zero(const char *v)
{
    if (!v)
        return 0;
    while (*v == ' ')
        v++;
    return v[0] == '0' && (v[1] == '\0' || v[1] == ' ');
}

/* The reset time of the exhausted limit: remaining-requests 0 -> its reset,
 * remaining-tokens 0 -> its reset; both or neither: the larger. */
static int64_t ratelimit_reset(const struct core_http_header *h, size_t nh)
{
    int64_t rq = openai_duration_ms(core_http_header_find(h, nh, "x-ratelimit-reset-requests"));
    int64_t tk = openai_duration_ms(core_http_header_find(h, nh, "x-ratelimit-reset-tokens"));
    int zr = is_zero(core_http_header_find(h, nh, "x-ratelimit-remaining-requests"));
    int zt = is_zero(core_http_header_find(h, nh, "x-ratelimit-remaining-tokens"));
    if (zr && !zt && rq >= 0)
        return rq;
    if (zt && !zr && tk >= 0)
        return tk;
    return rq > tk ? rq : tk;
}

/* The server's hint from the headers: retry-after-ms, Retry-After, then (for
 * a 429 only) the reset of the exhausted limit. */
static int64_t header_delay(const struct core_http_header *h, size_t nh, int limited)
{
    const char *v;
    int64_t d = -1;
    if (!h)
        return -1;
    if ((v = core_http_header_find(h, nh, "retry-after-ms")))
        d = core_delay_ms(v, 1, MAX_DELAY_MS);
    if (d < 0 && (v = core_http_header_find(h, nh, "retry-after")))
        d = core_retry_after_ms(v, core_clock_wall_s(), MAX_DELAY_MS);
    if (d < 0 && limited)
        d = ratelimit_reset(h, nh);
    return d;
}

/* "Please try again in 38.512s." / "in 6m0s" / "in 120ms" in a message. */
static int64_t delay_from_message(const char *m)
{
    static const char needle[] = "try again in ";
    size_t n = strlen(m);
    for (size_t i = 0; i + sizeof needle - 1 <= n; i++) {
        if (strncasecmp(m + i, needle, sizeof needle - 1) == 0) {
            char word[32];
            size_t k = 0;
            const char *p = m + i + sizeof needle - 1;
            while (p[k] && !isspace((unsigned char)p[k]) && k < sizeof word - 1) {
                word[k] = p[k];
                k++;
            }
            while (k > 0 && (word[k - 1] == '.' || word[k - 1] == ',' || word[k - 1] == ')'))
                k--;
            word[k] = '\0';
            return openai_duration_ms(word);
        }
    }
    return -1;
}

static const char *str_of(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : "";
}

static int has_word(const char *code, const char *type, const char *w)
{
    return !strcmp(code, w) || !strcmp(type, w);
}

/* Classify from the error object eo (may be an empty object). */
static int classify(const json_t *eo, long http_status, const struct core_http_header *h, size_t nh,
                    struct core_api_error *out)
{
    const char *msg = str_of(eo, "message"), *code = str_of(eo, "code"), *type = str_of(eo, "type");
    const char *should = h ? core_http_header_find(h, nh, "x-should-retry") : NULL;
    long status = http_status;
    int limited;

    /* Some compatible servers put the status number in error.code. */
    if (!status && json_is_integer(json_object_get(eo, "code")))
        status = (long)json_integer_value(json_object_get(eo, "code"));
    limited = status == 429 || has_word(code, type, "rate_limit_exceeded") ||
              has_word(code, type, "insufficient_quota");
    snprintf(out->status, sizeof out->status, "%s", *code ? code : type);
    if (*msg)
        snprintf(out->message, sizeof out->message, "%s", msg);
    else
        snprintf(out->message, sizeof out->message, "HTTP %ld%s%s", status,
                 out->status[0] ? " " : "", out->status);
    out->http_status = (int)http_status;
    out->retry_after_ms = header_delay(h, nh, limited);
    if (out->retry_after_ms < 0 && limited)
        out->retry_after_ms = delay_from_message(out->message);

    if (has_word(code, type, "insufficient_quota")) {
        /* Billing: no amount of waiting helps during this run. */
        out->code = WB_EQUOTA;
        out->per_day = 1;
        out->retryable = 0;
    } else if (limited) {
        out->code = WB_ERATELIMIT;
        out->retryable = 1;
    } else if (status == 401 || status == 403) {
        out->code = WB_EAUTH;
    } else if (status == 404) {
        out->code = WB_EMODEL;
    } else if (has_word(code, type, "moderation_blocked") ||
               has_word(code, type, "content_policy_violation") ||
               has_word(code, type, "content_filter")) {
        out->code = WB_EBLOCKED;
    } else if (status == 400 || status == 422) {
        out->code = WB_EINVAL;
    } else if (status == 408 || status == 409 || (status >= 500 && status <= 599) || status == 0) {
        /* 0: an error inside a 2xx body without a status; the answer broke. */
        out->code = WB_EHTTP;
        out->retryable = 1;
    } else {
        out->code = WB_EHTTP;
    }
    if (should && !out->per_day) {
        if (!strcmp(should, "true"))
            out->retryable = 1;
        else if (!strcmp(should, "false"))
            out->retryable = 0;
    }
    wb_secret_redact(out->message, sizeof out->message);
    return out->code;
}

int openai_parse_error(long http_status, const struct core_http_header *h, size_t nh,
                       const char *body, size_t len, struct core_api_error *out)
{
    json_t *root = NULL, *empty = NULL;
    const json_t *eo = NULL;

    core_api_error_clear(out);
    if (body && len > 0 && len <= WB_OPENAI_MAX_TEXT) {
        root = json_loadb(body, len, 0, NULL);
        eo = json_object_get(root, "error");
        /* Some servers answer {"error": "text"}. */
        if (json_is_string(eo)) {
            empty = json_pack("{s:O}", "message", eo);
            eo = empty;
        }
    }
    if (json_is_object(eo)) {
        classify(eo, http_status, h, nh, out);
    } else {
        if (!(empty = json_object())) {
            out->code = WB_ENOMEM;
            goto out;
        }
        classify(empty, http_status, h, nh, out);
        prov_body_excerpt(http_status, body ? body : "", body ? len : 0, out);
    }
out:
    json_decref(empty);
    json_decref(root);
    return out->code;
}

int openai_inband_error(const json_t *root, struct core_api_error *aerr)
{
    const json_t *eo = json_object_get(root, "error");
    json_t *tmp = NULL;
    int rc;
    if (json_is_string(eo))
        eo = tmp = json_pack("{s:O}", "message", eo);
    if (!json_is_object(eo))
        return 0;
    core_api_error_clear(aerr);
    rc = classify(eo, 0, NULL, 0, aerr);
    json_decref(tmp);
    return rc;
}
