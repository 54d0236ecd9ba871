/* One flashcard as HTML: the picture (or a placeholder), the word and a play
 * button on the front; the word with furigana, translation, reading, context,
 * description and examples on the back. Also the page shell and asset links
 * that the document and preview renderers share. Every field is escaped; no
 * markup here ever contains a blank line, so the fragment stays one HTML
 * block when the Markdown around it is converted.
 */
#include <stdlib.h>
#include <string.h>

#include "content/content_int.h"
#include "core/sized.h"

#define PLAY_ICON                                                                                        \
    "<svg viewBox=\"0 0 24 24\" width=\"22\" height=\"22\" aria-hidden=\"true\" focusable=\"false\">"    \
    "<path fill=\"currentColor\" d=\"M3 9v6h4l5 5V4L7 9H3zm13.5 3A4.5 4.5 0 0 0 14 8v8a4.47 4.47 0 0 0 " \
    "2.5-4zM14 3.23v2.06a7 7 0 0 1 0 13.42v2.06A9 9 0 0 0 14 3.23z\"/></svg>"

void wb_render_opts_init(struct wb_render_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->size = sizeof *o;
}

int content_opts_load(struct wb_render_opts *dst, const struct wb_render_opts *opts,
                      struct wb_error *err)
{
    if (!opts) {
        wb_render_opts_init(dst);
        return 0;
    }
    return core_sized_load(dst, sizeof *dst, opts, CORE_SIZED_MIN(struct wb_render_opts, mode),
                           "render options", err);
}

int content_asset_href(struct wb_buf *out, const struct wb_render_opts *o, const char *file)
{
    struct wb_buf u;
    int rc;

    wb_buf_init(&u, 0);
    if (o->base_url && *o->base_url) {
        rc = wb_buf_appends(&u, o->base_url);
        if (rc == 0 && o->base_url[strlen(o->base_url) - 1] != '/')
            rc = wb_buf_appendc(&u, '/');
    } else {
        rc = wb_buf_appends(&u, o->root_rel ? o->root_rel : "");
        if (rc == 0 && u.len > 0 && u.data[u.len - 1] != '/')
            rc = wb_buf_appendc(&u, '/');
    }
    if (rc == 0)
        rc = wb_buf_appendf(&u, "%s/%s", WB_SITE_ASSETS_DIR, file);
    if (rc == 0)
        rc = content_esc(out, u.data);
    wb_buf_release(&u);
    return rc;
}

int content_assets_inline(struct wb_buf *out)
{
    int rc = wb_buf_appends(out, "<style>\n");
    if (rc == 0)
        rc = wb_buf_append(out, content_css, content_css_len);
    if (rc == 0)
        rc = wb_buf_appends(out, "</style>\n<script>\n");
    if (rc == 0)
        rc = wb_buf_append(out, content_js, content_js_len);
    if (rc == 0)
        rc = wb_buf_appends(out, "</script>\n");
    return rc;
}

int content_page_open(struct wb_buf *out, const struct wb_render_opts *o, const char *title,
                      const char *body_class)
{
    int rc = wb_buf_appends(out, "<!DOCTYPE html>\n<html lang=\"");

    if (rc == 0)
        rc = content_esc(out, o->page_lang ? o->page_lang : "en");
    if (rc == 0)
        rc = wb_buf_appends(
            out, "\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<link rel=\"icon\" href=\"data:,\">\n" /* no favicon request to 404 */
                 "<title>");
    if (rc == 0)
        rc = content_esc(out, title ? title : "wordbank");
    if (rc == 0)
        rc = wb_buf_appends(out, "</title>\n");
    if (rc == 0 && o->inline_assets) {
        rc = content_assets_inline(out);
    } else if (rc == 0) {
        if ((rc = wb_buf_appends(out, "<link rel=\"stylesheet\" href=\"")) == 0 &&
            (rc = content_asset_href(out, o, "wordbank.css")) == 0 &&
            (rc = wb_buf_appends(out, "\">\n<script src=\"")) == 0 &&
            (rc = content_asset_href(out, o, "wordbank.js")) == 0)
            rc = wb_buf_appends(out, "\" defer></script>\n");
    }
    if (rc == 0)
        rc = wb_buf_appendf(out, "</head>\n<body class=\"wb-body\">\n<main class=\"wb-page %s\">\n",
                            body_class ? body_class : "");
    return rc;
}

int content_page_close(struct wb_buf *out)
{
    return wb_buf_appends(out, "</main>\n</body>\n</html>\n");
}

