/* libFuzzer target: a generateContent body through the details parser. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/gemini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct wb_entry e;
    struct prov_usage u;
    struct core_api_error a;
    int rc;
    wb_entry_init(&e);
    e.word = strdup("猫");
    e.translation = strdup("cat");
    rc = gemini_details_parse((const char *)data, len, &e, &u, &a);
    /* The input's word and translation survive any answer; success fills a description. */
    if (strcmp(e.word, "猫") || strcmp(e.translation, "cat") || (rc == 0 && !e.description) ||
        (rc != 0 && rc != a.code) || strlen(a.message) >= sizeof a.message)
        abort();
    wb_entry_release(&e);
    return 0;
}
