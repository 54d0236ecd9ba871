/* Gemini API errors: {"error": {code, message, status, details[]}} from an HTTP
 * error response or a mid-stream SSE event, classified for the engine's retry
 * decisions (google.rpc RetryInfo, QuotaFailure, ErrorInfo) while the API's own
 * message is kept, verbatim, for the user.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "providers/gemini_internal.h"
#include "wordbank/log.h"

#define MAX_DELAY_MS ((int64_t)86400 * 1000)

/* "38s", "1.500s", "0.25s" (a protobuf Duration) -> ms; -1 when malformed. */
static int64_t parse_duration_ms(const char *s, const char *unit_s, const char *unit_ms)
{
    int64_t whole = 0, frac = 0, scale = 1;
    int digits = 0;
    const char *p = s;
    while (*p == ' ')
        p++;
    while (isdigit((unsigned char)*p) && whole < MAX_DELAY_MS) {
        whole = whole * 10 + (*p++ - '0');
        digits++;
    }
    if (*p == '.') {
        p++;
        while (isdigit((unsigned char)*p)) {
            if (scale < 1000000) {
                frac = frac * 10 + (*p - '0');
                scale *= 10;
            }
            p++;
            digits++;
        }
    }
    if (!digits)
        return -1;
    if (unit_ms && !strncmp(p, unit_ms, strlen(unit_ms)))
        return whole < MAX_DELAY_MS ? whole + (frac >= scale / 2 && scale > 1) : MAX_DELAY_MS;
    if (!strncmp(p, unit_s, strlen(unit_s))) {
        int64_t ms = whole * 1000 + (frac * 1000 + scale - 1) / scale;
        return ms < MAX_DELAY_MS ? ms : MAX_DELAY_MS;
    }
    return -1;
}

/* "... Please retry in 43.1s." or "retry in 250ms" in a message. */
static int64_t delay_from_message(const char *m)
{
    static const char needle[] = "retry in ";
    size_t n = strlen(m);
    for (size_t i = 0; i + sizeof needle - 1 <= n; i++) {
        if (strncasecmp(m + i, needle, sizeof needle - 1) == 0) {
            int64_t ms = parse_duration_ms(m + i + sizeof needle - 1, "s", "ms");
            if (ms >= 0)
                return ms;
        }
    }
    return -1;
}

static int type_is(const json_t *d, const char *suffix)
{
    const json_t *t = json_object_get(d, "@type");
    size_t n, k = strlen(suffix);
    if (!json_is_string(t))
        return 0;
    n = json_string_length(t);
    return n >= k && strcmp(json_string_value(t) + n - k, suffix) == 0;
}

/* Classify from a parsed error object; http_status 0 takes error.code. */
static int classify(const json_t *eo, long http_status, const struct core_http_header *h, size_t nh,
                    struct core_api_error *out)
{
    const json_t *details = json_object_get(eo, "details"), *d;
    const json_t *msg = json_object_get(eo, "message"), *st = json_object_get(eo, "status");
    int64_t code = gemini_json_int(json_object_get(eo, "code"), 0);
    int per_day = 0, key_invalid = 0, quota = 0;
    int64_t delay = -1;
    long status = http_status ? http_status : (long)code;
    size_t i;

