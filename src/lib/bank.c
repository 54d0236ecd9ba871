/* The embedding API (wordbank/bank.h): a word bank as one handle over the
 * store, the pipeline and the renderer. Thin on purpose: every call here is
 * a few calls of the lower-level public API. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "wordbank/bank.h"
#include "wordbank/file.h"

struct wb_bank {
    struct wb_store *store;
    const struct wb_config *cfg;
    struct wb_config *own_cfg; /* the private configuration when none was given */
    char *media_dir;
};

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static const char *bank_lang(const struct wb_bank *b)
{
    const char *l = wb_config_get(b->cfg, "lang");
    return l && *l ? l : "ja";
}

int wb_bank_open(const char *path, const struct wb_config *cfg, unsigned flags,
                 struct wb_bank **out, struct wb_error *err)
{
    struct wb_bank *b;
    const char *media;
    char dir[PATH_MAX];
    int rc;
    *out = NULL;
    b = calloc(1, sizeof *b);
    if (!b)
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    if (!cfg) {
        rc = wb_config_new(&b->own_cfg);
        if (rc) {
            free(b);
            return wb_error_set(err, rc, "out of memory");
        }
        cfg = b->own_cfg;
    }
    b->cfg = cfg;
    if (!path || !*path)
        path = wb_config_get(cfg, "db");
    if (!path || !*path)
        path = "wordbank.db";
    if (snprintf(dir, sizeof dir, "%s", path) >= (int)sizeof dir) {
        rc = wb_error_set(err, WB_EINVAL, "%s: path too long", path);
        goto fail;
    }
    if ((flags & WB_STORE_CREATE) && strcmp(path, ":memory:")) {
        struct stat sb;
        const char *d = dirname(dir);
        if (stat(d, &sb) != 0 && (rc = wb_mkdirs(d, err)) != 0)
            goto fail;
    }
    media = wb_config_get(cfg, "media");
    if (media && *media) {
        b->media_dir = dup_str(media);
    } else {
        struct wb_buf m;
        wb_buf_init(&m, 0);
        snprintf(dir, sizeof dir, "%s", path);
        if (wb_buf_appendf(&m, "%s/media", dirname(dir)) == 0)
            b->media_dir = wb_buf_detach(&m, NULL);
        wb_buf_release(&m);
    }
    if (!b->media_dir) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto fail;
    }
    rc = wb_store_open(path, flags, &b->store, err);
    if (rc)
        goto fail;
    *out = b;
    return 0;
fail:
    wb_bank_close(b);
    return rc;
}

void wb_bank_close(struct wb_bank *b)
{
    if (!b)
        return;
    wb_store_close(b->store);
    wb_config_free(b->own_cfg);
    free(b->media_dir);
    free(b);
}

struct wb_store *wb_bank_store(struct wb_bank *b)
{
    return b->store;
}

const struct wb_config *wb_bank_config(const struct wb_bank *b)
{
    return b->cfg;
}

const char *wb_bank_media_dir(const struct wb_bank *b)
{
    return b->media_dir;
}

int wb_bank_add(struct wb_bank *b, const char *word, const char *translation, const char *context,
                const struct wb_run_opts *opts, struct wb_entry *out, struct wb_error *err)
{
    struct wb_run_opts o = { 0 };
    struct wb_run *run = NULL;
    struct wb_error gerr = { 0 };
    int rc;
    if (opts)
        o = *opts;
    rc = wb_entry_check(word, translation, context, bank_lang(b), err);
    if (rc)
        return rc;
    rc = wb_run_new(b->cfg, b->store, b->media_dir, &o, &run, err);
    if (!rc)
        rc = wb_run_add(run, word, translation, context, err);
    if (!rc)
        rc = wb_run_execute(run, err);
    if (rc == WB_EINCOMPLETE && wb_run_failure_count(run) > 0) {
        const struct wb_run_failure *f = wb_run_failure_at(run, 0);
        wb_error_set(err, rc, "%s: %s", wb_stage_name(f->stage), f->message ? f->message : "");
    }
    wb_run_free(run);
    /* The entry as stored, whatever happened: which stages failed and why. */
    if (out && (rc == 0 || rc == WB_EINCOMPLETE) &&
        wb_store_get(b->store, word, translation, bank_lang(b), out, &gerr) && !rc)
        rc = wb_error_set(err, gerr.code, "%s", wb_error_text(&gerr));
    return rc;
}

int wb_bank_get(struct wb_bank *b, const char *word, const char *translation, struct wb_entry *out,
                struct wb_error *err)
{
    return wb_store_get(b->store, word, translation, bank_lang(b), out, err);
}

/* ---- Markdown ---- */

struct lookup {
    struct wb_bank *bank;
    const char *lang;
    struct wb_entry *v; /* every entry looked up, alive until the render ends */
    size_t n, cap;
    struct wb_error err; /* the first failure other than "not in the bank" */
};

static const struct wb_entry *lookup(void *ud, const char *word, const char *translation)
{
    struct lookup *l = ud;
    struct wb_error err = { 0 };
    int rc;
    for (size_t i = 0; i < l->n; i++) {
        if (!strcmp(l->v[i].word, word) && !strcmp(l->v[i].translation, translation))
            return &l->v[i];
    }
    if (CORE_ARRAY_RESERVE(l->v, l->n, l->cap, 1, 0) != 0) {
        if (!l->err.code)
            wb_error_set(&l->err, WB_ENOMEM, "out of memory");
        return NULL;
    }
    wb_entry_init(&l->v[l->n]);
    rc = wb_store_get(l->bank->store, word, translation, l->lang, &l->v[l->n], &err);
    if (rc) {
        wb_entry_release(&l->v[l->n]);
        if (rc != WB_ENOTFOUND && !l->err.code)
            l->err = err;
        return NULL;
    }
    return &l->v[l->n++];
}

int wb_bank_render_markdown(struct wb_bank *b, const char *name, const char *src, size_t len,
                            const struct wb_render_opts *opts,
                            void (*on_diag)(void *ud, const char *msg), void *ud,
                            struct wb_buf *out, struct wb_error *err)
{
    struct wb_render_opts o;
    struct wb_doc doc;
    struct lookup l = { .bank = b };
    int rc;
    if (opts) {
        o = *opts;
    } else {
        wb_render_opts_init(&o);
    }
    if (!o.lang)
        o.lang = bank_lang(b);
    l.lang = o.lang;
    wb_doc_init(&doc);
    rc = wb_doc_parse(&doc, name ? name : "<input>", src, len, err);
    for (size_t i = 0; !rc && on_diag && i < doc.n_diags; i++)
        on_diag(ud, doc.diags[i]);
    if (!rc)
        rc = wb_doc_render(&doc, lookup, &l, &o, out, err);
    if (!rc && l.err.code) /* a card rendered without its entry: say so */
        rc = wb_error_set(err, l.err.code, "%s", wb_error_text(&l.err));
    for (size_t i = 0; i < l.n; i++)
        wb_entry_release(&l.v[i]);
    free(l.v);
    wb_doc_release(&doc);
    return rc;
}
