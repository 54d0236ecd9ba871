/* The engine's pure decision rules (see policy.h): GCRA, AIMD, backoff, retry
 * verdicts and status-code classification. Time and randomness come in as
 * arguments; nothing here has side effects beyond the structs passed in.
 */
#define _XOPEN_SOURCE 700 /* strptime */
#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "engine/policy.h"

/* ---- GCRA ---- */

void eng_gcra_init(struct eng_gcra *g, double per_min, double burst)
{
    g->per_min = per_min;
    g->burst = burst < 1 ? 1 : burst;
    g->tat = -1e18;
}

static double gcra_interval(const struct eng_gcra *g)
{
    return 60000.0 / g->per_min;
}

int64_t eng_gcra_wait(const struct eng_gcra *g, int64_t now, double cost)
{
    if (g->per_min <= 0)
        return 0;
    double t = gcra_interval(g);
    double base = g->tat > (double)now ? g->tat : (double)now;
    double wait;
    if (cost > g->burst) /* larger than the whole bucket: goes alone when it is full */
        wait = g->tat - (double)now;
    else
        wait = base + cost * t - g->burst * t - (double)now;
    if (wait <= 0)
        return 0;
    return (int64_t)ceil(wait);
}

void eng_gcra_take(struct eng_gcra *g, int64_t now, double cost)
{
    if (g->per_min <= 0)
        return;
    double base = g->tat > (double)now ? g->tat : (double)now;
    g->tat = base + cost * gcra_interval(g);
}

/* ---- AIMD ---- */

void eng_aimd_init(struct eng_aimd *a, int max, int step)
{
    a->max = max < 1 ? 1 : max;
    a->cur = a->max;
    a->step = step < 1 ? 1 : step;
    a->streak = 0;
    a->last_decrease = INT64_MIN;
}

int eng_aimd_on_limit(struct eng_aimd *a, int64_t now, int64_t started)
{
    a->streak = 0;
    if (a->last_decrease != INT64_MIN && started < a->last_decrease)
        return 0; /* same overload as the last decrease */
    a->last_decrease = now;
    int next = a->cur / 2;
    if (next < 1)
        next = 1;
    if (next == a->cur)
        return 0;
    a->cur = next;
    return 1;
}

void eng_aimd_set_max(struct eng_aimd *a, int max)
{
    if (max < 1)
        max = 1;
    if (a->cur >= a->max || a->cur > max)
        a->cur = max;
    a->max = max;
}

int eng_aimd_on_success(struct eng_aimd *a)
{
    if (a->cur >= a->max) {
        a->streak = 0;
        return 0;
    }
    if (++a->streak < a->step)
        return 0;
    a->streak = 0;
    a->cur++;
    return 1;
}

/* ---- Backoff and retry verdicts ---- */

int64_t eng_backoff_ms(const struct eng_retry_policy *p, int n, double r)
{
    if (n < 1)
        n = 1;
    double ceil_ms = (double)p->base_ms;
    for (int i = 1; i < n && ceil_ms < (double)p->cap_ms; i++)
        ceil_ms *= 2;
    if (ceil_ms > (double)p->cap_ms)
        ceil_ms = (double)p->cap_ms;
    if (r < 0)
        r = 0;
    if (r >= 1)
        r = 0.999999;
    return (int64_t)(ceil_ms * r);
}

int64_t eng_hint_delay_ms(int64_t hint_ms, double r)
{
    if (hint_ms < 0)
        hint_ms = 0;
    double j = (double)hint_ms * 0.05;
    if (j > 500)
        j = 500;
    if (j < 20)
        j = 20;
    return hint_ms + (int64_t)(j * r);
}

/* Rate-limit answers do not spend ordinary attempts (the model pause already
 * spaces them); they are bounded by the deadline and this cap. */
#define RATELIMIT_ATTEMPTS_MAX 50

enum eng_verdict eng_retry_decide(const struct eng_retry_policy *p, const struct core_api_error *ae,
                                  int attempts, int64_t started, int64_t now, double r,
                                  int64_t *delay_ms)
{
    *delay_ms = 0;
    if (ae->code == 0)
        return ENG_DONE_OK;
    if (!ae->retryable || ae->per_day)
        return ENG_FAIL;
    int cap = ae->code == WB_ERATELIMIT ? RATELIMIT_ATTEMPTS_MAX : p->max_attempts;
    if (attempts >= cap)
        return ENG_FAIL;
    int64_t d = ae->retry_after_ms >= 0 ? eng_hint_delay_ms(ae->retry_after_ms, r)
                                        : eng_backoff_ms(p, attempts, r);
    if (p->deadline_ms > 0 && now + d - started > p->deadline_ms)
        return ENG_FAIL;
    *delay_ms = d;
    return ENG_RETRY;
}

/* ---- Classification ---- */

/* The longest wait a server's hint may ask for. */
#define ENG_HINT_MAX_MS ((int64_t)7 * 86400 * 1000)

int64_t eng_retry_after_hint(const struct core_http_header *h, size_t nh, int64_t now_wall_s)
{
    int64_t ms = core_delay_ms(core_http_header_find(h, nh, "retry-after-ms"), 1, ENG_HINT_MAX_MS);
    if (ms >= 0)
        return ms;
    return core_retry_after_ms(core_http_header_find(h, nh, "retry-after"), now_wall_s,
                               ENG_HINT_MAX_MS);
}

/* The first bytes of a body as one printable line for a message. */
static void body_excerpt(const char *body, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; body && i < len && o + 1 < cap && o < 300; i++) {
        unsigned char c = (unsigned char)body[i];
        out[o++] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    out[o] = 0;
}

int eng_classify_status(long status, const struct core_http_header *h, size_t nh, const char *body,
                        size_t len, int64_t now_wall_s, struct core_api_error *out)
{
    core_api_error_clear(out);
    if (status >= 200 && status < 300)
        return 0;
    out->http_status = (int)status;
    out->retry_after_ms = eng_retry_after_hint(h, nh, now_wall_s);
    switch (status) {
    case 408:
        out->code = WB_ETIMEOUT;
        out->retryable = 1;
        break;
    case 429:
        out->code = WB_ERATELIMIT;
        out->retryable = 1;
        snprintf(out->status, sizeof out->status, "RESOURCE_EXHAUSTED");
        break;
    case 500:
    case 502:
    case 503:
    case 504:
        out->code = WB_EHTTP;
        out->retryable = 1;
        break;
    case 401:
    case 403:
        out->code = WB_EAUTH;
        break;
    case 404:
        out->code = WB_EMODEL;
        break;
    default:
        out->code = WB_EHTTP;
        break;
    }
    char ex[320];
    body_excerpt(body, len, ex, sizeof ex);
    snprintf(out->message, sizeof out->message, "HTTP %ld%s%s", status, ex[0] ? ": " : "", ex);
    return out->code;
}
