/* libFuzzer target: a models list page, then suggestions against what it held. */
#include <stdint.h>
#include <stdlib.h>

#include "providers/gemini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    char **ids = NULL, *tok = NULL;
    size_t n = 0;
    struct core_api_error a;
    const char *sug[4];
    int rc = gemini_models_parse((const char *)data, len, &ids, &n, &tok, &a);
    if (rc == 0) {
        size_t k = gemini_models_suggest("gemini-2.5-flash-preview-tts", ids, n, sug, 4);
        if (k > 4 || (k > n))
            abort();
        if (n)
            gemini_models_suggest(ids[0], ids, n, sug, 4);
    } else if (ids || n || tok) {
        abort();
    }
    gemini_ids_free(ids, n);
    free(tok);
    return 0;
}
