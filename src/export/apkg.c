/* Anki deck export (.apkg): a zip holding a fresh collection.anki2 (written
 * by src/store/anki.c), a "media" JSON map {"0": "name.mp3", ...} and the
 * media files stored as "0", "1", .... One note a word bank entry, of the
 * two-way note type "wordbank two-way" (anki_note.c): a recognition and a
 * production card each. The deck is named by the caller ("A::B" makes B a
 * subdeck of A, as in Anki) or after the file. The note type id, the deck id
 * (a hash of its name), each note's guid and id (hashes of the entry's key)
 * are stable, so importing an updated deck into Anki updates the notes in
 * place instead of duplicating them. libzip writes the archive to a
 * temporary file and renames it over the target on success; it is loaded on
 * the first deck (core/dl.h), so no other command maps it (nor libbz2 and
 * libcrypto, which it brings).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#include "core/dl.h"
#include "core/util.h"
#include "export/export_internal.h"
#include "store/anki.h"
#include "wordbank/log.h"
#include "wordbank/media.h"

/* Every libzip function the deck writer calls, through this table. */
#define ZIP_FUNCTIONS(X)              \
    X(zip_open)                       \
    X(zip_close)                      \
    X(zip_discard)                    \
    X(zip_get_error)                  \
    X(zip_error_init)                 \
    X(zip_error_init_with_code)       \
    X(zip_error_fini)                 \
    X(zip_error_set)                  \
    X(zip_error_code_system)          \
    X(zip_error_strerror)             \
    X(zip_error_to_data)              \
    X(zip_stat_init)                  \
    X(zip_source_function)            \
    X(zip_source_make_command_bitmap) \
    X(zip_source_file)                \
    X(zip_source_buffer)              \
    X(zip_source_free)                \
    X(zip_file_add)                   \
    X(zip_set_file_compression)
static struct {
    ZIP_FUNCTIONS(CORE_DL_MEMBER)
} export_zip;
#define ZIP           (&export_zip)
#define ZIP_SYM(name) CORE_DL_SYM(export_zip, name, #name)
/* Debian's soname of libzip (its headers do not say it). */
#define ZIP_SONAME "libzip.so.4"
static const struct core_dl_sym zip_syms[] = { ZIP_FUNCTIONS(ZIP_SYM) };
static struct core_dl_once zip_once = CORE_DL_ONCE_INIT;

static int zip_load(struct wb_error *err)
{
    return core_dl_load(ZIP_SONAME, zip_syms, CORE_DL_COUNT(zip_syms), err);
}

#define APKG_MAX_MEDIA 100000

struct media {
    char *name; /* the name inside Anki's media folder */
    char *file; /* its store name */
};

struct apkg {
    struct store_anki *anki;
    const char *media_dir;
    struct media *media;
    size_t n_media, cap_media;
    int64_t base_id, deck_id, now_s;
    size_t n_notes;
    struct wb_buf f[ANKI_NFIELDS], fields, sort, guid;
    struct wb_error *err;
};

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
        core_sha256(key.data, key.len, h);
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
    struct wb_buf data;
    char *name, *copy;
    int rc;
    if (!file)
        return NULL;
    wb_buf_init(&data, 0);
    rc = wb_media_read(a->media_dir, file, &data, &lerr);
    wb_buf_release(&data);
    if (rc) {
        wb_log(WB_LOG_WARN, "%s: %s; card made without it", e->word, wb_error_text(&lerr));
        return NULL;
    }
    if (!(name = anki_media_name(file)))
        return NULL;
    for (size_t i = 0; i < a->n_media; i++) {
        if (strcmp(a->media[i].name, name) == 0) {
            free(name);
            return a->media[i].name;
        }
    }
    if (CORE_ARRAY_RESERVE(a->media, a->n_media, a->cap_media, 1, APKG_MAX_MEDIA) != 0) {
        free(name);
        return NULL;
    }
    if (!(copy = strdup(file))) {
        free(name);
        return NULL;
    }
    a->media[a->n_media].name = name;
    a->media[a->n_media].file = copy;
    return a->media[a->n_media++].name;
}

