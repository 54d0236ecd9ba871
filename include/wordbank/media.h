/* Audio and image handling, in process: PCM/WAV to MP3 (default), AAC in .m4a
 * and Ogg Opus; silence trimming and peak normalisation; image type sniffing,
 * downscaling and re-encoding to JPEG or WebP; content-addressed media files
 * written atomically, and a cheap validity check that treats an empty,
 * truncated or foreign file as missing.
 *
 * Every function here is thread-safe (no global mutable state) and never
 * prints; the encoders are meant to run on the engine's worker pool.
 * Functions return 0 (or a non-negative value where documented) or a negative
 * WB_E* code with the detail in *err (err may be NULL).
 */
#ifndef WORDBANK_MEDIA_H
#define WORDBANK_MEDIA_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/api.h"
#include "wordbank/buf.h"
#include "wordbank/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- audio ------------------------------------------------------------- */

enum wb_audio_format {
    WB_AUDIO_MP3,
    WB_AUDIO_M4A,
    WB_AUDIO_OPUS,
    WB_AUDIO_WAV
};

/* "mp3", "m4a" (also "aac"), "opus" (also "ogg"), "wav", case-insensitive:
 * the format (>= 0), or WB_EINVAL. */
WB_API int wb_audio_format_from_name(const char *name);
/* The format from a file name's extension (".mp3", ".m4a"/".aac"/".mp4",
 * ".opus"/".ogg"/".oga", ".wav"), or WB_EINVAL when there is none we know. */
WB_API int wb_audio_format_from_path(const char *path);
/* "mp3", "m4a", "opus", "wav" (no dot); NULL for an unknown value. */
WB_API const char *wb_audio_format_ext(enum wb_audio_format f);

/* Interleaved signed 16-bit PCM. Caller-owned; samples is malloc'ed. */
struct wb_pcm {
    int16_t *samples;
    size_t n_samples; /* per channel (frames) */
    int rate;         /* Hz */
    int channels;     /* 1 or 2 */
};

WB_API void wb_pcm_init(struct wb_pcm *p);
WB_API void wb_pcm_release(struct wb_pcm *p);

/* Parse a RIFF/WAVE file (PCM 8/16/24/32-bit integer or 32-bit float, 1-2
 * channels; WAVE_FORMAT_EXTENSIBLE accepted) into s16. WB_EMEDIA for anything
 * else or a truncated file. */
WB_API int wb_pcm_from_wav(const void *data, size_t len, struct wb_pcm *out, struct wb_error *err);
/* Raw little-endian s16 samples (what Gemini sends: audio/L16, 24 kHz mono). A
 * trailing odd byte is dropped. */
WB_API int wb_pcm_from_s16le(const void *data, size_t len, int rate, int channels,
                             struct wb_pcm *out, struct wb_error *err);

#define WB_AUDIO_KEEP_MS_DEFAULT   150
#define WB_AUDIO_PEAK_DBFS_DEFAULT (-1.0)

/* Cut leading and trailing silence down to keep_ms (< 0: no trimming), then
 * scale so the peak sits at peak_dbfs (> 0: no normalisation; the gain is
 * capped at +30 dB so a near-silent clip is not blown up). A clip that is all
 * silence is left as it is. In place. */
WB_API int wb_pcm_trim_normalize(struct wb_pcm *p, int keep_ms, double peak_dbfs);

/* Encode p into out (appended). MP3: LAME, mono or stereo as p, VBR ~-V4 with a
 * LAME/Xing tag (exact duration, gapless). M4A: AAC-LC in an MP4 with the moov
 * box first ("faststart": browsers start playing at once). OPUS: Ogg Opus,
 * resampled to 48 kHz by libopusenc. WAV: 16-bit PCM. Each encoder's library is
 * loaded by its first clip: WB_ECONFIG with the loader's reason when LAME,
 * libavcodec/libavformat or libopusenc cannot be. */
