/* Importing the original wordbank.jsonl format: a streaming line reader with
 * a length cap, a validator that turns each object into an entry or a
 * "FILE:LINE: reason" diagnostic, and the merge into the store (fields a line
 * lacks keep their stored values), one transaction per batch of lines and a
 * savepoint per line, so a bad line never leaves anything half-written.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sized.h"
#include "core/util.h"
#include "export/export_internal.h"
#include "wordbank/media.h"

#define DIAGS_CAP   (64 * 1024)
#define UNKNOWN_MAX 16
#define READ_CHUNK  (64 * 1024)

struct import {
    struct wb_store *st;
    const char *name;
    const struct wb_import_opts *o;
    struct wb_import_report *rep;
    const char *lang;
    size_t line_no;
    /* Unknown keys, reported once at the end. */
    char *unknown[UNKNOWN_MAX];
    size_t n_unknown, unknown_more, unknown_first_line;
    /* Counts of the open batch, added to the report when it commits. */
    size_t pend_imported, pend_updated;
    /* Media: the store, the JSONL file's folder (real path) that
     * image_file/audio_file are relative to, and the content/ folders the
     * original's names are looked up in (real paths, NULL when absent). */
    const char *media_dir;
    char *file_root;
    char *content_roots[2];
    size_t missing_first_line;
};

static const char *const known_keys[] = {
    "word",        "en_translation",    "language_code",        "examples",
    "description", "image_description", "image_file",           "audio_file",
    "context",     "reading",           "example_translations", "stages",
    "pitch_accent"
};

void wb_import_opts_init(struct wb_import_opts *o)
{
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
}

void wb_import_report_init(struct wb_import_report *r)
{
    memset(r, 0, sizeof *r);
    r->size = sizeof *r;
    wb_buf_init(&r->diags, DIAGS_CAP);
}

void wb_import_report_release(struct wb_import_report *r)
{
    size_t size = r->size;
    wb_buf_release(&r->diags);
    memset(r, 0, sizeof *r);
    r->size = size; /* ready for wb_import_report_init or another import */
}

static void diag(struct import *im, int warning, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void diag(struct import *im, int warning, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (im->o && im->o->on_diag)
        im->o->on_diag(im->o->ud, warning, msg);
    if (wb_buf_appendf(&im->rep->diags, "%s\n", msg) != 0)
        im->rep->diags_dropped++;
}

static void note_unknown(struct import *im, const char *key)
{
    for (size_t i = 0; i < im->n_unknown; i++) {
        if (strcmp(im->unknown[i], key) == 0)
            return;
    }
    if (!im->unknown_first_line)
        im->unknown_first_line = im->line_no;
    if (im->n_unknown < UNKNOWN_MAX && (im->unknown[im->n_unknown] = strndup(key, 64)))
        im->n_unknown++;
    else
        im->unknown_more = 1;
}

/* A string field: 1 present (in *out), 0 absent or null, -1 wrong type. */
static int get_str(json_t *obj, const char *key, const char **out)
{
    json_t *v = json_object_get(obj, key);
    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v))
        return -1;
    *out = json_string_value(v);
    return 1;
}

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Fatal (store) errors end the import; anything else fails only the line. */
static int is_fatal(int rc)
{
    return rc == WB_ENOMEM || rc == WB_EIO || rc == WB_ECORRUPT || rc == WB_ELOCKED ||
           rc == WB_ENOSPC || rc == WB_EINTERNAL;
}

static int is_image_ext(const char *ext)
{
    return !strcmp(ext, "jpg") || !strcmp(ext, "png") || !strcmp(ext, "webp");
}

/* rel resolved under root (a real path): 0 with the real path in *out,
 * WB_ENOTFOUND when nothing is there, WB_EINVAL (refused, reason set) when
 * rel is absolute, climbs out with "..", or resolves outside root. */
