/* Import and export: the original JSONL format round trip, diagnostics for
 * malformed lines, merging into existing entries, CSV quoting, the --json
 * shape and atomic output files.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "wordbank/export.h"
#include "wordbank/store.h"

static struct wb_store *mem_store(void)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    CHECK_OK(wb_store_open(":memory:", WB_STORE_CREATE, &st, &err), &err);
    return st;
}

/* Every line of a and b parses to equal JSON objects, in the same order.
 * The fixture names media files that do not exist: an import without a media
 * store (or with one) never marks those stages done, so a's media keys are
 * compared as null/absent. */
static void same_jsonl(const char *a, const char *b)
{
    FILE *fa = fopen(a, "r"), *fb = fopen(b, "r");
    char la[8192], lb[8192];
    int n = 0;
    CHECK(fa && fb);
    for (;;) {
        char *ra = fgets(la, sizeof la, fa), *rb = fgets(lb, sizeof lb, fb);
        json_t *ja, *jb;
        CHECK_MSG(!ra == !rb, "line counts differ after %d lines", n);
        if (!ra)
            break;
        n++;
        ja = json_loads(la, 0, NULL);
        jb = json_loads(lb, 0, NULL);
        CHECK_MSG(ja && jb, "line %d does not parse", n);
        CHECK_MSG(json_is_null(json_object_get(jb, "image_file")), "line %d: %s", n, lb);
        CHECK_MSG(!json_object_get(jb, "audio_file"), "line %d: %s", n, lb);
        json_object_set_new(ja, "image_file", json_null());
        json_object_del(ja, "audio_file");
        CHECK_MSG(json_equal(ja, jb), "line %d differs:\n%s%s", n, la, lb);
        json_decref(ja);
        json_decref(jb);
    }
    CHECK(n > 0);
    fclose(fa);
    fclose(fb);
}

TEST(jsonl_round_trip)
{
    const char *fixture = th_path("tests/export/fixtures/wordbank.jsonl");
    struct wb_store *st = NULL;
    struct wb_import_report rep;
    struct wb_error err = { 0 };
    char fix[4096];
    size_t n = 0;
    snprintf(fix, sizeof fix, "%s", fixture);
    CHECK_OK(wb_store_open(th_tmp_path("rt.db"), WB_STORE_CREATE, &st, &err), &err);
    wb_import_report_init(&rep);
    CHECK_OK(wb_import_jsonl(st, fix, NULL, &rep, &err), &err);
    CHECK_MSG(rep.failed == 0, "%s", rep.diags.data);
    CHECK_INT(rep.imported, 6);
    CHECK_INT(rep.updated, 0);
    CHECK_INT(rep.warnings, 0);
    CHECK_OK(wb_export_jsonl(st, th_tmp_path("out.jsonl"), NULL, &err), &err);
    same_jsonl(fix, th_tmp_path("out.jsonl"));
    wb_import_report_release(&rep);

    /* Re-import: updates in place, no duplicates, same export. */
    wb_import_report_init(&rep);
    CHECK_OK(wb_import_jsonl(st, fix, NULL, &rep, &err), &err);
    CHECK_INT(rep.imported, 0);
    CHECK_INT(rep.updated, 6);
    CHECK_OK(wb_store_count(st, NULL, &n, &err), &err);
    CHECK_INT(n, 6);
    CHECK_OK(wb_export_jsonl(st, th_tmp_path("out2.jsonl"), NULL, &err), &err);
    same_jsonl(fix, th_tmp_path("out2.jsonl"));
    /* And the exported file imports into a fresh store to the same thing. */
    wb_import_report_release(&rep);
    wb_store_close(st);
    st = mem_store();
    wb_import_report_init(&rep);
    CHECK_OK(wb_import_jsonl(st, th_tmp_path("out2.jsonl"), NULL, &rep, &err), &err);
    CHECK_INT(rep.imported, 6);
    CHECK_OK(wb_export_jsonl(st, th_tmp_path("out3.jsonl"), NULL, &err), &err);
    same_jsonl(fix, th_tmp_path("out3.jsonl"));
    wb_import_report_release(&rep);
    wb_store_close(st);
}

