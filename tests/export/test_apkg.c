/* Anki deck export: the zip's members, the media map, the media bytes, and
 * the collection inside (notes, cards, note type, deck) read back with
 * libzip and SQLite the way Anki would.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "core/util.h"
#include "test.h"
#include "wordbank/export.h"
#include "wordbank/store.h"

static const char *tmp_path(const char *name)
{
    static char p[4][4096];
    static int i;
    i = (i + 1) % 4;
    snprintf(p[i], sizeof p[i], "%s/%s", th_tmpdir(), name);
    return p[i];
}

static char *zip_read(zip_t *za, const char *name, size_t *len)
{
    zip_stat_t zs;
    zip_file_t *zf;
    char *buf;
    CHECK_MSG(zip_stat(za, name, 0, &zs) == 0, "no %s in the deck", name);
    buf = malloc(zs.size + 1);
    CHECK(buf && (zf = zip_fopen(za, name, 0)) != NULL);
    CHECK(zip_fread(zf, buf, zs.size) == (zip_int64_t)zs.size);
    zip_fclose(zf);
    buf[zs.size] = 0;
    if (len)
        *len = zs.size;
    return buf;
}

/* The guid rule of docs/store.md, computed here on its own: Anki's guid64
 * form (base-91 digits, most significant first) of the first 8 bytes of the
 * SHA-256 of "word__translation__language". */