static int resolve_under(const char *root, const char *rel, char **out, char *reason, size_t cap)
{
    struct wb_buf p;
    size_t depth = 0, rl = strlen(root);
    char *real;
    *out = NULL;
    if (rel[0] == '/')
        return snprintf(reason, cap, "an absolute path is not allowed"), WB_EINVAL;
    for (const char *c = rel; *c;) {
        size_t n = strcspn(c, "/");
        if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (depth == 0)
                return snprintf(reason, cap, "climbs out of %s with \"..\"", root), WB_EINVAL;
            depth--;
        } else if (n && !(n == 1 && c[0] == '.')) {
            depth++;
        }
        c += n;
        while (*c == '/')
            c++;
    }
    wb_buf_init(&p, 0);
    if (core_path_join(&p, root, rel) < 0) {
        wb_buf_release(&p);
        return snprintf(reason, cap, "out of memory"), WB_ENOMEM;
    }
    real = realpath(p.data, NULL);
    wb_buf_release(&p);
    if (!real) {
        if (errno == ENOENT || errno == ENOTDIR)
            return WB_ENOTFOUND;
        return snprintf(reason, cap, "%s", strerror(errno)), WB_EINVAL;
    }
    if (!(rl == 1 || (strncmp(real, root, rl) == 0 && real[rl] == '/'))) {
        snprintf(reason, cap, "resolves outside %s (through a symbolic link, to %s)", root, real);
        free(real);
        return WB_EINVAL;
    }
    *out = real;
    return 0;
}

/* Bring the file rel under root into the media store as the stage's media.
 * 0 with the store name in *name; WB_ENOTFOUND; WB_EINVAL/WB_EMEDIA/... a
 * refusal with reason set; a fatal code (the store's disk) with err set. */
static int bring_file(struct import *im, enum wb_stage s, const char *root, const char *rel,
                      char **name, char *reason, size_t cap, struct wb_error *err)
{
    struct wb_error lerr = { 0 };
    struct wb_buf data;
    const char *ext;
    char *real = NULL;
    int rc;
    *name = NULL;
    if ((rc = resolve_under(root, rel, &real, reason, cap)))
        return rc;
    wb_buf_init(&data, 0);
    /* The real path has no symbolic link left: refuse one that appeared since. */
    if ((rc = wb_media_load(real, 0, &data, &lerr))) {
        snprintf(reason, cap, "%s", wb_error_text(&lerr));
        goto out;
    }
    ext = wb_media_sniff_ext(data.data, data.len);
    if (is_image_ext(ext) != (s == WB_STAGE_IMAGE)) {
        snprintf(reason, cap, "%s holds %s data, not %s", real, ext,
                 s == WB_STAGE_IMAGE ? "a picture" : "a sound");
        rc = WB_EMEDIA;
        goto out;
    }
    if ((rc = wb_media_write(im->media_dir, data.data, data.len, name, err)) && !is_fatal(rc)) {
        snprintf(reason, cap, "%s", wb_error_text(err));
        rc = WB_EMEDIA;
    }
out:
    wb_buf_release(&data);
    free(real);
    return rc;
}

/* The stage done with the store file name (provenance kept when the store
 * already says exactly that). */
static int set_media_stage(struct wb_entry *e, enum wb_stage s, const char *name)
{
    struct wb_stage_info *si = &e->stages[s];
    if (si->state == WB_STATE_DONE && same(si->file, name))
        return 0;
    wb_stage_info_release(si);
    si->state = WB_STATE_DONE;
    if (!(si->file = strdup(name)) || !(si->provider = strdup("import")))
        return WB_ENOMEM;
    return 0;
}

/* The line's picture and clip: its image_file/audio_file, or the original's
 * names for a stage not done yet. *brought gets a bit per stage copied. */