TEST(import_sets_stages)
{
    struct wb_store *st = mem_store();
    struct wb_import_report rep;
    struct wb_error err = { 0 };
    struct wb_entry e;
    wb_entry_init(&e);
    wb_import_report_init(&rep);
    CHECK_OK(wb_import_jsonl(st, th_path("tests/export/fixtures/wordbank.jsonl"), NULL, &rep, &err),
             &err);
    CHECK_OK(wb_store_get(st, "猫", "cat", "ja", &e, &err), &err);
    CHECK_INT(e.stages[WB_STAGE_DETAILS].state, WB_STATE_DONE);
    CHECK_STR(e.stages[WB_STAGE_DETAILS].provider, "import");
    /* The media the fixture names do not exist (and no media store is given):
     * never a stage done with nothing behind it. */
    CHECK_INT(e.stages[WB_STAGE_IMAGE].state, WB_STATE_MISSING);
    CHECK(e.stages[WB_STAGE_IMAGE].file == NULL);
    CHECK_INT(e.stages[WB_STAGE_AUDIO].state, WB_STATE_MISSING);
    CHECK_INT(e.n_examples, 3);
    CHECK_STR(e.examples[1].text, "黒い猫が\n窓の外にいる🐈‍⬛");
    CHECK_OK(wb_store_get(st, "生", "raw, uncooked", "ja", &e, &err), &err);
    CHECK_INT(e.stages[WB_STAGE_IMAGE].state, WB_STATE_MISSING);
    CHECK_INT(e.stages[WB_STAGE_AUDIO].state, WB_STATE_MISSING);
    CHECK_OK(wb_store_get(st, "ありがとう", "thank you", "ja", &e, &err), &err);
    CHECK_INT(e.stages[WB_STAGE_DETAILS].state, WB_STATE_MISSING);
    CHECK_OK(wb_store_get(st, "maison", "house, home", "fr", &e, &err), &err);
    CHECK_STR(e.examples[0].text, "C'est ma maison.\r\nElle est \"grande\".");
    wb_entry_release(&e);
    wb_import_report_release(&rep);
    wb_store_close(st);
}

struct diags {
    int errors, warnings;
    char last_warning[1024];
};

static void on_diag(void *ud, int is_warning, const char *msg)
{
    struct diags *d = ud;
    if (is_warning) {
        d->warnings++;
        snprintf(d->last_warning, sizeof d->last_warning, "%s", msg);
    } else {
        d->errors++;
    }
}

