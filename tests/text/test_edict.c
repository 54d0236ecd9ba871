/* EDICT: line parsing, the index (built, reused, rebuilt when the source
 * changes or the index is damaged) on a tiny EUC-JP file, and lookups and
 * sense choice on Debian's real dictionary (indexed once into a shared cache
 * under the build tree). */
#include <dirent.h>
#include <iconv.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "test.h"
#include "th_edict.h"
#include "wordbank/text.h"

static const char fake_edict[] =
    "　？？？ /EDICT, EDICT_SUB(P), EDICT2 Japanese-English Electronic Dictionary Files/\n"
    "猫 [ねこ] /(n) (1) cat/(n) (2) shamisen/(n) (3) geisha/(P)/EntL1467890X/\n"
    "食べる [たべる] /(v1,vt) (1) to eat/(v1,vt) (2) to live on (e.g. a salary)/to live off/(P)/\n"
    "貰う [もらう] /(v5u,vt) (1) (uk) to receive/to take/(aux-v,v5u) (2) (uk) to get somebody to do something/(P)/\n"
    "生 [なま] /(adj-no,n) (1) raw/uncooked/fresh/(n) (2) (abbr) draft beer/draught beer/(P)/\n"
    "生 [せい] /(n) (1) life/living/(n-suf) (2) (abbr) student/\n"
    "ラーメン /(n) ramen/Chinese-style noodles/(P)/\n";

/* Write text as EUC-JP, the way Debian ships edict. */
static void write_eucjp(const char *path, const char *text)
{
    iconv_t cd = iconv_open("EUC-JP", "UTF-8");
    CHECK(cd != (iconv_t)-1);
    size_t inl = strlen(text), outl = inl * 2 + 16;
    char *out = malloc(outl), *o = out, *in = (char *)text;
    CHECK(out != NULL);
    CHECK(iconv(cd, &in, &inl, &o, &outl) != (size_t)-1);
    iconv_close(cd);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(out, 1, (size_t)(o - out), f) == (size_t)(o - out));
    CHECK(fclose(f) == 0);
    free(out);
}

static struct wb_config *fake_config(char *src, size_t cap)
{
    struct wb_config *cfg = NULL;
    char cache[4200];
    snprintf(src, cap, "%s/edict", th_tmpdir());
    snprintf(cache, sizeof cache, "%s/cache", th_tmpdir());
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set(cfg, "edict_path", src, WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_set(cfg, "cache_dir", cache, WB_SRC_FLAG), 0);
    return cfg;
}