/* A zip source that reads one media file through wb_media_read when libzip
 * opens it, so the bytes in the deck are the validated bytes (a store name,
 * no symbolic link, the content its name promises), never a path followed
 * later; one file is held in memory at a time. */
struct media_src {
    const char *dir, *file;
    struct wb_buf data;
    size_t off;
    zip_error_t error;
};

static zip_int64_t media_src_cb(void *ud, void *out, zip_uint64_t len, zip_source_cmd_t cmd)
{
    struct media_src *m = ud;
    struct wb_error lerr = { 0 };
    size_t n;
    switch (cmd) {
    case ZIP_SOURCE_OPEN:
        m->off = 0;
        if (wb_media_read(m->dir, m->file, &m->data, &lerr) != 0) {
            wb_log(WB_LOG_WARN, "%s", wb_error_text(&lerr));
            ZIP->zip_error_set(&m->error, ZIP_ER_READ, lerr.code == WB_ENOMEM ? ENOMEM : EIO);
            return -1;
        }
        return 0;
    case ZIP_SOURCE_READ:
        n = m->data.len - m->off < len ? m->data.len - m->off : (size_t)len;
        memcpy(out, m->data.data + m->off, n);
        m->off += n;
        return (zip_int64_t)n;
    case ZIP_SOURCE_CLOSE:
        wb_buf_release(&m->data);
        return 0;
    case ZIP_SOURCE_STAT:
        ZIP->zip_stat_init(out);
        return sizeof(zip_stat_t);
    case ZIP_SOURCE_ERROR:
        return ZIP->zip_error_to_data(&m->error, out, len);
    case ZIP_SOURCE_FREE:
        wb_buf_release(&m->data);
        ZIP->zip_error_fini(&m->error);
        free(m);
        return 0;
    case ZIP_SOURCE_SUPPORTS:
        return ZIP->zip_source_make_command_bitmap(ZIP_SOURCE_OPEN, ZIP_SOURCE_READ,
                                                   ZIP_SOURCE_CLOSE, ZIP_SOURCE_STAT,
                                                   ZIP_SOURCE_ERROR, ZIP_SOURCE_FREE, -1);
    default:
        ZIP->zip_error_set(&m->error, ZIP_ER_OPNOTSUPP, 0);
        return -1;
    }
}

static zip_source_t *media_source(zip_t *za, const char *dir, const char *file)
{
    struct media_src *m = calloc(1, sizeof *m);
    zip_source_t *src;
    if (!m)
        return NULL;
    m->dir = dir;
    m->file = file;
    wb_buf_init(&m->data, 0);
    ZIP->zip_error_init(&m->error);
    if (!(src = ZIP->zip_source_function(za, media_src_cb, m))) {
        ZIP->zip_error_fini(&m->error);
        free(m);
    }
    return src;
}

static int note_fn(void *ud, const struct wb_entry *e)
{
    struct apkg *a = ud;
    const char *audio = add_media(a, e, WB_STAGE_AUDIO);
    const char *image = add_media(a, e, WB_STAGE_IMAGE);
    struct store_anki_note n = { 0 };
    uint8_t h[32];
    uint64_t v = 0;
    int rc;
    wb_buf_reset(&a->fields);
    wb_buf_reset(&a->sort);
    rc = anki_note_fields(e, image, audio, a->f);
    for (int i = 0; i < ANKI_NFIELDS && rc == 0; i++) {
        if (i)
            rc = wb_buf_appendc(&a->fields, '\x1f');
        if (rc == 0)
            rc = wb_buf_append(&a->fields, a->f[i].data, a->f[i].len);
    }
    if (rc == 0)
        rc = wb_buf_appends(&a->sort, e->word);
    if (rc == 0)
        rc = make_guid(e, &a->guid);
    if (rc)
        return wb_error_set(a->err, WB_ENOMEM, "out of memory building an Anki note");
    /* A stable, even note id from the key (its cards are id and id + 1), so
     * a re-import finds the same note. */
    core_sha256(a->f[ANKI_KEY].data, a->f[ANKI_KEY].len, h);
    for (int i = 0; i < 8; i++)
        v = v << 8 | h[i];
    n.id = (int64_t)((1ULL << 40) + (v % (1ULL << 50))) & ~(int64_t)1;
    n.card_id = n.id;
    n.n_cards = ANKI_NTEMPLATES;
    n.model_id = ANKI_MODEL_ID;
    n.deck_id = a->deck_id;
    n.mod_s = a->now_s;
    n.due = (int64_t)a->n_notes + 1;
    n.guid = a->guid.data;
    n.fields = a->fields.data;
    n.sort_field = a->sort.data;
    n.tags = " wordbank ";
    a->n_notes++;
    return store_anki_add(a->anki, &n, a->err);
}

