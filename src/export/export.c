/* Exporting the word bank as the original JSONL format or as CSV, through an
 * output file that is written beside its target, fsynced and renamed over it
 * only once complete (core_atomic_*): an export that fails (disk full, store
 * error) leaves the previous file, or none, never half a file.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "export/export_internal.h"
#include "wordbank/log.h"
#include "wordbank/media.h"

int export_out_open(struct export_out *o, const char *path, struct wb_error *err)
{
    int fd, rc;
    memset(o, 0, sizeof *o);
    o->at.fd = -1;
    if (!path || !*path)
        return wb_error_set(err, WB_EINVAL, "no output path given");
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->path = "<stdout>";
        return 0;
    }
    if ((rc = core_atomic_open(&o->at, path, err)))
        return rc;
    o->path = o->at.path;
    /* A stdio stream of its own over the temp file, for buffered writes. */
    if ((fd = dup(o->at.fd)) < 0 || !(o->f = fdopen(fd, "w"))) {
        rc = wb_error_set(err, WB_EIO, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        export_out_abort(o);
        return rc;
    }
    return 0;
}

static int io_fail(struct export_out *o, int e, struct wb_error *err)
{
    return wb_error_set(err, e == ENOSPC || e == EDQUOT || e == EFBIG ? WB_ENOSPC : WB_EIO,
                        "%s: writing: %s", o->path, strerror(e ? e : EIO));
}

int export_out_write(struct export_out *o, const void *p, size_t n, struct wb_error *err)
{
    if (n && fwrite(p, 1, n, o->f) != n)
        return io_fail(o, errno, err);
    return 0;
}

int export_out_commit(struct export_out *o, struct wb_error *err)
{
    FILE *f = o->f;
    int rc = 0;

    o->f = NULL;
    if (f == stdout)
        return fflush(f) != 0 || ferror(f) ? io_fail(o, errno, err) : 0;
    if (fflush(f) != 0 || ferror(f)) {
        rc = io_fail(o, errno, err);
        fclose(f);
    } else if (fclose(f) != 0) {
        rc = io_fail(o, errno, err);
    }
    if (rc) {
        export_out_abort(o);
        return rc;
    }
    rc = core_atomic_commit(&o->at, err); /* releases o->at either way */
    o->path = NULL;
    return rc;
}

void export_out_abort(struct export_out *o)
{
    if (o->f && o->f != stdout)
        fclose(o->f);
    o->f = NULL;
    o->path = NULL;
    if (o->at.path) /* opened and neither committed nor abandoned yet */
        core_atomic_abort(&o->at);
}

struct walk {
    struct export_out out;
    struct wb_buf line;
    struct wb_error *err;
    int csv;
};

/* RFC 4180: quoted when it holds a comma, quote, CR or LF; quotes doubled.
 * A cell a spreadsheet would run as a formula (it begins with =, +, -, @, a
 * tab or a CR) gets a leading ' (the usual CSV-injection rule). */
static int csv_field(struct wb_buf *b, const char *s, int last)
{
    int rc = 0, formula;
    if (!s)
        s = "";
    formula = s[0] && strchr("=+-@\t\r", s[0]) != NULL;
    if (strpbrk(s, ",\"\r\n")) {
        rc = wb_buf_appendc(b, '"');
        if (rc == 0 && formula)
            rc = wb_buf_appendc(b, '\'');
        for (const char *p = s; rc == 0 && *p; p++)
            rc = *p == '"' ? wb_buf_append(b, "\"\"", 2) : wb_buf_appendc(b, *p);
        if (rc == 0)
            rc = wb_buf_appendc(b, '"');
    } else {
        if (formula)
            rc = wb_buf_appendc(b, '\'');
        if (rc == 0)
            rc = wb_buf_appends(b, s);
    }
    if (rc == 0)
        rc = last ? wb_buf_append(b, "\r\n", 2) : wb_buf_appendc(b, ',');
    return rc;
}

