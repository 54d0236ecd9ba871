/* AAC in an .m4a (MP4) container with libavcodec/libavformat: the original
 * wordbank's format. The muxer writes into memory through a custom
 * AVIOContext; for "faststart" (the moov box before the audio, so browsers
 * start playing before the whole file arrives) the muxer re-opens its output
 * for reading, which our io_open callback serves from the same memory.
 * Everything is per call: one codec and one format context per clip.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/log.h>

#include "media/avload.h"
#include "media/media_internal.h"
#include "wordbank/log.h"

#define M4A_BITRATE_MONO   64000
#define M4A_BITRATE_STEREO 112000
#define M4A_IO_BUF         32768
#define M4A_URL            "wordbank-memory.m4a"

/* ---- a growable in-memory file ---- */

struct memfile {
    uint8_t *data;
    size_t len, cap, pos;
    int rc; /* first wb error seen */
};

static int mem_write(void *opaque, uint8_t *buf, int n)
{
    struct memfile *m = opaque;
    size_t need;
    if (n < 0 || m->rc < 0)
        return AVERROR(EIO);
    need = m->pos + (size_t)n;
    if (need > MEDIA_MAX_INPUT_BYTES) {
        m->rc = WB_ETOOBIG;
        return AVERROR(EFBIG);
    }
    if (need > m->cap) {
        size_t cap = m->cap ? m->cap : 65536;
        uint8_t *p;
        while (cap < need)
            cap *= 2;
        p = realloc(m->data, cap);
        if (!p) {
            m->rc = WB_ENOMEM;
            return AVERROR(ENOMEM);
        }
        m->data = p;
        m->cap = cap;
    }
    if (m->pos > m->len) /* a seek past the end leaves a hole of zeros */
        memset(m->data + m->len, 0, m->pos - m->len);
    memcpy(m->data + m->pos, buf, (size_t)n);
    m->pos = need;
    if (need > m->len)
        m->len = need;
    return n;
}

static int64_t mem_seek_to(size_t *pos, size_t len, int64_t off, int whence)
{
    int64_t base;
    switch (whence & ~AVSEEK_FORCE) {
    case AVSEEK_SIZE:
        return (int64_t)len;
    case SEEK_SET:
        base = 0;
        break;
    case SEEK_CUR:
        base = (int64_t)*pos;
        break;
    case SEEK_END:
        base = (int64_t)len;
        break;
    default:
        return AVERROR(EINVAL);
    }
    if (off < -base || base + off > (int64_t)MEDIA_MAX_INPUT_BYTES)
        return AVERROR(EINVAL);
    *pos = (size_t)(base + off);
    return (int64_t)*pos;
}

static int64_t mem_seek(void *opaque, int64_t off, int whence)
{
    struct memfile *m = opaque;
    return mem_seek_to(&m->pos, m->len, off, whence);
}

/* A reader over the same memory, for the muxer's faststart pass. */
struct memreader {
    struct memfile *m;
    size_t pos;
};

static int mem_read(void *opaque, uint8_t *buf, int n)
{
    struct memreader *r = opaque;
    size_t k;
    if (r->pos >= r->m->len)
        return AVERROR_EOF;
    k = r->m->len - r->pos;
    if (k > (size_t)n)
        k = (size_t)n;
    memcpy(buf, r->m->data + r->pos, k);
    r->pos += k;
    return (int)k;
}

static int64_t mem_read_seek(void *opaque, int64_t off, int whence)
{
    struct memreader *r = opaque;
    return mem_seek_to(&r->pos, r->m->len, off, whence);
}

static int mem_io_open(AVFormatContext *s, AVIOContext **pb, const char *url, int flags,
                       AVDictionary **options)
{
    struct memreader *r = NULL;
    uint8_t *buf = NULL;
    (void)options;
    *pb = NULL;
    if (!(flags & AVIO_FLAG_READ) || (flags & AVIO_FLAG_WRITE) || !url || strcmp(url, M4A_URL))
        return AVERROR(EPERM);
    r = calloc(1, sizeof *r);
    buf = AV->av_malloc(M4A_IO_BUF);
    if (r && buf) {
        r->m = s->opaque;
        *pb = AV->avio_alloc_context(buf, M4A_IO_BUF, 0, r, mem_read, NULL, mem_read_seek);
    }
    if (!*pb) {
        free(r);
        AV->av_free(buf);
        return AVERROR(ENOMEM);
    }
    return 0;
}

