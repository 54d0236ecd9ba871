/* Image tests: probing by the bytes, rejection of truncated and foreign
 * payloads, downscaling (never up) and re-encoding to JPEG/WebP/PNG, checked
 * by decoding the output again (probe, then a full decode with libjpeg /
 * libwebp) and looking at the pixels: alpha flattened onto white for JPEG,
 * kept for WebP.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <png.h>
#include <webp/decode.h>

#include "test.h"
#include "wordbank/media.h"

static struct wb_error *ep(struct wb_error *e)
{
    return e;
}

static void png_to_buf(png_structp png, png_bytep data, size_t n)
{
    CHECK(wb_buf_append(png_get_io_ptr(png), data, n) == 0);
}

static void png_flush_none(png_structp png)
{
    (void)png;
}

/* A w x h RGBA test card: red-blue gradient with grain (a generated picture
 * is not flat: PNG cannot squeeze it), and a fully transparent square in the
 * top-left quarter when with_alpha. Written with zlib's fastest level to keep
 * the test quick. make_png_rgb writes the same card as an RGB PNG (no alpha
 * channel, what image models send). */
static void make_png_type(int w, int h, int with_alpha, int color_type, struct wb_buf *out)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *row = malloc((size_t)w * 4);
    unsigned s = 7;

    CHECK(png && info && row);
    wb_buf_init(out, 0);
    png_set_write_fn(png, out, png_to_buf, png_flush_none);
    png_set_compression_level(png, 1);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, color_type, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t *p = row + (size_t)x * 4;
            s = s * 1103515245u + 12345u;
            p[0] = (uint8_t)(x * 239 / w + (s >> 28));
            p[1] = (uint8_t)(((x ^ y) & 0x3F) + (s >> 26 & 15));
            p[2] = (uint8_t)(y * 239 / h + (s >> 22 & 15));
            p[3] = (with_alpha && x < w / 4 && y < h / 4) ? 0 : 255;
        }
        if (color_type == PNG_COLOR_TYPE_RGB) /* pack to RGB */
            for (int x = 0; x < w; x++)
                memmove(row + (size_t)x * 3, row + (size_t)x * 4, 3);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
}

static void make_png(int w, int h, int with_alpha, struct wb_buf *out)
{
    make_png_type(w, h, with_alpha, PNG_COLOR_TYPE_RGB_ALPHA, out);
}

static void make_png_rgb(int w, int h, struct wb_buf *out)
{
    make_png_type(w, h, 0, PNG_COLOR_TYPE_RGB, out);
}

