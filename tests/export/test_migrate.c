/* Moving over from the original system, safely: its media found by the
 * original's names and by image_file/audio_file keys and brought into the
 * media store; hostile paths and files refused with FILE:LINE while the
 * line's text still imports and nothing is copied; and the lossless JSONL
 * export that a fresh word bank imports to the same entries and media bytes.
 */
#include <dirent.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "media_bytes.h"
#include "test.h"
#include "wordbank/export.h"
#include "wordbank/media.h"
#include "wordbank/store.h"

static void mkdirs(const char *path)
{
    struct wb_error err = { 0 };
    CHECK_OK(wb_mkdirs(path, &err), &err);
}

/* Files in dir (not . and ..), or -1 when dir does not exist. */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    if (!d)
        return -1;
    while ((de = readdir(d)))
        n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
    closedir(d);
    return n;
}

/* 1 when path holds exactly data. */
static int same_bytes(const char *path, const struct wb_buf *data)
{
    struct wb_buf b;
    struct wb_error err = { 0 };
    int same;
    wb_buf_init(&b, 0);
    same = wb_buf_read_file(&b, path, &err) == 0 && b.len == data->len &&
           memcmp(b.data, data->data, b.len) == 0;
    wb_buf_release(&b);
    return same;
}

/* The original's name: the first 12 hex digits of md5(word ":" translation). */
static void orig_name(const char *word, const char *tr, char out[13])
{
    char key[256], hex[33];
    snprintf(key, sizeof key, "%s:%s", word, tr);
    core_md5_hex(key, strlen(key), hex);
    memcpy(out, hex, 12);
    out[12] = 0;
}

struct diags {
    int errors, warnings;
    struct wb_buf all;
};

static void on_diag(void *ud, int is_warning, const char *msg)
{
    struct diags *d = ud;
    if (is_warning)
        d->warnings++;
    else
        d->errors++;
    wb_buf_appendf(&d->all, "%s\n", msg);
}