/* The note type as Anki's legacy JSON: fields, two templates, the CSS. */
static json_t *model_json(int64_t mid, int64_t did, int64_t now_s)
{
    char mids[32];
    json_t *m = json_object(), *flds = json_array(), *tmpls = json_array(), *req = json_array();
    int bad = !m || !flds || !tmpls || !req;
    snprintf(mids, sizeof mids, "%lld", (long long)mid);
    for (int i = 0; !bad && i < ANKI_NFIELDS; i++)
        bad |=
            json_array_append_new(flds, json_pack("{s:s, s:i, s:s, s:[], s:b, s:i, s:b}", "name",
                                                  anki_field_names[i], "ord", i, "font", "Arial",
                                                  "media", "rtl", 0, "size", 20, "sticky", 0)) != 0;
    for (int i = 0; !bad && i < ANKI_NTEMPLATES; i++) {
        bad |= json_array_append_new(tmpls, json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:n}", "name",
                                                      anki_templates[i].name, "ord", i, "qfmt",
                                                      anki_templates[i].qfmt, "afmt",
                                                      anki_templates[i].afmt, "bqfmt", "", "bafmt",
                                                      "", "did")) != 0;
        /* A card is made when its front's first field is non-empty. */
        bad |= json_array_append_new(req, json_pack("[i, s, [i]]", i, "any",
                                                    i == 0 ? ANKI_WORD : ANKI_TRANSLATION)) != 0;
    }
    if (!bad)
        bad = json_object_set_new(m, "css", json_string(anki_css)) ||
              json_object_set_new(m, "did", json_integer(did)) ||
              json_object_set_new(m, "flds", json_incref(flds)) ||
              json_object_set_new(m, "id", json_string(mids)) ||
              json_object_set_new(m, "latexPost", json_string("\\end{document}")) ||
              json_object_set_new(
                  m, "latexPre",
                  json_string("\\documentclass[12pt]{article}\n\\special{papersize=3in,5in}\n"
                              "\\usepackage{amssymb,amsmath}\n\\pagestyle{empty}\n"
                              "\\setlength{\\parindent}{0in}\n\\begin{document}\n")) ||
              json_object_set_new(m, "mod", json_integer(now_s)) ||
              json_object_set_new(m, "name", json_string(ANKI_MODEL_NAME)) ||
              json_object_set_new(m, "req", json_incref(req)) ||
              json_object_set_new(m, "sortf", json_integer(ANKI_WORD)) ||
              json_object_set_new(m, "tags", json_array()) ||
              json_object_set_new(m, "tmpls", json_incref(tmpls)) ||
              json_object_set_new(m, "type", json_integer(0)) ||
              json_object_set_new(m, "usn", json_integer(-1)) ||
              json_object_set_new(m, "vers", json_array());
    json_decref(flds);
    json_decref(tmpls);
    json_decref(req);
    if (bad) {
        json_decref(m);
        return NULL;
    }
    return json_pack("{s:o}", mids, m);
}

