/* libFuzzer target for the error classifier. Input: a first line
 * "STATUS[ RETRY-AFTER]" and then the body. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/gemini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    const char *s = (const char *)data;
    const char *nl = memchr(s, '\n', len);
    size_t head = nl ? (size_t)(nl - s) : 0;
    char line[64] = "";
    long status = 0;
    struct core_http_header h = { "Retry-After", "" };
    struct core_api_error a;
    int rc;

    if (head && head < sizeof line) {
        char *sp;
        memcpy(line, s, head);
        line[head] = '\0';
        status = strtol(line, &sp, 10);
        if (*sp == ' ')
            h.value = sp + 1;
    }
    if (nl) {
        s = nl + 1;
        len -= head + 1;
    }
    rc = gemini_parse_error(status, &h, 1, s, len, &a);
    if (rc >= 0 || rc != a.code || a.retry_after_ms < -1 ||
        a.retry_after_ms > (int64_t)86400 * 1000 || (a.per_day && a.retryable) ||
        strlen(a.message) >= sizeof a.message || strlen(a.status) >= sizeof a.status)
        abort();
    return 0;
}
