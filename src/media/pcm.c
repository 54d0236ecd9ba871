/* PCM clips: parsing WAV files and raw s16le into struct wb_pcm, and the two
 * clean-ups applied before encoding (silence trimming, peak normalisation).
 * Pure computation on caller-owned memory; no outside library.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "media/media_internal.h"

void wb_pcm_init(struct wb_pcm *p)
{
    memset(p, 0, sizeof *p);
}

void wb_pcm_release(struct wb_pcm *p)
{
    free(p->samples);
    wb_pcm_init(p);
}

static int check_shape(int rate, int channels, size_t frames, struct wb_error *err)
{
    if (rate < 8000 || rate > 192000)
        return wb_error_set(err, WB_EMEDIA, "unsupported sample rate %d Hz", rate);
    if (channels < 1 || channels > 2)
        return wb_error_set(err, WB_EMEDIA, "unsupported channel count %d", channels);
    if (frames > (size_t)rate * MEDIA_MAX_AUDIO_SECONDS)
        return wb_error_set(err, WB_ETOOBIG, "audio clip longer than %d s",
                            MEDIA_MAX_AUDIO_SECONDS);
    return 0;
}

int wb_pcm_from_s16le(const void *data, size_t len, int rate, int channels, struct wb_pcm *out,
                      struct wb_error *err)
{
    const uint8_t *d = data;
    size_t frames, n;
    int rc;

    wb_pcm_release(out);
    if (!data && len)
        return wb_error_set(err, WB_EINVAL, "no PCM data");
    if (channels < 1 || channels > 2)
        return wb_error_set(err, WB_EMEDIA, "unsupported channel count %d", channels);
    frames = len / 2 / (size_t)channels;
    rc = check_shape(rate, channels, frames, err);
    if (rc < 0)
        return rc;
    n = frames * (size_t)channels;
    out->samples = malloc(n ? n * sizeof(int16_t) : 1);
    if (!out->samples)
        return wb_error_set(err, WB_ENOMEM, "out of memory for %zu samples", n);
    for (size_t i = 0; i < n; i++)
        out->samples[i] = (int16_t)media_rd16le(d + 2 * i);
    out->n_samples = frames;
    out->rate = rate;
    out->channels = channels;
    return 0;
}

/* One sample of the WAV's format as s16. */
static int16_t wav_sample(const uint8_t *p, int bits, int is_float)
{
    if (is_float) {
        float f;
        uint32_t u = media_rd32le(p);
        memcpy(&f, &u, sizeof f);
        if (!(f == f))
            return 0;
        if (f > 1.0f)
            f = 1.0f;
        if (f < -1.0f)
            f = -1.0f;
        return (int16_t)lrintf(f * 32767.0f);
    }
    switch (bits) {
    case 8:
        return (int16_t)((p[0] - 128) * 256);
    case 16:
        return (int16_t)media_rd16le(p);
    case 24:
        return (int16_t)media_rd16le(p + 1);
    default:
        return (int16_t)media_rd16le(p + 2);
    }
}