static json_t *deck_json(int64_t id, const char *name, const char *desc, int64_t mod, int usn)
{
    return json_pack("{s:b, s:i, s:s, s:i, s:i, s:i, s:I, s:[i,i], s:I, s:s, s:[i,i], s:[i,i], "
                     "s:[i,i], s:i}",
                     "collapsed", 0, "conf", 1, "desc", desc, "dyn", 0, "extendNew", 10,
                     "extendRev", 50, "id", (json_int_t)id, "lrnToday", 0, 0, "mod",
                     (json_int_t)mod, "name", name, "newToday", 0, 0, "revToday", 0, 0, "timeToday",
                     0, 0, "usn", usn);
}

/* Default, the deck and each of its parents ("A", "A::B", "A::B::C"). */
static json_t *decks_json(const char *deck, int64_t now_s)
{
    json_t *d = json_object();
    char ids[32];
    int bad = !d;
    if (!bad)
        bad = json_object_set_new(d, "1", deck_json(1, "Default", "", 0, 0)) != 0;
    for (const char *p = deck; !bad && p;) {
        const char *sep = strstr(p, "::");
        char *name = strndup(deck, sep ? (size_t)(sep - deck) : strlen(deck));
        int64_t id;
        if (!name) {
            bad = 1;
            break;
        }
        id = anki_deck_id(name);
        snprintf(ids, sizeof ids, "%lld", (long long)id);
        bad = json_object_set_new(
                  d, ids, deck_json(id, name, sep ? "" : "Made by wordbank", now_s, -1)) != 0;
        free(name);
        p = sep ? sep + 2 : NULL;
    }
    if (bad) {
        json_decref(d);
        return NULL;
    }
    return d;
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
    c = json_pack("{s:[I], s:b, s:i, s:I, s:s, s:b, s:b, s:b, s:i, s:i, s:b, s:s, s:i}",
                  "activeDecks", (json_int_t)did, "addToCur", 1, "collapseTime", 1200, "curDeck",
                  (json_int_t)did, "curModel", mids, "dueCounts", 1, "estTimes", 1, "newBury", 1,
                  "newSpread", 0, "nextPos", 1, "sortBackwards", 0, "sortType", "noteFld",
                  "timeLim", 0);
    m = model_json(mid, did, now_s);
    d = decks_json(deck, now_s);
    o = json_pack("{s:{s:b, s:i, s:{s:[i], s:i, s:i, s:i, s:i}, s:i, s:i, s:s, s:{s:b, s:[i,i], "
                  "s:i, s:[i,i,i], s:i, s:i, s:b}, s:b, s:{s:b, s:f, s:f, s:i, s:i, s:i, s:i}, "
                  "s:i, s:i}}",
                  "1", "autoplay", 1, "id", 1, "lapse", "delays", 10, "leechAction", 0,
                  "leechFails", 8, "minInt", 1, "mult", 0, "maxTaken", 60, "mod", 0, "name",
                  "Default", "new", "bury", 1, "delays", 1, 10, "initialFactor", 2500, "ints", 1, 4,
                  7, "order", 1, "perDay", 20, "separate", 1, "replayq", 1, "rev", "bury", 1,
                  "ease4", 1.3, "fuzz", 0.05, "ivlFct", 1, "maxIvl", 36500, "minSpace", 1, "perDay",
                  100, "timer", 0, "usn", 0);
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
    zip_error_t *ze = ZIP->zip_get_error(za);
    int sys = ZIP->zip_error_code_system(ze);
    return wb_error_set(err, sys == ENOSPC ? WB_ENOSPC : WB_EIO, "%s: writing the deck: %s", path,
                        ZIP->zip_error_strerror(ze));
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
    if (!(za = ZIP->zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &zerr))) {
        zip_error_t ze;
        ZIP->zip_error_init_with_code(&ze, zerr);
        rc = wb_error_set(err, WB_EIO, "%s: %s", path, ZIP->zip_error_strerror(&ze));
        ZIP->zip_error_fini(&ze);
        goto out;
    }
    if (!(src = ZIP->zip_source_file(za, coll, 0, -1)) ||
        ZIP->zip_file_add(za, "collection.anki2", src, ZIP_FL_ENC_UTF_8) < 0) {
        ZIP->zip_source_free(src);
        rc = zip_fail(za, path, err);
        goto out;
    }
    if (!(src = ZIP->zip_source_buffer(za, map.data, map.len, 0)) ||
        ZIP->zip_file_add(za, "media", src, ZIP_FL_ENC_UTF_8) < 0) {
        ZIP->zip_source_free(src);
        rc = zip_fail(za, path, err);
        goto out;
    }
    for (size_t i = 0; i < a->n_media; i++) {
        char k[32];
        zip_int64_t idx;
        snprintf(k, sizeof k, "%zu", i);
        if (!(src = media_source(za, a->media_dir, a->media[i].file)) ||
            (idx = ZIP->zip_file_add(za, k, src, ZIP_FL_ENC_UTF_8)) < 0) {
            ZIP->zip_source_free(src);
            rc = zip_fail(za, path, err);
            goto out;
        }
        ZIP->zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE,
                                      0); /* already compressed */
    }
    if (ZIP->zip_close(za) != 0) {
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
        ZIP->zip_discard(za);
    json_decref(m);
    wb_buf_release(&map);
    return rc;
}

