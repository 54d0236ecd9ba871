/* Audio tests: WAV/PCM parsing, trimming and normalisation, and round trips
 * through every encoder, decoded again with libavformat/libavcodec to check
 * duration, channels and sample rate; encoders run in parallel threads must
 * give the same bytes as one at a time.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "core/util.h"
#include "media/media_internal.h"
#include "test.h"
#include "wordbank/media.h"

#define RATE 24000

/* CHECK_OK(rc, ep(&err)) trips gcc's -Waddress; a function hides the constant. */
static struct wb_error *ep(struct wb_error *e)
{
    return e;
}

/* lead_s of silence, tone_s of 440 Hz at -6 dBFS, tail_s of silence. */
static void make_tone(struct wb_pcm *p, int rate, int channels, double lead_s, double tone_s,
                      double tail_s)
{
    size_t lead = (size_t)(lead_s * rate), tone = (size_t)(tone_s * rate),
           tail = (size_t)(tail_s * rate), n = lead + tone + tail;
    wb_pcm_init(p);
    p->samples = calloc(n * (size_t)channels, sizeof(int16_t));
    CHECK(p->samples != NULL);
    p->n_samples = n;
    p->rate = rate;
    p->channels = channels;
    for (size_t i = 0; i < tone; i++) {
        int16_t v = (int16_t)lrint(16384.0 * sin(2 * M_PI * 440.0 * (double)i / rate));
        for (int c = 0; c < channels; c++)
            p->samples[(lead + i) * (size_t)channels + (size_t)c] = v;
    }
}

struct decoded {
    double seconds;
    int rate, channels;
    char codec[32];
};

/* Decode a file with libavformat/libavcodec and count its samples. */
static void decode_file(const char *path, struct decoded *d)
{
    AVFormatContext *fc = NULL;
    AVCodecContext *cc = NULL;
    AVPacket *pkt = av_packet_alloc();
    AVFrame *fr = av_frame_alloc();
    const AVCodec *codec;
    int64_t samples = 0;
    int si, r;

    memset(d, 0, sizeof *d);
    av_log_set_level(AV_LOG_QUIET);
    CHECK(pkt && fr);
    CHECK_MSG(avformat_open_input(&fc, path, NULL, NULL) == 0, "libavformat cannot open %s", path);
    CHECK(avformat_find_stream_info(fc, NULL) >= 0);
    si = av_find_best_stream(fc, AVMEDIA_TYPE_AUDIO, -1, -1, &codec, 0);
    CHECK_MSG(si >= 0 && codec, "no audio stream in %s", path);
    cc = avcodec_alloc_context3(codec);
    CHECK(cc != NULL);
    CHECK(avcodec_parameters_to_context(cc, fc->streams[si]->codecpar) >= 0);
    CHECK(avcodec_open2(cc, codec, NULL) == 0);
    snprintf(d->codec, sizeof d->codec, "%s", codec->name);
    while ((r = av_read_frame(fc, pkt)) >= 0) {
        if (pkt->stream_index == si) {
            CHECK(avcodec_send_packet(cc, pkt) >= 0);
            while (avcodec_receive_frame(cc, fr) >= 0) {
                samples += fr->nb_samples;
                d->rate = fr->sample_rate;
                d->channels = fr->ch_layout.nb_channels;
            }
        }
        av_packet_unref(pkt);
    }
    avcodec_send_packet(cc, NULL);
    while (avcodec_receive_frame(cc, fr) >= 0)
        samples += fr->nb_samples;
    CHECK(d->rate > 0);
    d->seconds = (double)samples / d->rate;
    av_frame_free(&fr);
    av_packet_free(&pkt);
    avcodec_free_context(&cc);
    avformat_close_input(&fc);
}

static void save(const char *path, const struct wb_buf *b)
{
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    CHECK(fwrite(b->data, 1, b->len, f) == b->len);
    CHECK(fclose(f) == 0);
}

