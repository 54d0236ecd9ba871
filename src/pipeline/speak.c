/* One-off speech (wordbank tts) and two-voice dialogues (wordbank dialogue and
 * the <dialogue> blocks of lessons): a single request on its own engine, or
 * espeak-ng offline, encoded in the requested format. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

/* One speech request on its own engine, read through the provider's table. */
struct oneshot {
    const struct prov_ops *ops;
    struct prov_speech *speech; /* a streamed answer's state, or NULL */
    struct wb_buf pcm;
    int rate, channels;
    int status;
    struct wb_error *err;
};

static int shot_data(void *ud, const char *p, size_t n, struct core_api_error *aerr)
{
    struct oneshot *s = ud;
    return s->ops->speech_feed(s->speech, p, n, aerr);
}

static void shot_retry(void *ud)
{
    struct oneshot *s = ud;
    s->ops->speech_reset(s->speech);
}

static int shot_classify(void *ud, long status, const struct core_http_header *h, size_t nh,
                         const char *body, size_t len, struct core_api_error *out)
{
    struct oneshot *s = ud;
    if (!prov_ok_status(status))
        return s->ops->parse_error(status, h, nh, body, len, out);
    return s->ops->speech_end(s->speech, body, len, &s->pcm, &s->rate, &s->channels, NULL, out);
}

static void shot_done(void *ud, const struct engine_response *r)
{
    struct oneshot *s = ud;
    s->status = r->status;
    if (r->status)
        wb_error_set(s->err, r->status, "%s",
                     r->api_error && r->api_error->message[0] ? r->api_error->message
                                                              : wb_strerror(r->status));
}

static void shot_init(struct oneshot *s)
{
    memset(s, 0, sizeof *s);
    wb_buf_init(&s->pcm, PROV_MAX_MEDIA);
    s->rate = 24000;
    s->channels = 1;
}

static void shot_release(struct oneshot *s)
{
    if (s->speech)
        s->ops->speech_free(s->speech);
    wb_buf_release(&s->pcm);
}

/* The provider's options from cfg, refusing without a key. */
static int shot_opts(const struct wb_config *cfg, const struct prov_ops *ops, void *o,
                     struct wb_error *err)
{
    int rc;
    ops->opts_init(o);
    if ((rc = ops->opts_from_config(cfg, o, err)))
        return rc;
    if (!ops->api_key(o))
        return wb_error_set(err, WB_ECONFIG, "%s", ops->no_key);
    return 0;
}

/* Send req (taken) and collect its PCM into s. */
static int shot_send(const struct wb_config *cfg, struct core_http_request *req, struct oneshot *s,
                     struct wb_error *err)
{
    struct engine *eng = NULL;
    struct engine_request_cbs cbs = { 0 };
    int rc;
    if (s->ops->speech_new) {
        if (!s->speech && !(s->speech = s->ops->speech_new())) {
            core_http_request_release(req);
            return wb_error_set(err, WB_ENOMEM, "out of memory");
        }
        cbs.on_data = shot_data;
        cbs.on_retry = shot_retry;
    }
    cbs.classify = shot_classify;
    cbs.on_done = shot_done;
    s->err = err;
    if ((rc = engine_new(cfg, &eng, err))) {
        core_http_request_release(req);
        return rc;
    }
    rc = engine_submit(eng, req, 0, &cbs, s, NULL);
    if (!rc)
        rc = engine_run(eng);
    if (!rc)
        rc = s->status;
    else if (!err->code)
        wb_error_set(err, rc, "%s", wb_strerror(rc));
    engine_free(eng);
    return rc;
}

/* Speech for text from a network provider. */
static int shot_say(const struct wb_config *cfg, const struct prov_ops *ops, const char *text,
                    struct oneshot *s, struct wb_error *err)
{
    void *opts = calloc(1, ops->opts_size);
    struct core_http_request req;
    int rc;
    s->ops = ops;
    core_http_request_init(&req);
    if (!opts)
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    if ((rc = shot_opts(cfg, ops, opts, err)) == 0 &&
        (rc = ops->speech_request(opts, text, NULL, &req, err)) == 0)
        rc = shot_send(cfg, &req, s, err);
    free(opts);
    core_http_request_release(&req);
    return rc;
}

static const char *audio_provider(const struct wb_config *cfg)
{
    return prov_configured(cfg, WB_STAGE_AUDIO);
}

/* The format (>= 0), its encoder loaded before the clip is asked for: a
 * clip that could not be kept is never bought (pipeline/encoders.c). */
