/* Ogg Opus encoding with libopusenc: the smallest files at speech quality,
 * for pages and decks whose readers are not on iOS (Safari's Ogg support is
 * spotty). libopusenc resamples to Opus's 48 kHz itself and writes the
 * pre-skip and final granule position, so decoders get the exact duration.
 */
#include <opus/opusenc.h>
#include <stdlib.h>

#include "core/util.h"
#include "media/media_internal.h"

#define OPUS_BITRATE_MONO   32000
#define OPUS_BITRATE_STEREO 64000
#define OPUS_COMPLEXITY     6

struct opus_sink {
    struct wb_buf *out;
    int rc;
};

static int opus_write(void *ud, const unsigned char *ptr, opus_int32 len)
{
    struct opus_sink *s = ud;
    int rc = wb_buf_append(s->out, ptr, (size_t)len);
    if (rc < 0) {
        s->rc = rc;
        return 1;
    }
    return 0;
}

static int opus_close(void *ud)
{
    (void)ud;
    return 0;
}

struct media_opus {
    OggOpusComments *comments;
    OggOpusEnc *enc;
    struct opus_sink sink;
    int channels;
};

int media_opus_new(int rate, int channels, uint32_t serial, struct media_opus **out,
                   struct wb_error *err)
{
    OpusEncCallbacks cb = { opus_write, opus_close };
    struct media_opus *o;
    int e = 0;

    *out = NULL;
    if (channels != 1 && channels != 2)
        return wb_error_set(err, WB_EINVAL, "Opus: %d channels (1 or 2 expected)", channels);
    o = calloc(1, sizeof *o);
    if (!o || !(o->comments = ope_comments_create())) {
        free(o);
        return wb_error_set(err, WB_ENOMEM, "cannot start the Opus encoder");
    }
    o->channels = channels;
    o->enc = ope_encoder_create_callbacks(&cb, &o->sink, o->comments, rate, channels, 0, &e);
    if (!o->enc) {
        media_opus_free(o);
        return wb_error_set(err, WB_EMEDIA, "Opus encoder: %s", ope_strerror(e));
    }
    ope_encoder_ctl(o->enc, OPE_SET_SERIALNO((opus_int32)(serial & 0x7FFFFFFF)));
    ope_encoder_ctl(o->enc,
                    OPUS_SET_BITRATE(channels == 1 ? OPUS_BITRATE_MONO : OPUS_BITRATE_STEREO));
    ope_encoder_ctl(o->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    /* Complexity 10 (the default) costs twice the CPU of 6 for no audible
     * gain on speech at 32 kbit/s. */
    ope_encoder_ctl(o->enc, OPUS_SET_COMPLEXITY(OPUS_COMPLEXITY));
    /* Nothing above Nyquist of the input: a 24 kHz clip is super-wideband. */
    if (rate <= 24000)
        ope_encoder_ctl(o->enc,
                        OPUS_SET_MAX_BANDWIDTH(rate <= 16000 ? OPUS_BANDWIDTH_WIDEBAND
                                                             : OPUS_BANDWIDTH_SUPERWIDEBAND));
    *out = o;
    return 0;
}

static int opus_result(struct media_opus *o, int e, struct wb_error *err)
{
    if (o->sink.rc < 0)
        return wb_error_set(err, o->sink.rc, "no room for the Opus data");
    if (e != OPE_OK)
        return wb_error_set(err, WB_EMEDIA, "Opus encoding failed: %s", ope_strerror(e));
    return 0;
}

int media_opus_write(struct media_opus *o, const int16_t *samples, size_t frames,
                     struct wb_buf *out, struct wb_error *err)
{
    size_t done = 0;
    int e = OPE_OK;
    o->sink.out = out;
    while (done < frames && e == OPE_OK && o->sink.rc == 0) {
        size_t k = frames - done > 48000 ? 48000 : frames - done;
        e = ope_encoder_write(o->enc, samples + done * (size_t)o->channels, (int)k);
        done += k;
    }
    return opus_result(o, e, err);
}

int media_opus_finish(struct media_opus *o, struct wb_buf *out, struct wb_error *err)
{
    o->sink.out = out;
    return opus_result(o, o->sink.rc == 0 ? ope_encoder_drain(o->enc) : OPE_OK, err);
}

void media_opus_free(struct media_opus *o)
{
    if (!o)
        return;
    if (o->enc)
        ope_encoder_destroy(o->enc);
    if (o->comments)
        ope_comments_destroy(o->comments);
    free(o);
}

int media_encode_opus(const struct wb_pcm *p, struct wb_buf *out, struct wb_error *err)
{
    struct media_opus *o = NULL;
    size_t start = out->len;
    uint8_t digest[32];
    int rc;

    /* The stream serial number is random by default; derive it from the audio
     * so the same clip always encodes to the same bytes (and the same name). */
    core_sha256(p->samples, p->n_samples * (size_t)p->channels * sizeof(int16_t), digest);
    rc = media_opus_new(p->rate, p->channels, media_rd32be(digest), &o, err);
    if (rc == 0)
        rc = media_opus_write(o, p->samples, p->n_samples, out, err);
    if (rc == 0)
        rc = media_opus_finish(o, out, err);
    if (rc < 0)
        media_buf_truncate(out, start);
    media_opus_free(o);
    return rc;
}