/* A damaged byte is caught in every format, where the format can see it: in
 * Ogg every page has a CRC, so any byte counts (one in the middle); MP3, MP4
 * and WAV carry no checksum over their payload, so the check is their framing
 * (docs/media.md): a damaged frame header, box size or chunk size. Each byte
 * is restored afterwards and the file is valid again. */
static void damage_is_caught(enum wb_audio_format f, struct wb_buf *b)
{
    uint8_t *d = (uint8_t *)b->data;
    size_t at = 0, pos;
    uint8_t flip = 0x55;
    switch (f) {
    case WB_AUDIO_OPUS:
        at = b->len / 2;
        break;
    case WB_AUDIO_MP3: /* the first frame's sync, after an ID3v2 tag if any */
        if (memcmp(d, "ID3", 3) == 0)
            at = 10 + ((size_t)(d[6] & 0x7F) << 21 | (size_t)(d[7] & 0x7F) << 14 |
                       (size_t)(d[8] & 0x7F) << 7 | (size_t)(d[9] & 0x7F));
        CHECK_MSG(at + 1 < b->len && d[at] == 0xFF && (d[at + 1] & 0xE0) == 0xE0,
                  "no MP3 frame sync at %zu", at);
        flip = 0xFF;
        break;
    case WB_AUDIO_M4A: /* the size of the second top-level box (after ftyp) */
        CHECK(memcmp(d + 4, "ftyp", 4) == 0);
        at = ((size_t)d[0] << 24 | (size_t)d[1] << 16 | (size_t)d[2] << 8 | d[3]) + 3;
        CHECK(at < b->len);
        flip = 0x01;
        break;
    case WB_AUDIO_WAV: /* the data chunk's size, more than there is */
        for (pos = 12; pos + 8 <= b->len && memcmp(d + pos, "data", 4) != 0;
             pos += 8 + (d[pos + 4] | (size_t)d[pos + 5] << 8 | (size_t)d[pos + 6] << 16 |
                         (size_t)d[pos + 7] << 24))
            ;
        CHECK_MSG(pos + 8 <= b->len, "no data chunk in the WAV");
        at = pos + 7; /* its high byte: 2 GiB more than the file holds */
        flip = 0x80;
        break;
    default:
        CHECK_MSG(0, "no damage test for format %d", (int)f);
    }
    d[at] ^= flip;
    CHECK_MSG(!wb_media_valid(b->data, b->len), "%s: a damaged byte at %zu of %zu still valid",
              wb_audio_format_ext(f), at, b->len);
    d[at] ^= flip;
    CHECK_MSG(wb_media_valid(b->data, b->len), "%s: not valid again once restored",
              wb_audio_format_ext(f));
}

/* Encode p as f, decode it, and check against the expected shape. */
static void roundtrip(const struct wb_pcm *p, enum wb_audio_format f, double expect_s,
                      int expect_rate, struct wb_buf *keep)
{
    struct wb_error err = { 0 };
    struct wb_buf b;
    struct decoded d;
    char path[512];

    wb_buf_init(&b, 0);
    CHECK_OK(wb_audio_encode(p, f, &b, &err), ep(&err));
    CHECK(b.len > 100);
    CHECK_STR(wb_media_sniff_ext(b.data, b.len), wb_audio_format_ext(f));
    CHECK_MSG(wb_media_valid(b.data, b.len), "%s output not valid", wb_audio_format_ext(f));
    CHECK_MSG(!wb_media_valid(b.data, b.len - 7), "truncated %s still valid",
              wb_audio_format_ext(f));
    damage_is_caught(f, &b);
    snprintf(path, sizeof path, "%s/clip.%s", th_tmpdir(), wb_audio_format_ext(f));
    save(path, &b);
    CHECK(wb_media_file_valid(path) == 1);
    decode_file(path, &d);
    CHECK_MSG(fabs(d.seconds - expect_s) <= 0.050, "%s: decoded %.3f s, expected %.3f s",
              wb_audio_format_ext(f), d.seconds, expect_s);
    CHECK_INT(d.channels, p->channels);
    CHECK_INT(d.rate, expect_rate);
    if (keep)
        *keep = b;
    else
        wb_buf_release(&b);
}