/* Full decode of a JPEG with libjpeg: RGB pixels. */
static uint8_t *decode_jpeg(const struct wb_buf *b, int *w, int *h)
{
    struct jpeg_decompress_struct c;
    struct jpeg_error_mgr e;
    uint8_t *px;
    c.err = jpeg_std_error(&e);
    jpeg_create_decompress(&c);
    jpeg_mem_src(&c, (const unsigned char *)b->data, (unsigned long)b->len);
    CHECK(jpeg_read_header(&c, TRUE) == JPEG_HEADER_OK);
    c.out_color_space = JCS_RGB;
    jpeg_start_decompress(&c);
    *w = (int)c.output_width;
    *h = (int)c.output_height;
    px = malloc((size_t)*w * (size_t)*h * 3);
    CHECK(px != NULL);
    while (c.output_scanline < c.output_height) {
        JSAMPROW row = px + (size_t)c.output_scanline * (size_t)*w * 3;
        jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    CHECK_INT(e.num_warnings, 0);
    jpeg_destroy_decompress(&c);
    return px;
}

/* What wb_image_process needs loads (a missing library: tests/pipeline's
 * test_encoders_before_paying, tests/lib/lazy_load_test.py). */
TEST(ready_loads_the_picture_libraries)
{
    struct wb_error err = { 0 };
    CHECK_INT(wb_image_ready(&err), 0);
    CHECK_STR(err.msg, "");
}

TEST(probe_types)
{
    struct wb_buf png, jpg, webp;
    struct wb_image_info info;
    struct wb_error err = { 0 };

    make_png(300, 200, 1, &png);
    CHECK_OK(wb_image_probe(png.data, png.len, &info, ep(&err)), ep(&err));
    CHECK_INT(info.type, WB_IMAGE_PNG);
    CHECK_INT(info.width, 300);
    CHECK_INT(info.height, 200);
    CHECK_INT(info.has_alpha, 1);
    CHECK_STR(wb_media_sniff_ext(png.data, png.len), "png");

    wb_buf_init(&jpg, 0);
    wb_buf_init(&webp, 0);
    CHECK_OK(wb_image_process(png.data, png.len, 0, WB_IMAGE_JPEG, 0, &jpg, NULL, ep(&err)),
             ep(&err));
    CHECK_OK(wb_image_probe(jpg.data, jpg.len, &info, ep(&err)), ep(&err));
    CHECK_INT(info.type, WB_IMAGE_JPEG);
    CHECK_INT(info.width, 300);
    CHECK_INT(info.height, 200);
    CHECK_STR(wb_media_sniff_ext(jpg.data, jpg.len), "jpg");

    CHECK_OK(wb_image_process(jpg.data, jpg.len, 0, WB_IMAGE_WEBP, 0, &webp, NULL, ep(&err)),
             ep(&err));
    CHECK_OK(wb_image_probe(webp.data, webp.len, &info, ep(&err)), ep(&err));
    CHECK_INT(info.type, WB_IMAGE_WEBP);
    CHECK_INT(info.width, 300);
    CHECK_INT(info.height, 200);
    CHECK_STR(wb_media_sniff_ext(webp.data, webp.len), "webp");
    CHECK(wb_media_valid(png.data, png.len) && wb_media_valid(jpg.data, jpg.len) &&
          wb_media_valid(webp.data, webp.len));

    CHECK_STR(wb_image_type_ext(WB_IMAGE_JPEG), "jpg");
    CHECK_INT(wb_image_type_from_name("JPEG"), WB_IMAGE_JPEG);
    CHECK_INT(wb_image_type_from_name("gif"), WB_IMAGE_UNKNOWN);
    wb_buf_release(&png);
    wb_buf_release(&jpg);
    wb_buf_release(&webp);
}

TEST(big_png_to_jpeg)
{
    struct wb_buf png, jpg;
    struct wb_image_info info;
    struct wb_error err = { 0 };
    uint8_t *px;
    int w, h;

    make_png(1024, 1024, 1, &png);
    wb_buf_init(&jpg, 0);
    CHECK_OK(wb_image_process(png.data, png.len, 512, WB_IMAGE_JPEG, 82, &jpg, &info, ep(&err)),
             ep(&err));
    CHECK_INT(info.type, WB_IMAGE_JPEG);
    CHECK_INT(info.width, 512);
    CHECK_INT(info.height, 512);
    CHECK_MSG(jpg.len < png.len / 4, "JPEG %zu bytes vs PNG %zu", jpg.len, png.len);
    CHECK_OK(wb_image_probe(jpg.data, jpg.len, &info, ep(&err)), ep(&err));
    CHECK_INT(info.width, 512);
    px = decode_jpeg(&jpg, &w, &h);
    CHECK_INT(w, 512);
    CHECK_INT(h, 512);
    /* The transparent corner became white, not black. */
    CHECK_MSG(px[(20 * 512 + 20) * 3] > 240 && px[(20 * 512 + 20) * 3 + 2] > 240,
              "flattened pixel is %d,%d,%d", px[(20 * 512 + 20) * 3], px[(20 * 512 + 20) * 3 + 1],
              px[(20 * 512 + 20) * 3 + 2]);
    /* The gradient survived: bottom-right is red and blue. */
    CHECK(px[(500 * 512 + 500) * 3] > 200 && px[(500 * 512 + 500) * 3 + 2] > 200);
    free(px);
    wb_buf_release(&png);
    wb_buf_release(&jpg);
}

/* Does the JPEG hold a start-of-frame marker of this kind (0xC0 baseline,
 * 0xC2 progressive)? */
static int jpeg_has_sof(const struct wb_buf *b, uint8_t kind)
{
    const uint8_t *d = (const uint8_t *)b->data;
    for (size_t i = 2; i + 3 < b->len;) {
        if (d[i] != 0xFF)
            return 0;
        if (d[i + 1] == kind)
            return 1;
        if (d[i + 1] == 0xDA) /* start of scan: the frame header came before */
            return 0;
        i += 2 + ((size_t)d[i + 2] << 8 | d[i + 3]);
    }
    return 0;
}

/* An RGB PNG (no alpha channel, what image models send) goes through the
 * 3-byte path: colours must come out where they went in, for every output. */
TEST(rgb_png_keeps_colours)
{
    struct wb_buf png, out;
    struct wb_image_info info;
    struct wb_error err = { 0 };
    png_image pi;
    uint8_t *px;
    int w, h;

    make_png_rgb(1024, 768, &png);
    CHECK_OK(wb_image_probe(png.data, png.len, &info, ep(&err)), ep(&err));
    CHECK_INT(info.has_alpha, 0);
    wb_buf_init(&out, 0);
    CHECK_OK(wb_image_process(png.data, png.len, 512, WB_IMAGE_JPEG, 0, &out, &info, ep(&err)),
             ep(&err));
    CHECK_INT(info.width, 512);
    CHECK_INT(info.height, 384);
    /* Baseline with optimised tables (docs/media.md), not progressive. */
    CHECK(jpeg_has_sof(&out, 0xC0));
    CHECK(!jpeg_has_sof(&out, 0xC2));
    px = decode_jpeg(&out, &w, &h);
    CHECK_INT(w, 512);
    CHECK_INT(h, 384);
    /* Top-left dark in red and blue, bottom-right bright in both. */
    CHECK_MSG(px[(10 * 512 + 10) * 3] < 50 && px[(10 * 512 + 10) * 3 + 2] < 50, "top-left %d,%d,%d",
              px[(10 * 512 + 10) * 3], px[(10 * 512 + 10) * 3 + 1], px[(10 * 512 + 10) * 3 + 2]);
    CHECK(px[(380 * 512 + 500) * 3] > 200 && px[(380 * 512 + 500) * 3 + 2] > 200);
    /* Red follows x only: top-right is red, not blue. */
    CHECK_MSG(px[(10 * 512 + 500) * 3] > 200 && px[(10 * 512 + 500) * 3 + 2] < 50,
              "top-right %d,%d,%d", px[(10 * 512 + 500) * 3], px[(10 * 512 + 500) * 3 + 1],
              px[(10 * 512 + 500) * 3 + 2]);
    free(px);

    wb_buf_reset(&out);
    CHECK_OK(wb_image_process(png.data, png.len, 512, WB_IMAGE_WEBP, 0, &out, &info, ep(&err)),
             ep(&err));
    CHECK_INT(info.has_alpha, 0);
    px = WebPDecodeRGB((const uint8_t *)out.data, out.len, &w, &h);
    CHECK(px != NULL);
    CHECK_INT(w, 512);
    CHECK(px[(10 * 512 + 500) * 3] > 200 && px[(10 * 512 + 500) * 3 + 2] < 50);
    WebPFree(px);

    wb_buf_reset(&out);
    CHECK_OK(wb_image_process(png.data, png.len, 256, WB_IMAGE_PNG, 0, &out, &info, ep(&err)),
             ep(&err));
    CHECK_INT(info.width, 256);
    CHECK_INT(info.has_alpha, 0);
    memset(&pi, 0, sizeof pi);
    pi.version = PNG_IMAGE_VERSION;
    CHECK(png_image_begin_read_from_memory(&pi, out.data, out.len));
    CHECK_INT(pi.format & PNG_FORMAT_FLAG_ALPHA, 0);
    pi.format = PNG_FORMAT_RGB;
    px = malloc(PNG_IMAGE_SIZE(pi));
    CHECK(px && png_image_finish_read(&pi, NULL, px, 0, NULL));
    CHECK(px[(5 * 256 + 250) * 3] > 200 && px[(5 * 256 + 250) * 3 + 2] < 50);
    free(px);
    wb_buf_release(&png);
    wb_buf_release(&out);
}

TEST(big_png_to_webp_keeps_alpha)
{
    struct wb_buf png, webp;
    struct wb_image_info info;
    struct wb_error err = { 0 };
    uint8_t *px;
    int w = 0, h = 0;

    make_png(1600, 900, 1, &png);
    wb_buf_init(&webp, 0);
    CHECK_OK(wb_image_process(png.data, png.len, 0, WB_IMAGE_WEBP, 0, &webp, &info, ep(&err)),
             ep(&err));
    CHECK_INT(info.type, WB_IMAGE_WEBP);
    CHECK_INT(info.width, 512);
    CHECK_INT(info.height, 288);
    CHECK_INT(info.has_alpha, 1);
    px = WebPDecodeRGBA((const uint8_t *)webp.data, webp.len, &w, &h);
    CHECK(px != NULL);
    CHECK_INT(w, 512);
    CHECK_INT(h, 288);
    CHECK_INT(px[(10 * 512 + 10) * 4 + 3], 0);     /* transparent corner */
    CHECK_INT(px[(200 * 512 + 400) * 4 + 3], 255); /* opaque elsewhere */
    WebPFree(px);
    wb_buf_release(&png);
    wb_buf_release(&webp);
}

TEST(never_upscales_and_png_out)
{
    struct wb_buf png, out;
    struct wb_image_info info;
    struct wb_error err = { 0 };

    make_png(120, 80, 0, &png);
    wb_buf_init(&out, 0);
    CHECK_OK(wb_image_process(png.data, png.len, 512, WB_IMAGE_PNG, 0, &out, &info, ep(&err)),
             ep(&err));
    CHECK_INT(info.width, 120);
    CHECK_INT(info.height, 80);
    CHECK_INT(info.has_alpha, 0);
    CHECK_OK(wb_image_probe(out.data, out.len, &info, ep(&err)), ep(&err));
    CHECK_INT(info.type, WB_IMAGE_PNG);
    CHECK_INT(info.width, 120);
    CHECK_INT(info.has_alpha, 0);
    /* A tall, thin picture keeps at least one pixel across. */
    wb_buf_release(&png);
    wb_buf_reset(&out);
    make_png(4, 2000, 0, &png);
    CHECK_OK(wb_image_process(png.data, png.len, 100, WB_IMAGE_JPEG, 0, &out, &info, ep(&err)),
             ep(&err));
    CHECK_INT(info.width, 1);
    CHECK_INT(info.height, 100);
    wb_buf_release(&png);
    wb_buf_release(&out);
}

TEST(rejects_truncated_and_foreign)
{
    struct wb_buf png, jpg, webp, out;
    struct wb_image_info info;
    struct wb_error err = { 0 };
    uint8_t noise[4096];
    unsigned s = 12345;

    make_png(256, 256, 0, &png);
    wb_buf_init(&jpg, 0);
    wb_buf_init(&webp, 0);
    wb_buf_init(&out, 0);
    CHECK_OK(wb_image_process(png.data, png.len, 0, WB_IMAGE_JPEG, 0, &jpg, NULL, ep(&err)),
             ep(&err));
    CHECK_OK(wb_image_process(png.data, png.len, 0, WB_IMAGE_WEBP, 0, &webp, NULL, ep(&err)),
             ep(&err));

    CHECK_INT(wb_image_probe(png.data, png.len / 2, &info, ep(&err)), WB_EMEDIA);
    CHECK_MSG(strstr(err.msg, "truncated PNG") != NULL, "message: %s", err.msg);
    CHECK_INT(info.type, WB_IMAGE_UNKNOWN);
    CHECK_INT(wb_image_process(png.data, png.len - 20, 0, WB_IMAGE_JPEG, 0, &out, NULL, ep(&err)),
              WB_EMEDIA);
    CHECK_INT(out.len, 0);
    CHECK_INT(wb_image_probe(jpg.data, jpg.len - 50, &info, ep(&err)), WB_EMEDIA);
    CHECK(strstr(err.msg, "truncated JPEG") != NULL);
    CHECK_INT(wb_image_probe(webp.data, webp.len - 10, &info, ep(&err)), WB_EMEDIA);
    CHECK(strstr(err.msg, "truncated WebP") != NULL);
    CHECK(!wb_media_valid(png.data, png.len - 1));
    CHECK(!wb_media_valid(jpg.data, jpg.len - 1));
    CHECK(!wb_media_valid(webp.data, webp.len - 1));

    /* A PNG whose pixel data is damaged but whose chunks are whole: the
     * decoder's own check catches it. */
    for (size_t i = 60; i < png.len - 40; i += 7)
        png.data[i] ^= 0x5A;
    CHECK_INT(wb_image_process(png.data, png.len, 0, WB_IMAGE_JPEG, 0, &out, NULL, ep(&err)),
              WB_EMEDIA);
    CHECK(strstr(err.msg, "PNG") != NULL);

    for (size_t i = 0; i < sizeof noise; i++) {
        s = s * 1103515245u + 12345u;
        noise[i] = (uint8_t)(s >> 16);
    }
    CHECK_INT(wb_image_probe(noise, sizeof noise, &info, ep(&err)), WB_EMEDIA);
    CHECK(strstr(err.msg, "not an image") != NULL);
    CHECK_INT(wb_image_process(noise, sizeof noise, 0, WB_IMAGE_JPEG, 0, &out, NULL, ep(&err)),
              WB_EMEDIA);
    CHECK_INT(wb_image_probe("", 0, &info, ep(&err)), WB_EMEDIA);
    CHECK_INT(wb_image_probe("<html>not found</html>", 22, &info, ep(&err)), WB_EMEDIA);
    CHECK(wb_media_sniff_ext(noise, sizeof noise) == NULL);
    CHECK(!wb_media_valid(noise, sizeof noise));
    CHECK_INT(out.len, 0);

    wb_buf_release(&png);
    wb_buf_release(&jpg);
    wb_buf_release(&webp);
    wb_buf_release(&out);
}

/* A header that claims 100000 x 100000 pixels is refused before any
 * allocation. */
/* The PNG chunk CRC (ISO 3309, as in the PNG spec's sample code): a header
 * whose size was edited needs its CRC fixed, or libpng rejects the file for
 * the CRC before the size limit is ever asked. */
static uint32_t png_crc(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return c ^ 0xFFFFFFFFu;
}

static void set_png_size(uint8_t *d, uint32_t w, uint32_t h)
{
    uint32_t crc;
    /* IHDR: length at 8, type at 12, width at 16, height at 20, CRC at 29
     * over type and data (bytes 12..28). */
    CHECK(memcmp(d + 12, "IHDR", 4) == 0);
    for (int i = 0; i < 4; i++) {
        d[16 + i] = (uint8_t)(w >> (24 - 8 * i));
        d[20 + i] = (uint8_t)(h >> (24 - 8 * i));
    }
    crc = png_crc(d + 12, 17);
    for (int i = 0; i < 4; i++)
        d[29 + i] = (uint8_t)(crc >> (24 - 8 * i));
}

TEST(rejects_huge_dimensions)
{
    struct wb_buf png;
    struct wb_image_info info;
    struct wb_error err = { 0 };
    uint8_t *d;

    make_png(8, 8, 0, &png);
    d = (uint8_t *)png.data;
    /* The same file with a valid header is accepted as it is... */
    set_png_size(d, 8, 8);
    CHECK_OK(wb_image_probe(png.data, png.len, &info, ep(&err)), &err);
    CHECK_INT(info.width, 8);
    /* ...one side over 16384 pixels is refused by our cap, with its size... */
    set_png_size(d, 100000, 8);
    CHECK_INT(wb_image_probe(png.data, png.len, &info, ep(&err)), WB_ETOOBIG);
    CHECK_MSG(strstr(err.msg, "100000x8") && strstr(err.msg, "too large"), "%s", err.msg);
    /* ...and so is a picture of more than 64 Mi pixels with sides in range. */
    set_png_size(d, 10000, 10000);
    CHECK_INT(wb_image_probe(png.data, png.len, &info, ep(&err)), WB_ETOOBIG);
    CHECK_MSG(strstr(err.msg, "10000x10000"), "%s", err.msg);
    wb_buf_release(&png);
}

/* ---- picture quality: the output against an area-average reference ---- */

/* Kinds of source PNG, each holding a card whose every pixel is exactly
 * representable in it: 8-bit RGB (what image models send), RGBA with a
 * transparent corner and a half-transparent band, 16-bit RGB, grey,
 * grey+alpha, palette, Adam7-interlaced RGB. */
enum card_kind {
    CARD_RGB,
    CARD_RGBA,
    CARD_RGB16,
    CARD_GREY,
    CARD_GREY_ALPHA,
    CARD_PALETTE,
    CARD_INTERLACED
};

static void palette_colour(int i, uint8_t *rgb)
{
    rgb[0] = (uint8_t)i;
    rgb[1] = (uint8_t)(255 - i);
    rgb[2] = (uint8_t)(i / 2);
}

/* The card as RGBA: a 1-pixel black/white checker in the left quarter
 * (point sampling turns it black or white, an area average grey), a band of
 * waves and smooth gradients elsewhere. */
static uint8_t *make_card(enum card_kind k, int w, int h)
{
    uint8_t *px = malloc((size_t)w * (size_t)h * 4);
    CHECK(px != NULL);
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * (size_t)w + (size_t)x) * 4;
            int checker = x < w / 4, v = ((x + y) & 1) ? 255 : 0;
            int gx = (int)((int64_t)x * 255 / (w > 1 ? w - 1 : 1));
            int gy = (int)((int64_t)y * 255 / (h > 1 ? h - 1 : 1));
            /* Detail the output keeps (waves 8 pixels long at 512 px),
             * which a scaler reading too few source pixels blurs away. */
            int wave = !checker && y >= h / 4 && y < h / 2 && k != CARD_PALETTE;
            if (wave) /* grey: chroma is subsampled and coarser in JPEG */
                gx = gy = (int)lrint(128 + 100 * sin(x * 2 * M_PI / (w > 1024 ? w / 64 : 16)));
            if (k == CARD_GREY || k == CARD_GREY_ALPHA) {
                p[0] = p[1] = p[2] = (uint8_t)(checker ? v : (gx + gy) / 2);
            } else if (k == CARD_PALETTE) {
                palette_colour(checker ? v : gx, p);
            } else {
                p[0] = (uint8_t)(checker ? v : gx);
                p[1] = (uint8_t)(checker ? v : gy);
                p[2] = (uint8_t)(checker ? v : wave ? gx : 255 - (gx + gy) / 2);
            }
            p[3] = 255;
            if (k == CARD_RGBA || k == CARD_GREY_ALPHA) {
                if (x < w / 8 && y < h / 8)
                    p[3] = 0;
                else if (y >= h / 2 && y < h / 2 + h / 8)
                    p[3] = 128;
            }
        }
    }
    return px;
}

