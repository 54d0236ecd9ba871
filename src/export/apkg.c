/* Anki deck export (.apkg): a zip holding a fresh collection.anki2 (written
 * by src/store/anki.c), a "media" JSON map {"0": "name.mp3", ...} and the
 * media files stored as "0", "1", .... One note a word bank entry, of a basic
 * note type "wordbank" with Front (word and pronunciation) and Back (reading,
 * translation, description, examples, picture) fields. The note's guid is a
 * hash of the entry's key, so importing an updated deck into Anki updates the
 * notes instead of duplicating them. libzip writes the archive to a temporary
 * file and renames it over the target on success.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "core/util.h"
#include "export/export_internal.h"
#include "store/anki.h"
#include "wordbank/log.h"
#include "wordbank/media.h"

#define APKG_MODEL_ID 1718204800123LL /* stable: re-imports reuse the note type */
#define APKG_MAX_MEDIA 100000

static const char card_css[] =
    ".card { font-family: \"IPAGothic\", \"Noto Sans CJK JP\", sans-serif; font-size: 22px; "
    "text-align: center; color: #222; background: #fff; }\n"
    ".word { font-size: 48px; }\n.reading { color: #666; }\n.translation { font-weight: bold; }\n"
    ".examples { text-align: left; }\n.ex-tr { color: #666; font-size: 18px; }\n"
    "img { max-width: 90%; max-height: 320px; }\n";

struct media {
    char *name; /* the name inside Anki's media folder */
    char *path; /* the file on disk */
};

struct apkg {
    struct store_anki *anki;
    const char *media_dir;
    struct media *media;
    size_t n_media;
    int64_t base_id, deck_id, now_s;
    size_t n_notes;
    struct wb_buf fields, sort, guid;
    struct wb_error *err;
};

static int html(struct wb_buf *b, const char *s)
{
    int rc = 0;
    for (; s && *s && rc == 0; s++) {
        switch (*s) {
        case '&': rc = wb_buf_appends(b, "&amp;"); break;
        case '<': rc = wb_buf_appends(b, "&lt;"); break;
        case '>': rc = wb_buf_appends(b, "&gt;"); break;
        case '"': rc = wb_buf_appends(b, "&quot;"); break;
        case '\n': rc = wb_buf_appends(b, "<br>"); break;
        case '\r': break;
        case '\x1f': rc = wb_buf_appendc(b, ' '); break; /* Anki's field separator */
        default: rc = wb_buf_appendc(b, *s);
        }
    }
    return rc;
}

