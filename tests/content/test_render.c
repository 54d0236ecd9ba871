/* Renderer: escaping of hostile text in every field, cards without pictures,
 * furigana alignment, quiz ids (stable, and equal to a recomputation from
 * the documented canonical bytes), fragment and page modes, preview, assets.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmark.h>
#include <jansson.h>

#include "content/content_int.h"
#include "core/util.h"
#include "test.h"
#include "wordbank/content.h"

#define XSS "<img src=x onerror=alert(1)>"

static struct wb_error err0, *err = &err0;

static char *ruby(const char *word, const char *reading, int *aligned)
{
    struct wb_buf b;
    wb_buf_init(&b, 0);
    CHECK_INT(content_ruby(&b, word, reading, aligned), 0);
    return wb_buf_detach(&b, NULL);
}

TEST(ruby_alignment)
{
    static const struct {
        const char *w, *r, *html;
        int aligned;
    } cases[] = {
        { "食べる", "たべる", "<ruby>食<rt>た</rt></ruby>べる", 1 },
        { "お茶", "おちゃ", "お<ruby>茶<rt>ちゃ</rt></ruby>", 1 },
        { "持ち帰る", "もちかえる", "<ruby>持<rt>も</rt></ruby>ち<ruby>帰<rt>かえ</rt></ruby>る",
          1 },
        { "猫", "ねこ", "<ruby>猫<rt>ねこ</rt></ruby>", 1 },
        { "日本語", "ニホンゴ", "<ruby>日本語<rt>にほんご</rt></ruby>", 1 },
        { "行き来", "いきき", "<ruby>行<rt>い</rt></ruby>き<ruby>来<rt>き</rt></ruby>", 1 },
        { "一ヶ月", "いっかげつ", "<ruby>一ヶ月<rt>いっかげつ</rt></ruby>", 1 },
        { "3月", "さんがつ", "<ruby>3月<rt>さんがつ</rt></ruby>", 1 },
        { "コーヒー豆", "コーヒーまめ", "コーヒー<ruby>豆<rt>まめ</rt></ruby>", 1 },
        /* The okurigana does not match the reading: whole-word ruby. */
        { "食べる", "のむ", "<ruby>食べる<rt>のむ</rt></ruby>", 2 },
        { "食べる", "たべた", "<ruby>食べる<rt>たべた</rt></ruby>", 2 },
        /* No kanji, or no reading: the bare word. */
        { "ケーキ", "けーき", "ケーキ", 0 },
        { "ねこ", "ねこ", "ねこ", 0 },
        { "猫", "", "猫", 0 },
        { "猫", NULL, "猫", 0 },
        { "<b>猫</b>", "<i>", "<ruby>&lt;b&gt;猫&lt;/b&gt;<rt>&lt;i&gt;</rt></ruby>", 1 },
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int aligned = -1;
        char *h = ruby(cases[i].w, cases[i].r, &aligned);
        CHECK_MSG(strcmp(h, cases[i].html) == 0, "%s + %s: %s", cases[i].w,
                  cases[i].r ? cases[i].r : "NULL", h);
        CHECK_MSG(aligned == cases[i].aligned, "%s: aligned %d", cases[i].w, aligned);
        free(h);
    }
    /* A long pathological word stays fast (memoised) and falls back. */
    struct wb_buf w, r;
    wb_buf_init(&w, 0);
    wb_buf_init(&r, 0);
    for (int i = 0; i < 30; i++) {
        wb_buf_appends(&w, "漢あ");
        wb_buf_appends(&r, "ああ");
    }
    wb_buf_appends(&r, "い");
    int aligned;
    char *h = ruby(w.data, r.data, &aligned);
    CHECK_INT(aligned, 2);
    free(h);
    wb_buf_release(&w);
    wb_buf_release(&r);
}