TEST(format_names)
{
    CHECK_INT(wb_audio_format_from_name("mp3"), WB_AUDIO_MP3);
    CHECK_INT(wb_audio_format_from_name("M4A"), WB_AUDIO_M4A);
    CHECK_INT(wb_audio_format_from_name("opus"), WB_AUDIO_OPUS);
    CHECK_INT(wb_audio_format_from_name("wav"), WB_AUDIO_WAV);
    CHECK_INT(wb_audio_format_from_name("flac"), WB_EINVAL);
    CHECK_INT(wb_audio_format_from_name(NULL), WB_EINVAL);
    CHECK_INT(wb_audio_format_from_path("out/hello.m4a"), WB_AUDIO_M4A);
    CHECK_INT(wb_audio_format_from_path("x.OPUS"), WB_AUDIO_OPUS);
    CHECK_INT(wb_audio_format_from_path("x.ogg"), WB_AUDIO_OPUS);
    CHECK_INT(wb_audio_format_from_path("a.b/noext"), WB_EINVAL);
    CHECK_INT(wb_audio_format_from_path("file."), WB_EINVAL);
    CHECK_STR(wb_audio_format_ext(WB_AUDIO_MP3), "mp3");
    CHECK_STR(wb_audio_format_ext(WB_AUDIO_M4A), "m4a");
    CHECK_STR(wb_audio_format_ext(WB_AUDIO_OPUS), "opus");
    CHECK(wb_audio_format_ext((enum wb_audio_format)42) == NULL);
}

/* Each format's encoder loads (this machine has them all; a missing one is
 * tests/pipeline's test_encoders_before_paying); an unknown format is
 * refused, not taken for WAV. */
TEST(ready_loads_each_encoder)
{
    struct wb_error err = { 0 };
    CHECK_INT(wb_audio_ready(WB_AUDIO_MP3, &err), 0);
    CHECK_INT(wb_audio_ready(WB_AUDIO_M4A, &err), 0);
    CHECK_INT(wb_audio_ready(WB_AUDIO_OPUS, &err), 0);
    CHECK_INT(wb_audio_ready(WB_AUDIO_WAV, &err), 0);
    CHECK_INT(wb_audio_ready((enum wb_audio_format)42, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "42") != NULL);
}

TEST(wav_roundtrip_and_truncation)
{
    struct wb_pcm p, q;
    struct wb_buf b;
    struct wb_error err = { 0 };

    make_tone(&p, RATE, 2, 0.1, 0.2, 0.1);
    wb_pcm_init(&q);
    wb_buf_init(&b, 0);
    CHECK_OK(wb_audio_encode(&p, WB_AUDIO_WAV, &b, &err), ep(&err));
    CHECK_STR(wb_media_sniff_ext(b.data, b.len), "wav");
    CHECK(wb_media_valid(b.data, b.len));
    CHECK_OK(wb_pcm_from_wav(b.data, b.len, &q, &err), ep(&err));
    CHECK_INT(q.n_samples, p.n_samples);
    CHECK_INT(q.rate, RATE);
    CHECK_INT(q.channels, 2);
    CHECK(memcmp(q.samples, p.samples, p.n_samples * 4) == 0);
    CHECK_INT(wb_pcm_from_wav(b.data, b.len - 100, &q, &err), WB_EMEDIA);
    CHECK(strstr(err.msg, "truncated") != NULL);
    CHECK(!wb_media_valid(b.data, b.len - 100));
    CHECK_INT(wb_pcm_from_wav("RIFFxxxxWAVE", 12, &q, &err), WB_EMEDIA);
    CHECK_INT(wb_pcm_from_wav("hello", 5, &q, &err), WB_EMEDIA);
    wb_buf_release(&b);
    wb_pcm_release(&p);
    wb_pcm_release(&q);
}

