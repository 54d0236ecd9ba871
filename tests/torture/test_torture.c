/* Allocation-failure torture in curl's manner (core/torture.h): each scenario
 * runs once for every N = 1, 2, ... with the Nth allocation failing (the
 * library's own, SQLite's and jansson's), until a run makes fewer than N
 * allocations. Every run must return 0 or a negative WB_E* code, give the
 * untortured result when it returns 0, and leave the store consistent
 * (reopened, integrity-checked). A crash, a sanitizer's report or a failing
 * check names its N, and LeakSanitizer checks for leaks every LEAK_EVERY runs
 * and at the end. The runs share one child process (a process per N costs
 * half a second under ASan: LSan's exit check), after one untortured run has
 * loaded what loads once.
 *
 * One N (for a debugger, or to pin down a leak):
 *   WB_TORTURE_N=57 ./test_torture store
 * Only count a scenario's allocations: WB_TORTURE_N=0.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <errno.h>
#include <ftw.h>
#include <iconv.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/torture.h"
#include "core/util.h"
#include "providers/gemini.h"
#include "providers/openai.h"
#include "test.h"
#include "th_fixture.h"
#include "wordbank/config.h"
#include "wordbank/content.h"
#include "wordbank/export.h"
#include "wordbank/media.h"
#include "wordbank/pipeline.h"
#include "wordbank/store.h"

/* One run of a scenario, with allocation n failing (ULONG_MAX: none), in dir
 * (fresh for each run). It CHECKs everything itself. */
typedef void (*scenario_fn)(unsigned long n, const char *dir);

/* Set by disarm(): whether allocation n failed, how many the armed part made. */
static const char *torture_name = "untortured";
static unsigned long torture_n;

/* Which run failed: said before a failing CHECK's message and a sanitizer's
 * report. */
static void say_n(void)
{
    if (torture_n)
        fprintf(stderr,
                "# %s: with allocation %lu failing (rerun: WB_TORTURE_N=%lu test_torture %s)\n",
                torture_name, torture_n, torture_n, torture_name);
    else
        fprintf(stderr, "# %s: in the untortured run\n", torture_name);
}
#define th_fail(...) (say_n(), th_fail(__VA_ARGS__))
static int hit;
static unsigned long counted;

static void arm(unsigned long n)
{
    core_torture_arm(n);
}

static void disarm(void)
{
    counted = core_torture_count();
    hit = core_torture_failed();
    core_torture_arm(0);
}

/* 0 or a code of the error table: what every tortured function may return. */
static int code_ok(int rc)
{
    return rc == 0 || (rc < 0 && rc > -WB__ERRIDX_COUNT);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    CHECK(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS) == 0);
}

/* The sanitizers' hooks (weak: absent without them). */
extern int __lsan_do_recoverable_leak_check(void) __attribute__((weak));
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

/* espeak-ng's audio layer (libpulse, through pcaudiolib) keeps threads whose
 * allocations a leak check made while they run can take for leaks ("Running
 * thread ... was not suspended. False leaks are possible."): not ours. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libpulse.so\nleak:libpcaudio.so\n";
}

/* Leaks so far (LeakSanitizer's report is on stderr); 0 without it. */
static int leaked(void)
{
    return __lsan_do_recoverable_leak_check ? __lsan_do_recoverable_leak_check() : 0;
}

/* Runs fn untortured once, then for N = 1, 2, ... until a run no longer
 * reaches N, checking for leaks every LEAK_EVERY runs (a check costs about
 * as much as many runs). WB_TORTURE_N=k runs only N = k (0: count only). */