static int import_media(struct import *im, json_t *obj, struct wb_entry *e, unsigned *brought,
                        struct wb_error *err)
{
    *brought = 0;
    for (int s = WB_STAGE_IMAGE; s <= WB_STAGE_AUDIO; s++) {
        const char *key = s == WB_STAGE_IMAGE ? "image_file" : "audio_file";
        json_t *v = json_object_get(obj, key);
        char reason[1024], rel[64], *name = NULL;
        int rc = WB_ENOTFOUND, named = json_is_string(v) && json_string_length(v) > 0;
        if (named) {
            const char *path = json_string_value(v);
            if (strlen(path) != json_string_length(v)) {
                snprintf(reason, sizeof reason, "contains a NUL character");
                rc = WB_EINVAL;
            } else {
                rc = bring_file(im, (enum wb_stage)s, im->file_root, path, &name, reason,
                                sizeof reason, err);
            }
        } else if (e->stages[s].state != WB_STATE_DONE &&
                   (im->content_roots[0] || im->content_roots[1])) {
            struct wb_buf k;
            char hex[33];
            wb_buf_init(&k, 0);
            if (wb_buf_appendf(&k, "%s:%s", e->word, e->translation) < 0) {
                wb_buf_release(&k);
                return wb_error_set(err, WB_ENOMEM, "out of memory");
            }
            int hashed = core_md5_hex(k.data, k.len, hex);
            wb_buf_release(&k);
            if (hashed < 0)
                return core_crypto_load(err); /* the reason */
            snprintf(rel, sizeof rel,
                     s == WB_STAGE_IMAGE ? "images/wordbank/%.12s.jpg" : "audio/wordbank/%.12s.aac",
                     hex);
            for (int r = 0; r < 2 && rc == WB_ENOTFOUND; r++) {
                if (im->content_roots[r])
                    rc = bring_file(im, (enum wb_stage)s, im->content_roots[r], rel, &name, reason,
                                    sizeof reason, err);
            }
        } else {
            continue;
        }
        if (rc == 0) {
            rc = set_media_stage(e, (enum wb_stage)s, name);
            free(name);
            if (rc)
                return wb_error_set(err, rc, "out of memory");
            im->rep->media_copied++;
            *brought |= 1u << s;
        } else if (is_fatal(rc)) {
            return rc;
        } else if (rc == WB_ENOTFOUND) {
            if (e->stages[s].state == WB_STATE_DONE)
                continue;
            im->rep->media_missing++;
            if (named) {
                diag(im, 1, "%s:%zu: warning: %s \"%s\" not found in %s; the %s stays missing",
                     im->name, im->line_no, key, json_string_value(v), im->file_root,
                     s == WB_STAGE_IMAGE ? "picture" : "audio");
                im->rep->warnings++;
            } else if (!im->missing_first_line) {
                im->missing_first_line = im->line_no;
            }
        } else {
            diag(im, 0, "%s:%zu: %s %s%.200s%s refused: %s", im->name, im->line_no, key,
                 named ? "\"" : "", named ? json_string_value(v) : rel, named ? "\"" : "", reason);
            im->rep->media_refused++;
        }
    }
    return 0;
}

/* What wordbank's own export says about each stage: provenance of a stage
 * whose media was brought in (or of details), a failure with its message. */
static int apply_stages(json_t *obj, struct wb_entry *e, unsigned brought)
{
    json_t *stages = json_object_get(obj, "stages"), *v;
    const char *k;
    if (!json_is_object(stages))
        return 0;
    json_object_foreach(stages, k, v) {
        int s = wb_stage_from_name(k);
        const char *state = NULL, *str = NULL;
        struct wb_stage_info *si = &e->stages[s];
        int st;
        get_str(v, "state", &state);
        st = wb_state_from_name(state);
        if (s != WB_STAGE_DETAILS && st == WB_STATE_DONE && !(brought & (1u << s)))
            continue; /* never a media stage done with nothing behind it */
        if (s != WB_STAGE_DETAILS && st == WB_STATE_FAILED && si->state == WB_STATE_DONE)
            continue; /* a picture we have beats a failure */
        if (s == WB_STAGE_DETAILS && st == WB_STATE_DONE && si->state != WB_STATE_DONE)
            continue; /* details without any content */
        si->state = (enum wb_state)st;
        if (s == WB_STAGE_DETAILS || st == WB_STATE_FAILED) {
            free(si->file);
            si->file = NULL;
        }
        if (core_str_set(&si->provider, get_str(v, "provider", &str) > 0 ? str : NULL) ||
            core_str_set(&si->model, get_str(v, "model", &str) > 0 ? str : NULL) ||
            core_str_set(&si->voice, get_str(v, "voice", &str) > 0 ? str : NULL) ||
            core_str_set(&si->error, get_str(v, "error", &str) > 0 ? str : NULL))
            return WB_ENOMEM;
        si->tokens_in = json_integer_value(json_object_get(v, "tokens_in"));
        si->tokens_out = json_integer_value(json_object_get(v, "tokens_out"));
    }
    return 0;
}

