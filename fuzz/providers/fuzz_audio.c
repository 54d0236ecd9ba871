/* libFuzzer target for the speech stream consumer: the input as an SSE stream
 * fed in chunks (chunk size from the first byte), and as a unary body. */
#include <stdint.h>
#include <stdlib.h>

#include "providers/gemini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct gemini_audio a;
    struct core_api_error e;
    size_t step = len ? 1 + (data[0] % 64) * 17 : 1;
    size_t n;
    int rc = 0;

    gemini_audio_init(&a);
    for (size_t i = 0; i < len && !rc; i += step)
        rc = gemini_audio_feed(&a, (const char *)data + i, len - i < step ? len - i : step, &e);
    if (!rc)
        rc = gemini_audio_finish(&a, &e);
    gemini_audio_pcm(&a, &n);
    if ((rc == 0 && n == 0) || (rc != 0 && rc != e.code) || gemini_audio_rate(&a) <= 0)
        abort();
    gemini_audio_release(&a);

    gemini_audio_init(&a);
    rc = gemini_audio_parse_response(&a, (const char *)data, len, &e);
    gemini_audio_pcm(&a, &n);
    if (rc == 0 && n == 0)
        abort();
    gemini_audio_release(&a);
    return 0;
}
