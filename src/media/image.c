/* Images: sniff the type from the bytes, read the dimensions, decode (libpng's
 * simplified API, libjpeg-turbo, libwebp) to 8-bit RGB (RGBA when the source
 * has an alpha channel), downscale with
 * libswscale's area filter, and re-encode as JPEG (libjpeg-turbo), WebP
 * (libwebp) or PNG (libpng). Generated pictures arrive as ~1 MB PNGs; a
 * 512 px JPEG of the same picture is ~40 KB, light enough for pages and decks.
 * Every codec object lives on the stack of one call: thread-safe.
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

#include "media/media_internal.h"

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
    jpeg_std_error(&e->mgr);
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
    if (!png_image_begin_read_from_memory(&img, d, len))
        return wb_error_set(err, WB_EMEDIA, "bad PNG: %s", img.message);
    info->width = (int)img.width;
    info->height = (int)img.height;
    info->has_alpha = (img.format & PNG_FORMAT_FLAG_ALPHA) != 0;
    png_image_free(&img);
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

/* Read the header; with img, decode the whole picture into it. */
static int jdec_run(struct jdec *j, const uint8_t *d, size_t len, struct wb_image_info *info,
                    struct rgba *img, struct wb_error *err)
{
    int rc = 0;
    if (setjmp(j->e.jb))
        return wb_error_set(err, WB_EMEDIA, "bad JPEG: %s", j->e.msg);
    jpeg_create_decompress(&j->c);
    jpeg_mem_src(&j->c, d, (unsigned long)len);
    if (jpeg_read_header(&j->c, TRUE) != JPEG_HEADER_OK)
        return wb_error_set(err, WB_EMEDIA, "bad JPEG: no image header");
    if (info) {
        info->width = (int)j->c.image_width;
        info->height = (int)j->c.image_height;
        info->has_alpha = 0;
    }
    if (!img)
        return 0;
    j->c.out_color_space = JCS_EXT_RGB; /* JPEG has no alpha */
    rc = alloc_rgba(img, (int)j->c.image_width, (int)j->c.image_height, 3, err);
    if (rc < 0)
        return rc;
    jpeg_start_decompress(&j->c);
    while (j->c.output_scanline < j->c.output_height) {
        JSAMPROW row = img->px + (size_t)j->c.output_scanline * (size_t)img->w * 3;
        jpeg_read_scanlines(&j->c, &row, 1);
    }
    jpeg_finish_decompress(&j->c);
    if (j->e.mgr.num_warnings > 0)
        return wb_error_set(err, WB_EMEDIA, "damaged JPEG: %s", j->e.msg);
    return 0;
}

static int probe_jpeg(const uint8_t *d, size_t len, struct wb_image_info *info,
                      struct wb_error *err)
{
    struct jdec j;
    int rc;
    jdec_open(&j);
    rc = jdec_run(&j, d, len, info, NULL, err);
    jpeg_destroy_decompress(&j.c);
    return rc;
}

static int probe_webp(const uint8_t *d, size_t len, struct wb_image_info *info,
                      struct wb_error *err)
{
    WebPBitstreamFeatures f;
    VP8StatusCode s = WebPGetFeatures(d, len, &f);
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

/* ---- decode to RGBA ---- */

static int decode_png(const uint8_t *d, size_t len, struct rgba *img, struct wb_error *err)
{
    png_image p;
    int rc;

    memset(&p, 0, sizeof p);
    p.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&p, d, len))
        return wb_error_set(err, WB_EMEDIA, "bad PNG: %s", p.message);
    /* Without an alpha channel (tRNS counts as one) the picture is opaque:
     * decode to RGB, a quarter less to write, scale and read. */
    p.format = (p.format & PNG_FORMAT_FLAG_ALPHA) ? PNG_FORMAT_RGBA : PNG_FORMAT_RGB;
    rc = alloc_rgba(img, (int)p.width, (int)p.height, p.format == PNG_FORMAT_RGB ? 3 : 4, err);
    if (rc < 0) {
        png_image_free(&p);
        return rc;
    }
    if (!png_image_finish_read(&p, NULL, img->px, 0, NULL))
        return wb_error_set(err, WB_EMEDIA, "bad PNG: %s", p.message);
    return 0;
}