TEST(import_original_layout)
{
    char site[1024], media[1024];
    char jsonl[4096], p[4096], h[13], *want = NULL;
    struct wb_buf jpg1, aac1, jpg2;
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct wb_import_report rep;
    struct diags d = { 0 };
    struct wb_import_opts o = {
        .size = sizeof o, .on_diag = on_diag, .ud = &d, .media_dir = media
    };
    struct wb_entry e;
    char name[80];
    snprintf(site, sizeof site, "%s", th_tmp_path("site"));
    snprintf(media, sizeof media, "%s", th_tmp_path("site/media"));
    wb_buf_init(&d.all, 0);
    wb_buf_init(&jpg1, 0);
    wb_buf_init(&aac1, 0);
    wb_buf_init(&jpg2, 0);
    wb_entry_init(&e);
    tm_jpeg(&jpg1, 1);
    tm_adts(&aac1, 4, 1);
    tm_jpeg(&jpg2, 2);
    snprintf(p, sizeof p, "%s/data", site);
    mkdirs(p);
    snprintf(p, sizeof p, "%s/content/images/wordbank", site);
    mkdirs(p);
    snprintf(p, sizeof p, "%s/content/audio/wordbank", site);
    mkdirs(p);
    orig_name("猫", "cat", h);
    snprintf(p, sizeof p, "%s/content/images/wordbank/%s.jpg", site, h);
    th_write_file(p, jpg1.data, jpg1.len);
    snprintf(p, sizeof p, "%s/content/audio/wordbank/%s.aac", site, h);
    th_write_file(p, aac1.data, aac1.len);
    orig_name("犬", "dog", h);
    snprintf(p, sizeof p, "%s/content/images/wordbank/%s.jpg", site, h);
    th_write_file(p, jpg2.data, jpg2.len);
    snprintf(jsonl, sizeof jsonl, "%s/data/wordbank.jsonl", site);
    static const char lines[] =
        "{\"word\": \"猫\", \"en_translation\": \"cat\", \"language_code\": \"ja\", "
        "\"examples\": [\"猫だ。\"], \"description\": \"a cat\", \"image_description\": \"x\"}\n"
        "{\"word\": \"犬\", \"en_translation\": \"dog\", \"language_code\": \"ja\", "
        "\"examples\": [], \"description\": \"a dog\", \"image_description\": \"y\"}\n"
        "{\"word\": \"鳥\", \"en_translation\": \"bird\", \"language_code\": \"ja\"}\n";
    th_write_file(jsonl, lines, sizeof lines - 1);
    CHECK_OK(wb_store_open(th_tmp_path("wb.db"), WB_STORE_CREATE, &st, &err), &err);
    wb_import_report_init(&rep);
    CHECK_OK(wb_import_jsonl(st, jsonl, &o, &rep, &err), &err);
    CHECK_INT(rep.imported, 3);
    CHECK_INT(rep.failed, 0);
    CHECK_INT(rep.media_copied, 3);
    CHECK_INT(rep.media_refused, 0);
    CHECK_INT(rep.media_missing, 3); /* 犬's clip, 鳥's picture and clip */
    CHECK_MSG(d.warnings == 1 && d.errors == 0, "%s", d.all.data);
    CHECK(strstr(d.all.data, "first on line 2") != NULL);

    CHECK_OK(wb_store_get(st, "猫", "cat", "ja", &e, &err), &err);
    CHECK_INT(e.stages[WB_STAGE_IMAGE].state, WB_STATE_DONE);
    CHECK(wb_media_name(jpg1.data, jpg1.len, name, sizeof name) == 0);
    CHECK_STR(e.stages[WB_STAGE_IMAGE].file, name);
    snprintf(p, sizeof p, "%s/%s", media, name);
    CHECK(same_bytes(p, &jpg1));
    CHECK_INT(e.stages[WB_STAGE_AUDIO].state, WB_STATE_DONE);
    CHECK(wb_media_name(aac1.data, aac1.len, name, sizeof name) == 0);
    CHECK(strstr(name, ".aac") != NULL); /* kept as it is, not re-encoded */
    CHECK_STR(e.stages[WB_STAGE_AUDIO].file, name);
    snprintf(p, sizeof p, "%s/%s", media, name);
    CHECK(same_bytes(p, &aac1));
    CHECK_OK(wb_store_get(st, "犬", "dog", "ja", &e, &err), &err);
    CHECK_INT(e.stages[WB_STAGE_IMAGE].state, WB_STATE_DONE);
    CHECK_INT(e.stages[WB_STAGE_AUDIO].state, WB_STATE_MISSING);
    CHECK_OK(wb_store_get(st, "鳥", "bird", "ja", &e, &err), &err);
    CHECK_INT(e.stages[WB_STAGE_IMAGE].state, WB_STATE_MISSING);
    CHECK_INT(e.stages[WB_STAGE_AUDIO].state, WB_STATE_MISSING);
    CHECK_INT(count_files(media), 3);

    /* --media-from DIR: the content folder named outright (from elsewhere). */
    wb_import_report_release(&rep);
    wb_import_report_init(&rep);
    wb_store_close(st);
    CHECK_OK(wb_store_open(th_tmp_path("wb2.db"), WB_STORE_CREATE, &st, &err), &err);
    snprintf(p, sizeof p, "%s/content", site);
    o.media_from = p;
    o.media_dir = th_tmp_path("media2");
    th_write_file(th_tmp_path("elsewhere.jsonl"), lines, sizeof lines - 1);
    CHECK_OK(wb_import_jsonl(st, th_tmp_path("elsewhere.jsonl"), &o, &rep, &err), &err);
    CHECK_INT(rep.media_copied, 3);
    CHECK_INT(count_files(th_tmp_path("media2")), 3);
    free(want);
    wb_import_report_release(&rep);
    wb_entry_release(&e);
    wb_store_close(st);
    wb_buf_release(&d.all);
    wb_buf_release(&jpg1);
    wb_buf_release(&aac1);
    wb_buf_release(&jpg2);
}

