/* What a media file is, from its bytes: the magic numbers that pick the
 * extension, and cheap structural checks that tell a complete file from an
 * empty, truncated or foreign one (so a half-written file counts as missing
 * and is generated again). Each check walks the container's own framing:
 * PNG chunks, JPEG end marker, MP3 frames, ADTS AAC frames, MP4 boxes, Ogg
 * pages, RIFF chunks.
 */
#include <string.h>

#include <libavutil/crc.h>

#include "media/avload.h"
#include "media/media_internal.h"

/* ---- MP3 ---- */

/* Length of the MPEG-1/2/2.5 Layer III frame whose header is at h, or 0. */
static size_t mp3_frame_len(const uint8_t *h)
{
    static const int br_v1[16] = { 0,   32,  40,  48,  56,  64,  80,  96,
                                   112, 128, 160, 192, 224, 256, 320, 0 };
    static const int br_v2[16] = {
        0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160, 0
    };
    static const int sr[3][3] = { { 11025, 12000, 8000 },
                                  { 22050, 24000, 16000 },
                                  { 44100, 48000, 32000 } };
    int ver, bri, sri, pad, br, rate;

    if (h[0] != 0xFF || (h[1] & 0xE0) != 0xE0)
        return 0;
    ver = (h[1] >> 3) & 3;                  /* 0: 2.5, 1: reserved, 2: 2, 3: 1 */
    if (ver == 1 || ((h[1] >> 1) & 3) != 1) /* Layer III only */
        return 0;
    bri = h[2] >> 4;
    sri = (h[2] >> 2) & 3;
    pad = (h[2] >> 1) & 1;
    if (bri == 0 || bri == 15 || sri == 3)
        return 0;
    br = (ver == 3 ? br_v1 : br_v2)[bri] * 1000;
    rate = sr[ver == 3 ? 2 : ver == 2 ? 1 : 0][sri];
    return (size_t)((ver == 3 ? 144 : 72) * br / rate + pad);
}

static size_t id3v2_len(const uint8_t *d, size_t len)
{
    if (len < 10 || memcmp(d, "ID3", 3) != 0 || ((d[6] | d[7] | d[8] | d[9]) & 0x80))
        return 0;
    return 10 + ((size_t)d[6] << 21 | (size_t)d[7] << 14 | (size_t)d[8] << 7 | d[9]) +
           ((d[5] & 0x10) ? 10 : 0);
}

static int mp3_sniff(const uint8_t *d, size_t len)
{
    size_t skip = id3v2_len(d, len);
    if (skip)
        return len >= skip + 4 ? mp3_frame_len(d + skip) != 0 : 0;
    return len >= 4 && mp3_frame_len(d) != 0;
}

static int mp3_complete(const uint8_t *d, size_t len)
{
    size_t pos = id3v2_len(d, len), frames = 0;
    while (pos < len) {
        size_t rest = len - pos, n;
        if (rest == 128 && memcmp(d + pos, "TAG", 3) == 0)
            break; /* ID3v1 at the end */
        if (rest >= 8 && memcmp(d + pos, "APETAGEX", 8) == 0)
            break;
        if (rest < 4 || (n = mp3_frame_len(d + pos)) == 0 || n > rest)
            return 0;
        pos += n;
        frames++;
    }
    return frames > 0;
}

/* ---- ADTS AAC ---- */

/* Length of the ADTS frame whose header is at h (MPEG-2/4 AAC, layer 0, a
 * sampling index we know, a frame at least as long as its header), or 0. */
static size_t adts_frame_len(const uint8_t *h, size_t rest)
{
    size_t n, hdr;
    if (rest < 7 || h[0] != 0xFF || (h[1] & 0xF6) != 0xF0)
        return 0;
    if (((h[2] >> 2) & 0x0F) > 12) /* sampling frequency index */
        return 0;
    hdr = (h[1] & 1) ? 7 : 9; /* protection_absent: 1 = no CRC */
    n = (size_t)(h[3] & 3) << 11 | (size_t)h[4] << 3 | h[5] >> 5;
    return n >= hdr ? n : 0;
}

static int adts_sniff(const uint8_t *d, size_t len)
{
    size_t skip = id3v2_len(d, len);
    return len > skip && adts_frame_len(d + skip, len - skip) != 0;
}

static int adts_complete(const uint8_t *d, size_t len)
{
    size_t pos = id3v2_len(d, len), frames = 0;
    while (pos < len) {
        size_t rest = len - pos, n;
        if (rest == 128 && memcmp(d + pos, "TAG", 3) == 0)
            break; /* ID3v1 at the end */
        if ((n = adts_frame_len(d + pos, rest)) == 0 || n > rest)
            return 0;
        pos += n;
        frames++;
    }
    return frames > 0;
}

/* ---- MP4 ---- */

static int mp4_complete(const uint8_t *d, size_t len)
{
    size_t pos = 0;
    int moov = 0, n = 0;
    while (pos < len) {
        uint64_t size;
        size_t hdr = 8;
        if (len - pos < 8)
            return 0;
        size = media_rd32be(d + pos);
        if (size == 1) {
            if (len - pos < 16)
                return 0;
            size = (uint64_t)media_rd32be(d + pos + 8) << 32 | media_rd32be(d + pos + 12);
            hdr = 16;
        } else if (size == 0) {
            size = len - pos;
        }
        if (size < hdr || size > len - pos)
            return 0;
        if (n == 0 && memcmp(d + pos + 4, "ftyp", 4) != 0)
            return 0;
        if (memcmp(d + pos + 4, "moov", 4) == 0)
            moov = 1;
        pos += (size_t)size;
        n++;
    }
    return moov;
}

/* ---- Ogg ---- */

