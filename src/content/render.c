/* Rendering a parsed document: each <wordbank> block becomes a grid of cards
 * and a quiz, each <dialogue> block a player with its transcript, and the
 * text between blocks is copied byte for byte (fragment mode) or converted
 * by cmark, the CommonMark reference library (page mode; loaded by the first
 * page through core/dl.h, so no other command maps it). The quiz data is
 * JSON built with jansson inside a <script type="application/json"> tag.
 */
#include <stdlib.h>
#include <string.h>

#include <cmark.h>
#include <jansson.h>

#include "content/content_int.h"
#include "core/dl.h"
#include "core/util.h"

/* cmark's soname carries its whole version (the headers say it). */
#define CMARK_SONAME       "libcmark.so." CMARK_VERSION_STRING
#define CMARK_FUNCTIONS(X) X(cmark_markdown_to_html)
static struct {
    CMARK_FUNCTIONS(CORE_DL_MEMBER)
} content_cmark;
#define CMARK_SYM(name) CORE_DL_SYM(content_cmark, name, #name)
static const struct core_dl_sym cmark_syms[] = { CMARK_FUNCTIONS(CMARK_SYM) };
static struct core_dl_once cmark_once = CORE_DL_ONCE_INIT;

static int cmark_load(struct wb_error *err)
{
    return core_dl_load(CMARK_SONAME, cmark_syms, CORE_DL_COUNT(cmark_syms), err);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int wb_quiz_id(const char *question, const char *const *answers, size_t n_answers, char id[13])
{
    struct wb_buf b;
    char **norm = NULL, hex[65];
    char *q = NULL;
    size_t n = 0;
    int rc = WB_ENOMEM;

    wb_buf_init(&b, 0);
    id[0] = '\0';
    if (!(q = content_norm_ws(question)) ||
        (n_answers && !(norm = calloc(n_answers, sizeof(*norm)))))
        goto out;
    for (size_t i = 0; i < n_answers; i++) {
        char *a = content_norm_ws(answers[i]);
        if (!a)
            goto out;
        if (!*a) {
            free(a);
            continue;
        }
        norm[n++] = a;
    }
    if (n > 1)
        qsort(norm, n, sizeof(*norm), cmp_str);
    if (wb_buf_appends(&b, q) < 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && strcmp(norm[i], norm[i - 1]) == 0)
            continue; /* duplicates count once */
        if (wb_buf_appendc(&b, '\n') < 0 || wb_buf_appends(&b, norm[i]) < 0)
            goto out;
    }
    if ((rc = core_sha256_hex(b.data, b.len, hex)) < 0)
        goto out;
    memcpy(id, hex, 12);
    id[12] = '\0';
    rc = 0;
out:
    for (size_t i = 0; i < n; i++)
        free(norm[i]);
    free(norm);
    free(q);
    wb_buf_release(&b);
    return rc;
}

/* A JSON string from any bytes (invalid UTF-8 replaced, whitespace kept). */
static json_t *jstr(const char *s)
{
    struct wb_buf b;
    json_t *j;

    wb_buf_init(&b, 0);
    if (content_utf8_clean(&b, s ? s : "", s ? strlen(s) : 0) < 0) {
        wb_buf_release(&b);
        return NULL;
    }
    j = json_stringn(b.data, b.len);
    wb_buf_release(&b);
    return j;
}

