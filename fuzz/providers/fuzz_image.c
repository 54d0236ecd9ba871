/* libFuzzer target: an image response (Gemini or Imagen shape) through the parser. */
#include <stdint.h>
#include <stdlib.h>

#include "providers/gemini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct wb_buf img;
    struct prov_usage u;
    struct core_api_error a;
    char mime[64];
    int rc;
    wb_buf_init(&img, 1 << 20);
    rc = gemini_image_parse((const char *)data, len, &img, mime, sizeof mime, &u, &a);
    if ((rc == 0 && img.len == 0) || (rc != 0 && rc != a.code))
        abort();
    wb_buf_release(&img);
    return 0;
}