TEST(import_diagnostics)
{
    const char *path = th_tmp_path("bad.jsonl");
    struct wb_store *st = mem_store();
    struct wb_import_report rep;
    struct wb_error err = { 0 };
    struct diags d = { 0 };
    struct wb_import_opts o = {
        .size = sizeof o, .default_language = "de", .on_diag = on_diag, .ud = &d
    };
    char *big;
    size_t n = 0;
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    fputs("{\"word\": \"一\", \"en_translation\": \"one\", \"foo\": 1}\n", f); /* 1 ok */
    fputs("{\"word\": \"二\", \"en_translation\": \"two\",\n", f);             /* 2 bad JSON */
    fputs("{\"en_translation\": \"three\"}\n", f);                             /* 3 no word */
    fputs("{\"word\": \"四\", \"en_translation\": \"four\", \"examples\": \"x\"}\n", f); /* 4 */
    fputs("[1, 2]\n", f); /* 5 array */
    fputs("   \r\n", f);  /* 6 blank */
    big = malloc(WB_IMPORT_MAX_LINE + 100);
    CHECK(big != NULL);
    memset(big, 'a', WB_IMPORT_MAX_LINE + 99);
    big[WB_IMPORT_MAX_LINE + 99] = 0;
    fprintf(f, "{\"word\": \"%s\", \"en_translation\": \"long\"}\n", big); /* 7 too long */
    free(big);
    fputs("{\"word\": \"八\", \"en_translation\": \"eight\", \"bar\": [], \"foo\": 2}\n",
          f); /* 8 */
    fputs("{\"word\": \"九\", \"en_translation\": \"nine\", \"examples\": [\"a\", 9]}\n",
          f); /* 9 */
    static const char nul_line[] = "{\"word\": \"十\", \"en_\0translation\": \"ten\"}\n";
    fwrite(nul_line, 1, sizeof nul_line - 1, f);                                           /* 10 */
    fputs("{\"word\": \"十一\", \"en_translation\": \"eleven\", \"image_file\": 5}\n", f); /* 11 */
    fputs("{\"word\": \"\", \"en_translation\": \"empty\"}\n", f);                         /* 12 */
    fputs("{\"word\": \"十三\", \"en_translation\": \"thirteen\", \"language_code\": \"ja\"}", f);
    fclose(f);

    wb_import_report_init(&rep);
    CHECK_OK(wb_import_jsonl(st, path, &o, &rep, &err), &err);
    CHECK_INT(rep.lines, 13);
    CHECK_INT(rep.imported, 3);
    CHECK_INT(rep.failed, 9);
    CHECK_INT(rep.warnings, 1);
    CHECK_INT(d.errors, 9);
    CHECK_INT(d.warnings, 1);
    char want[4200];
#define HAS(line, text)                                         \
    snprintf(want, sizeof want, "%s:%d: %s", path, line, text); \
    CHECK_MSG(strstr(rep.diags.data, want), "missing \"%s\" in:\n%s", want, rep.diags.data)
    HAS(2, "invalid JSON");
    HAS(3, "\"word\" is missing");
    HAS(4, "\"examples\" is not a list");
    HAS(5, "not a JSON object");
    HAS(7, "the line is longer than 1048576 bytes");
    HAS(9, "\"examples\"[1] is not a string");
    HAS(10, "the line contains a NUL byte");
    HAS(11, "\"image_file\" is not a string");
    HAS(12, "\"word\" is missing, empty");
    CHECK(strstr(rep.diags.data, ":6:") == NULL);
    /* One warning naming every unknown key once. */
    CHECK(strstr(d.last_warning, "\"foo\"") && strstr(d.last_warning, "\"bar\""));
    CHECK(strstr(d.last_warning, "line 1") != NULL);
    CHECK(strstr(strstr(rep.diags.data, "warning"), "warning: ") != NULL);
    /* Good lines are in, with the default language; bad ones left nothing. */
    CHECK_OK(wb_store_find(st, "一", "one", "de", NULL, &err), &err);
    CHECK_OK(wb_store_find(st, "八", "eight", "de", NULL, &err), &err);
    CHECK_OK(wb_store_find(st, "十三", "thirteen", "ja", NULL, &err), &err);
    CHECK_OK(wb_store_count(st, NULL, &n, &err), &err);
    CHECK_INT(n, 3);
    wb_import_report_release(&rep);

    /* A missing file is an error for the whole import. */
    wb_import_report_init(&rep);
    CHECK_INT(wb_import_jsonl(st, th_tmp_path("nope.jsonl"), NULL, &rep, &err), WB_ENOTFOUND);
    CHECK(strstr(err.msg, "nope.jsonl") != NULL);
    wb_import_report_release(&rep);
    wb_store_close(st);
}

TEST(import_merges_into_existing)
{
    struct wb_store *st = mem_store();
    struct wb_import_report rep;
    struct wb_error err = { 0 };
    struct wb_entry e;
    const char *path = th_tmp_path("m.jsonl");
    wb_entry_init(&e);
    e.word = strdup("猫");
    e.translation = strdup("cat");
    e.language = strdup("ja");
    e.context = strdup("pet");
    e.reading = strdup("ねこ");
    e.description = strdup("old");
    CHECK(wb_entry_add_example(&e, "猫だ。", "It's a cat.") == 0);
    e.stages[WB_STAGE_DETAILS].state = WB_STATE_DONE;
    e.stages[WB_STAGE_DETAILS].provider = strdup("gemini");
    e.stages[WB_STAGE_AUDIO].state = WB_STATE_DONE;
    e.stages[WB_STAGE_AUDIO].file = strdup("x.mp3");
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    th_write_text(path,
                  "{\"word\": \"猫\", \"en_translation\": \"cat\", \"examples\": [\"猫だ。\", "
                  "\"二つ目\"], \"description\": \"new\", \"image_file\": \"c.png\"}\n");
    wb_import_report_init(&rep);
    CHECK_OK(wb_import_jsonl(st, path, NULL, &rep, &err), &err);
    CHECK_INT(rep.updated, 1);
    CHECK_OK(wb_store_get(st, "猫", "cat", "ja", &e, &err), &err);
    CHECK_STR(e.context, "pet");
    CHECK_STR(e.reading, "ねこ");
    CHECK_STR(e.description, "new");
    CHECK_INT(e.n_examples, 2);
    CHECK_STR(e.examples[0].translation, "It's a cat.");
    CHECK(e.examples[1].translation == NULL);
    CHECK_STR(e.stages[WB_STAGE_DETAILS].provider, "import");
    CHECK(e.stages[WB_STAGE_IMAGE].file == NULL); /* "c.png" is no file: not taken */
    CHECK_INT(e.stages[WB_STAGE_IMAGE].state, WB_STATE_MISSING);
    CHECK_STR(e.stages[WB_STAGE_AUDIO].file, "x.mp3");
    wb_import_report_release(&rep);
    wb_entry_release(&e);
    wb_store_close(st);
}

