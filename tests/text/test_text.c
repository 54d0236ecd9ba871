/* Text module: kana and width conversion, MeCab readings and tokens, and that
 * a user's mecabrc cannot change them. */
#include <stdlib.h>

#include "test.h"
#include "wordbank/text.h"

static struct wb_text *tagger(void)
{
    struct wb_text *t = NULL;
    struct wb_error err = { 0 };
    CHECK_OK(wb_text_new(NULL, &t, &err), &err);
    return t;
}

static void check_conv(int (*fn)(const char *, struct wb_buf *), const char *in, const char *want)
{
    struct wb_buf b;
    wb_buf_init(&b, 0);
    CHECK_INT(fn(in, &b), 0);
    CHECK_STR(b.data, want);
    wb_buf_release(&b);
}

TEST(kana_and_width)
{
    check_conv(wb_kana_to_hiragana, "ネコとトーキョー、ヴ",
               "ねことと\xe3\x83\xbcきょ\xe3\x83\xbc、ゔ");
    check_conv(wb_kana_to_katakana, "ねこ abc 猫ゝ", "ネコ abc 猫ヽ");
    check_conv(wb_text_fold_width, "ＡＢＣ１２３！　ｶﾞｷﾞﾊﾟﾋﾟｳﾞﾞｱ", "ABC123! ガギパピヴ゛ア");
    check_conv(wb_text_fold_width, "ｺﾝﾆﾁﾊ｡", "コンニチハ。");
    /* Invalid UTF-8 passes through untouched. */
    check_conv(wb_kana_to_hiragana, "a\xff\xe3\x82z", "a\xff\xe3\x82z");
    CHECK(wb_text_has_kanji("食べる"));
    CHECK(wb_text_has_kanji("人々"));
    CHECK(!wb_text_has_kanji("たべる"));
    CHECK(!wb_text_has_kanji("ABC"));
    CHECK(wb_text_is_kana("ラーメン"));
    CHECK(wb_text_is_kana("ねこ"));
    CHECK(!wb_text_is_kana("猫"));
    CHECK(!wb_text_is_kana(""));
}

static void check_reading(struct wb_text *t, const char *word, const char *want)
{
    struct wb_buf b;
    struct wb_error err = { 0 };
    wb_buf_init(&b, 0);
    CHECK_OK(wb_text_reading(t, word, &b, &err), &err);
    CHECK_STR(b.data, want);
    wb_buf_release(&b);
}

TEST(readings_fixed_set)
{
    struct wb_text *t = tagger();
    check_reading(t, "猫", "ねこ");
    check_reading(t, "食べる", "たべる");
    check_reading(t, "東京都", "とうきょうと");
    check_reading(t, "見せてもらいました", "みせてもらいました");
    check_reading(t, "ネコ", "ねこ");
    check_reading(t, "", "");
    wb_text_free(t);
}

TEST(tokens_of_a_sentence)
{
    static const char *const want[][4] = {
        { "見せ", "見せる", "みせ", "動詞" },     { "て", "て", "て", "助詞" },
        { "もらい", "もらう", "もらい", "動詞" }, { "まし", "ます", "まし", "助動詞" },
        { "た", "た", "た", "助動詞" },
    };
    struct wb_text *t = tagger();
    struct wb_token *k = NULL;
    size_t n = 0;
    struct wb_error err = { 0 };
    CHECK_OK(wb_text_tokenize(t, "見せてもらいました", &k, &n, &err), &err);
    CHECK_INT(n, 5);
    for (size_t i = 0; i < 5; i++) {
        CHECK_STR(k[i].surface, want[i][0]);
        CHECK_STR(k[i].base, want[i][1]);
        CHECK_STR(k[i].reading, want[i][2]);
        CHECK_STR(k[i].pos, want[i][3]);
        CHECK(k[i].known);
    }
    CHECK_STR(k[0].pos_detail, "自立");
    CHECK_STR(k[2].pos_detail, "非自立");
    CHECK_STR(k[3].pos_detail, "");
    CHECK_STR(k[0].pronunciation, "ミセ");
    wb_tokens_free(k, n);
    wb_text_free(t);
}

TEST(pronunciation_for_speech)
{
    struct wb_text *t = tagger();
    struct wb_buf b;
    struct wb_error err = { 0 };
    wb_buf_init(&b, 0);
    CHECK_OK(wb_text_pronunciation(t, "東京は大きい。", &b, &err), &err);
    CHECK_STR(b.data, "トーキョーワオーキイ。");
    wb_buf_reset(&b);
    /* A word MeCab does not know keeps its kana. */
    CHECK_OK(wb_text_pronunciation(t, "ぴよぴよぷー", &b, &err), &err);
    CHECK(strstr(b.data, "ピ") != NULL);
    wb_buf_release(&b);
    wb_text_free(t);
}

TEST(user_mecabrc_is_ignored)
{
    /* A hostile rc (wrong dictionary, a user dictionary that does not exist)
     * must not matter: we always pass -r /dev/null and -d. */
    char rc_path[4200];
    snprintf(rc_path, sizeof rc_path, "%s/mecabrc", th_tmpdir());
    FILE *f = fopen(rc_path, "w");
    CHECK(f != NULL);
    fputs("dicdir = /nonexistent\nuserdic = /nonexistent/user.dic\n", f);
    fclose(f);
    setenv("MECABRC", rc_path, 1);
    setenv("HOME", th_tmpdir(), 1);
    struct wb_text *t = tagger();
    check_reading(t, "食べる", "たべる");
    CHECK_STR(wb_text_dicdir(t), "/var/lib/mecab/dic/ipadic-utf8");
    wb_text_free(t);
}

TEST(bad_dictionary_is_a_config_error)
{
    struct wb_config *cfg = NULL;
    struct wb_text *t = NULL;
    struct wb_error err = { 0 };
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set(cfg, "mecab_dicdir", th_tmpdir(), WB_SRC_FLAG), 0);
    CHECK_INT(wb_text_new(cfg, &t, &err), WB_ECONFIG);
    CHECK(t == NULL);
    CHECK(strstr(err.msg, th_tmpdir()) != NULL);
    wb_config_free(cfg);
}

TEST(tokenize_caps_input)
{
    struct wb_text *t = tagger();
    size_t big = (1u << 20) + 1;
    char *s = malloc(big + 1);
    CHECK(s != NULL);
    memset(s, 'a', big);
    s[big] = '\0';
    struct wb_token *k = NULL;
    size_t n = 0;
    struct wb_error err = { 0 };
    CHECK_INT(wb_text_tokenize(t, s, &k, &n, &err), WB_ETOOBIG);
    CHECK(k == NULL && n == 0);
    free(s);
    wb_text_free(t);
}
