/* Vocabulary extraction: content words counted by base form, function words
 * left out, glosses from EDICT, order by count then first occurrence, TSV. */
#include <stdlib.h>

#include "test.h"
#include "th_edict.h"
#include "wordbank/text.h"

static const struct wb_extract_item *find(const struct wb_extract_item *it, size_t n,
                                          const char *base)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(it[i].base, base) == 0)
            return &it[i];
    return NULL;
}

static const char paragraph[] = "猫が魚を食べました。\n"
                                "猫は庭で寝ています。犬も魚を食べる。\n"
                                "私はその猫を見せてもらいました。";

TEST(extract_counts_and_excludes)
{
    struct wb_text *t = NULL;
    struct wb_edict *d = th_edict();
    struct wb_extract_item *it = NULL;
    size_t n = 0;
    struct wb_error err = { 0 };

    CHECK_OK(wb_text_new(NULL, &t, &err), &err);
    CHECK_OK(wb_extract(t, d, paragraph, strlen(paragraph), &it, &n, &err), &err);
    /* 猫 3, 魚 2, 食べる 2, then 庭 寝る 犬 見せる once each, in text order. */
    static const char *const want[] = { "猫", "魚", "食べる", "庭", "寝る", "犬", "見せる" };
    static const size_t counts[] = { 3, 2, 2, 1, 1, 1, 1 };
    for (size_t i = 0; i < n; i++)
        printf("# %s\t%s\t%s\t%zu\t%s\n", it[i].base, it[i].reading, it[i].pos, it[i].count,
               it[i].gloss ? it[i].gloss : "-");
    CHECK_INT(n, 7);
    for (size_t i = 0; i < 7; i++) {
        CHECK_STR(it[i].base, want[i]);
        CHECK_INT(it[i].count, counts[i]);
        CHECK(it[i].gloss != NULL);
    }
    /* Particles, auxiliaries, symbols, pronouns, adnominals, dependent verbs: out. */
    static const char *const gone[] = { "が", "を",   "は", "で",   "も",     "ます", "た",
                                        "。", "いる", "私", "その", "もらう", "て" };
    for (size_t i = 0; i < sizeof gone / sizeof *gone; i++)
        CHECK_MSG(find(it, n, gone[i]) == NULL, "%s should be excluded", gone[i]);
    const struct wb_extract_item *x = find(it, n, "猫");
    CHECK_STR(x->reading, "ねこ");
    CHECK_STR(x->gloss, "cat");
    CHECK_STR(x->pos, "名詞");
    x = find(it, n, "食べる");
    CHECK_STR(x->reading, "たべる");
    CHECK_STR(x->gloss, "to eat");
    CHECK_STR(x->pos, "動詞");
    CHECK_INT(x->first, 4); /* 猫 が 魚 を [食べ] */
    CHECK_STR(find(it, n, "魚")->gloss, "fish");

    struct wb_buf tsv;
    wb_buf_init(&tsv, 0);
    CHECK_INT(wb_extract_format_tsv(it, 2, &tsv), 0);
    CHECK_STR(tsv.data, "猫\tcat\t# ねこ; 名詞; count 3\n"
                        "魚\tfish\t# さかな; 名詞; count 2\n");
    wb_buf_release(&tsv);
    wb_extract_items_free(it, n);
    wb_edict_close(d);
    wb_text_free(t);
}

TEST(extract_without_dictionary_and_long_lines)
{
    struct wb_text *t = NULL;
    struct wb_extract_item *it = NULL;
    size_t n = 0;
    struct wb_error err = { 0 };
    struct wb_buf big;

    CHECK_OK(wb_text_new(NULL, &t, &err), &err);
    /* One 100 KB line with no newline: cut into chunks, every 猫 counted. */
    wb_buf_init(&big, 0);
    for (int i = 0; i < 4000; i++)
        CHECK_INT(wb_buf_appends(&big, "猫が好きだ。"), 0);
    CHECK_OK(wb_extract(t, NULL, big.data, big.len, &it, &n, &err), &err);
    CHECK(n >= 2);
    CHECK_STR(it[0].base, "猫");
    CHECK_INT(it[0].count, 4000);
    CHECK(it[0].gloss == NULL);
    wb_extract_items_free(it, n);
    /* Nothing Japanese: nothing extracted. */
    CHECK_OK(wb_extract(t, NULL, "hello world 123", 15, &it, &n, &err), &err);
    CHECK_INT(n, 0);
    wb_extract_items_free(it, n);
    wb_buf_release(&big);
    wb_text_free(t);
}