static void put_simple(struct wb_store *st, const char *w, const char *t, const char *desc,
                       const char *ex1, const char *ex2, const char *img)
{
    struct wb_entry e;
    struct wb_error err = { 0 };
    wb_entry_init(&e);
    e.word = strdup(w);
    e.translation = strdup(t);
    e.language = strdup("ja");
    e.description = desc ? strdup(desc) : NULL;
    if (ex1)
        CHECK(wb_entry_add_example(&e, ex1, NULL) == 0);
    if (ex2)
        CHECK(wb_entry_add_example(&e, ex2, NULL) == 0);
    if (img) {
        e.stages[WB_STAGE_IMAGE].state = WB_STATE_DONE;
        e.stages[WB_STAGE_IMAGE].file = strdup(img);
    }
    e.stages[WB_STAGE_AUDIO].state = WB_STATE_FAILED; /* a failed stage exports no file */
    e.stages[WB_STAGE_AUDIO].file = strdup("stale.mp3");
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    wb_entry_release(&e);
}

TEST(csv_quoting)
{
    struct wb_store *st = mem_store();
    struct wb_error err = { 0 };
    char *got;
    put_simple(st, "猫", "cat", "plain", "a", "b", "c.png");
    put_simple(st, "生", "raw, \"uncooked\"", "line1\nline2", "x, y", NULL, NULL);
    CHECK_OK(wb_export_csv(st, th_tmp_path("o.csv"), NULL, &err), &err);
    got = th_read_file(th_tmp_path("o.csv"), NULL);
    CHECK_STR(got, "word,translation,language,reading,context,description,examples,"
                   "image_description,image_file,audio_file\r\n"
                   "猫,cat,ja,,,plain,\"a\nb\",,c.png,\r\n"
                   "生,\"raw, \"\"uncooked\"\"\",ja,,,\"line1\nline2\",\"x, y\",,,\r\n");
    free(got);
    wb_store_close(st);
}

TEST(export_filter_and_atomic)
{
    struct wb_store *st = mem_store();
    struct wb_error err = { 0 };
    struct wb_store_query q = { .size = sizeof q, .word = "生" };
    const char *dir = th_tmp_path("outdir");
    DIR *d;
    struct dirent *de;
    char *got;
    put_simple(st, "猫", "cat", "plain", NULL, NULL, NULL);
    put_simple(st, "生", "raw", NULL, NULL, NULL, NULL);
    if (fcntl(STDIN_FILENO, F_GETFD) < 0)
        CHECK(open("/dev/null", O_RDONLY) == STDIN_FILENO);
    CHECK_OK(wb_export_jsonl(st, th_tmp_path("one.jsonl"), &q, &err), &err);
    /* The export closed its own descriptors only. */
    CHECK(fcntl(STDIN_FILENO, F_GETFD) >= 0);
    got = th_read_file(th_tmp_path("one.jsonl"), NULL);
    CHECK_STR(got, "{\"word\": \"生\", \"en_translation\": \"raw\", \"language_code\": \"ja\", "
                   "\"examples\": [], \"description\": null, \"image_description\": null, "
                   "\"image_file\": null}\n");
    free(got);
    /* Renaming over a directory fails: error, and no temporary file left. */
    CHECK(mkdir(dir, 0755) == 0);
    CHECK_INT(wb_export_jsonl(st, dir, NULL, &err), WB_EIO);
    CHECK(strstr(err.msg, "outdir") != NULL);
    CHECK((d = opendir(th_tmpdir())) != NULL);
    while ((de = readdir(d)))
        CHECK_MSG(strstr(de->d_name, ".tmp") == NULL, "left behind: %s", de->d_name);
    closedir(d);
    CHECK_INT(wb_export_csv(st, th_tmp_path("no/such/dir/x.csv"), NULL, &err), WB_EIO);
    wb_store_close(st);
}