WB_API int wb_audio_encode(const struct wb_pcm *p, enum wb_audio_format f, struct wb_buf *out,
                           struct wb_error *err);

/* Load now what wb_audio_encode needs for f (nothing for WAV): 0, or
 * WB_ECONFIG with the library and the loader's reason (WB_EINVAL for an
 * unknown f). A program about to pay for speech asks first, so that a clip
 * it cannot keep is never bought. Thread-safe; each library loads once. */
WB_API int wb_audio_ready(enum wb_audio_format f, struct wb_error *err);

/* The whole per-clip path in one call (what the pipeline and `wordbank tts` do). */
/* size: sizeof(struct wb_audio_options) as the caller knows it
 * (wb_audio_options_init sets it and the defaults); fields past an older
 * caller's size keep their defaults. See wordbank/api.h. */
struct wb_audio_options {
    size_t size;
    enum wb_audio_format format; /* WB_AUDIO_MP3 */
    int trim;                    /* 1: trim + normalise (the default); 0: keep the raw clip */
    int keep_ms;                 /* WB_AUDIO_KEEP_MS_DEFAULT */
    double peak_dbfs;            /* WB_AUDIO_PEAK_DBFS_DEFAULT */
    int pcm_rate;                /* for raw s16le input: 24000 */
    int pcm_channels;            /* for raw s16le input: 1 */
};
WB_API void wb_audio_options_init(struct wb_audio_options *o);
/* data is a WAV file (starts with "RIFF....WAVE") or raw s16le PCM at
 * o->pcm_rate / o->pcm_channels. The encoded file is appended to out. */
WB_API int wb_audio_convert(const void *data, size_t len, const struct wb_audio_options *o,
                            struct wb_buf *out, struct wb_error *err);

/* ---- images ------------------------------------------------------------ */

enum wb_image_type {
    WB_IMAGE_UNKNOWN,
    WB_IMAGE_PNG,
    WB_IMAGE_JPEG,
    WB_IMAGE_WEBP
};

struct wb_image_info {
    enum wb_image_type type;
    int width;
    int height;
    int has_alpha;
};

#define WB_IMAGE_MAX_PX_DEFAULT  512
#define WB_IMAGE_QUALITY_DEFAULT 82

/* Type from the bytes, dimensions from the header, and a cheap completeness
 * check (PNG reaches IEND, JPEG ends with EOI, WebP's RIFF size fits): a
 * truncated or non-image payload is WB_EMEDIA with the reason in err.
 * libpng, libjpeg and libwebp are loaded by the first call (this one or
 * wb_image_process); when one cannot be, both return WB_ECONFIG with the
 * loader's reason. */
WB_API int wb_image_probe(const void *data, size_t len, struct wb_image_info *out,
                          struct wb_error *err);

/* Decode, downscale so the longest side is at most max_px (<= 0: the default
 * 512; never upscales), and encode as out_type (JPEG with quality 1-100,
 * <= 0: 82; WEBP lossy with the same quality; PNG lossless; UNKNOWN: JPEG).
 * Transparency is flattened onto white for JPEG and kept for WebP/PNG.
 * out_info (may be NULL) receives the output's type and size. */
WB_API int wb_image_process(const void *data, size_t len, int max_px, enum wb_image_type out_type,
                            int quality, struct wb_buf *out, struct wb_image_info *out_info,
                            struct wb_error *err);

/* Load now what wb_image_process needs (libpng, libjpeg, libwebp and the
 * scaler: libswscale, libyuv): 0, or WB_ECONFIG with the library and the
 * loader's reason. For a program about to pay for pictures (wb_audio_ready). */
WB_API int wb_image_ready(struct wb_error *err);

/* "png", "jpg", "webp" (no dot); NULL for UNKNOWN. */
WB_API const char *wb_image_type_ext(enum wb_image_type t);
/* "png"/"jpg"/"jpeg"/"webp", case-insensitive; WB_IMAGE_UNKNOWN otherwise. */
WB_API enum wb_image_type wb_image_type_from_name(const char *name);