/* Validate one parsed line: the key (language defaulted) and every known
 * field's type. reason gets the diagnostic on -WB_EPARSE. */
static int check_line(json_t *obj, const char *lang, char *reason, size_t cap, const char **word,
                      const char **tr, const char **lng)
{
    static const char *const str_keys[] = { "description", "image_description", "image_file",
                                            "audio_file",  "context",           "reading" };
    static const char *const text_keys[] = { "word",        "en_translation",    "language_code",
                                             "description", "image_description", "context",
                                             "reading" };
    const char *dummy;
    json_t *ex;
    if (!json_is_object(obj))
        return snprintf(reason, cap, "not a JSON object"), WB_EPARSE;
    if (get_str(obj, "word", word) <= 0 || !**word)
        return snprintf(reason, cap, "\"word\" is missing, empty or not a string"), WB_EPARSE;
    if (get_str(obj, "en_translation", tr) <= 0 || !**tr)
        return snprintf(reason, cap, "\"en_translation\" is missing, empty or not a string"),
               WB_EPARSE;
    switch (get_str(obj, "language_code", lng)) {
    case -1:
        return snprintf(reason, cap, "\"language_code\" is not a string"), WB_EPARSE;
    case 0:
        *lng = lang;
        break;
    default:
        if (!**lng)
            *lng = lang;
    }
    for (size_t i = 0; i < sizeof str_keys / sizeof str_keys[0]; i++) {
        if (get_str(obj, str_keys[i], &dummy) < 0)
            return snprintf(reason, cap, "\"%s\" is not a string or null", str_keys[i]), WB_EPARSE;
    }
    /* A NUL inside a text field would cut it short unseen: the line fails.
     * (In a media path it is refused with the path; the text still imports.) */
    for (size_t i = 0; i < sizeof text_keys / sizeof text_keys[0]; i++) {
        json_t *v = json_object_get(obj, text_keys[i]);
        if (json_is_string(v) && strlen(json_string_value(v)) != json_string_length(v))
            return snprintf(reason, cap, "\"%s\" contains a NUL character", text_keys[i]),
                   WB_EPARSE;
    }
    ex = json_object_get(obj, "examples");
    if (ex && !json_is_null(ex)) {
        if (!json_is_array(ex))
            return snprintf(reason, cap, "\"examples\" is not a list of strings"), WB_EPARSE;
        for (size_t i = 0; i < json_array_size(ex); i++) {
            json_t *v = json_array_get(ex, i);
            if (!json_is_string(v))
                return snprintf(reason, cap, "\"examples\"[%zu] is not a string", i), WB_EPARSE;
            if (strlen(json_string_value(v)) != json_string_length(v))
                return snprintf(reason, cap, "\"examples\"[%zu] contains a NUL character", i),
                       WB_EPARSE;
        }
    }
    ex = json_object_get(obj, "example_translations");
    if (ex && !json_is_null(ex)) {
        json_t *exs = json_object_get(obj, "examples");
        if (!json_is_array(ex) || !json_is_array(exs) ||
            json_array_size(ex) != json_array_size(exs))
            return snprintf(reason, cap,
                            "\"example_translations\" is not a list as long as \"examples\""),
                   WB_EPARSE;
        for (size_t i = 0; i < json_array_size(ex); i++) {
            json_t *v = json_array_get(ex, i);
            if (!json_is_null(v) &&
                (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)))
                return snprintf(reason, cap,
                                "\"example_translations\"[%zu] is not a string or null", i),
                       WB_EPARSE;
        }
    }
    ex = json_object_get(obj, "stages");
    if (ex && !json_is_null(ex)) {
        const char *k;
        json_t *v;
        if (!json_is_object(ex))
            return snprintf(reason, cap, "\"stages\" is not an object"), WB_EPARSE;
        json_object_foreach(ex, k, v) {
            static const char *const sk[] = { "state", "provider", "model", "voice", "error" };
            const char *state;
            if (wb_stage_from_name(k) < 0 || !json_is_object(v))
                return snprintf(reason, cap, "\"stages\".\"%.40s\" is not a stage", k), WB_EPARSE;
            if (get_str(v, "state", &state) <= 0 || wb_state_from_name(state) < 0)
                return snprintf(reason, cap, "\"stages\".\"%s\" has no valid \"state\"", k),
                       WB_EPARSE;
            for (size_t i = 0; i < sizeof sk / sizeof sk[0]; i++) {
                if (get_str(v, sk[i], &dummy) < 0)
                    return snprintf(reason, cap, "\"stages\".\"%s\".\"%s\" is not a string", k,
                                    sk[i]),
                           WB_EPARSE;
            }
            for (size_t i = 0; i < 2; i++) {
                json_t *t = json_object_get(v, i ? "tokens_out" : "tokens_in");
                if (t && !json_is_integer(t))
                    return snprintf(reason, cap, "\"stages\".\"%s\" has a non-integer token count",
                                    k),
                           WB_EPARSE;
            }
        }
    }
    return 0;
}

