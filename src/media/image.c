/* Images: sniff the type from the bytes, read the dimensions, decode (libpng,
 * libjpeg-turbo, libwebp) to 8-bit RGB (RGBA when the source has an alpha
 * channel) a slice of rows at a time, downscale with libswscale's area
 * filter fed those slices, and re-encode as JPEG (libjpeg-turbo, from
 * full-range 4:2:0 planes: libyuv converts each slice, libswscale scales),
 * WebP (libwebp) or PNG (libpng). Generated pictures arrive as ~1 MB PNGs; a
 * 512 px JPEG of the same picture is ~40 KB, light enough for pages and
 * decks. Every codec object lives on the stack of one call: thread-safe.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jpeglib.h>
#include <libswscale/swscale.h>
#include <png.h>
#include <webp/decode.h>
#include <webp/encode.h>

#include "core/dl.h"
#include "media/avload.h"
#include "media/media_internal.h"

/* libpng, libjpeg and libwebp, loaded by the first picture (core/dl.h): no
 * other command maps them. One table; a list of functions per library. The
 * header macros that call a function by another name (png_jmpbuf,
 * jpeg_create_compress/decompress, WebPGetFeatures) are spelt out where used. */
#define IMG_PNG_FUNCTIONS(X)            \
    X(png_create_info_struct)           \
    X(png_create_read_struct)           \
    X(png_destroy_read_struct)          \
    X(png_error)                        \
    X(png_get_IHDR)                     \
    X(png_get_channels)                 \
    X(png_get_error_ptr)                \
    X(png_get_gAMA_fixed)               \
    X(png_get_io_ptr)                   \
    X(png_get_valid)                    \
    X(png_image_begin_read_from_memory) \
    X(png_image_finish_read)            \
    X(png_image_free)                   \
    X(png_image_write_to_memory)        \
    X(png_longjmp)                      \
    X(png_read_end)                     \
    X(png_read_info)                    \
    X(png_read_row)                     \
    X(png_read_update_info)             \
    X(png_set_expand_gray_1_2_4_to_8)   \
    X(png_set_gray_to_rgb)              \
    X(png_set_option)                   \
    X(png_set_palette_to_rgb)           \
    X(png_set_read_fn)                  \
    X(png_set_scale_16)                 \
    X(png_set_tRNS_to_alpha)            \
    X(png_set_longjmp_fn)
#define IMG_JPEG_FUNCTIONS(X)  \
    X(jpeg_destroy_compress)   \
    X(jpeg_destroy_decompress) \
    X(jpeg_finish_compress)    \
    X(jpeg_finish_decompress)  \
    X(jpeg_mem_dest)           \
    X(jpeg_mem_src)            \
    X(jpeg_read_header)        \
    X(jpeg_read_scanlines)     \
    X(jpeg_set_defaults)       \
    X(jpeg_set_quality)        \
    X(jpeg_start_compress)     \
    X(jpeg_start_decompress)   \
    X(jpeg_std_error)          \
    X(jpeg_write_raw_data)     \
    X(jpeg_CreateDecompress)   \
    X(jpeg_CreateCompress)
#define IMG_WEBP_FUNCTIONS(X) \
    X(WebPDecodeRGBAInto)     \
    X(WebPDecodeRGBInto)      \
    X(WebPEncodeRGB)          \
    X(WebPEncodeRGBA)         \
    X(WebPFree)               \
    X(WebPGetFeaturesInternal)
static struct {
    IMG_PNG_FUNCTIONS(CORE_DL_MEMBER)
    IMG_JPEG_FUNCTIONS(CORE_DL_MEMBER)
    IMG_WEBP_FUNCTIONS(CORE_DL_MEMBER)
} media_img;
#define IMG           (&media_img)
#define IMG_SYM(name) CORE_DL_SYM(media_img, name, #name)
static const struct core_dl_sym png_syms[] = { IMG_PNG_FUNCTIONS(IMG_SYM) };
static const struct core_dl_sym jpeg_syms[] = { IMG_JPEG_FUNCTIONS(IMG_SYM) };
static const struct core_dl_sym webp_syms[] = { IMG_WEBP_FUNCTIONS(IMG_SYM) };
/* The sonames: libpng's and libjpeg's from their headers, Debian's for
 * libwebp (its headers do not say it). */
#define IMG_STR(x)     #x
#define IMG_SO(lib, v) lib ".so." IMG_STR(v)
#define WEBP_SONAME    "libwebp.so.7"

static int img_load(struct wb_error *err)
{
    int rc = core_dl_load(IMG_SO("libpng16", PNG_LIBPNG_VER_DLLNUM), png_syms,
                          CORE_DL_COUNT(png_syms), err);
    if (rc == 0)
        rc = core_dl_load(IMG_SO("libjpeg", JPEG_LIB_VERSION), jpeg_syms, CORE_DL_COUNT(jpeg_syms),
                          err);
    if (rc == 0)
        rc = core_dl_load(WEBP_SONAME, webp_syms, CORE_DL_COUNT(webp_syms), err);
    return rc;
}

static struct core_dl_once img_once = CORE_DL_ONCE_INIT;

/* 0, or WB_ECONFIG with err naming the library and the loader's reason: the
 * installation's fault, the same for every picture (a run stops at once, as
 * for a missing libcurl). */
static int img_ready(struct wb_error *err)
{
    return core_dl_need(&img_once, img_load, "pictures need libpng, libjpeg and libwebp", err);
}

int wb_image_ready(struct wb_error *err)
{
    int rc = img_ready(err);
    return rc < 0 ? rc : media_av_need_scaler(err);
}

#define RGBA_PAD 64

