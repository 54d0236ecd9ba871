/* Block parser and word-line parsers on tricky input: nested-looking tags,
 * CRLF, BOM, code fences, blank and malformed lines, full-width punctuation,
 * several blocks, and text outside blocks reproduced byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "wordbank/content.h"

static void parse(struct wb_doc *d, const char *src)
{
    struct wb_error err0 = { 0 }, *err = &err0;
    wb_doc_init(d);
    CHECK_OK(wb_doc_parse(d, "lesson.md", src, strlen(src), err), err);
}

/* The fragment rendering with every block replaced by "[B]": what the
 * parser kept outside the blocks, byte for byte. */
static char *outside(const struct wb_doc *d)
{
    struct wb_buf b;
    size_t pos = 0;
    wb_buf_init(&b, 0);
    for (size_t i = 0; i < d->n_blocks; i++) {
        wb_buf_append(&b, d->src + pos, d->blocks[i].start - pos);
        wb_buf_appends(&b, "[B]");
        pos = d->blocks[i].end;
    }
    wb_buf_append(&b, d->src + pos, d->len - pos);
    return wb_buf_detach(&b, NULL);
}

static int has_diag(const struct wb_doc *d, const char *needle)
{
    for (size_t i = 0; i < d->n_diags; i++)
        if (strstr(d->diags[i], needle))
            return 1;
    return 0;
}

TEST(line_parser_basic_and_fullwidth)
{
    struct wb_word_item it;
    struct wb_error err0 = { 0 }, *err = &err0;
    const char *l1 = "- 猫: cat (the common household pet)";
    CHECK_OK(wb_word_line_parse(l1, strlen(l1), &it, err), err);
    CHECK_STR(it.word, "猫");
    CHECK_STR(it.translation, "cat");
    CHECK_STR(it.context, "the common household pet");
    wb_word_item_release(&it);

    const char *l2 = "  * 食べる：to eat（food, meals）  \r";
    CHECK_OK(wb_word_line_parse(l2, strlen(l2), &it, err), err);
    CHECK_STR(it.word, "食べる");
    CHECK_STR(it.translation, "to eat");
    CHECK_STR(it.context, "food, meals");
    wb_word_item_release(&it);

    /* Parentheses inside the translation stay; only a final group is context;
     * a colon in the translation is kept. */
    const char *l3 = "- 時計: clock (wall) or watch: a device";
    CHECK_OK(wb_word_line_parse(l3, strlen(l3), &it, err), err);
    CHECK_STR(it.translation, "clock (wall) or watch: a device");
    CHECK(it.context == NULL);
    wb_word_item_release(&it);

    const char *l4 = "- 行く: to go (to a place (not home))";
    CHECK_OK(wb_word_line_parse(l4, strlen(l4), &it, err), err);
    CHECK_STR(it.translation, "to go");
    CHECK_STR(it.context, "to a place (not home)");
    wb_word_item_release(&it);

    const char *l5 = "-\t犬 : dog ()";
    CHECK_OK(wb_word_line_parse(l5, strlen(l5), &it, err), err);
    CHECK_STR(it.word, "犬");
    CHECK_STR(it.translation, "dog");
    CHECK(it.context == NULL);
    wb_word_item_release(&it);
}

TEST(line_parser_rejects_with_reasons)
{
    struct wb_word_item it;
    struct wb_error err0 = { 0 }, *err = &err0;
    static const struct {
        const char *line, *reason;
    } bad[] = {
        { "猫: cat", "expected '- word: translation (context)'" },
        { "- 猫 cat", "missing ':'" },
        { "- : cat", "missing word" },
        { "- 猫:", "missing translation" },
        { "- 猫: (pet)", "missing translation" },
        { "- 猫: cat (pet", "unbalanced '('" },
        { "- 猫: cat) pet", "unbalanced ')'" },
        { "-猫: cat", "expected" },
        { "- \xff\xfe: cat", "invalid UTF-8" },
        /* The entry rules every way in shares (wb_entry_check). */
        { "- 猫\x01: cat", "word contains a control character (U+0001)" },
        { "- 猫: cat\x7f", "translation contains a control character (U+007F)" },
        { "- 猫: cat (pet\x1b)", "context contains a control character (U+001B)" },
        { "- \xc2\xa0: cat", "word is blank" },
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int rc = wb_word_line_parse(bad[i].line, strlen(bad[i].line), &it, err);
        CHECK_MSG(rc == WB_EPARSE, "%s: rc %d", bad[i].line, rc);
        CHECK_MSG(strstr(err->msg, bad[i].reason) != NULL, "%s: %s", bad[i].line, err->msg);
        CHECK(it.word == NULL && it.translation == NULL);
    }
    CHECK_INT(wb_word_line_parse("  \r\n", 4, &it, err), WB_LINE_BLANK);
    CHECK_INT(wb_word_line_parse("\xe3\x80\x80", 3, &it, err), WB_LINE_BLANK);
}

