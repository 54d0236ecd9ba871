/* Speech through a Gemini TTS model: single-voice and two-speaker requests
 * (no sampling parameters: the TTS models reject them), and the incremental
 * consumer that turns a streamed SSE response (or a unary body) into PCM,
 * handling raw audio/L16 pieces and audio/wav payloads alike.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "providers/gemini_internal.h"

static json_t *voice_config(const char *voice)
{
    return json_pack("{s:{s:s}}", "prebuiltVoiceConfig", "voiceName", voice);
}

static int speech_request(const struct gemini_opts *o, const char *text, const char *voice,
                          int stream, struct core_http_request *out, struct wb_error *err)
{
    const char *model = prov_opt(o->tts_model, WB_GEMINI_DEFAULT_TTS_MODEL);
    json_t *root = NULL, *vc;
    int rc;

    voice = prov_opt(voice, prov_opt(o->voice, WB_GEMINI_DEFAULT_VOICE));
    if (!text || !*text)
        return wb_error_set(err, WB_EINVAL, "speech request without text");
    rc = gemini_request_begin(o, "POST", model,
                              stream ? ":streamGenerateContent?alt=sse" : ":generateContent",
                              WB_REQ_SPEECH, out, err);
    if (rc)
        return rc;
    out->stream = stream;
    vc = voice_config(voice);
    /* Exactly the SDK's bodies: its streamed call sends the content without a
     * role, its unary call with role "user" (sdk-requests.jsonl #4 and #6). */
    if (vc && stream)
        root = json_pack("{s:[{s:[{s:s}]}],s:{s:[s],s:{s:o}}}", "contents", "parts", "text", text,
                         "generationConfig", "responseModalities", "AUDIO", "speechConfig",
                         "voiceConfig", vc);
    else if (vc)
        root = json_pack("{s:[{s:[{s:s}],s:s}],s:{s:[s],s:{s:o}}}", "contents", "parts", "text",
                         text, "role", "user", "generationConfig", "responseModalities", "AUDIO",
                         "speechConfig", "voiceConfig", vc);
    rc = prov_set_body(out, root, err);
    json_decref(root);
    return rc;
}

int gemini_speech_request(const struct gemini_opts *o, const char *text, const char *voice,
                          struct core_http_request *out, struct wb_error *err)
{
    return speech_request(o, text, voice, 1, out, err);
}

int gemini_speech_request_unary(const struct gemini_opts *o, const char *text, const char *voice,
                                struct core_http_request *out, struct wb_error *err)
{
    return speech_request(o, text, voice, 0, out, err);
}

static int dialogue_request(const struct gemini_opts *o, const struct wb_dialogue_line *lines,
                            size_t n, const char *voice_a, const char *voice_b, int stream,
                            struct core_http_request *out, struct wb_error *err)
{
    const char *model = prov_opt(o->tts_model, WB_GEMINI_DEFAULT_TTS_MODEL);
    const char *sp[3];
    size_t ns = prov_dialogue_speakers(lines, n, sp, 3);
    char *text = NULL;
    json_t *root = NULL;
    int rc;

    voice_a = prov_opt(voice_a, prov_opt(o->voice, WB_GEMINI_DEFAULT_VOICE));
    voice_b = prov_opt(voice_b, prov_opt(o->voice2, WB_GEMINI_DEFAULT_VOICE2));
    /* Refused before any request exists: the API takes exactly two speakers. */
    if (ns != 2) {
        if (ns == 0)
            return wb_error_set(err, WB_EINVAL,
                                "a dialogue needs exactly two speakers; it has none");
        if (ns == 1)
            return wb_error_set(err, WB_EINVAL,
                                "a dialogue needs exactly two speakers; it has one (%s)", sp[0]);
        return wb_error_set(err, WB_EINVAL,
                            "a dialogue needs exactly two speakers; it has %zu (%s, %s, %s%s)", ns,
                            sp[0], sp[1], sp[2], ns > 3 ? ", ..." : "");
    }
    for (size_t i = 0; i < n; i++) {
        if (!lines[i].text || !*lines[i].text)
            return wb_error_set(err, WB_EINVAL, "dialogue line %zu (%s) has no text", i + 1,
                                lines[i].speaker);
    }
    rc = gemini_request_begin(o, "POST", model,
                              stream ? ":streamGenerateContent?alt=sse" : ":generateContent",
                              WB_REQ_SPEECH, out, err);
    if (rc)
        return rc;
    out->stream = stream;
    text = prompt_dialogue(lines, n, sp[0], sp[1]);
    if (text)
        root =
            json_pack("{s:[{s:[{s:s}],s:s}],s:{s:[s],s:{s:{s:[{s:s,s:o},{s:s,s:o}]}}}}", "contents",
                      "parts", "text", text, "role", "user", "generationConfig",
                      "responseModalities", "AUDIO", "speechConfig", "multiSpeakerVoiceConfig",
                      "speakerVoiceConfigs", "speaker", sp[0], "voiceConfig", voice_config(voice_a),
                      "speaker", sp[1], "voiceConfig", voice_config(voice_b));
    rc = prov_set_body(out, root, err);
    free(text);
    json_decref(root);
    return rc;
}

