/* Offline speech: the only file that includes espeak-ng. espeak-ng keeps one
 * global synthesizer, so it is initialised once (pthread_once) and every use
 * holds one mutex. The library is loaded then too (dlopen), not linked: it
 * pulls in some 20 shared libraries (PulseAudio, ALSA, libsndfile and its
 * codecs) that every start of every command loaded, for the offline
 * provider only; synthesis runs in synchronous mode and the synth callback
 * appends the PCM to the buffer of the call in progress. Japanese text is
 * turned into MeCab's kana pronunciation first, since the ja voice cannot
 * read kanji.
 */
#include <ctype.h>
#include <espeak-ng/espeak_ng.h>
#include <espeak-ng/speak_lib.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/dl.h"
#include "core/util.h"
#include "wordbank/offline.h"

#define SPEAK_TEXT_MAX    16384
#define SPEAK_SECONDS_MAX 300
#define LANG_MAX          35

/* Debian's soname of libespeak-ng (its headers do not say it). */
#define ESPEAK_SONAME "libespeak-ng.so.1"

/* Every espeak-ng function used here, called through the loaded table. */
#define ESPEAK_FUNCTIONS(X)           \
    X(espeak_ng_InitializePath)       \
    X(espeak_ng_Initialize)           \
    X(espeak_ng_InitializeOutput)     \
    X(espeak_SetSynthCallback)        \
    X(espeak_ng_GetSampleRate)        \
    X(espeak_ng_GetStatusCodeMessage) \
    X(espeak_ng_SetVoiceByProperties) \
    X(espeak_GetCurrentVoice)         \
    X(espeak_ng_Synthesize)           \
    X(espeak_ng_Synchronize)

static struct {
    ESPEAK_FUNCTIONS(CORE_DL_MEMBER)
} es;
#define ESPEAK_SYM(name) CORE_DL_SYM(es, name, #name)
static const struct core_dl_sym es_syms[] = { ESPEAK_FUNCTIONS(ESPEAK_SYM) };

static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static espeak_ng_STATUS init_status = ENS_OK;
static struct wb_error load_err; /* why the library could not be loaded */
static int sample_rate;

/* The call in progress (only ever touched under lock). */
struct collect {
    int16_t *pcm;
    size_t n, cap, max;
    int overflow, nomem;
};

static int on_synth(short *wav, int num, espeak_EVENT *events)
{
    struct collect *c = events ? events->user_data : NULL;

    if (!c || !wav || num <= 0)
        return 0;
    if (c->n + (size_t)num > c->max) {
        c->overflow = 1;
        return 1; /* abort synthesis */
    }
    if (CORE_ARRAY_RESERVE(c->pcm, c->n, c->cap, (size_t)num, 0) != 0) {
        c->nomem = 1;
        return 1;
    }
    memcpy(c->pcm + c->n, wav, (size_t)num * sizeof *wav);
    c->n += (size_t)num;
    return 0;
}

static void init_once(void)
{
    /* Loaded once (this once), kept for the life of the process. */
    if (core_dl_load(ESPEAK_SONAME, es_syms, CORE_DL_COUNT(es_syms), &load_err) != 0) {
        init_status = ENS_NOT_SUPPORTED;
        return;
    }
    es.espeak_ng_InitializePath(NULL);
    init_status = es.espeak_ng_Initialize(NULL);
    if (init_status == ENS_OK)
        init_status = es.espeak_ng_InitializeOutput(ENOUTPUT_MODE_SYNCHRONOUS, 0, NULL);
    if (init_status == ENS_OK) {
        es.espeak_SetSynthCallback(on_synth);
        sample_rate = es.espeak_ng_GetSampleRate();
    }
}

static int status_error(struct wb_error *err, espeak_ng_STATUS st, const char *what)
{
    char msg[256];
    if (load_err.code)
        return wb_error_set(err, WB_EUNSUPPORTED, "espeak-ng: %s", load_err.msg);
    es.espeak_ng_GetStatusCodeMessage(st, msg, sizeof msg);
    return wb_error_set(err, WB_EUNSUPPORTED, "espeak-ng: %s: %s", what, msg);
}

/* Lowercase a BCP 47 tag ("en-US" -> "en-us", "_" -> "-") into out. */
static int norm_lang(const char *lang, char *out, size_t cap)
{
    size_t n = lang ? strlen(lang) : 0;

    if (n == 0 || n >= cap)
        return -1;
    for (size_t i = 0; i <= n; i++) {
        unsigned char c = (unsigned char)lang[i];
        if (c && !isalnum(c) && c != '-' && c != '_')
            return -1;
        out[i] = c == '_' ? '-' : (char)tolower(c);
    }
    return 0;
}

static int is_japanese(const char *lang)
{
    return !lang || strcmp(lang, "ja") == 0 || strncmp(lang, "ja-", 3) == 0;
}

/* Keep kana, ー and punctuation; replace kanji MeCab could not read by a
 * space (espeak-ng would say "Chinese letter"). */
static int strip_kanji(const char *in, struct wb_buf *out)
{
    int rc = 0;

    const char *end = in + strlen(in);

    for (const char *p = in; *p && rc == 0;) {
        uint32_t cp;
        int k = core_utf8_decode(p, (size_t)(end - p), &cp);
        size_t len = k ? (size_t)k : 1; /* an invalid byte goes alone */
        char one[5] = { 0 };
        memcpy(one, p, len);
        rc = len > 1 && wb_text_has_kanji(one) ? wb_buf_appendc(out, ' ')
                                               : wb_buf_append(out, p, len);
        p += len;
    }
    return rc;
}

