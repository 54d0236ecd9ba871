/* Provider-neutral prompts and dialogue scripts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "providers/prompts.h"
#include "test.h"

TEST(language_names)
{
    CHECK_STR(prov_language_name("ja"), "Japanese");
    CHECK_STR(prov_language_name("ja-JP"), "Japanese");
    CHECK_STR(prov_language_name("pt_BR"), "Portuguese");
    CHECK_STR(prov_language_name("ZH-Hant"), "Chinese");
    CHECK_STR(prov_language_name("xx"), "xx");
    CHECK_STR(prov_language_name(NULL), "the target language");
    CHECK_STR(prov_language_name("j"), "j");
}

TEST(details_prompt)
{
    struct wb_entry e;
    char *p;
    wb_entry_init(&e);
    CHECK(prompt_details(&e) == NULL);
    e.word = strdup("猫");
    e.translation = strdup("cat");
    e.language = strdup("ja");
    e.context = strdup("the household pet");
    p = prompt_details(&e);
    CHECK(p != NULL);
    CHECK(strstr(p, "Word: 猫\n") && strstr(p, "Translation: cat\n") &&
          strstr(p, "Context: the household pet\n"));
    CHECK(strstr(p, "learner of Japanese"));
    CHECK(strstr(p, "reading of the word in kana"));
    CHECK(strstr(p, "two or three"));
    CHECK(strstr(p, "no words about style"));
    CHECK(strstr(p, "few other objects"));
    CHECK(strstr(p, "short or missing, expand"));
    free(p);
    free(e.language);
    e.language = strdup("es");
    free(e.context);
    e.context = NULL;
    p = prompt_details(&e);
    CHECK(strstr(p, "Context: (none given)") && strstr(p, "reading: an empty string"));
    CHECK(strstr(p, "learner of Spanish"));
    free(p);
    wb_entry_release(&e);
}

TEST(image_and_speech_text)
{
    struct wb_entry e;
    char *p = prompt_image("  A cat asleep on a sofa.\n");
    CHECK(p && !strncmp(p, "A cat asleep on a sofa.\n\n", 25));
    CHECK(strstr(p, "simple infographic style") && strstr(p, "No text or labels unless"));
    free(p);
    CHECK(prompt_image("   ") == NULL);
    CHECK(prompt_image(NULL) == NULL);

    wb_entry_init(&e);
    e.word = strdup("猫");
    e.language = strdup("ja");
    p = prompt_speech_text(&e, "example"); /* no example: the word */
    CHECK_STR(p, "猫");
    free(p);
    wb_entry_add_example(&e, "猫が寝ている。", NULL);
    p = prompt_speech_text(&e, "example");
    CHECK_STR(p, "猫が寝ている。");
    free(p);
    p = prompt_speech_text(&e, "both");
    CHECK_STR(p, "猫。\n猫が寝ている。");
    free(p);
    p = prompt_speech_text(&e, NULL);
    CHECK_STR(p, "猫");
    free(p);
    p = prompt_speech_text(&e, "reading"); /* no reading yet: the word */
    CHECK_STR(p, "猫");
    free(p);
    e.reading = strdup("ねこ");
    p = prompt_speech_text(&e, "reading");
    CHECK_STR(p, "ねこ");
    free(p);
    wb_entry_release(&e);
}

TEST(dialogue_scripts)
{
    struct wb_dialogue_line *l;
    size_t n;
    struct wb_error err = { 0 };
    const char *sp[4];
    static const char s[] = "\n  Aki: おはよう！\n  still Aki\nBen：Good morning.\r\n\nAki: 元気？";
    char *t;
    CHECK_OK(prov_dialogue_parse(s, sizeof s - 1, &l, &n, &err), &err);
    CHECK_INT(n, 3);
    CHECK_STR(l[0].speaker, "Aki");
    CHECK_STR(l[0].text, "おはよう！ still Aki");
    CHECK_STR(l[1].speaker, "Ben");
    CHECK_STR(l[1].text, "Good morning.");
    CHECK_INT(l[0].line, 2);
    CHECK_INT(l[1].line, 4);
    CHECK_INT(prov_dialogue_speakers(l, n, sp, 4), 2);
    CHECK_STR(sp[1], "Ben");
    t = prompt_dialogue(l, n, sp[0], sp[1]);
    CHECK_STR(t, "TTS the following conversation between Aki and Ben:\nAki: おはよう！ still Aki\n"
                 "Ben: Good morning.\nAki: 元気？");
    free(t);
    prov_dialogue_lines_free(l, n);

    CHECK_INT(prov_dialogue_parse("no speaker here", 15, &l, &n, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "line 1"));
    CHECK_INT(prov_dialogue_parse("\n\n", 2, &l, &n, &err), WB_EINVAL);
    CHECK_INT(prov_dialogue_parse(": x", 3, &l, &n, &err), WB_EINVAL);
    CHECK(l == NULL && n == 0);
    prov_dialogue_lines_free(NULL, 0);
}

/* The speech script parser splits lines with core_dialogue_split, so its
 * limits are the Markdown parser's: a 64-byte name is a speaker, a longer
 * "name" is prose that goes on the line before, U+3000 is trimmed, and a
 * line that starts with its colon has an empty name. */
TEST(dialogue_shared_limits)
{
    struct wb_dialogue_line *l;
    size_t n;
    struct wb_error err = { 0 };
    char name64[65], s[256], want[128];
    memset(name64, 'n', 64);
    name64[64] = '\0';
    /* line 4 has ideographic spaces (U+3000) around "Ben", "：" and "ok" */
    snprintf(s, sizeof s, "A: hi\n%s: yes\n%sx: no\n　Ben　：　ok　\nAki:", name64, name64);
    CHECK_OK(prov_dialogue_parse(s, strlen(s), &l, &n, &err), &err);
    CHECK_INT(n, 4);
    CHECK_STR(l[1].speaker, name64);
    snprintf(want, sizeof want, "yes %sx: no", name64);
    CHECK_STR(l[1].text, want);
    CHECK_INT(l[2].line, 4);
    CHECK_STR(l[2].speaker, "Ben");
    CHECK_STR(l[2].text, "ok");
    CHECK_STR(l[3].speaker, "Aki");
    CHECK_STR(l[3].text, "");
    prov_dialogue_lines_free(l, n);

    CHECK_INT(prov_dialogue_parse("A: hi\n: x", 9, &l, &n, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "line 2 has an empty speaker name"));
    CHECK(l == NULL && n == 0);
}
