/* Internal interface of the media module: one encoder per audio format (each
 * file includes exactly one outside library), and the byte-level helpers the
 * validators share. Not part of the public API.
 */
#ifndef WB_MEDIA_INTERNAL_H
#define WB_MEDIA_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/media.h"

/* Caps on what we accept from outside: a speech clip is seconds long, an image
 * a few megabytes. */
#define MEDIA_MAX_AUDIO_SECONDS (30 * 60)
#define MEDIA_MAX_INPUT_BYTES   ((size_t)256 << 20)
#define MEDIA_MAX_IMAGE_SIDE    16384
#define MEDIA_MAX_IMAGE_PIXELS  ((uint64_t)64 << 20)

/* What wb_pcm_trim_normalize does to p, without doing it: the frames it
 * keeps (from start, frames of them) and the gain it applies (1.0: none).
 * media_pcm_gain applies a gain to n samples (clipped to s16). A caller that
 * encodes p->samples + start * channels needs no move. */
void media_pcm_plan(const struct wb_pcm *p, int keep_ms, double peak_dbfs, size_t *start,
                    size_t *frames, double *gain);
void media_pcm_gain(int16_t *s, size_t n, double gain);

int media_encode_mp3(const struct wb_pcm *p, struct wb_buf *out, struct wb_error *err);
int media_encode_m4a(const struct wb_pcm *p, struct wb_buf *out, struct wb_error *err);
int media_encode_opus(const struct wb_pcm *p, struct wb_buf *out, struct wb_error *err);
int media_encode_wav(const struct wb_pcm *p, struct wb_buf *out, struct wb_error *err);
/* Each encoder's library loaded (once a process): 0, or WB_ECONFIG with
 * the loader's reason (wb_audio_ready). */
int media_mp3_ready(struct wb_error *err);
int media_opus_ready(struct wb_error *err);

/* Streaming encoders: PCM (s16, interleaved) in pieces of any size as it
 * arrives, the encoded bytes appended to out as they are ready (the caller
 * may write them to a file and reset out between pieces: memory stays a
 * piece's worth). The whole-clip encoders above are built on them.
 *
 * MP3: media_mp3_finish flushes into out and puts the LAME/Xing tag frame
 * into head: those bytes replace the first head->len bytes of the stream
 * (LAME reserved an empty frame there; the tag gives the exact duration).
 * Opus: serial is the Ogg stream's serial number (the whole-clip encoder
 * derives it from the audio; a streaming caller from the request, so the
 * same request still gives the same bytes). */
struct media_mp3;
int media_mp3_new(int rate, int channels, struct media_mp3 **out, struct wb_error *err);
int media_mp3_write(struct media_mp3 *m, const int16_t *samples, size_t frames, struct wb_buf *out,
                    struct wb_error *err);
int media_mp3_finish(struct media_mp3 *m, struct wb_buf *out, struct wb_buf *head,
                     struct wb_error *err);
void media_mp3_free(struct media_mp3 *m);

struct media_opus;
int media_opus_new(int rate, int channels, uint32_t serial, struct media_opus **out,
                   struct wb_error *err);
int media_opus_write(struct media_opus *o, const int16_t *samples, size_t frames,
                     struct wb_buf *out, struct wb_error *err);
int media_opus_finish(struct media_opus *o, struct wb_buf *out, struct wb_error *err);
void media_opus_free(struct media_opus *o);

/* Structural checks shared by wb_media_valid and wb_image_probe: 1 ok, 0 not. */
int media_png_complete(const uint8_t *d, size_t len);
int media_jpeg_complete(const uint8_t *d, size_t len);
int media_webp_complete(const uint8_t *d, size_t len);

/* Drop what an encoder appended after a failure: back to len. */
static inline void media_buf_truncate(struct wb_buf *b, size_t len)
{
    if (b->len > len) {
        b->len = len;
        b->data[len] = '\0';
    }
}

static inline uint32_t media_rd32be(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}
static inline uint32_t media_rd32le(const uint8_t *p)
{
    return (uint32_t)p[3] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[1] << 8 | p[0];
}
static inline uint16_t media_rd16le(const uint8_t *p)
{
    return (uint16_t)(p[1] << 8 | p[0]);
}

#endif
