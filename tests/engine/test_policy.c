/* Unit tests for the engine's pure rules, on a virtual clock: GCRA rate
 * limiting, AIMD concurrency, backoff with full jitter, retry verdicts and the
 * default status-code classification. No network, no real time.
 */
#include <stdint.h>
#include <string.h>

#include "engine/policy.h"
#include "test.h"

/* Greedy client on a virtual clock: send whenever the limiter allows, record
 * the send times, return how many were sent in [0, horizon). */
static int simulate(struct eng_gcra *g, int64_t horizon, int64_t *times, int max)
{
    int n = 0;
    int64_t now = 0;
    while (now < horizon && n < max) {
        int64_t w = eng_gcra_wait(g, now, 1);
        if (w > 0) {
            now += w;
            continue;
        }
        eng_gcra_take(g, now, 1);
        times[n++] = now;
    }
    return n;
}

/* Most sends inside any window of `win` ms (half-open). */
static int max_in_window(const int64_t *t, int n, int64_t win)
{
    int best = 0, lo = 0;
    for (int hi = 0; hi < n; hi++) {
        while (t[hi] - t[lo] >= win)
            lo++;
        if (hi - lo + 1 > best)
            best = hi - lo + 1;
    }
    return best;
}

TEST(gcra_spaces_requests)
{
    struct eng_gcra g;
    eng_gcra_init(&g, 60, 1); /* one a second */
    CHECK_INT(eng_gcra_wait(&g, 0, 1), 0);
    eng_gcra_take(&g, 0, 1);
    CHECK_INT(eng_gcra_wait(&g, 0, 1), 1000);
    CHECK_INT(eng_gcra_wait(&g, 999, 1), 1);
    CHECK_INT(eng_gcra_wait(&g, 1000, 1), 0);
}

TEST(gcra_small_burst_not_whole_minute)
{
    struct eng_gcra g;
    eng_gcra_init(&g, 600, 5); /* 10/s, burst 5 */
    int sent = 0;
    while (eng_gcra_wait(&g, 0, 1) == 0) {
        eng_gcra_take(&g, 0, 1);
        sent++;
        CHECK(sent < 100);
    }
    CHECK_INT(sent, 5);
    CHECK_INT(eng_gcra_wait(&g, 0, 1), 100);
}

TEST(gcra_never_exceeds_window_and_keeps_rate)
{
    /* Quota 60 per 10 s (360 rpm) with 3 % headroom and burst 1. */
    static int64_t t[10000];
    struct eng_gcra g;
    eng_gcra_init(&g, 360 * 0.97, 1);
    int n = simulate(&g, 120000, t, 10000);
    CHECK_MSG(max_in_window(t, n, 10000) <= 60, "max %d in a 10 s window",
              max_in_window(t, n, 10000));
    double rate = n / 120.0 * 10; /* per 10 s */
    CHECK_MSG(rate >= 0.95 * 60, "rate %.1f per 10 s", rate);
}

TEST(gcra_tokens_and_oversize)
{
    struct eng_gcra g;
    eng_gcra_init(&g, 60000, 1000); /* 1000 tokens a second, burst 1000 */
    CHECK_INT(eng_gcra_wait(&g, 0, 800), 0);
    eng_gcra_take(&g, 0, 800);
    CHECK_INT(eng_gcra_wait(&g, 0, 400), 200);
    /* Larger than the bucket: goes alone once the bucket is full again. */
    CHECK_INT(eng_gcra_wait(&g, 0, 5000), 800);
    CHECK_INT(eng_gcra_wait(&g, 800, 5000), 0);
    eng_gcra_take(&g, 800, 5000);
    CHECK_INT(eng_gcra_wait(&g, 800, 1), 5000 - 1000 + 1);
}

TEST(gcra_unlimited)
{
    struct eng_gcra g;
    eng_gcra_init(&g, 0, 1);
    for (int i = 0; i < 1000; i++) {
        CHECK_INT(eng_gcra_wait(&g, 0, 1), 0);
        eng_gcra_take(&g, 0, 1);
    }
}

TEST(aimd_halves_once_per_overload_and_recovers)
{
    struct eng_aimd a;
    eng_aimd_init(&a, 16, 5);
    CHECK_INT(a.cur, 16);
    CHECK(eng_aimd_on_limit(&a, 1000, 900));
    CHECK_INT(a.cur, 8);
    /* Another 429 from a request sent before the decrease: same overload. */
    CHECK(!eng_aimd_on_limit(&a, 1010, 950));
    CHECK_INT(a.cur, 8);
    CHECK(eng_aimd_on_limit(&a, 2000, 1500));
    CHECK_INT(a.cur, 4);
    for (int i = 0; i < 4; i++)
        CHECK(!eng_aimd_on_success(&a));
    CHECK(eng_aimd_on_success(&a));
    CHECK_INT(a.cur, 5);
    for (int i = 0; i < 1000; i++)
        eng_aimd_on_success(&a);
    CHECK_INT(a.cur, 16);
    for (int i = 0; i < 10; i++)
        eng_aimd_on_limit(&a, 10000 + i * 10, 10000 + i * 10);
    CHECK_INT(a.cur, 1);
}