static int media_url(struct wb_buf *out, const struct wb_render_opts *o, const char *file)
{
    struct wb_buf u;
    int rc;

    wb_buf_init(&u, 0);
    if (o->media_url) {
        rc = o->media_url(o->media_ud, file, &u);
    } else {
        rc = wb_buf_appends(&u, o->media_url_prefix ? o->media_url_prefix : "media/");
        if (rc == 0)
            rc = content_url_path(&u, file);
    }
    if (rc == 0)
        rc = content_esc(out, u.data);
    wb_buf_release(&u);
    return rc;
}

static int field_p(struct wb_buf *out, const char *cls, const char *lang, const char *text)
{
    int rc;

    if (!text || !*text)
        return 0;
    rc = wb_buf_appendf(out, "<p class=\"%s\"", cls);
    if (rc == 0 && lang)
        rc = wb_buf_appends(out, " lang=\"");
    if (rc == 0 && lang && (rc = content_esc(out, lang)) == 0)
        rc = wb_buf_appendc(out, '"');
    if (rc == 0)
        rc = wb_buf_appendc(out, '>');
    if (rc == 0)
        rc = content_esc(out, text);
    if (rc == 0)
        rc = wb_buf_appends(out, "</p>\n");
    return rc;
}

/* What the preview's search box matches: word, translation, reading (also as
 * hiragana), context. Lower-cased ASCII; the script folds the rest. */
static int search_attr(struct wb_buf *out, const char *word, const char *tr, const char *reading,
                       const char *ctx)
{
    struct wb_buf s;
    int rc = 0;

    wb_buf_init(&s, 0);
    const char *parts[] = { word, tr, reading, ctx };
    for (size_t i = 0; i < 4 && rc == 0; i++) {
        if (!parts[i])
            continue;
        if (s.len && (rc = wb_buf_appendc(&s, ' ')) < 0)
            break;
        rc = i == 2 ? content_hiragana(&s, parts[i]) : wb_buf_appends(&s, parts[i]);
    }
    for (size_t i = 0; i < s.len; i++)
        if (s.data[i] >= 'A' && s.data[i] <= 'Z')
            s.data[i] = (char)(s.data[i] - 'A' + 'a');
    if (rc == 0)
        rc = content_esc(out, s.data);
    wb_buf_release(&s);
    return rc;
}