static int quiz_item(json_t *items, const char *question, const char *hint, const char *word,
                     const char *reading)
{
    struct wb_buf hira;
    const char *ans[2];
    char id[13];
    size_t n = 0;
    json_t *o = NULL, *a = NULL;
    int rc;

    wb_buf_init(&hira, 0);
    ans[n++] = word;
    if (reading && *reading) {
        if ((rc = content_hiragana(&hira, reading)) < 0)
            goto out;
        ans[n++] = hira.data;
    }
    if ((rc = wb_quiz_id(question, ans, n, id)) < 0)
        goto out;
    /* The same question and answers twice in one quiz: ask once. */
    for (size_t i = 0; i < json_array_size(items); i++)
        if (strcmp(json_string_value(json_object_get(json_array_get(items, i), "id")), id) == 0)
            goto out;
    rc = WB_ENOMEM;
    if (!(o = json_object()) || !(a = json_array()))
        goto out;
    for (size_t i = 0; i < n; i++) {
        char *t = content_norm_ws(ans[i]);
        if (!t || (*t && json_array_append_new(a, jstr(t)) < 0)) {
            free(t);
            goto out;
        }
        free(t);
    }
    {
        char *q = content_norm_ws(question);
        int bad = !q || json_object_set_new(o, "id", json_string(id)) < 0 ||
                  json_object_set_new(o, "q", jstr(q)) < 0;
        free(q);
        if (bad)
            goto out;
    }
    if ((hint && *hint && json_object_set_new(o, "hint", jstr(hint)) < 0) ||
        json_object_set_new(o, "answers", a) < 0) {
        a = NULL;
        goto out;
    }
    a = NULL;
    if (json_array_append_new(items, o) < 0) {
        o = NULL;
        goto out;
    }
    o = NULL;
    rc = 0;
out:
    json_decref(a);
    json_decref(o);
    wb_buf_release(&hira);
    return rc;
}

/* JSON inside <script>: '<' '>' '&' only occur inside JSON strings, where
 * \u escapes mean the same, so "</script" and "<!--" can never appear. */
static int script_json(struct wb_buf *out, const char *js)
{
    int rc = 0;

    for (const char *p = js; *p && rc == 0; p++) {
        if (*p == '<')
            rc = wb_buf_appends(out, "\\u003c");
        else if (*p == '>')
            rc = wb_buf_appends(out, "\\u003e");
        else if (*p == '&')
            rc = wb_buf_appends(out, "\\u0026");
        else
            rc = wb_buf_appendc(out, *p);
    }
    return rc;
}

static int render_wordbank(struct wb_buf *out, const struct wb_block *b, wb_entry_lookup_fn lookup,
                           void *ud, const struct wb_render_opts *o, struct wb_error *err)
{
    json_t *root = NULL, *items = NULL;
    char *js = NULL;
    int rc;

    rc = wb_buf_appendf(out, "<div class=\"wb-cards\">\n");
    if (rc == 0 && !(items = json_array()))
        rc = WB_ENOMEM;
    for (size_t i = 0; i < b->n_items && rc == 0; i++) {
        const struct wb_word_item *it = &b->items[i];
        const struct wb_entry *e = lookup ? lookup(ud, it->word, it->translation) : NULL;
        rc = content_card(out, o, e, it, err);
        if (rc < 0)
            goto out;
        rc = quiz_item(items, e && e->translation ? e->translation : it->translation,
                       e && e->context ? e->context : it->context,
                       e && e->word ? e->word : it->word, e ? e->reading : NULL);
    }
    if (rc == 0)
        rc = wb_buf_appends(out, "</div>\n");
    if (rc == 0 && !o->no_quiz && json_array_size(items) > 0) {
        if (!(root = json_pack("{s:i,s:O}", "v", 1, "items", items)) ||
            !(js = json_dumps(root, JSON_COMPACT)))
            rc = WB_ENOMEM;
        if (rc == 0)
            rc = wb_buf_appends(out, "<section class=\"wb-quiz\" aria-label=\"Quiz\">\n"
                                     "<script type=\"application/json\" class=\"wb-quiz-data\">");
        if (rc == 0)
            rc = script_json(out, js);
        if (rc == 0)
            rc = wb_buf_appends(
                out, "</script>\n<noscript><p>The quiz needs JavaScript.</p></noscript>\n"
                     "</section>\n");
    }
    if (rc < 0)
        rc = wb_error_set(err, rc, "rendering <wordbank> at line %u: %s", b->line, wb_strerror(rc));
out:
    free(js);
    json_decref(root);
    json_decref(items);
    return rc;
}