TEST(entry_to_json_shape)
{
    struct wb_entry e;
    struct wb_buf b;
    json_t *j, *st;
    wb_entry_init(&e);
    wb_buf_init(&b, 0);
    e.word = strdup("猫");
    e.translation = strdup("cat");
    e.language = strdup("ja");
    e.reading = strdup("ねこ");
    e.description = strdup("bad \xff utf8");
    CHECK(wb_entry_add_example(&e, "猫だ。", "A cat.") == 0);
    CHECK(wb_entry_add_example(&e, "猫。", NULL) == 0);
    e.stages[WB_STAGE_DETAILS].state = WB_STATE_DONE;
    e.stages[WB_STAGE_DETAILS].model = strdup("gemini-text");
    e.stages[WB_STAGE_IMAGE].state = WB_STATE_FAILED;
    e.stages[WB_STAGE_IMAGE].error = strdup("IMAGE_SAFETY: no");
    e.stages[WB_STAGE_AUDIO].state = WB_STATE_DONE;
    e.stages[WB_STAGE_AUDIO].file = strdup("3f/a1.mp3");
    CHECK_OK(wb_entry_to_json(&e, "media", &b), NULL);
    j = json_loads(b.data, 0, NULL);
    CHECK_MSG(j != NULL, "not JSON: %s", b.data);
    CHECK_STR(json_string_value(json_object_get(j, "word")), "猫");
    CHECK_STR(json_string_value(json_object_get(j, "translation")), "cat");
    CHECK_STR(json_string_value(json_object_get(j, "language")), "ja");
    CHECK_STR(json_string_value(json_object_get(j, "reading")), "ねこ");
    CHECK(json_is_null(json_object_get(j, "context")));
    CHECK(json_is_null(json_object_get(j, "image_description")));
    CHECK_STR(json_string_value(json_object_get(j, "description")), "bad \xef\xbf\xbd utf8");
    CHECK_INT(json_array_size(json_object_get(j, "examples")), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(json_object_get(j, "examples"), 0),
                                                "translation")),
              "A cat.");
    CHECK(json_is_null(
        json_object_get(json_array_get(json_object_get(j, "examples"), 1), "translation")));
    st = json_object_get(j, "stages");
    CHECK_INT(json_object_size(st), 3);
    CHECK_STR(json_string_value(json_object_get(json_object_get(st, "details"), "state")), "done");
    CHECK_STR(json_string_value(json_object_get(json_object_get(st, "details"), "model")),
              "gemini-text");
    CHECK(json_object_get(json_object_get(st, "details"), "file") == NULL);
    CHECK_STR(json_string_value(json_object_get(json_object_get(st, "image"), "state")), "failed");
    CHECK_STR(json_string_value(json_object_get(json_object_get(st, "image"), "error")),
              "IMAGE_SAFETY: no");
    CHECK(json_is_null(json_object_get(json_object_get(st, "image"), "file")));
    CHECK_STR(json_string_value(json_object_get(json_object_get(st, "audio"), "file")),
              "media/3f/a1.mp3");
    CHECK(json_is_null(json_object_get(json_object_get(st, "audio"), "error")));
    json_decref(j);

    /* No prefix, and an absolute file, are left as they are. */
    wb_buf_reset(&b);
    CHECK_OK(wb_entry_to_json(&e, NULL, &b), NULL);
    CHECK(strstr(b.data, "\"file\": \"3f/a1.mp3\"") != NULL);
    free(e.stages[WB_STAGE_AUDIO].file);
    e.stages[WB_STAGE_AUDIO].file = strdup("/abs/a.mp3");
    wb_buf_reset(&b);
    CHECK_OK(wb_entry_to_json(&e, "media", &b), NULL);
    CHECK(strstr(b.data, "\"file\": \"/abs/a.mp3\"") != NULL);
    wb_buf_release(&b);
    wb_entry_release(&e);
}