#define LEAK_EVERY 200
static void torture(const char *name, scenario_fn fn)
{
    char dir[4200];
    unsigned long n, total, checked = 0;
    volatile unsigned long *at;
    const char *one = getenv("WB_TORTURE_N");
    int status = 0;
    pid_t pid;

    torture_name = name;
    /* The store fsyncs every commit: run in memory (tmpfs) where there is one. */
    if (access("/dev/shm", W_OK) == 0)
        setenv("TMPDIR", "/dev/shm", 1);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(say_n);
    snprintf(dir, sizeof dir, "%s/run", th_tmpdir());
    /* Once untortured: the scenario works, and what loads once is loaded. */
    torture_n = 0;
    CHECK(mkdir(dir, 0700) == 0);
    fn(ULONG_MAX, dir);
    total = counted;
    rm_rf(dir);
    CHECK_MSG(!leaked(), "%s: leaks untortured", name);
    if (one && *one) {
        n = strtoul(one, NULL, 10);
        fprintf(stderr, "# %s: %lu allocations untortured; N = %lu\n", name, total, n);
        if (n) {
            torture_n = n;
            CHECK(mkdir(dir, 0700) == 0);
            fn(n, dir);
            rm_rf(dir);
            CHECK_MSG(hit, "%s: N = %lu was not reached", name, n);
            CHECK_MSG(!leaked(), "%s: leaks with allocation %lu failing", name, n);
        }
        return;
    }
    /* The runs in a child, which tells its parent each N as it goes: a
     * report by a sanitizer that is not ASan's (UBSan's runtime is its own)
     * or a plain crash still names its N. */
    at = mmap(NULL, sizeof *at, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    CHECK(at != MAP_FAILED);
    *at = 0;
    fflush(stdout);
    fflush(stderr);
    CHECK((pid = fork()) >= 0);
    if (pid == 0) {
        for (n = 1;; n++) {
            *at = torture_n = n;
            CHECK(mkdir(dir, 0700) == 0);
            fn(n, dir);
            rm_rf(dir);
            if (!hit || n % LEAK_EVERY == 0) {
                CHECK_MSG(!leaked(),
                          "%s: leaks with one of allocations %lu to %lu failing (rerun each: "
                          "WB_TORTURE_N=k test_torture %s)",
                          name, checked + 1, n, name);
                checked = n;
                fprintf(stderr, "# %s: N = 1 to %lu passed\n", name, hit ? n : n - 1);
            }
            if (!hit)
                break;
        }
        fprintf(stderr, "# %s: %lu allocations (%lu untortured), each failed once\n", name, n - 1,
                total);
        /* exit, not _exit: LeakSanitizer checks at exit. */
        exit(n > 1 ? 0 : 3);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    torture_n = n = *at;
    munmap((void *)at, sizeof *at);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "%s: %s %d with allocation %lu failing (rerun: WB_TORTURE_N=%lu test_torture %s)",
              name, WIFSIGNALED(status) ? "killed by signal" : "exit status",
              WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status), n, n, name);
}

/* ---- the store: open (create and migrate), put, commit stages, list ---- */

static int count_entry(void *ud, const struct wb_entry *e)
{
    (void)e;
    (*(size_t *)ud)++;
    return 0;
}

static void store_once(unsigned long n, const char *dir)
{
    struct wb_error err = { 0 };
    struct wb_store *st = NULL;
    struct wb_entry e, g;
    struct wb_stage_info audio = { 0 };
    char path[4300];
    size_t listed = 0;
    int rc;

    snprintf(path, sizeof path, "%s/wb.db", dir);
    wb_entry_init(&e);
    e.word = strdup("猫");
    e.translation = strdup("cat");
    e.language = strdup("ja");
    e.context = strdup("the pet");
    e.reading = strdup("ねこ");
    e.description = strdup("A small furry animal.");
    CHECK(e.word && e.translation && e.language && e.context && e.reading && e.description);
    CHECK_OK(wb_entry_add_example(&e, "猫が好きです。", "I like cats."), &err);
    e.stages[WB_STAGE_DETAILS].state = WB_STATE_DONE;
    audio.state = WB_STATE_DONE;
    audio.file = "0123456789abcdef.mp3";
    audio.provider = "offline";

    arm(n);
    rc = wb_store_open(path, WB_STORE_CREATE, &st, &err);
    if (!rc)
        rc = wb_store_put(st, &e, &err);
    if (!rc && !(rc = wb_store_begin(st, &err))) {
        rc = wb_store_set_stage(st, &e, WB_STAGE_AUDIO, &audio, &err);
        if (!rc)
            rc = wb_store_commit(st, &err);
        if (rc)
            wb_store_rollback(st);
    }
    if (!rc)
        rc = wb_store_each(st, NULL, count_entry, &listed, &err);
    wb_store_close(st);
    st = NULL;
    disarm();

    CHECK_MSG(code_ok(rc), "N = %lu: returned %d", n, rc);
    CHECK_MSG(rc != 0 || listed == 1, "N = %lu: listed %zu", n, listed);
    if (!hit)
        CHECK_OK(rc, &err);
    /* Consistent: opens at the current schema, passes integrity_check, and
     * the entry is there (whole) when the run said it succeeded. */
    CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &st, &err), &err);
    CHECK_INT(wb_store_schema_version(st), WB_STORE_SCHEMA_VERSION);
    CHECK_OK(wb_store_check(st, 1, &err), &err);
    wb_entry_init(&g);
    rc = wb_store_get(st, "猫", "cat", "ja", &g, &err);
    CHECK(rc == 0 || rc == WB_ENOTFOUND);
    if (rc == 0) { /* written by wb_store_put, which is all or nothing */
        CHECK_STR(g.reading, "ねこ");
        CHECK_INT(g.n_examples, 1);
        CHECK_INT(g.stages[WB_STAGE_DETAILS].state, WB_STATE_DONE);
    }
    if (!hit) {
        CHECK_INT(g.stages[WB_STAGE_AUDIO].state, WB_STATE_DONE);
        CHECK_STR(g.stages[WB_STAGE_AUDIO].file, audio.file);
    }
    wb_entry_release(&g);
    wb_store_close(st);
    wb_entry_release(&e);
}