static int format_ready(const char *format, struct wb_error *err)
{
    int f = wb_audio_format_from_name(format ? format : "mp3"), rc;
    if (f < 0)
        return wb_error_set(err, WB_EINVAL, "unknown audio format '%s' (mp3, m4a, opus or wav)",
                            format);
    if ((rc = wb_audio_ready((enum wb_audio_format)f, err)) != 0)
        return rc;
    return f;
}

static int encode(const struct wb_config *cfg, const void *pcm, size_t len, int rate, int channels,
                  enum wb_audio_format f, struct wb_buf *out, struct wb_error *err)
{
    struct wb_audio_options o;
    wb_audio_options_init(&o);
    o.format = f;
    o.trim = wb_config_bool(cfg, "audio_trim");
    o.pcm_rate = rate;
    o.pcm_channels = channels;
    return wb_audio_convert(pcm, len, &o, out, err);
}

static int offline_say(const struct wb_config *cfg, const char *text, struct wb_buf *pcm_out,
                       int *rate, struct wb_error *err)
{
    struct wb_text *t = NULL;
    const char *lang = wb_config_get(cfg, "lang");
    int16_t *pcm = NULL;
    size_t n = 0;
    int rc;
    if (!lang)
        lang = "ja";
    if (!strncmp(lang, "ja", 2) && (rc = wb_text_new(cfg, &t, err)))
        return rc;
    rc = wb_offline_speak(text, lang, t, &pcm, &n, rate, NULL, err);
    if (!rc)
        rc = wb_buf_append(pcm_out, pcm, n * sizeof *pcm);
    free(pcm);
    wb_text_free(t);
    return rc;
}

int wb_speak(const struct wb_config *cfg, const char *text, const char *format, struct wb_buf *out,
             struct wb_error *err)
{
    const char *prov = audio_provider(cfg);
    const struct prov_ops *ops = prov_find(prov);
    struct oneshot s;
    int rc, f = 0;
    shot_init(&s);
    if (!text || !*text) {
        rc = wb_error_set(err, WB_EINVAL, "nothing to say");
    } else if ((f = format_ready(format, err)) < 0) {
        rc = f;
    } else if (ops && ops->local) {
        rc = offline_say(cfg, text, &s.pcm, &s.rate, err);
    } else if (ops && ops->speech_request) {
        rc = shot_say(cfg, ops, text, &s, err);
    } else {
        rc = wb_error_set(err, WB_EUNSUPPORTED,
                          "speech from the %s provider is not available "
                          "here; use gemini or offline",
                          prov);
    }
    if (!rc)
        rc = encode(cfg, s.pcm.data, s.pcm.len, s.rate, s.channels, (enum wb_audio_format)f, out,
                    err);
    shot_release(&s);
    return rc;
}

int wb_speak_dialogue(const struct wb_config *cfg, const char *script, size_t len,
                      const char *format, struct wb_buf *out, struct wb_error *err)
{
    const char *prov = audio_provider(cfg);
    struct wb_dialogue_line *lines = NULL;
    const char *speakers[3];
    size_t n = 0, n_speakers;
    struct oneshot s;
    int rc, f = 0;
    shot_init(&s);
    if ((rc = prov_dialogue_parse(script, len, &lines, &n, err)))
        goto out;
    n_speakers = prov_dialogue_speakers(lines, n, speakers, 3);
    if (n_speakers != 2) {
        rc =
            wb_error_set(err, WB_EINVAL,
                         "a dialogue needs exactly two speakers (\"Name: line\" lines); this "
                         "one has %s%zu: %s%s%s%s%s",
                         n_speakers > 3 ? "more than " : "", n_speakers > 3 ? 3 : n_speakers,
                         speakers[0], n_speakers > 1 ? ", " : "", n_speakers > 1 ? speakers[1] : "",
                         n_speakers > 2 ? ", " : "", n_speakers > 2 ? speakers[2] : "");
        goto out;
    }
    if ((f = format_ready(format, err)) < 0) {
        rc = f;
        goto out;
    }
    if (prov_find(prov) == &prov_gemini_ops) {
        /* Two voices in one request: Gemini's own (multiSpeakerVoiceConfig). */
        struct gemini_opts o;
        struct core_http_request req;
        core_http_request_init(&req);
        s.ops = &prov_gemini_ops;
        if ((rc = shot_opts(cfg, s.ops, &o, err)) == 0 &&
            (rc = gemini_dialogue_request(&o, lines, n, NULL, NULL, &req, err)) == 0)
            rc = shot_send(cfg, &req, &s, err);
        core_http_request_release(&req);
    } else if (prov_find(prov) == &prov_offline_ops) {
        /* espeak-ng has one voice per language here: the lines one after another. */
        for (size_t i = 0; i < n && !rc; i++)
            rc = offline_say(cfg, lines[i].text, &s.pcm, &s.rate, err);
    } else {
        rc = wb_error_set(err, WB_EUNSUPPORTED,
                          "dialogues from the %s provider are not "
                          "available; use gemini or offline",
                          prov);
    }
    if (!rc)
        rc = encode(cfg, s.pcm.data, s.pcm.len, s.rate, s.channels, (enum wb_audio_format)f, out,
                    err);
out:
    prov_dialogue_lines_free(lines, n);
    shot_release(&s);
    return rc;
}