static int render_dialogue(struct wb_buf *out, const struct wb_block *b,
                           const struct wb_render_opts *o, struct wb_error *err)
{
    const char *lang = o->lang ? o->lang : "ja";
    const char *file =
        b->two_voice && o->dialogue_audio ? o->dialogue_audio(o->dialogue_ud, b) : NULL;
    int rc = wb_buf_appends(out, "<figure class=\"wb-dialogue\">\n");

    if (rc == 0 && file && *file) {
        struct wb_buf u;
        wb_buf_init(&u, 0);
        if (o->media_url) {
            rc = o->media_url(o->media_ud, file, &u);
        } else if ((rc = wb_buf_appends(&u, o->media_url_prefix ? o->media_url_prefix
                                                                : "media/")) == 0) {
            rc = content_url_path(&u, file);
        }
        if (rc == 0 &&
            (rc = wb_buf_appends(
                 out, "<audio class=\"wb-dialogue-audio\" controls preload=\"none\" src=\"")) ==
                0 &&
            (rc = content_esc(out, u.data)) == 0)
            rc = wb_buf_appends(out, "\"></audio>\n");
        wb_buf_release(&u);
    }
    if (rc == 0)
        rc = wb_buf_appends(out, "<ol class=\"wb-transcript\">\n");
    for (size_t i = 0; i < b->n_lines && rc == 0; i++) {
        const struct wb_dialogue_line *l = &b->lines[i];
        int voice = b->speakers[1] && strcmp(l->speaker, b->speakers[1]) == 0 ? 2 : 1;
        if ((rc = wb_buf_appendf(out,
                                 "<li class=\"wb-line wb-voice-%d\"><span class=\"wb-speaker\">",
                                 voice)) < 0 ||
            (rc = content_esc(out, l->speaker)) < 0 ||
            (rc = wb_buf_appends(out, "</span> <span class=\"wb-said\" lang=\"")) < 0 ||
            (rc = content_esc(out, lang)) < 0 || (rc = wb_buf_appends(out, "\">")) < 0 ||
            (rc = content_esc(out, l->text)) < 0)
            break;
        rc = wb_buf_appends(out, "</span></li>\n");
    }
    if (rc == 0)
        rc = wb_buf_appends(out, "</ol>\n</figure>\n");
    if (rc < 0)
        rc = wb_error_set(err, rc, "rendering <dialogue> at line %u: %s", b->line, wb_strerror(rc));
    return rc;
}

/* One block's HTML: a wrapper div (with the asset links in fragment mode,
 * before the document's first block) and no trailing newline, because the
 * source's own line ending follows the block's byte range. */
static int render_block(struct wb_buf *out, const struct wb_doc *doc, size_t i,
                        wb_entry_lookup_fn lookup, void *ud, const struct wb_render_opts *o,
                        struct wb_error *err)
{
    const struct wb_block *b = &doc->blocks[i];
    int rc = wb_buf_appendf(out, "<div class=\"wb-block wb-%s\">\n",
                            b->kind == WB_BLOCK_WORDBANK ? "wordbank" : "dialogue");

    if (rc == 0 && i == 0 && o->mode == WB_RENDER_FRAGMENT) {
        if (o->inline_assets) {
            rc = content_assets_inline(out);
        } else if ((rc = wb_buf_appends(out, "<link rel=\"stylesheet\" href=\"")) == 0 &&
                   (rc = content_asset_href(out, o, "wordbank.css")) == 0 &&
                   (rc = wb_buf_appends(out, "\">\n<script src=\"")) == 0 &&
                   (rc = content_asset_href(out, o, "wordbank.js")) == 0) {
            rc = wb_buf_appends(out, "\" defer></script>\n");
        }
    }
    if (rc == 0)
        rc = b->kind == WB_BLOCK_WORDBANK ? render_wordbank(out, b, lookup, ud, o, err)
                                          : render_dialogue(out, b, o, err);
    else
        rc = wb_error_set(err, rc, "rendering: %s", wb_strerror(rc));
    if (rc == 0 && (rc = wb_buf_appends(out, "</div>")) < 0)
        rc = wb_error_set(err, rc, "rendering: %s", wb_strerror(rc));
    return rc;
}

static int render_fragment(const struct wb_doc *doc, wb_entry_lookup_fn lookup, void *ud,
                           const struct wb_render_opts *o, struct wb_buf *out, struct wb_error *err)
{
    size_t pos = 0;
    int rc = 0;

    for (size_t i = 0; i < doc->n_blocks && rc == 0; i++) {
        const struct wb_block *b = &doc->blocks[i];
        if ((rc = wb_buf_append(out, doc->src + pos, b->start - pos)) < 0)
            break;
        rc = render_block(out, doc, i, lookup, ud, o, err);
        pos = b->end;
    }
    if (rc == 0)
        rc = wb_buf_append(out, doc->src + pos, doc->len - pos);
    if (rc < 0 && err && err->code == 0)
        rc = wb_error_set(err, rc, "rendering %s: %s", doc->name, wb_strerror(rc));
    return rc;
}