/* "pitch_accent": [1] (the lossless export's key): kept when every item is a
 * small non-negative integer, else ignored (it is derived data). */
static void merge_pitch(json_t *a, struct wb_entry *e)
{
    size_t n = json_array_size(a);
    if (!json_is_array(a) || n == 0 || n > WB_PITCH_MAX)
        return;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 64)
            return;
    }
    for (size_t i = 0; i < n; i++)
        e->pitch_accent[i] = (int)json_integer_value(json_array_get(a, i));
    e->n_pitch_accent = n;
}

/* Merge a validated line into e (the stored entry, or a fresh one holding
 * just the key). */
static int merge_line(json_t *obj, struct wb_entry *e)
{
    const char *desc = NULL, *idesc = NULL, *ctx = NULL, *rd = NULL;
    json_t *ex = json_object_get(obj, "examples");
    json_t *extr = json_object_get(obj, "example_translations");
    int has_desc = get_str(obj, "description", &desc) > 0;
    int has_idesc = get_str(obj, "image_description", &idesc) > 0;
    int has_ex = json_is_array(ex);
    int changed = 0, rc;
    if (get_str(obj, "context", &ctx) > 0 && (rc = core_str_set(&e->context, ctx)))
        return rc;
    if (get_str(obj, "reading", &rd) > 0 && (rc = core_str_set(&e->reading, rd)))
        return rc;
    merge_pitch(json_object_get(obj, "pitch_accent"), e);
    if (has_desc && !same(e->description, desc)) {
        changed = 1;
        if ((rc = core_str_set(&e->description, desc)))
            return rc;
    }
    if (has_idesc && !same(e->image_description, idesc)) {
        changed = 1;
        if ((rc = core_str_set(&e->image_description, idesc)))
            return rc;
    }
    if (has_ex) {
        struct wb_entry t; /* new examples; a translation is kept where the text is unchanged */
        size_t n = json_array_size(ex);
        wb_entry_init(&t);
        changed |= n != e->n_examples;
        for (size_t i = 0; i < n; i++) {
            const char *text = json_string_value(json_array_get(ex, i));
            const char *tr =
                json_is_array(extr) ? json_string_value(json_array_get(extr, i)) : NULL;
            int kept = i < e->n_examples && same(e->examples[i].text, text);
            changed |= !kept;
            if (!tr && kept)
                tr = e->examples[i].translation;
            if ((rc = wb_entry_add_example(&t, text, tr))) {
                wb_entry_release(&t);
                return rc;
            }
        }
        wb_entry_clear_examples(e);
        e->examples = t.examples;
        e->n_examples = t.n_examples;
    }
    /* Details are done when the line brings any; provenance moves to "import"
     * only when something actually changed (a re-import keeps "gemini"). */
    if (((has_desc && *desc) || (has_ex && json_array_size(ex) > 0)) &&
        (changed || e->stages[WB_STAGE_DETAILS].state != WB_STATE_DONE)) {
        struct wb_stage_info *si = &e->stages[WB_STAGE_DETAILS];
        wb_stage_info_release(si);
        si->state = WB_STATE_DONE;
        if (!(si->provider = strdup("import")))
            return WB_ENOMEM;
    }
    return 0;
}