TEST(tsv_parser)
{
    struct wb_word_item it;
    struct wb_error err0 = { 0 }, *err = &err0;
    const char *l = "猫\tcat\tthe pet\r\n";
    CHECK_OK(wb_word_tsv_parse(l, strlen(l), &it, err), err);
    CHECK_STR(it.word, "猫");
    CHECK_STR(it.translation, "cat");
    CHECK_STR(it.context, "the pet");
    wb_word_item_release(&it);
    CHECK_OK(wb_word_tsv_parse("犬\tdog", 7, &it, err), err);
    CHECK(it.context == NULL);
    wb_word_item_release(&it);
    CHECK_INT(wb_word_tsv_parse("# comment", 9, &it, err), WB_LINE_BLANK);
    CHECK_INT(wb_word_tsv_parse("", 0, &it, err), WB_LINE_BLANK);
    CHECK_INT(wb_word_tsv_parse("猫", 3, &it, err), WB_EPARSE);
    CHECK_INT(wb_word_tsv_parse("\tcat", 4, &it, err), WB_EPARSE);
    CHECK_INT(wb_word_tsv_parse("a\tb\tc\td", 7, &it, err), WB_EPARSE);
    CHECK(strstr(err->msg, "too many fields") != NULL);
}

TEST(several_blocks_and_text_kept)
{
    struct wb_doc d;
    const char *src =
        "# Lesson 1\n\nIntro *text*.\n<wordbank>\n- 猫: cat (pet)\n\n- 犬: dog\n</wordbank>\n"
        "Between.\n<WordBank >\n- 鳥: bird\n</WORDBANK>\ntrailing without newline";
    parse(&d, src);
    CHECK_INT(d.n_blocks, 2);
    CHECK_INT(d.n_diags, 0);
    CHECK_INT(d.blocks[0].n_items, 2);
    CHECK_STR(d.blocks[0].items[1].word, "犬");
    CHECK_INT(d.blocks[0].items[1].line, 7);
    CHECK_INT(d.blocks[0].line, 4);
    CHECK_INT(d.blocks[1].n_items, 1);
    char *o = outside(&d);
    CHECK_STR(o, "# Lesson 1\n\nIntro *text*.\n[B]\nBetween.\n[B]\ntrailing without newline");
    free(o);
    wb_doc_release(&d);
}

TEST(crlf_and_bom)
{
    struct wb_doc d;
    const char *src =
        "\xef\xbb\xbf<wordbank>\r\n- 猫: cat (pet)\r\n- bad line\r\n</wordbank>\r\nafter\r\n";
    parse(&d, src);
    CHECK_INT(d.body, 3);
    CHECK_INT(d.n_blocks, 1);
    CHECK_INT(d.blocks[0].n_items, 1);
    CHECK_STR(d.blocks[0].items[0].context, "pet");
    CHECK_INT(d.n_diags, 1);
    CHECK_STR(d.diags[0], "lesson.md:3: missing ':' between word and translation");
    char *o = outside(&d);
    CHECK_STR(o, "\xef\xbb\xbf[B]\r\nafter\r\n");
    free(o);
    wb_doc_release(&d);
}

TEST(code_fences_leave_blocks_alone)
{
    struct wb_doc d;
    const char *src = "```markdown\n<wordbank>\n- 猫: cat\n</wordbank>\n```\n"
                      "~~~~\n<dialogue>\n````\n~~~\n~~~~~\n"
                      "````py\n~~~\n```\n````\n"
                      "<wordbank>\n- 犬: dog\n</wordbank>\n";
    parse(&d, src);
    CHECK_INT(d.n_blocks, 1);
    CHECK_STR(d.blocks[0].items[0].word, "犬");
    CHECK_INT(d.blocks[0].line, 15);
    CHECK_INT(d.n_diags, 0);
    wb_doc_release(&d);

    /* An unclosed fence runs to the end of the document. */
    parse(&d, "```\n<wordbank>\n- 猫: cat\n</wordbank>\n");
    CHECK_INT(d.n_blocks, 0);
    wb_doc_release(&d);
}

TEST(nested_looking_and_stray_tags)
{
    struct wb_doc d;
    const char *src =
        "</wordbank>\n<wordbank>\n<wordbank>\n- 猫: cat\n</dialogue>\n<dialogue>\n</wordbank>\n"
        "<wordbank> - 犬: dog </wordbank>\n<wordbanks>\n    <wordbank>\n";
    parse(&d, src);
    CHECK_INT(d.n_blocks, 1);
    CHECK_INT(d.blocks[0].n_items, 1);
    CHECK(has_diag(&d, "lesson.md:1: </wordbank> without an opening tag"));
    CHECK(has_diag(&d, "lesson.md:3: <wordbank> inside <wordbank> ignored"));
    CHECK(has_diag(&d, "lesson.md:5: </dialogue> does not close <wordbank>"));
    CHECK(has_diag(&d, "lesson.md:6: <dialogue> inside <wordbank>"));
    char *o = outside(&d);
    CHECK_STR(o,
              "</wordbank>\n[B]\n<wordbank> - 犬: dog </wordbank>\n<wordbanks>\n    <wordbank>\n");
    free(o);
    wb_doc_release(&d);
}

