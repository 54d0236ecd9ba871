/* The engine's decisions as pure code: the per-model rate limiter (GCRA),
 * AIMD concurrency, retry backoff and the default retry classification.
 * Nothing here reads a clock, draws a random number or does I/O: the time
 * ("now", monotonic milliseconds) and the random draws (uniform in [0,1)) are
 * passed in, so every rule can be unit-tested with a virtual clock.
 */
#ifndef WB_ENGINE_POLICY_H
#define WB_ENGINE_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "core/http.h"

/* ---- GCRA (generic cell rate algorithm; a token bucket without a timer) ----
 * A rate of `per_min` units a minute is one unit every T = 60000/per_min ms.
 * `burst` units may go at once; after that, units are spaced T apart, so a
 * whole minute's quota is never spent in the first second. A unit of cost c
 * costs c*T. A request larger than the whole burst may still go once the
 * bucket is full (it then has the line to itself). per_min <= 0: unlimited. */
struct eng_gcra {
    double per_min;
    double burst;
    double tat; /* theoretical arrival time, ms; "bucket full" when tat <= now */
};

void eng_gcra_init(struct eng_gcra *g, double per_min, double burst);
/* 0 when `cost` units may go now, else how many ms to wait. Changes nothing. */
int64_t eng_gcra_wait(const struct eng_gcra *g, int64_t now, double cost);
/* Take `cost` units at `now` (call after eng_gcra_wait returned 0). */
void eng_gcra_take(struct eng_gcra *g, int64_t now, double cost);

/* ---- AIMD concurrency: halve on a 429, add one back per `step` successes ----
 * A burst of 429s caused by one overload counts once: a 429 for a request that
 * started before the last decrease does not decrease again. */
struct eng_aimd {
    int max;               /* configured cap */
    int cur;               /* the cap now, 1..max */
    int step;              /* successes per +1 */
    int streak;            /* successes since the last change */
    int64_t last_decrease; /* ms; INT64_MIN when never */
};

void eng_aimd_init(struct eng_aimd *a, int max, int step);
/* A 429 for a request that started at `started`. Returns 1 if the cap dropped. */
int eng_aimd_on_limit(struct eng_aimd *a, int64_t now, int64_t started);
/* A success. Returns 1 if the cap grew. */
int eng_aimd_on_success(struct eng_aimd *a);
/* A new ceiling: cur follows it when it was at the old one, and never
 * exceeds it. */
void eng_aimd_set_max(struct eng_aimd *a, int max);

/* ---- Retry policy ---- */
struct eng_retry_policy {
    int max_attempts;    /* total attempts, >= 1 */
    int64_t deadline_ms; /* from the first attempt's start; 0: none */
    int64_t base_ms;     /* first backoff ceiling */
    int64_t cap_ms;      /* largest backoff ceiling */
};

/* Exponential backoff with full jitter: uniform in [0, min(cap, base*2^(n-1))]
 * for the n-th retry (n >= 1); r is uniform in [0,1). */
int64_t eng_backoff_ms(const struct eng_retry_policy *p, int n, double r);
/* A server's hint plus a little jitter (up to 5 % of the hint, at least 20 ms
 * and at most 500 ms), so
 * that many paused requests do not all come back in the same millisecond. */
int64_t eng_hint_delay_ms(int64_t hint_ms, double r);

enum eng_verdict {
    ENG_DONE_OK = 0,
    ENG_FAIL,
    ENG_RETRY
};

/* What to do after attempt number `attempts` (1-based) ended with `ae`
 * (ae->code == 0: success). `started` is when the first attempt began. On
 * ENG_RETRY *delay_ms is the backoff (the hint when the server gave one);
 * a retry that would end past the deadline or the attempt cap fails. */
enum eng_verdict eng_retry_decide(const struct eng_retry_policy *p, const struct core_api_error *ae,
                                  int attempts, int64_t started, int64_t now, double r,
                                  int64_t *delay_ms);

/* Default classification of an HTTP answer by status code alone, reading
 * Retry-After (seconds or an HTTP date) and retry-after-ms for the hint.
 * Returns 0 for a 2xx answer, else a negative WB_E* code also stored in out->code.
 * now_wall_s is the wall clock (only for HTTP-date Retry-After values). */
int eng_classify_status(long status, const struct core_http_header *h, size_t nh, const char *body,
                        size_t len, int64_t now_wall_s, struct core_api_error *out);
/* The hint from Retry-After / retry-after-ms headers, -1 when none. */
int64_t eng_retry_after_hint(const struct core_http_header *h, size_t nh, int64_t now_wall_s);

#endif
