/* The one "Name: text" dialogue line splitter, shared by the Markdown parser
 * (<dialogue> blocks) and the speech script parser, so that a lesson whose
 * dialogue parses is also one the speech request accepts. */
#include <string.h>

#include "core/util.h"

/* ASCII white space or the ideographic space U+3000 ending at / starting at s. */
static size_t space_at(const char *s, size_t n)
{
    if (n >= 1 && strchr(" \t\r\n\v\f", s[0]) && s[0])
        return 1;
    if (n >= 3 && memcmp(s, "\xE3\x80\x80", 3) == 0)
        return 3;
    return 0;
}

static const char *trim(const char *s, size_t *len)
{
    size_t n = *len, w;
    while ((w = space_at(s, n)) != 0) {
        s += w;
        n -= w;
    }
    for (;;) {
        if (n >= 1 && space_at(s + n - 1, 1))
            n--;
        else if (n >= 3 && space_at(s + n - 3, 3) == 3)
            n -= 3;
        else
            break;
    }
    *len = n;
    return s;
}

/* The first ':' or '：' (U+FF1A) in s[0..len): its offset (or len) and width. */
static size_t find_colon(const char *s, size_t len, size_t *width)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':') {
            *width = 1;
            return i;
        }
        if (i + 3 <= len && memcmp(s + i, "\xEF\xBC\x9A", 3) == 0) {
            *width = 3;
            return i;
        }
    }
    return len;
}

int core_dialogue_split(const char *line, size_t len, struct core_dialogue_line *out)
{
    size_t w = 0, at;

    memset(out, 0, sizeof *out);
    line = trim(line, &len);
    at = find_colon(line, len, &w);
    if (at == len)
        return CORE_DIALOGUE_NO_NAME;
    out->name_len = at;
    out->name = trim(line, &out->name_len);
    out->text_len = len - at - w;
    out->text = trim(line + at + w, &out->text_len);
    if (out->name_len == 0)
        return CORE_DIALOGUE_EMPTY_NAME;
    if (out->name_len > CORE_DIALOGUE_MAX_NAME)
        return CORE_DIALOGUE_LONG_NAME;
    if (out->text_len == 0)
        return CORE_DIALOGUE_EMPTY_TEXT;
    return CORE_DIALOGUE_OK;
}
