/* extract: vocabulary candidates from Japanese text (MeCab + EDICT), as TSV
 * ready for `wordbank propagate`, or JSON. preview: every card of the word
 * bank on one page with a search box. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_extract(struct cli *c)
{
    struct wb_error err = { 0 };
    struct wb_text *t = NULL;
    struct wb_edict *d = NULL;
    struct wb_extract_item *items = NULL;
    struct wb_buf text, out;
    size_t n = 0;
    int rc;
    if (c->argc != 1)
        return cli_usage("extract");
    wb_buf_init(&text, 32u << 20);
    wb_buf_init(&out, 0);
    rc = wb_buf_read_input(&text, c->argv[0], &err);
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        rc = EXIT_ENV;
        goto out;
    }
    if ((rc = wb_text_new(c->cfg, &t, &err))) {
        cli_error("%s", wb_error_text(&err));
        rc = EXIT_ENV;
        goto out;
    }
    if (wb_edict_open(c->cfg, NULL, NULL, &d, &err)) {
        cli_warn("no EDICT glosses: %s", wb_error_text(&err));
        d = NULL;
    }
    if ((rc = wb_extract(t, d, text.data, text.len, &items, &n, &err))) {
        cli_error("%s", wb_error_text(&err));
        rc = EXIT_ENV;
        goto out;
    }
    if (c->json) {
        wb_buf_appends(&out, "[");
        for (size_t i = 0; i < n; i++) {
            wb_buf_appends(&out, i ? ",\n {\"word\": " : "{\"word\": ");
            wb_json_quote(items[i].base, &out);
            wb_buf_appends(&out, ", \"reading\": ");
            wb_json_quote(items[i].reading, &out);
            wb_buf_appends(&out, ", \"pos\": ");
            wb_json_quote(items[i].pos, &out);
            wb_buf_appends(&out, ", \"gloss\": ");
            if (items[i].gloss)
                wb_json_quote(items[i].gloss, &out);
            else
                wb_buf_appends(&out, "null");
            wb_buf_appendf(&out, ", \"count\": %zu}", items[i].count);
        }
        wb_buf_appends(&out, "]\n");
    } else {
        wb_extract_format_tsv(items, n, &out);
    }
    if (c->json)
        cli_json_emit(c, &out);
    else
        fwrite(out.data, 1, out.len, stdout);
    rc = EXIT_OK;
out:
    wb_extract_items_free(items, n);
    wb_edict_close(d);
    wb_text_free(t);
    wb_buf_release(&text);
    wb_buf_release(&out);
    return rc;
}

struct all {
    struct wb_entry *v;
    size_t n, cap;
};

static int collect(void *ud, const struct wb_entry *e)
{
    struct all *a = ud;
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 64;
        struct wb_entry *v = realloc(a->v, cap * sizeof *v);
        if (!v)
            return WB_ENOMEM;
        a->v = v;
        a->cap = cap;
    }
    wb_entry_init(&a->v[a->n]);
    if (wb_entry_copy(&a->v[a->n], e))
        return WB_ENOMEM;
    a->n++;
    return 0;
}

int cmd_preview(struct cli *c)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct wb_render_opts o;
    struct all a = { 0 };
    struct wb_buf out, path;
    int rc, failed = 0;
    if (c->argc || !c->output)
        return cli_usage("preview");
    if ((rc = cli_open_existing(c, 1, &st)))
        return rc;
    wb_buf_init(&out, 0);
    wb_buf_init(&path, 0);
    if ((rc = wb_store_each(st, NULL, collect, &a, &err))) {
        cli_error("%s", wb_error_text(&err));
        rc = EXIT_ENV;
        goto out;
    }
    if (wb_mkdirs(c->output, &err) || wb_site_write_assets(c->output, &err)) {
        cli_error("%s", wb_error_text(&err));
        rc = EXIT_ENV;
        goto out;
    }
    /* Copy every media file the cards use beside the page: only files the
     * media store named (wb_media_copy checks the name and the bytes); a
     * name that is not one is refused and its card goes without it. */
    wb_buf_appendf(&path, "%s/media", c->output);
    for (size_t i = 0; i < a.n; i++) {
        for (int s = WB_STAGE_IMAGE; s <= WB_STAGE_AUDIO; s++) {
            struct wb_stage_info *si = &a.v[i].stages[s];
            if (!si->file || si->state != WB_STATE_DONE)
                continue;
            if (!wb_media_name_ok(si->file)) {
                cli_warn("refusing the media file name \"%s\" (not a media store name); left out",
                         si->file);
                free(si->file);
                si->file = NULL;
                failed = 1;
            } else if (wb_media_copy(cli_media_dir(c), si->file, path.data, &err)) {
                cli_warn("%s", wb_error_text(&err));
                failed = 1;
            }
        }
    }
    wb_render_opts_init(&o);
    o.lang = wb_config_get(c->cfg, "lang");
    o.title = "Word bank";
    o.base_url = c->base_url;
    if ((rc = wb_render_preview(a.v, a.n, &o, &out, &err))) {
        cli_error("%s", wb_error_text(&err));
        rc = EXIT_ENV;
        goto out;
    }
    wb_buf_reset(&path);
    wb_buf_appendf(&path, "%s/index.html", c->output);
    rc = cli_write_file(path.data, out.data, out.len) ? EXIT_ENV
         : failed                                     ? EXIT_SOME_FAILED
                                                      : EXIT_OK;
    if (rc != EXIT_ENV && c->json) {
        wb_buf_reset(&out);
        wb_buf_appendf(&out, "{\"cards\": %zu, \"page\": ", a.n);
        wb_json_quote(path.data, &out);
        wb_buf_appends(&out, "}");
        cli_json_emit(c, &out);
    } else if (rc != EXIT_ENV && c->verbosity >= 0) {
        fprintf(stderr, "%zu card%s in %s\n", a.n, a.n == 1 ? "" : "s", path.data);
    }
out:
    for (size_t i = 0; i < a.n; i++)
        wb_entry_release(&a.v[i]);
    free(a.v);
    wb_buf_release(&out);
    wb_buf_release(&path);
    wb_store_close(st);
    return rc;
}
