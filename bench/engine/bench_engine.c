/* Engine benchmark against the loopback Gemini fake (HTTP/2 over TLS, like
 * the real API). A tiny in-bench "entry" driver does what the pipeline will:
 * a text request, then the image and speech requests at once; an entry is
 * done when all three are. Modes (one a process, so peak RSS is per mode):
 *
 *   window  N JOBS  sliding window of JOBS entries vs the ideal schedule, and
 *                   in the same run two baselines: the batch barrier at the
 *                   same width (batches of JOBS waiting for their slowest
 *                   entry: the window's own effect) and the original at its
 *                   default (batches of 5: width and window together)
 *   rss     N JOBS  peak RSS (under WB_BENCH_RSS_MAX_MIB, default 64) and
 *                   CPU time per entry
 *   quota   N JOBS  speech limited by a sliding-window quota: with the limit
 *                   configured (60 per 10 s, N entries) and learned from 429s
 *                   (20 per 2 s, 120 entries: a short window so that several
 *                   pause cycles fit in a few seconds)
 *
 * Prints one "figure: value" line per figure.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "engine/engine.h"
#include "fakeproc.h"
#include "fakereq.h"
#include "wordbank/config.h"

#define TEXT_MODEL "gemini-3.8-flash"
#define TTS_MODEL  "gemini-3.8-flash-tts"
#define IMG_MODEL  "gemini-3.1-flash-image"

struct driver;

struct entry {
    struct driver *d;
    int idx;
    int pending;
    int failed;
};

struct driver {
    double lat_sum[WB_REQ_KIND_COUNT];
    int lat_n[WB_REQ_KIND_COUNT];
    struct engine *e;
    const char *base;
    struct entry *entries;
    int n, jobs, batch; /* batch > 0: barrier mode */
    int next, active, done, failed;
};

static void start_entry(struct driver *d);

static void submit(struct entry *en, const char *model, enum core_req_kind kind,
                   void (*done)(void *, const struct engine_response *))
{
    struct core_http_request r;
    core_http_request_init(&r);
    char word[32];
    snprintf(word, sizeof word, "単語%d", en->idx);
    struct engine_request_cbs cbs = { .classify = fake_gemini_classify, .on_done = done };
    if (fake_gemini_request(&r, en->d->base, model, kind, word, 0) != 0 ||
        engine_submit(en->d->e, &r, 300, &cbs, en, NULL) != 0) {
        core_http_request_release(&r);
        fprintf(stderr, "submit failed\n");
        exit(1);
    }
}

static void entry_finished(struct entry *en)
{
    struct driver *d = en->d;
    d->active--;
    d->done++;
    d->failed += en->failed != 0;
    if (d->batch > 0) {
        if (d->active == 0) /* the barrier: the whole batch is done */
            for (int i = 0; i < d->batch; i++)
                start_entry(d);
    } else {
        start_entry(d); /* sliding window: the slot is free now */
    }
}

static int failures_shown;

static void note_failure(const struct engine_response *r)
{
    if (r->status != 0 && failures_shown++ < 3)
        fprintf(stderr, "  (request failed: %s after %d attempts)\n", r->api_error->message,
                r->attempts);
}

static void note_latency(struct entry *en, const struct engine_response *r, enum core_req_kind k)
{
    en->d->lat_sum[k] += (double)r->elapsed_ms;
    en->d->lat_n[k]++;
    note_failure(r);
}

static void media_done(void *ud, const struct engine_response *r)
{
    struct entry *en = ud;
    note_latency(en, r, WB_REQ_IMAGE);
    if (r->status != 0)
        en->failed = 1;
    if (--en->pending == 0)
        entry_finished(en);
}

static void text_done(void *ud, const struct engine_response *r)
{
    struct entry *en = ud;
    note_latency(en, r, WB_REQ_TEXT);
    if (r->status != 0) {
        en->failed = 1;
        entry_finished(en);
        return;
    }
    en->pending = 2;
    submit(en, IMG_MODEL, WB_REQ_IMAGE, media_done);
    submit(en, TTS_MODEL, WB_REQ_SPEECH, media_done);
}

