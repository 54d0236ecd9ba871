/* Importing the original wordbank.jsonl format: a streaming line reader with
 * a length cap, a validator that turns each object into an entry or a
 * "FILE:LINE: reason" diagnostic, and the merge into the store (fields a line
 * lacks keep their stored values), one transaction per batch of lines and a
 * savepoint per line, so a bad line never leaves anything half-written.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "export/export_internal.h"

#define DIAGS_CAP (64 * 1024)
#define UNKNOWN_MAX 16
#define READ_CHUNK (64 * 1024)

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
};

static const char *const known_keys[] = { "word",        "en_translation",    "language_code",
                                          "examples",    "description",       "image_description",
                                          "image_file",  "audio_file" };

void wb_import_report_init(struct wb_import_report *r)
{
    memset(r, 0, sizeof *r);
    wb_buf_init(&r->diags, DIAGS_CAP);
}

void wb_import_report_release(struct wb_import_report *r)
{
    wb_buf_release(&r->diags);
    memset(r, 0, sizeof *r);
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

/* A media stage from "image_file"/"audio_file": done with that file unless
 * the store already says exactly that (then its provenance is kept). */
static int merge_file_stage(struct wb_entry *e, enum wb_stage s, const char *file)
{
    struct wb_stage_info *si = &e->stages[s];
    if (!file || !*file || (si->state == WB_STATE_DONE && same(si->file, file)))
        return 0;
    wb_stage_info_release(si);
    si->state = WB_STATE_DONE;
    if (!(si->file = strdup(file)) || !(si->provider = strdup("import")))
        return WB_ENOMEM;
    return 0;
}

/* Validate one parsed line: the key (language defaulted) and every known
 * field's type. reason gets the diagnostic on -WB_EPARSE. */
static int check_line(json_t *obj, const char *lang, char *reason, size_t cap, const char **word,
                      const char **tr, const char **lng)
{
    static const char *const str_keys[] = { "description", "image_description", "image_file",
                                            "audio_file" };
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
            return snprintf(reason, cap, "\"%s\" is not a string or null", str_keys[i]),
                   WB_EPARSE;
    }
    ex = json_object_get(obj, "examples");
    if (ex && !json_is_null(ex)) {
        if (!json_is_array(ex))
            return snprintf(reason, cap, "\"examples\" is not a list of strings"), WB_EPARSE;
        for (size_t i = 0; i < json_array_size(ex); i++) {
            if (!json_is_string(json_array_get(ex, i)))
                return snprintf(reason, cap, "\"examples\"[%zu] is not a string", i), WB_EPARSE;
        }
    }
    return 0;
}

/* Merge a validated line into e (the stored entry, or a fresh one holding
 * just the key). */
static int merge_line(json_t *obj, struct wb_entry *e)
{
    const char *desc = NULL, *idesc = NULL, *img = NULL, *aud = NULL;
    json_t *ex = json_object_get(obj, "examples");
    int has_desc = get_str(obj, "description", &desc) > 0;
    int has_idesc = get_str(obj, "image_description", &idesc) > 0;
    int has_ex = json_is_array(ex);
    int changed = 0, rc;
    get_str(obj, "image_file", &img);
    get_str(obj, "audio_file", &aud);
    if (has_desc && !same(e->description, desc)) {
        changed = 1;
        if ((rc = wb_str_set(&e->description, desc)))
            return rc;
    }
    if (has_idesc && !same(e->image_description, idesc)) {
        changed = 1;
        if ((rc = wb_str_set(&e->image_description, idesc)))
            return rc;
    }
    if (has_ex) {
        struct wb_entry t; /* new examples; a translation is kept where the text is unchanged */
        size_t n = json_array_size(ex);
        wb_entry_init(&t);
        changed |= n != e->n_examples;
        for (size_t i = 0; i < n; i++) {
            const char *text = json_string_value(json_array_get(ex, i));
            int kept = i < e->n_examples && same(e->examples[i].text, text);
            changed |= !kept;
            if ((rc = wb_entry_add_example(&t, text, kept ? e->examples[i].translation : NULL))) {
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
    if ((rc = merge_file_stage(e, WB_STAGE_IMAGE, img)) ||
        (rc = merge_file_stage(e, WB_STAGE_AUDIO, aud)))
        return rc;
    return 0;
}

/* Fatal (store) errors end the import; anything else fails only the line. */
static int is_fatal(int rc)
{
    return rc == WB_ENOMEM || rc == WB_EIO || rc == WB_ECORRUPT || rc == WB_ELOCKED ||
           rc == WB_ENOSPC || rc == WB_EINTERNAL;
}

static int import_line(struct import *im, const char *line, size_t len, struct wb_error *err)
{
    struct wb_entry e;
    json_error_t jerr;
    json_t *obj = NULL;
    const char *word = NULL, *tr = NULL, *lang = NULL, *key;
    char reason[512];
    int rc = 0, existed = 0;
    json_t *v;
    wb_entry_init(&e);
    if (memchr(line, 0, len)) {
        diag(im, 0, "%s:%zu: the line contains a NUL byte", im->name, im->line_no);
        goto failed;
    }
    if (!(obj = json_loadb(line, len, 0, &jerr))) {
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
        if ((rc = wb_str_set(&e.word, word)) || (rc = wb_str_set(&e.translation, tr)) ||
            (rc = wb_str_set(&e.language, lang)))
            goto out;
    } else {
        goto out;
    }
    if ((rc = merge_line(obj, &e)))
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

int wb_import_jsonl_stream(struct wb_store *st, FILE *in, const char *name,
                           const struct wb_import_opts *o, struct wb_import_report *rep,
                           struct wb_error *err)
{
    struct import im = { .st = st, .name = name ? name : "<input>", .o = o, .rep = rep };
    size_t batch = o && o->batch ? o->batch : 1000, in_batch = 0;
    int own_batch = !wb_store_in_batch(st), rc = 0, too_long, got;
    struct reader rd = { .in = in };
    struct wb_buf line;
    wb_buf_init(&line, WB_IMPORT_MAX_LINE);
    if (!(rd.block = malloc(READ_CHUNK)))
        return wb_error_set(err, WB_ENOMEM, "%s: out of memory", im.name);
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
    for (size_t i = 0; i < im.n_unknown; i++)
        free(im.unknown[i]);
    wb_buf_release(&line);
    free(rd.block);
    return rc;
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
    rc = wb_import_jsonl_stream(st, in, path, o, rep, err);
    fclose(in);
    return rc;
}