TEST(unclosed_block_is_text_and_rescanned)
{
    struct wb_doc d;
    const char *src =
        "<wordbank>\n- 猫: cat\nnot an entry\n<dialogue>\nA: hi\nB: yo\n</dialogue>\n";
    parse(&d, src);
    CHECK_INT(d.n_blocks, 1);
    CHECK_INT(d.blocks[0].kind, WB_BLOCK_DIALOGUE);
    CHECK(has_diag(&d, "lesson.md:1: <wordbank> is never closed; kept as text"));
    /* The unclosed block's own lines are not reported. */
    CHECK(!has_diag(&d, ":3:"));
    char *o = outside(&d);
    CHECK_STR(o, "<wordbank>\n- 猫: cat\nnot an entry\n[B]\n");
    free(o);
    wb_doc_release(&d);
}

TEST(malformed_lines_reported_and_skipped)
{
    struct wb_doc d;
    const char *src =
        "<wordbank>\n- 猫: cat\njust text\n- : nothing\n\n   \n- 犬：dog（animal）\n</wordbank>\n";
    parse(&d, src);
    CHECK_INT(d.blocks[0].n_items, 2);
    CHECK_INT(d.n_diags, 2);
    CHECK_STR(d.diags[0], "lesson.md:3: expected '- word: translation (context)'");
    CHECK_STR(d.diags[1], "lesson.md:4: missing word before ':'");
    CHECK_STR(d.blocks[0].items[1].context, "animal");
    wb_doc_release(&d);
}

TEST(dialogue_two_voices)
{
    struct wb_doc d;
    const char *src =
        "<dialogue>\n田中: こんにちは。\nSmith：Hello!\n\n田中: お元気ですか。\nno colon here\n</dialogue>\n"
        "<dialogue>\nA: one\nB: two\nC: three\n</dialogue>\n<dialogue>\nA: alone\n</dialogue>\n";
    parse(&d, src);
    CHECK_INT(d.n_blocks, 3);
    CHECK_INT(d.blocks[0].n_lines, 3);
    CHECK(d.blocks[0].two_voice);
    CHECK_STR(d.blocks[0].speakers[0], "田中");
    CHECK_STR(d.blocks[0].speakers[1], "Smith");
    CHECK_STR(d.blocks[0].lines[1].text, "Hello!");
    CHECK_INT(d.blocks[0].lines[2].line, 5);
    CHECK(has_diag(&d, "lesson.md:6: expected 'Name: text'"));
    CHECK(!d.blocks[1].two_voice);
    CHECK(has_diag(&d, "lesson.md:8: <dialogue> has more than two speakers"));
    CHECK(!d.blocks[2].two_voice);
    CHECK(has_diag(&d, "lesson.md:13: <dialogue> has one speaker"));
    wb_doc_release(&d);
}

/* The speaker name limit is the speech request's (64 bytes): a lesson that
 * parses is one that speaks. */
TEST(dialogue_speaker_name_limit)
{
    struct wb_doc d;
    char src[512], n64[65], n65[66];
    memset(n64, 'a', 64);
    n64[64] = '\0';
    memset(n65, 'b', 65);
    n65[65] = '\0';
    snprintf(src, sizeof src, "<dialogue>\n%s: one\nB: two\n%s: three\n</dialogue>\n", n64, n65);
    parse(&d, src);
    CHECK_INT(d.n_blocks, 1);
    CHECK_INT(d.blocks[0].n_lines, 2);
    CHECK_STR(d.blocks[0].speakers[0], n64);
    CHECK(has_diag(&d, "lesson.md:4: speaker name too long (over 64 bytes)"));
    wb_doc_release(&d);
}

TEST(empty_and_odd_inputs)
{
    struct wb_doc d;
    struct wb_error err0 = { 0 }, *err = &err0;
    parse(&d, "");
    CHECK_INT(d.n_blocks, 0);
    CHECK_INT(d.len, 0);
    wb_doc_release(&d);
    parse(&d, "<wordbank>\n</wordbank>");
    CHECK_INT(d.n_blocks, 1);
    CHECK_INT(d.blocks[0].n_items, 0);
    CHECK_INT(d.blocks[0].end, strlen("<wordbank>\n</wordbank>"));
    wb_doc_release(&d);
    /* Embedded NUL bytes and the size cap. */
    wb_doc_init(&d);
    CHECK_OK(wb_doc_parse(&d, NULL, "a\0<wordbank>\n", 13, err), err);
    CHECK_STR(d.name, "<input>");
    wb_doc_release(&d);
    CHECK_INT(wb_doc_parse(&d, "big.md", "", (size_t)WB_CONTENT_MAX_DOC + 1, err), WB_ETOOBIG);
    wb_doc_release(&d);
}