int gemini_dialogue_request(const struct gemini_opts *o, const struct wb_dialogue_line *lines,
                            size_t n, const char *voice_a, const char *voice_b,
                            struct core_http_request *out, struct wb_error *err)
{
    return dialogue_request(o, lines, n, voice_a, voice_b, 1, out, err);
}

int gemini_dialogue_request_unary(const struct gemini_opts *o, const struct wb_dialogue_line *lines,
                                  size_t n, const char *voice_a, const char *voice_b,
                                  struct core_http_request *out, struct wb_error *err)
{
    return dialogue_request(o, lines, n, voice_a, voice_b, 0, out, err);
}

/* ---- WAV ---- */

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const unsigned char *p)
{
    return (uint16_t)(p[0] | p[1] << 8);
}

int gemini_wav_to_pcm(const void *wav, size_t len, struct wb_buf *pcm, int *rate, int *channels)
{
    const unsigned char *p = wav;
    size_t pos = 12;
    int have_fmt = 0;

    if (len < 12 || memcmp(p, "RIFF", 4) || memcmp(p + 8, "WAVE", 4))
        return WB_EMEDIA;
    while (pos + 8 <= len) {
        uint32_t sz = le32(p + pos + 4);
        const unsigned char *body = p + pos + 8;
        size_t avail = len - pos - 8;
        if (!memcmp(p + pos, "fmt ", 4)) {
            if (sz < 16 || avail < 16)
                return WB_EMEDIA;
            /* PCM (1) or WAVE_FORMAT_EXTENSIBLE (0xFFFE), 16 bits a sample. */
            if ((le16(body) != 1 && le16(body) != 0xFFFE) || le16(body + 14) != 16)
                return WB_EMEDIA;
            *channels = le16(body + 2);
            *rate = (int)le32(body + 4);
            if (*channels < 1 || *channels > 8 || *rate < 1000 || *rate > 384000)
                return WB_EMEDIA;
            have_fmt = 1;
        } else if (!memcmp(p + pos, "data", 4)) {
            /* Streaming writers put 0 or 0xFFFFFFFF here: take what is there. */
            size_t n = (sz == 0 || sz > avail) ? avail : sz;
            if (!have_fmt)
                return WB_EMEDIA;
            n -= n % (size_t)(2 * *channels);
            return wb_buf_append(pcm, body, n) ? WB_ETOOBIG : 0;
        }
        if (sz > avail)
            return WB_EMEDIA;
        pos += 8 + (size_t)sz + (sz & 1);
    }
    return WB_EMEDIA;
}

/* ---- the stream consumer ---- */

static int on_event(void *ud, const struct sse_event *ev);

void gemini_audio_init(struct gemini_audio *a)
{
    memset(a, 0, sizeof *a);
    sse_init(&a->sse, WB_GEMINI_MAX_EVENT, on_event, a);
    wb_buf_init(&a->pcm, WB_GEMINI_MAX_MEDIA);
    wb_buf_init(&a->scratch, WB_GEMINI_MAX_MEDIA);
    a->rate = 24000;
    a->channels = 1;
}