static void start_entry(struct driver *d)
{
    if (d->next >= d->n || engine_stopping(d->e))
        return;
    struct entry *en = &d->entries[d->next];
    en->d = d;
    en->idx = d->next++;
    d->active++;
    submit(en, TEXT_MODEL, WB_REQ_TEXT, text_done);
}

static double cpu_s(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
           (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

struct run_result {
    double wall_s, cpu_s;
    int failed;
    double text_ms, media_ms; /* mean submit-to-done per request */
    struct engine_stats st;
};

static int run(struct fake_proc *f, const char **kv, int n, int jobs, int batch,
               struct run_result *res)
{
    struct wb_config *cfg = NULL;
    struct wb_error err = { 0 };
    if (wb_config_new(&cfg) != 0)
        return -1;
    wb_config_set(cfg, "ca_file", f->ca, WB_SRC_FLAG);
    for (; kv && kv[0]; kv += 2)
        wb_config_set(cfg, kv[0], kv[1], WB_SRC_FLAG);
    /* WB_BENCH_PLAIN=1: HTTP/1.1 on the plain port instead of HTTP/2 over TLS. */
    const char *plain = getenv("WB_BENCH_PLAIN");
    int use_plain = plain && *plain == '1';
    if (use_plain)
        wb_config_set(cfg, "http.max_host_connections", "0", WB_SRC_FLAG);
    struct driver d = {
        .base = use_plain ? f->base_url : f->tls_url, .n = n, .jobs = jobs, .batch = batch
    };
    d.entries = calloc((size_t)n, sizeof *d.entries);
    if (!d.entries || engine_new(cfg, &d.e, &err) != 0) {
        fprintf(stderr, "engine: %s\n", wb_error_text(&err));
        return -1;
    }
    double c0 = cpu_s();
    int64_t t0 = core_clock_mono_ms();
    int first = batch > 0 ? batch : jobs;
    for (int i = 0; i < first; i++)
        start_entry(&d);
    engine_run(d.e);
    res->wall_s = (double)(core_clock_mono_ms() - t0) / 1000.0;
    res->cpu_s = cpu_s() - c0;
    res->failed = d.failed + (n - d.done);
    res->text_ms = d.lat_n[WB_REQ_TEXT] ? d.lat_sum[WB_REQ_TEXT] / d.lat_n[WB_REQ_TEXT] : 0;
    res->media_ms = d.lat_n[WB_REQ_IMAGE] ? d.lat_sum[WB_REQ_IMAGE] / d.lat_n[WB_REQ_IMAGE] : 0;
    engine_get_stats(d.e, &res->st);
    engine_free(d.e);
    wb_config_free(cfg);
    free(d.entries);
    return 0;
}

/* CPU seconds the fake has used so far (from /proc), -1 if unknown. */
static double fake_cpu_s(const struct fake_proc *f)
{
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)f->pid);
    FILE *fp = fopen(path, "r");
    if (!fp)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[n] = 0;
    const char *p = strrchr(buf, ')');
    unsigned long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static const char *latencies = "\"models\":{\"" TEXT_MODEL "\":{\"latencyMs\":100,\"jitter\":0.2},"
                               "\"" IMG_MODEL "\":{\"latencyMs\":200,\"jitter\":0.2},"
                               "\"" TTS_MODEL "\":{\"latencyMs\":150,\"jitter\":0.2%s}}";

/* The original's default: batches of 5 entries, each batch waiting for its
 * slowest entry before the next starts. */
#define ORIGINAL_BATCH 5

static int mode_window(int n, int jobs)
{
    char sc[1024], models[800];
    snprintf(models, sizeof models, latencies, "");
    snprintf(sc, sizeof sc, "{%s,\"seed\":1}", models);
    struct fake_proc f;
    if (fake_start(sc, 1, &f) != 0)
        return 1;
    struct run_result w, bw, b5;
    char conc[16];
    snprintf(conc, sizeof conc, "%d", jobs * 2);
    const char *kv[] = { "limit.image.concurrency",
                         conc,
                         "limit.speech.concurrency",
                         conc,
                         "limit.text.concurrency",
                         conc,
                         NULL };
    /* A warm-up run, not counted: the fake's JIT and the TLS session would
     * otherwise be charged to whichever schedule runs first. */
    if (run(&f, kv, jobs * 4 < n ? jobs * 4 : n, jobs, 0, &w) != 0) {
        fake_stop(&f);
        return 1;
    }
    double fc0 = fake_cpu_s(&f);
    if (run(&f, kv, n, jobs, 0, &w) != 0) {
        fake_stop(&f);
        return 1;
    }
    double fc1 = fake_cpu_s(&f);
    /* Baseline 1, like for like: the barrier at the same width (batches of
     * JOBS entries), so only the window itself differs. Baseline 2: the
     * original at its own default (batches of 5). */
    if (run(&f, kv, n, jobs, jobs, &bw) != 0 || run(&f, kv, n, jobs, ORIGINAL_BATCH, &b5) != 0) {
        fake_stop(&f);
        return 1;
    }
    fake_stop(&f);
    /* The ideal: the latencies and our own CPU time. The fake (one node
     * process on the same, shared cores) also burns CPU per request; that is
     * printed beside it, since under load it shows up as added latency. */
    double fake_cpu = fc1 - fc0;
    double ideal = (double)n / jobs * (0.100 + 0.200) + w.cpu_s;
    double same = bw.wall_s / w.wall_s;
    int ok_ideal = w.wall_s / ideal <= 1.3, ok_same = same >= 0.95;
    printf("engine window: settings: %d entries, %d in flight (wordbank's -j), HTTP/2 over TLS; "
           "fake latencies text 100 ms, then image 200 ms + speech 150 ms, +-20%%\n",
           n, jobs);
    printf("  sliding window wall: %.2f s (%llu requests, %llu retries, failed entries %d)\n",
           w.wall_s, (unsigned long long)w.st.attempts, (unsigned long long)w.st.retries, w.failed);
    printf("  mean request time, submit to done: text %.0f ms, image/speech %.0f ms\n", w.text_ms,
           w.media_ms);
    printf(
        "  ideal schedule: %.2f s = entries/jobs x (text + max(image, speech)) + engine CPU %.2f s\n",
        ideal, w.cpu_s);
    printf(
        "  ratio to ideal: %.2fx (must be <= 1.30) %s   [the fake server used %.2f s CPU meanwhile]\n",
        w.wall_s / ideal, ok_ideal ? "OK" : "FAIL", fake_cpu);
    printf("  baseline, same width: batches of %d waiting for their slowest entry: %.2f s, failed "
           "entries %d\n",
           jobs, bw.wall_s, bw.failed);
    printf("  window vs batches at the same width (the window's own effect): %.2fx "
           "(must be >= 0.95) %s\n",
           same, ok_same ? "OK" : "FAIL");
    printf("  baseline, the original at its default: batches of %d (%d in flight at most): %.2f s, "
           "failed entries %d\n",
           ORIGINAL_BATCH, ORIGINAL_BATCH, b5.wall_s, b5.failed);
    printf("  window at -j %d vs the original's batches of %d (width and window together): %.1fx "
           "(informational: most of it is the width)\n",
           jobs, ORIGINAL_BATCH, b5.wall_s / w.wall_s);
    return w.failed || bw.failed || b5.failed || !ok_ideal || !ok_same;
}

static int mode_rss(int n, int jobs)
{
    char sc[1024], models[800];
    snprintf(models, sizeof models, latencies, "");
    snprintf(sc, sizeof sc, "{%s,\"seed\":2}", models);
    fake_raise_nofile();
    struct fake_proc f;
    if (fake_start(sc, 1, &f) != 0)
        return 1;
    struct run_result w;
    char conc[16];
    snprintf(conc, sizeof conc, "%d", jobs * 2);
    const char *kv[] = { "limit.image.concurrency",
                         conc,
                         "limit.speech.concurrency",
                         conc,
                         "limit.text.concurrency",
                         conc,
                         NULL };
    /* WB_BENCH_MEDIA_CAP=N: the image and speech models' request caps
     * (default: no cap below 2 x JOBS). */
    const char *icap = getenv("WB_BENCH_MEDIA_CAP");
    if (icap && atoi(icap) > 0)
        kv[1] = kv[3] = icap;
    int rc = run(&f, kv, n, jobs, 0, &w);
    fake_stop(&f);
    if (rc != 0)
        return 1;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    /* WB_BENCH_RSS_MAX_MIB: the documented ceiling for this transport and
     * these caps (docs/engine.md, "Known limits"); default 64. */
    const char *mx = getenv("WB_BENCH_RSS_MAX_MIB");
    long max_mib = mx && atol(mx) > 0 ? atol(mx) : 64;
    double ideal = (double)n / jobs * 0.3 + w.cpu_s;
    printf("engine rss: settings: %d entries, %d in flight%s%s, %s\n", n, jobs,
           icap && atoi(icap) > 0 ? ", image and speech requests capped at " : "",
           icap && atoi(icap) > 0 ? icap : "",
           getenv("WB_BENCH_PLAIN") && *getenv("WB_BENCH_PLAIN") == '1' ? "HTTP/1.1 (plain)"
                                                                        : "HTTP/2 over TLS");
    printf(
        "  wall: %.2f s (ideal %.2f s, ratio %.2fx), failed entries %d, peak requests in flight %d\n",
        w.wall_s, ideal, w.wall_s / ideal, w.failed, w.st.peak_in_flight);
    printf("  peak RSS: %.1f MiB (must be < %ld, docs/engine.md Known limits) %s\n",
           ru.ru_maxrss / 1024.0, max_mib, ru.ru_maxrss < max_mib * 1024 ? "OK" : "FAIL");
    printf("  CPU time per entry: %.3f ms (%.2f s for %d entries, %.0f KiB received)\n",
           w.cpu_s * 1000 / n, w.cpu_s, n, (double)w.st.bytes_in / 1024);
    return w.failed || ru.ru_maxrss >= max_mib * 1024;
}

/* Sustained rate of admitted speech requests as a fraction of the quota: the
 * mean count of admitted (200) arrivals per full window, skipping the first
 * window (a sliding-window quota allows a whole window's worth at once at the
 * start) and the last, partial one. From the fake's request log (arrival
 * times, final statuses) after *since (updated to the last arrival seen). */
static void speech_rate(struct fake_proc *f, double window_ms, int quota, double *since,
                        double *rate_frac, long long *n429, long long *total)
{
    char *s = fake_get(f, "/_fake/requests?limit=2000");
    json_t *j = s ? json_loads(s, 0, NULL) : NULL;
    free(s);
    static double ok_t[4096];
    size_t n_ok = 0;
    *n429 = *total = 0;
    *rate_frac = 0;
    double last = *since;
    for (size_t i = 0; i < json_array_size(j); i++) {
        json_t *e = json_array_get(j, i);
        double t = json_number_value(json_object_get(e, "t"));
        const char *path = json_string_value(json_object_get(e, "path"));
        long long st = json_integer_value(json_object_get(e, "status"));
        if (t <= *since || !path || !strstr(path, TTS_MODEL))
            continue;
        if (t > last)
            last = t;
        ++*total;
        if (st == 429)
            ++*n429;
        if (st == 200 && n_ok < sizeof ok_t / sizeof *ok_t)
            ok_t[n_ok++] = t;
    }
    json_decref(j);
    *since = last;
    if (n_ok < 2)
        return;
    double t0 = ok_t[0], t1 = ok_t[n_ok - 1];
    int windows = (int)((t1 - t0) / window_ms); /* full windows */
    if (windows < 2)
        return;
    double in = 0;
    for (size_t i = 0; i < n_ok; i++)
        if (ok_t[i] >= t0 + window_ms && ok_t[i] < t0 + windows * window_ms)
            in++;
    *rate_frac = in / (windows - 1) / quota;
}

static int quota_scenario(struct fake_proc *f, int quota, int window_ms)
{
    char sc[1024], models[800], q[128];
    snprintf(q, sizeof q, ",\"quota\":{\"requests\":%d,\"windowMs\":%d}", quota, window_ms);
    snprintf(models, sizeof models, latencies, q);
    snprintf(sc, sizeof sc, "{%s,\"seed\":3}", models);
    if (!f)
        return 0;
    char *r = fake_post(f, "/_fake/scenario", sc);
    int ok = r && strstr(r, "\"ok\"");
    free(r);
    return ok ? 0 : -1;
}

static int mode_quota(int n, int jobs)
{
    /* Configured: the real-size window (60 per 10 s, i.e. 360 rpm); learned:
     * a short window (20 per 2 s) so that several pause cycles fit in a few
     * seconds. */
    const int qa = 60, wa = 10000, qb = 20, wb = 2000, nb = 120;
    struct fake_proc f;
    if (fake_start(NULL, 1, &f) != 0)
        return 1;
    struct run_result a, b;
    double fa = 0, fb = 0, since = -1;
    long long n429a = 0, n429b = 0, ta = 0, tb = 0;
    char rpm[32];
    snprintf(rpm, sizeof rpm, "%d", qa * 60000 / wa);
    const char *kv_conf[] = { "limit." TTS_MODEL ".rpm", rpm, NULL };
    int rc = quota_scenario(&f, qa, wa);
    rc |= run(&f, kv_conf, n, jobs, 0, &a);
    speech_rate(&f, wa, qa, &since, &fa, &n429a, &ta);
    rc |= quota_scenario(&f, qb, wb); /* a new scenario also clears the windows */
    rc |= run(&f, NULL, nb, jobs, 0, &b);
    speech_rate(&f, wb, qb, &since, &fb, &n429b, &tb);
    fake_stop(&f);
    if (rc != 0)
        return 1;
    printf("engine quota: settings: speech limited by the fake's sliding-window quota, %d in "
           "flight; baseline: the quota itself (admitted requests per window)\n",
           jobs);
    printf("  configured, %d entries, quota %d per %d s, limit.%s.rpm = %s: wall %.2f s, "
           "sustained %.1f%% of quota (>= 95), 429s %lld of %lld requests = %.1f%% (<= 2) %s\n",
           n, qa, wa / 1000, TTS_MODEL, rpm, a.wall_s, fa * 100, n429a, ta,
           ta ? 100.0 * (double)n429a / (double)ta : 0,
           fa >= 0.95 && n429a * 50 <= ta ? "OK" : "FAIL");
    printf("  learned from 429s (no limit set), %d entries, quota %d per %d s: wall %.2f s, "
           "sustained %.1f%% of quota (>= 85), 429s %lld of %lld requests %s\n",
           nb, qb, wb / 1000, b.wall_s, fb * 100, n429b, tb, fb >= 0.85 ? "OK" : "FAIL");
    printf("  (sustained = admitted requests per full window, first and last window left out)\n");
    printf("  failed entries: %d and %d\n", a.failed, b.failed);
    return a.failed || b.failed || fa < 0.95 || n429a * 50 > ta || fb < 0.85;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "window";
    int n = argc > 2 ? atoi(argv[2]) : 200;
    int jobs = argc > 3 ? atoi(argv[3]) : 50;
    if (n <= 0 || jobs <= 0)
        return 2;
    if (strcmp(mode, "window") == 0)
        return mode_window(n, jobs);
    if (strcmp(mode, "rss") == 0)
        return mode_rss(n, jobs);
    if (strcmp(mode, "quota") == 0)
        return mode_quota(n, jobs);
    fprintf(stderr, "usage: bench_engine window|rss|quota [ENTRIES [JOBS]]\n");
    return 2;
}
