/* Speech and images through the OpenAI API: audio/speech asking for raw PCM
 * (the pipeline encodes it to the user's format, as for Gemini) and
 * images/generations answered in base64 — asked for explicitly from DALL-E and
 * compatible servers, never from the gpt-image family, which always answers
 * base64 and rejects the response_format field.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "providers/openai_internal.h"

#define MAX_SPEECH_INPUT 4096 /* the API's limit, in characters */

int openai_speech_request(const struct openai_opts *o, const char *text, const char *voice,
                          struct core_http_request *out, struct wb_error *err)
{
    const char *model = prov_opt(o->tts_model, WB_OPENAI_DEFAULT_TTS_MODEL);
    json_t *root;
    int rc;

    voice = prov_opt(voice, prov_opt(o->voice, WB_OPENAI_DEFAULT_VOICE));
    if (!text || !*text)
        return wb_error_set(err, WB_EINVAL, "speech request without text");
    if (strlen(text) > 4 * MAX_SPEECH_INPUT)
        return wb_error_set(err, WB_ETOOBIG, "speech text of %zu bytes is too long", strlen(text));
    rc = openai_request_begin(o, "audio/speech", model, WB_REQ_SPEECH, out, err);
    if (rc)
        return rc;
    root = json_pack("{s:s,s:s,s:s,s:s}", "model", model, "input", text, "voice", voice,
                     "response_format", "pcm");
    if (root && o->speech_instructions && *o->speech_instructions)
        json_object_set_new(root, "instructions", json_string(o->speech_instructions));
    rc = prov_set_body(out, root, err);
    json_decref(root);
    return rc;
}

static int starts(const char *b, size_t n, const char *magic, size_t k)
{
    return n >= k && memcmp(b, magic, k) == 0;
}

int openai_speech_parse(const char *body, size_t len, struct wb_buf *pcm, int *rate, int *channels,
                        struct core_api_error *aerr)
{
    int r = WB_OPENAI_PCM_RATE, ch = WB_OPENAI_PCM_CHANNELS, rc;
    size_t i = 0;

    core_api_error_clear(aerr);
    if (pcm->limit == 0 || pcm->limit > WB_OPENAI_MAX_MEDIA)
        pcm->limit = WB_OPENAI_MAX_MEDIA;
    if (!body || len == 0)
        return prov_fail(aerr, WB_EINCOMPLETE, 1, "empty speech response");
    while (i < len && i < 16 && (body[i] == ' ' || body[i] == '\n' || body[i] == '\r'))
        i++;
    if (i < len && body[i] == '{' && len <= WB_OPENAI_MAX_TEXT) {
        /* A JSON body is never PCM worth having: an error, or garbage. */
        json_t *root = json_loadb(body, len, 0, NULL);
        rc = root ? openai_inband_error(root, aerr) : 0;
        json_decref(root);
        if (rc)
            return rc;
    }
    if (starts(body, len, "RIFF", 4)) {
        size_t before = pcm->len;
        if (gemini_wav_to_pcm(body, len, pcm, &r, &ch) != 0 || r <= 0 || ch <= 0)
            return prov_fail(aerr, WB_EMEDIA, 0, "speech answer is a WAV file we cannot read");
        if (pcm->len == before)
            return prov_fail(aerr, WB_EINCOMPLETE, 1, "speech answer is a WAV without samples");
    } else if (starts(body, len, "ID3", 3) || starts(body, len, "OggS", 4) ||
               starts(body, len, "fLaC", 4) ||
               (len >= 2 && (unsigned char)body[0] == 0xff &&
                ((unsigned char)body[1] & 0xe0) == 0xe0)) {
        return prov_fail(aerr, WB_EMEDIA, 0,
                         "the server sent compressed audio although response_format was pcm");
    } else {
        if (len % 2)
            return prov_fail(aerr, WB_EINCOMPLETE, 1,
                             "speech answer has an odd number of bytes (%zu): truncated", len);
        if (len > pcm->limit)
            return prov_fail(aerr, WB_ETOOBIG, 0, "speech answer exceeds %zu bytes", pcm->limit);
        if ((rc = wb_buf_append(pcm, body, len)))
            return prov_fail(aerr, rc, 0, "speech answer: %s", wb_strerror(rc));
    }
    if (rate)
        *rate = r;
    if (channels)
        *channels = ch;
    return 0;
}

int openai_image_model_is_gpt(const char *model)
{
    return model &&
           (!strncasecmp(model, "gpt-image", 9) || !strncasecmp(model, "chatgpt-image", 13));
}

int openai_image_request(const struct openai_opts *o, const char *prompt,
                         struct core_http_request *out, struct wb_error *err)
{
    const char *model = prov_opt(o->image_model, WB_OPENAI_DEFAULT_IMAGE_MODEL);
    const char *size = prov_opt(o->image_size, WB_OPENAI_DEFAULT_IMAGE_SIZE);
    json_t *root;
    int rc;

    if (!prompt || !*prompt)
        return wb_error_set(err, WB_EINVAL, "image request without a prompt");
    rc = openai_request_begin(o, "images/generations", model, WB_REQ_IMAGE, out, err);
    if (rc)
        return rc;
    root = json_pack("{s:s,s:s,s:i,s:s}", "model", model, "prompt", prompt, "n", 1, "size", size);
    if (root && o->image_quality && *o->image_quality)
        json_object_set_new(root, "quality", json_string(o->image_quality));
    if (root && !openai_image_model_is_gpt(model))
        json_object_set_new(root, "response_format", json_string("b64_json"));
    rc = prov_set_body(out, root, err);
    json_decref(root);
    return rc;
}

int openai_image_parse(const char *body, size_t len, struct wb_buf *bytes, struct prov_usage *u,
                       struct core_api_error *aerr)
{
    json_t *root = NULL;
    const json_t *data, *d, *b64;
    int rc;

    core_api_error_clear(aerr);
    if (u)
        memset(u, 0, sizeof *u);
    if ((rc = prov_load_json(body, len, WB_OPENAI_MAX_BODY, &root, aerr)))
        goto out;
    openai_usage_parse(root, u);
    if ((rc = openai_inband_error(root, aerr)))
        goto out;
    data = json_object_get(root, "data");
    d = json_array_get(data, 0);
    if (!json_is_object(d)) {
        rc = prov_fail(aerr, WB_EINCOMPLETE, 1, "image response has no data");
        goto out;
    }
    b64 = json_object_get(d, "b64_json");
    if (!json_is_string(b64) || json_string_length(b64) == 0) {
        if (json_is_string(json_object_get(d, "url")))
            rc = prov_fail(aerr, WB_EUNSUPPORTED, 0,
                           "the server answered an image URL, not b64_json (it ignored "
                           "response_format)");
        else
            rc = prov_fail(aerr, WB_EPARSE, 1, "image data without b64_json");
        goto out;
    }
    if (bytes->limit == 0 || bytes->limit > WB_OPENAI_MAX_MEDIA)
        bytes->limit = WB_OPENAI_MAX_MEDIA;
    wb_buf_reset(bytes);
    rc = core_base64_decode(json_string_value(b64), json_string_length(b64), bytes);
    if (rc == WB_ETOOBIG) {
        rc = prov_fail(aerr, WB_ETOOBIG, 0, "image exceeds %zu bytes", bytes->limit);
    } else if (rc || bytes->len == 0) {
        rc = prov_fail(aerr, WB_EPARSE, 1, "image data is not base64");
    }
out:
    json_decref(root);
    return rc;
}
