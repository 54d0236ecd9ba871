/* Benchmark: importing a 100,000-entry word bank into the SQLite store, and,
 * in the same run, the original Python wordbank's way of keeping it: a list
 * in memory and the whole JSONL file rewritten (open, json.dumps every entry,
 * write, close; no fsync) after every single upsert. That is O(N^2), so it is
 * measured in full at two smaller sizes, fitted with t(N) = a*N + b*N^2
 * through both points and extrapolated to 100,000.
 *
 * Two comparisons, each with its own baseline:
 *   like for like: one entry at a time. wb_store_put per entry (a transaction
 *     each) for WB_BENCH_PUTS entries (default 20,000; scaled linearly to
 *     100,000, which favours the original: a put costs O(log N)) vs the
 *     original's per-upsert rewrite. In CPU time (what load does not
 *     change) it must be >= 100x (docs/store.md).
 *   bulk: wb_import_jsonl (1,000 lines a transaction) of 100,000 entries vs
 *     the same original figure; informational (not like for like).
 * Figures are "name value" lines; exit 1 when the like-for-like figure
 * misses its threshold.
 *
 *   bench_store [N] [ORIGINAL_N]   (defaults 100000 and 2000; also
 *   WB_BENCH_N and WB_BENCH_ORIGINAL_N)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wordbank/export.h"
#include "wordbank/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* CPU seconds of this process: the figure that does not depend on how
 * busy the machine is (wall time is printed too). */
static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const kanji[] = { "猫", "犬", "山", "川", "空", "海", "花", "木", "雨", "雪",
                                     "火", "水", "風", "星", "月", "日", "道", "町", "駅", "本" };
static const char *const kana[] = { "さくら",   "ともだち", "たべもの", "あさごはん",
                                    "しんぶん", "でんしゃ", "がっこう", "せんせい" };

/* One realistic original-format entry: a Japanese word, its translation,
 * three example sentences and a description of typical lengths. */
static void make_entry(size_t i, struct wb_entry *e)
{
    char word[64], tr[64], ex[256], desc[512], idesc[256], img[64];
    const char *k1 = kanji[i % 20], *k2 = kanji[(i / 20) % 20], *kn = kana[(i / 400) % 8];
    wb_entry_init(e);
    snprintf(word, sizeof word, "%s%s%s%zu", k1, k2, kn, i / 3200);
    snprintf(tr, sizeof tr, "meaning %zu of %s", i, i % 2 ? "a thing" : "an action");
    e->word = strdup(word);
    e->translation = strdup(tr);
    e->language = strdup("ja");
    snprintf(ex, sizeof ex, "%sは毎朝%sの近くで見かけます。", word, k2);
    wb_entry_add_example(e, ex, NULL);
    snprintf(ex, sizeof ex, "昨日、友達と%sについて話しました。とても面白かったです。", word);
    wb_entry_add_example(e, ex, NULL);
    snprintf(ex, sizeof ex, "「%s」という言葉は日常会話でよく使われます。", word);
    wb_entry_add_example(e, ex, NULL);
    snprintf(desc, sizeof desc,
             "%s (%s) is a common Japanese word. It is used in everyday speech, often with "
             "the particle は or が, and appears in textbooks for beginners. Entry %zu.",
             word, tr, i);
    e->description = strdup(desc);
    snprintf(idesc, sizeof idesc,
             "A bright illustration of %s: a simple scene with soft colours, a %s in the "
             "foreground.",
             tr, k1);
    e->image_description = strdup(idesc);
    if (i % 3) {
        snprintf(img, sizeof img, "images/%zu.png", i);
        e->stages[WB_STAGE_IMAGE].state = WB_STATE_DONE;
        e->stages[WB_STAGE_IMAGE].file = strdup(img);
    }
}

static int write_input(const char *path, size_t n)
{
    FILE *f = fopen(path, "w");
    struct wb_buf line;
    int rc = 0;
    if (!f)
        return -1;
    wb_buf_init(&line, 0);
    for (size_t i = 0; i < n && rc == 0; i++) {
        struct wb_entry e;
        make_entry(i, &e);
        wb_buf_reset(&line);
        rc = wb_entry_to_jsonl(&e, &line);
        if (rc == 0 && fwrite(line.data, 1, line.len, f) != line.len)
            rc = -1;
        wb_entry_release(&e);
    }
    wb_buf_release(&line);
    return fclose(f) != 0 ? -1 : rc;
}

/* The original: upsert into a list (linear search by key), then rewrite the
 * whole file, serialising every entry again (json.dumps per entry there,
 * wb_entry_to_jsonl here: both go through a JSON library). Returns seconds
 * for n upserts, or -1. */