TEST(import_refuses_hostile_media)
{
    char root[1024], outside[1024], media[1024];
    char jsonl[4096], p[4096], q[4096], okname[80];
    struct wb_buf jpg, lines, okjpg;
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct wb_import_report rep;
    struct diags d = { 0 };
    struct wb_import_opts o = {
        .size = sizeof o, .on_diag = on_diag, .ud = &d, .media_dir = media
    };
    struct wb_entry e;
    int fd;
    snprintf(root, sizeof root, "%s", th_tmp_path("lesson"));
    snprintf(outside, sizeof outside, "%s", th_tmp_path("outside"));
    snprintf(media, sizeof media, "%s", th_tmp_path("store"));
    wb_buf_init(&d.all, 0);
    wb_buf_init(&jpg, 0);
    wb_buf_init(&okjpg, 0);
    wb_buf_init(&lines, 0);
    wb_entry_init(&e);
    mkdirs(root);
    mkdirs(outside);
    snprintf(p, sizeof p, "%s/sub", root);
    mkdirs(p);
    tm_jpeg(&jpg, 7); /* a valid picture outside the lesson's folder: the secret */
    snprintf(p, sizeof p, "%s/outside.jpg", outside);
    th_write_file(p, jpg.data, jpg.len);
    snprintf(q, sizeof q, "%s/link.jpg", root); /* a symbolic link out */
    CHECK(symlink(p, q) == 0);
    snprintf(p, sizeof p, "%s/big.jpg", root); /* larger than WB_MEDIA_MAX_FILE (sparse) */
    CHECK((fd = open(p, O_WRONLY | O_CREAT, 0644)) >= 0);
    CHECK(write(fd, jpg.data, 4) == 4);
    CHECK(ftruncate(fd, (off_t)WB_MEDIA_MAX_FILE + 1) == 0);
    close(fd);
    snprintf(p, sizeof p, "%s/fake.jpg", root); /* not media, with a media extension */
    th_write_file(p, "hello, not a picture\n", 21);
    tm_jpeg(&okjpg, 8);
    snprintf(p, sizeof p, "%s/ok.jpg", root);
    th_write_file(p, okjpg.data, okjpg.len);
    snprintf(q, sizeof q, "%s/fifo.jpg", root); /* a FIFO: must not hang the import */
    CHECK(mkfifo(q, 0644) == 0);
    snprintf(q, sizeof q, "%s/inlink.jpg", root); /* a symbolic link that stays inside */
    CHECK(symlink("ok.jpg", q) == 0);
    snprintf(p, sizeof p, "%s/outside.jpg", outside);
#define LINE(w, key, val)                                                                        \
    wb_buf_appendf(&lines, "{\"word\": \"%s\", \"en_translation\": \"t\", \"%s\": \"%s\"}\n", w, \
                   key, val)
    LINE("w1", "image_file", "../outside/outside.jpg");
    LINE("w2", "image_file", p);
    LINE("w3", "image_file", "link.jpg");
    LINE("w4", "image_file", "ok\\u0000.jpg");
    LINE("w5", "image_file", "big.jpg");
    LINE("w6", "image_file", "fake.jpg");
    LINE("w7", "audio_file", "ok.jpg");
    LINE("w8", "image_file", "sub/../../outside/outside.jpg");
    LINE("w9", "image_file", "sub/../ok.jpg");
    LINE("w10", "image_file", "inlink.jpg");
    LINE("w11", "image_file", "nothere.jpg");
    LINE("w12", "image_file", "fifo.jpg");
#undef LINE
    snprintf(jsonl, sizeof jsonl, "%s/words.jsonl", root);
    th_write_file(jsonl, lines.data, lines.len);
    CHECK_OK(wb_store_open(":memory:", WB_STORE_CREATE, &st, &err), &err);
    wb_import_report_init(&rep);
    CHECK_OK(wb_import_jsonl(st, jsonl, &o, &rep, &err), &err);
    CHECK_INT(rep.imported, 12); /* every line's text */
    CHECK_INT(rep.failed, 0);
    CHECK_INT(rep.media_refused, 9);
    CHECK_INT(rep.media_copied, 2);
    CHECK_INT(rep.media_missing, 1);
    CHECK_MSG(d.errors == 9 && d.warnings == 1, "%s", d.all.data);
    static const struct {
        int line;
        const char *why;
    } refused[] = { { 1, "climbs out" },  { 2, "absolute path" }, { 3, "resolves outside" },
                    { 4, "NUL" },         { 5, "larger than" },   { 6, "not a picture or sound" },
                    { 7, "not a sound" }, { 8, "climbs out" },    { 12, "not a regular file" } };
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        char want[4200];
        const char *at;
        snprintf(want, sizeof want, "%s:%d: ", jsonl, refused[i].line);
        at = strstr(d.all.data, want);
        CHECK_MSG(at != NULL, "no diagnostic for line %d:\n%s", refused[i].line, d.all.data);
        if (at)
            CHECK_MSG(strstr(at, refused[i].why) && strstr(at, refused[i].why) < strchr(at, '\n'),
                      "line %d: wanted \"%s\" in %s", refused[i].line, refused[i].why, at);
    }
    CHECK(strstr(d.all.data, ":11: warning:") != NULL);
    for (int i = 1; i <= 8; i++) {
        char w[8];
        snprintf(w, sizeof w, "w%d", i);
        CHECK_OK(wb_store_get(st, w, "t", "ja", &e, &err), &err);
        CHECK_INT(e.stages[WB_STAGE_IMAGE].state, WB_STATE_MISSING);
        CHECK_INT(e.stages[WB_STAGE_AUDIO].state, WB_STATE_MISSING);
    }
    /* Only ok.jpg reached the store, once, under its content hash. */
    CHECK(wb_media_name(okjpg.data, okjpg.len, okname, sizeof okname) == 0);
    CHECK_INT(count_files(media), 1);
    snprintf(p, sizeof p, "%s/%s", media, okname);
    CHECK(same_bytes(p, &okjpg));
    CHECK_OK(wb_store_get(st, "w10", "t", "ja", &e, &err), &err);
    CHECK_STR(e.stages[WB_STAGE_IMAGE].file, okname);
    wb_import_report_release(&rep);
    wb_entry_release(&e);
    wb_store_close(st);
    wb_buf_release(&d.all);
    wb_buf_release(&jpg);
    wb_buf_release(&okjpg);
    wb_buf_release(&lines);
}