TEST(store)
{
    torture("store", store_once);
}

/* ---- the Markdown parser: <wordbank> and <dialogue> blocks ---- */

static const char lesson_md[] = "# Lesson\n\n"
                                "<wordbank>\n"
                                "- 猫: cat (the pet)\n"
                                "- not a word line\n"
                                "- 犬: dog\n"
                                "</wordbank>\n\n"
                                "<dialogue>\n"
                                "A: こんにちは。\n"
                                "B: こんばんは。\n"
                                "</dialogue>\n";

static void markdown_once(unsigned long n, const char *dir)
{
    struct wb_error err = { 0 };
    struct wb_doc doc;
    int rc;
    (void)dir;

    wb_doc_init(&doc);
    arm(n);
    rc = wb_doc_parse(&doc, "lesson.md", lesson_md, strlen(lesson_md), &err);
    disarm();
    CHECK_MSG(rc == 0 || rc == WB_ENOMEM, "N = %lu: returned %d", n, rc);
    if (!hit)
        CHECK_OK(rc, &err);
    if (rc == 0) {
        CHECK_INT(doc.n_blocks, 2);
        CHECK_INT(doc.blocks[0].n_items, 2);
        CHECK_STR(doc.blocks[0].items[1].word, "犬");
        CHECK_INT(doc.blocks[1].n_lines, 2);
        CHECK(doc.blocks[1].two_voice);
        CHECK_STR(doc.blocks[1].lines[1].text, "こんばんは。");
        CHECK_INT(doc.n_diags, 1);
        CHECK_MSG(!strncmp(doc.diags[0], "lesson.md:5:", 12), "diag %s", doc.diags[0]);
    }
    wb_doc_release(&doc);
}

TEST(markdown)
{
    torture("markdown", markdown_once);
}

/* ---- the Gemini answers: details, speech (unary and streamed), image, error ---- */

/* 猫 / cat, the entry the answers fill (made before the allocations fail). */
static void cat_entry(struct wb_entry *e)
{
    wb_entry_init(e);
    e->word = strdup("猫");
    e->translation = strdup("cat");
    e->language = strdup("ja");
    CHECK(e->word && e->translation && e->language);
}