/* A decoded picture: width*height*bpp bytes of RGB (bpp 3, from sources
 * without an alpha channel) or RGBA (bpp 4), and RGBA_PAD spare. */
struct rgba {
    uint8_t *px;
    int w, h;
    int alpha; /* any pixel not fully opaque */
    int bpp;   /* 3: RGB, 4: RGBA */
};

const char *wb_image_type_ext(enum wb_image_type t)
{
    switch (t) {
    case WB_IMAGE_PNG:
        return "png";
    case WB_IMAGE_JPEG:
        return "jpg";
    case WB_IMAGE_WEBP:
        return "webp";
    default:
        return NULL;
    }
}

enum wb_image_type wb_image_type_from_name(const char *name)
{
    if (!name)
        return WB_IMAGE_UNKNOWN;
    if (strcasecmp(name, "png") == 0)
        return WB_IMAGE_PNG;
    if (strcasecmp(name, "jpg") == 0 || strcasecmp(name, "jpeg") == 0)
        return WB_IMAGE_JPEG;
    if (strcasecmp(name, "webp") == 0)
        return WB_IMAGE_WEBP;
    return WB_IMAGE_UNKNOWN;
}

/* ---- libjpeg with errors that return instead of exit() ---- */

struct jerr {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
};

static void jerr_exit(j_common_ptr c)
{
    struct jerr *e = (struct jerr *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

/* Warnings (a truncated file is one: "Premature end of JPEG file") are
 * counted, kept, and make the decode fail; nothing is printed. */
static void jerr_emit(j_common_ptr c, int level)
{
    struct jerr *e = (struct jerr *)c->err;
    if (level < 0) {
        if (e->mgr.num_warnings == 0)
            c->err->format_message(c, e->msg);
        e->mgr.num_warnings++;
    }
}

static void jerr_setup(struct jerr *e)
{
    IMG->jpeg_std_error(&e->mgr);
    e->mgr.error_exit = jerr_exit;
    e->mgr.emit_message = jerr_emit;
    e->msg[0] = '\0';
}

static int dims_ok(int w, int h, struct wb_error *err)
{
    if (w <= 0 || h <= 0)
        return wb_error_set(err, WB_EMEDIA, "image has no size (%dx%d)", w, h);
    if (w > MEDIA_MAX_IMAGE_SIDE || h > MEDIA_MAX_IMAGE_SIDE ||
        (uint64_t)w * (uint64_t)h > MEDIA_MAX_IMAGE_PIXELS)
        return wb_error_set(err, WB_ETOOBIG, "image of %dx%d pixels is too large", w, h);
    return 0;
}

static int alloc_rgba(struct rgba *img, int w, int h, int bpp, struct wb_error *err)
{
    int rc = dims_ok(w, h, err);
    if (rc < 0)
        return rc;
    /* libswscale's SIMD loads read (and may write) up to a vector past the
     * last row: keep a zeroed tail so they stay inside the block. */
    img->px = malloc((size_t)w * (size_t)h * (size_t)bpp + RGBA_PAD);
    if (img->px)
        memset(img->px + (size_t)w * (size_t)h * (size_t)bpp, 0, RGBA_PAD);
    if (!img->px)
        return wb_error_set(err, WB_ENOMEM, "out of memory for a %dx%d image", w, h);
    img->w = w;
    img->h = h;
    img->bpp = bpp;
    return 0;
}

/* ---- probe ---- */

static int probe_png(const uint8_t *d, size_t len, struct wb_image_info *info, struct wb_error *err)
{
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!IMG->png_image_begin_read_from_memory(&img, d, len))
        return wb_error_set(err, WB_EMEDIA, "bad PNG: %s", img.message);
    info->width = (int)img.width;
    info->height = (int)img.height;
    info->has_alpha = (img.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    IMG->png_image_free(&img);
    return 0;
}

/* The libjpeg state lives in the caller's frame and is reached through a
 * pointer only, so nothing the setjmp function owns changes between setjmp and
 * longjmp. */
struct jdec {
    struct jpeg_decompress_struct c;
    struct jerr e;
};

static void jdec_open(struct jdec *j)
{
    memset(&j->c, 0, sizeof j->c);
    jerr_setup(&j->e);
    j->c.err = &j->e.mgr;
}

/* Read the header (into info when given). */
static int jdec_header(struct jdec *j, const uint8_t *d, size_t len, struct wb_image_info *info,
                       struct wb_error *err)
{
    if (setjmp(j->e.jb))
        return wb_error_set(err, WB_EMEDIA, "bad JPEG: %s", j->e.msg);
    IMG->jpeg_CreateDecompress(&j->c, JPEG_LIB_VERSION, sizeof(struct jpeg_decompress_struct));
    IMG->jpeg_mem_src(&j->c, d, (unsigned long)len);
    if (IMG->jpeg_read_header(&j->c, TRUE) != JPEG_HEADER_OK)
        return wb_error_set(err, WB_EMEDIA, "bad JPEG: no image header");
    if (info) {
        info->width = (int)j->c.image_width;
        info->height = (int)j->c.image_height;
        info->has_alpha = 0;
    }
    return 0;
}

static int probe_jpeg(const uint8_t *d, size_t len, struct wb_image_info *info,
                      struct wb_error *err)
{
    struct jdec j;
    int rc;
    jdec_open(&j);
    rc = jdec_header(&j, d, len, info, err);
    IMG->jpeg_destroy_decompress(&j.c);
    return rc;
}

static int probe_webp(const uint8_t *d, size_t len, struct wb_image_info *info,
                      struct wb_error *err)
{
    WebPBitstreamFeatures f;
    VP8StatusCode s = IMG->WebPGetFeaturesInternal(d, len, &f, WEBP_DECODER_ABI_VERSION);
    if (s != VP8_STATUS_OK)
        return wb_error_set(err, WB_EMEDIA, "bad WebP (libwebp status %d)", (int)s);
    if (f.has_animation)
        return wb_error_set(err, WB_EUNSUPPORTED, "animated WebP is not supported");
    info->width = f.width;
    info->height = f.height;
    info->has_alpha = f.has_alpha;
    return 0;
}

int wb_image_probe(const void *data, size_t len, struct wb_image_info *out, struct wb_error *err)
{
    const uint8_t *d = data;
    const char *ext = wb_media_sniff_ext(data, len);
    struct wb_image_info info = { WB_IMAGE_UNKNOWN, 0, 0, 0 };
    int rc;

    if (out)
        *out = info;
    if ((rc = img_ready(err)) < 0)
        return rc;
    if (!d || len == 0)
        return wb_error_set(err, WB_EMEDIA, "empty image data");
    if (len > MEDIA_MAX_INPUT_BYTES)
        return wb_error_set(err, WB_ETOOBIG, "image of %zu bytes is too large", len);
    info.type = wb_image_type_from_name(ext);
    switch (info.type) {
    case WB_IMAGE_PNG:
        if (!media_png_complete(d, len))
            return wb_error_set(err, WB_EMEDIA, "truncated PNG (%zu bytes, no IEND chunk)", len);
        rc = probe_png(d, len, &info, err);
        break;
    case WB_IMAGE_JPEG:
        if (!media_jpeg_complete(d, len))
            return wb_error_set(err, WB_EMEDIA, "truncated JPEG (%zu bytes, no EOI marker)", len);
        rc = probe_jpeg(d, len, &info, err);
        break;
    case WB_IMAGE_WEBP:
        if (!media_webp_complete(d, len))
            return wb_error_set(err, WB_EMEDIA, "truncated WebP (%zu bytes, RIFF size %u)", len,
                                len >= 8 ? media_rd32le(d + 4) : 0);
        rc = probe_webp(d, len, &info, err);
        break;
    default:
        return wb_error_set(err, WB_EMEDIA, "not an image (%zu bytes; PNG, JPEG or WebP expected)",
                            len);
    }
    if (rc == 0)
        rc = dims_ok(info.width, info.height, err);
    if (rc == 0 && out)
        *out = info;
    return rc;
}

/* ---- the scaler: source rows in, top to bottom; the output picture out ----
 *
 * libswscale takes the source in horizontal slices fed in order
 * (sws_scale's srcSliceY), keeping the lines its filters still need in its own
 * ring buffers, so a decoder can hand over a few rows at a time and the
 * full-size picture never exists: the working set stays in the cache and no
 * megabytes are allocated (and page-faulted in) per picture. The filter is
 * the area average (no aliasing at any ratio).
 *
 * For JPEG the output is full-range YCbCr 4:2:0 planes, what libjpeg would
 * make of RGB itself, handed over as raw data (libjpeg's colour conversion
 * and downsampling are skipped). Each slice is first converted to full-range
 * 4:2:0 by libyuv (RGB24/RGBA to J420, SIMD), and libswscale scales those
 * planes range to range: its own RGB-to-YCbCr path converts every source
 * pixel to limited range and back in plain C, two thirds of its time. For
 * PNG and WebP the output is RGB or RGBA, scaled by libswscale directly. */

#define SLICE_ROWS 16
/* libswscale fed in slices reads outside its buffers when a ratio is
 * extreme, across or down (fuzz runs: 2848 rows to 17, 3718 columns to 17;
 * 143:1 did not, 186:1 did): past this ratio the picture goes through in
 * one slice. With the default 512 px output no picture the probe allows
 * gets there (at most 32:1). */
#define SLICE_RATIO_MAX 64
/* JPEG output's 4:2:0 planes: libswscale makes two output rows' luma at
 * once, and a slice that ends between the source rows the first needs and
 * those the second needs is kept whole in a ring of the filter's length
 * plus 4 rows. When an output row spans more than 4 source rows that is
 * more than the ring holds, and libswscale aborts (av_assert0). Fuzz: 2732
 * rows (683 after the DCT's 1/4) to 45; sweeps of every height: aborts from
 * 5.06:1 up, none at 4:1 or below. Past 4:1 the planes are 4:4:4 (one
 * output row at a time, as for pictures under 16 px) and the picture still
 * streams; a JPEG source gets there only when it is over 16 times the
 * output (the DCT takes 1/4), a PNG one past 4 times. */
#define SLICE_RATIO_420 4

struct sink {
    struct SwsContext *sws;
    int w, h, bpp; /* source; bpp 3 RGB, 4 RGBA */
    int ow, oh;    /* output */
    int jpeg;      /* output planes for libjpeg (alpha flattened onto white) */
    int sub;       /* JPEG: chroma subsampling, 2 (4:2:0) or 1 (4:4:4) */
    int alpha;     /* a source pixel was not fully opaque */
    int y;         /* source rows fed so far */
    int rows;      /* source rows a slice: SLICE_ROWS, or all of them */
    uint8_t *buf;  /* the output, one block */
    uint8_t *band; /* JPEG: one slice as J420 planes */
    uint8_t *band_p[3];
    int band_stride[4];
    uint8_t *dst[4];
    int dst_stride[4];
    int plane_w[3], plane_h[3], plane_rows[3]; /* JPEG: size, rows allocated */
};

/* The output size: the longest side at most max_px, never upscaled, at least
 * one pixel across. */
static void out_size(int w, int h, int max_px, int *ow, int *oh)
{
    int longest = w > h ? w : h;
    *ow = w;
    *oh = h;
    if (longest <= max_px)
        return;
    *ow = (int)((int64_t)w * max_px / longest);
    *oh = (int)((int64_t)h * max_px / longest);
    if (*ow < 1)
        *ow = 1;
    if (*oh < 1)
        *oh = 1;
}

static size_t align_up(size_t n, size_t a)
{
    return (n + a - 1) / a * a;
}

/* Source w x h (bpp 3 or 4) to ow x oh. */
static int sink_open(struct sink *s, int w, int h, int bpp, int ow, int oh, int jpeg,
                     struct wb_error *err)
{
    enum AVPixelFormat in_fmt = bpp == 4 ? AV_PIX_FMT_RGBA : AV_PIX_FMT_RGB24, out_fmt = in_fmt;
    size_t size;
    int rc = dims_ok(w, h, err);

    memset(s, 0, sizeof *s);
    if (rc < 0 || (rc = media_av_need_scaler(err)) < 0)
        return rc;
    s->w = w;
    s->h = h;
    s->bpp = bpp;
    s->ow = ow;
    s->oh = oh;
    s->jpeg = jpeg;
    /* JPEG: a picture under 16 px a side keeps full chroma (4:4:4) and
     * reaches libswscale as RGB: libswscale's filters have at most (source
     * side - 2) taps, so the chroma planes of a source a few pixels across
     * would be point-sampled. So does one over 4 times taller than its
     * output (SLICE_RATIO_420). */
    s->sub = jpeg ? (ow < 16 || oh < 16 || h > (int64_t)oh * SLICE_RATIO_420 ? 1 : 2) : 1;
    s->rows =
        h > (int64_t)oh * SLICE_RATIO_MAX || w > (int64_t)ow * SLICE_RATIO_MAX ? h : SLICE_ROWS;
    if (jpeg) {
        /* libjpeg reads whole 8x8 blocks of whole 16-row MCU rows from raw
         * planes: sizes rounded up, the edges repeated into the margin
         * (sink_finish). Strides aligned for libswscale's SIMD stores. */
        size_t off = 0;
        if (s->sub == 2)
            in_fmt = AV_PIX_FMT_YUV420P;
        out_fmt = s->sub == 2 ? AV_PIX_FMT_YUV420P : AV_PIX_FMT_YUV444P;
        for (int i = 0; i < 3; i++) {
            s->band_stride[i] = (int)align_up((size_t)(i ? (w + 1) / 2 : w), 64);
            s->plane_w[i] = i ? (ow + s->sub - 1) / s->sub : ow;
            s->plane_h[i] = i ? (oh + s->sub - 1) / s->sub : oh;
            s->plane_rows[i] = (int)align_up((size_t)oh, 8 * (size_t)s->sub) / (i ? s->sub : 1);
            s->dst_stride[i] = (int)align_up((size_t)s->plane_w[i] + 8, 64);
        }
        size = 0;
        for (int i = 0; i < 3; i++)
            size += (size_t)s->dst_stride[i] * (size_t)s->plane_rows[i];
        s->buf = malloc(size + RGBA_PAD);
        s->band = malloc((size_t)s->band_stride[0] * (size_t)(s->rows + 1) +
                         (size_t)s->band_stride[1] * (size_t)(s->rows + 1) + RGBA_PAD);
        if (!s->buf || !s->band)
            return wb_error_set(err, WB_ENOMEM, "out of memory for a %dx%d image", ow, oh);
        s->band_p[0] = s->band;
        s->band_p[1] = s->band + (size_t)s->band_stride[0] * (size_t)(s->rows + 1);
        s->band_p[2] = s->band_p[1] + (size_t)s->band_stride[1] * (size_t)((s->rows + 1) / 2);
        for (int i = 0; i < 3; i++) {
            s->dst[i] = s->buf + off;
            off += (size_t)s->dst_stride[i] * (size_t)s->plane_rows[i];
        }
    } else {
        size = (size_t)ow * (size_t)oh * (size_t)bpp;
        s->buf = malloc(size + RGBA_PAD);
        if (!s->buf)
            return wb_error_set(err, WB_ENOMEM, "out of memory for a %dx%d image", ow, oh);
        s->dst[0] = s->buf;
        s->dst_stride[0] = ow * bpp;
    }
    memset(s->buf + size, 0, RGBA_PAD);
    /* SWS_FULL_CHR_H_INP (RGB sources, PNG and WebP output): chroma from
     * every source pixel with libswscale's SIMD converter (its default
     * halves RGB chroma first in plain C, a third of the scaler's time). */
    s->sws = AV->sws_getContext(w, h, in_fmt, ow, oh, out_fmt,
                                SWS_AREA | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INP, NULL, NULL, NULL);
    if (s->sws && jpeg) {
        /* Full range (0-255) in and out, as JFIF has it: libswscale only
         * scales (told nothing, it would stretch "limited" to full). */
        int *inv, *tab, src_range, dst_range, bright, contrast, sat;
        if (AV->sws_getColorspaceDetails(s->sws, &inv, &src_range, &tab, &dst_range, &bright,
                                         &contrast, &sat) < 0 ||
            AV->sws_setColorspaceDetails(s->sws, inv, s->sub == 2 ? 1 : src_range, tab, 1, bright,
                                         contrast, sat) < 0) {
            AV->sws_freeContext(s->sws);
            s->sws = NULL;
        }
    }
    if (!s->sws)
        return wb_error_set(err, WB_EMEDIA, "cannot scale %dx%d to %dx%d", w, h, ow, oh);
    return 0;
}

/* The next n source rows (stride bytes apart; the caller's, changed in
 * place: a JPEG's are flattened onto white). n is a multiple of s->rows
 * but for the last rows of the picture. */
static void sink_rows(struct sink *s, uint8_t *rows, size_t stride, int n)
{
    if (s->bpp == 4) {
        for (int r = 0; r < n; r++) {
            uint8_t *p = rows + (size_t)r * stride, *end = p + (size_t)s->w * 4;
            for (; p < end; p += 4) {
                unsigned a = p[3];
                if (a == 255)
                    continue;
                s->alpha = 1;
                if (!s->jpeg)
                    continue;
                /* JPEG has no alpha: onto white before the average, so a
                 * transparent pixel's hidden colour never bleeds in. */
                for (int k = 0; k < 3; k++)
                    p[k] = (uint8_t)((p[k] * a + 255 * (255 - a) + 127) / 255);
                p[3] = 255;
            }
        }
    }
    if (!s->jpeg || s->sub == 1) {
        const uint8_t *src[4] = { rows, NULL, NULL, NULL };
        int src_stride[4] = { (int)stride, 0, 0, 0 };
        AV->sws_scale(s->sws, src, src_stride, s->y, n, s->dst, s->dst_stride);
        s->y += n;
        return;
    }
    for (int done = 0; done < n;) {
        int k = n - done < s->rows ? n - done : s->rows;
        const uint8_t *row = rows + (size_t)done * stride;
        const uint8_t *src[4] = { s->band_p[0], s->band_p[1], s->band_p[2], NULL };
        /* libyuv names formats by the 32-bit word: RAW is R,G,B in
         * memory, ABGR is R,G,B,A. */
        if (s->bpp == 4)
            AV->ABGRToJ420(row, (int)stride, s->band_p[0], s->band_stride[0], s->band_p[1],
                           s->band_stride[1], s->band_p[2], s->band_stride[2], s->w, k);
        else
            AV->RAWToJ420(row, (int)stride, s->band_p[0], s->band_stride[0], s->band_p[1],
                          s->band_stride[1], s->band_p[2], s->band_stride[2], s->w, k);
        AV->sws_scale(s->sws, src, s->band_stride, s->y, k, s->dst, s->dst_stride);
        s->y += k;
        done += k;
    }
}

/* JPEG planes: repeat the last column and row into the block margin. */
static void sink_finish(struct sink *s)
{
    if (!s->jpeg)
        return;
    for (int i = 0; i < 3; i++) {
        int w = s->plane_w[i], h = s->plane_h[i], stride = s->dst_stride[i];
        int pad_w = (int)align_up((size_t)w, 8);
        uint8_t *p = s->dst[i];
        for (int y = 0; y < h; y++)
            memset(p + (size_t)y * (size_t)stride + w, p[(size_t)y * (size_t)stride + w - 1],
                   (size_t)(pad_w - w));
        for (int y = h; y < s->plane_rows[i]; y++)
            memcpy(p + (size_t)y * (size_t)stride, p + (size_t)(h - 1) * (size_t)stride,
                   (size_t)pad_w);
    }
}

static void sink_close(struct sink *s)
{
    if (s->sws) /* else libswscale may not even be loaded */
        AV->sws_freeContext(s->sws);
    free(s->buf);
    free(s->band);
    s->sws = NULL;
    s->buf = NULL;
    s->band = NULL;
}

/* Feed a whole decoded picture. */
static int sink_whole(struct sink *s, struct rgba *img, int ow, int oh, int jpeg,
                      struct wb_error *err)
{
    int rc = sink_open(s, img->w, img->h, img->bpp, ow, oh, jpeg, err);
    if (rc < 0)
        return rc;
    sink_rows(s, img->px, (size_t)img->w * (size_t)img->bpp, img->h);
    return 0;
}

/* ---- decode ---- */

/* PNG through libpng's full API, a slice of rows at a time into the scaler.
 * 1 (nothing fed) when the file wants the whole-picture path instead:
 * interlaced (Adam7 rows arrive in seven passes) or with a gAMA chunk far
 * from sRGB's (the simplified API converts those to sRGB). A 16-bit file
 * without gAMA or sRGB is taken as sRGB, as browsers take it (the
 * simplified API would call it linear and brighten it). */
struct pngdec {
    png_structp png;
    png_infop info;
    const uint8_t *d;
    size_t len, pos;
    uint8_t *slice;
    char msg[200];
};

static void pngdec_error(png_structp png, png_const_charp msg)
{
    struct pngdec *p = IMG->png_get_error_ptr(png);
    snprintf(p->msg, sizeof p->msg, "%s", msg);
    IMG->png_longjmp(png, 1);
}

static void pngdec_warning(png_structp png, png_const_charp msg)
{
    (void)png;
    (void)msg;
}

static void pngdec_read(png_structp png, png_bytep out, size_t n)
{
    struct pngdec *p = IMG->png_get_io_ptr(png);
    if (n > p->len - p->pos)
        IMG->png_error(png, "truncated PNG data");
    memcpy(out, p->d + p->pos, n);
    p->pos += n;
}

static int png_gamma_srgb(png_structp png, png_infop info)
{
    png_fixed_point g;
    if (IMG->png_get_valid(png, info, PNG_INFO_sRGB) || !IMG->png_get_gAMA_fixed(png, info, &g))
        return 1;
    return g >= 44000 && g <= 47000; /* 1/2.2 = 45455, within libpng's 5 % */
}

static int pngdec_run(struct pngdec *p, struct sink *s, int max_px, int jpeg, struct wb_error *err)
{
    png_uint_32 w, h;
    int depth, ctype, ilace, bpp, ow, oh, rc;
    size_t stride;

    if (setjmp(*IMG->png_set_longjmp_fn(p->png, longjmp, sizeof(jmp_buf))))
        return wb_error_set(err, WB_EMEDIA, "bad PNG: %s", p->msg);
    IMG->png_set_read_fn(p->png, p, pngdec_read);
    /* zlib's Adler-32 over the inflated rows costs a third of the inflate;
     * every IDAT chunk's CRC-32 over the compressed bytes still stands
     * guard (tests/media: a flipped byte is refused). */
    IMG->png_set_option(p->png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
    IMG->png_read_info(p->png, p->info);
    IMG->png_get_IHDR(p->png, p->info, &w, &h, &depth, &ctype, &ilace, NULL, NULL);
    if (ilace != PNG_INTERLACE_NONE || !png_gamma_srgb(p->png, p->info))
        return 1;
    if (depth == 16)
        IMG->png_set_scale_16(p->png);
    if (ctype == PNG_COLOR_TYPE_PALETTE)
        IMG->png_set_palette_to_rgb(p->png);
    if (IMG->png_get_valid(p->png, p->info, PNG_INFO_tRNS))
        IMG->png_set_tRNS_to_alpha(p->png);
    if (!(ctype & PNG_COLOR_MASK_COLOR)) {
        if (depth < 8)
            IMG->png_set_expand_gray_1_2_4_to_8(p->png);
        IMG->png_set_gray_to_rgb(p->png);
    }
    IMG->png_read_update_info(p->png, p->info);
    bpp = IMG->png_get_channels(p->png, p->info);
    if (bpp != 3 && bpp != 4)
        return 1;
    out_size((int)w, (int)h, max_px, &ow, &oh);
    rc = sink_open(s, (int)w, (int)h, bpp, ow, oh, jpeg, err);
    if (rc < 0)
        return rc;
    stride = (size_t)w * (size_t)bpp;
    p->slice = malloc(stride * (size_t)s->rows + RGBA_PAD);
    if (!p->slice)
        return wb_error_set(err, WB_ENOMEM, "out of memory for a %ux%u image", w, h);
    memset(p->slice + stride * (size_t)s->rows, 0, RGBA_PAD);
    for (png_uint_32 y = 0; y < h;) {
        int n = h - y < (png_uint_32)s->rows ? (int)(h - y) : s->rows;
        for (int i = 0; i < n; i++)
            IMG->png_read_row(p->png, p->slice + (size_t)i * stride, NULL);
        sink_rows(s, p->slice, stride, n);
        y += (png_uint_32)n;
    }
    IMG->png_read_end(p->png, NULL);
    return 0;
}

static int decode_png_stream(const uint8_t *d, size_t len, struct sink *s, int max_px, int jpeg,
                             struct wb_error *err)
{
    struct pngdec p;
    int rc;

    memset(&p, 0, sizeof p);
    p.d = d;
    p.len = len;
    p.png = IMG->png_create_read_struct(PNG_LIBPNG_VER_STRING, &p, pngdec_error, pngdec_warning);
    p.info = p.png ? IMG->png_create_info_struct(p.png) : NULL;
    if (!p.info) {
        IMG->png_destroy_read_struct(&p.png, NULL, NULL);
        return wb_error_set(err, WB_ENOMEM, "out of memory for a PNG decoder");
    }
    rc = pngdec_run(&p, s, max_px, jpeg, err);
    IMG->png_destroy_read_struct(&p.png, &p.info, NULL);
    free(p.slice);
    return rc;
}

/* The whole picture with the simplified API (interlaced or gamma-tagged
 * files; gamma converted to sRGB). */
static int decode_png(const uint8_t *d, size_t len, struct rgba *img, struct wb_error *err)
{
    png_image p;
    int rc;

    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    if (!IMG->png_image_begin_read_from_memory(&p, d, len))
        return wb_error_set(err, WB_EMEDIA, "bad PNG: %s", p.message);
    /* Without an alpha channel (tRNS counts as one) the picture is opaque:
     * decode to RGB, a quarter less to write, scale and read. */
    p.format = (p.format & PNG_FORMAT_FLAG_ALPHA) ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    rc = alloc_rgba(img, (int)p.width, (int)p.height, p.format == PNG_FORMAT_RGB ? 3 : 4, err);
    if (rc < 0) {
        IMG->png_image_free(&p);
        return rc;
    }
    if (!IMG->png_image_finish_read(&p, NULL, img->px, 0, NULL))
        return wb_error_set(err, WB_EMEDIA, "bad PNG: %s", p.message);
    return 0;
}

/* JPEG: libjpeg-turbo scales in the DCT (1/2 or 1/4) to the smallest size
 * still at least the output's, then the scaler does the rest, fed a slice
 * of rows at a time. Not 1/8: that keeps only each block's average, aligned
 * to the 8x8 grid rather than to the output's pixels (tests/media: 30 dB
 * from an exact area average where 1/4 gives 40). */
static int jdec_stream(struct jdec *j, const uint8_t *d, size_t len, struct sink *s, int max_px,
                       int jpeg, uint8_t **slice, struct wb_error *err)
{
    int rc = jdec_header(j, d, len, NULL, err), ow, oh;
    size_t stride;

    if (rc < 0)
        return rc;
    if (setjmp(j->e.jb))
        return wb_error_set(err, WB_EMEDIA, "bad JPEG: %s", j->e.msg);
    out_size((int)j->c.image_width, (int)j->c.image_height, max_px, &ow, &oh);
    j->c.out_color_space = JCS_EXT_RGB; /* JPEG has no alpha */
    j->c.scale_num = 1;
    j->c.scale_denom = 1;
    for (unsigned denom = 4; denom > 1; denom /= 2) {
        if ((j->c.image_width + denom - 1) / denom >= (unsigned)ow &&
            (j->c.image_height + denom - 1) / denom >= (unsigned)oh) {
            j->c.scale_denom = denom;
            break;
        }
    }
    IMG->jpeg_start_decompress(&j->c);
    rc = sink_open(s, (int)j->c.output_width, (int)j->c.output_height, 3, ow, oh, jpeg, err);
    if (rc < 0)
        return rc;
    stride = (size_t)j->c.output_width * 3;
    *slice = malloc(stride * (size_t)s->rows + RGBA_PAD);
    if (!*slice)
        return wb_error_set(err, WB_ENOMEM, "out of memory for a %dx%d image", s->w, s->h);
    memset(*slice + stride * (size_t)s->rows, 0, RGBA_PAD);
    while (j->c.output_scanline < j->c.output_height) {
        int n = 0;
        while (n < s->rows && j->c.output_scanline < j->c.output_height) {
            JSAMPROW rows[SLICE_ROWS];
            int want = s->rows - n < SLICE_ROWS ? s->rows - n : SLICE_ROWS;
            for (int i = 0; i < want; i++)
                rows[i] = *slice + (size_t)(n + i) * stride;
            n += (int)IMG->jpeg_read_scanlines(&j->c, rows, (JDIMENSION)want);
        }
        sink_rows(s, *slice, stride, n);
    }
    IMG->jpeg_finish_decompress(&j->c);
    if (j->e.mgr.num_warnings > 0)
        return wb_error_set(err, WB_EMEDIA, "damaged JPEG: %s", j->e.msg);
    return 0;
}

static int decode_jpeg_stream(const uint8_t *d, size_t len, struct sink *s, int max_px, int jpeg,
                              struct wb_error *err)
{
    struct jdec j;
    uint8_t *slice = NULL;
    int rc;
    jdec_open(&j);
    rc = jdec_stream(&j, d, len, s, max_px, jpeg, &slice, err);
    IMG->jpeg_destroy_decompress(&j.c);
    free(slice);
    return rc;
}

static int decode_webp(const uint8_t *d, size_t len, struct rgba *img, struct wb_error *err)
{
    WebPBitstreamFeatures f;
    VP8StatusCode s = IMG->WebPGetFeaturesInternal(d, len, &f, WEBP_DECODER_ABI_VERSION);
    int rc;
    if (s != VP8_STATUS_OK)
        return wb_error_set(err, WB_EMEDIA, "bad WebP (libwebp status %d)", (int)s);
    rc = alloc_rgba(img, f.width, f.height, f.has_alpha ? 4 : 3, err);
    if (rc < 0)
        return rc;
    if (f.has_alpha ? !IMG->WebPDecodeRGBAInto(d, len, img->px, (size_t)img->w * (size_t)img->h * 4,
                                               img->w * 4)
                    : !IMG->WebPDecodeRGBInto(d, len, img->px, (size_t)img->w * (size_t)img->h * 3,
                                              img->w * 3))
        return wb_error_set(err, WB_EMEDIA, "bad or truncated WebP data");
    return 0;
}

/* ---- encode ---- */

struct jenc {
    struct jpeg_compress_struct c;
    struct jerr e;
    unsigned char *mem;
    unsigned long mem_len;
};

static int jenc_run(struct jenc *j, const struct sink *s, int quality, struct wb_error *err)
{
    if (setjmp(j->e.jb))
        return wb_error_set(err, WB_EMEDIA, "JPEG encoder: %s", j->e.msg);
    IMG->jpeg_CreateCompress(&j->c, JPEG_LIB_VERSION, sizeof(struct jpeg_compress_struct));
    IMG->jpeg_mem_dest(&j->c, &j->mem, &j->mem_len);
    j->c.image_width = (JDIMENSION)s->ow;
    j->c.image_height = (JDIMENSION)s->oh;
    j->c.input_components = 3;
    j->c.in_color_space = JCS_YCbCr;
    IMG->jpeg_set_defaults(&j->c);
    IMG->jpeg_set_quality(&j->c, quality, TRUE);
    j->c.comp_info[0].h_samp_factor = s->sub; /* 2: 4:2:0, libjpeg's default */
    j->c.comp_info[0].v_samp_factor = s->sub;
    for (int i = 1; i < 3; i++)
        j->c.comp_info[i].h_samp_factor = j->c.comp_info[i].v_samp_factor = 1;
    j->c.raw_data_in = TRUE;
    /* Baseline with optimised Huffman tables: progressive saved ~5 % of the
     * bytes for ~15 % more CPU an image (docs/media.md), and a local
     * 512 px picture never needs to show early. */
    j->c.optimize_coding = TRUE;
    IMG->jpeg_start_compress(&j->c, TRUE);
    while (j->c.next_scanline < j->c.image_height) { /* one MCU row a call */
        JSAMPROW y[16], cb[8], cr[8];
        JSAMPARRAY planes[3] = { y, cb, cr };
        size_t row = j->c.next_scanline, sub = (size_t)s->sub;
        for (size_t i = 0; i < 8 * sub; i++)
            y[i] = s->dst[0] + (row + i) * (size_t)s->dst_stride[0];
        for (size_t i = 0; i < 8; i++) {
            cb[i] = s->dst[1] + (row / sub + i) * (size_t)s->dst_stride[1];
            cr[i] = s->dst[2] + (row / sub + i) * (size_t)s->dst_stride[2];
        }
        IMG->jpeg_write_raw_data(&j->c, planes, (JDIMENSION)(8 * sub));
    }
    IMG->jpeg_finish_compress(&j->c);
    return 0;
}

static int encode_jpeg(const struct sink *s, int quality, struct wb_buf *out, struct wb_error *err)
{
    struct jenc j;
    int rc;

    memset(&j, 0, sizeof j);
    jerr_setup(&j.e);
    j.c.err = &j.e.mgr;
    rc = jenc_run(&j, s, quality, err);
    if (rc == 0) {
        rc = wb_buf_append(out, j.mem, (size_t)j.mem_len);
        if (rc < 0)
            wb_error_set(err, rc, "no room for the JPEG data");
    }
    IMG->jpeg_destroy_compress(&j.c);
    free(j.mem);
    return rc;
}

static int encode_webp(const struct rgba *img, int quality, struct wb_buf *out,
                       struct wb_error *err)
{
    uint8_t *mem = NULL;
    size_t n = img->bpp == 4
                   ? IMG->WebPEncodeRGBA(img->px, img->w, img->h, img->w * 4, (float)quality, &mem)
                   : IMG->WebPEncodeRGB(img->px, img->w, img->h, img->w * 3, (float)quality, &mem);
    int rc;
    if (n == 0 || !mem)
        return wb_error_set(err, WB_EMEDIA, "WebP encoder failed for %dx%d", img->w, img->h);
    rc = wb_buf_append(out, mem, n);
    IMG->WebPFree(mem);
    return rc < 0 ? wb_error_set(err, rc, "no room for the WebP data") : 0;
}

static int encode_png(const struct rgba *img, struct wb_buf *out, struct wb_error *err)
{
    png_image p;
    png_alloc_size_t size = 0;
    size_t start = out->len;
    int rc;

    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    p.width = (png_uint_32)img->w;
    p.height = (png_uint_32)img->h;
    p.format = img->alpha ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    if (!img->alpha && img->bpp == 4) { /* pack RGBA to RGB in place */
        size_t n = (size_t)img->w * (size_t)img->h;
        for (size_t i = 0; i < n; i++)
            memmove(img->px + i * 3, img->px + i * 4, 3);
    }
    if (!IMG->png_image_write_to_memory(&p, NULL, &size, 0, img->px, 0, NULL))
        return wb_error_set(err, WB_EMEDIA, "PNG encoder: %s", p.message);
    rc = wb_buf_grow(out, (size_t)size);
    if (rc < 0)
        return wb_error_set(err, rc, "no room for the PNG data");
    if (!IMG->png_image_write_to_memory(&p, out->data + start, &size, 0, img->px, 0, NULL)) {
        return wb_error_set(err, WB_EMEDIA, "PNG encoder: %s", p.message);
    }
    out->len = start + (size_t)size;
    out->data[out->len] = '\0';
    return 0;
}

int wb_image_process(const void *data, size_t len, int max_px, enum wb_image_type out_type,
                     int quality, struct wb_buf *out, struct wb_image_info *out_info,
                     struct wb_error *err)
{
    struct wb_image_info in;
    struct rgba img = { NULL, 0, 0, 0, 4 };
    struct sink s;
    size_t start = out ? out->len : 0;
    int rc, jpeg, ow, oh;

    memset(&s, 0, sizeof s);
    if (out_info)
        memset(out_info, 0, sizeof *out_info);
    if (!out)
        return wb_error_set(err, WB_EINVAL, "no output buffer");
    if (max_px <= 0)
        max_px = WB_IMAGE_MAX_PX_DEFAULT;
    if (quality <= 0)
        quality = WB_IMAGE_QUALITY_DEFAULT;
    if (quality > 100)
        quality = 100;
    if (out_type != WB_IMAGE_WEBP && out_type != WB_IMAGE_PNG)
        out_type = WB_IMAGE_JPEG;
    jpeg = out_type == WB_IMAGE_JPEG;
    rc = wb_image_probe(data, len, &in, err);
    if (rc < 0)
        goto out;
    out_size(in.width, in.height, max_px, &ow, &oh);
    switch (in.type) {
    case WB_IMAGE_PNG:
        rc = decode_png_stream(data, len, &s, max_px, jpeg, err);
        if (rc == 1) {
            sink_close(&s);
            rc = decode_png(data, len, &img, err);
            if (rc == 0)
                rc = sink_whole(&s, &img, ow, oh, jpeg, err);
        }
        break;
    case WB_IMAGE_JPEG:
        rc = decode_jpeg_stream(data, len, &s, max_px, jpeg, err);
        break;
    default:
        rc = decode_webp(data, len, &img, err);
        if (rc == 0)
            rc = sink_whole(&s, &img, ow, oh, jpeg, err);
        break;
    }
    if (rc < 0)
        goto out;
    free(img.px);
    img.px = NULL;
    sink_finish(&s);
    if (jpeg) {
        rc = encode_jpeg(&s, quality, out, err);
    } else {
        struct rgba o = { s.buf, s.ow, s.oh, s.alpha, s.bpp };
        rc = out_type == WB_IMAGE_PNG ? encode_png(&o, out, err)
                                      : encode_webp(&o, quality, out, err);
    }
    if (rc < 0)
        goto out;
    if (out_info) {
        out_info->type = out_type;
        out_info->width = s.ow;
        out_info->height = s.oh;
        out_info->has_alpha = !jpeg && s.alpha;
    }
out:
    if (rc < 0)
        media_buf_truncate(out, start);
    sink_close(&s);
    free(img.px);
    return rc;
}
