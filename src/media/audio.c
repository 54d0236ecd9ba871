/* Audio formats by name and extension, the encoder dispatch, WAV output, and
 * wb_audio_convert: the whole per-clip path (parse, trim, normalise, encode)
 * the pipeline runs on its worker pool.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/sized.h"
#include "media/load.h"
#include "media/media_internal.h"

static const struct {
    const char *name;
    enum wb_audio_format f;
} names[] = {
    { "mp3", WB_AUDIO_MP3 },  { "m4a", WB_AUDIO_M4A },   { "aac", WB_AUDIO_M4A },
    { "mp4", WB_AUDIO_M4A },  { "opus", WB_AUDIO_OPUS }, { "ogg", WB_AUDIO_OPUS },
    { "oga", WB_AUDIO_OPUS }, { "wav", WB_AUDIO_WAV },
};

int wb_audio_format_from_name(const char *name)
{
    if (!name)
        return WB_EINVAL;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        /* "mp4" and "oga" are extensions, not names we advertise, but harmless. */
        if (strcasecmp(name, names[i].name) == 0)
            return (int)names[i].f;
    }
    return WB_EINVAL;
}

int wb_audio_format_from_path(const char *path)
{
    const char *dot, *slash;
    if (!path)
        return WB_EINVAL;
    dot = strrchr(path, '.');
    slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash) || !dot[1])
        return WB_EINVAL;
    return wb_audio_format_from_name(dot + 1);
}

const char *wb_audio_format_ext(enum wb_audio_format f)
{
    switch (f) {
    case WB_AUDIO_MP3:
        return "mp3";
    case WB_AUDIO_M4A:
        return "m4a";
    case WB_AUDIO_OPUS:
        return "opus";
    case WB_AUDIO_WAV:
        return "wav";
    }
    return NULL;
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v & 0xFFFF);
    put16(p + 2, v >> 16);
}

int media_encode_wav(const struct wb_pcm *p, struct wb_buf *out, struct wb_error *err)
{
    uint8_t h[44];
    size_t n = p->n_samples * (size_t)p->channels, data_len = n * 2;
    int rc;

    if (data_len > 0xFFFFFFFFu - 36)
        return wb_error_set(err, WB_ETOOBIG, "clip too long for a WAV file");
    memcpy(h, "RIFF", 4);
    put32(h + 4, (uint32_t)(36 + data_len));
    memcpy(h + 8, "WAVEfmt ", 8);
    put32(h + 16, 16);
    put16(h + 20, 1);
    put16(h + 22, (unsigned)p->channels);
    put32(h + 24, (uint32_t)p->rate);
    put32(h + 28, (uint32_t)(p->rate * p->channels * 2));
    put16(h + 32, (unsigned)(p->channels * 2));
    put16(h + 34, 16);
    memcpy(h + 36, "data", 4);
    put32(h + 40, (uint32_t)data_len);
    rc = wb_buf_grow(out, sizeof h + data_len);
    if (rc < 0)
        return wb_error_set(err, rc, "no room for a %zu-byte WAV file", sizeof h + data_len);
    wb_buf_append(out, h, sizeof h);
    /* The room is there: the samples go straight in, little-endian. */
    for (size_t i = 0; i < n; i++)
        put16((uint8_t *)out->data + out->len + 2 * i, (uint16_t)p->samples[i]);
    out->len += data_len;
    out->data[out->len] = '\0';
    return 0;
}

int wb_audio_ready(enum wb_audio_format f, struct wb_error *err)
{
    switch (f) {
    case WB_AUDIO_MP3:
        return media_mp3_ready(err);
    case WB_AUDIO_M4A:
        return media_av_load(err);
    case WB_AUDIO_OPUS:
        return media_opus_ready(err);
    case WB_AUDIO_WAV:
        return 0;
    default:
        return wb_error_set(err, WB_EINVAL, "unknown audio format %d", (int)f);
    }
}

int wb_audio_encode(const struct wb_pcm *p, enum wb_audio_format f, struct wb_buf *out,
                    struct wb_error *err)
{
    int rc;
    if (!p || !out || (!p->samples && p->n_samples))
        return wb_error_set(err, WB_EINVAL, "no audio to encode");
    if (p->channels < 1 || p->channels > 2 || p->rate < 8000 || p->rate > 192000)
        return wb_error_set(err, WB_EINVAL, "unsupported PCM shape: %d Hz, %d channels", p->rate,
                            p->channels);
    if (p->n_samples == 0)
        return wb_error_set(err, WB_EMEDIA, "empty audio clip");
    switch (f) {
    case WB_AUDIO_MP3:
        rc = media_encode_mp3(p, out, err);
        break;
    case WB_AUDIO_M4A:
        rc = media_encode_m4a(p, out, err);
        break;
    case WB_AUDIO_OPUS:
        rc = media_encode_opus(p, out, err);
        break;
    case WB_AUDIO_WAV:
        rc = media_encode_wav(p, out, err);
        break;
    default:
        rc = wb_error_set(err, WB_EINVAL, "unknown audio format %d", (int)f);
        break;
    }
    return rc;
}

void wb_audio_options_init(struct wb_audio_options *o)
{
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
    o->format = WB_AUDIO_MP3;
    o->trim = 1;
    o->keep_ms = WB_AUDIO_KEEP_MS_DEFAULT;
    o->peak_dbfs = WB_AUDIO_PEAK_DBFS_DEFAULT;
    o->pcm_rate = 24000;
    o->pcm_channels = 1;
}

int wb_audio_convert(const void *data, size_t len, const struct wb_audio_options *o,
                     struct wb_buf *out, struct wb_error *err)
{
    struct wb_audio_options def;
    struct wb_pcm pcm, view;
    int rc;

    wb_pcm_init(&pcm);
    /* The caller's options by their size (wordbank/api.h): the fields an
     * older caller does not know keep their defaults, not zero. */
    wb_audio_options_init(&def);
    if (o) {
        if ((rc = core_sized_check(o, sizeof def, CORE_SIZED_MIN(struct wb_audio_options, format),
                                   "audio options", err)))
            goto out;
        memcpy(&def, o, o->size);
        def.size = sizeof def;
    }
    o = &def;
    if (len > MEDIA_MAX_INPUT_BYTES) {
        rc = wb_error_set(err, WB_ETOOBIG, "audio input of %zu bytes is too large", len);
        goto out;
    }
    if (len >= 12 && memcmp(data, "RIFF", 4) == 0 && memcmp((const char *)data + 8, "WAVE", 4) == 0)
        rc = wb_pcm_from_wav(data, len, &pcm, err);
    else
        rc = wb_pcm_from_s16le(data, len, o->pcm_rate, o->pcm_channels, &pcm, err);
    if (rc < 0)
        goto out;
    view = pcm;
    if (o->trim) {
        /* Trimmed by offset: the encoder reads the kept frames in place. */
        size_t start;
        double gain;
        media_pcm_plan(&pcm, o->keep_ms, o->peak_dbfs, &start, &view.n_samples, &gain);
        view.samples = pcm.samples + start * (size_t)pcm.channels;
        media_pcm_gain(view.samples, view.n_samples * (size_t)pcm.channels, gain);
    }
    rc = wb_audio_encode(&view, o->format, out, err);
out:
    wb_pcm_release(&pcm);
    return rc;
}
