/* Readings as written and checked against EDICT: kana stays as the word
 * writes it, furigana covers only kanji, and the sense matching the
 * translation (and context) decides between a word's readings. Uses Debian's
 * real EDICT, indexed into the build tree's shared test cache. */
#include <stdlib.h>

#include "test.h"
#include "th_edict.h"
#include "wordbank/text.h"

static void check_written(const char *word, const char *reading, const char *want)
{
    struct wb_buf b;
    wb_buf_init(&b, 0);
    CHECK_INT(wb_text_reading_as_written(word, reading, &b), 0);
    CHECK_MSG(b.data && strcmp(b.data, want) == 0, "%s [%s]: got \"%s\", want \"%s\"", word,
              reading, b.data ? b.data : "", want);
    wb_buf_release(&b);
}

TEST(reading_as_written)
{
    check_written("メモ帳", "めもちょう", "メモちょう");
    check_written("メモ帳", "メモちょう", "メモちょう");
    check_written("ノーベル賞", "のーべるしょう", "ノーベルしょう");
    check_written("食べる", "たべる", "たべる");
    check_written("東京", "トウキョウ", "とうきょう");
    check_written("お茶", "おちゃ", "おちゃ");
    check_written("ラーメン", "らーめん", "ラーメン");
    check_written("ｔシャツ", "てぃーしゃつ", "てぃーシャツ");
    /* Kana that does not fit the reading: the reading as given. */
    check_written("メモ帳", "のーと", "のーと");
}

struct case_ {
    const char *word, *translation, *context, *given, *want;
    int verdict;
};

TEST(readings_fixed_list)
{
    static const struct case_ cases[] = {
        /* katakana stays katakana */
        { "メモ帳", "notepad", NULL, NULL, "メモちょう", WB_READING_FILLED },
        { "ノーベル賞", "Nobel Prize", NULL, NULL, "ノーベルしょう", WB_READING_FILLED },
        { "メモ帳", "notepad", NULL, "めもちょう", "メモちょう", WB_READING_CONFIRMED },
        /* EDICT writes the readings of ateji in katakana, and so do we */
        { "伯剌西爾", "Brazil", NULL, NULL, "ブラジル", WB_READING_FILLED },
        { "伯剌西爾", "Brazil", NULL, "ぶらじる", "ブラジル", WB_READING_CONFIRMED },
        /* the sense that matches the translation decides */
        { "何れ", "which", NULL, NULL, "どれ", WB_READING_FILLED },
        { "何れ", "sooner or later", NULL, NULL, "いずれ", WB_READING_FILLED },
        { "注ぐ", "to pour (into a cup)", NULL, NULL, "つぐ", WB_READING_FILLED },
        { "注ぐ", "to pour", NULL, NULL, "そそぐ", WB_READING_FILLED },
        { "注ぐ", "to pour", "into a cup of tea", NULL, "つぐ", WB_READING_FILLED },
        { "居る", "to be (humble)", NULL, NULL, "おる", WB_READING_FILLED },
        { "居る", "to be", NULL, NULL, "いる", WB_READING_FILLED },
        { "橋", "bridge", NULL, NULL, "はし", WB_READING_FILLED },
        { "端", "edge", NULL, NULL, "はし", WB_READING_FILLED },
        { "生", "draft beer", NULL, NULL, "なま", WB_READING_FILLED },
        /* a provider's reading: kept when EDICT has it for this meaning... */
        { "何れ", "which", NULL, "いずれ", "いずれ", WB_READING_CONFIRMED },
        { "東京", "Tokyo", NULL, "とうきょう", "とうきょう", WB_READING_CONFIRMED },
        /* ...corrected when EDICT does not read the word so for it... */
        { "注ぐ", "to pour (into a cup)", NULL, "そそぐ", "つぐ", WB_READING_CORRECTED },
        { "居る", "to be (humble)", NULL, "いる", "おる", WB_READING_CORRECTED },
        { "猫", "cat", NULL, "いぬ", "ねこ", WB_READING_CORRECTED },
        { "ノーベル賞", "Nobel Prize", NULL, "のーべるしょ", "ノーベルしょう",
          WB_READING_CORRECTED },
        /* ...and flagged, but kept, when EDICT does not know the word */
        { "見せてもらう", "to have someone show", NULL, "みせてもらう", "みせてもらう",
          WB_READING_CONFIRMED },
        { "見せてもらう", "to have someone show", NULL, "みせてくれる", "みせてくれる",
          WB_READING_UNVERIFIED },
        { "見せてもらう", "to have someone show", NULL, NULL, "みせてもらう", WB_READING_FILLED },
        /* a "reading" that is not kana is replaced by MeCab's */
        { "見せてもらう", "to have someone show", NULL, "見せてもらう", "みせてもらう",
          WB_READING_CORRECTED },
        /* a kana word reads as written */
        { "ラーメン", "ramen", NULL, "らーめん", "ラーメン", WB_READING_CONFIRMED },
    };
    struct wb_text *t = NULL;
    struct wb_edict *d = th_edict();
    struct wb_error err = { 0 };

    CHECK_OK(wb_text_new(NULL, &t, &err), &err);
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        const struct case_ *c = &cases[i];
        struct wb_buf b;
        int verdict = -1;
        wb_buf_init(&b, 0);
        CHECK_OK(wb_text_check_reading(t, d, c->word, c->translation, c->context, c->given, &b,
                                       &verdict, &err),
                 &err);
        CHECK_MSG(b.data && strcmp(b.data, c->want) == 0, "%s \"%s\" (%s): got \"%s\", want \"%s\"",
                  c->word, c->translation, c->given ? c->given : "-", b.data ? b.data : "",
                  c->want);
        CHECK_MSG(verdict == c->verdict, "%s \"%s\" (%s): verdict %d, want %d", c->word,
                  c->translation, c->given ? c->given : "-", verdict, c->verdict);
        wb_buf_release(&b);
    }
    wb_text_free(t);
    wb_edict_close(d);
}