static int import_line(struct import *im, const char *line, size_t len, struct wb_error *err)
{
    struct wb_entry e;
    json_error_t jerr;
    json_t *obj = NULL;
    const char *word = NULL, *tr = NULL, *lang = NULL, *key;
    char reason[512];
    int rc = 0, existed = 0;
    unsigned brought = 0;
    json_t *v;
    wb_entry_init(&e);
    if (memchr(line, 0, len)) {
        diag(im, 0, "%s:%zu: the line contains a NUL byte", im->name, im->line_no);
        goto failed;
    }
    if (!(obj = json_loadb(line, len, JSON_ALLOW_NUL, &jerr))) {
        diag(im, 0, "%s:%zu: invalid JSON: %s (column %d)", im->name, im->line_no, jerr.text,
             jerr.column);
        goto failed;
    }
    if (check_line(obj, im->lang, reason, sizeof reason, &word, &tr, &lang)) {
        diag(im, 0, "%s:%zu: %s", im->name, im->line_no, reason);
        goto failed;
    }
    /* The rules every entry passes, however it comes in. */
    if (wb_entry_check(word, tr, NULL, lang, err)) {
        diag(im, 0, "%s:%zu: %s", im->name, im->line_no, wb_error_text(err));
        wb_error_clear(err);
        goto failed;
    }
    json_object_foreach(obj, key, v) {
        size_t i = 0;
        while (i < sizeof known_keys / sizeof known_keys[0] && strcmp(key, known_keys[i]) != 0)
            i++;
        if (i == sizeof known_keys / sizeof known_keys[0])
            note_unknown(im, key);
    }
    rc = wb_store_get(im->st, word, tr, lang, &e, err);
    if (rc == 0) {
        existed = 1;
    } else if (rc == WB_ENOTFOUND) {
        if ((rc = core_str_set(&e.word, word)) || (rc = core_str_set(&e.translation, tr)) ||
            (rc = core_str_set(&e.language, lang)))
            goto out;
    } else {
        goto out;
    }
    if ((rc = merge_line(obj, &e)))
        goto out;
    if (im->media_dir && (rc = import_media(im, obj, &e, &brought, err)))
        goto out;
    if ((rc = apply_stages(obj, &e, brought)))
        goto out;
    if ((rc = wb_store_put(im->st, &e, err))) {
        if (is_fatal(rc))
            goto out;
        diag(im, 0, "%s:%zu: %s", im->name, im->line_no, wb_error_text(err));
        rc = 0;
        goto failed;
    }
    if (existed)
        im->pend_updated++;
    else
        im->pend_imported++;
    goto out;
failed:
    im->rep->failed++;
out:
    json_decref(obj);
    wb_entry_release(&e);
    return rc;
}

/* A buffered line reader: blocks of READ_CHUNK bytes, lines found with memchr. */
struct reader {
    FILE *in;
    char *block;
    size_t pos, len;
    int eof;
};

/* The next line (without its newline) into line; *too_long when it passed
 * the cap (the rest of it was skipped). 1 for a line, 0 at end, -1 on error. */
static int read_line(struct reader *r, struct wb_buf *line, int *too_long)
{
    int got = 0;
    wb_buf_reset(line);
    *too_long = 0;
    for (;;) {
        char *nl;
        size_t n;
        if (r->pos == r->len) {
            if (r->eof)
                return got;
            r->pos = 0;
            r->len = fread(r->block, 1, READ_CHUNK, r->in);
            if (r->len < READ_CHUNK) {
                if (ferror(r->in))
                    return -1;
                r->eof = 1;
            }
            if (r->len == 0)
                return got;
        }
        got = 1;
        nl = memchr(r->block + r->pos, '\n', r->len - r->pos);
        n = nl ? (size_t)(nl - (r->block + r->pos)) : r->len - r->pos;
        if (!*too_long && wb_buf_append(line, r->block + r->pos, n) != 0)
            *too_long = 1;
        r->pos += n + (nl ? 1 : 0);
        if (nl)
            return 1;
    }
}