/* The card written as a PNG of its kind. */
static void write_card(enum card_kind k, int w, int h, const uint8_t *px, struct wb_buf *out)
{
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    uint8_t *row = malloc((size_t)w * 8);
    int ctype = PNG_COLOR_TYPE_RGB, depth = 8, passes;

    CHECK(png && info && row);
    if (k == CARD_RGBA)
        ctype = PNG_COLOR_TYPE_RGB_ALPHA;
    else if (k == CARD_GREY)
        ctype = PNG_COLOR_TYPE_GRAY;
    else if (k == CARD_GREY_ALPHA)
        ctype = PNG_COLOR_TYPE_GRAY_ALPHA;
    else if (k == CARD_PALETTE)
        ctype = PNG_COLOR_TYPE_PALETTE;
    if (k == CARD_RGB16)
        depth = 16;
    wb_buf_init(out, 0);
    png_set_write_fn(png, out, png_to_buf, png_flush_none);
    png_set_compression_level(png, 1);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, depth, ctype,
                 k == CARD_INTERLACED ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (k == CARD_PALETTE) {
        png_color pal[256];
        for (int i = 0; i < 256; i++) {
            uint8_t c[3];
            palette_colour(i, c);
            pal[i].red = c[0];
            pal[i].green = c[1];
            pal[i].blue = c[2];
        }
        png_set_PLTE(png, info, pal, 256);
    }
    png_write_info(png, info);
    passes = png_set_interlace_handling(png);
    for (int pass = 0; pass < passes; pass++) {
        for (int y = 0; y < h; y++) {
            const uint8_t *p = px + (size_t)y * (size_t)w * 4;
            for (int x = 0; x < w; x++, p += 4) {
                switch (k) {
                case CARD_RGBA:
                    memcpy(row + (size_t)x * 4, p, 4);
                    break;
                case CARD_GREY:
                    row[x] = p[0];
                    break;
                case CARD_GREY_ALPHA:
                    row[2 * x] = p[0];
                    row[2 * x + 1] = p[3];
                    break;
                case CARD_PALETTE:
                    row[x] = p[0]; /* palette_colour(i) has red i */
                    break;
                case CARD_RGB16:
                    for (int c = 0; c < 3; c++)
                        row[(size_t)x * 6 + 2 * c] = row[(size_t)x * 6 + 2 * c + 1] = p[c];
                    break;
                default:
                    memcpy(row + (size_t)x * 3, p, 3);
                    break;
                }
            }
            png_write_row(png, row);
        }
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    free(row);
}

/* The exact area average of the card (on white where transparent) at
 * ow x oh: every source pixel weighs by how much of it falls into the
 * output pixel. RGB doubles. */
static double *area_reference(const uint8_t *px, int w, int h, int ow, int oh)
{
    double *tmp = calloc((size_t)ow * (size_t)h * 3, sizeof(double));
    double *out = calloc((size_t)ow * (size_t)oh * 3, sizeof(double));
    double sx = (double)w / ow, sy = (double)h / oh;

    CHECK(tmp && out);
    for (int y = 0; y < h; y++) {
        for (int ox = 0; ox < ow; ox++) {
            double x0 = ox * sx, x1 = (ox + 1) * sx;
            for (int x = (int)x0; x < w && x < x1; x++) {
                double wgt = fmin(x + 1, x1) - fmax(x, x0);
                const uint8_t *p = px + ((size_t)y * (size_t)w + (size_t)x) * 4;
                for (int c = 0; c < 3; c++)
                    tmp[((size_t)y * (size_t)ow + (size_t)ox) * 3 + c] +=
                        wgt / sx * (p[c] * p[3] + 255.0 * (255 - p[3])) / 255.0;
            }
        }
    }
    for (int oy = 0; oy < oh; oy++) {
        double y0 = oy * sy, y1 = (oy + 1) * sy;
        for (int y = (int)y0; y < h && y < y1; y++) {
            double wgt = (fmin(y + 1, y1) - fmax(y, y0)) / sy;
            for (int i = 0; i < ow * 3; i++)
                out[(size_t)oy * (size_t)ow * 3 + (size_t)i] +=
                    wgt * tmp[(size_t)y * (size_t)ow * 3 + (size_t)i];
        }
    }
    free(tmp);
    return out;
}

static double psnr(const uint8_t *got, const double *ref, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++)
        se += (got[i] - ref[i]) * (got[i] - ref[i]);
    return se == 0 ? 99.0 : 10.0 * log10(255.0 * 255.0 / (se / (double)n));
}