TEST(s16le_parse)
{
    const uint8_t raw[] = { 0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80, 0x7F };
    struct wb_pcm p;
    struct wb_error err = { 0 };
    wb_pcm_init(&p);
    CHECK_OK(wb_pcm_from_s16le(raw, sizeof raw, RATE, 1, &p, &err), ep(&err));
    CHECK_INT(p.n_samples, 3); /* the odd trailing byte is dropped */
    CHECK_INT(p.samples[0], 1);
    CHECK_INT(p.samples[1], -1);
    CHECK_INT(p.samples[2], -32768);
    CHECK_INT(wb_pcm_from_s16le(raw, sizeof raw, 100, 1, &p, &err), WB_EMEDIA);
    CHECK_INT(wb_pcm_from_s16le(raw, sizeof raw, RATE, 3, &p, &err), WB_EMEDIA);
    wb_pcm_release(&p);
}

TEST(trim_and_normalize)
{
    struct wb_pcm p;
    int peak = 0;

    make_tone(&p, RATE, 1, 0.5, 2.0, 0.7);
    CHECK_OK(wb_pcm_trim_normalize(&p, 150, -1.0), NULL);
    /* 150 ms kept on each side of the 2 s tone (the first zero crossing of the
     * sine counts as silence, hence a sample of slack). */
    CHECK_MSG(labs((long)p.n_samples - (long)(2.3 * RATE)) <= 2, "trimmed to %zu samples",
              p.n_samples);
    for (size_t i = 0; i < p.n_samples; i++)
        peak = abs(p.samples[i]) > peak ? abs(p.samples[i]) : peak;
    CHECK_MSG(abs(peak - 29204) <= 3, "peak %d, expected 29204 (-1 dBFS)", peak);
    for (size_t i = 0; i < (size_t)(0.14 * RATE); i++)
        CHECK(p.samples[i] == 0);
    wb_pcm_release(&p);

    /* No trimming (keep_ms < 0), no normalisation (peak > 0): unchanged. */
    make_tone(&p, RATE, 1, 0.5, 1.0, 0.5);
    CHECK_OK(wb_pcm_trim_normalize(&p, -1, 1.0), NULL);
    CHECK_INT(p.n_samples, 2 * RATE);
    wb_pcm_release(&p);

    /* All silence: left alone. */
    make_tone(&p, RATE, 1, 1.0, 0.0, 0.0);
    CHECK_OK(wb_pcm_trim_normalize(&p, 150, -1.0), NULL);
    CHECK_INT(p.n_samples, RATE);
    wb_pcm_release(&p);

    /* To the frame: 1000 silent, 100 loud, 1000 silent frames, 10 ms (240
     * frames) kept each side: 240 + 100 + 240 frames, the loud ones at
     * [240, 340), stereo frames kept whole. */
    for (int ch = 1; ch <= 2; ch++) {
        wb_pcm_init(&p);
        p.samples = calloc(2100 * (size_t)ch, sizeof(int16_t));
        CHECK(p.samples != NULL);
        p.n_samples = 2100;
        p.rate = RATE;
        p.channels = ch;
        for (size_t i = 1000; i < 1100; i++)
            p.samples[i * (size_t)ch + (size_t)(ch - 1)] = (int16_t)(i % 2 ? 10000 : -10000);
        CHECK_OK(wb_pcm_trim_normalize(&p, 10, 1.0), NULL);
        CHECK_INT(p.n_samples, 580);
        CHECK(p.samples[239 * ch + ch - 1] == 0 && p.samples[240 * ch + ch - 1] == -10000);
        CHECK(p.samples[339 * ch + ch - 1] == 10000 && p.samples[340 * ch + ch - 1] == 0);
        wb_pcm_release(&p);
    }
}

TEST(roundtrip_raw)
{
    struct wb_pcm p;
    make_tone(&p, RATE, 1, 0.5, 2.0, 0.5);
    roundtrip(&p, WB_AUDIO_MP3, 3.0, RATE, NULL);
    roundtrip(&p, WB_AUDIO_M4A, 3.0, RATE, NULL);
    roundtrip(&p, WB_AUDIO_OPUS, 3.0, 48000, NULL);
    roundtrip(&p, WB_AUDIO_WAV, 3.0, RATE, NULL);
    wb_pcm_release(&p);
}