TEST(parse_line_senses_tags_markers)
{
    static const char l[] = "猫 [ねこ] /(n) (1) cat (esp. the domestic cat)/(n) (2) shamisen/"
                            "(3) (uk) (col) geisha/(P)/EntL1467890X/";
    struct wb_edict_entry e;
    CHECK_INT(wb_edict_parse_line(l, strlen(l), &e), 0);
    CHECK_STR(e.headword, "猫");
    CHECK_STR(e.reading, "ねこ");
    CHECK(e.common);
    CHECK_INT(e.n_senses, 3);
    CHECK_STR(e.senses[0].pos, "n");
    CHECK_INT(e.senses[0].n_glosses, 1);
    CHECK_STR(e.senses[0].glosses[0], "cat (esp. the domestic cat)");
    CHECK_STR(e.senses[1].glosses[0], "shamisen");
    /* Sense 3 gave no POS: it inherits sense 2's; its markers are tags. */
    CHECK_STR(e.senses[2].pos, "n");
    CHECK_STR(e.senses[2].tags, "uk,col");
    CHECK_STR(e.senses[2].glosses[0], "geisha");
    wb_edict_entry_release(&e);

    static const char k[] = "ラーメン /(n) ramen/Chinese-style noodles/\n";
    CHECK_INT(wb_edict_parse_line(k, strlen(k), &e), 0);
    CHECK(e.reading == NULL && !e.common);
    CHECK_INT(e.n_senses, 1);
    CHECK_INT(e.senses[0].n_glosses, 2);
    CHECK_STR(e.senses[0].glosses[1], "Chinese-style noodles");
    wb_edict_entry_release(&e);

    static const char *const bad[] = { "", "猫", "猫 [ねこ", "猫 [ねこ] no slash", " /x/" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_INT(wb_edict_parse_line(bad[i], strlen(bad[i]), &e), WB_EPARSE);
}

static int progress_calls;
static double progress_last;
static void on_progress(void *ud, double frac)
{
    (void)ud;
    progress_calls++;
    CHECK(frac >= progress_last && frac <= 1.0);
    progress_last = frac;
}

static void check_gloss(struct wb_edict *d, const char *w, const char *tr, const char *want_desc,
                        const char *want_reading)
{
    struct wb_buf desc, rd;
    struct wb_error err = { 0 };
    wb_buf_init(&desc, 0);
    wb_buf_init(&rd, 0);
    CHECK_OK(wb_edict_gloss_for(d, w, tr, &desc, &rd, &err), &err);
    CHECK_MSG(strncmp(desc.data, want_desc, strlen(want_desc)) == 0, "%s/%s: \"%s\" !~ \"%s\"", w,
              tr ? tr : "-", desc.data, want_desc);
    if (want_reading)
        CHECK_STR(rd.data, want_reading);
    wb_buf_release(&desc);
    wb_buf_release(&rd);
}

TEST(fake_edict_index_built_reused_rebuilt)
{
    char src[4200];
    struct wb_config *cfg = fake_config(src, sizeof src);
    struct wb_edict *d = NULL;
    struct wb_edict_entry *e = NULL;
    size_t n = 0;
    struct wb_error err = { 0 };

    write_eucjp(src, fake_edict);
    CHECK_OK(wb_edict_open(cfg, on_progress, NULL, &d, &err), &err);
    CHECK(wb_edict_was_built(d));
    CHECK(progress_calls > 0 && progress_last == 1.0);
    CHECK_OK(wb_edict_lookup(d, "猫", &e, &n, &err), &err);
    CHECK_INT(n, 1);
    CHECK_STR(e[0].senses[0].glosses[0], "cat");
    wb_edict_entries_free(e, n);
    /* The title line is not a word. */
    CHECK_INT(wb_edict_lookup(d, "　？？？", &e, &n, &err), WB_ENOTFOUND);
    CHECK_INT(wb_edict_lookup(d, "犬", &e, &n, &err), WB_ENOTFOUND);
    CHECK(e == NULL && n == 0);
    /* By reading when no headword matches; a kana headword by itself. */
    CHECK_OK(wb_edict_lookup(d, "もらう", &e, &n, &err), &err);
    CHECK_INT(n, 1);
    CHECK_STR(e[0].headword, "貰う");
    wb_edict_entries_free(e, n);
    CHECK_OK(wb_edict_lookup(d, "ラーメン", &e, &n, &err), &err);
    wb_edict_entries_free(e, n);
    /* Two entries for 生: common first, and the translation picks the sense. */
    CHECK_OK(wb_edict_lookup(d, "生", &e, &n, &err), &err);
    CHECK_INT(n, 2);
    CHECK_STR(e[0].reading, "なま");
    wb_edict_entries_free(e, n);
    check_gloss(d, "猫", "geisha", "geisha", "ねこ");
    check_gloss(d, "猫", NULL, "cat", "ねこ");
    check_gloss(d, "猫", "dog", "cat", "ねこ");
    check_gloss(d, "生", "draft beer", "draft beer; draught beer", "なま");
    check_gloss(d, "生", "student", "student", "せい");
    check_gloss(d, "生", "life", "life; living", "せい");
    check_gloss(d, "食べる", "to eat", "to eat", "たべる");
    check_gloss(d, "食べる", "live off", "to live on (e.g. a salary); to live off", NULL);
    check_gloss(d, "ラーメン", "ramen", "ramen; Chinese-style noodles", "ラーメン");
    wb_edict_close(d);

    /* Unchanged source: the index is reused. */
    CHECK_OK(wb_edict_open(cfg, NULL, NULL, &d, &err), &err);
    CHECK(!wb_edict_was_built(d));
    wb_edict_close(d);

    /* A changed source (size and mtime) is re-indexed. */
    struct wb_buf more;
    wb_buf_init(&more, 0);
    CHECK_INT(wb_buf_appends(&more, fake_edict), 0);
    CHECK_INT(wb_buf_appends(&more, "犬 [いぬ] /(n) (1) dog/(P)/\n"), 0);
    write_eucjp(src, more.data);
    wb_buf_release(&more);
    CHECK_OK(wb_edict_open(cfg, NULL, NULL, &d, &err), &err);
    CHECK(wb_edict_was_built(d));
    check_gloss(d, "犬", "dog", "dog", "いぬ");
    /* Damage the index's last row (the last reading, もらう's): opening
     * checks the header only, so it opens; a lookup that does not read the
     * row works, the one that does fails cleanly, the file is removed, and
     * the next open rebuilds it. */
    char idx[4300];
    snprintf(idx, sizeof idx, "%s", wb_edict_index_path(d));
    wb_edict_close(d);
    FILE *f = fopen(idx, "r+b");
    CHECK(f != NULL);
    fseek(f, -4, SEEK_END);
    fwrite("\xff\xff\xff\xff", 1, 4, f);
    fclose(f);
    CHECK_OK(wb_edict_open(cfg, NULL, NULL, &d, &err), &err);
    CHECK(!wb_edict_was_built(d));
    check_gloss(d, "犬", "dog", "dog", "いぬ");
    CHECK_INT(wb_edict_lookup(d, "もらう", &e, &n, &err), WB_ECORRUPT);
    CHECK(e == NULL && n == 0);
    CHECK_MSG(strstr(err.msg, idx) != NULL, "%s", err.msg);
    CHECK(access(idx, F_OK) != 0);
    /* Checking a reading with the damaged dictionary falls back to MeCab
     * (as with none) instead of failing every entry of a run. */
    struct wb_text *t = NULL;
    struct wb_buf rd;
    int verdict = -1;
    wb_buf_init(&rd, 0);
    CHECK_OK(wb_text_new(NULL, &t, &err), &err);
    CHECK_OK(wb_text_check_reading(t, d, "犬", "dog", NULL, NULL, &rd, &verdict, &err), &err);
    CHECK_STR(rd.data, "いぬ");
    CHECK_INT(verdict, WB_READING_FILLED);
    wb_text_free(t);
    wb_buf_release(&rd);
    wb_edict_close(d);
    CHECK_OK(wb_edict_open(cfg, NULL, NULL, &d, &err), &err);
    CHECK(wb_edict_was_built(d));
    check_gloss(d, "犬", "dog", "dog", "いぬ");
    CHECK_OK(wb_edict_lookup(d, "もらう", &e, &n, &err), &err);
    CHECK_STR(e[0].headword, "貰う");
    wb_edict_entries_free(e, n);
    wb_edict_close(d);
    wb_config_free(cfg);
}

/* A fake EDICT of 3,000 lines 単語0000 … 単語2999 (headword order is number
 * order), indexed into its own cache; returns its config, the index path in
 * idx. */
enum {
    DEEP_LINES = 3000
};

static struct wb_config *deep_edict(char *idx, size_t cap)
{
    char src[4200], cache[4200];
    struct wb_config *cfg = NULL;
    struct wb_edict *d = NULL;
    struct wb_error err = { 0 };
    struct wb_buf b;

    wb_buf_init(&b, 0);
    /* 単語0100's line is longer than a lookup's first read (256 bytes). */
    for (int i = 0; i < DEEP_LINES; i++)
        CHECK_INT(wb_buf_appendf(&b, "単語%04d [たんご] /(n) word %d/%s(P)/\n", i, i,
                                 i == 100 ? "(2) a very long gloss "
                                            "................................................"
                                            "................................................"
                                            "................................................"
                                            "................................................"
                                            "................................................"
                                            "......../"
                                          : ""),
                  0);
    snprintf(src, sizeof src, "%s/edict-deep", th_tmpdir());
    snprintf(cache, sizeof cache, "%s/cache-deep", th_tmpdir());
    write_eucjp(src, b.data);
    wb_buf_release(&b);
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set(cfg, "edict_path", src, WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_set(cfg, "cache_dir", cache, WB_SRC_FLAG), 0);
    CHECK_OK(wb_edict_open(cfg, NULL, NULL, &d, &err), &err);
    snprintf(idx, cap, "%s", wb_edict_index_path(d));
    wb_edict_close(d);
    return cfg;
}

static void check_word(struct wb_edict *d, int i)
{
    char w[32], g[32];
    struct wb_edict_entry *e = NULL;
    size_t n = 0;
    struct wb_error err = { 0 };

    snprintf(w, sizeof w, "単語%04d", i);
    snprintf(g, sizeof g, "word %d", i);
    CHECK_OK(wb_edict_lookup(d, w, &e, &n, &err), &err);
    CHECK_INT(n, 1);
    CHECK_STR(e[0].senses[0].glosses[0], g);
    wb_edict_entries_free(e, n);
}

/* The whole file as bytes, to damage it. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *p;
    CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    p = malloc(*len + 1);
    CHECK(p != NULL);
    CHECK(fread(p, 1, *len, f) == *len);
    p[*len] = '\0';
    fclose(f);
    return p;
}

/* Lookups meet damage deep inside the file (mapping checks only the header):
 * the lookup fails with WB_ECORRUPT and no entries, every later lookup on
 * that handle too, the file is removed, and the next open rebuilds it. */
static void damaged_deep_is_caught(struct wb_config *cfg, const char *idx, int bad_word)
{
    struct wb_edict *d = NULL;
    struct wb_edict_entry *e = NULL;
    size_t n = 0;
    struct wb_error err = { 0 };
    char w[32];

    CHECK_OK(wb_edict_open(cfg, NULL, NULL, &d, &err), &err);
    CHECK(!wb_edict_was_built(d));
    check_word(d, 7); /* far from the damage: read and trusted */
    check_word(d, 100);
    snprintf(w, sizeof w, "単語%04d", bad_word);
    CHECK_INT(wb_edict_lookup(d, w, &e, &n, &err), WB_ECORRUPT);
    CHECK(e == NULL && n == 0);
    CHECK_MSG(strstr(err.msg, "damaged") != NULL, "%s", err.msg);
    CHECK(access(idx, F_OK) != 0);
    CHECK_INT(wb_edict_lookup(d, "単語0007", &e, &n, &err), WB_ECORRUPT);
    wb_edict_close(d);
    CHECK_OK(wb_edict_open(cfg, NULL, NULL, &d, &err), &err);
    CHECK(wb_edict_was_built(d));
    check_word(d, bad_word);
    check_word(d, 7);
    wb_edict_close(d);
}

TEST(index_damaged_deep_inside_is_caught_at_lookup_and_rebuilt)
{
    char idx[4300];
    struct wb_config *cfg = deep_edict(idx, sizeof idx);
    size_t len;
    char *p;
    FILE *f;

    /* The text: the newline before 単語1234's line becomes a space, so its
     * row no longer points at a line start. */
    p = slurp(idx, &len);
    static const char nl1234[] = "\n単語1234 ";
    char *at = NULL;
    for (size_t i = 0; !at && i + sizeof nl1234 - 1 <= len; i++)
        if (memcmp(p + i, nl1234, sizeof nl1234 - 1) == 0)
            at = p + i;
    CHECK(at != NULL);
    f = fopen(idx, "r+b");
    CHECK(f != NULL);
    fseek(f, (long)(at - p), SEEK_SET);
    fputc(' ', f);
    fclose(f);
    free(p);
    damaged_deep_is_caught(cfg, idx, 1234);

    /* The headword table: 単語2345's row points past the text. The header
     * (host order, a cache) has the table's offset at byte 56. */
    uint64_t head_off;
    f = fopen(idx, "r+b");
    CHECK(f != NULL);
    fseek(f, 56, SEEK_SET);
    CHECK(fread(&head_off, sizeof head_off, 1, f) == 1);
    fseek(f, (long)(head_off + 4 * 2345), SEEK_SET);
    fwrite("\xff\xff\xff\x7f", 1, 4, f);
    fclose(f);
    damaged_deep_is_caught(cfg, idx, 2345);
    wb_config_free(cfg);
}

TEST(cache_dir_falls_back_to_xdg_then_home)
{
    char src[4200], want[4300];
    struct wb_config *cfg = NULL;
    struct wb_edict *d = NULL;
    struct wb_error err = { 0 };

    snprintf(src, sizeof src, "%s/edict", th_tmpdir());
    write_eucjp(src, fake_edict);
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set(cfg, "edict_path", src, WB_SRC_FLAG), 0);
    snprintf(want, sizeof want, "%s/xdg", th_tmpdir());
    setenv("XDG_CACHE_HOME", want, 1);
    CHECK_OK(wb_edict_open(cfg, NULL, NULL, &d, &err), &err);
    snprintf(want, sizeof want, "%s/xdg/wordbank/edict-", th_tmpdir());
    CHECK(strncmp(wb_edict_index_path(d), want, strlen(want)) == 0);
    wb_edict_close(d);
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", th_tmpdir(), 1);
    CHECK_OK(wb_edict_open(cfg, NULL, NULL, &d, &err), &err);
    snprintf(want, sizeof want, "%s/.cache/wordbank/edict-", th_tmpdir());
    CHECK(strncmp(wb_edict_index_path(d), want, strlen(want)) == 0);
    CHECK(wb_edict_was_built(d));
    wb_edict_close(d);
    wb_config_free(cfg);
}