static void gemini_once(unsigned long n, const char *dir)
{
    struct wb_buf details = th_fixture("details_ok.json"), unary = th_fixture("tts_unary.json");
    struct wb_buf sse = th_fixture("tts_stream.sse"), image = th_fixture("image_ok.json");
    struct wb_buf e429 = th_fixture("error_429_minute.json"), pcm = th_fixture("tts_expected.pcm");
    struct wb_buf png = th_fixture("image_expected.png");
    struct wb_entry e;
    struct prov_usage u;
    struct core_api_error a;
    struct gemini_audio au, as;
    struct wb_buf img;
    char mime[64] = "";
    size_t len = 0;
    int rc[5];
    (void)dir;

    cat_entry(&e);
    gemini_audio_init(&au);
    gemini_audio_init(&as);
    wb_buf_init(&img, 0);

    arm(n);
    rc[0] = gemini_details_parse(details.data, details.len, &e, &u, &a);
    rc[1] = gemini_audio_parse_response(&au, unary.data, unary.len, &a);
    rc[2] = gemini_audio_feed(&as, sse.data, sse.len, &a);
    if (!rc[2])
        rc[2] = gemini_audio_finish(&as, &a);
    rc[3] = gemini_image_parse(image.data, image.len, &img, mime, sizeof mime, &u, &a);
    rc[4] = gemini_parse_error(429, NULL, 0, e429.data, e429.len, &a);
    disarm();

    for (int i = 0; i < 4; i++) {
        CHECK_MSG(code_ok(rc[i]), "N = %lu: parser %d returned %d", n, i, rc[i]);
        if (!hit)
            CHECK_INT(rc[i], 0);
    }
    if (rc[0] == 0) {
        CHECK_STR(e.reading, "ねこ");
        CHECK_INT(e.n_examples, 2);
        CHECK_STR(e.examples[1].translation, "Our cat likes fish.");
    } else {
        CHECK(e.reading == NULL && e.n_examples == 0); /* nothing half-changed */
    }
    if (rc[1] == 0) {
        const void *p = gemini_audio_pcm(&au, &len);
        CHECK(len > 0 && p != NULL);
    }
    if (rc[2] == 0) {
        const void *p = gemini_audio_pcm(&as, &len);
        CHECK(len == pcm.len && !memcmp(p, pcm.data, len));
    }
    if (rc[3] == 0)
        CHECK(img.len == png.len && !memcmp(img.data, png.data, png.len));
    /* A 429 stays a rate limit (the status decides), whatever else fails. */
    CHECK_MSG(rc[4] == WB_ERATELIMIT, "N = %lu: 429 classified %d", n, rc[4]);

    wb_buf_release(&img);
    gemini_audio_release(&au);
    gemini_audio_release(&as);
    wb_entry_release(&e);
    wb_buf_release(&details);
    wb_buf_release(&unary);
    wb_buf_release(&sse);
    wb_buf_release(&image);
    wb_buf_release(&e429);
    wb_buf_release(&pcm);
    wb_buf_release(&png);
}

TEST(gemini)
{
    torture("gemini", gemini_once);
}

/* ---- the OpenAI answers: a chat completion with the card, an image ---- */

static const char openai_chat[] =
    "{\"id\":\"chatcmpl-1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,"
    "\"message\":{\"role\":\"assistant\",\"content\":\"{\\\"word\\\":\\\"猫\\\","
    "\\\"translation\\\":\\\"cat\\\",\\\"language_code\\\":\\\"ja\\\",\\\"reading\\\":"
    "\\\"ねこ\\\",\\\"description\\\":\\\"A small furry pet.\\\",\\\"examples\\\":"
    "[{\\\"text\\\":\\\"猫が寝ている。\\\",\\\"translation\\\":\\\"The cat sleeps.\\\"}],"
    "\\\"image_description\\\":\\\"A cat asleep.\\\"}\",\"refusal\":null},"
    "\"finish_reason\":\"stop\"}],\"usage\":{\"prompt_tokens\":10,\"completion_tokens\":20,"
    "\"total_tokens\":30}}";
static const char openai_image[] = "{\"created\":1,\"data\":[{\"b64_json\":\"aGVsbG8gY2F0\"}]}";

static void openai_once(unsigned long n, const char *dir)
{
    struct wb_entry e;
    struct prov_usage u;
    struct core_api_error a;
    struct wb_buf img;
    int rc[2];
    (void)dir;

    cat_entry(&e);
    wb_buf_init(&img, 0);

    arm(n);
    rc[0] = openai_details_parse(openai_chat, strlen(openai_chat), &e, &u, &a);
    rc[1] = openai_image_parse(openai_image, strlen(openai_image), &img, &u, &a);
    disarm();

    for (int i = 0; i < 2; i++) {
        CHECK_MSG(code_ok(rc[i]), "parser %d returned %d", i, rc[i]);
        if (!hit)
            CHECK_INT(rc[i], 0);
    }
    if (rc[0] == 0) {
        CHECK_STR(e.reading, "ねこ");
        CHECK_STR(e.description, "A small furry pet.");
        CHECK_INT(e.n_examples, 1);
        CHECK_STR(e.examples[0].translation, "The cat sleeps.");
    } else {
        CHECK(e.reading == NULL && e.n_examples == 0); /* nothing changed */
    }
    if (rc[1] == 0)
        CHECK(img.len == 9 && !memcmp(img.data, "hello cat", 9));
    wb_buf_release(&img);
    wb_entry_release(&e);
}

