/* Ogg Opus encoding with libopusenc: the smallest files at speech quality,
 * for pages and decks whose readers are not on iOS (Safari's Ogg support is
 * spotty). libopusenc resamples to Opus's 48 kHz itself and writes the
 * pre-skip and final granule position, so decoders get the exact duration.
 */
#include <opus/opusenc.h>

#include "core/util.h"
#include "media/media_internal.h"

#define OPUS_BITRATE_MONO 32000
#define OPUS_BITRATE_STEREO 64000
#define OPUS_COMPLEXITY 6

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

int media_encode_opus(const struct wb_pcm *p, struct wb_buf *out, struct wb_error *err)
{
    OpusEncCallbacks cb = {opus_write, opus_close};
    struct opus_sink sink = {out, 0};
    OggOpusComments *comments = NULL;
    OggOpusEnc *enc = NULL;
    size_t start = out->len, done = 0;
    uint8_t digest[32];
    int rc = 0, e = 0;

    comments = ope_comments_create();
    if (!comments) {
        rc = wb_error_set(err, WB_ENOMEM, "cannot start the Opus encoder");
        goto out;
    }
    enc = ope_encoder_create_callbacks(&cb, &sink, comments, p->rate, p->channels, 0, &e);
    if (!enc) {
        rc = wb_error_set(err, WB_EMEDIA, "Opus encoder: %s", ope_strerror(e));
        goto out;
    }
    /* The stream serial number is random by default; derive it from the audio
     * so the same clip always encodes to the same bytes (and the same name). */
    wb_sha256(p->samples, p->n_samples * (size_t)p->channels * sizeof(int16_t), digest);
    ope_encoder_ctl(enc, OPE_SET_SERIALNO((opus_int32)(media_rd32be(digest) & 0x7FFFFFFF)));
    ope_encoder_ctl(enc, OPUS_SET_BITRATE(p->channels == 1 ? OPUS_BITRATE_MONO
                                                           : OPUS_BITRATE_STEREO));
    ope_encoder_ctl(enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    /* Complexity 10 (the default) costs twice the CPU of 6 for no audible
     * gain on speech at 32 kbit/s. */
    ope_encoder_ctl(enc, OPUS_SET_COMPLEXITY(OPUS_COMPLEXITY));
    /* Nothing above Nyquist of the input: a 24 kHz clip is super-wideband. */
    if (p->rate <= 24000)
        ope_encoder_ctl(enc, OPUS_SET_MAX_BANDWIDTH(p->rate <= 16000 ? OPUS_BANDWIDTH_WIDEBAND
                                                                    : OPUS_BANDWIDTH_SUPERWIDEBAND));
    while (done < p->n_samples) {
        size_t k = p->n_samples - done > 48000 ? 48000 : p->n_samples - done;
        e = ope_encoder_write(enc, p->samples + done * (size_t)p->channels, (int)k);
        if (e != OPE_OK || sink.rc < 0)
            break;
        done += k;
    }
    if (e == OPE_OK && sink.rc == 0)
        e = ope_encoder_drain(enc);
    if (sink.rc < 0) {
        rc = wb_error_set(err, sink.rc, "no room for the Opus data");
        goto out;
    }
    if (e != OPE_OK) {
        rc = wb_error_set(err, WB_EMEDIA, "Opus encoding failed: %s", ope_strerror(e));
        goto out;
    }
out:
    if (rc < 0)
        media_buf_truncate(out, start);
    if (enc)
        ope_encoder_destroy(enc);
    if (comments)
        ope_comments_destroy(comments);
    return rc;
}