/* Anki's guid: the first 8 bytes of a hash of the key, in its base-91 alphabet. */
static int make_guid(const struct wb_entry *e, struct wb_buf *out)
{
    static const char b91[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                              "!#$%&()*+,-./:;<=>?@[]^_`{|}~";
    struct wb_buf key;
    uint8_t h[32];
    uint64_t v = 0;
    char tmp[16];
    int n = 0, rc;
    wb_buf_init(&key, 0);
    rc = wb_buf_appendf(&key, "%s__%s__%s", e->word, e->translation, e->language);
    if (rc == 0) {
        wb_sha256(key.data, key.len, h);
        for (int i = 0; i < 8; i++)
            v = v << 8 | h[i];
        do {
            tmp[n++] = b91[v % 91];
            v /= 91;
        } while (v && n < (int)sizeof tmp);
        wb_buf_reset(out);
        while (n && rc == 0)
            rc = wb_buf_appendc(out, tmp[--n]);
    }
    wb_buf_release(&key);
    return rc;
}

/* The Anki name of a stage's media file, registering it; NULL when there is
 * none, or when it is not a valid store file (a name the media store does
 * not give, a symbolic link, bytes that are not that media): the card is
 * still made. Only validated store names are ever read (wb_media_read). */
static const char *add_media(struct apkg *a, const struct wb_entry *e, enum wb_stage s)
{
    const char *file = export_stage_file(e, s);
    struct wb_error lerr = { 0 };
    struct wb_buf path, data;
    char *name;
    int rc;
    if (!file)
        return NULL;
    wb_buf_init(&path, 0);
    wb_buf_init(&data, 0);
    rc = wb_media_read(a->media_dir, file, &data, &lerr);
    wb_buf_release(&data);
    if (rc) {
        wb_log(WB_LOG_WARN, "%s: %s; card made without it", e->word, wb_error_text(&lerr));
        goto fail;
    }
    if (wb_path_join(&path, a->media_dir ? a->media_dir : ".", file) != 0)
        goto fail;
    if (!(name = strdup(file)))
        goto fail;
    for (char *p = name; *p; p++)
        *p = *p == '/' ? '_' : *p;
    for (size_t i = 0; i < a->n_media; i++) {
        if (strcmp(a->media[i].name, name) == 0) {
            free(name);
            wb_buf_release(&path);
            return a->media[i].name;
        }
    }
    if (a->n_media % 64 == 0) {
        struct media *m = a->n_media < APKG_MAX_MEDIA
                              ? realloc(a->media, (a->n_media + 64) * sizeof *m)
                              : NULL;
        if (!m) {
            free(name);
            goto fail;
        }
        a->media = m;
    }
    a->media[a->n_media].name = name;
    a->media[a->n_media].path = wb_buf_detach(&path, NULL);
    return a->media[a->n_media++].name;
fail:
    wb_buf_release(&path);
    return NULL;
}

static int note_fn(void *ud, const struct wb_entry *e)
{
    struct apkg *a = ud;
    const char *audio = add_media(a, e, WB_STAGE_AUDIO);
    const char *image = add_media(a, e, WB_STAGE_IMAGE);
    struct store_anki_note n = { 0 };
    int rc = 0;
    wb_buf_reset(&a->fields);
    wb_buf_reset(&a->sort);
    rc |= wb_buf_appends(&a->fields, "<div class=\"word\">");
    rc |= html(&a->fields, e->word);
    rc |= wb_buf_appends(&a->fields, "</div>");
    if (audio)
        rc |= wb_buf_appendf(&a->fields, "[sound:%s]", audio);
    rc |= wb_buf_appendc(&a->fields, '\x1f');
    if (e->reading && *e->reading) {
        rc |= wb_buf_appends(&a->fields, "<div class=\"reading\">");
        rc |= html(&a->fields, e->reading);
        rc |= wb_buf_appends(&a->fields, "</div>");
    }
    rc |= wb_buf_appends(&a->fields, "<div class=\"translation\">");
    rc |= html(&a->fields, e->translation);
    rc |= wb_buf_appends(&a->fields, "</div>");
    if (e->description && *e->description) {
        rc |= wb_buf_appends(&a->fields, "<div class=\"description\">");
        rc |= html(&a->fields, e->description);
        rc |= wb_buf_appends(&a->fields, "</div>");
    }
    if (e->n_examples) {
        rc |= wb_buf_appends(&a->fields, "<ul class=\"examples\">");
        for (size_t i = 0; i < e->n_examples; i++) {
            rc |= wb_buf_appends(&a->fields, "<li>");
            rc |= html(&a->fields, e->examples[i].text);
            if (e->examples[i].translation) {
                rc |= wb_buf_appends(&a->fields, "<br><span class=\"ex-tr\">");
                rc |= html(&a->fields, e->examples[i].translation);
                rc |= wb_buf_appends(&a->fields, "</span>");
            }
            rc |= wb_buf_appends(&a->fields, "</li>");
        }
        rc |= wb_buf_appends(&a->fields, "</ul>");
    }
    if (image) {
        rc |= wb_buf_appends(&a->fields, "<img src=\"");
        rc |= html(&a->fields, image);
        rc |= wb_buf_appends(&a->fields, "\">");
    }
    rc |= wb_buf_appends(&a->sort, e->word);
    rc |= make_guid(e, &a->guid);
    if (rc)
        return wb_error_set(a->err, WB_ENOMEM, "out of memory building an Anki note");
    n.id = a->base_id + 2 * (int64_t)a->n_notes;
    n.card_id = n.id + 1;
    n.model_id = APKG_MODEL_ID;
    n.deck_id = a->deck_id;
    n.mod_s = a->now_s;
    n.due = (int64_t)a->n_notes + 1;
    n.guid = a->guid.data;
    n.fields = a->fields.data; /* Front 0x1f Back */
    n.sort_field = a->sort.data;
    n.tags = " wordbank ";
    a->n_notes++;
    return store_anki_add(a->anki, &n, a->err);
}

/* The col row's JSON: conf, the note type, the decks and the deck options. */
static int col_json(int64_t mid, int64_t did, const char *deck, int64_t now_s, char **conf,
                    char **models, char **decks, char **dconf)
{
    char mids[32], dids[32];
    json_t *c, *m, *d, *o;
    int rc = 0;
    snprintf(mids, sizeof mids, "%lld", (long long)mid);
    snprintf(dids, sizeof dids, "%lld", (long long)did);
    c = json_pack("{s:[i], s:b, s:i, s:i, s:s, s:b, s:b, s:b, s:i, s:i, s:b, s:s, s:i}",
                  "activeDecks", 1, "addToCur", 1, "collapseTime", 1200, "curDeck", 1,
                  "curModel", mids, "dueCounts", 1, "estTimes", 1, "newBury", 1, "newSpread", 0,
                  "nextPos", 1, "sortBackwards", 0, "sortType", "noteFld", "timeLim", 0);
    m = json_pack(
        "{s:{s:s, s:I, s:[{s:s, s:i, s:s, s:[], s:b, s:i, s:b}, {s:s, s:i, s:s, s:[], s:b, s:i, "
        "s:b}], s:s, s:s, s:s, s:I, s:s, s:[[i, s, [i]]], s:i, s:[], s:[{s:s, s:i, s:s, s:s, "
        "s:s, s:s, s:n}], s:i, s:i, s:[]}}",
        mids, "css", card_css, "did", (json_int_t)did, "flds", "name", "Front", "ord", 0, "font",
        "Arial", "media", "rtl", 0, "size", 20, "sticky", 0, "name", "Back", "ord", 1, "font",
        "Arial", "media", "rtl", 0, "size", 20, "sticky", 0, "id", mids, "latexPost",
        "\\end{document}", "latexPre",
        "\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n\\usepackage{amssymb,"
        "amsmath}\n\\pagestyle{empty}\n\\setlength{\\parindent}{0in}\n\\begin{document}\n",
        "mod", (json_int_t)now_s, "name", "wordbank", "req", 0, "any", 0, "sortf", 0, "tags",
        "tmpls", "name", "Card 1", "ord", 0, "qfmt", "{{Front}}", "afmt",
        "{{FrontSide}}<hr id=answer>{{Back}}", "bqfmt", "", "bafmt", "", "did", "type", 0, "usn",
        -1, "vers");
    d = json_pack("{s:{s:b, s:i, s:s, s:i, s:i, s:i, s:i, s:[i,i], s:i, s:s, s:[i,i], "
                  "s:[i,i], s:[i,i], s:i}, s:{s:b, s:i, s:s, s:i, s:i, s:i, s:I, s:[i,i], s:I, "
                  "s:s, s:[i,i], s:[i,i], s:[i,i], s:i}}",
                  "1", "collapsed", 0, "conf", 1, "desc", "", "dyn", 0, "extendNew", 10,
                  "extendRev", 50, "id", 1, "lrnToday", 0, 0, "mod", 0, "name", "Default",
                  "newToday", 0, 0, "revToday", 0, 0, "timeToday", 0, 0, "usn", 0, dids,
                  "collapsed", 0, "conf", 1, "desc", "Made by wordbank", "dyn", 0, "extendNew",
                  10, "extendRev", 50, "id", (json_int_t)did, "lrnToday", 0, 0, "mod",
                  (json_int_t)now_s, "name", deck, "newToday", 0, 0, "revToday", 0, 0,
                  "timeToday", 0, 0, "usn", -1);
    o = json_pack("{s:{s:b, s:i, s:{s:[i], s:i, s:i, s:i, s:i}, s:i, s:i, s:s, s:{s:b, s:[i,i], "
                  "s:i, s:[i,i,i], s:i, s:i, s:b}, s:b, s:{s:b, s:f, s:f, s:i, s:i, s:i, s:i}, "
                  "s:i, s:i}}",
                  "1", "autoplay", 1, "id", 1, "lapse", "delays", 10, "leechAction", 0,
                  "leechFails", 8, "minInt", 1, "mult", 0, "maxTaken", 60, "mod", 0, "name",
                  "Default", "new", "bury", 1, "delays", 1, 10, "initialFactor", 2500, "ints", 1,
                  4, 7, "order", 1, "perDay", 20, "separate", 1, "replayq", 1, "rev", "bury", 1,
                  "ease4", 1.3, "fuzz", 0.05, "ivlFct", 1, "maxIvl", 36500, "minSpace", 1,
                  "perDay", 100, "timer", 0, "usn", 0);
    *conf = c ? json_dumps(c, JSON_COMPACT) : NULL;
    *models = m ? json_dumps(m, JSON_COMPACT) : NULL;
    *decks = d ? json_dumps(d, JSON_COMPACT) : NULL;
    *dconf = o ? json_dumps(o, JSON_COMPACT) : NULL;
    if (!*conf || !*models || !*decks || !*dconf)
        rc = WB_ENOMEM;
    json_decref(c);
    json_decref(m);
    json_decref(d);
    json_decref(o);
    return rc;
}

/* "Lesson 3" from ".../Lesson 3.apkg". */
static char *deck_name(const char *path)
{
    const char *base = strrchr(path, '/');
    size_t n;
    base = base ? base + 1 : path;
    n = strlen(base);
    if (n > 5 && strcmp(base + n - 5, ".apkg") == 0)
        n -= 5;
    return n ? strndup(base, n) : strdup("wordbank");
}

static int zip_fail(zip_t *za, const char *path, struct wb_error *err)
{
    zip_error_t *ze = zip_get_error(za);
    int sys = zip_error_code_system(ze);
    return wb_error_set(err, sys == ENOSPC ? WB_ENOSPC : WB_EIO, "%s: writing the deck: %s", path,
                        zip_error_strerror(ze));
}

static int write_zip(struct apkg *a, const char *coll, const char *path, struct wb_error *err)
{
    struct wb_buf map;
    zip_t *za = NULL;
    zip_source_t *src;
    int zerr = 0, rc = 0, fd;
    json_t *m = json_object();
    wb_buf_init(&map, 0);
    for (size_t i = 0; m && i < a->n_media; i++) {
        char k[32];
        snprintf(k, sizeof k, "%zu", i);
        json_object_set_new(m, k, json_string(a->media[i].name));
    }
    if (!m || export_json_append(m, &map) != 0) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if (!(za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr))) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, zerr);
        rc = wb_error_set(err, WB_EIO, "%s: %s", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        goto out;
    }
    if (!(src = zip_source_file(za, coll, 0, -1)) ||
        zip_file_add(za, "collection.anki2", src, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(src);
        rc = zip_fail(za, path, err);
        goto out;
    }
    if (!(src = zip_source_buffer(za, map.data, map.len, 0)) ||
        zip_file_add(za, "media", src, ZIP_FL_ENC_UTF_8) < 0) {
        zip_source_free(src);
        rc = zip_fail(za, path, err);
        goto out;
    }
    for (size_t i = 0; i < a->n_media; i++) {
        char k[32];
        zip_int64_t idx;
        snprintf(k, sizeof k, "%zu", i);
        if (!(src = zip_source_file(za, a->media[i].path, 0, -1)) ||
            (idx = zip_file_add(za, k, src, ZIP_FL_ENC_UTF_8)) < 0) {
            zip_source_free(src);
            rc = zip_fail(za, path, err);
            goto out;
        }
        zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0); /* already compressed */
    }
    if (zip_close(za) != 0) {
        rc = zip_fail(za, path, err);
        goto out;
    }
    za = NULL;
    if ((fd = open(path, O_RDONLY)) >= 0) { /* libzip renamed it into place; make it durable */
        fsync(fd);
        close(fd);
    }