TEST(missing_edict_is_not_found)
{
    char src[4200];
    struct wb_config *cfg = fake_config(src, sizeof src);
    struct wb_edict *d = NULL;
    struct wb_error err = { 0 };
    CHECK_INT(wb_edict_open(cfg, NULL, NULL, &d, &err), WB_ENOTFOUND);
    CHECK(d == NULL);
    CHECK(strstr(err.msg, src) != NULL);
    wb_config_free(cfg);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

TEST(real_edict_lookups_and_senses)
{
    struct wb_edict *d = th_edict();
    struct wb_edict_entry *e = NULL;
    size_t n = 0;
    struct wb_error err = { 0 };

    check_gloss(d, "猫", "cat", "cat", "ねこ");
    check_gloss(d, "猫", "geisha", "geisha", "ねこ");
    check_gloss(d, "食べる", "to eat", "to eat", "たべる");
    check_gloss(d, "食べる", NULL, "to eat", "たべる");
    check_gloss(d, "生", "raw", "raw; uncooked; fresh", "なま");
    check_gloss(d, "生", "draft beer", "unpasteurized beer", "なま");
    check_gloss(d, "東京都", NULL, "Tokyo Metropolis", "とうきょうと");
    check_gloss(d, "掛ける", "to multiply", "to multiply", "かける");
    CHECK_INT(wb_edict_lookup(d, "ぴよぴよぷーぺん", &e, &n, &err), WB_ENOTFOUND);
    CHECK_OK(wb_edict_lookup(d, "もらう", &e, &n, &err), &err);
    int found = 0;
    for (size_t i = 0; i < n; i++)
        found |= strcmp(e[i].headword, "貰う") == 0;
    CHECK(found);
    wb_edict_entries_free(e, n);

    /* Lookup speed, for the report. */
    static const char *const words[] = { "猫", "食べる", "生", "もらう", "東京", "ない語" };
    int iters = 20000, hits = 0;
    double t0 = now_s();
    for (int i = 0; i < iters; i++) {
        if (wb_edict_lookup(d, words[i % 6], &e, &n, NULL) == 0)
            hits++;
        wb_edict_entries_free(e, n);
    }
    double dt = now_s() - t0;
    CHECK(hits > 0);
    printf("# %d lookups (parsing the entries) in %.3f s: %.1f us each\n", iters, dt,
           dt / iters * 1e6);
    wb_edict_close(d);
}

/* How many of this process's mappings (/proc/self/smaps) are of path. */
static int mappings_of(const char *path)
{
    FILE *f = fopen("/proc/self/maps", "r");
    char line[4600];
    size_t pl = strlen(path);
    int n = 0;

    CHECK(f != NULL);
    while (fgets(line, sizeof line, f)) {
        size_t l = strlen(line);
        if (l && line[l - 1] == '\n')
            line[--l] = '\0';
        n += l >= pl && strcmp(line + l - pl, path) == 0;
    }
    fclose(f);
    return n;
}

/* Lookups pread what they read: the 23 MB index is never mapped, so none of
 * it counts in the process's RSS (a mapping made whole page-cache folios, up
 * to 2 MiB, resident for every probe: 11 MiB after one lookup). */
TEST(real_edict_index_is_read_not_mapped)
{
    struct wb_edict *d = th_edict();
    struct wb_edict_entry *e = NULL;
    size_t n = 0;
    static const char *const words[] = { "猫", "食べる", "生", "もらう", "東京", "ない語" };

    for (int i = 0; i < 6; i++) {
        if (wb_edict_lookup(d, words[i], &e, &n, NULL) == 0)
            wb_edict_entries_free(e, n);
    }
    struct wb_error err = { 0 };
    CHECK_OK(wb_edict_lookup(d, "食べる", &e, &n, &err), &err);
    CHECK_STR(e[0].reading, "たべる");
    wb_edict_entries_free(e, n);
    CHECK_INT(mappings_of(wb_edict_index_path(d)), 0);
    wb_edict_close(d);
}

/* docs/text.md: builders take an flock on <index>.lock and re-check after
 * getting it, so processes that all find no index at the same moment build
 * it once; the others wait and use that one. No temporary file is left. */
TEST(concurrent_builders_build_once)
{
    enum {
        KIDS = 5
    };
    char src[4200], cache[4300];
    struct wb_config *cfg = fake_config(src, sizeof src);
    int go[2], status, built = 0, reused = 0;
    pid_t kids[KIDS];
    char c = 'g';
    write_eucjp(src, fake_edict);
    CHECK(pipe(go) == 0);
    for (int i = 0; i < KIDS; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            struct wb_edict *d = NULL;
            struct wb_edict_entry *e = NULL;
            struct wb_error err = { 0 };
            size_t n = 0;
            char b;
            int was;
            close(go[1]);
            if (read(go[0], &b, 1) != 1)
                _exit(2);
            if (wb_edict_open(cfg, NULL, NULL, &d, &err) != 0) {
                fprintf(stderr, "# child %d: %s\n", i, err.msg);
                _exit(3);
            }
            was = wb_edict_was_built(d);
            if (wb_edict_lookup(d, "猫", &e, &n, &err) != 0 || n != 1)
                _exit(4);
            wb_edict_entries_free(e, n);
            wb_edict_close(d);
            _exit(was ? 10 : 0);
        }
    }
    close(go[0]);
    for (int i = 0; i < KIDS; i++)
        CHECK(write(go[1], &c, 1) == 1);
    close(go[1]);
    for (int i = 0; i < KIDS; i++) {
        CHECK(waitpid(kids[i], &status, 0) == kids[i]);
        CHECK_MSG(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 10),
                  "child %d: status %d", i, status);
        built += WEXITSTATUS(status) == 10;
        reused += WEXITSTATUS(status) == 0;
    }
    CHECK_INT(built, 1);
    CHECK_INT(reused, KIDS - 1);
    /* The cache holds the index and its lock file, nothing half-written. */
    snprintf(cache, sizeof cache, "%s/cache", th_tmpdir());
    DIR *dir = opendir(cache);
    struct dirent *de;
    int files = 0;
    CHECK(dir != NULL);
    while ((de = readdir(dir)) != NULL) {
        size_t l = strlen(de->d_name);
        if (de->d_name[0] == '.')
            continue;
        files++;
        CHECK_MSG((l > 4 && strcmp(de->d_name + l - 4, ".idx") == 0) ||
                      (l > 9 && strcmp(de->d_name + l - 9, ".idx.lock") == 0),
                  "unexpected file in the cache: %s", de->d_name);
    }
    closedir(dir);
    CHECK(files >= 1 && files <= 2);
    wb_config_free(cfg);
}