TEST(openai)
{
    torture("openai", openai_once);
}

/* ---- the config file parser ---- */

static void config_once(unsigned long n, const char *dir)
{
    struct wb_error err = { 0 };
    struct wb_config *cfg = NULL;
    char path[4300];
    FILE *f;
    int rc;

    snprintf(path, sizeof path, "%s/wordbank.conf", dir);
    CHECK((f = fopen(path, "w")) != NULL);
    fputs("# a comment\nlang = ja\njobs = 7\n[gemini]\ntext_model = gemini-x\n", f);
    CHECK(fclose(f) == 0);

    arm(n);
    rc = wb_config_new(&cfg);
    if (!rc)
        rc = wb_config_load_file(cfg, path, 1, &err);
    disarm();
    CHECK_MSG(code_ok(rc), "N = %lu: returned %d", n, rc);
    if (!hit)
        CHECK_OK(rc, &err);
    if (rc == 0) {
        CHECK_STR(wb_config_get(cfg, "lang"), "ja");
        CHECK_INT(wb_config_get_int(cfg, "jobs", 0), 7);
        CHECK_STR(wb_config_get(cfg, "gemini.text_model"), "gemini-x");
    }
    wb_config_free(cfg);
}

TEST(config)
{
    torture("config", config_once);
}

/* ---- a JSONL import line ---- */

static const char import_line[] =
    "{\"word\": \"猫\", \"en_translation\": \"cat\", \"language_code\": \"ja\", "
    "\"examples\": [\"猫が好きです。\", \"黒い猫。\"], \"description\": \"A small pet.\", "
    "\"image_description\": \"A tabby cat.\", \"reading\": \"ねこ\"}\n";

static void import_once(unsigned long n, const char *dir)
{
    struct wb_error err = { 0 };
    struct wb_store *st = NULL;
    struct wb_import_report rep;
    struct wb_entry g;
    char path[4300];
    FILE *in;
    int rc;

    snprintf(path, sizeof path, "%s/wb.db", dir);
    CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &st, &err), &err);
    CHECK((in = fmemopen((void *)import_line, strlen(import_line), "r")) != NULL);
    wb_import_report_init(&rep);

    arm(n);
    rc = wb_import_jsonl_stream(st, in, "words.jsonl", NULL, &rep, &err);
    disarm();
    fclose(in);
    CHECK_MSG(code_ok(rc), "N = %lu: returned %d", n, rc);
    if (!hit) {
        CHECK_OK(rc, &err);
        CHECK_INT(rep.imported, 1);
    }
    /* Imported whole, or reported: never a line lost in silence. */
    CHECK_MSG(rc != 0 || rep.imported + rep.failed == 1, "N = %lu: imported %zu failed %zu", n,
              rep.imported, rep.failed);
    wb_import_report_release(&rep);
    CHECK_OK(wb_store_check(st, 1, &err), &err);
    wb_entry_init(&g);
    rc = wb_store_get(st, "猫", "cat", "ja", &g, &err);
    CHECK(rc == 0 || rc == WB_ENOTFOUND);
    if (rc == 0) {
        CHECK_STR(g.reading, "ねこ");
        CHECK_INT(g.n_examples, 2);
        CHECK_STR(g.description, "A small pet.");
    }
    wb_entry_release(&g);
    wb_store_close(st);
}

TEST(import)
{
    torture("import", import_once);
}

/* ---- one pipeline run: 猫 / cat with the offline provider ---- */

/* A small EDICT (EUC-JP, as Debian ships it): Debian's whole dictionary costs
 * every run a validation of its 170 000-row index. Two readings of 猫, so a
 * wrong pick shows. */
static const char small_edict[] =
    "　？？？ /EDICT, EDICT_SUB(P), EDICT2 Japanese-English Electronic Dictionary Files/\n"
    "猫 [ねこ] /(n) (1) cat (esp. the domestic cat)/(n) (2) shamisen/(P)/\n"
    "猫 [ねこま] /(n) (arch) cat/\n"
    "犬 [いぬ] /(n) (1) dog/(P)/\n";

