/* Offline provider: espeak-ng loaded at its first use; clips of plausible length and loudness (with
 * the Japanese pronunciation path), voice choice by BCP 47 tag, serialised use from threads, and
 * entry details from MeCab + EDICT. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "th_edict.h"
#include "wordbank/offline.h"

struct clip {
    int16_t *pcm;
    size_t n;
    int rate;
};

static double rms(const struct clip *c)
{
    double s = 0;
    for (size_t i = 0; i < c->n; i++)
        s += (double)c->pcm[i] * c->pcm[i];
    return c->n ? sqrt(s / (double)c->n) : 0;
}

static double seconds(const struct clip *c)
{
    return (double)c->n / c->rate;
}

static struct clip speak(const char *text, const char *lang, struct wb_text *t, const char *voice)
{
    struct clip c = { 0 };
    struct wb_buf v;
    struct wb_error err = { 0 };
    wb_buf_init(&v, 0);
    CHECK_OK(wb_offline_speak(text, lang, t, &c.pcm, &c.n, &c.rate, &v, &err), &err);
    CHECK_INT(c.rate, 22050);
    if (voice)
        CHECK_STR(v.data, voice);
    printf("# %s (%s, voice %s): %.2f s, rms %.0f\n", text, lang, v.data, seconds(&c), rms(&c));
    wb_buf_release(&v);
    return c;
}

static int espeak_mapped(void)
{
    char line[512];
    int found = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    while (f && fgets(line, sizeof line, f))
        found |= strstr(line, "libespeak-ng") != NULL;
    if (f)
        fclose(f);
    return found;
}

/* espeak-ng (and its ~20 libraries) loads at the first offline speech, not
 * at every start of every program linking libwordbank. First test: nothing
 * has spoken yet. */
TEST(espeak_loaded_on_first_use)
{
    CHECK_INT(espeak_mapped(), 0);
    struct clip c = speak("ねこ", "ja", NULL, "ja");
    CHECK(c.n > 0);
    CHECK_INT(espeak_mapped(), 1);
    free(c.pcm);
}

TEST(speak_neko)
{
    struct clip c = speak("ねこ", "ja", NULL, "ja");
    CHECK(seconds(&c) > 0.2 && seconds(&c) < 2.0);
    CHECK(rms(&c) > 500);
    free(c.pcm);
}

TEST(speak_kanji_through_pronunciation)
{
    struct wb_text *t = NULL;
    struct wb_error err = { 0 };
    struct wb_buf say;
    CHECK_OK(wb_text_new(NULL, &t, &err), &err);
    wb_buf_init(&say, 0);
    CHECK_OK(wb_offline_speech_text(t, "食べる", "ja", &say, &err), &err);
    CHECK_STR(say.data, "たべる");
    wb_buf_reset(&say);
    CHECK_OK(wb_offline_speech_text(t, "東京は大きい。", "ja-JP", &say, &err), &err);
    CHECK_STR(say.data, "と\xe3\x83\xbcきょ\xe3\x83\xbcわお\xe3\x83\xbcきい。");
    wb_buf_reset(&say);
    /* A kanji MeCab cannot read is dropped, not spelled out. */
    CHECK_OK(wb_offline_speech_text(t, "猫\xf0\xa0\x80\x8b", "ja", &say, &err), &err);
    CHECK_STR(say.data, "ねこ ");
    wb_buf_reset(&say);
    CHECK_OK(wb_offline_speech_text(t, "Hello", "en", &say, &err), &err);
    CHECK_STR(say.data, "Hello");
    wb_buf_release(&say);

    /* espeak-ng alone reads 食べる as "beru": ours must be clearly longer. */
    struct clip full = speak("食べる", "ja", t, "ja");
    struct clip beru = speak("べる", "ja", t, NULL);
    CHECK(seconds(&full) > 0.2 && seconds(&full) < 2.0);
    CHECK(rms(&full) > 500);
    CHECK_MSG(full.n > beru.n * 13 / 10, "食べる %zu samples vs べる %zu", full.n, beru.n);
    free(full.pcm);
    free(beru.pcm);
    wb_text_free(t);
}