static int commit_batch(struct import *im, struct wb_error *err)
{
    int rc = wb_store_commit(im->st, err);
    if (rc == 0) {
        im->rep->imported += im->pend_imported;
        im->rep->updated += im->pend_updated;
    }
    im->pend_imported = im->pend_updated = 0;
    return rc;
}

/* The real path of dir/sub (sub may be NULL), or NULL when it is no folder. */
static char *real_dir(const char *dir, const char *sub)
{
    struct wb_buf p;
    char *real;
    wb_buf_init(&p, 0);
    if (sub ? core_path_join(&p, dir, sub) < 0 : wb_buf_appends(&p, dir) < 0) {
        wb_buf_release(&p);
        return NULL;
    }
    real = realpath(p.data, NULL);
    wb_buf_release(&p);
    return real;
}

/* Where the media of a JSONL file in dir (NULL: the current folder) is
 * looked for. 0, or WB_ENOTFOUND for a --media-from that is no folder. */
static int media_roots(struct import *im, const char *dir, struct wb_error *err)
{
    const struct wb_import_opts *o = im->o;
    im->media_dir = o && o->media_dir && *o->media_dir ? o->media_dir : NULL;
    if (!im->media_dir)
        return 0;
    if (!(im->file_root = real_dir(dir ? dir : ".", NULL)))
        return wb_error_set(err, WB_EIO, "%s: cannot resolve its folder: %s", im->name,
                            strerror(errno));
    if (o->media_from && *o->media_from) {
        if (!(im->content_roots[0] = real_dir(o->media_from, NULL)))
            return wb_error_set(err, WB_ENOTFOUND, "%s: %s", o->media_from, strerror(errno));
        return 0;
    }
    if (dir) /* a stream has no folder of its own: only ./content */
        im->content_roots[0] = real_dir(im->file_root, "../content");
    im->content_roots[1] = real_dir("content", NULL);
    if (im->content_roots[0] && im->content_roots[1] &&
        strcmp(im->content_roots[0], im->content_roots[1]) == 0) {
        free(im->content_roots[1]);
        im->content_roots[1] = NULL;
    }
    return 0;
}

static int import_run(struct wb_store *st, FILE *in, const char *name, const char *dir,
                      const struct wb_import_opts *o, struct wb_import_report *rep,
                      struct wb_error *err);

/* The caller's options and report, by their sizes (wordbank/api.h), into the
 * library's layout; the report goes back as far as the caller's reaches. */
static int import_stream(struct wb_store *st, FILE *in, const char *name, const char *dir,
                         const struct wb_import_opts *o, struct wb_import_report *rep,
                         struct wb_error *err)
{
    struct wb_import_opts lo;
    struct wb_import_report lr;
    int rc;
    if (o && (rc = core_sized_load(&lo, sizeof lo, o,
                                   CORE_SIZED_MIN(struct wb_import_opts, default_language),
                                   "import options", err)))
        return rc;
    if ((rc = core_sized_load(&lr, sizeof lr, rep,
                              CORE_SIZED_MIN(struct wb_import_report, diags_dropped),
                              "import report", err)))
        return rc;
    rc = import_run(st, in, name, dir, o ? &lo : NULL, &lr, err);
    core_sized_store(rep, &lr, sizeof lr);
    return rc;
}