int wb_pcm_from_wav(const void *data, size_t len, struct wb_pcm *out, struct wb_error *err)
{
    const uint8_t *d = data, *fmt = NULL, *pcm = NULL;
    size_t pos = 12, pcm_len = 0, frames, bps;
    int fmt_tag = 0, channels = 0, rate = 0, bits = 0, is_float, rc;

    wb_pcm_release(out);
    if (!data || len < 12 || memcmp(d, "RIFF", 4) != 0 || memcmp(d + 8, "WAVE", 4) != 0)
        return wb_error_set(err, WB_EMEDIA, "not a WAV file (no RIFF/WAVE header)");
    while (pos + 8 <= len) {
        uint32_t size = media_rd32le(d + pos + 4);
        size_t avail = len - pos - 8;
        if (memcmp(d + pos, "fmt ", 4) == 0) {
            if (size < 16 || size > avail)
                return wb_error_set(err, WB_EMEDIA, "WAV fmt chunk truncated");
            fmt = d + pos + 8;
        } else if (memcmp(d + pos, "data", 4) == 0) {
            /* Streaming writers leave 0 or 0xFFFFFFFF: the data runs to the end. */
            if (size == 0xFFFFFFFFu || (size == 0 && avail > 0))
                size = (uint32_t)(avail > 0xFFFFFFF0u ? 0xFFFFFFF0u : avail);
            if (size > avail)
                return wb_error_set(err, WB_EMEDIA,
                                    "WAV data chunk truncated (%u bytes declared, %zu present)",
                                    size, avail);
            pcm = d + pos + 8;
            pcm_len = size;
            break;
        }
        if (size > avail)
            return wb_error_set(err, WB_EMEDIA, "WAV chunk truncated");
        pos += 8 + (size_t)size + (size & 1);
    }
    if (!fmt || !pcm)
        return wb_error_set(err, WB_EMEDIA, "WAV file without %s chunk", fmt ? "data" : "fmt");
    fmt_tag = media_rd16le(fmt);
    channels = media_rd16le(fmt + 2);
    rate = (int)media_rd32le(fmt + 4);
    bits = media_rd16le(fmt + 14);
    if (fmt_tag == 0xFFFE && media_rd32le(fmt - 4) >= 26)
        fmt_tag = media_rd16le(fmt + 24); /* the sub-format GUID starts with the tag */
    is_float = fmt_tag == 3;
    if (!((fmt_tag == 1 && (bits == 8 || bits == 16 || bits == 24 || bits == 32)) ||
          (is_float && bits == 32)))
        return wb_error_set(err, WB_EMEDIA, "unsupported WAV encoding (format %d, %d bits)",
                            fmt_tag, bits);
    if (channels < 1 || channels > 2)
        return wb_error_set(err, WB_EMEDIA, "unsupported channel count %d", channels);
    bps = (size_t)bits / 8;
    frames = pcm_len / bps / (size_t)channels;
    rc = check_shape(rate, channels, frames, err);
    if (rc < 0)
        return rc;
    out->samples = malloc(frames ? frames * (size_t)channels * sizeof(int16_t) : 1);
    if (!out->samples)
        return wb_error_set(err, WB_ENOMEM, "out of memory for %zu frames", frames);
    for (size_t i = 0; i < frames * (size_t)channels; i++)
        out->samples[i] = wav_sample(pcm + i * bps, bits, is_float);
    out->n_samples = frames;
    out->rate = rate;
    out->channels = channels;
    return 0;
}

/* The loudest channel of frame i. */
static int frame_peak(const struct wb_pcm *p, size_t i)
{
    int m = 0;
    for (int c = 0; c < p->channels; c++) {
        int v = abs((int)p->samples[i * (size_t)p->channels + (size_t)c]);
        if (v > m)
            m = v;
    }
    return m;
}

void media_pcm_plan(const struct wb_pcm *p, int keep_ms, double peak_dbfs, size_t *start,
                    size_t *frames, double *gain)
{
    size_t n = p->n_samples, first = 0, last, keep, end;
    int peak = 0, threshold;

    *start = 0;
    *frames = n;
    *gain = 1.0;
    if (!p->samples || n == 0 || p->channels < 1 || p->rate <= 0)
        return;
    for (size_t i = 0; i < n; i++) {
        int v = frame_peak(p, i);
        if (v > peak)
            peak = v;
    }
    /* Silence: anything 40 dB or more below the clip's peak, and at least
     * everything under -60 dBFS (33/32768). A clip whose peak is itself under
     * that floor is all silence and left alone. */
    threshold = peak / 100;
    if (threshold < 33)
        threshold = 33;
    if (peak <= threshold)
        return;

    if (keep_ms >= 0) {
        while (first < n && frame_peak(p, first) <= threshold)
            first++;
        last = n - 1;
        while (last > first && frame_peak(p, last) <= threshold)
            last--;
        keep = (size_t)p->rate * (size_t)keep_ms / 1000;
        *start = first > keep ? first - keep : 0;
        end = last + 1 + keep < n ? last + 1 + keep : n;
        *frames = end - *start;
    }

    if (peak_dbfs <= 0.0) {
        double target = 32767.0 * pow(10.0, peak_dbfs / 20.0);
        double g = target / (double)peak;
        if (g > 31.6) /* +30 dB */
            g = 31.6;
        if (fabs(g - 1.0) > 1e-3)
            *gain = g;
    }
}

void media_pcm_gain(int16_t *s, size_t n, double gain)
{
    if (gain == 1.0)
        return;
    for (size_t i = 0; i < n; i++) {
        long v = lrint(s[i] * gain);
        s[i] = (int16_t)(v > 32767 ? 32767 : v < -32768 ? -32768 : v);
    }
}

int wb_pcm_trim_normalize(struct wb_pcm *p, int keep_ms, double peak_dbfs)
{
    size_t start, frames, ch = p->channels > 0 ? (size_t)p->channels : 1;
    double gain;
    media_pcm_plan(p, keep_ms, peak_dbfs, &start, &frames, &gain);
    if (start > 0)
        memmove(p->samples, p->samples + start * ch, frames * ch * sizeof(int16_t));
    p->n_samples = frames;
    media_pcm_gain(p->samples, frames * ch, gain);
    return 0;
}
