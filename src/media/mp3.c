/* MP3 encoding with LAME: the default audio format, because it plays on every
 * Anki client and every browser. One lame_t per call, so clips encode in
 * parallel on the worker pool; LAME's own messages are discarded. LAME is
 * loaded by the first MP3 (core/dl.h): no other command maps it.
 */
#include <lame/lame.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/dl.h"
#include "media/media_internal.h"

#define LAME_FUNCTIONS(X)              \
    X(lame_init)                       \
    X(lame_close)                      \
    X(lame_set_errorf)                 \
    X(lame_set_debugf)                 \
    X(lame_set_msgf)                   \
    X(lame_set_num_channels)           \
    X(lame_set_in_samplerate)          \
    X(lame_set_out_samplerate)         \
    X(lame_set_mode)                   \
    X(lame_set_VBR)                    \
    X(lame_set_VBR_quality)            \
    X(lame_set_quality)                \
    X(lame_set_bWriteVbrTag)           \
    X(lame_set_write_id3tag_automatic) \
    X(lame_init_params)                \
    X(lame_encode_buffer_interleaved)  \
    X(lame_encode_buffer)              \
    X(lame_encode_flush)               \
    X(lame_get_lametag_frame)
static struct {
    LAME_FUNCTIONS(CORE_DL_MEMBER)
} media_lame;
#define LAME           (&media_lame)
#define LAME_SYM(name) CORE_DL_SYM(media_lame, name, #name)
/* Debian's soname of LAME (its header does not say it). */
#define LAME_SONAME "libmp3lame.so.0"
static const struct core_dl_sym lame_syms[] = { LAME_FUNCTIONS(LAME_SYM) };
static struct core_dl_once lame_dl = CORE_DL_ONCE_INIT;

static int lame_load(struct wb_error *err)
{
    return core_dl_load(LAME_SONAME, lame_syms, CORE_DL_COUNT(lame_syms), err);
}

/* Speech-friendly VBR: -V4 is transparent for voice at ~40-60 kbit/s mono. */
#define MP3_VBR_QUALITY  4.0f
#define MP3_ALGO_QUALITY 5
#define MP3_CHUNK        8192

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
    lame_t g = LAME->lame_init();
    if (g)
        LAME->lame_close(g);
}

static int mp3_rate_ok(int rate)
{
    static const int rates[] = { 8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000 };
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++)
        if (rates[i] == rate)
            return 1;
    return 0;
}

struct media_mp3 {
    lame_t g;
    int channels;
    unsigned char *mp3;
    size_t mp3_cap;
};

int media_mp3_ready(struct wb_error *err)
{
    return core_dl_need(&lame_dl, lame_load, "MP3 needs LAME", err);
}

int media_mp3_new(int rate, int channels, struct media_mp3 **out, struct wb_error *err)
{
    struct media_mp3 *m;
    int rc;
    *out = NULL;
    if (channels != 1 && channels != 2)
        return wb_error_set(err, WB_EINVAL, "MP3: %d channels (1 or 2 expected)", channels);
    /* A missing LAME is the installation's fault, the same for every clip:
     * WB_ECONFIG, which stops a run at once (as a missing libcurl does). */
    if ((rc = media_mp3_ready(err)) < 0)
        return rc;
    pthread_once(&lame_once, lame_warm);
    m = calloc(1, sizeof *m);
    if (!m)
        return wb_error_set(err, WB_ENOMEM, "cannot start the MP3 encoder");
    m->channels = channels;
    m->mp3_cap = (size_t)(1.25 * MP3_CHUNK) + 7200;
    m->mp3 = malloc(m->mp3_cap);
    m->g = LAME->lame_init();
    if (!m->g || !m->mp3) {
        media_mp3_free(m);
        return wb_error_set(err, WB_ENOMEM, "cannot start the MP3 encoder");
    }
    LAME->lame_set_errorf(m->g, lame_silent);
    LAME->lame_set_debugf(m->g, lame_silent);
    LAME->lame_set_msgf(m->g, lame_silent);
    LAME->lame_set_num_channels(m->g, channels);
    LAME->lame_set_in_samplerate(m->g, rate);
    if (mp3_rate_ok(rate))
        LAME->lame_set_out_samplerate(m->g, rate);
    LAME->lame_set_mode(m->g, channels == 1 ? MONO : JOINT_STEREO);
    LAME->lame_set_VBR(m->g, vbr_default);
    LAME->lame_set_VBR_quality(m->g, MP3_VBR_QUALITY);
    LAME->lame_set_quality(m->g, MP3_ALGO_QUALITY);
    LAME->lame_set_bWriteVbrTag(m->g, 1);
    LAME->lame_set_write_id3tag_automatic(m->g, 0);
    if (LAME->lame_init_params(m->g) < 0) {
        media_mp3_free(m);
        return wb_error_set(err, WB_EMEDIA, "LAME rejected %d Hz, %d channels", rate, channels);
    }
    *out = m;
    return 0;
}