/* The length of the Ogg page at d (header and body), or 0 if it is not a
 * whole page with a correct CRC. */
static size_t ogg_page_len(const uint8_t *d, size_t len)
{
    static const uint8_t zero[4];
    /* libavutil is loaded on first use (avload.h); without it no page checks. */
    const AVCRC *t = media_av_load_util(NULL) == 0 ? AV->av_crc_get_table(AV_CRC_32_IEEE) : NULL;
    size_t nseg, body = 0, n;
    uint32_t crc;

    if (len < 27 || memcmp(d, "OggS", 4) != 0 || d[4] != 0)
        return 0;
    nseg = d[26];
    if (len < 27 + nseg)
        return 0;
    for (size_t i = 0; i < nseg; i++)
        body += d[27 + i];
    n = 27 + nseg + body;
    if (n > len || !t)
        return 0;
    crc = AV->av_crc(t, 0, d, 22);
    crc = AV->av_crc(t, crc, zero, 4);
    crc = AV->av_crc(t, crc, d + 26, n - 26);
    /* libavutil's non-reflected tables give the CRC byte-swapped; Ogg stores
     * it little-endian, so the two meet as a big-endian read. */
    return crc == media_rd32be(d + 22) ? n : 0;
}

static int opus_sniff(const uint8_t *d, size_t len)
{
    size_t body;
    if (len < 28 || memcmp(d, "OggS", 4) != 0)
        return 0;
    body = 27 + (size_t)d[26];
    return len >= body + 8 && memcmp(d + body, "OpusHead", 8) == 0;
}

static int ogg_complete(const uint8_t *d, size_t len)
{
    size_t pos = 0, n = 0;
    uint8_t flags = 0;
    if (!opus_sniff(d, len) || !(d[5] & 0x02))
        return 0;
    while (pos < len) {
        n = ogg_page_len(d + pos, len - pos);
        if (n == 0)
            return 0;
        flags = d[pos + 5];
        pos += n;
    }
    return (flags & 0x04) != 0; /* the last page carries end-of-stream */
}

/* ---- RIFF (WAV, WebP) ---- */

static int riff_is(const uint8_t *d, size_t len, const char *form)
{
    return len >= 12 && memcmp(d, "RIFF", 4) == 0 && memcmp(d + 8, form, 4) == 0;
}

static int riff_fits(const uint8_t *d, size_t len)
{
    uint64_t size = media_rd32le(d + 4);
    return size >= 4 && size + 8 <= len;
}

int media_webp_complete(const uint8_t *d, size_t len)
{
    uint32_t first;
    if (!riff_is(d, len, "WEBP") || !riff_fits(d, len) || len < 20)
        return 0;
    first = media_rd32le(d + 16);
    return (uint64_t)first + 20 <= (uint64_t)media_rd32le(d + 4) + 8;
}

static int wav_complete(const uint8_t *d, size_t len)
{
    size_t end, pos = 12;
    if (!riff_is(d, len, "WAVE") || !riff_fits(d, len))
        return 0;
    end = (size_t)media_rd32le(d + 4) + 8;
    while (pos + 8 <= end) {
        size_t size = media_rd32le(d + pos + 4);
        if (size > end - pos - 8)
            return 0;
        if (memcmp(d + pos, "data", 4) == 0)
            return 1;
        pos += 8 + size + (size & 1);
    }
    return 0;
}

/* ---- PNG, JPEG ---- */

static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n' };

int media_png_complete(const uint8_t *d, size_t len)
{
    size_t pos = 8;
    if (len < 8 + 25 || memcmp(d, png_sig, 8) != 0 || memcmp(d + 12, "IHDR", 4) != 0)
        return 0;
    while (len - pos >= 12) {
        uint32_t n = media_rd32be(d + pos);
        if (n > 0x7FFFFFFFu || n > len - pos - 12)
            return 0;
        if (memcmp(d + pos + 4, "IEND", 4) == 0)
            return 1;
        pos += 12 + (size_t)n;
    }
    return 0;
}

int media_jpeg_complete(const uint8_t *d, size_t len)
{
    if (len < 4 || d[0] != 0xFF || d[1] != 0xD8 || d[2] != 0xFF)
        return 0;
    while (len > 4 && d[len - 1] == 0) /* some writers pad the end */
        len--;
    return d[len - 2] == 0xFF && d[len - 1] == 0xD9;
}

/* ---- public ---- */

const char *wb_media_sniff_ext(const void *data, size_t len)
{
    const uint8_t *d = data;
    if (!d)
        return NULL;
    if (len >= 8 && memcmp(d, png_sig, 8) == 0)
        return "png";
    if (len >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF)
        return "jpg";
    if (riff_is(d, len, "WEBP"))
        return "webp";
    if (riff_is(d, len, "WAVE"))
        return "wav";
    if (len >= 12 && memcmp(d + 4, "ftyp", 4) == 0)
        return "m4a";
    if (opus_sniff(d, len))
        return "opus";
    if (mp3_sniff(d, len))
        return "mp3";
    if (adts_sniff(d, len))
        return "aac";
    return NULL;
}

int wb_media_valid(const void *data, size_t len)
{
    const uint8_t *d = data;
    const char *ext = wb_media_sniff_ext(data, len);
    if (!ext)
        return 0;
    switch (ext[0]) {
    case 'p':
        return media_png_complete(d, len);
    case 'j':
        return media_jpeg_complete(d, len);
    case 'w':
        return ext[1] == 'e' ? media_webp_complete(d, len) : wav_complete(d, len);
    case 'o':
        return ogg_complete(d, len);
    case 'a':
        return adts_complete(d, len);
    case 'm':
        return ext[1] == '4' ? mp4_complete(d, len) : mp3_complete(d, len);
    }
    return 0;
}