static void hostile_entry(struct wb_entry *e)
{
    wb_entry_init(e);
    e->word = strdup("猫" XSS);
    e->translation = strdup("cat" XSS);
    e->language = strdup("ja\"" XSS);
    e->context = strdup("pet" XSS);
    e->reading = strdup("ねこ" XSS);
    e->description = strdup("desc" XSS "\n\nsecond paragraph");
    e->image_description = strdup("imgdesc" XSS);
    wb_entry_add_example(e, "例" XSS, "example" XSS);
    e->stages[WB_STAGE_IMAGE].state = WB_STATE_DONE;
    e->stages[WB_STAGE_IMAGE].file = strdup("a\"b" XSS ".png");
    e->stages[WB_STAGE_AUDIO].state = WB_STATE_DONE;
    e->stages[WB_STAGE_AUDIO].file = strdup("c'd" XSS ".mp3");
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

TEST(every_field_escaped)
{
    struct wb_entry e;
    struct wb_buf out;
    struct wb_render_opts o;

    hostile_entry(&e);
    wb_buf_init(&out, 0);
    wb_render_opts_init(&o);
    CHECK_OK(wb_render_preview(&e, 1, &o, &out, err), err);
    CHECK_MSG(strstr(out.data, "<img src=x") == NULL, "unescaped: %s", out.data);
    CHECK_INT(count(out.data, "<img "), 1); /* the one real picture */
    CHECK(count(out.data, "&lt;img src=x onerror=alert(1)&gt;") >= 8);
    CHECK(strstr(out.data, "src=\"media/a%22b%3Cimg%20src%3Dx%20onerror%3Dalert%281%29%3E.png\"") !=
          NULL);
    CHECK(strstr(out.data, "lang=\"ja&quot;&lt;img") != NULL);
    CHECK(strstr(out.data, "c%27d%3Cimg") != NULL);
    CHECK(strstr(out.data, "\n\n") == NULL); /* newlines in fields never make blank lines */
    CHECK(strstr(out.data, "desc&lt;img src=x onerror=alert(1)&gt;&#10;&#10;second") != NULL);
    wb_buf_release(&out);
    wb_entry_release(&e);
}

static const struct wb_entry *lookup_one(void *ud, const char *word, const char *translation)
{
    const struct wb_entry *e = ud;
    (void)translation;
    return strcmp(word, "猫") == 0 ? e : NULL;
}

/* The quiz JSON of the n-th quiz in html, parsed. */
static json_t *quiz_json(const char *html, int nth)
{
    const char *tag = "<script type=\"application/json\" class=\"wb-quiz-data\">";
    const char *p = html;
    for (int i = 0; i <= nth; i++) {
        p = strstr(p, tag);
        CHECK(p != NULL);
        p += strlen(tag);
    }
    const char *end = strstr(p, "</script>");
    CHECK(end != NULL);
    json_error_t je;
    json_t *j = json_loadb(p, (size_t)(end - p), 0, &je);
    CHECK_MSG(j != NULL, "quiz JSON: %s", je.text);
    return j;
}

TEST(fragment_keeps_markdown_and_builds_quiz)
{
    struct wb_doc d;
    struct wb_entry cat;
    struct wb_buf out;
    struct wb_render_opts o;
    const char *src =
        "# Animals\r\n\r\nSome *text* & <b>html</b>.\r\n<wordbank>\r\n- 猫: cat (pet)\r\n"
        "- 犬: dog </script><!-- x\r\n</wordbank>\r\nAfter.\r\n";

    wb_entry_init(&cat);
    cat.word = strdup("猫");
    cat.translation = strdup("cat");
    cat.reading = strdup("ネコ");
    cat.stages[WB_STAGE_AUDIO].state = WB_STATE_DONE;
    cat.stages[WB_STAGE_AUDIO].file = strdup("ab/cat.mp3");
    wb_doc_init(&d);
    CHECK_OK(wb_doc_parse(&d, "animals.md", src, strlen(src), err), err);
    wb_buf_init(&out, 0);
    wb_render_opts_init(&o);
    o.media_url_prefix = "../media/";
    o.root_rel = "..";
    CHECK_OK(wb_doc_render(&d, lookup_one, &cat, &o, &out, err), err);
    /* Text outside the block, byte for byte, CRLF included. */
    const char *head =
        "# Animals\r\n\r\nSome *text* & <b>html</b>.\r\n<div class=\"wb-block wb-wordbank\">\n";
    CHECK_MSG(strncmp(out.data, head, strlen(head)) == 0, "%s", out.data);
    CHECK(strstr(out.data, "</div>\r\nAfter.\r\n") ==
          out.data + out.len - strlen("</div>\r\nAfter.\r\n"));
    CHECK_INT(count(out.data, "href=\"../wordbank-assets/wordbank.css\""), 1);
    CHECK_INT(count(out.data, "src=\"../wordbank-assets/wordbank.js\" defer"), 1);
    CHECK(strstr(out.data, "src=\"../media/ab/cat.mp3\"") != NULL);
    CHECK_INT(count(out.data, "class=\"wb-card\""), 2);
    CHECK_INT(count(out.data, "wb-nopic"), 2);
    CHECK_INT(count(out.data, "class=\"wb-play\""), 1); /* the dog has no recording */
    CHECK(strstr(out.data, "<ruby>猫<rt>ねこ</rt></ruby>") != NULL);
    CHECK(strstr(out.data, "\n\n") == NULL);
    /* The hostile translation cannot end the script or open a comment. */
    const char *js = strstr(out.data, "wb-quiz-data");
    CHECK(js && strstr(js, "</script><!--") == NULL);
    CHECK(count(js, "</script>") == 1);

    /* Still Markdown: a CommonMark engine passes the block through untouched. */
    const char *bs = strstr(out.data, "<div class=\"wb-block");
    const char *be = strstr(out.data, "</div>\r\nAfter.");
    CHECK(bs && be && be > bs);
    char *block = strndup(bs, (size_t)(be - bs) + 6);
    char *md_html = cmark_markdown_to_html(out.data, out.len, CMARK_OPT_UNSAFE);
    CHECK_MSG(strstr(md_html, block) != NULL, "cmark changed the block: %s", md_html);
    free(md_html);
    free(block);

    json_t *q = quiz_json(out.data, 0), *items = json_object_get(q, "items");
    CHECK_INT(json_array_size(items), 2);
    json_t *i0 = json_array_get(items, 0);
    CHECK_STR(json_string_value(json_object_get(i0, "q")), "cat");
    CHECK_STR(json_string_value(json_object_get(i0, "hint")), "pet");
    CHECK_STR(json_string_value(json_array_get(json_object_get(i0, "answers"), 0)), "猫");
    CHECK_STR(json_string_value(json_array_get(json_object_get(i0, "answers"), 1)), "ねこ");
    /* Recompute the id from the documented canonical bytes. */
    char hex[65];
    const char *canon = "cat\nねこ\n猫"; /* question, then the answers sorted bytewise */
    core_sha256_hex(canon, strlen(canon), hex);
    hex[12] = '\0';
    CHECK_STR(json_string_value(json_object_get(i0, "id")), hex);
    json_t *i1 = json_array_get(items, 1);
    CHECK_STR(json_string_value(json_object_get(i1, "q")), "dog </script><!-- x");
    canon = "dog </script><!-- x\n犬";
    core_sha256_hex(canon, strlen(canon), hex);
    hex[12] = '\0';
    CHECK_STR(json_string_value(json_object_get(i1, "id")), hex);
    json_decref(q);

    /* Stable: the same id from the API, whatever the answers' order and spacing. */
    char id[13];
    const char *a1[] = { "猫", "ねこ" }, *a2[] = { " ねこ ", "猫", "猫", "" };
    CHECK_OK(wb_quiz_id("cat", a1, 2, id), err);
    char id2[13];
    CHECK_OK(wb_quiz_id("  cat ", a2, 4, id2), err);
    CHECK_STR(id, id2);
    core_sha256_hex("cat\nねこ\n猫", strlen("cat\nねこ\n猫"), hex);
    CHECK(strncmp(id, hex, 12) == 0);

    wb_buf_release(&out);
    wb_doc_release(&d);
    wb_entry_release(&cat);
}

static const char *dlg_audio(void *ud, const struct wb_block *b)
{
    (void)b;
    return ud;
}

static int custom_url(void *ud, const char *file, struct wb_buf *out)
{
    (void)ud;
    return wb_buf_appendf(out, "https://cdn.invalid/%s?x=1&y=2", file);
}

TEST(page_mode_with_cmark_and_dialogue)
{
    struct wb_doc d;
    struct wb_buf out;
    struct wb_render_opts o;
    const char *src =
        "\xef\xbb\xbf# Lesson <one>\n\nA [link][ref] and `code`.\n\n<dialogue>\n田中: こんにちは\nSmith: Hi\n</dialogue>\n"
        "- a list\n<wordbank>\n- 猫: cat\n</wordbank>\n\n[ref]: https://example.invalid/\n";

    wb_doc_init(&d);
    CHECK_OK(wb_doc_parse(&d, "dir/one.md", src, strlen(src), err), err);
    wb_buf_init(&out, 0);
    wb_render_opts_init(&o);
    o.mode = WB_RENDER_PAGE;
    o.base_url = "/course";
    o.dialogue_audio = dlg_audio;
    o.dialogue_ud = "dlg/one.mp3";
    o.media_url = custom_url;
    CHECK_OK(wb_doc_render(&d, NULL, NULL, &o, &out, err), err);
    CHECK(strncmp(out.data, "<!DOCTYPE html>\n<html lang=\"en\">", 32) == 0);
    CHECK(strstr(out.data, "<title>Lesson &lt;one&gt;</title>") != NULL); /* its first heading */
    CHECK(strstr(out.data, "href=\"/course/wordbank-assets/wordbank.css\"") != NULL);
    CHECK(strstr(out.data, "<h1>Lesson &lt;one&gt;</h1>") == NULL); /* raw HTML passes... */
    CHECK(strstr(out.data, "<h1>Lesson <one></h1>") != NULL);       /* ...as authors wrote it */
    CHECK(strstr(out.data, "<a href=\"https://example.invalid/\">link</a>") != NULL);
    CHECK(strstr(out.data, "<code>code</code>") != NULL);
    CHECK(strstr(out.data, "<li>a list</li>") != NULL);
    CHECK(strstr(out.data, "src=\"https://cdn.invalid/dlg/one.mp3?x=1&amp;y=2\"") != NULL);
    CHECK(strstr(out.data, "<span class=\"wb-speaker\">Smith</span>") != NULL);
    CHECK(strstr(out.data, "wb-voice-2") != NULL);
    CHECK(strstr(out.data, "wb-block-") == NULL); /* every placeholder replaced */
    CHECK_INT(count(out.data, "class=\"wb-card\""), 1);
    CHECK(strstr(out.data, "\xef\xbb\xbf") == NULL);
    CHECK(strstr(out.data, "</main>\n</body>\n</html>\n") != NULL);
    wb_buf_release(&out);
    {
        /* No heading (one inside a code fence does not count): the file name. */
        struct wb_doc d2;
        const char *src2 = "```\n# not a title\n```\ntext\n";
        wb_doc_init(&d2);
        CHECK_OK(wb_doc_parse(&d2, "dir/two.md", src2, strlen(src2), err), err);
        wb_buf_init(&out, 0);
        CHECK_OK(wb_doc_render(&d2, NULL, NULL, &o, &out, err), err);
        CHECK(strstr(out.data, "<title>two.md</title>") != NULL);
        wb_buf_release(&out);
        wb_doc_release(&d2);
    }

    /* Without audio: the transcript alone. Inline assets: no links. */
    o.dialogue_audio = NULL;
    o.inline_assets = 1;
    o.mode = WB_RENDER_FRAGMENT;
    wb_buf_init(&out, 0);
    CHECK_OK(wb_doc_render(&d, NULL, NULL, &o, &out, err), err);
    CHECK(strstr(out.data, "<audio") == NULL);
    CHECK(strstr(out.data, "wb-transcript") != NULL);
    CHECK(strstr(out.data, "wordbank-assets") == NULL);
    CHECK_INT(count(out.data, "<style>"), 1);
    CHECK(strstr(out.data, "\n\n<dialogue>") == NULL);
    CHECK(strstr(out.data, "\n\n") != NULL); /* the Markdown's own blank lines stay */
    wb_buf_release(&out);
    wb_doc_release(&d);
}

TEST(card_without_entry_or_picture)
{
    struct wb_buf out;
    struct wb_render_opts o;
    struct wb_word_item it = { .word = "鳥", .translation = "bird", .context = "animal" };
    wb_buf_init(&out, 0);
    wb_render_opts_init(&o);
    CHECK_OK(content_card(&out, &o, NULL, &it, err), err);
    CHECK(strstr(out.data, "<img") == NULL);
    CHECK(strstr(out.data, "wb-nopic") != NULL);
    CHECK(strstr(out.data, "tabindex=\"0\" role=\"button\" aria-pressed=\"false\"") != NULL);
    CHECK(strstr(out.data, "<p class=\"wb-translation\">bird</p>") != NULL);
    CHECK(strstr(out.data, "<p class=\"wb-context\">animal</p>") != NULL);
    CHECK(strstr(out.data, "wb-play") == NULL);
    wb_buf_release(&out);
}

TEST(preview_and_assets)
{
    struct wb_entry e[2];
    struct wb_buf out, f;
    struct wb_render_opts o;

    wb_entry_init(&e[0]);
    wb_entry_init(&e[1]);
    e[0].word = strdup("猫");
    e[0].translation = strdup("Cat");
    e[0].reading = strdup("ネコ");
    e[1].word = strdup("犬");
    e[1].translation = strdup("dog");
    wb_buf_init(&out, 0);
    wb_render_opts_init(&o);
    CHECK_OK(wb_render_preview(e, 2, &o, &out, err), err);
    CHECK(strstr(out.data, "class=\"wb-search-input\"") != NULL);
    CHECK(strstr(out.data, "data-wb-search=\"猫 cat ねこ\"") != NULL);
    CHECK(strstr(out.data, "2 cards") != NULL);
    CHECK_INT(count(out.data, "class=\"wb-card\""), 2);
    wb_buf_release(&out);
    wb_entry_release(&e[0]);
    wb_entry_release(&e[1]);

    const char *dir = th_tmpdir();
    CHECK_OK(wb_site_write_assets(dir, err), err);
    wb_buf_init(&f, 0);
    char path[4096];
    snprintf(path, sizeof(path), "%s/wordbank-assets/wordbank.css", dir);
    CHECK_OK(core_file_read(path, &f, err), err);
    CHECK_INT(f.len, content_css_len);
    CHECK(strstr(f.data, ".wb-card") != NULL);
    wb_buf_reset(&f);
    snprintf(path, sizeof(path), "%s/wordbank-assets/wordbank.js", dir);
    CHECK_OK(core_file_read(path, &f, err), err);
    CHECK(strstr(f.data, "normalize('NFKC')") != NULL);
    CHECK(strstr(f.data, "http") == NULL); /* nothing fetched from the network */
    wb_buf_release(&f);
    /* Twice is fine (replaced atomically). */
    CHECK_OK(wb_site_write_assets(dir, err), err);
}

TEST(site_index_titles_and_escaping)
{
    struct wb_doc doc;
    struct wb_buf title, out;
    struct wb_error err = { 0 };
    const char *src = "intro\n```\n# not a title\n```\n## Lesson <1> ##\r\ntext\n# later\n";
    const char *titles[2], *hrefs[2] = { "a b/01.html", "x\"y.html" };
    wb_doc_init(&doc);
    wb_buf_init(&title, 0);
    wb_buf_init(&out, 0);
    CHECK_INT(wb_doc_parse(&doc, "t.md", src, strlen(src), &err), 0);
    CHECK_INT(wb_doc_title(&doc, &title), 0);
    /* The first heading outside fenced code, without its closing hashes. */
    CHECK_STR(title.data, "Lesson <1>");
    titles[0] = "Lesson <1>";
    titles[1] = "";
    CHECK_INT(wb_render_index("My <site>", titles, hrefs, 2, NULL, &out, &err), 0);
    CHECK(strstr(out.data, "<h1>My &lt;site&gt;</h1>") != NULL);
    CHECK(strstr(out.data, "href=\"a%20b/01.html\"") != NULL);
    CHECK(strstr(out.data, ">Lesson &lt;1&gt;</a>") != NULL);
    CHECK(strstr(out.data, "x\"y") == NULL); /* the quote never reaches an attribute raw */
    wb_buf_release(&title);
    wb_buf_release(&out);
    wb_doc_release(&doc);
}

/* docs/content.md: "An item whose id already appears in the same quiz is
 * asked once": the same word and translation twice (another hint, other
 * spacing) is one quiz item; the cards are all still there. */
TEST(quiz_asks_a_repeated_item_once)
{
    struct wb_doc d;
    struct wb_entry cat;
    struct wb_buf out;
    struct wb_render_opts o;
    const char *src = "<wordbank>\n- 猫: cat (pet)\n- 犬: dog\n- 猫: cat (another hint)\n"
                      "- 猫:   cat  \n</wordbank>\n";
    wb_entry_init(&cat);
    cat.word = strdup("猫");
    cat.translation = strdup("cat");
    cat.reading = strdup("ねこ");
    wb_doc_init(&d);
    CHECK_OK(wb_doc_parse(&d, "dup.md", src, strlen(src), err), err);
    wb_buf_init(&out, 0);
    wb_render_opts_init(&o);
    CHECK_OK(wb_doc_render(&d, lookup_one, &cat, &o, &out, err), err);
    CHECK_INT(count(out.data, "class=\"wb-card\""), 4);
    json_t *q = quiz_json(out.data, 0), *items = json_object_get(q, "items");
    CHECK_INT(json_array_size(items), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 0), "q")), "cat");
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 0), "hint")), "pet");
    CHECK_STR(json_string_value(json_object_get(json_array_get(items, 1), "q")), "dog");
    CHECK(strcmp(json_string_value(json_object_get(json_array_get(items, 0), "id")),
                 json_string_value(json_object_get(json_array_get(items, 1), "id"))) != 0);
    json_decref(q);
    wb_buf_release(&out);
    wb_doc_release(&d);
    wb_entry_release(&cat);
}