/* Process a card to JPEG (or PNG) at max_px and compare with the reference;
 * returns the PSNR in dB. */
static double card_psnr(enum card_kind k, int w, int h, enum wb_image_type out_type, int max_px,
                        int want_w, int want_h)
{
    struct wb_buf png, out;
    struct wb_image_info info;
    struct wb_error err = { 0 };
    uint8_t *px = make_card(k, w, h), *got;
    double *ref, db;
    int gw = 0, gh = 0;

    write_card(k, w, h, px, &png);
    wb_buf_init(&out, 0);
    CHECK_OK(wb_image_process(png.data, png.len, max_px, out_type, 92, &out, &info, ep(&err)),
             ep(&err));
    CHECK_INT(info.type, out_type);
    CHECK_INT(info.width, want_w);
    CHECK_INT(info.height, want_h);
    if (out_type == WB_IMAGE_JPEG) {
        got = decode_jpeg(&out, &gw, &gh);
    } else {
        png_image pi;
        memset(&pi, 0, sizeof pi);
        pi.version = PNG_IMAGE_VERSION;
        CHECK(png_image_begin_read_from_memory(&pi, out.data, out.len));
        pi.format = PNG_FORMAT_RGB;
        got = malloc(PNG_IMAGE_SIZE(pi));
        CHECK(got && png_image_finish_read(&pi, NULL, got, 0, NULL));
        gw = (int)pi.width;
        gh = (int)pi.height;
    }
    CHECK_INT(gw, want_w);
    CHECK_INT(gh, want_h);
    ref = area_reference(px, w, h, want_w, want_h);
    db = psnr(got, ref, (size_t)want_w * (size_t)want_h * 3);
    free(got);
    free(ref);
    free(px);
    wb_buf_release(&png);
    wb_buf_release(&out);
    return db;
}