void gemini_audio_release(struct gemini_audio *a)
{
    sse_release(&a->sse);
    wb_buf_release(&a->pcm);
    wb_buf_release(&a->scratch);
    memset(a, 0, sizeof *a);
}

/* "audio/L16;codec=pcm;rate=24000" -> 24000; 0 when absent or absurd. */
static int mime_rate(const char *mime)
{
    const char *r = NULL;
    long v = 0;
    for (const char *p = mime; *p && !r; p++) {
        if (!strncasecmp(p, "rate=", 5))
            r = p;
    }
    if (!r)
        return 0;
    for (r += 5; *r >= '0' && *r <= '9' && v <= 1000000; r++)
        v = v * 10 + (*r - '0');
    return v >= 1000 && v <= 384000 ? (int)v : 0;
}

static int audio_part(struct gemini_audio *a, const json_t *inl, struct core_api_error *aerr)
{
    const json_t *m = json_object_get(inl, "mimeType"), *d = json_object_get(inl, "data");
    const char *mime = json_is_string(m) ? json_string_value(m) : "audio/L16;codec=pcm;rate=24000";
    int rc;

    if (!json_is_string(d))
        return prov_fail(aerr, WB_EPARSE, 1, "audio part without data");
    snprintf(a->mime, sizeof a->mime, "%s", mime);
    if (!strncasecmp(mime, "audio/wav", 9) || !strncasecmp(mime, "audio/x-wav", 11) ||
        !strncasecmp(mime, "audio/wave", 10)) {
        int rate = a->rate, ch = a->channels;
        wb_buf_reset(&a->scratch);
        rc = core_base64_decode(json_string_value(d), json_string_length(d), &a->scratch);
        if (rc == WB_ETOOBIG)
            return prov_fail(aerr, WB_ETOOBIG, 0, "audio exceeds %zu bytes", WB_GEMINI_MAX_MEDIA);
        if (rc)
            return prov_fail(aerr, WB_EPARSE, 1, "audio data is not base64");
        rc = gemini_wav_to_pcm(a->scratch.data, a->scratch.len, &a->pcm, &rate, &ch);
        if (rc == WB_ETOOBIG)
            return prov_fail(aerr, WB_ETOOBIG, 0, "audio exceeds %zu bytes", WB_GEMINI_MAX_MEDIA);
        if (rc)
            return prov_fail(aerr, WB_EMEDIA, 0, "audio/wav payload is not 16-bit PCM WAV");
        a->rate = rate;
        a->channels = ch;
        return 0;
    }
    if (strncasecmp(mime, "audio/L16", 9) && strncasecmp(mime, "audio/pcm", 9))
        return prov_fail(aerr, WB_EMEDIA, 0, "unsupported audio format \"%s\"", mime);
    if (mime_rate(mime))
        a->rate = mime_rate(mime);
    rc = core_base64_decode(json_string_value(d), json_string_length(d), &a->pcm);
    if (rc == WB_ETOOBIG)
        return prov_fail(aerr, WB_ETOOBIG, 0, "audio exceeds %zu bytes", WB_GEMINI_MAX_MEDIA);
    if (rc)
        return prov_fail(aerr, WB_EPARSE, 1, "audio data is not base64");
    return 0;
}

/* One GenerateContentResponse (an SSE event or a unary body). */
static int audio_response(struct gemini_audio *a, const char *json, size_t len,
                          struct core_api_error *aerr)
{
    json_t *root = NULL, *cand = NULL;
    const json_t *parts, *p, *fr;
    size_t i;
    int rc;

    rc = prov_load_json(json, len, WB_GEMINI_MAX_EVENT, &root, aerr);
    if (rc)
        goto out;
    a->n_events++;
    gemini_usage_parse(root, &a->usage);
    rc = gemini_candidate(root, 0, &cand, aerr);
    if (rc == WB_EINCOMPLETE && !strcmp(aerr->status, "OTHER")) {
        /* TTS models end with OTHER and no audio intermittently (the same
         * request succeeds later), and streams that pass ~60 s of audio are
         * cut with OTHER (the unary call is not): worth another attempt. */
        aerr->retryable = 1;
        goto out;
    }
    if (rc)
        goto out;
    if (!cand)
        goto out;
    parts = json_object_get(json_object_get(cand, "content"), "parts");
    json_array_foreach(parts, i, p) {
        const json_t *inl = json_object_get(p, "inlineData");
        if (json_is_true(json_object_get(p, "thought")) || !json_is_object(inl))
            continue;
        rc = audio_part(a, inl, aerr);
        if (rc)
            goto out;
    }
    fr = json_object_get(cand, "finishReason");
    if (json_is_string(fr))
        snprintf(a->finish_reason, sizeof a->finish_reason, "%s", json_string_value(fr));
out:
    json_decref(root);
    return rc;
}