/* ---- media files ------------------------------------------------------- */

/* The extension the bytes call for, without a dot: "mp3", "aac" (ADTS AAC, as
 * the original system stored it), "m4a", "opus", "png", "jpg", "webp", "wav"; NULL when the bytes
 * are none of these. Looks at the magic only (see wb_media_valid for completeness). */
WB_API const char *wb_media_sniff_ext(const void *data, size_t len);

/* 1 when the bytes are a complete file of a type we know (magic plus a cheap
 * structural check: PNG chunks reach IEND, JPEG ends with EOI, MP3 frames tile
 * the file, MP4 boxes tile the file and include moov, Ogg pages tile the file
 * with valid CRCs and end with the end-of-stream flag, RIFF sizes fit), else 0. */
WB_API int wb_media_valid(const void *data, size_t len);

/* 1 when the file exists and wb_media_valid() holds for its content, 0 when it
 * is missing, empty, truncated, unreadable or of an unknown type. */
WB_API int wb_media_file_valid(const char *path);

/* The name wb_media_write gives these bytes ("<32 hex>.<ext>"), without
 * writing anything: 0, or WB_EMEDIA for an unknown type or a small out, or
 * WB_ECONFIG when libcrypto (the hash) cannot be loaded. */
WB_API int wb_media_name(const void *data, size_t len, char *out, size_t cap);

/* Store data in media_dir (created if needed) as "<first 32 hex digits of its
 * SHA-256>.<sniffed ext>": temp file in the same directory, fsync, rename,
 * fsync the directory. A valid file of that name already there makes this a
 * no-op. Invalid or unknown bytes are WB_EMEDIA; a full disk is WB_ENOSPC
 * and leaves no temp file behind. *name_out (may be NULL) receives the bare
 * file name, malloc'ed: free() it. */
WB_API int wb_media_write(const char *media_dir, const void *data, size_t len, char **name_out,
                          struct wb_error *err);

/* The largest media file read from disk (an import, a copy into a site or a
 * deck); a bigger one is refused with WB_ETOOBIG before it is read. */
#define WB_MEDIA_MAX_FILE ((size_t)64 << 20)

/* 1 when name is a file name the media store gives: "<32 hex>.<ext>" or
 * "dialogue-<32 hex>.<ext>" with an extension listed under
 * wb_media_sniff_ext. Such a name has no '/', no "..", nothing else: the only
 * names the build, decks and exports ever read from the media directory. */
WB_API int wb_media_name_ok(const char *name);

/* Read path into out (appended) when it is a regular file of at most
 * WB_MEDIA_MAX_FILE bytes holding complete media of a type we know
 * (wb_media_valid). follow = 0 refuses a symbolic link as the last component.
 * WB_ENOTFOUND, WB_EINVAL (a symlink), WB_ETOOBIG, WB_EMEDIA (not media,
 * truncated, not a regular file, empty), WB_EIO; out is unchanged on failure. */
WB_API int wb_media_load(const char *path, int follow, struct wb_buf *out, struct wb_error *err);

/* Read a stored file: name must pass wb_media_name_ok, the file in media_dir
 * must not be a symbolic link, must pass wb_media_load, its bytes must be of
 * the type its extension names and, for a content-hash name, hash to it.
 * The one way the build, decks and exports read media. */
WB_API int wb_media_read(const char *media_dir, const char *name, struct wb_buf *out,
                         struct wb_error *err);

/* Copy a stored file (read by wb_media_read) into dest_dir (created if
 * needed) under the same name, atomically; a valid file of that name already
 * there makes this a no-op. */
WB_API int wb_media_copy(const char *media_dir, const char *name, const char *dest_dir,
                         struct wb_error *err);

#ifdef __cplusplus
}
#endif

#endif