/* An entry holding every field wordbank keeps. */
static void put_full(struct wb_store *st, const char *media, const char *w, const char *t, int seed,
                     int audio_failed)
{
    struct wb_entry e;
    struct wb_error err = { 0 };
    struct wb_buf b;
    wb_entry_init(&e);
    wb_buf_init(&b, 0);
    e.word = strdup(w);
    e.translation = strdup(t);
    e.language = strdup("ja");
    e.context = strdup("at home");
    e.reading = strdup("よみ");
    e.description = strdup("desc \"quoted\"\nline two");
    e.image_description = strdup("a picture");
    CHECK(wb_entry_add_example(&e, "一つ目。", "The first.") == 0);
    CHECK(wb_entry_add_example(&e, "二つ目。", NULL) == 0);
    e.stages[WB_STAGE_DETAILS].state = WB_STATE_DONE;
    e.stages[WB_STAGE_DETAILS].provider = strdup("gemini");
    e.stages[WB_STAGE_DETAILS].model = strdup("gemini-3.8-flash");
    e.stages[WB_STAGE_DETAILS].tokens_in = 120;
    e.stages[WB_STAGE_DETAILS].tokens_out = 340;
    tm_jpeg(&b, seed);
    e.stages[WB_STAGE_IMAGE].state = WB_STATE_DONE;
    CHECK_OK(wb_media_write(media, b.data, b.len, &e.stages[WB_STAGE_IMAGE].file, &err), &err);
    e.stages[WB_STAGE_IMAGE].provider = strdup("gemini");
    e.stages[WB_STAGE_IMAGE].model = strdup("gemini-3.1-flash-image");
    if (audio_failed) {
        e.stages[WB_STAGE_AUDIO].state = WB_STATE_FAILED;
        e.stages[WB_STAGE_AUDIO].error = strdup("quota exhausted");
    } else {
        wb_buf_reset(&b);
        tm_adts(&b, 3, seed);
        e.stages[WB_STAGE_AUDIO].state = WB_STATE_DONE;
        CHECK_OK(wb_media_write(media, b.data, b.len, &e.stages[WB_STAGE_AUDIO].file, &err), &err);
        e.stages[WB_STAGE_AUDIO].provider = strdup("gemini");
        e.stages[WB_STAGE_AUDIO].voice = strdup("Kore");
    }
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    wb_buf_release(&b);
    wb_entry_release(&e);
}

struct dump {
    struct wb_buf b;
};

static int dump_one(void *ud, const struct wb_entry *e)
{
    struct dump *d = ud;
    int rc = wb_entry_to_json(e, NULL, &d->b);
    for (int s = 0; rc == 0 && s < WB_STAGE_COUNT; s++) {
        const struct wb_stage_info *si = &e->stages[s];
        rc = wb_buf_appendf(&d->b, " %s/%s/%s/%lld/%lld", si->provider ? si->provider : "-",
                            si->model ? si->model : "-", si->voice ? si->voice : "-",
                            (long long)si->tokens_in, (long long)si->tokens_out);
    }
    return rc ? rc : wb_buf_appendc(&d->b, '\n');
}

/* Every entry (the --json object plus provenance), sorted by key. */
static char *dump_store(struct wb_store *st)
{
    struct dump d;
    struct wb_error err = { 0 };
    wb_buf_init(&d.b, 0);
    CHECK_OK(wb_store_each(st, NULL, dump_one, &d, &err), &err);
    return wb_buf_detach(&d.b, NULL);
}

