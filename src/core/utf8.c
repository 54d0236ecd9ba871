/* The one UTF-8 decoder (RFC 3629, strict) and the one kana folding table. */
#include "core/util.h"

int core_utf8_decode(const void *str, size_t len, uint32_t *cp)
{
    const unsigned char *s = str;
    uint32_t v;
    int n;

    *cp = 0xFFFD;
    if (len == 0)
        return 0;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    if (s[0] >= 0xC2 && s[0] <= 0xDF) {
        n = 2;
        v = s[0] & 0x1F;
    } else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
        n = 3;
        v = s[0] & 0x0F;
    } else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
        n = 4;
        v = s[0] & 0x07;
    } else {
        return 0; /* a continuation byte, C0/C1 (always overlong) or F5..FF */
    }
    if (len < (size_t)n)
        return 0;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    /* Overlong forms, UTF-16 surrogate halves and code points past U+10FFFF. */
    if ((n == 3 && v < 0x800) || (n == 4 && (v < 0x10000 || v > 0x10FFFF)) ||
        (v >= 0xD800 && v <= 0xDFFF))
        return 0;
    *cp = v;
    return n;
}

int core_utf8_valid(const void *str, size_t len)
{
    const unsigned char *s = str;
    uint32_t cp;
    while (len > 0) {
        int n = core_utf8_decode(s, len, &cp);
        if (n == 0)
            return 0;
        s += n;
        len -= (size_t)n;
    }
    return 1;
}

int core_utf8_clean(struct wb_buf *out, const void *str, size_t len)
{
    const unsigned char *s = str;
    uint32_t cp;
    int rc = 0;
    while (len > 0 && rc == 0) {
        int n = core_utf8_decode(s, len, &cp);
        rc = n ? wb_buf_append(out, s, (size_t)n) : wb_buf_appends(out, "\xEF\xBF\xBD");
        n = n ? n : 1;
        s += n;
        len -= (size_t)n;
    }
    return rc;
}

uint32_t core_kana_to_hiragana(uint32_t cp)
{
    /* ァ..ヶ -> ぁ..ゖ, and the iteration marks ヽ ヾ -> ゝ ゞ. */
    if ((cp >= 0x30A1 && cp <= 0x30F6) || cp == 0x30FD || cp == 0x30FE)
        return cp - 0x60;
    return cp;
}

uint32_t core_kana_to_katakana(uint32_t cp)
{
    if ((cp >= 0x3041 && cp <= 0x3096) || cp == 0x309D || cp == 0x309E)
        return cp + 0x60;
    return cp;
}