int media_mp3_write(struct media_mp3 *m, const int16_t *samples, size_t frames, struct wb_buf *out,
                    struct wb_error *err)
{
    size_t done = 0;
    while (done < frames) {
        size_t k = frames - done > MP3_CHUNK ? MP3_CHUNK : frames - done;
        const int16_t *s = samples + done * (size_t)m->channels;
        int n = m->channels == 2
                    ? LAME->lame_encode_buffer_interleaved(m->g, (short *)s, (int)k, m->mp3,
                                                           (int)m->mp3_cap)
                    : LAME->lame_encode_buffer(m->g, s, NULL, (int)k, m->mp3, (int)m->mp3_cap);
        int rc;
        if (n < 0)
            return wb_error_set(err, WB_EMEDIA, "LAME encoding failed (%d)", n);
        if ((rc = wb_buf_append(out, m->mp3, (size_t)n)) < 0)
            return wb_error_set(err, rc, "no room for the MP3 data");
        done += k;
    }
    return 0;
}

int media_mp3_finish(struct media_mp3 *m, struct wb_buf *out, struct wb_buf *head,
                     struct wb_error *err)
{
    int n = LAME->lame_encode_flush(m->g, m->mp3, (int)m->mp3_cap), rc;
    size_t t;
    if (n < 0)
        return wb_error_set(err, WB_EMEDIA, "LAME flush failed (%d)", n);
    if ((rc = wb_buf_append(out, m->mp3, (size_t)n)) < 0)
        return wb_error_set(err, rc, "no room for the MP3 data");
    /* LAME left an empty first frame for the Xing/LAME tag (duration, encoder
     * delay and padding for gapless decoding): it goes over the stream's
     * first bytes. */
    t = LAME->lame_get_lametag_frame(m->g, m->mp3, m->mp3_cap);
    if (t > 0 && t <= m->mp3_cap && (rc = wb_buf_append(head, m->mp3, t)) < 0)
        return wb_error_set(err, rc, "no room for the MP3 tag");
    return 0;
}

void media_mp3_free(struct media_mp3 *m)
{
    if (!m)
        return;
    if (m->g)
        LAME->lame_close(m->g);
    free(m->mp3);
    free(m);
}

int media_encode_mp3(const struct wb_pcm *p, struct wb_buf *out, struct wb_error *err)
{
    struct media_mp3 *m = NULL;
    struct wb_buf head;
    size_t start = out->len;
    int rc;

    wb_buf_init(&head, 0);
    rc = media_mp3_new(p->rate, p->channels, &m, err);
    if (rc == 0)
        rc = media_mp3_write(m, p->samples, p->n_samples, out, err);
    if (rc == 0)
        rc = media_mp3_finish(m, out, &head, err);
    if (rc == 0 && head.len <= out->len - start)
        memcpy(out->data + start, head.data, head.len);
    if (rc < 0)
        media_buf_truncate(out, start);
    media_mp3_free(m);
    wb_buf_release(&head);
    return rc;
}