/* The downscale is an area average at every ratio and size, through the
 * streaming path (slices of rows into the scaler) and the whole-picture one
 * (interlaced): close to the exact reference, where point sampling (the
 * checker turning black or white) lands near 12 dB. */
TEST(downscale_is_area_average)
{
    static const struct {
        enum card_kind k;
        int w, h, ow, oh;
    } cases[] = {
        { CARD_RGB, 1024, 1024, 512, 512 },
        { CARD_RGB, 1023, 517, 512, 258 },
        { CARD_RGB, 832, 1248, 341, 512 },
        { CARD_RGB, 1344, 768, 512, 292 },
        { CARD_RGB, 1536, 672, 512, 224 },
        { CARD_RGB, 700, 300, 512, 219 },
        { CARD_RGB, 1, 3000, 1, 512 },
        { CARD_RGB, 3000, 1, 512, 1 },
        { CARD_RGB, 40, 2000, 10, 512 },
        { CARD_RGBA, 1000, 800, 512, 409 },
        { CARD_RGB16, 1000, 700, 512, 358 },
        { CARD_GREY, 900, 900, 512, 512 },
        { CARD_GREY_ALPHA, 800, 1000, 409, 512 },
        { CARD_PALETTE, 1000, 600, 512, 307 },
        { CARD_INTERLACED, 1000, 800, 512, 409 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double jpg = card_psnr(cases[i].k, cases[i].w, cases[i].h, WB_IMAGE_JPEG, 512, cases[i].ow,
                               cases[i].oh);
        CHECK_MSG(jpg > 35.0, "kind %d %dx%d to JPEG: %.1f dB", (int)cases[i].k, cases[i].w,
                  cases[i].h, jpg);
        if (cases[i].k != CARD_RGBA && cases[i].k != CARD_GREY_ALPHA) {
            double png = card_psnr(cases[i].k, cases[i].w, cases[i].h, WB_IMAGE_PNG, 512,
                                   cases[i].ow, cases[i].oh);
            CHECK_MSG(png > 50.0, "kind %d %dx%d to PNG: %.1f dB", (int)cases[i].k, cases[i].w,
                      cases[i].h, png);
        }
    }
}

/* A ratio past libswscale's limits for slices, down or across (fuzz runs
 * found 2848 rows to 17 and 3718 columns to 17), goes through in one slice,
 * still an area average: tall, square to 16 px (4:2:0 planes), wide. One
 * column or one row only has to come out whole: a 1-pixel output of that
 * many pixels is beyond libswscale's filter length (at most the source side
 * - 2 taps). */
TEST(extreme_ratio_goes_through_whole)
{
    static const struct {
        int w, h, max_px, ow, oh;
        double png_db, jpg_db;
    } cases[] = { { 600, 3000, 17, 3, 17, 50.0, 30.0 },
                  { 2000, 2000, 16, 16, 16, 50.0, 25.0 },
                  { 4000, 1000, 20, 20, 5, 50.0, 25.0 },
                  { 24, 3000, 16, 1, 16, 0.0, 0.0 },
                  { 14872, 220, 17, 17, 1, 0.0, 0.0 } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double png = card_psnr(CARD_RGB, cases[i].w, cases[i].h, WB_IMAGE_PNG, cases[i].max_px,
                               cases[i].ow, cases[i].oh);
        double jpg = card_psnr(CARD_RGB, cases[i].w, cases[i].h, WB_IMAGE_JPEG, cases[i].max_px,
                               cases[i].ow, cases[i].oh);
        CHECK_MSG(png > cases[i].png_db && jpg > cases[i].jpg_db,
                  "%dx%d to %d px: PNG %.1f dB, JPEG %.1f dB", cases[i].w, cases[i].h,
                  cases[i].max_px, png, jpg);
    }
}

/* JPEG output from a source more than 4 times taller than it: libswscale
 * aborts on 4:2:0 slices that end between two output rows' source rows
 * (fuzz: 2732 rows to 45; each of these sizes aborted in 16-row slices),
 * so such a picture keeps full chroma and still streams, an area average. */
TEST(tall_ratio_jpeg_keeps_full_chroma)
{
    static const struct {
        int side, max_px;
    } cases[] = { { 232, 45 }, { 275, 45 }, { 310, 61 }, { 491, 97 } };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        double jpg = card_psnr(CARD_RGB, cases[i].side, cases[i].side, WB_IMAGE_JPEG,
                               cases[i].max_px, cases[i].max_px, cases[i].max_px);
        CHECK_MSG(jpg > 30.0, "%d px square to %d px JPEG: %.1f dB", cases[i].side, cases[i].max_px,
                  jpg);
    }
}

