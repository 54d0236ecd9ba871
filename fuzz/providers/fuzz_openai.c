/* libFuzzer target for the OpenAI provider's parsers. The first byte picks
 * the parser: 'd' chat completion (details), 'i' images response, 's' speech
 * body, 'e' an error: "STATUS\n" then "name: value" header lines, an empty
 * line and the body; 'u' a Go duration. The rest is the input. Checks the
 * invariants every caller relies on: 0 or the code in the record, bounded
 * hints, a per-day quota never retryable, output within the caps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "providers/openai.h"

#define MAX_H 8

static void check_aerr(int rc, const struct core_api_error *a)
{
    if (rc > 0 || (rc && rc != a->code) || a->retry_after_ms < -1 ||
        a->retry_after_ms > (int64_t)86400 * 1000 || (a->per_day && a->retryable) ||
        strlen(a->message) >= sizeof a->message || strlen(a->status) >= sizeof a->status)
        abort();
}

static void fuzz_error(const char *s, size_t len)
{
    struct core_http_header h[MAX_H];
    char *copy = malloc(len + 1), *p, *end, *nl;
    size_t nh = 0;
    long status;
    struct core_api_error a;
    int rc;
    if (!copy)
        return;
    memcpy(copy, s, len);
    copy[len] = '\0';
    end = copy + len;
    status = strtol(copy, &p, 10);
    p = memchr(copy, '\n', len);
    p = p ? p + 1 : end;
    /* Header lines until an empty line (or the end). */
    while (p < end && *p != '\n' && nh < MAX_H && (nl = memchr(p, '\n', (size_t)(end - p)))) {
        char *colon = memchr(p, ':', (size_t)(nl - p));
        *nl = '\0';
        if (colon) {
            *colon = '\0';
            h[nh].name = p;
            h[nh].value = colon + 1 + (colon[1] == ' ');
            nh++;
        }
        p = nl + 1;
    }
    if (p < end && *p == '\n')
        p++;
    rc = openai_parse_error(status, h, nh, p, (size_t)(end - p), &a);
    check_aerr(rc, &a);
    if (rc >= 0)
        abort();
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    const char *s = (const char *)data + 1;
    struct core_api_error a;
    int rc;
    if (len < 1)
        return 0;
    len--;
    switch (data[0]) {
    case 'd': {
        struct wb_entry e;
        struct prov_usage u;
        wb_entry_init(&e);
        e.word = strdup("w");
        e.translation = strdup("t");
        rc = openai_details_parse(s, len, &e, &u, &a);
        check_aerr(rc, &a);
        if (!rc && (!e.description || !e.n_examples || strcmp(e.word, "w") != 0 ||
                    strcmp(e.translation, "t") != 0))
            abort();
        wb_entry_release(&e);
        break;
    }
    case 'i': {
        struct wb_buf b;
        wb_buf_init(&b, 0);
        rc = openai_image_parse(s, len, &b, NULL, &a);
        check_aerr(rc, &a);
        if (!rc && (b.len == 0 || b.len > WB_OPENAI_MAX_MEDIA))
            abort();
        wb_buf_release(&b);
        break;
    }
    case 's': {
        struct wb_buf b;
        int rate = 0, ch = 0;
        wb_buf_init(&b, 0);
        rc = openai_speech_parse(s, len, &b, &rate, &ch, &a);
        check_aerr(rc, &a);
        if (!rc && (b.len == 0 || rate <= 0 || ch <= 0))
            abort();
        wb_buf_release(&b);
        break;
    }
    case 'e':
        fuzz_error(s, len);
        break;
    case 'u': {
        char buf[64];
        size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
        int64_t ms;
        memcpy(buf, s, n);
        buf[n] = '\0';
        ms = openai_duration_ms(buf);
        if (ms < -1 || ms > (int64_t)86400 * 1000)
            abort();
        break;
    }
    default:
        break;
    }
    return 0;
}