static int on_event(void *ud, const struct sse_event *ev)
{
    struct gemini_audio *a = ud;
    const char *s = ev->data;
    size_t n = ev->data_len;
    /* Whitespace-only data (a keep-alive) is not an event to parse. */
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        n--;
    }
    if (n == 0)
        return 0;
    return audio_response(a, s, n, a->aerr);
}

/* A failure is sticky: later calls report the same error, into any aerr. */
static int remember(struct gemini_audio *a, int rc, const struct core_api_error *aerr)
{
    a->failed = rc;
    if (rc)
        a->last_error = *aerr;
    return rc;
}

static int sticky(const struct gemini_audio *a, struct core_api_error *aerr)
{
    *aerr = a->last_error;
    return a->failed;
}

int gemini_audio_feed(struct gemini_audio *a, const char *data, size_t len,
                      struct core_api_error *aerr)
{
    struct wb_error err = { 0 };
    int rc;

    if (a->failed)
        return sticky(a, aerr);
    core_api_error_clear(aerr);
    a->aerr = aerr;
    rc = sse_feed(&a->sse, data, len, &err);
    a->aerr = NULL;
    if (rc && aerr->code == 0)
        prov_fail(aerr, rc, 0, "%s", wb_error_text(&err));
    return remember(a, rc, aerr);
}

static int audio_done(struct gemini_audio *a, struct core_api_error *aerr)
{
    if (!a->finish_reason[0])
        return prov_fail(aerr, WB_EINCOMPLETE, 1,
                         "speech stream ended without a finishReason (%zu events, %zu bytes)",
                         a->n_events, a->pcm.len);
    /* Whole frames only: a stray odd byte would shift every later sample. */
    a->pcm.len -= a->pcm.len % (size_t)(2 * a->channels);
    if (a->pcm.cap)
        a->pcm.data[a->pcm.len] = '\0';
    if (a->pcm.len == 0)
        return prov_fail(aerr, WB_EINCOMPLETE, 1, "the speech model returned no audio");
    return 0;
}

int gemini_audio_finish(struct gemini_audio *a, struct core_api_error *aerr)
{
    struct wb_error err = { 0 };
    int rc;

    if (a->failed)
        return sticky(a, aerr);
    core_api_error_clear(aerr);
    /* A last event without its blank line still counts if it is whole JSON. */
    a->aerr = aerr;
    rc = sse_finish(&a->sse, 1, &err);
    a->aerr = NULL;
    if (rc) {
        if (aerr->code == 0)
            prov_fail(aerr, rc, 0, "%s", wb_error_text(&err));
        if (rc == WB_EPARSE)
            aerr->retryable = 1; /* a cut-off last event: the stream was truncated */
        return remember(a, rc, aerr);
    }
    rc = audio_done(a, aerr);
    return remember(a, rc, aerr);
}

int gemini_audio_parse_response(struct gemini_audio *a, const char *body, size_t len,
                                struct core_api_error *aerr)
{
    int rc;
    if (a->failed)
        return sticky(a, aerr);
    core_api_error_clear(aerr);
    rc = audio_response(a, body, len, aerr);
    if (!rc)
        rc = audio_done(a, aerr);
    return remember(a, rc, aerr);
}

const void *gemini_audio_pcm(const struct gemini_audio *a, size_t *len)
{
    if (len)
        *len = a->pcm.len;
    return a->pcm.data;
}

int gemini_audio_rate(const struct gemini_audio *a)
{
    return a->rate;
}

int gemini_audio_channels(const struct gemini_audio *a)
{
    return a->channels;
}

const struct prov_usage *gemini_audio_usage(const struct gemini_audio *a)
{
    return &a->usage;
}