/* The file name a dialogue is kept under: a hash of everything that shapes the
 * clip (provider, model, voices, language, format, trimming, script). A
 * request, not content, names it, so a lesson built again finds it without
 * asking anyone: the bytes are written under their content hash first and the
 * request name is a hard link to them. */
static void dialogue_key(const struct wb_config *cfg, const char *prov, const char *script,
                         size_t len, const char *format, char *name, size_t cap)
{
    struct wb_buf k;
    char hex[65];
    wb_buf_init(&k, 0);
    wb_buf_appendf(&k, "dialogue|%s|%s|%s|%s|%s|%s|%d|", prov,
                   !strcmp(prov, prov_gemini_ops.name) ? wb_config_get(cfg, "tts_model")
                                                       : "espeak-ng",
                   wb_config_get(cfg, "voice"), wb_config_get(cfg, "voice2"),
                   wb_config_get(cfg, "lang"), format, wb_config_bool(cfg, "audio_trim"));
    wb_buf_append(&k, script, len);
    core_sha256_hex(k.data, k.len, hex);
    wb_buf_release(&k);
    snprintf(name, cap, "dialogue-%.32s.%s", hex,
             wb_audio_format_ext((enum wb_audio_format)wb_audio_format_from_name(format)));
}

int wb_dialogue_file(const struct wb_config *cfg, const char *media_dir, const char *script,
                     size_t len, const char *format, int cache_only, char **name_out,
                     struct wb_error *err)
{
    char name[128];
    struct wb_buf path, target, clip;
    char *stored = NULL;
    int rc = 0;
    *name_out = NULL;
    if (wb_audio_format_from_name(format) < 0)
        return wb_error_set(err, WB_EINVAL, "unknown audio format '%s'", format);
    if ((rc = core_crypto_load(err)) < 0) /* the names are hashes */
        return rc;
    dialogue_key(cfg, audio_provider(cfg), script, len, format, name, sizeof name);
    wb_buf_init(&path, 0);
    wb_buf_init(&target, 0);
    wb_buf_init(&clip, 0);
    core_path_join(&path, media_dir, name);
    if (wb_media_file_valid(path.data))
        goto found;
    if (cache_only) {
        /* Nothing may be made: a clip another provider made for this script
         * will do (a preview without a key still plays what Gemini said). */
        const char *const others[] = { prov_gemini_ops.name, prov_offline_ops.name };
        char alt[128];
        for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
            wb_buf_reset(&path);
            dialogue_key(cfg, others[i], script, len, format, alt, sizeof alt);
            core_path_join(&path, media_dir, alt);
            if (wb_media_file_valid(path.data)) {
                memcpy(name, alt, sizeof alt);
                goto found;
            }
        }
        rc = wb_error_set(err, WB_ENOTFOUND, "dialogue not generated yet (--cache-only)");
        goto out;
    }
    if ((rc = wb_speak_dialogue(cfg, script, len, format, &clip, err)))
        goto out;
    if ((rc = wb_media_write(media_dir, clip.data, clip.len, &stored, err)))
        goto out;
    core_path_join(&target, media_dir, stored);
    unlink(path.data); /* an invalid leftover under the request name */
    if (link(target.data, path.data) < 0 && errno != EEXIST) {
        rc = wb_error_set(err, WB_EIO, "%s: %s", path.data, strerror(errno));
        goto out;
    }
found:
    if (!(*name_out = strdup(name)))
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
out:
    free(stored);
    wb_buf_release(&path);
    wb_buf_release(&target);
    wb_buf_release(&clip);
    return rc;
}
