/* Exporting the word bank as the original JSONL format or as CSV, through an
 * output file that is written beside its target, fsynced and renamed over it
 * only once complete: an export that fails (disk full, store error) leaves
 * the previous file, or none, never half a file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "export/export_internal.h"

int export_out_open(struct export_out *o, const char *path, struct wb_error *err)
{
    int fd;
    memset(o, 0, sizeof *o);
    if (!path || !*path)
        return wb_error_set(err, WB_EINVAL, "no output path given");
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->path = strdup("<stdout>");
        return o->path ? 0 : wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    o->path = strdup(path);
    o->tmp = malloc(strlen(path) + 16);
    if (!o->path || !o->tmp) {
        export_out_abort(o);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    sprintf(o->tmp, "%s.tmp.XXXXXX", path);
    if ((fd = mkstemp(o->tmp)) < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        export_out_abort(o);
        return wb_error_set(err, e == ENOSPC ? WB_ENOSPC : WB_EIO, "%s: %s", path, strerror(e));
    }
    fchmod(fd, 0644);
    if (!(o->f = fdopen(fd, "w"))) {
        close(fd);
        export_out_abort(o);
        return wb_error_set(err, WB_EIO, "%s: %s", path, strerror(errno));
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
    int rc = 0;
    if (fflush(o->f) != 0 || ferror(o->f)) {
        rc = io_fail(o, errno, err);
        goto out;
    }
    if (!o->tmp)
        goto out; /* stdout */
    if (fsync(fileno(o->f)) != 0) {
        rc = io_fail(o, errno, err);
        goto out;
    }
    if (fclose(o->f) != 0) {
        o->f = NULL;
        rc = io_fail(o, errno, err);
        goto out;
    }
    o->f = NULL;
    if (rename(o->tmp, o->path) != 0) {
        rc = wb_error_set(err, WB_EIO, "%s: renaming into place: %s", o->path, strerror(errno));
        goto out;
    }
    free(o->tmp);
    o->tmp = NULL;
out:
    export_out_abort(o);
    return rc;
}

void export_out_abort(struct export_out *o)
{
    if (o->f && o->f != stdout)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    free(o->tmp);
    free(o->path);
    memset(o, 0, sizeof *o);
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
        rc = wb_buf_appendf(&ex, "%s%s", i ? "\n" : "", e->examples[i].text ? e->examples[i].text
                                                                          : "");
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