static void expected_guid(const char *word, const char *translation, const char *lang,
                          char out[16])
{
    static const char b91[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                              "!#$%&()*+,-./:;<=>?@[]^_`{|}~";
    char key[512], rev[16];
    uint8_t h[32];
    uint64_t v = 0;
    int n = 0, k = 0;
    snprintf(key, sizeof key, "%s__%s__%s", word, translation, lang);
    wb_sha256(key, strlen(key), h);
    for (int i = 0; i < 8; i++)
        v = v << 8 | h[i];
    do {
        rev[n++] = b91[v % 91];
        v /= 91;
    } while (v);
    while (n)
        out[k++] = rev[--n];
    out[k] = '\0';
}

/* The guid of the note whose sort field is word, in the deck at path. */
static void deck_guid(const char *path, const char *word, char out[16])
{
    zip_t *za;
    int zerr = 0;
    size_t n;
    FILE *f;
    sqlite3 *s;
    sqlite3_stmt *q;
    char coll[4096];
    CHECK((za = zip_open(path, ZIP_RDONLY, &zerr)) != NULL);
    char *db = zip_read(za, "collection.anki2", &n);
    zip_close(za);
    snprintf(coll, sizeof coll, "%s", tmp_path("guid.anki2"));
    CHECK((f = fopen(coll, "wb")) != NULL);
    CHECK(fwrite(db, 1, n, f) == n);
    CHECK(fclose(f) == 0);
    free(db);
    CHECK(sqlite3_open(coll, &s) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(s, "SELECT guid FROM notes WHERE sfld = ?", -1, &q, NULL) ==
          SQLITE_OK);
    sqlite3_bind_text(q, 1, word, -1, SQLITE_STATIC);
    CHECK_MSG(sqlite3_step(q) == SQLITE_ROW, "no note %s in %s", word, path);
    snprintf(out, 16, "%s", (const char *)sqlite3_column_text(q, 0));
    CHECK(sqlite3_step(q) == SQLITE_DONE); /* one note a word here */
    sqlite3_finalize(q);
    sqlite3_close(s);
    remove(coll);
}

static void add(struct wb_store *st, const char *w, const char *t, const char *audio,
                const char *image)
{
    struct wb_entry e;
    struct wb_error err = { 0 };
    wb_entry_init(&e);
    e.word = strdup(w);
    e.translation = strdup(t);
    e.language = strdup("ja");
    e.reading = strdup("ねこ");
    e.description = strdup("A <small> & \"furry\" animal.");
    CHECK(wb_entry_add_example(&e, "猫が好き。\n二行目", "I like cats.") == 0);
    if (audio) {
        e.stages[WB_STAGE_AUDIO].state = WB_STATE_DONE;
        e.stages[WB_STAGE_AUDIO].file = strdup(audio);
    }
    if (image) {
        e.stages[WB_STAGE_IMAGE].state = WB_STATE_DONE;
        e.stages[WB_STAGE_IMAGE].file = strdup(image);
    }
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    wb_entry_release(&e);
}

TEST(apkg_deck_contents)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    const char *media = tmp_path("media");
    char path[4096], sub[4096], coll[4096];
    zip_t *za;
    int zerr = 0;
    size_t n;
    FILE *f;
    snprintf(path, sizeof path, "%s", tmp_path("Lesson 1.apkg"));
    CHECK(mkdir(media, 0755) == 0);
    snprintf(sub, sizeof sub, "%s/ab", media);
    CHECK(mkdir(sub, 0755) == 0);
    snprintf(sub, sizeof sub, "%s/ab/cd.mp3", media);
    CHECK((f = fopen(sub, "wb")) != NULL);
    fputs("ID3fake-mp3-bytes", f);
    fclose(f);
    CHECK_OK(wb_store_open(":memory:", WB_STORE_CREATE, &st, &err), &err);
    add(st, "猫", "cat", "ab/cd.mp3", "missing.png"); /* the image file does not exist */
    add(st, "犬", "dog", "ab/cd.mp3", NULL);          /* shared media appears once */
    CHECK_OK(wb_export_apkg(st, media, path, &err), &err);
    CHECK_INT(wb_export_apkg(st, media, "-", &err), WB_EINVAL);
    wb_store_close(st);

    CHECK((za = zip_open(path, ZIP_RDONLY, &zerr)) != NULL);
    CHECK_INT(zip_get_num_entries(za, 0), 3); /* collection.anki2, media, 0 */
    char *map = zip_read(za, "media", NULL);
    json_t *mj = json_loads(map, 0, NULL);
    CHECK(mj && json_object_size(mj) == 1);
    CHECK_STR(json_string_value(json_object_get(mj, "0")), "ab_cd.mp3");
    json_decref(mj);
    free(map);
    char *m0 = zip_read(za, "0", &n);
    CHECK_STR(m0, "ID3fake-mp3-bytes");
    free(m0);
    char *db = zip_read(za, "collection.anki2", &n);
    zip_close(za);
    snprintf(coll, sizeof coll, "%s", tmp_path("collection.anki2"));
    CHECK((f = fopen(coll, "wb")) != NULL);
    CHECK(fwrite(db, 1, n, f) == n);
    fclose(f);
    free(db);

    sqlite3 *s;
    sqlite3_stmt *q;
    CHECK(sqlite3_open(coll, &s) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(s, "SELECT guid, mid, flds, sfld FROM notes ORDER BY id", -1, &q,
                             NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    const char *flds = (const char *)sqlite3_column_text(q, 2);
    char *sep = strchr(flds, '\x1f');
    CHECK(sep != NULL);
    CHECK(strstr(flds, "猫") && strstr(flds, "[sound:ab_cd.mp3]") < sep);
    CHECK(strstr(sep, "A &lt;small&gt; &amp; &quot;furry&quot; animal.") != NULL);
    CHECK(strstr(sep, "猫が好き。<br>二行目") != NULL);
    CHECK(strstr(sep, "<img") == NULL); /* the missing picture is left out */
    CHECK_STR((const char *)sqlite3_column_text(q, 3), "猫");
    char want[16];
    expected_guid("猫", "cat", "ja", want);
    CHECK_STR((const char *)sqlite3_column_text(q, 0), want);
    sqlite3_int64 mid = sqlite3_column_int64(q, 1);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK(sqlite3_step(q) == SQLITE_DONE);
    sqlite3_finalize(q);
    CHECK(sqlite3_prepare_v2(s, "SELECT count(*), min(did), max(did) FROM cards WHERE nid IN "
                                "(SELECT id FROM notes)",
                             -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(q, 0), 2);
    sqlite3_int64 did = sqlite3_column_int64(q, 1);
    CHECK(did == sqlite3_column_int64(q, 2));
    sqlite3_finalize(q);
    CHECK(sqlite3_prepare_v2(s, "SELECT ver, models, decks FROM col", -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(q, 0), 11);
    json_t *models = json_loads((const char *)sqlite3_column_text(q, 1), 0, NULL);
    json_t *decks = json_loads((const char *)sqlite3_column_text(q, 2), 0, NULL);
    char key[32];
    snprintf(key, sizeof key, "%lld", (long long)mid);
    json_t *model = json_object_get(models, key);
    CHECK_MSG(model != NULL, "no note type %s", key);
    CHECK_STR(json_string_value(json_object_get(model, "name")), "wordbank");
    CHECK_INT(json_array_size(json_object_get(model, "flds")), 2);
    snprintf(key, sizeof key, "%lld", (long long)did);
    CHECK_STR(json_string_value(json_object_get(json_object_get(decks, key), "name")),
              "Lesson 1");
    json_decref(models);
    json_decref(decks);
    sqlite3_finalize(q);
    sqlite3_close(s);
}

/* A re-exported deck keeps each note's guid (so Anki's import updates the
 * note instead of adding a second one) even when the entry's content
 * changed, and two entries never share one. */
TEST(apkg_guid_stable_across_exports)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    const char *media = tmp_path("media");
    char a[4096], b[4096], cat1[16], cat2[16], dog1[16], dog2[16], want[16];
    struct wb_entry e;
    snprintf(a, sizeof a, "%s", tmp_path("first.apkg"));
    snprintf(b, sizeof b, "%s", tmp_path("second.apkg"));
    CHECK(mkdir(media, 0755) == 0);
    CHECK_OK(wb_store_open(":memory:", WB_STORE_CREATE, &st, &err), &err);
    add(st, "猫", "cat", NULL, NULL);
    add(st, "犬", "dog", NULL, NULL);
    CHECK_OK(wb_export_apkg(st, media, a, &err), &err);
    /* The entry is edited (new description, reading, example) and re-exported. */
    wb_entry_init(&e);
    CHECK_OK(wb_store_get(st, "猫", "cat", "ja", &e, &err), &err);
    free(e.description);
    e.description = strdup("Edited: a small domesticated feline.");
    free(e.reading);
    e.reading = strdup("ネコ");
    CHECK(wb_entry_add_example(&e, "猫がいる。", "There is a cat.") == 0);
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    wb_entry_release(&e);
    CHECK_OK(wb_export_apkg(st, media, b, &err), &err);
    wb_store_close(st);
    deck_guid(a, "猫", cat1);
    deck_guid(b, "猫", cat2);
    deck_guid(a, "犬", dog1);
    deck_guid(b, "犬", dog2);
    CHECK_STR(cat1, cat2);
    CHECK_STR(dog1, dog2);
    CHECK(strcmp(cat1, dog1) != 0);
    expected_guid("犬", "dog", "ja", want);
    CHECK_STR(dog1, want);
}