/* The options grow by size (wordbank/api.h): a caller built when no_quiz did
 * not exist yet passes a smaller size, and whatever lies past it is not read
 * (the quiz stays on); an unset size and a newer caller's larger one are
 * refused, with nothing rendered. */
TEST(render_opts_by_size)
{
    struct wb_doc doc;
    struct wb_buf out;
    struct {
        struct wb_render_opts o;
        char newer[16]; /* a field of a later release */
    } big;
    const char *md = "<wordbank>\n- 猫: cat\n- 犬: dog\n</wordbank>\n";

    wb_doc_init(&doc);
    wb_buf_init(&out, 0);
    CHECK_OK(wb_doc_parse(&doc, "size.md", md, strlen(md), err), err);
    memset(&big, 0, sizeof big);
    wb_render_opts_init(&big.o);
    CHECK_INT(big.o.size, sizeof big.o);
    big.o.no_quiz = 1;
    CHECK_OK(wb_doc_render(&doc, NULL, NULL, &big.o, &out, err), err);
    CHECK(strstr(out.data, "wb-quiz-data") == NULL); /* the full size: no_quiz is read */

    wb_buf_reset(&out);
    big.o.size = offsetof(struct wb_render_opts, no_quiz); /* an older, smaller struct */
    CHECK_OK(wb_doc_render(&doc, NULL, NULL, &big.o, &out, err), err);
    CHECK(strstr(out.data, "wb-quiz-data") != NULL); /* no_quiz is past it: its default */
    wb_buf_reset(&out);
    CHECK_OK(wb_render_preview(NULL, 0, &big.o, &out, err), err);

    wb_buf_reset(&out);
    big.o.size = sizeof big; /* larger than this library knows */
    CHECK_INT(wb_doc_render(&doc, NULL, NULL, &big.o, &out, err), WB_EINVAL);
    CHECK(strstr(wb_error_text(err), "newer wordbank") != NULL);
    CHECK_INT(wb_render_preview(NULL, 0, &big.o, &out, err), WB_EINVAL);
    CHECK_INT(wb_render_index("x", NULL, NULL, 0, &big.o, &out, err), WB_EINVAL);
    big.o.size = 0; /* never set: a zero-initialised struct */
    CHECK_INT(wb_doc_render(&doc, NULL, NULL, &big.o, &out, err), WB_EINVAL);
    CHECK(strstr(wb_error_text(err), "too small") != NULL);
    CHECK_INT(out.len, 0);
    wb_buf_release(&out);
    wb_doc_release(&doc);
}