/* Flat colours come out as they went in: the planes handed to libjpeg are
 * full range (JFIF), neither squeezed to 16-235 nor stretched twice. */
TEST(jpeg_keeps_flat_colours)
{
    static const uint8_t colours[][3] = { { 0, 0, 0 },     { 255, 255, 255 }, { 64, 64, 64 },
                                          { 200, 30, 60 }, { 20, 180, 90 },   { 40, 60, 220 } };
    for (size_t c = 0; c < sizeof colours / sizeof colours[0]; c++) {
        struct wb_buf png, jpg;
        struct wb_error err = { 0 };
        uint8_t *px = malloc((size_t)1024 * 768 * 4), *got;
        int w, h;
        for (size_t i = 0; i < (size_t)1024 * 768; i++) {
            memcpy(px + i * 4, colours[c], 3);
            px[i * 4 + 3] = 255;
        }
        write_card(CARD_RGB, 1024, 768, px, &png);
        wb_buf_init(&jpg, 0);
        CHECK_OK(wb_image_process(png.data, png.len, 512, WB_IMAGE_JPEG, 0, &jpg, NULL, ep(&err)),
                 ep(&err));
        got = decode_jpeg(&jpg, &w, &h);
        CHECK_INT(w, 512);
        CHECK_INT(h, 384);
        for (size_t i = 0; i < (size_t)w * (size_t)h; i += 997) {
            for (int k = 0; k < 3; k++)
                CHECK_MSG(abs(got[i * 3 + k] - colours[c][k]) <= 2,
                          "colour %d,%d,%d came out %d,%d,%d at pixel %zu", colours[c][0],
                          colours[c][1], colours[c][2], got[i * 3], got[i * 3 + 1], got[i * 3 + 2],
                          i);
        }
        free(got);
        free(px);
        wb_buf_release(&png);
        wb_buf_release(&jpg);
    }
}

