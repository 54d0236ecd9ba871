/* Site-level output: the preview page (every card of the word bank with a
 * search box) and the shared CSS/JS assets, written once per site and linked
 * from every page.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "content/content_int.h"
#include "core/util.h"

int wb_render_preview(const struct wb_entry *entries, size_t n, const struct wb_render_opts *opts,
                      struct wb_buf *out, struct wb_error *err)
{
    struct wb_render_opts def;
    int rc;

    if ((rc = content_opts_load(&def, opts, err)))
        return rc;
    opts = &def;
    rc = content_page_open(out, opts, opts->title ? opts->title : "Word bank", "wb-preview");
    if (rc == 0 && (rc = wb_buf_appends(out, "<header class=\"wb-preview-head\">\n<h1>")) == 0)
        rc = content_esc(out, opts->title ? opts->title : "Word bank");
    if (rc == 0)
        rc = wb_buf_appendf(
            out,
            "</h1>\n"
            "<label class=\"wb-search\"><span>Search</span> "
            "<input type=\"search\" class=\"wb-search-input\" autocomplete=\"off\" "
            "placeholder=\"word, translation or reading\" aria-controls=\"wb-all\"></label>\n"
            "<p class=\"wb-count\" role=\"status\" aria-live=\"polite\">%zu card%s</p>\n"
            "</header>\n<div class=\"wb-block wb-wordbank\">\n<div class=\"wb-cards\" id=\"wb-all\">\n",
            n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = content_card(out, opts, &entries[i], NULL, err);
    if (rc == 0)
        rc = wb_buf_appends(out,
                            "</div>\n<p class=\"wb-empty\" hidden>No card matches.</p>\n</div>\n");
    if (rc == 0)
        rc = content_page_close(out);
    if (rc < 0 && (!err || err->code == 0))
        rc = wb_error_set(err, rc, "rendering the preview: %s", wb_strerror(rc));
    return rc;
}

int wb_render_index(const char *title, const char *const *titles, const char *const *hrefs,
                    size_t n, const struct wb_render_opts *opts, struct wb_buf *out,
                    struct wb_error *err)
{
    struct wb_render_opts def;
    int rc;
    if ((rc = content_opts_load(&def, opts, err)))
        return rc;
    opts = &def;
    if (!title)
        title = "Lessons";
    rc = content_page_open(out, opts, title, "wb-index");
    if (rc == 0 && (rc = wb_buf_appends(out, "<h1>")) == 0 && (rc = content_esc(out, title)) == 0)
        rc = wb_buf_appends(out, "</h1>\n<ul class=\"wb-lessons\">\n");
    for (size_t i = 0; i < n && rc == 0; i++) {
        if ((rc = wb_buf_appends(out, "<li><a href=\"")) == 0 &&
            (rc = content_url_path(out, hrefs[i])) == 0 && (rc = wb_buf_appends(out, "\">")) == 0 &&
            (rc = content_esc(out, titles[i] && *titles[i] ? titles[i] : hrefs[i])) == 0)
            rc = wb_buf_appends(out, "</a></li>\n");
    }
    if (rc == 0)
        rc = wb_buf_appends(out, "</ul>\n");
    if (rc == 0)
        rc = content_page_close(out);
    if (rc < 0 && (!err || err->code == 0))
        rc = wb_error_set(err, rc, "rendering the index: %s", wb_strerror(rc));
    return rc;
}

int wb_doc_title(const struct wb_doc *doc, struct wb_buf *out)
{
    /* The first ATX heading ("# Title") outside fenced code. */
    const char *p = doc->src + doc->body, *end = doc->src + doc->len;
    char fence = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *e = nl ? nl : end;
        if (e - p >= 3 && (*p == '`' || *p == '~') && p[1] == *p && p[2] == *p) {
            fence = fence == *p ? 0 : fence ? fence : *p;
        } else if (!fence && *p == '#') {
            const char *t = p;
            while (t < e && *t == '#')
                t++;
            if (t < e && (*t == ' ' || *t == '\t')) {
                while (t < e && (*t == ' ' || *t == '\t'))
                    t++;
                while (e > t && (e[-1] == '\r' || e[-1] == ' ' || e[-1] == '#'))
                    e--;
                return wb_buf_append(out, t, (size_t)(e - t));
            }
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

/* Crash-safe (core_write_atomic): a reader never sees half an asset. */
static int write_file(const char *dir, const char *name, const char *data, size_t len,
                      struct wb_error *err)
{
    struct wb_buf path;
    int rc;

    wb_buf_init(&path, 0);
    if (core_path_join(&path, dir, name) < 0)
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
    else
        rc = core_write_atomic(path.data, data, len, err);
    wb_buf_release(&path);
    return rc;
}

int wb_site_write_assets(const char *out_dir, struct wb_error *err)
{
    struct wb_buf dir;
    int rc;

    wb_buf_init(&dir, 0);
    if (core_path_join(&dir, out_dir, WB_SITE_ASSETS_DIR) < 0) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = wb_mkdirs(dir.data, err)) < 0)
        goto out;
    if ((rc = write_file(dir.data, "wordbank.css", content_css, content_css_len, err)) < 0)
        goto out;
    rc = write_file(dir.data, "wordbank.js", content_js, content_js_len, err);
out:
    wb_buf_release(&dir);
    return rc;
}