TEST(voices_by_language_tag)
{
    struct clip c = speak("cat", "en-US", NULL, "en-us");
    CHECK(seconds(&c) > 0.1 && seconds(&c) < 2.0 && rms(&c) > 500);
    free(c.pcm);
    c = speak("bonjour", "fr", NULL, NULL);
    CHECK(seconds(&c) > 0.1 && rms(&c) > 500);
    free(c.pcm);
    c = speak("谢谢", "zh", NULL, "cmn");
    free(c.pcm);

    struct wb_error err = { 0 };
    int16_t *pcm = NULL;
    size_t n = 0;
    int rate = 0;
    CHECK_INT(wb_offline_speak("x", "qq", NULL, &pcm, &n, &rate, NULL, &err), WB_EUNSUPPORTED);
    CHECK_INT(wb_offline_speak("x", "en\"; rm", NULL, &pcm, &n, &rate, NULL, &err), WB_EINVAL);
    CHECK_INT(wb_offline_speak("   ", "en", NULL, &pcm, &n, &rate, NULL, &err), WB_EINVAL);
    CHECK(pcm == NULL && n == 0);
}

static void *speak_thread(void *arg)
{
    struct wb_error err = { 0 };
    int16_t *pcm = NULL;
    size_t n = 0;
    int rate = 0;
    for (int i = 0; i < 3; i++) {
        int rc = wb_offline_speak(arg, "en", NULL, &pcm, &n, &rate, NULL, &err);
        if (rc != 0 || n == 0)
            return (void *)1;
        free(pcm);
    }
    return NULL;
}

TEST(speak_from_threads)
{
    pthread_t a, b;
    void *ra, *rb;
    CHECK_INT(pthread_create(&a, NULL, speak_thread, "one two three"), 0);
    CHECK_INT(pthread_create(&b, NULL, speak_thread, "four five"), 0);
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    CHECK(ra == NULL && rb == NULL);
}

static void entry(struct wb_entry *e, const char *w, const char *tr, const char *lang)
{
    wb_entry_init(e);
    e->word = strdup(w);
    e->translation = tr ? strdup(tr) : NULL;
    e->language = lang ? strdup(lang) : NULL;
}

TEST(details_from_mecab_and_edict)
{
    struct wb_text *t = NULL;
    struct wb_edict *d = th_edict();
    struct wb_entry e;
    struct wb_error err = { 0 };
    CHECK_OK(wb_text_new(NULL, &t, &err), &err);

    entry(&e, "猫", "cat", "ja");
    CHECK_INT(wb_entry_add_example(&e, "stale", NULL), 0);
    CHECK_OK(wb_offline_details(t, d, &e, &err), &err);
    CHECK_STR(e.reading, "ねこ");
    CHECK(strncmp(e.description, "cat", 3) == 0);
    CHECK_INT(e.n_examples, 0);
    wb_entry_release(&e);

    entry(&e, "生", "draft beer", "ja");
    CHECK_OK(wb_offline_details(t, d, &e, &err), &err);
    CHECK_STR(e.reading, "なま");
    CHECK(strstr(e.description, "draft beer") != NULL);
    wb_entry_release(&e);

    entry(&e, "食べました", "ate", NULL);
    CHECK_OK(wb_offline_details(t, d, &e, &err), &err);
    CHECK_STR(e.reading, "たべました");
    CHECK(strncmp(e.description, "to eat", 6) == 0);
    wb_entry_release(&e);

    entry(&e, "ぴよぴよぷーぺん", "chick", "ja");
    CHECK_INT(wb_offline_details(t, d, &e, &err), WB_ENOTFOUND);
    CHECK_STR(e.reading, "ぴよぴよぷーぺん");
    CHECK(e.description == NULL);
    wb_entry_release(&e);

    entry(&e, "chat", "cat", "fr");
    CHECK_INT(wb_offline_details(t, d, &e, &err), WB_EUNSUPPORTED);
    wb_entry_release(&e);

    /* Without EDICT: the reading alone. */
    entry(&e, "東京都", "Tokyo", "ja");
    CHECK_OK(wb_offline_details(t, NULL, &e, &err), &err);
    CHECK_STR(e.reading, "とうきょうと");
    wb_entry_release(&e);

    wb_edict_close(d);
    wb_text_free(t);
}