int wb_offline_speech_text(struct wb_text *t, const char *text, const char *lang,
                           struct wb_buf *out, struct wb_error *err)
{
    struct wb_text *own = NULL;
    struct wb_buf kata, hira;
    char l[LANG_MAX + 1];
    int rc = 0;

    wb_buf_init(&kata, 0);
    wb_buf_init(&hira, 0);
    if (lang && norm_lang(lang, l, sizeof l) != 0) {
        rc = wb_error_set(err, WB_EINVAL, "not a language tag: \"%.40s\"", lang);
        goto out;
    }
    if (!is_japanese(lang ? l : NULL)) {
        if ((rc = wb_buf_appends(out, text)) != 0)
            wb_error_set(err, rc, "%s", wb_strerror(rc));
        goto out;
    }
    if (!t && (rc = wb_text_new(NULL, &own, err)) != 0)
        goto out;
    if ((rc = wb_text_pronunciation(t ? t : own, text, &kata, err)) != 0)
        goto out;
    if ((rc = wb_kana_to_hiragana(kata.data, &hira)) != 0 ||
        (rc = strip_kanji(hira.data, out)) != 0)
        wb_error_set(err, rc, "%s", wb_strerror(rc));
out:
    wb_text_free(own);
    wb_buf_release(&kata);
    wb_buf_release(&hira);
    return rc;
}

/* Choose the voice for a normalized tag; called under lock. */
static int set_voice(const char *l, struct wb_buf *voice_out, struct wb_error *err)
{
    espeak_VOICE want;
    espeak_ng_STATUS st;
    char tag[LANG_MAX + 1];

    memset(&want, 0, sizeof want);
    snprintf(tag, sizeof tag, "%s", l);
    want.languages = tag;
    st = es.espeak_ng_SetVoiceByProperties(&want);
    if (st != ENS_OK) {
        /* "xx-YY" unknown: try the primary subtag alone. */
        char *dash = strchr(tag, '-');
        if (dash) {
            *dash = '\0';
            st = es.espeak_ng_SetVoiceByProperties(&want);
        }
    }
    if (st != ENS_OK)
        return wb_error_set(err, WB_EUNSUPPORTED, "espeak-ng has no voice for \"%s\"", l);
    if (voice_out) {
        espeak_VOICE *v = es.espeak_GetCurrentVoice();
        /* languages is a list of <priority byte><name NUL>; the first name. */
        const char *name = v && v->languages && v->languages[0] ? v->languages + 1 : tag;
        wb_buf_reset(voice_out);
        if (wb_buf_appends(voice_out, name) != 0)
            return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    return 0;
}

int wb_offline_speak(const char *text, const char *lang, struct wb_text *t, int16_t **pcm,
                     size_t *n_samples, int *rate, struct wb_buf *voice_out, struct wb_error *err)
{
    struct collect c;
    struct wb_buf say;
    char l[LANG_MAX + 1] = "ja";
    int locked = 0, rc = 0;

    memset(&c, 0, sizeof c);
    wb_buf_init(&say, SPEAK_TEXT_MAX * 2);
    *pcm = NULL;
    *n_samples = 0;
    *rate = 0;
    if (!text || strlen(text) > SPEAK_TEXT_MAX) {
        rc = wb_error_set(err, text ? WB_ETOOBIG : WB_EINVAL,
                          "speech text missing or longer than %d bytes", SPEAK_TEXT_MAX);
        goto out;
    }
    if (lang && norm_lang(lang, l, sizeof l) != 0) {
        rc = wb_error_set(err, WB_EINVAL, "not a language tag: \"%.40s\"", lang);
        goto out;
    }
    if ((rc = wb_offline_speech_text(t, text, l, &say, err)) != 0)
        goto out;
    if (strspn(say.data, " \t\r\n") == say.len) {
        rc = wb_error_set(err, WB_EINVAL, "nothing to say in \"%.80s\"", text);
        goto out;
    }
    pthread_once(&once, init_once);
    pthread_mutex_lock(&lock);
    locked = 1;
    if (init_status != ENS_OK) {
        rc = status_error(err, init_status, "cannot start");
        goto out;
    }
    if ((rc = set_voice(l, voice_out, err)) != 0)
        goto out;
    c.max = (size_t)SPEAK_SECONDS_MAX * (size_t)sample_rate;
    espeak_ng_STATUS st = es.espeak_ng_Synthesize(say.data, say.len + 1, 0, POS_CHARACTER, 0,
                                                  espeakCHARS_UTF8, NULL, &c);
    if (st == ENS_OK)
        st = es.espeak_ng_Synchronize();
    if (c.nomem) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory collecting speech");
    } else if (c.overflow) {
        rc = wb_error_set(err, WB_ETOOBIG, "speech longer than %d s", SPEAK_SECONDS_MAX);
    } else if (st != ENS_OK) {
        rc = status_error(err, st, "synthesis failed");
    } else if (c.n == 0) {
        rc = wb_error_set(err, WB_EMEDIA, "espeak-ng produced no audio");
    }
    if (rc)
        goto out;
    *pcm = c.pcm;
    *n_samples = c.n;
    *rate = sample_rate;
    c.pcm = NULL;
out:
    if (locked)
        pthread_mutex_unlock(&lock);
    free(c.pcm);
    wb_buf_release(&say);
    return rc;
}