out:
    if (za)
        zip_discard(za);
    json_decref(m);
    wb_buf_release(&map);
    return rc;
}

int wb_export_apkg(struct wb_store *st, const char *media_dir, const char *path,
                   struct wb_error *err)
{
    struct apkg a = { .media_dir = media_dir, .err = err };
    struct store_anki_col col = { 0 };
    char *conf = NULL, *models = NULL, *decks = NULL, *dconf = NULL, *deck = NULL, *coll = NULL;
    struct timespec ts;
    uint8_t h[32];
    int rc, fd;
    wb_buf_init(&a.fields, 0);
    wb_buf_init(&a.sort, 0);
    wb_buf_init(&a.guid, 0);
    if (!path || !*path || strcmp(path, "-") == 0) {
        rc = wb_error_set(err, WB_EINVAL, "an Anki deck needs an output file (not stdout)");
        goto out;
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    a.now_s = ts.tv_sec;
    a.base_id = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (!(deck = deck_name(path)) || !(coll = malloc(strlen(path) + 32))) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    /* A stable deck id from its name: re-importing a deck updates it. */
    wb_sha256(deck, strlen(deck), h);
    a.deck_id = ((int64_t)h[0] << 40 | (int64_t)h[1] << 32 | (int64_t)h[2] << 24 |
                 (int64_t)h[3] << 16 | (int64_t)h[4] << 8 | h[5]) + 2;
    if ((rc = col_json(APKG_MODEL_ID, a.deck_id, deck, a.now_s, &conf, &models, &decks, &dconf))) {
        rc = wb_error_set(err, rc, "out of memory");
        goto out;
    }
    sprintf(coll, "%s.anki2.XXXXXX", path);
    if ((fd = mkstemp(coll)) < 0) {
        rc = wb_error_set(err, errno == ENOSPC ? WB_ENOSPC : WB_EIO, "%s: %s", path,
                          strerror(errno));
        free(coll);
        coll = NULL;
        goto out;
    }
    close(fd);
    col.crt = a.now_s;
    col.mod_ms = a.base_id;
    col.conf = conf;
    col.models = models;
    col.decks = decks;
    col.dconf = dconf;
    if ((rc = store_anki_create(coll, &col, &a.anki, err)) ||
        (rc = wb_store_each(st, NULL, note_fn, &a, err)))
        goto out;
    rc = store_anki_finish(a.anki, err);
    a.anki = NULL;
    if (rc == 0)
        rc = write_zip(&a, coll, path, err);
out:
    store_anki_free(a.anki);
    if (coll)
        unlink(coll);
    for (size_t i = 0; i < a.n_media; i++) {
        free(a.media[i].name);
        free(a.media[i].path);
    }
    free(a.media);
    free(coll);
    free(deck);
    free(conf);
    free(models);
    free(decks);
    free(dconf);
    wb_buf_release(&a.fields);
    wb_buf_release(&a.sort);
    wb_buf_release(&a.guid);
    return rc;
}