static void mem_avio_free(AVIOContext **pb)
{
    if (!*pb)
        return;
    AV->av_freep(&(*pb)->buffer);
    AV->avio_context_free(pb);
}

static int mem_io_close2(AVFormatContext *s, AVIOContext *pb)
{
    (void)s;
    if (pb) {
        free(pb->opaque);
        mem_avio_free(&pb);
    }
    return 0;
}

/* ---- the encoder ---- */

struct m4a {
    const struct wb_pcm *p;
    AVCodecContext *enc;
    AVFormatContext *oc;
    AVStream *st;
    AVFrame *frame;
    AVPacket *pkt;
    struct memfile mem;
};

static int averr(struct wb_error *err, int code, const char *what, int av)
{
    char buf[AV_ERROR_MAX_STRING_SIZE] = "";
    AV->av_strerror(av, buf, sizeof buf);
    return wb_error_set(err, code, "%s: %s", what, buf);
}

/* Send one frame (NULL: flush) and mux every packet that comes out. */
static int m4a_send(struct m4a *m, AVFrame *f, struct wb_error *err)
{
    int r = AV->avcodec_send_frame(m->enc, f);
    if (r < 0)
        return averr(err, WB_EMEDIA, "AAC encoder", r);
    for (;;) {
        r = AV->avcodec_receive_packet(m->enc, m->pkt);
        if (r == AVERROR(EAGAIN) || r == AVERROR_EOF)
            return 0;
        if (r < 0)
            return averr(err, WB_EMEDIA, "AAC encoder", r);
        AV->av_packet_rescale_ts(m->pkt, m->enc->time_base, m->st->time_base);
        m->pkt->stream_index = m->st->index;
        r = AV->av_write_frame(m->oc, m->pkt);
        AV->av_packet_unref(m->pkt);
        if (r < 0)
            return m->mem.rc < 0 ? wb_error_set(err, m->mem.rc, "MP4 output too large")
                                 : averr(err, WB_EMEDIA, "MP4 muxer", r);
    }
}

static int m4a_setup(struct m4a *m, struct wb_error *err)
{
    const struct wb_pcm *p = m->p;
    const AVCodec *codec = AV->avcodec_find_encoder(AV_CODEC_ID_AAC);
    uint8_t *iobuf;
    int r;

    if (!codec)
        return wb_error_set(err, WB_EUNSUPPORTED, "libavcodec has no AAC encoder");
    m->enc = AV->avcodec_alloc_context3(codec);
    m->frame = AV->av_frame_alloc();
    m->pkt = AV->av_packet_alloc();
    if (!m->enc || !m->frame || !m->pkt)
        return wb_error_set(err, WB_ENOMEM, "cannot start the AAC encoder");
    m->enc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    m->enc->sample_rate = p->rate;
    AV->av_channel_layout_default(&m->enc->ch_layout, p->channels);
    m->enc->bit_rate = p->channels == 1 ? M4A_BITRATE_MONO : M4A_BITRATE_STEREO;
    m->enc->time_base = (AVRational){ 1, p->rate };
    m->enc->thread_count = 1; /* we run many clips in parallel already */

    r = AV->avformat_alloc_output_context2(&m->oc, NULL, "ipod", NULL); /* .m4a: brand "M4A " */
    if (r < 0 || !m->oc)
        return averr(err, WB_EUNSUPPORTED, "MP4 muxer", r);
    if (m->oc->oformat->flags & AVFMT_GLOBALHEADER)
        m->enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    r = AV->avcodec_open2(m->enc, codec, NULL);
    if (r < 0)
        return averr(err, WB_EMEDIA, "AAC encoder", r);

    m->st = AV->avformat_new_stream(m->oc, NULL);
    if (!m->st)
        return wb_error_set(err, WB_ENOMEM, "cannot add an MP4 stream");
    r = AV->avcodec_parameters_from_context(m->st->codecpar, m->enc);
    if (r < 0)
        return averr(err, WB_EMEDIA, "MP4 stream", r);
    m->st->time_base = m->enc->time_base;

    iobuf = AV->av_malloc(M4A_IO_BUF);
    if (iobuf)
        m->oc->pb =
            AV->avio_alloc_context(iobuf, M4A_IO_BUF, 1, &m->mem, NULL, mem_write, mem_seek);
    if (!m->oc->pb) {
        AV->av_free(iobuf);
        return wb_error_set(err, WB_ENOMEM, "cannot allocate MP4 output");
    }
    m->oc->url = AV->av_strdup(M4A_URL);
    m->oc->opaque = &m->mem;
    m->oc->io_open = mem_io_open;
    m->oc->io_close2 = mem_io_close2;
    m->oc->flags |= AVFMT_FLAG_BITEXACT; /* same clip, same bytes, same name */
    if (!m->oc->url)
        return wb_error_set(err, WB_ENOMEM, "out of memory");

    m->frame->format = m->enc->sample_fmt;
    m->frame->sample_rate = m->enc->sample_rate;
    m->frame->nb_samples = m->enc->frame_size > 0 ? m->enc->frame_size : 1024;
    r = AV->av_channel_layout_copy(&m->frame->ch_layout, &m->enc->ch_layout);
    if (r >= 0)
        r = AV->av_frame_get_buffer(m->frame, 0);
    if (r < 0)
        return averr(err, WB_ENOMEM, "AAC frame", r);
    return 0;
}