/* Where the first IDAT chunk's data starts, and its length. */
static size_t png_idat(const struct wb_buf *b, size_t *len)
{
    const uint8_t *d = (const uint8_t *)b->data;
    for (size_t i = 8; i + 12 <= b->len;) {
        size_t n = (size_t)d[i] << 24 | (size_t)d[i + 1] << 16 | (size_t)d[i + 2] << 8 | d[i + 3];
        if (memcmp(d + i + 4, "IDAT", 4) == 0) {
            *len = n;
            return i + 8;
        }
        i += 12 + n;
    }
    CHECK(!"no IDAT chunk");
    return 0;
}

static void put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (24 - 8 * i));
}

/* The decoder skips zlib's Adler-32 (docs/media.md): each IDAT chunk's CRC
 * still refuses a damaged byte, and a compressed stream cut short (chunks
 * whole, CRCs right) is still refused for want of rows. */
TEST(png_damage_still_refused)
{
    struct wb_buf png, cut, out;
    struct wb_error err = { 0 };
    size_t n, at;
    uint8_t *d;

    make_png_rgb(600, 400, &png);
    wb_buf_init(&out, 0);
    CHECK_OK(wb_image_process(png.data, png.len, 0, WB_IMAGE_JPEG, 0, &out, NULL, ep(&err)),
             ep(&err));
    at = png_idat(&png, &n);
    CHECK(n > 1000);
    d = (uint8_t *)png.data;

    /* One flipped bit in the middle of the first IDAT. */
    d[at + n / 2] ^= 0x10;
    wb_buf_reset(&out);
    CHECK_INT(wb_image_process(png.data, png.len, 0, WB_IMAGE_JPEG, 0, &out, NULL, ep(&err)),
              WB_EMEDIA);
    CHECK_MSG(strstr(err.msg, "bad PNG") && strstr(err.msg, "CRC"), "message: %s", err.msg);
    CHECK_INT(out.len, 0);
    d[at + n / 2] ^= 0x10;

    /* Signature and IHDR, the first IDAT cut to half its data with a right
     * CRC, IEND: structurally whole, rows missing. */
    wb_buf_init(&cut, 0);
    CHECK(wb_buf_append(&cut, d, at - 8) == 0);
    {
        uint8_t hdr[8], crc[4];
        size_t half = n / 2;
        put32(hdr, (uint32_t)half);
        memcpy(hdr + 4, "IDAT", 4);
        put32(crc, png_crc(d + at - 4, half + 4));
        CHECK(wb_buf_append(&cut, hdr, 8) == 0);
        CHECK(wb_buf_append(&cut, d + at, half) == 0);
        CHECK(wb_buf_append(&cut, crc, 4) == 0);
        CHECK(wb_buf_append(&cut, d + png.len - 12, 12) == 0); /* IEND */
    }
    CHECK(wb_media_valid(cut.data, cut.len));
    wb_buf_reset(&out);
    CHECK_INT(wb_image_process(cut.data, cut.len, 0, WB_IMAGE_JPEG, 0, &out, NULL, ep(&err)),
              WB_EMEDIA);
    CHECK_MSG(strstr(err.msg, "bad PNG") != NULL, "message: %s", err.msg);
    CHECK_INT(out.len, 0);
    wb_buf_release(&png);
    wb_buf_release(&cut);
    wb_buf_release(&out);
}