static int csv_row(const struct wb_entry *e, struct wb_buf *b)
{
    struct wb_buf ex;
    int rc = 0;
    wb_buf_init(&ex, 0);
    for (size_t i = 0; rc == 0 && i < e->n_examples; i++)
        rc = wb_buf_appendf(&ex, "%s%s", i ? "\n" : "",
                            e->examples[i].text ? e->examples[i].text : "");
    if (rc == 0 && !(rc = csv_field(b, e->word, 0)) && !(rc = csv_field(b, e->translation, 0)) &&
        !(rc = csv_field(b, e->language, 0)) && !(rc = csv_field(b, e->reading, 0)) &&
        !(rc = csv_field(b, e->context, 0)) && !(rc = csv_field(b, e->description, 0)) &&
        !(rc = csv_field(b, ex.data, 0)) && !(rc = csv_field(b, e->image_description, 0)) &&
        !(rc = csv_field(b, export_stage_file(e, WB_STAGE_IMAGE), 0)))
        rc = csv_field(b, export_stage_file(e, WB_STAGE_AUDIO), 1);
    wb_buf_release(&ex);
    return rc;
}

static int walk_fn(void *ud, const struct wb_entry *e)
{
    struct walk *w = ud;
    int rc;
    wb_buf_reset(&w->line);
    rc = w->csv ? csv_row(e, &w->line) : wb_entry_to_jsonl(e, &w->line);
    if (rc)
        return wb_error_set(w->err, rc, "%s: %s / %s: %s", w->out.path, e->word, e->translation,
                            wb_strerror(rc));
    return export_out_write(&w->out, w->line.data, w->line.len, w->err);
}

static int export_walk(struct wb_store *st, const char *path, const struct wb_store_query *q,
                       int csv, struct wb_error *err)
{
    struct walk w = { .err = err, .csv = csv };
    static const char header[] = "word,translation,language,reading,context,description,examples,"
                                 "image_description,image_file,audio_file\r\n";
    int rc;
    wb_buf_init(&w.line, 0);
    if ((rc = export_out_open(&w.out, path, err)))
        goto out;
    if (csv && (rc = export_out_write(&w.out, header, sizeof header - 1, err)))
        goto out;
    if ((rc = wb_store_each(st, q, walk_fn, &w, err)))
        goto out;
    rc = export_out_commit(&w.out, err);
out:
    export_out_abort(&w.out);
    wb_buf_release(&w.line);
    return rc;
}

int wb_export_jsonl(struct wb_store *st, const char *path, const struct wb_store_query *q,
                    struct wb_error *err)
{
    return export_walk(st, path, q, 0, err);
}

int wb_export_csv(struct wb_store *st, const char *path, const struct wb_store_query *q,
                  struct wb_error *err)
{
    return export_walk(st, path, q, 1, err);
}

/* ---- the lossless JSONL export ---- */

struct full {
    struct wb_entry *v;
    size_t n, cap;
};

static int collect(void *ud, const struct wb_entry *e)
{
    struct full *f = ud;
    int rc = CORE_ARRAY_RESERVE(f->v, f->n, f->cap, 1, 0);
    if (rc)
        return rc;
    wb_entry_init(&f->v[f->n]);
    if (wb_entry_copy(&f->v[f->n], e) != 0) {
        wb_entry_release(&f->v[f->n]);
        return WB_ENOMEM;
    }
    f->n++;
    return 0;
}

static int key_cmp(const void *a, const void *b)
{
    const struct wb_entry *x = a, *y = b;
    int c = strcmp(x->word, y->word);
    if (!c)
        c = strcmp(x->translation, y->translation);
    return c ? c : strcmp(x->language, y->language);
}

/* How media is named in the export: in place under prefix (media_dir is
 * inside the output's folder), or copied into copy_dir. */
struct media_plan {
    const char *media_dir;
    char *prefix;   /* "" or "media" ...: media_dir relative to the output's folder */
    char *copy_dir; /* NULL when in place */
};

static int plan_media(struct media_plan *mp, const char *media_dir, const char *path,
                      struct wb_error *err)
{
    const char *slash = strcmp(path, "-") ? strrchr(path, '/') : NULL;
    char *dir = slash ? strndup(path, (size_t)(slash - path) + (slash == path)) : strdup(".");
    char *out_real = dir ? realpath(dir, NULL) : NULL;
    int e = errno;
    char *m_real = realpath(media_dir, NULL);
    size_t ol;
    int rc = 0;
    memset(mp, 0, sizeof mp[0]);
    mp->media_dir = media_dir;
    if (!out_real) {
        rc = wb_error_set(err, dir ? WB_EIO : WB_ENOMEM, "%s: its folder %s: %s", path,
                          dir ? dir : "", strerror(e));
        goto out;
    }
    ol = strlen(out_real);
    if (m_real && strcmp(m_real, out_real) == 0) {
        mp->prefix = strdup("");
    } else if (m_real && strncmp(m_real, out_real, ol) == 0 && (ol == 1 || m_real[ol] == '/')) {
        mp->prefix = strdup(m_real + ol + (ol == 1 ? 0 : 1));
    } else if (!strcmp(path, "-")) {
        /* Standard output: no files are written beside it; the names are
         * the store's own (relative to the media directory). */
        mp->prefix = strdup("");
    } else {
        mp->prefix = strdup("media");
        if (mp->prefix && (mp->copy_dir = malloc(ol + 8)))
            sprintf(mp->copy_dir, "%s/media", out_real);
        else
            rc = WB_ENOMEM;
    }
    if (!mp->prefix)
        rc = WB_ENOMEM;
    if (rc == WB_ENOMEM)
        wb_error_set(err, rc, "out of memory");
out:
    free(dir);
    free(out_real);
    free(m_real);
    return rc;
}