static double original_approach(const char *path, size_t n, double *cpu)
{
    struct wb_entry *list = calloc(n, sizeof *list);
    struct wb_buf line;
    size_t len = 0;
    double t0 = now_s(), c0 = cpu_s(), t = -1;
    if (!list)
        return -1;
    wb_buf_init(&line, 0);
    for (size_t i = 0; i < n; i++) {
        struct wb_entry e;
        size_t j = 0;
        FILE *f;
        make_entry(i, &e);
        for (; j < len; j++) {
            if (strcmp(list[j].word, e.word) == 0 &&
                strcmp(list[j].translation, e.translation) == 0)
                break;
        }
        if (j < len) {
            wb_entry_release(&list[j]);
            list[j] = e;
        } else {
            list[len++] = e;
        }
        if (!(f = fopen(path, "w")))
            goto out;
        for (j = 0; j < len; j++) {
            wb_buf_reset(&line);
            if (wb_entry_to_jsonl(&list[j], &line) != 0)
                break;
            fwrite(line.data, 1, line.len, f);
        }
        if (fclose(f) != 0 || j < len)
            goto out;
    }
    t = now_s() - t0;
    *cpu = cpu_s() - c0;
out:
    for (size_t j = 0; j < len; j++)
        wb_entry_release(&list[j]);
    free(list);
    wb_buf_release(&line);
    return t;
}

/* Like for like with the original's per-upsert rewrite: every entry its own
 * wb_store_put (one transaction each, as the pipeline commits a stage), into
 * a fresh database. Returns seconds for n puts, or -1. */
static double per_entry_puts(const char *db, size_t n, double *cpu)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    double t0, c0, t = -1;
    size_t count = 0;
    if (wb_store_open(db, WB_STORE_CREATE, &st, &err) != 0) {
        fprintf(stderr, "puts: %s\n", wb_error_text(&err));
        return -1;
    }
    t0 = now_s();
    c0 = cpu_s();
    for (size_t i = 0; i < n; i++) {
        struct wb_entry e;
        int rc;
        make_entry(i, &e);
        rc = wb_store_put(st, &e, &err);
        wb_entry_release(&e);
        if (rc != 0) {
            fprintf(stderr, "put %zu: %s\n", i, wb_error_text(&err));
            goto out;
        }
    }
    t = now_s() - t0;
    *cpu = cpu_s() - c0;
    if (wb_store_count(st, NULL, &count, &err) != 0 || count != n) {
        fprintf(stderr, "puts: %zu of %zu entries stored\n", count, n);
        t = -1;
    }
out:
    wb_store_close(st);
    return t;
}

/* t(N) = a*N + b*N^2 through (n1, t1) and (n2, t2), evaluated at 100,000. */
static double extrapolate(size_t n1, double t1, size_t n2, double t2, double *pa, double *pb)
{
    double b = (t2 / (double)n2 - t1 / (double)n1) / (double)(n2 - n1);
    double a = t1 / (double)n1 - b * (double)n1;
    if (b < 0) { /* noise: the pure quadratic through the larger point */
        b = t2 / ((double)n2 * (double)n2);
        a = 0;
    }
    if (pa)
        *pa = a;
    if (pb)
        *pb = b;
    return a * 1e5 + b * 1e10;
}

static size_t arg_or_env(int argc, char **argv, int i, const char *env, size_t def)
{
    const char *s = argc > i ? argv[i] : getenv(env);
    long v = s ? strtol(s, NULL, 10) : 0;
    return v > 0 ? (size_t)v : def;
}