TEST(roundtrip_trimmed)
{
    struct wb_pcm p;
    make_tone(&p, RATE, 1, 0.5, 2.0, 0.5);
    CHECK_OK(wb_pcm_trim_normalize(&p, WB_AUDIO_KEEP_MS_DEFAULT, WB_AUDIO_PEAK_DBFS_DEFAULT), NULL);
    roundtrip(&p, WB_AUDIO_MP3, 2.3, RATE, NULL);
    roundtrip(&p, WB_AUDIO_M4A, 2.3, RATE, NULL);
    roundtrip(&p, WB_AUDIO_OPUS, 2.3, 48000, NULL);
    wb_pcm_release(&p);
}

TEST(roundtrip_stereo_44k)
{
    struct wb_pcm p;
    make_tone(&p, 44100, 2, 0.2, 1.0, 0.2);
    roundtrip(&p, WB_AUDIO_MP3, 1.4, 44100, NULL);
    roundtrip(&p, WB_AUDIO_M4A, 1.4, 44100, NULL);
    roundtrip(&p, WB_AUDIO_OPUS, 1.4, 48000, NULL);
    wb_pcm_release(&p);
}

/* Top-level MP4 boxes in order: moov must come before mdat (faststart). */
TEST(m4a_faststart)
{
    struct wb_pcm p;
    struct wb_buf b;
    struct wb_error err = { 0 };
    size_t pos = 0, moov = 0, mdat = 0;

    make_tone(&p, RATE, 1, 0.1, 1.0, 0.1);
    wb_buf_init(&b, 0);
    CHECK_OK(wb_audio_encode(&p, WB_AUDIO_M4A, &b, &err), ep(&err));
    CHECK(memcmp(b.data + 4, "ftypM4A ", 8) == 0);
    while (pos + 8 <= b.len) {
        const uint8_t *h = (const uint8_t *)b.data + pos;
        size_t size = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
        if (memcmp(h + 4, "moov", 4) == 0)
            moov = pos;
        if (memcmp(h + 4, "mdat", 4) == 0)
            mdat = pos;
        CHECK(size >= 8);
        pos += size;
    }
    CHECK_INT(pos, b.len);
    CHECK_MSG(moov && mdat && moov < mdat, "moov at %zu, mdat at %zu", moov, mdat);
    wb_buf_release(&b);
    wb_pcm_release(&p);
}

TEST(convert_defaults)
{
    struct wb_pcm p;
    struct wb_audio_options o;
    struct wb_buf raw, mp3, wav;
    struct wb_error err = { 0 };
    char path[512];
    struct decoded d;

    make_tone(&p, RATE, 1, 0.6, 2.0, 0.6);
    wb_buf_init(&raw, 0);
    wb_buf_init(&mp3, 0);
    wb_buf_init(&wav, 0);
    for (size_t i = 0; i < p.n_samples; i++) {
        uint8_t le[2] = { (uint8_t)(p.samples[i] & 0xFF), (uint8_t)((uint16_t)p.samples[i] >> 8) };
        wb_buf_append(&raw, le, 2);
    }
    wb_audio_options_init(&o);
    CHECK_INT(o.format, WB_AUDIO_MP3);
    CHECK_INT(o.trim, 1);
    CHECK_OK(wb_audio_convert(raw.data, raw.len, &o, &mp3, &err), ep(&err));
    snprintf(path, sizeof path, "%s/c.mp3", th_tmpdir());
    save(path, &mp3);
    decode_file(path, &d);
    CHECK_MSG(fabs(d.seconds - 2.3) <= 0.05, "trimmed clip is %.3f s", d.seconds);

    /* A WAV input is recognised; trim off keeps the raw length. */
    o.trim = 0;
    o.format = WB_AUDIO_WAV;
    CHECK_OK(wb_audio_convert(raw.data, raw.len, &o, &wav, &err), ep(&err));
    CHECK_INT(wav.len, 44 + raw.len);
    wb_buf_reset(&mp3);
    o.format = WB_AUDIO_MP3;
    o.pcm_rate = 8000; /* ignored for WAV input: the header says 24 kHz */
    CHECK_OK(wb_audio_convert(wav.data, wav.len, &o, &mp3, &err), ep(&err));
    save(path, &mp3);
    decode_file(path, &d);
    CHECK_INT(d.rate, RATE);
    CHECK_MSG(fabs(d.seconds - 3.2) <= 0.05, "raw clip is %.3f s", d.seconds);
    CHECK_INT(wb_audio_convert(raw.data, 0, &o, &mp3, &err), WB_EMEDIA);

    wb_buf_release(&raw);
    wb_buf_release(&mp3);
    wb_buf_release(&wav);
    wb_pcm_release(&p);
}

