/* Pitch accent from open-jtalk-mecab-naist-jdic: single words, several
 * accents, compounds by the chain rules, a reading the dictionary lists only
 * as a word of its own, the dicrc folder made in the cache, and a clear error
 * when the dictionary folder is wrong. */
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "wordbank/entry.h"
#include "wordbank/text.h"

static struct wb_text *tagger(const char *cache, const char *pitch_dicdir)
{
    struct wb_config *cfg = NULL;
    struct wb_text *t = NULL;
    struct wb_error err = { 0 };
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set(cfg, "cache_dir", cache, WB_SRC_FLAG), 0);
    if (pitch_dicdir)
        CHECK_INT(wb_config_set(cfg, "pitch_dicdir", pitch_dicdir, WB_SRC_FLAG), 0);
    CHECK_OK(wb_text_new(cfg, &t, &err), &err);
    wb_config_free(cfg);
    return t;
}

static void check_pitch(struct wb_text *t, const char *word, const char *reading, const char *want)
{
    int acc[WB_PITCH_MAX];
    size_t n = 99;
    char got[64] = "";
    struct wb_error err = { 0 };
    CHECK_OK(wb_text_pitch_accent(t, word, reading, acc, WB_PITCH_MAX, &n, &err), &err);
    for (size_t i = 0; i < n && i < WB_PITCH_MAX; i++)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%d", i ? "," : "", acc[i]);
    CHECK_MSG(strcmp(got, want) == 0, "%s [%s]: pitch \"%s\", want \"%s\"", word,
              reading ? reading : "-", got, want);
}

TEST(pitch_of_a_fixed_list)
{
    char cache[4200];
    snprintf(cache, sizeof cache, "%s/cache", th_tmpdir());
    struct wb_text *t = tagger(cache, NULL);

    CHECK(wb_text_pitch_dicdir(t) == NULL); /* opened on first use */
    check_pitch(t, "箸", "はし", "1");
    check_pitch(t, "橋", "はし", "2");
    check_pitch(t, "端", "はし", "0");
    check_pitch(t, "雨", "あめ", "1");
    check_pitch(t, "飴", "あめ", "0");
    check_pitch(t, "箸", NULL, "1");
    check_pitch(t, "食べる", "たべる", "2");
    check_pitch(t, "大学生", "だいがくせい", "3");
    /* compounds through the suffixes' chain rules */
    check_pitch(t, "ノーベル賞", "ノーベルしょう", "4");
    check_pitch(t, "メモ帳", "メモちょう", "0");
    check_pitch(t, "東京都", "とうきょうと", "4");
    /* the reading picks among the spelling's entries, or stands on its own */
    check_pitch(t, "注ぐ", "つぐ", "0");
    check_pitch(t, "注ぐ", "そそぐ", "0");
    check_pitch(t, "何れ", "いずれ", "0");
    check_pitch(t, "何れ", "どれ", "1");
    check_pitch(t, "居る", "おる", "1");
    check_pitch(t, "居る", "いる", "0");
    /* what the dictionary cannot tell */
    check_pitch(t, "箸", "ぴよぴよぷーぺん", "");
    check_pitch(t, "ぴよぴよぷーぺん語", NULL, "");
    check_pitch(t, "", NULL, "");

    /* The folder MeCab reads: a generated dicrc beside the package's files. */
    CHECK(wb_text_pitch_dicdir(t) != NULL);
    char p[4400];
    struct stat st;
    snprintf(p, sizeof p, "%s/open-jtalk-dic/dicrc", cache);
    CHECK(stat(p, &st) == 0 && S_ISREG(st.st_mode));
    snprintf(p, sizeof p, "%s/open-jtalk-dic/sys.dic", cache);
    CHECK(lstat(p, &st) == 0 && S_ISLNK(st.st_mode));
    wb_text_free(t);

    /* A second tagger reuses the folder. */
    t = tagger(cache, NULL);
    check_pitch(t, "橋", "はし", "2");
    wb_text_free(t);

    CHECK_INT(wb_text_morae("きょう"), 2);
    CHECK_INT(wb_text_morae("ノーベルしょう"), 6);
    CHECK_INT(wb_text_morae("がっこう"), 4);
}

TEST(pitch_dictionary_folder_must_be_usable)
{
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/empty-dic", th_tmpdir());
    CHECK(mkdir(dir, 0700) == 0);
    struct wb_text *t = tagger(th_tmpdir(), dir);
    int acc[WB_PITCH_MAX];
    size_t n = 0;
    struct wb_error err = { 0 };
    CHECK_INT(wb_text_pitch_accent(t, "箸", NULL, acc, WB_PITCH_MAX, &n, &err), WB_ECONFIG);
    CHECK(strstr(wb_error_text(&err), "empty-dic") != NULL);
    CHECK_INT(n, 0);
    /* Opened ahead of the first lookup, the same refusal. */
    memset(&err, 0, sizeof err);
    CHECK_INT(wb_text_pitch_open(t, &err), WB_ECONFIG);
    CHECK(strstr(wb_error_text(&err), "empty-dic") != NULL);
    wb_text_free(t);
}

/* wb_text_pitch_open opens the accent dictionary before any lookup (the
 * pipeline does so on its worker pool as a run starts). */
TEST(pitch_dictionary_opened_ahead)
{
    char cache[4200];
    struct wb_error err = { 0 };
    snprintf(cache, sizeof cache, "%s/cache-ahead", th_tmpdir());
    struct wb_text *t = tagger(cache, NULL);
    CHECK(wb_text_pitch_dicdir(t) == NULL);
    CHECK_OK(wb_text_pitch_open(t, &err), &err);
    CHECK(wb_text_pitch_dicdir(t) != NULL);
    check_pitch(t, "箸", "はし", "1");
    wb_text_free(t);
}