/* The name of e's stage file in the export (in *b), or 0 with b empty when
 * there is none or it cannot be read as a valid store file. */
static int media_for(struct media_plan *mp, const struct wb_entry *e, enum wb_stage s,
                     struct wb_buf *b, struct wb_error *err)
{
    const char *file = export_stage_file(e, s);
    struct wb_error lerr = { 0 };
    struct wb_buf tmp;
    int rc;
    wb_buf_reset(b);
    if (!file)
        return 0;
    if (mp->copy_dir) {
        rc = wb_media_copy(mp->media_dir, file, mp->copy_dir, &lerr);
    } else {
        wb_buf_init(&tmp, 0);
        rc = wb_media_read(mp->media_dir, file, &tmp, &lerr);
        wb_buf_release(&tmp);
    }
    if (rc == WB_ENOSPC || rc == WB_ENOMEM)
        return wb_error_set(err, rc, "%s", wb_error_text(&lerr));
    if (rc) {
        wb_log(WB_LOG_WARN, "%s / %s: %s left out of the export: %s", e->word, e->translation,
               wb_stage_name(s), wb_error_text(&lerr));
        return 0;
    }
    if (*mp->prefix ? wb_buf_appendf(b, "%s/%s", mp->prefix, file) : wb_buf_appends(b, file))
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    return 0;
}

int wb_export_jsonl_full(struct wb_store *st, const char *media_dir, const char *path,
                         const struct wb_store_query *q, struct wb_error *err)
{
    struct export_out out = { 0 };
    struct media_plan mp = { 0 };
    struct full f = { 0 };
    struct wb_buf line, img, aud;
    int rc;
    wb_buf_init(&line, 0);
    wb_buf_init(&img, 0);
    wb_buf_init(&aud, 0);
    if ((rc = wb_store_each(st, q, collect, &f, err))) {
        if (rc == WB_ENOMEM && err && !err->code)
            wb_error_set(err, rc, "out of memory");
        goto out;
    }
    qsort(f.v, f.n, sizeof *f.v, key_cmp);
    if (media_dir && (rc = plan_media(&mp, media_dir, path, err)))
        goto out;
    if ((rc = export_out_open(&out, path, err)))
        goto out;
    for (size_t i = 0; i < f.n; i++) {
        const char *files[WB_STAGE_COUNT] = { NULL };
        const struct wb_entry *e = &f.v[i];
        if (media_dir) {
            if ((rc = media_for(&mp, e, WB_STAGE_IMAGE, &img, err)) ||
                (rc = media_for(&mp, e, WB_STAGE_AUDIO, &aud, err)))
                goto out;
            files[WB_STAGE_IMAGE] = img.len ? img.data : NULL;
            files[WB_STAGE_AUDIO] = aud.len ? aud.data : NULL;
        }
        wb_buf_reset(&line);
        if ((rc = export_entry_full(e, files, &line))) {
            wb_error_set(err, rc, "%s: %s / %s: %s", out.path, e->word, e->translation,
                         wb_strerror(rc));
            goto out;
        }
        if ((rc = export_out_write(&out, line.data, line.len, err)))
            goto out;
    }
    rc = export_out_commit(&out, err);
out:
    export_out_abort(&out);
    for (size_t i = 0; i < f.n; i++)
        wb_entry_release(&f.v[i]);
    free(f.v);
    free(mp.prefix);
    free(mp.copy_dir);
    wb_buf_release(&line);
    wb_buf_release(&img);
    wb_buf_release(&aud);
    return rc;
}