/* s16le bytes of p. */
static void pcm_bytes(const struct wb_pcm *p, struct wb_buf *raw)
{
    wb_buf_reset(raw);
    for (size_t i = 0; i < p->n_samples * (size_t)p->channels; i++) {
        uint8_t le[2] = { (uint8_t)(p->samples[i] & 0xFF),
                          (uint8_t)((uint16_t)p->samples[i] >> 8) };
        CHECK_INT(wb_buf_append(raw, le, 2), 0);
    }
}

/* wb_audio_convert trims by offset and normalises only the frames it keeps:
 * the clip's bytes are those of the whole-buffer path (parse, trim with a
 * move, normalise, encode) for every format and every trim setting. */
TEST(convert_matches_trim_then_encode)
{
    static const enum wb_audio_format fs[] = { WB_AUDIO_WAV, WB_AUDIO_MP3, WB_AUDIO_OPUS,
                                               WB_AUDIO_M4A };
    static const struct {
        int rate, channels;
        double lead, tone, tail;
        int trim, keep_ms;
        double peak;
    } cases[] = {
        { RATE, 1, 0.6, 1.0, 0.4, 1, WB_AUDIO_KEEP_MS_DEFAULT, WB_AUDIO_PEAK_DBFS_DEFAULT },
        { RATE, 1, 0.6, 1.0, 0.4, 1, 0, -3.0 },
        { RATE, 1, 0.6, 1.0, 0.4, 1, -1, -1.0 },   /* no trim, normalise */
        { RATE, 1, 0.6, 1.0, 0.4, 1, 50, 1.0 },    /* trim, no gain */
        { RATE, 1, 0.6, 1.0, 0.4, 0, 50, -1.0 },   /* trim off */
        { 44100, 2, 0.3, 0.5, 0.7, 1, 100, -1.0 }, /* stereo */
        { RATE, 1, 0.5, 0.0, 0.0, 1, 100, -1.0 },  /* all silence */
        { RATE, 1, 0.0, 0.8, 0.0, 1, 100, -1.0 },  /* nothing to cut */
    };
    struct wb_buf raw, got, want;
    struct wb_error err = { 0 };
    wb_buf_init(&raw, 0);
    wb_buf_init(&got, 0);
    wb_buf_init(&want, 0);
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        struct wb_pcm p;
        make_tone(&p, cases[c].rate, cases[c].channels, cases[c].lead, cases[c].tone,
                  cases[c].tail);
        pcm_bytes(&p, &raw);
        wb_pcm_release(&p);
        for (size_t k = 0; k < sizeof fs / sizeof *fs; k++) {
            struct wb_audio_options o;
            struct wb_pcm q;
            wb_audio_options_init(&o);
            o.format = fs[k];
            o.trim = cases[c].trim;
            o.keep_ms = cases[c].keep_ms;
            o.peak_dbfs = cases[c].peak;
            o.pcm_rate = cases[c].rate;
            o.pcm_channels = cases[c].channels;
            wb_buf_reset(&got);
            wb_buf_reset(&want);
            CHECK_OK(wb_audio_convert(raw.data, raw.len, &o, &got, &err), ep(&err));
            wb_pcm_init(&q);
            CHECK_OK(wb_pcm_from_s16le(raw.data, raw.len, o.pcm_rate, o.pcm_channels, &q, &err),
                     ep(&err));
            if (o.trim)
                CHECK_INT(wb_pcm_trim_normalize(&q, o.keep_ms, o.peak_dbfs), 0);
            CHECK_OK(wb_audio_encode(&q, o.format, &want, &err), ep(&err));
            wb_pcm_release(&q);
            CHECK_MSG(got.len == want.len && memcmp(got.data, want.data, got.len) == 0,
                      "case %zu %s: %zu bytes, the whole-buffer path %zu", c,
                      wb_audio_format_ext(fs[k]), got.len, want.len);
        }
    }
    wb_buf_release(&raw);
    wb_buf_release(&got);
    wb_buf_release(&want);
}

