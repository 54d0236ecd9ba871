/* Anki deck export: the zip's members, the media map, the media bytes, and
 * the collection inside (notes, cards, note type, deck) read back with
 * libzip and SQLite the way Anki would.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "core/util.h"
#include "media_bytes.h"
#include "test.h"
#include "wordbank/export.h"
#include "wordbank/media.h"
#include "wordbank/store.h"

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
static void expected_guid(const char *word, const char *translation, const char *lang, char out[16])
{
    static const char b91[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                              "!#$%&()*+,-./:;<=>?@[]^_`{|}~";
    char key[512], rev[16];
    uint8_t h[32];
    uint64_t v = 0;
    int n = 0, k = 0;
    snprintf(key, sizeof key, "%s__%s__%s", word, translation, lang);
    core_sha256(key, strlen(key), h);
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
    snprintf(coll, sizeof coll, "%s", th_tmp_path("guid.anki2"));
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
    e.pitch_accent[0] = 1;
    e.n_pitch_accent = 1;
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
    const char *media = th_tmp_path("media");
    char path[4096], coll[4096];
    zip_t *za;
    int zerr = 0;
    size_t n;
    FILE *f, *f2;
    struct wb_buf aac;
    char *name = NULL, sound[128];
    snprintf(path, sizeof path, "%s", th_tmp_path("Lesson 1.apkg"));
    wb_buf_init(&aac, 0);
    tm_adts(&aac, 3, 1); /* the original's clips are ADTS AAC: a deck carries them as they are */
    CHECK_OK(wb_media_write(media, aac.data, aac.len, &name, &err), &err);
    CHECK_OK(wb_store_open(":memory:", WB_STORE_CREATE, &st, &err), &err);
    /* The image has a store name but no file behind it. */
    add(st, "猫", "cat", name, "0123456789abcdef0123456789abcdef.png");
    add(st, "犬", "dog", name, NULL); /* shared media appears once */
    CHECK_OK(wb_export_apkg(st, media, path, &err), &err);
    CHECK_INT(wb_export_apkg(st, media, "-", &err), WB_EINVAL);
    wb_store_close(st);

    CHECK((za = zip_open(path, ZIP_RDONLY, &zerr)) != NULL);
    CHECK_INT(zip_get_num_entries(za, 0), 3); /* collection.anki2, media, 0 */
    char *map = zip_read(za, "media", NULL);
    json_t *mj = json_loads(map, 0, NULL);
    CHECK(mj && json_object_size(mj) == 1);
    CHECK_STR(json_string_value(json_object_get(mj, "0")), name);
    CHECK(strstr(name, ".aac") != NULL);
    json_decref(mj);
    free(map);
    char *m0 = zip_read(za, "0", &n);
    CHECK(n == aac.len && memcmp(m0, aac.data, n) == 0);
    free(m0);
    snprintf(sound, sizeof sound, "[sound:%s]", name);
    wb_buf_release(&aac);
    char *db = zip_read(za, "collection.anki2", &n);
    zip_close(za);
    snprintf(coll, sizeof coll, "%s", th_tmp_path("collection.anki2"));
    CHECK((f = fopen(coll, "wb")) != NULL);
    CHECK(fwrite(db, 1, n, f) == n);
    fclose(f);
    free(db);

    sqlite3 *s;
    sqlite3_stmt *q;
    CHECK(sqlite3_open(coll, &s) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(s, "SELECT guid, mid, flds, sfld, id FROM notes ORDER BY sfld DESC",
                             -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    const char *flds = (const char *)sqlite3_column_text(q, 2);
    /* Key, Word, Reading, PitchAccent, Translation, Context, Description,
     * Examples, Picture, Audio */
    char *fld[10] = { 0 };
    char *copy = strdup(flds);
    size_t nf = 0;
    for (char *p = copy; p && nf < 10; nf++) {
        fld[nf] = p;
        p = strchr(p, '\x1f');
        if (p)
            *p++ = '\0';
    }
    CHECK_INT(nf, 10);
    CHECK(strncmp(fld[0], "wb-", 3) == 0 && strlen(fld[0]) == 27);
    CHECK_STR(fld[1], "猫");
    CHECK_STR(fld[2], "ねこ");
    CHECK(strstr(fld[3], "data-pitch=\"1\"") &&
          strstr(fld[3], "<span class=\"hi\">ね</span>\xea\x9c\x9cこ") && strstr(fld[3], "[1]"));
    CHECK_STR(fld[4], "cat");
    CHECK_STR(fld[6], "A &lt;small&gt; &amp; &quot;furry&quot; animal.");
    CHECK(strstr(fld[7], "猫が好き。<br>二行目") != NULL);
    CHECK_STR(fld[8], ""); /* the missing picture is left out */
    CHECK_STR(fld[9], sound);
    CHECK_STR((const char *)sqlite3_column_text(q, 3), "猫");
    char want[16];
    expected_guid("猫", "cat", "ja", want);
    CHECK_STR((const char *)sqlite3_column_text(q, 0), want);
    sqlite3_int64 mid = sqlite3_column_int64(q, 1);
    sqlite3_int64 nid = sqlite3_column_int64(q, 4);
    char *guid = strdup((const char *)sqlite3_column_text(q, 0));
    free(copy);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK(sqlite3_step(q) == SQLITE_DONE);
    sqlite3_finalize(q);
    /* Two cards a note (recognition ord 0, production ord 1), all in one deck. */
    CHECK(sqlite3_prepare_v2(s,
                             "SELECT count(*), min(did), max(did), count(DISTINCT nid), "
                             "sum(ord = 0), sum(ord = 1) FROM cards WHERE nid IN "
                             "(SELECT id FROM notes)",
                             -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(q, 0), 4);
    CHECK_INT(sqlite3_column_int(q, 3), 2);
    CHECK_INT(sqlite3_column_int(q, 4), 2);
    CHECK_INT(sqlite3_column_int(q, 5), 2);
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
    CHECK_STR(json_string_value(json_object_get(model, "name")), "wordbank two-way");
    CHECK_INT(json_array_size(json_object_get(model, "flds")), 10);
    json_t *tmpls = json_object_get(model, "tmpls");
    CHECK_INT(json_array_size(tmpls), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(tmpls, 0), "name")), "Recognition");
    CHECK_STR(json_string_value(json_object_get(json_array_get(tmpls, 1), "name")), "Production");
    CHECK(strstr(json_string_value(json_object_get(json_array_get(tmpls, 1), "qfmt")),
                 "{{Translation}}") != NULL);
    snprintf(key, sizeof key, "%lld", (long long)did);
    CHECK_STR(json_string_value(json_object_get(json_object_get(decks, key), "name")), "Lesson 1");
    json_decref(models);
    json_decref(decks);
    sqlite3_finalize(q);
    sqlite3_close(s);

    /* A named subdeck, exported again: the same note type, note ids and
     * guids (Anki updates the notes in place); the deck and its parent. */
    CHECK_OK(wb_store_open(":memory:", WB_STORE_CREATE, &st, &err), &err);
    add(st, "猫", "cat", name, NULL);
    CHECK_OK(wb_export_apkg_deck(st, media, path, "日本語::Lesson 1", &err), &err);
    CHECK_INT(wb_export_apkg_deck(st, media, path, "a::::b", &err), WB_EINVAL);
    CHECK_INT(wb_export_apkg_deck(st, media, path, "", &err), WB_EINVAL);
    wb_store_close(st);
    CHECK((za = zip_open(path, ZIP_RDONLY, &zerr)) != NULL);
    db = zip_read(za, "collection.anki2", &n);
    zip_close(za);
    CHECK((f2 = fopen(coll, "wb")) != NULL);
    CHECK(fwrite(db, 1, n, f2) == n);
    fclose(f2);
    free(db);
    CHECK(sqlite3_open(coll, &s) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(s,
                             "SELECT n.id, n.guid, n.mid, c.did FROM notes n JOIN cards c ON "
                             "c.nid = n.id WHERE n.sfld = '猫'",
                             -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK(sqlite3_column_int64(q, 0) == nid);
    CHECK_STR((const char *)sqlite3_column_text(q, 1), guid);
    CHECK(sqlite3_column_int64(q, 2) == mid);
    did = sqlite3_column_int64(q, 3);
    sqlite3_finalize(q);
    CHECK(sqlite3_prepare_v2(s, "SELECT decks FROM col", -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    decks = json_loads((const char *)sqlite3_column_text(q, 0), 0, NULL);
    snprintf(key, sizeof key, "%lld", (long long)did);
    CHECK_STR(json_string_value(json_object_get(json_object_get(decks, key), "name")),
              "日本語::Lesson 1");
    int parent = 0;
    const char *k;
    json_t *v;
    json_object_foreach(decks, k, v) {
        parent |= strcmp(json_string_value(json_object_get(v, "name")), "日本語") == 0;
    }
    CHECK(parent);
    json_decref(decks);
    sqlite3_finalize(q);
    sqlite3_close(s);
    free(guid);
    free(name);
}

/* Whatever a word bank's stage files say, a deck holds only files of the
 * media store, read by validated names: not a path that climbs out, not an
 * absolute path, not a store name that is a symbolic link to a file
 * elsewhere, not a store name whose bytes are not its own. */
TEST(apkg_reads_only_store_files)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    const char *media = th_tmp_path("media2");
    char secret[4096], link_name[128], link_path[4096], abs_name[4096], path[4096];
    char tampered[128], tampered_path[4096];
    struct wb_buf b, other;
    zip_t *za;
    int zerr = 0;
    FILE *f;
    wb_buf_init(&b, 0);
    wb_buf_init(&other, 0);
    CHECK(mkdir(media, 0755) == 0);
    /* A valid clip outside the media directory: the secret. */
    snprintf(secret, sizeof secret, "%s", th_tmp_path("secret.aac"));
    tm_adts(&b, 2, 9);
    CHECK((f = fopen(secret, "wb")) != NULL);
    CHECK(fwrite(b.data, 1, b.len, f) == b.len);
    fclose(f);
    /* Its own store name, as a symbolic link inside the media directory. */
    CHECK(wb_media_name(b.data, b.len, link_name, sizeof link_name) == 0);
    snprintf(link_path, sizeof link_path, "%s/%s", media, link_name);
    CHECK(symlink(secret, link_path) == 0);
    /* A store name holding other bytes than its name says. */
    tm_adts(&other, 2, 5);
    CHECK(wb_media_name(other.data, other.len, tampered, sizeof tampered) == 0);
    snprintf(tampered_path, sizeof tampered_path, "%s/%s", media, tampered);
    CHECK((f = fopen(tampered_path, "wb")) != NULL);
    CHECK(fwrite(b.data, 1, b.len, f) == b.len);
    fclose(f);
    snprintf(abs_name, sizeof abs_name, "%s", secret);
    CHECK_OK(wb_store_open(":memory:", WB_STORE_CREATE, &st, &err), &err);
    add(st, "一", "one", "../secret.aac", NULL);
    add(st, "二", "two", abs_name, NULL);
    add(st, "三", "three", link_name, NULL);
    add(st, "四", "four", tampered, NULL);
    snprintf(path, sizeof path, "%s", th_tmp_path("hostile.apkg"));
    CHECK_OK(wb_export_apkg(st, media, path, &err), &err);
    wb_store_close(st);
    CHECK((za = zip_open(path, ZIP_RDONLY, &zerr)) != NULL);
    CHECK_INT(zip_get_num_entries(za, 0), 2); /* collection.anki2 and media: no file */
    char *map = zip_read(za, "media", NULL);
    CHECK_STR(map, "{}");
    free(map);
    zip_close(za);
    wb_buf_release(&b);
    wb_buf_release(&other);
}

/* A re-exported deck keeps each note's guid (so Anki's import updates the
 * note instead of adding a second one) even when the entry's content
 * changed, and two entries never share one. */
TEST(apkg_guid_stable_across_exports)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    const char *media = th_tmp_path("media");
    char a[4096], b[4096], cat1[16], cat2[16], dog1[16], dog2[16], want[16];
    struct wb_entry e;
    snprintf(a, sizeof a, "%s", th_tmp_path("first.apkg"));
    snprintf(b, sizeof b, "%s", th_tmp_path("second.apkg"));
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