int media_encode_m4a(const struct wb_pcm *p, struct wb_buf *out, struct wb_error *err)
{
    struct m4a m;
    AVDictionary *opts = NULL;
    size_t done = 0, fs;
    int rc, r;

    memset(&m, 0, sizeof m);
    m.p = p;
    if ((rc = media_av_load(err)) < 0)
        return rc;
    rc = m4a_setup(&m, err);
    if (rc < 0)
        goto out;
    AV->av_dict_set(&opts, "movflags", "+faststart", 0);
    r = AV->avformat_write_header(m.oc, &opts);
    if (r < 0) {
        rc = averr(err, WB_EMEDIA, "MP4 header", r);
        goto out;
    }
    fs = (size_t)m.frame->nb_samples;
    while (done < p->n_samples) {
        size_t k = p->n_samples - done > fs ? fs : p->n_samples - done;
        const int16_t *s = p->samples + done * (size_t)p->channels;
        r = AV->av_frame_make_writable(m.frame);
        if (r < 0) {
            rc = averr(err, WB_ENOMEM, "AAC frame", r);
            goto out;
        }
        if (k < fs && !(m.enc->codec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME)) {
            /* pad the last frame with silence */
            for (int c = 0; c < p->channels; c++)
                memset(m.frame->data[c], 0, fs * sizeof(float));
        }
        for (int c = 0; c < p->channels; c++) {
            float *d = (float *)m.frame->data[c];
            for (size_t i = 0; i < k; i++)
                d[i] = (float)s[i * (size_t)p->channels + (size_t)c] * (1.0f / 32768.0f);
        }
        if (m.enc->codec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME)
            m.frame->nb_samples = (int)k;
        m.frame->pts = (int64_t)done;
        rc = m4a_send(&m, m.frame, err);
        if (rc < 0)
            goto out;
        done += k;
    }
    rc = m4a_send(&m, NULL, err);
    if (rc < 0)
        goto out;
    r = AV->av_write_trailer(m.oc);
    if (r < 0 || m.mem.rc < 0) {
        rc = m.mem.rc < 0 ? wb_error_set(err, m.mem.rc, "MP4 output too large")
                          : averr(err, WB_EMEDIA, "MP4 trailer", r);
        goto out;
    }
    AV->avio_flush(m.oc->pb);
    rc = wb_buf_append(out, m.mem.data, m.mem.len);
    if (rc < 0)
        wb_error_set(err, rc, "no room for the M4A data");
out:
    AV->av_dict_free(&opts);
    if (m.oc) {
        mem_avio_free(&m.oc->pb);
        AV->avformat_free_context(m.oc);
    }
    AV->avcodec_free_context(&m.enc);
    AV->av_frame_free(&m.frame);
    AV->av_packet_free(&m.pkt);
    free(m.mem.data);
    return rc;
}