struct job {
    const struct wb_pcm *p;
    enum wb_audio_format f;
    struct wb_buf out;
    int rc;
};

static void *encode_job(void *arg)
{
    struct job *j = arg;
    j->rc = wb_audio_encode(j->p, j->f, &j->out, NULL);
    return NULL;
}

/* Encoders share no state: the same clip on four threads at once gives the
 * bytes a lone encode gives (output is deterministic, so names are stable). */
TEST(parallel_deterministic)
{
    struct wb_pcm p;
    struct job jobs[6];
    pthread_t th[6];
    struct wb_buf ref[3];
    enum wb_audio_format fs[3] = { WB_AUDIO_MP3, WB_AUDIO_M4A, WB_AUDIO_OPUS };

    make_tone(&p, RATE, 1, 0.2, 1.0, 0.2);
    for (int i = 0; i < 3; i++) {
        wb_buf_init(&ref[i], 0);
        CHECK_OK(wb_audio_encode(&p, fs[i], &ref[i], NULL), NULL);
    }
    for (int i = 0; i < 6; i++) {
        jobs[i].p = &p;
        jobs[i].f = fs[i % 3];
        wb_buf_init(&jobs[i].out, 0);
        CHECK(pthread_create(&th[i], NULL, encode_job, &jobs[i]) == 0);
    }
    for (int i = 0; i < 6; i++) {
        CHECK(pthread_join(th[i], NULL) == 0);
        CHECK_OK(jobs[i].rc, NULL);
        CHECK_MSG(jobs[i].out.len == ref[i % 3].len &&
                      memcmp(jobs[i].out.data, ref[i % 3].data, ref[i % 3].len) == 0,
                  "%s differs when encoded in parallel", wb_audio_format_ext(fs[i % 3]));
        wb_buf_release(&jobs[i].out);
    }
    for (int i = 0; i < 3; i++)
        wb_buf_release(&ref[i]);
    wb_pcm_release(&p);
}

/* The streaming encoders: PCM fed in pieces of any size, out drained after
 * each piece (as a caller writing to a file would), give the same bytes as
 * the whole clip at once. */
static void stream_mp3(const struct wb_pcm *p, size_t step, struct wb_buf *all)
{
    struct media_mp3 *m = NULL;
    struct wb_buf piece, head;
    struct wb_error err = { 0 };
    wb_buf_init(&piece, 0);
    wb_buf_init(&head, 0);
    CHECK_OK(media_mp3_new(p->rate, p->channels, &m, ep(&err)), ep(&err));
    for (size_t off = 0; off < p->n_samples; off += step) {
        size_t k = p->n_samples - off < step ? p->n_samples - off : step;
        CHECK_OK(media_mp3_write(m, p->samples + off * (size_t)p->channels, k, &piece, ep(&err)),
                 ep(&err));
        CHECK(piece.len < 16384); /* a piece's worth, never the clip */
        CHECK_INT(wb_buf_append(all, piece.data, piece.len), 0);
        wb_buf_reset(&piece);
    }
    CHECK_OK(media_mp3_finish(m, &piece, &head, ep(&err)), ep(&err));
    CHECK_INT(wb_buf_append(all, piece.data, piece.len), 0);
    CHECK(head.len > 0 && head.len <= all->len);
    memcpy(all->data, head.data, head.len); /* as pwrite at offset 0 would */
    media_mp3_free(m);
    wb_buf_release(&piece);
    wb_buf_release(&head);
}