int main(int argc, char **argv)
{
    size_t n = arg_or_env(argc, argv, 1, "WB_BENCH_N", 100000);
    size_t n2 = arg_or_env(argc, argv, 2, "WB_BENCH_ORIGINAL_N", 2000), n1 = n2 / 2;
    char dir[] = "/tmp/wb-bench-store.XXXXXX", in[256], db[256], orig[256];
    struct wb_store *st = NULL;
    struct wb_import_report rep;
    struct wb_error err = { 0 };
    size_t count = 0;
    double t0, c0, t_import, c_import, t1, t2, c1 = 0, c2 = 0, a, b, t_orig, c_orig, scale;
    int rc = 1;
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(in, sizeof in, "%s/wordbank.jsonl", dir);
    snprintf(db, sizeof db, "%s/wordbank.db", dir);
    snprintf(orig, sizeof orig, "%s/original.jsonl", dir);
    wb_import_report_init(&rep);
    if (write_input(in, n) != 0) {
        fprintf(stderr, "cannot write %s\n", in);
        goto out;
    }

    t0 = now_s();
    c0 = cpu_s();
    if (wb_store_open(db, WB_STORE_CREATE, &st, &err) ||
        wb_import_jsonl(st, in, NULL, &rep, &err) || wb_store_count(st, NULL, &count, &err)) {
        fprintf(stderr, "import failed: %s\n", wb_error_text(&err));
        goto out;
    }
    wb_store_close(st);
    st = NULL;
    t_import = now_s() - t0;
    c_import = cpu_s() - c0;
    if (count != n || rep.failed) {
        fprintf(stderr, "imported %zu of %zu (%zu failed)\n", count, n, rep.failed);
        goto out;
    }
    scale = 100000.0 / (double)n;
    printf("settings: %zu entries imported; the original measured at %zu and %zu entries and "
           "extrapolated to 100,000\n",
           n, n1, n2);
    printf("baseline: the original Python tool's way: the whole JSONL file rewritten after "
           "every upsert (in C here, no fsync)\n");
    printf("import_entries %zu%s\n", n,
           n == 100000 ? "" : " (figures below scaled linearly to 100k)");
    printf("import_100k_seconds %.2f\n", t_import * scale);
    printf("import_100k_cpu_seconds %.2f\n", c_import * scale);
    printf("import_entries_per_second %.0f\n", (double)n / t_import);

    /* The original approach, measured in full at n1 and n2, wall and CPU. */
    t1 = original_approach(orig, n1, &c1);
    t2 = original_approach(orig, n2, &c2);
    if (t1 <= 0 || t2 <= 0) {
        fprintf(stderr, "original approach failed\n");
        goto out;
    }
    printf("original_n1 %zu\noriginal_n1_seconds %.3f\noriginal_n1_cpu_seconds %.3f\n", n1, t1, c1);
    printf("original_n2 %zu\noriginal_n2_seconds %.3f\noriginal_n2_cpu_seconds %.3f\n", n2, t2, c2);
    printf("original_growth_n2_over_n1 %.2f (4.00 = purely quadratic)\n", t2 / t1);
    t_orig = extrapolate(n1, t1, n2, t2, &a, &b);
    c_orig = extrapolate(n1, c1, n2, c2, NULL, NULL);
    printf("original_fit a=%.3e s/entry b=%.3e s/entry^2 (t(N) = a*N + b*N^2 through both "
           "points, wall)\n",
           a, b);
    printf("original_100k_seconds_extrapolated %.0f\n", t_orig);
    printf("original_100k_cpu_seconds_extrapolated %.0f\n", c_orig);
    printf("bulk_import_speedup_ratio %.0f (informational: 1,000-line transactions vs one "
           "rewrite per upsert, not like for like)\n",
           t_orig / (t_import * scale));
    printf("bulk_import_speedup_ratio_cpu %.0f\n", c_orig / (c_import * scale));

    /* Like for like: one put per entry. */
    {
        size_t np = arg_or_env(0, argv, 3, "WB_BENCH_PUTS", 20000);
        double cp = 0, tp, tp100, cp100, ratio, ratio_cpu;
        char pdb[300];
        snprintf(pdb, sizeof pdb, "%s/puts.db", dir);
        tp = per_entry_puts(pdb, np, &cp);
        unlink(pdb);
        snprintf(pdb, sizeof pdb, "%s/puts.db-wal", dir);
        unlink(pdb);
        snprintf(pdb, sizeof pdb, "%s/puts.db-shm", dir);
        unlink(pdb);
        if (tp <= 0)
            goto out;
        tp100 = tp * 100000.0 / (double)np;
        cp100 = cp * 100000.0 / (double)np;
        ratio = t_orig / tp100;
        ratio_cpu = c_orig / cp100;
        printf("puts_entries %zu (one wb_store_put, one transaction, each)\n", np);
        printf("puts_seconds %.2f\nputs_cpu_seconds %.2f\nputs_us_per_entry %.1f\n", tp, cp,
               tp * 1e6 / (double)np);
        printf("puts_100k_seconds %.2f (scaled linearly)\n", tp100);
        printf("like_for_like_speedup_ratio %.0f (wall; one entry at a time: per-entry puts, "
               "each committed, vs the original's per-upsert rewrite)\n",
               ratio);
        printf("like_for_like_speedup_ratio_cpu %.0f (CPU, the figure the load does not change; "
               "must be >= 100) %s\n",
               ratio_cpu, ratio_cpu >= 100 ? "OK" : "FAIL");
        rc = ratio_cpu >= 100 ? 0 : 1;
    }
out:
    wb_store_close(st);
    wb_import_report_release(&rep);
    unlink(in);
    unlink(db);
    unlink(orig);
    {
        char p[300];
        snprintf(p, sizeof p, "%s-wal", db);
        unlink(p);
        snprintf(p, sizeof p, "%s-shm", db);
        unlink(p);
    }
    rmdir(dir);
    return rc;
}