/* A JPEG source (OpenAI and Imagen may answer JPEG) is scaled in the DCT to
 * the smallest size still at least the output's, then area-averaged: the
 * result stays close to an exact area average of the decoded source. */
TEST(jpeg_source_scaled_in_dct)
{
    static const struct {
        int w, h, ow, oh;
    } cases[] = { { 2000, 1500, 512, 384 },
                  { 1024, 1024, 512, 512 },
                  { 4100, 700, 512, 87 },
                  { 600, 500, 512, 426 } };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int w = cases[c].w, h = cases[c].h, gw, gh, dw, dh;
        uint8_t *px = make_card(CARD_RGB, w, h), *src, *rgba, *got;
        struct wb_buf png, jpg, out;
        struct wb_image_info info;
        struct wb_error err = { 0 };
        double *ref, db;

        write_card(CARD_RGB, w, h, px, &png);
        wb_buf_init(&jpg, 0);
        wb_buf_init(&out, 0);
        /* The source JPEG: full size, quality 95. */
        CHECK_OK(
            wb_image_process(png.data, png.len, 20000, WB_IMAGE_JPEG, 95, &jpg, &info, ep(&err)),
            ep(&err));
        CHECK_INT(info.width, w);
        CHECK_OK(wb_image_process(jpg.data, jpg.len, 512, WB_IMAGE_JPEG, 92, &out, &info, ep(&err)),
                 ep(&err));
        CHECK_INT(info.width, cases[c].ow);
        CHECK_INT(info.height, cases[c].oh);
        src = decode_jpeg(&jpg, &dw, &dh);
        rgba = malloc((size_t)w * (size_t)h * 4);
        CHECK(rgba != NULL);
        for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
            memcpy(rgba + i * 4, src + i * 3, 3);
            rgba[i * 4 + 3] = 255;
        }
        got = decode_jpeg(&out, &gw, &gh);
        CHECK_INT(gw, cases[c].ow);
        CHECK_INT(gh, cases[c].oh);
        ref = area_reference(rgba, w, h, gw, gh);
        db = psnr(got, ref, (size_t)gw * (size_t)gh * 3);
        CHECK_MSG(db > 35.0, "JPEG %dx%d to %dx%d: %.1f dB", w, h, gw, gh, db);
        free(ref);
        free(got);
        free(rgba);
        free(src);
        free(px);
        wb_buf_release(&png);
        wb_buf_release(&jpg);
        wb_buf_release(&out);
    }
}

/* Transparency is flattened onto white before the average: the colour a
 * fully transparent pixel hides (black here, every other column) must not
 * bleed into the JPEG. Averaged first and flattened after, the picture
 * would come out grey (191). */
TEST(jpeg_flattens_before_average)
{
    struct wb_buf png, jpg;
    struct wb_error err = { 0 };
    uint8_t *px = malloc((size_t)1024 * 1024 * 4), *got;
    int w, h, worst = 255;

    CHECK(px != NULL);
    for (size_t i = 0; i < (size_t)1024 * 1024; i++) {
        int opaque = (i % 1024) % 2 == 0;
        memset(px + i * 4, opaque ? 255 : 0, 4);
    }
    write_card(CARD_RGBA, 1024, 1024, px, &png);
    wb_buf_init(&jpg, 0);
    CHECK_OK(wb_image_process(png.data, png.len, 512, WB_IMAGE_JPEG, 0, &jpg, NULL, ep(&err)),
             ep(&err));
    got = decode_jpeg(&jpg, &w, &h);
    CHECK_INT(w, 512);
    for (size_t i = 0; i < (size_t)w * (size_t)h * 3; i++)
        worst = got[i] < worst ? got[i] : worst;
    CHECK_MSG(worst >= 252, "darkest value %d: a hidden colour bled in", worst);
    free(got);
    free(px);
    wb_buf_release(&png);
    wb_buf_release(&jpg);
}