static void write_eucjp(const char *path, const char *text)
{
    iconv_t cd = iconv_open("EUC-JP", "UTF-8");
    size_t inl = strlen(text), outl = inl * 2 + 16;
    char out[1024], *o = out, *in = (char *)text;
    FILE *f;
    CHECK(cd != (iconv_t)-1 && outl <= sizeof out);
    CHECK(iconv(cd, &in, &inl, &o, &outl) != (size_t)-1);
    iconv_close(cd);
    CHECK((f = fopen(path, "wb")) != NULL);
    CHECK(fwrite(out, 1, (size_t)(o - out), f) == (size_t)(o - out));
    CHECK(fclose(f) == 0);
}

/* The untortured run's entry: what a run that returns 0 must have made. */
static char *want_reading, *want_description;

/* One store for every N (opened by the untortured run, the entry removed
 * after each run): SQLite's statements are prepared once, so the runs torture
 * the pipeline rather than statement compilation (the store scenario's). */
static struct wb_store *pipe_store;
static struct wb_config *pipe_cfg;

static void pipeline_once(unsigned long n, const char *dir)
{
    struct wb_error err = { 0 };
    struct wb_run *run = NULL;
    struct wb_entry g;
    char path[4300], media[4300], cache[4300];
    int rc;

    if (!pipe_store) {
        char edict[4300];
        snprintf(path, sizeof path, "%s/pipeline.db", th_tmpdir());
        snprintf(cache, sizeof cache, "%s/cache", th_tmpdir());
        snprintf(edict, sizeof edict, "%s/edict", th_tmpdir());
        write_eucjp(edict, small_edict);
        CHECK_INT(wb_config_new(&pipe_cfg), 0);
        CHECK_INT(wb_config_set(pipe_cfg, "provider", "offline", WB_SRC_FLAG), 0);
        CHECK_INT(wb_config_set(pipe_cfg, "cache_dir", cache, WB_SRC_FLAG), 0);
        CHECK_INT(wb_config_set(pipe_cfg, "edict_path", edict, WB_SRC_FLAG), 0);
        CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &pipe_store, &err), &err);
    }
    snprintf(media, sizeof media, "%s/media", dir);

    arm(n);
    rc = wb_run_new(pipe_cfg, pipe_store, media, NULL, &run, &err);
    if (!rc)
        rc = wb_run_add(run, "猫", "cat", "the pet", &err);
    if (!rc)
        rc = wb_run_execute(run, &err);
    wb_run_free(run);
    disarm();

    CHECK_MSG(code_ok(rc), "N = %lu: returned %d", n, rc);
    if (!hit)
        CHECK_OK(rc, &err);
    CHECK_OK(wb_store_check(pipe_store, 1, &err), &err);
    wb_entry_init(&g);
    if (rc == 0) {
        CHECK_OK(wb_store_get(pipe_store, "猫", "cat", "ja", &g, &err), &err);
        /* 0: every stage done */
        CHECK_INT(g.stages[WB_STAGE_DETAILS].state, WB_STATE_DONE);
        CHECK_INT(g.stages[WB_STAGE_AUDIO].state, WB_STATE_DONE);
        if (!torture_n) {
            CHECK_STR(g.reading, "ねこ");
            CHECK(g.description && strstr(g.description, "domestic cat"));
            CHECK((want_reading = strdup(g.reading)) && (want_description = strdup(g.description)));
        }
    } else {
        int got = wb_store_get(pipe_store, "猫", "cat", "ja", &g, &err);
        CHECK(got == 0 || got == WB_ENOTFOUND);
    }
    /* A stage said done (whatever the run returned) has what the untortured
     * run made. */
    if (g.stages[WB_STAGE_DETAILS].state == WB_STATE_DONE) {
        CHECK_STR(g.reading, want_reading);
        CHECK_STR(g.description, want_description);
    }
    if (g.stages[WB_STAGE_AUDIO].state == WB_STATE_DONE) {
        char file[8700];
        CHECK(g.stages[WB_STAGE_AUDIO].file != NULL);
        snprintf(file, sizeof file, "%s/%s", media, g.stages[WB_STAGE_AUDIO].file);
        CHECK_MSG(wb_media_file_valid(file), "%s", file);
    }
    wb_entry_release(&g);
    rc = wb_store_remove(pipe_store, "猫", "cat", "ja", &err);
    CHECK_MSG(rc == 0 || rc == WB_ENOTFOUND, "N = %lu: remove: %s", n, wb_error_text(&err));
}

TEST(pipeline)
{
    torture("pipeline", pipeline_once);
    wb_store_close(pipe_store);
    wb_config_free(pipe_cfg);
    free(want_reading);
    free(want_description);
}