/* Page mode: the Markdown with each block replaced by a placeholder comment
 * (an HTML block to CommonMark, passed through unchanged), converted by cmark,
 * then each placeholder replaced by the block's HTML. The nonce comes from
 * the source, so the text cannot contain a placeholder by accident. */
static int render_page(const struct wb_doc *doc, wb_entry_lookup_fn lookup, void *ud,
                       const struct wb_render_opts *o, struct wb_buf *out, struct wb_error *err)
{
    struct wb_buf md, ph;
    char hex[65], *html = NULL;
    const char *title = o->title;
    size_t pos = doc->body;
    int rc = 0;

    wb_buf_init(&md, 0);
    wb_buf_init(&ph, 0);
    if ((rc = core_crypto_load(err)) < 0 ||
        (rc = core_dl_need(&cmark_once, cmark_load, NULL, err)) < 0)
        goto out;
    core_sha256_hex(doc->src, doc->len, hex);
    hex[16] = '\0';
    for (size_t i = 0; i < doc->n_blocks && rc == 0; i++) {
        const struct wb_block *b = &doc->blocks[i];
        if ((rc = wb_buf_append(&md, doc->src + pos, b->start - pos)) == 0)
            rc = wb_buf_appendf(&md, "<!--wb-block-%s-%zu-->", hex, i);
        pos = b->end;
    }
    if (rc == 0)
        rc = wb_buf_append(&md, doc->src + pos, doc->len - pos);
    if (rc == 0 &&
        !(html = content_cmark.cmark_markdown_to_html(md.data, md.len, CMARK_OPT_UNSAFE)))
        rc = WB_ENOMEM;
    if (rc == 0) {
        if (!title && (rc = wb_doc_title(doc, &ph)) == 0 && ph.len)
            title = ph.data; /* the first heading */
        if (!title) {
            title = strrchr(doc->name, '/');
            title = title ? title + 1 : doc->name;
        }
        if (rc == 0)
            rc = content_page_open(out, o, title, "wb-lesson");
    }
    for (const char *p = html; rc == 0 && p && *p;) {
        const char *at = strstr(p, "<!--wb-block-");
        size_t idx;
        char *end;
        if (!at) {
            rc = wb_buf_appends(out, p);
            break;
        }
        if ((rc = wb_buf_append(out, p, (size_t)(at - p))) < 0)
            break;
        p = at + strlen("<!--wb-block-");
        if (strncmp(p, hex, 16) != 0 || p[16] != '-') {
            rc = wb_buf_appends(out, "<!--wb-block-");
            continue;
        }
        idx = strtoul(p + 17, &end, 10);
        if (strncmp(end, "-->", 3) != 0 || idx >= doc->n_blocks) {
            rc = wb_buf_appends(out, "<!--wb-block-");
            continue;
        }
        rc = render_block(out, doc, idx, lookup, ud, o, err);
        p = end + 3;
        if (rc < 0)
            goto out;
    }
    if (rc == 0)
        rc = content_page_close(out);
    if (rc < 0)
        rc = wb_error_set(err, rc, "rendering %s: %s", doc->name, wb_strerror(rc));
out:
    free(html);
    wb_buf_release(&ph);
    wb_buf_release(&md);
    return rc;
}

int wb_doc_render(const struct wb_doc *doc, wb_entry_lookup_fn lookup, void *lookup_ud,
                  const struct wb_render_opts *opts, struct wb_buf *out, struct wb_error *err)
{
    struct wb_render_opts def;
    int rc;

    if ((rc = content_opts_load(&def, opts, err)))
        return rc;
    opts = &def;
    if (!doc || !doc->src)
        return wb_error_set(err, WB_EINVAL, "wb_doc_render: no parsed document");
    if (opts->mode == WB_RENDER_PAGE)
        return render_page(doc, lookup, lookup_ud, opts, out, err);
    return render_fragment(doc, lookup, lookup_ud, opts, out, err);
}