static int decode_jpeg(const uint8_t *d, size_t len, struct rgba *img, struct wb_error *err)
{
    struct jdec j;
    int rc;
    jdec_open(&j);
    rc = jdec_run(&j, d, len, NULL, img, err);
    jpeg_destroy_decompress(&j.c);
    return rc;
}

static int decode_webp(const uint8_t *d, size_t len, struct rgba *img, struct wb_error *err)
{
    WebPBitstreamFeatures f;
    VP8StatusCode s = WebPGetFeatures(d, len, &f);
    int rc;
    if (s != VP8_STATUS_OK)
        return wb_error_set(err, WB_EMEDIA, "bad WebP (libwebp status %d)", (int)s);
    rc = alloc_rgba(img, f.width, f.height, f.has_alpha ? 4 : 3, err);
    if (rc < 0)
        return rc;
    if (f.has_alpha
            ? !WebPDecodeRGBAInto(d, len, img->px, (size_t)img->w * (size_t)img->h * 4, img->w * 4)
            : !WebPDecodeRGBInto(d, len, img->px, (size_t)img->w * (size_t)img->h * 3, img->w * 3))
        return wb_error_set(err, WB_EMEDIA, "bad or truncated WebP data");
    return 0;
}

static void scan_alpha(struct rgba *img)
{
    size_t n = (size_t)img->w * (size_t)img->h;
    img->alpha = 0;
    if (img->bpp != 4)
        return;
    for (size_t i = 0; i < n; i++) {
        if (img->px[i * 4 + 3] != 255) {
            img->alpha = 1;
            return;
        }
    }
}

/* ---- resize ---- */

static int resize(struct rgba *img, int max_px, struct wb_error *err)
{
    struct SwsContext *sws;
    struct rgba out = { NULL, 0, 0, img->alpha, img->bpp };
    int longest = img->w > img->h ? img->w : img->h, rc;
    enum AVPixelFormat fmt = img->bpp == 4 ? AV_PIX_FMT_RGBA : AV_PIX_FMT_RGB24;
    const uint8_t *src[4] = { img->px, NULL, NULL, NULL };
    uint8_t *dst[4] = { NULL, NULL, NULL, NULL };
    int src_stride[4] = { img->w * img->bpp, 0, 0, 0 }, dst_stride[4] = { 0, 0, 0, 0 };
    int w, h;

    if (longest <= max_px)
        return 0; /* never upscale */
    w = (int)((int64_t)img->w * max_px / longest);
    h = (int)((int64_t)img->h * max_px / longest);
    if (w < 1)
        w = 1;
    if (h < 1)
        h = 1;
    rc = alloc_rgba(&out, w, h, img->bpp, err);
    if (rc < 0)
        return rc;
    sws = sws_getContext(img->w, img->h, fmt, w, h, fmt, SWS_AREA | SWS_ACCURATE_RND, NULL, NULL,
                         NULL);
    if (!sws) {
        free(out.px);
        return wb_error_set(err, WB_EMEDIA, "cannot scale %dx%d to %dx%d", img->w, img->h, w, h);
    }
    dst[0] = out.px;
    dst_stride[0] = w * img->bpp;
    sws_scale(sws, src, src_stride, 0, img->h, dst, dst_stride);
    sws_freeContext(sws);
    free(img->px);
    out.alpha = img->alpha;
    *img = out;
    return 0;
}

/* ---- encode ---- */

struct jenc {
    struct jpeg_compress_struct c;
    struct jerr e;
    unsigned char *mem;
    unsigned long mem_len;
};

static int jenc_run(struct jenc *j, const struct rgba *img, int quality, struct wb_error *err)
{
    if (setjmp(j->e.jb))
        return wb_error_set(err, WB_EMEDIA, "JPEG encoder: %s", j->e.msg);
    jpeg_create_compress(&j->c);
    jpeg_mem_dest(&j->c, &j->mem, &j->mem_len);
    j->c.image_width = (JDIMENSION)img->w;
    j->c.image_height = (JDIMENSION)img->h;
    j->c.input_components = img->bpp;
    j->c.in_color_space = img->bpp == 4 ? JCS_EXT_RGBA : JCS_EXT_RGB;
    jpeg_set_defaults(&j->c);
    jpeg_set_quality(&j->c, quality, TRUE);
    /* Baseline with optimised Huffman tables: progressive saved ~5 % of the
     * bytes for ~15 % more CPU an image (docs/media.md), and a local
     * 512 px picture never needs to show early. */
    j->c.optimize_coding = TRUE;
    jpeg_start_compress(&j->c, TRUE);
    while (j->c.next_scanline < j->c.image_height) {
        JSAMPROW row = img->px + (size_t)j->c.next_scanline * (size_t)img->w * (size_t)img->bpp;
        jpeg_write_scanlines(&j->c, &row, 1);
    }
    jpeg_finish_compress(&j->c);
    return 0;
}