TEST(export_import_round_trip)
{
    char media_a[1024], media_b[1024], out1[4096], out2[4096], p[4096], q[4096];
    struct wb_store *a = NULL, *b = NULL;
    struct wb_error err = { 0 };
    struct wb_import_report rep;
    struct wb_import_opts o = { .size = sizeof o, .media_dir = media_b };
    char *da, *db, *f1;
    struct wb_buf x, y;
    snprintf(media_a, sizeof media_a, "%s", th_tmp_path("a/media"));
    snprintf(media_b, sizeof media_b, "%s", th_tmp_path("b/media"));
    wb_buf_init(&x, 0);
    wb_buf_init(&y, 0);
    mkdirs(th_tmp_path("a"));
    mkdirs(th_tmp_path("b"));
    CHECK_OK(wb_store_open(th_tmp_path("a/wb.db"), WB_STORE_CREATE, &a, &err), &err);
    /* Inserted out of key order: the export sorts by key. */
    put_full(a, media_a, "猫", "cat", 1, 0);
    put_full(a, media_a, "犬", "dog", 2, 1);
    put_full(a, media_a, "兎", "rabbit", 3, 0);
    /* The export goes elsewhere: its media is copied beside it. */
    mkdirs(th_tmp_path("x"));
    snprintf(out1, sizeof out1, "%s", th_tmp_path("x/words.jsonl"));
    CHECK_OK(wb_export_jsonl_full(a, media_a, out1, NULL, &err), &err);
    CHECK_INT(count_files(th_tmp_path("x/media")), 5);
    f1 = NULL;
    {
        struct wb_buf t;
        wb_buf_init(&t, 0);
        CHECK_OK(wb_buf_read_file(&t, out1, &err), &err);
        f1 = wb_buf_detach(&t, NULL);
    }
    CHECK(strstr(f1, "..") == NULL && strstr(f1, "\"media/") != NULL);
    CHECK(strstr(f1, th_tmpdir()) == NULL); /* no absolute path */
    /* Key order, one entry a line: 兎 (U+5154) < 犬 (U+72AC) < 猫 (U+732B). */
    CHECK(strstr(f1, "\"兎\"") < strstr(f1, "\"犬\"") &&
          strstr(f1, "\"犬\"") < strstr(f1, "\"猫\""));
    CHECK(strstr(f1, "\"example_translations\": [\"The first.\", null]") != NULL);

    /* A fresh word bank elsewhere imports it to the same entries and bytes. */
    CHECK_OK(wb_store_open(th_tmp_path("b/wb.db"), WB_STORE_CREATE, &b, &err), &err);
    wb_import_report_init(&rep);
    CHECK_OK(wb_import_jsonl(b, out1, &o, &rep, &err), &err);
    CHECK_MSG(rep.failed == 0 && rep.media_refused == 0 && rep.media_missing == 0 &&
                  rep.warnings == 0,
              "%s", rep.diags.data);
    CHECK_INT(rep.media_copied, 5);
    wb_import_report_release(&rep);
    da = dump_store(a);
    db = dump_store(b);
    CHECK_INT(strlen(da), strlen(db));
    /* Same entries (a lists them in insertion order, b in the export's key
     * order): each of a's lines appears in b. */
    for (char *l = da, *nl; *l; l = nl + 1) {
        nl = strchr(l, '\n');
        *nl = 0;
        CHECK_MSG(strstr(db, l) != NULL, "entry lost or changed:\n%s\nin:\n%s", l, db);
    }
    /* The same media bytes under the same names. */
    for (int i = 0; i < 2; i++) {
        DIR *dir = opendir(media_a);
        struct dirent *de;
        CHECK(dir != NULL);
        while (dir && (de = readdir(dir))) {
            if (de->d_name[0] == '.')
                continue;
            snprintf(p, sizeof p, "%s/%s", media_a, de->d_name);
            snprintf(q, sizeof q, "%s/%s", i ? media_b : th_tmp_path("x/media"), de->d_name);
            wb_buf_reset(&x);
            CHECK_OK(wb_buf_read_file(&x, p, &err), &err);
            CHECK_MSG(same_bytes(q, &x), "%s differs from %s", q, p);
        }
        if (dir)
            closedir(dir);
    }
    CHECK_INT(count_files(media_b), 5);
    /* Deterministic: b exported beside its own media gives the same bytes. */
    snprintf(out2, sizeof out2, "%s", th_tmp_path("b/words.jsonl"));
    CHECK_OK(wb_export_jsonl_full(b, media_b, out2, NULL, &err), &err);
    CHECK_OK(wb_buf_read_file(&y, out2, &err), &err);
    CHECK_STR(y.data, f1);
    CHECK_INT(count_files(media_b), 5); /* in place: nothing copied */
    free(da);
    free(db);
    free(f1);
    wb_buf_release(&x);
    wb_buf_release(&y);
    wb_store_close(a);
    wb_store_close(b);
}