static void stream_opus(const struct wb_pcm *p, size_t step, struct wb_buf *all)
{
    struct media_opus *o = NULL;
    struct wb_buf piece;
    struct wb_error err = { 0 };
    uint8_t digest[32];
    wb_buf_init(&piece, 0);
    /* The serial the whole-clip encoder derives, so the bytes can match. */
    core_sha256(p->samples, p->n_samples * (size_t)p->channels * sizeof(int16_t), digest);
    CHECK_OK(media_opus_new(p->rate, p->channels,
                            (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
                                (uint32_t)digest[2] << 8 | digest[3],
                            &o, ep(&err)),
             ep(&err));
    for (size_t off = 0; off < p->n_samples; off += step) {
        size_t k = p->n_samples - off < step ? p->n_samples - off : step;
        CHECK_OK(media_opus_write(o, p->samples + off * (size_t)p->channels, k, &piece, ep(&err)),
                 ep(&err));
        CHECK_INT(wb_buf_append(all, piece.data, piece.len), 0);
        wb_buf_reset(&piece);
    }
    CHECK_OK(media_opus_finish(o, &piece, ep(&err)), ep(&err));
    CHECK_INT(wb_buf_append(all, piece.data, piece.len), 0);
    media_opus_free(o);
    wb_buf_release(&piece);
}

/* Streamed in pieces of every size, the clip is the whole-clip encoding's
 * bytes (name: the format in the messages). */
static void check_streamed(const struct wb_pcm *p, enum wb_audio_format f, const char *name,
                           void (*stream)(const struct wb_pcm *, size_t, struct wb_buf *))
{
    static const size_t steps[] = { 7, 997, 4800, 100000 };
    struct wb_buf whole, all;
    struct wb_error err = { 0 };
    wb_buf_init(&whole, 0);
    wb_buf_init(&all, 0);
    CHECK_OK(wb_audio_encode(p, f, &whole, ep(&err)), ep(&err));
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
        wb_buf_reset(&all);
        stream(p, steps[k], &all);
        CHECK_MSG(all.len == whole.len && memcmp(all.data, whole.data, all.len) == 0,
                  "%s %d ch, pieces of %zu: %zu bytes vs %zu", name, p->channels, steps[k], all.len,
                  whole.len);
    }
    wb_buf_release(&whole);
    wb_buf_release(&all);
}

TEST(streaming_encoders_match_whole_clip)
{
    for (int ch = 1; ch <= 2; ch++) {
        struct wb_pcm p;
        make_tone(&p, RATE, ch, 0.2, 1.5, 0.3);
        check_streamed(&p, WB_AUDIO_MP3, "MP3", stream_mp3);
        check_streamed(&p, WB_AUDIO_OPUS, "Opus", stream_opus);
        wb_pcm_release(&p);
    }
}

TEST(encode_rejects_bad_input)
{
    struct wb_pcm p;
    struct wb_buf b;
    struct wb_error err = { 0 };
    wb_pcm_init(&p);
    wb_buf_init(&b, 0);
    CHECK_INT(wb_audio_encode(&p, WB_AUDIO_MP3, &b, &err), WB_EINVAL);
    make_tone(&p, RATE, 1, 0.0, 0.1, 0.0);
    CHECK_INT(wb_audio_encode(&p, (enum wb_audio_format)9, &b, &err), WB_EINVAL);
    /* A size limit on the output is honoured and leaves the buffer empty. */
    b.limit = 100;
    CHECK_INT(wb_audio_encode(&p, WB_AUDIO_MP3, &b, &err), WB_ETOOBIG);
    CHECK_INT(b.len, 0);
    CHECK_INT(wb_audio_encode(&p, WB_AUDIO_OPUS, &b, &err), WB_ETOOBIG);
    CHECK_INT(b.len, 0);
    CHECK_INT(wb_audio_encode(&p, WB_AUDIO_M4A, &b, &err), WB_ETOOBIG);
    CHECK_INT(b.len, 0);
    wb_buf_release(&b);
    wb_pcm_release(&p);
}