TEST(backoff_full_jitter_capped)
{
    struct eng_retry_policy p = {
        .max_attempts = 6, .deadline_ms = 0, .base_ms = 500, .cap_ms = 30000
    };
    CHECK_INT(eng_backoff_ms(&p, 1, 0.0), 0);
    CHECK(eng_backoff_ms(&p, 1, 0.9999) <= 500);
    CHECK(eng_backoff_ms(&p, 1, 0.9999) >= 499);
    CHECK(eng_backoff_ms(&p, 3, 0.9999) >= 1999);
    CHECK(eng_backoff_ms(&p, 3, 0.9999) <= 2000);
    CHECK(eng_backoff_ms(&p, 40, 0.9999) <= 30000);
    CHECK(eng_backoff_ms(&p, 40, 0.9999) >= 29990);
    CHECK_INT(eng_backoff_ms(&p, 2, 0.5), 500);
    int64_t h = eng_hint_delay_ms(43000, 0.999);
    CHECK(h >= 43000 && h <= 43500);
    CHECK(eng_hint_delay_ms(43000, 0.0) == 43000);
}

static struct core_api_error mkerr(int code, int retryable, int64_t hint)
{
    struct core_api_error e;
    core_api_error_clear(&e);
    e.code = code;
    e.retryable = retryable;
    e.retry_after_ms = hint;
    return e;
}

TEST(retry_verdicts)
{
    struct eng_retry_policy p = {
        .max_attempts = 3, .deadline_ms = 10000, .base_ms = 100, .cap_ms = 1000
    };
    int64_t d;
    struct core_api_error ok = mkerr(0, 0, -1);
    CHECK_INT(eng_retry_decide(&p, &ok, 1, 0, 0, 0.5, &d), ENG_DONE_OK);
    struct core_api_error bad = mkerr(WB_EAUTH, 0, -1);
    CHECK_INT(eng_retry_decide(&p, &bad, 1, 0, 0, 0.5, &d), ENG_FAIL);
    struct core_api_error busy = mkerr(WB_EHTTP, 1, -1);
    CHECK_INT(eng_retry_decide(&p, &busy, 1, 0, 0, 0.5, &d), ENG_RETRY);
    CHECK(d >= 0 && d <= 100);
    CHECK_INT(eng_retry_decide(&p, &busy, 2, 0, 0, 0.99, &d), ENG_RETRY);
    CHECK(d <= 200);
    CHECK_INT(eng_retry_decide(&p, &busy, 3, 0, 0, 0.5, &d), ENG_FAIL);     /* attempt cap */
    CHECK_INT(eng_retry_decide(&p, &busy, 1, 0, 9990, 0.99, &d), ENG_FAIL); /* deadline */
    struct core_api_error hinted = mkerr(WB_EHTTP, 1, 2000);
    CHECK_INT(eng_retry_decide(&p, &hinted, 1, 0, 0, 0.5, &d), ENG_RETRY);
    CHECK(d >= 2000);
    struct core_api_error limited = mkerr(WB_ERATELIMIT, 1, 500);
    CHECK_INT(eng_retry_decide(&p, &limited, 5, 0, 100, 0.5, &d),
              ENG_RETRY); /* not attempt-capped */
    limited.per_day = 1;
    CHECK_INT(eng_retry_decide(&p, &limited, 1, 0, 0, 0.5, &d), ENG_FAIL);
}

TEST(classify_status_codes_and_hints)
{
    struct core_api_error e;
    struct core_http_header h1[] = { { "Retry-After", "7" } };
    struct core_http_header h2[] = { { "retry-after-ms", "1500" }, { "Retry-After", "9" } };
    struct core_http_header h3[] = { { "Retry-After", "Thu, 01 Jan 1970 00:01:40 GMT" } };
    CHECK_INT(eng_classify_status(200, NULL, 0, "{}", 2, 0, &e), 0);
    CHECK_INT(eng_classify_status(429, h1, 1, "", 0, 0, &e), WB_ERATELIMIT);
    CHECK(e.retryable);
    CHECK_INT(e.retry_after_ms, 7000);
    CHECK_INT(eng_classify_status(429, h2, 2, "", 0, 0, &e), WB_ERATELIMIT);
    CHECK_INT(e.retry_after_ms, 1500);
    CHECK_INT(eng_classify_status(503, h3, 1, "", 0, 90, &e), WB_EHTTP);
    CHECK(e.retryable);
    CHECK_INT(e.retry_after_ms, 10000);
    CHECK_INT(eng_classify_status(503, NULL, 0, "", 0, 0, &e), WB_EHTTP);
    CHECK_INT(e.retry_after_ms, -1);
    CHECK_INT(eng_classify_status(408, NULL, 0, "", 0, 0, &e), WB_ETIMEOUT);
    CHECK(e.retryable);
    CHECK_INT(eng_classify_status(400, NULL, 0, "{\"error\":\n\"bad field\"}", 22, 0, &e),
              WB_EHTTP);
    CHECK(!e.retryable);
    CHECK_MSG(strstr(e.message, "bad field") != NULL, "message %s", e.message);
    CHECK(strchr(e.message, '\n') == NULL);
    CHECK_INT(eng_classify_status(401, NULL, 0, "", 0, 0, &e), WB_EAUTH);
    CHECK_INT(eng_classify_status(403, NULL, 0, "", 0, 0, &e), WB_EAUTH);
    CHECK_INT(eng_classify_status(404, NULL, 0, "", 0, 0, &e), WB_EMODEL);
    CHECK(!e.retryable);
    struct core_http_header bad[] = { { "Retry-After", "soon" } };
    CHECK_INT(eng_retry_after_hint(bad, 1, 0), -1);
}