static int import_run(struct wb_store *st, FILE *in, const char *name, const char *dir,
                      const struct wb_import_opts *o, struct wb_import_report *rep,
                      struct wb_error *err)
{
    struct import im = { .st = st, .name = name ? name : "<input>", .o = o, .rep = rep };
    size_t batch = o && o->batch ? o->batch : 1000, in_batch = 0;
    int own_batch = !wb_store_in_batch(st), rc = 0, too_long, got;
    struct reader rd = { .in = in };
    struct wb_buf line;
    wb_buf_init(&line, WB_IMPORT_MAX_LINE);
    if ((rc = media_roots(&im, dir, err)) || !(rd.block = malloc(READ_CHUNK))) {
        free(im.file_root);
        free(im.content_roots[0]);
        free(im.content_roots[1]);
        return rc ? rc : wb_error_set(err, WB_ENOMEM, "%s: out of memory", im.name);
    }
    im.lang = o && o->default_language && *o->default_language ? o->default_language : "ja";
    while ((got = read_line(&rd, &line, &too_long)) > 0) {
        const char *p = line.data;
        size_t n = line.len;
        im.line_no++;
        rep->lines++;
        if (im.line_no == 1 && n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
            p += 3, n -= 3; /* a UTF-8 byte order mark */
        if (too_long) {
            diag(&im, 0, "%s:%zu: the line is longer than %d bytes", im.name, im.line_no,
                 WB_IMPORT_MAX_LINE);
            rep->failed++;
            continue;
        }
        while (n && strchr(" \t\r", p[n - 1]))
            n--;
        while (n && strchr(" \t", *p))
            p++, n--;
        if (n == 0)
            continue;
        if (own_batch && !wb_store_in_batch(st) && (rc = wb_store_begin(st, err)))
            goto out;
        if ((rc = import_line(&im, p, n, err)))
            goto out;
        if (own_batch && ++in_batch >= batch) {
            if ((rc = commit_batch(&im, err)))
                goto out;
            in_batch = 0;
        }
    }
    if (got < 0) {
        rc = wb_error_set(err, WB_EIO, "%s:%zu: reading: %s", im.name, im.line_no + 1,
                          strerror(errno));
        goto out;
    }
    if (own_batch && wb_store_in_batch(st))
        rc = commit_batch(&im, err);
    else if (!own_batch) {
        rep->imported += im.pend_imported; /* the caller's batch: counted as written */
        rep->updated += im.pend_updated;
    }
out:
    if (rc && own_batch && wb_store_in_batch(st))
        wb_store_rollback(st);
    if (im.n_unknown) {
        struct wb_buf names;
        wb_buf_init(&names, 0);
        for (size_t i = 0; i < im.n_unknown; i++)
            wb_buf_appendf(&names, "%s\"%s\"", i ? ", " : "", im.unknown[i]);
        diag(&im, 1, "%s: warning: ignored unknown keys %s%s (first on line %zu)", im.name,
             names.data, im.unknown_more ? " and more" : "", im.unknown_first_line);
        rep->warnings++;
        wb_buf_release(&names);
    }
    if (im.missing_first_line) {
        diag(&im, 1,
             "%s: warning: %zu picture%s or clip%s not found under %s%s%s (first on line %zu); "
             "those stages stay missing",
             im.name, rep->media_missing, rep->media_missing == 1 ? "" : "s",
             rep->media_missing == 1 ? "" : "s",
             im.content_roots[0] ? im.content_roots[0] : "(no content folder)",
             im.content_roots[1] ? " or " : "", im.content_roots[1] ? im.content_roots[1] : "",
             im.missing_first_line);
        rep->warnings++;
    }
    for (size_t i = 0; i < im.n_unknown; i++)
        free(im.unknown[i]);
    free(im.file_root);
    free(im.content_roots[0]);
    free(im.content_roots[1]);
    wb_buf_release(&line);
    free(rd.block);
    return rc;
}

int wb_import_jsonl_stream(struct wb_store *st, FILE *in, const char *name,
                           const struct wb_import_opts *o, struct wb_import_report *rep,
                           struct wb_error *err)
{
    return import_stream(st, in, name, NULL, o, rep, err);
}

int wb_import_jsonl(struct wb_store *st, const char *path, const struct wb_import_opts *o,
                    struct wb_import_report *rep, struct wb_error *err)
{
    FILE *in;
    int rc;
    if (!path || !*path)
        return wb_error_set(err, WB_EINVAL, "no input path given");
    if (strcmp(path, "-") == 0)
        return wb_import_jsonl_stream(st, stdin, "<stdin>", o, rep, err);
    if (!(in = fopen(path, "r")))
        return wb_error_set(err, errno == ENOENT ? WB_ENOTFOUND : WB_EIO, "%s: %s", path,
                            strerror(errno));
    {
        const char *slash = strrchr(path, '/');
        char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
        if (!dir)
            rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        else
            rc = import_stream(st, in, path, dir, o, rep, err);
        free(dir);
    }
    fclose(in);
    return rc;
}
