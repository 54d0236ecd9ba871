/* Ogg Opus encoding with libopusenc: the smallest files at speech quality,
 * for pages and decks whose readers are not on iOS (Safari's Ogg support is
 * spotty). libopusenc resamples to Opus's 48 kHz itself and writes the
 * pre-skip and final granule position, so decoders get the exact duration.
 * libopusenc (and libopus) are loaded by the first Opus clip (core/dl.h): no
 * other command maps them.
 */
#include <opus/opusenc.h>
#include <stdlib.h>

#include "core/dl.h"
#include "core/util.h"
#include "media/media_internal.h"

#define OPE_FUNCTIONS(X)            \
    X(ope_comments_create)          \
    X(ope_encoder_create_callbacks) \
    X(ope_strerror)                 \
    X(ope_encoder_ctl)              \
    X(ope_encoder_write)            \
    X(ope_encoder_drain)            \
    X(ope_encoder_destroy)          \
    X(ope_comments_destroy)
static struct {
    OPE_FUNCTIONS(CORE_DL_MEMBER)
} media_ope;
#define OPE           (&media_ope)
#define OPE_SYM(name) CORE_DL_SYM(media_ope, name, #name)
/* Debian's soname of libopusenc (its header does not say it). */
#define OPE_SONAME "libopusenc.so.0"
static const struct core_dl_sym ope_syms[] = { OPE_FUNCTIONS(OPE_SYM) };
static struct core_dl_once ope_once = CORE_DL_ONCE_INIT;

static int ope_load(struct wb_error *err)
{
    return core_dl_load(OPE_SONAME, ope_syms, CORE_DL_COUNT(ope_syms), err);
}

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

int media_opus_ready(struct wb_error *err)
{
    return core_dl_need(&ope_once, ope_load, "Opus needs libopusenc", err);
}

int media_opus_new(int rate, int channels, uint32_t serial, struct media_opus **out,
                   struct wb_error *err)
{
    OpusEncCallbacks cb = { opus_write, opus_close };
    struct media_opus *o;
    int e = 0, rc;

    *out = NULL;
    if (channels != 1 && channels != 2)
        return wb_error_set(err, WB_EINVAL, "Opus: %d channels (1 or 2 expected)", channels);
    /* The installation's fault: WB_ECONFIG stops a run at once (mp3.c). */
    if ((rc = media_opus_ready(err)) < 0)
        return rc;
    o = calloc(1, sizeof *o);
    if (!o || !(o->comments = OPE->ope_comments_create())) {
        free(o);
        return wb_error_set(err, WB_ENOMEM, "cannot start the Opus encoder");
    }
    o->channels = channels;
    o->enc = OPE->ope_encoder_create_callbacks(&cb, &o->sink, o->comments, rate, channels, 0, &e);
    if (!o->enc) {
        media_opus_free(o);
        return wb_error_set(err, WB_EMEDIA, "Opus encoder: %s", OPE->ope_strerror(e));
    }
    OPE->ope_encoder_ctl(o->enc, OPE_SET_SERIALNO((opus_int32)(serial & 0x7FFFFFFF)));
    OPE->ope_encoder_ctl(o->enc,
                         OPUS_SET_BITRATE(channels == 1 ? OPUS_BITRATE_MONO : OPUS_BITRATE_STEREO));
    OPE->ope_encoder_ctl(o->enc, OPUS_SET_SIGNAL(OPUS_SIGNAL_VOICE));
    /* Complexity 10 (the default) costs twice the CPU of 6 for no audible
     * gain on speech at 32 kbit/s. */
    OPE->ope_encoder_ctl(o->enc, OPUS_SET_COMPLEXITY(OPUS_COMPLEXITY));
    /* Nothing above Nyquist of the input: a 24 kHz clip is super-wideband. */
    if (rate <= 24000)
        OPE->ope_encoder_ctl(o->enc,
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
        return wb_error_set(err, WB_EMEDIA, "Opus encoding failed: %s", OPE->ope_strerror(e));
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
        e = OPE->ope_encoder_write(o->enc, samples + done * (size_t)o->channels, (int)k);
        done += k;
    }
    return opus_result(o, e, err);
}

int media_opus_finish(struct media_opus *o, struct wb_buf *out, struct wb_error *err)
{
    o->sink.out = out;
    return opus_result(o, o->sink.rc == 0 ? OPE->ope_encoder_drain(o->enc) : OPE_OK, err);
}

void media_opus_free(struct media_opus *o)
{
    if (!o)
        return;
    if (o->enc)
        OPE->ope_encoder_destroy(o->enc);
    if (o->comments)
        OPE->ope_comments_destroy(o->comments);
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
    if ((rc = core_sha256(p->samples, p->n_samples * (size_t)p->channels * sizeof(int16_t),
                          digest)) < 0)
        return wb_error_set(err, rc, "Opus needs libcrypto (the stream's serial number)");
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
