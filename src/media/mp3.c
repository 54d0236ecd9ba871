/* MP3 encoding with LAME: the default audio format, because it plays on every
 * Anki client and every browser. One lame_t per call, so clips encode in
 * parallel on the worker pool; LAME's own messages are discarded.
 */
#include <lame/lame.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "media/media_internal.h"

/* Speech-friendly VBR: -V4 is transparent for voice at ~40-60 kbit/s mono. */
#define MP3_VBR_QUALITY 4.0f
#define MP3_ALGO_QUALITY 5
#define MP3_CHUNK 8192

static void lame_silent(const char *fmt, va_list ap)
{
    (void)fmt;
    (void)ap;
}

/* lame_init fills a few shared lookup tables the first time it runs; do that
 * once so two workers never race on it. */
static pthread_once_t lame_once = PTHREAD_ONCE_INIT;

static void lame_warm(void)
{
    lame_t g = lame_init();
    if (g)
        lame_close(g);
}

static int mp3_rate_ok(int rate)
{
    static const int rates[] = {8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        if (rates[i] == rate)
            return 1;
    return 0;
}

int media_encode_mp3(const struct wb_pcm *p, struct wb_buf *out, struct wb_error *err)
{
    lame_t g = NULL;
    unsigned char *mp3 = NULL;
    short *l = NULL, *r = NULL;
    size_t mp3_cap = (size_t)(1.25 * MP3_CHUNK) + 7200, start = out->len, done = 0;
    int rc = 0, n;

    pthread_once(&lame_once, lame_warm);
    g = lame_init();
    mp3 = malloc(mp3_cap);
    if (p->channels == 2) {
        l = malloc(MP3_CHUNK * sizeof *l);
        r = malloc(MP3_CHUNK * sizeof *r);
    }
    if (!g || !mp3 || (p->channels == 2 && (!l || !r))) {
        rc = wb_error_set(err, WB_ENOMEM, "cannot start the MP3 encoder");
        goto out;
    }
    lame_set_errorf(g, lame_silent);
    lame_set_debugf(g, lame_silent);
    lame_set_msgf(g, lame_silent);
    lame_set_num_channels(g, p->channels);
    lame_set_in_samplerate(g, p->rate);
    if (mp3_rate_ok(p->rate))
        lame_set_out_samplerate(g, p->rate);
    lame_set_mode(g, p->channels == 1 ? MONO : JOINT_STEREO);
    lame_set_VBR(g, vbr_default);
    lame_set_VBR_quality(g, MP3_VBR_QUALITY);
    lame_set_quality(g, MP3_ALGO_QUALITY);
    lame_set_bWriteVbrTag(g, 1);
    lame_set_write_id3tag_automatic(g, 0);
    if (lame_init_params(g) < 0) {
        rc = wb_error_set(err, WB_EMEDIA, "LAME rejected %d Hz, %d channels", p->rate,
                          p->channels);
        goto out;
    }

    while (done < p->n_samples) {
        size_t k = p->n_samples - done > MP3_CHUNK ? MP3_CHUNK : p->n_samples - done;
        const int16_t *s = p->samples + done * (size_t)p->channels;
        if (p->channels == 2) {
            for (size_t i = 0; i < k; i++) {
                l[i] = s[2 * i];
                r[i] = s[2 * i + 1];
            }
            n = lame_encode_buffer(g, l, r, (int)k, mp3, (int)mp3_cap);
        } else {
            n = lame_encode_buffer(g, s, NULL, (int)k, mp3, (int)mp3_cap);
        }
        if (n < 0) {
            rc = wb_error_set(err, WB_EMEDIA, "LAME encoding failed (%d)", n);
            goto out;
        }
        rc = wb_buf_append(out, mp3, (size_t)n);
        if (rc < 0) {
            wb_error_set(err, rc, "no room for the MP3 data");
            goto out;
        }
        done += k;
    }
    n = lame_encode_flush(g, mp3, (int)mp3_cap);
    if (n < 0) {
        rc = wb_error_set(err, WB_EMEDIA, "LAME flush failed (%d)", n);
        goto out;
    }
    rc = wb_buf_append(out, mp3, (size_t)n);
    if (rc < 0) {
        wb_error_set(err, rc, "no room for the MP3 data");
        goto out;
    }
    /* LAME left an empty first frame for the Xing/LAME tag (duration, encoder
     * delay and padding for gapless decoding): fill it in now. */
    {
        size_t t = lame_get_lametag_frame(g, mp3, mp3_cap);
        if (t > 0 && t <= mp3_cap && t <= out->len - start)
            memcpy(out->data + start, mp3, t);
    }
out:
    if (rc < 0)
        media_buf_truncate(out, start);
    if (g)
        lame_close(g);
    free(mp3);
    free(l);
    free(r);
    return rc;
}