static int encode_jpeg(struct rgba *img, int quality, struct wb_buf *out, struct wb_error *err)
{
    struct jenc j;
    size_t n = (size_t)img->w * (size_t)img->h;
    int rc;

    /* JPEG has no alpha: composite onto white (a transparent PNG would
     * otherwise turn black). */
    if (img->alpha && img->bpp == 4) {
        for (size_t i = 0; i < n; i++) {
            uint8_t *p = img->px + i * 4;
            unsigned a = p[3];
            for (int k = 0; k < 3; k++)
                p[k] = (uint8_t)((p[k] * a + 255 * (255 - a) + 127) / 255);
            p[3] = 255;
        }
    }
    memset(&j, 0, sizeof j);
    jerr_setup(&j.e);
    j.c.err = &j.e.mgr;
    rc = jenc_run(&j, img, quality, err);
    if (rc == 0) {
        rc = wb_buf_append(out, j.mem, (size_t)j.mem_len);
        if (rc < 0)
            wb_error_set(err, rc, "no room for the JPEG data");
    }
    jpeg_destroy_compress(&j.c);
    free(j.mem);
    return rc;
}

static int encode_webp(const struct rgba *img, int quality, struct wb_buf *out,
                       struct wb_error *err)
{
    uint8_t *mem = NULL;
    size_t n = img->bpp == 4
                   ? WebPEncodeRGBA(img->px, img->w, img->h, img->w * 4, (float)quality, &mem)
                   : WebPEncodeRGB(img->px, img->w, img->h, img->w * 3, (float)quality, &mem);
    int rc;
    if (n == 0 || !mem)
        return wb_error_set(err, WB_EMEDIA, "WebP encoder failed for %dx%d", img->w, img->h);
    rc = wb_buf_append(out, mem, n);
    WebPFree(mem);
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
    if (!png_image_write_to_memory(&p, NULL, &size, 0, img->px, 0, NULL))
        return wb_error_set(err, WB_EMEDIA, "PNG encoder: %s", p.message);
    rc = wb_buf_grow(out, (size_t)size);
    if (rc < 0)
        return wb_error_set(err, rc, "no room for the PNG data");
    if (!png_image_write_to_memory(&p, out->data + start, &size, 0, img->px, 0, NULL)) {
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
    size_t start = out ? out->len : 0;
    int rc;

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
    if (out_type == WB_IMAGE_UNKNOWN)
        out_type = WB_IMAGE_JPEG;
    rc = wb_image_probe(data, len, &in, err);
    if (rc < 0)
        goto out;
    switch (in.type) {
    case WB_IMAGE_PNG:
        rc = decode_png(data, len, &img, err);
        break;
    case WB_IMAGE_JPEG:
        rc = decode_jpeg(data, len, &img, err);
        break;
    default:
        rc = decode_webp(data, len, &img, err);
        break;
    }
    if (rc < 0)
        goto out;
    scan_alpha(&img);
    rc = resize(&img, max_px, err);
    if (rc < 0)
        goto out;
    switch (out_type) {
    case WB_IMAGE_PNG:
        rc = encode_png(&img, out, err);
        break;
    case WB_IMAGE_WEBP:
        rc = encode_webp(&img, quality, out, err);
        break;
    default:
        rc = encode_jpeg(&img, quality, out, err);
        break;
    }
    if (rc < 0)
        goto out;
    if (out_info) {
        out_info->type =
            out_type == WB_IMAGE_WEBP || out_type == WB_IMAGE_PNG ? out_type : WB_IMAGE_JPEG;
        out_info->width = img.w;
        out_info->height = img.h;
        out_info->has_alpha = out_info->type != WB_IMAGE_JPEG && img.alpha;
    }
out:
    if (rc < 0)
        media_buf_truncate(out, start);
    free(img.px);
    return rc;
}