int wb_export_apkg(struct wb_store *st, const char *media_dir, const char *path,
                   struct wb_error *err)
{
    return wb_export_apkg_deck(st, media_dir, path, NULL, err);
}

/* A deck name Anki accepts: non-empty parts around "::", no control
 * characters or quotes. */
static int deck_name_ok(const char *d)
{
    size_t n = strlen(d);
    if (n == 0 || n > 512 || strncmp(d, "::", 2) == 0 || (n >= 2 && !strcmp(d + n - 2, "::")) ||
        strstr(d, "::::") != NULL || strchr(d, '"') != NULL)
        return 0;
    for (const unsigned char *p = (const unsigned char *)d; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

int wb_export_apkg_deck(struct wb_store *st, const char *media_dir, const char *path,
                        const char *deck_arg, struct wb_error *err)
{
    struct apkg a = { .media_dir = media_dir, .err = err };
    struct store_anki_col col = { 0 };
    char *conf = NULL, *models = NULL, *decks = NULL, *dconf = NULL, *deck = NULL, *coll = NULL;
    struct timespec ts;
    int rc, fd;
    wb_buf_init(&a.fields, 0);
    wb_buf_init(&a.sort, 0);
    wb_buf_init(&a.guid, 0);
    for (int i = 0; i < ANKI_NFIELDS; i++)
        wb_buf_init(&a.f[i], 0);
    if (deck_arg && !deck_name_ok(deck_arg)) {
        rc = wb_error_set(err, WB_EINVAL,
                          "bad deck name \"%s\" (non-empty parts joined by ::, no quotes)",
                          deck_arg);
        goto out;
    }
    if (!path || !*path || strcmp(path, "-") == 0) {
        rc = wb_error_set(err, WB_EINVAL, "an Anki deck needs an output file (not stdout)");
        goto out;
    }
    /* The libraries first: a missing one stops before any work, with the
     * loader's reason. */
    if ((rc = core_crypto_load(err)) < 0 || (rc = core_dl_need(&zip_once, zip_load, NULL, err)) < 0)
        goto out;
    clock_gettime(CLOCK_REALTIME, &ts);
    a.now_s = ts.tv_sec;
    a.base_id = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    if (!(deck = deck_arg ? strdup(deck_arg) : deck_name(path)) ||
        !(coll = malloc(strlen(path) + 32))) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    /* A stable deck id from its name: re-importing a deck updates it. */
    a.deck_id = anki_deck_id(deck);
    if ((rc = col_json(ANKI_MODEL_ID, a.deck_id, deck, a.now_s, &conf, &models, &decks, &dconf))) {
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
        free(a.media[i].file);
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
    for (int i = 0; i < ANKI_NFIELDS; i++)
        wb_buf_release(&a.f[i]);
    return rc;
}
