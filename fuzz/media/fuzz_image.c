/* libFuzzer target: image bytes as an API sends them (a Gemini inlineData
 * picture, an Imagen or OpenAI b64_json one, decoded) through what the
 * pipeline does with them: sniff, validate, probe the header, then decode,
 * downscale and re-encode. The first byte picks the output type and size.
 * The seeds are real files after one selector byte.
 * Invariants: a probe that succeeds gives a known type and sane dimensions;
 * a processed image is itself a valid image of the asked type, no larger
 * than asked; an error is a negative WB_E* code with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wordbank/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    static const enum wb_image_type types[] = { WB_IMAGE_JPEG, WB_IMAGE_WEBP, WB_IMAGE_PNG,
                                                WB_IMAGE_UNKNOWN };
    struct wb_image_info info, out_info;
    struct wb_error err = { 0 };
    struct wb_buf out;
    enum wb_image_type t;
    int max_px, rc;

    if (len < 1)
        return 0;
    t = types[data[0] & 3];
    max_px = 1 + (data[0] >> 2) * 4; /* 1..253: small, so decoding stays cheap */
    data++, len--;

    (void)wb_media_sniff_ext(data, len);
    (void)wb_media_valid(data, len);
    rc = wb_image_probe(data, len, &info, &err);
    if (rc == 0 && (info.type == WB_IMAGE_UNKNOWN || info.width <= 0 || info.height <= 0 ||
                    info.width > 16384 || info.height > 16384))
        abort();
    if (rc < 0 && (err.code != rc || !err.msg[0]))
        abort();
    if (rc < 0)
        return 0;
    /* Only what the probe let through is decoded (as in the pipeline); a
     * 64-Mpixel picture would take seconds a run, so keep to 4 Mpixel. */
    if ((uint64_t)info.width * (uint64_t)info.height > (4u << 20))
        return 0;
    wb_buf_init(&out, 0);
    memset(&err, 0, sizeof err);
    rc = wb_image_process(data, len, max_px, t, 0, &out, &out_info, &err);
    if (rc == 0) {
        struct wb_image_info again;
        struct wb_error e2 = { 0 };
        if (out.len == 0 || out_info.width > max_px || out_info.height > max_px ||
            out_info.width <= 0 || out_info.height <= 0)
            abort();
        if (wb_image_probe(out.data, out.len, &again, &e2) != 0 || again.width != out_info.width ||
            again.height != out_info.height || !wb_media_valid(out.data, out.len))
            abort();
        if (again.type != (t == WB_IMAGE_UNKNOWN ? WB_IMAGE_JPEG : t))
            abort();
    } else if (err.code != rc || !err.msg[0]) {
        abort();
    }
    wb_buf_release(&out);
    return 0;
}