int content_card(struct wb_buf *out, const struct wb_render_opts *o, const struct wb_entry *e,
                 const struct wb_word_item *it, struct wb_error *err)
{
    const char *word = e && e->word ? e->word : it ? it->word : "";
    const char *tr = e && e->translation ? e->translation : it ? it->translation : NULL;
    const char *ctx = e && e->context ? e->context : it ? it->context : NULL;
    const char *reading = e ? e->reading : NULL;
    const char *lang = e && e->language && *e->language ? e->language : o->lang ? o->lang : "ja";
    const char *img = e && e->stages[WB_STAGE_IMAGE].state == WB_STATE_DONE
                          ? e->stages[WB_STAGE_IMAGE].file
                          : NULL;
    const char *aud = e && e->stages[WB_STAGE_AUDIO].state == WB_STATE_DONE
                          ? e->stages[WB_STAGE_AUDIO].file
                          : NULL;
    struct wb_buf hira;
    size_t wl = strlen(word);
    int rc, show_reading;

    wb_buf_init(&hira, 0);
    if (img && !*img)
        img = NULL;
    if (aud && !*aud)
        aud = NULL;
    rc = wb_buf_appends(out, "<article class=\"wb-card\" data-wb-search=\"");
    if (rc == 0)
        rc = search_attr(out, word, tr, reading, ctx);
    /* The flip target: a focusable button-like element holding both faces. */
    if (rc == 0)
        rc = wb_buf_appends(out, "\">\n<div class=\"wb-flip\" tabindex=\"0\" role=\"button\" "
                                 "aria-pressed=\"false\" aria-label=\"");
    if (rc == 0)
        rc = content_esc(out, word);
    if (rc == 0)
        rc = wb_buf_appends(out, " \xe2\x80\x94 flashcard, press to turn\">\n"
                                 "<div class=\"wb-face wb-front\">\n");
    if (rc == 0 && img) {
        if ((rc = wb_buf_appends(out, "<img class=\"wb-pic\" src=\"")) == 0 &&
            (rc = media_url(out, o, img)) == 0 && (rc = wb_buf_appends(out, "\" alt=\"")) == 0 &&
            (rc = content_esc(out, e->image_description && *e->image_description
                                       ? e->image_description
                                       : word)) == 0)
            rc = wb_buf_appends(out, "\" loading=\"lazy\" decoding=\"async\">\n");
    } else if (rc == 0) {
        size_t used;
        content_utf8_next(word, wl, &used);
        if ((rc = wb_buf_appends(
                 out, "<div class=\"wb-pic wb-nopic\" aria-hidden=\"true\"><span lang=\"")) == 0 &&
            (rc = content_esc(out, lang)) == 0 && (rc = wb_buf_appends(out, "\">")) == 0 &&
            (rc = content_escn(out, word, wl ? used : 0)) == 0)
            rc = wb_buf_appends(out, "</span></div>\n");
    }
    if (rc == 0)
        rc = wb_buf_appends(out, "<p class=\"wb-word\" lang=\"");
    if (rc == 0 && (rc = content_esc(out, lang)) == 0 && (rc = wb_buf_appends(out, "\">")) == 0 &&
        (rc = content_esc(out, word)) == 0)
        rc = wb_buf_appends(
            out, "</p>\n</div>\n<div class=\"wb-face wb-back\">\n<p class=\"wb-head\" lang=\"");
    if (rc == 0 && (rc = content_esc(out, lang)) == 0 && (rc = wb_buf_appends(out, "\">")) == 0 &&
        (rc = content_ruby(out, word, reading, NULL)) == 0)
        rc = wb_buf_appends(out, "</p>\n");
    if (rc == 0)
        rc = field_p(out, "wb-translation", NULL, tr);
    /* The reading as written (katakana stays: メモちょう), with its pitch
     * accent when known; a kana word shows it only to carry the accent. */
    if (rc == 0 && reading && *reading)
        rc = content_hiragana(&hira, reading);
    show_reading =
        rc == 0 && hira.len > 0 && (strcmp(hira.data, word) != 0 && strcmp(reading, word) != 0);
    if (rc == 0 && hira.len > 0 && e && e->n_pitch_accent > 0)
        rc = content_pitch(out, lang, reading, e->pitch_accent,
                           e->n_pitch_accent > WB_PITCH_MAX ? WB_PITCH_MAX : e->n_pitch_accent);
    else if (rc == 0 && show_reading)
        rc = field_p(out, "wb-reading", lang, reading);
    if (rc == 0)
        rc = field_p(out, "wb-context", NULL, ctx);
    if (rc == 0 && e)
        rc = field_p(out, "wb-desc", NULL, e->description);
    if (rc == 0 && e && e->n_examples > 0) {
        rc = wb_buf_appends(out, "<ul class=\"wb-examples\">\n");
        for (size_t i = 0; i < e->n_examples && rc == 0; i++) {
            if (!e->examples[i].text)
                continue;
            if ((rc = wb_buf_appends(out, "<li><span class=\"wb-ex\" lang=\"")) < 0 ||
                (rc = content_esc(out, lang)) < 0 || (rc = wb_buf_appends(out, "\">")) < 0 ||
                (rc = content_esc(out, e->examples[i].text)) < 0 ||
                (rc = wb_buf_appends(out, "</span>")) < 0)
                break;
            if (e->examples[i].translation && *e->examples[i].translation &&
                ((rc = wb_buf_appends(out, "<span class=\"wb-ex-tr\">")) < 0 ||
                 (rc = content_esc(out, e->examples[i].translation)) < 0 ||
                 (rc = wb_buf_appends(out, "</span>")) < 0))
                break;
            rc = wb_buf_appends(out, "</li>\n");
        }
        if (rc == 0)
            rc = wb_buf_appends(out, "</ul>\n");
    }
    if (rc == 0)
        rc = wb_buf_appends(out, "</div>\n</div>\n");
    /* The play control sits outside the flip target: a real button that
     * plays the audio and never turns the card. */
    if (rc == 0 && aud) {
        if ((rc = wb_buf_appends(
                 out,
                 "<button type=\"button\" class=\"wb-play\" aria-label=\"Play the pronunciation of ")) ==
                0 &&
            (rc = content_esc(out, word)) == 0 &&
            (rc = wb_buf_appends(out, "\" title=\"Play the pronunciation\">" PLAY_ICON "</button>\n"
                                      "<audio class=\"wb-audio\" preload=\"none\" src=\"")) == 0 &&
            (rc = media_url(out, o, aud)) == 0)
            rc = wb_buf_appends(out, "\"></audio>\n");
    }
    if (rc == 0)
        rc = wb_buf_appends(out, "</article>\n");
    wb_buf_release(&hira);
    if (rc < 0)
        rc = wb_error_set(err, rc, "rendering the card for %s: %s", word, wb_strerror(rc));
    return rc;
}