    if (json_is_string(st))
        snprintf(out->status, sizeof out->status, "%s", json_string_value(st));
    if (json_is_string(msg) && json_string_length(msg) > 0)
        snprintf(out->message, sizeof out->message, "%s", json_string_value(msg));
    else
        snprintf(out->message, sizeof out->message, "HTTP %ld%s%s", status,
                 out->status[0] ? " " : "", out->status);
    json_array_foreach(details, i, d) {
        if (!json_is_object(d))
            continue;
        if (type_is(d, "google.rpc.RetryInfo")) {
            const json_t *rd = json_object_get(d, "retryDelay");
            if (json_is_string(rd))
                delay = parse_duration_ms(json_string_value(rd), "s", NULL);
        } else if (type_is(d, "google.rpc.QuotaFailure")) {
            const json_t *vs = json_object_get(d, "violations"), *v;
            size_t j;
            quota = 1;
            json_array_foreach(vs, j, v) {
                const json_t *q = json_object_get(v, "quotaId");
                if (json_is_string(q) && strstr(json_string_value(q), "PerDay"))
                    per_day = 1;
            }
        } else if (type_is(d, "google.rpc.ErrorInfo")) {
            const json_t *r = json_object_get(d, "reason");
            if (json_is_string(r) && (!strcmp(json_string_value(r), "API_KEY_INVALID") ||
                                      !strcmp(json_string_value(r), "API_KEY_EXPIRED")))
                key_invalid = 1;
        }
    }
    if (delay < 0 && h) {
        const char *ra = core_http_header_find(h, nh, "retry-after");
        if (ra)
            delay = core_retry_after_ms(ra, core_clock_wall_s(), MAX_DELAY_MS);
    }
    if (delay < 0)
        delay = delay_from_message(out->message);
    out->http_status = (int)(http_status ? http_status : code);
    out->retry_after_ms = delay;
    (void)quota;

    if (status == 429 || !strcmp(out->status, "RESOURCE_EXHAUSTED")) {
        if (per_day) {
            out->code = WB_EQUOTA;
            out->per_day = 1;
            out->retryable = 0;
        } else {
            out->code = WB_ERATELIMIT;
            out->retryable = 1;
        }
    } else if (key_invalid || status == 401 || status == 403) {
        out->code = WB_EAUTH;
    } else if (status == 400) {
        out->code = WB_EINVAL;
        /* A TTS model that started answering in text instead of speaking is
         * refused with this 400; it is the model's sampling, not our request,
         * so another attempt can succeed (400s are not billed). */
        if (strstr(out->message, "Model tried to generate text"))
            out->retryable = 1;
    } else if (status == 404) {
        out->code = WB_EMODEL;
    } else if (status == 408 || status == 500 || status == 502 || status == 503 || status == 504) {
        out->code = WB_EHTTP;
        out->retryable = 1;
    } else if (status == 0) {
        /* A mid-stream error without a code: the stream broke, try again. */
        out->code = WB_EHTTP;
        out->retryable = 1;
    } else {
        out->code = WB_EHTTP;
    }
    wb_secret_redact(out->message, sizeof out->message);
    return out->code;
}

int gemini_parse_error(long http_status, const struct core_http_header *h, size_t nh,
                       const char *body, size_t len, struct core_api_error *out)
{
    json_t *root = NULL;
    const json_t *eo = NULL;

    core_api_error_clear(out);
    if (body && len > 0 && len <= WB_GEMINI_MAX_TEXT) {
        root = json_loadb(body, len, 0, NULL);
        /* Some Google front ends wrap the error in a one-element array. */
        if (json_is_array(root))
            eo = json_object_get(json_array_get(root, 0), "error");
        else
            eo = json_object_get(root, "error");
    }
    if (json_is_object(eo)) {
        classify(eo, http_status, h, nh, out);
    } else {
        json_t *empty = json_object();
        if (!empty) {
            out->code = WB_ENOMEM;
            goto out;
        }
        classify(empty, http_status, h, nh, out);
        json_decref(empty);
        prov_body_excerpt(http_status, body ? body : "", body ? len : 0, out);
        wb_secret_redact(out->message, sizeof out->message);
        if (out->retry_after_ms < 0)
            out->retry_after_ms = -1;
    }
out:
    json_decref(root);
    return out->code;
}

int gemini_inband_error(const json_t *root, struct core_api_error *aerr)
{
    const json_t *eo = json_object_get(root, "error");
    if (!json_is_object(eo))
        return 0;
    core_api_error_clear(aerr);
    return classify(eo, 0, NULL, 0, aerr);
}
