/* Kana and width conversions on UTF-8 strings: katakana <-> hiragana, folding
 * full-width ASCII and half-width katakana to their usual forms, and the kanji
 * and kana tests the rest of the module uses to decide what needs a reading.
 * Pure functions over code points; invalid UTF-8 bytes pass through unchanged.
 */
#include <string.h>

#include "core/util.h"
#include "text/text_internal.h"
#include "wordbank/text.h"

int text_utf8_decode(const unsigned char *s, size_t n, int32_t *cp)
{
    uint32_t c;
    int len = core_utf8_decode(s, n, &c);
    *cp = len ? (int32_t)c : -1;
    return len ? len : 1;
}

/* Map every code point of in through fn; invalid bytes are copied as they are. */
static int map_cps(const char *in, struct wb_buf *out, int32_t (*fn)(int32_t))
{
    const unsigned char *p = (const unsigned char *)in;
    size_t n = strlen(in);
    int rc = 0;

    while (n > 0 && rc == 0) {
        int32_t cp;
        int len = text_utf8_decode(p, n, &cp);
        rc = cp < 0 ? wb_buf_append(out, p, (size_t)len) : core_utf8_put(out, fn(cp));
        p += len;
        n -= (size_t)len;
    }
    return rc;
}

static int32_t to_hiragana(int32_t cp)
{
    return (int32_t)core_kana_to_hiragana((uint32_t)cp);
}

static int32_t to_katakana(int32_t cp)
{
    return (int32_t)core_kana_to_katakana((uint32_t)cp);
}

int wb_kana_to_hiragana(const char *in, struct wb_buf *out)
{
    return map_cps(in, out, to_hiragana);
}

int wb_kana_to_katakana(const char *in, struct wb_buf *out)
{
    return map_cps(in, out, to_katakana);
}

/* Half-width katakana U+FF61..U+FF9F in order, as full-width code points. */
static const uint16_t halfwidth_kana[] = {
    0x3002, 0x300C, 0x300D, 0x3001, 0x30FB, 0x30F2, 0x30A1, 0x30A3, 0x30A5, 0x30A7, 0x30A9,
    0x30E3, 0x30E5, 0x30E7, 0x30C3, 0x30FC, 0x30A2, 0x30A4, 0x30A6, 0x30A8, 0x30AA, 0x30AB,
    0x30AD, 0x30AF, 0x30B1, 0x30B3, 0x30B5, 0x30B7, 0x30B9, 0x30BB, 0x30BD, 0x30BF, 0x30C1,
    0x30C4, 0x30C6, 0x30C8, 0x30CA, 0x30CB, 0x30CC, 0x30CD, 0x30CE, 0x30CF, 0x30D2, 0x30D5,
    0x30D8, 0x30DB, 0x30DE, 0x30DF, 0x30E0, 0x30E1, 0x30E2, 0x30E4, 0x30E6, 0x30E8, 0x30E9,
    0x30EA, 0x30EB, 0x30EC, 0x30ED, 0x30EF, 0x30F3, 0x309B, 0x309C,
};

/* The kana with a voiced (dakuten, mark 1) or semi-voiced (handakuten, mark 2)
 * mark, or 0 when that combination does not exist. */
static int32_t compose_mark(int32_t base, int mark)
{
    int kg = (base >= 0x30AB && base <= 0x30C2 && (base - 0x30AB) % 2 == 0) || base == 0x30C4 ||
             base == 0x30C6 || base == 0x30C8;
    int hb = base >= 0x30CF && base <= 0x30DB && (base - 0x30CF) % 3 == 0;

    if (mark == 1) {
        if (kg || hb)
            return base + 1;
        if (base == 0x30A6)
            return 0x30F4; /* ヴ */
        if (base == 0x30EF)
            return 0x30F7; /* ヷ */
        if (base == 0x30F2)
            return 0x30FA; /* ヺ */
    } else if (hb) {
        return base + 2;
    }
    return 0;
}

int wb_text_fold_width(const char *in, struct wb_buf *out)
{
    const unsigned char *p = (const unsigned char *)in;
    size_t n = strlen(in);
    int rc = 0;

    while (n > 0 && rc == 0) {
        int32_t cp, next = -1;
        int len = text_utf8_decode(p, n, &cp);

        if (cp < 0) {
            rc = wb_buf_append(out, p, (size_t)len);
        } else if (cp >= 0xFF01 && cp <= 0xFF5E) {
            rc = wb_buf_appendc(out, (char)(cp - 0xFEE0));
        } else if (cp == 0x3000) {
            rc = wb_buf_appendc(out, ' ');
        } else if (cp >= 0xFF61 && cp <= 0xFF9F) {
            int32_t full = halfwidth_kana[cp - 0xFF61];
            int nlen = (size_t)len < n ? text_utf8_decode(p + len, n - (size_t)len, &next) : 0;
            int32_t composed = 0;
            if (nlen > 0 && (next == 0xFF9E || next == 0xFF9F))
                composed = compose_mark(full, next == 0xFF9E ? 1 : 2);
            if (composed) {
                full = composed;
                len += nlen;
            }
            rc = core_utf8_put(out, full);
        } else {
            rc = core_utf8_put(out, cp);
        }
        p += len;
        n -= (size_t)len;
    }
    return rc;
}

static int is_kanji(int32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x323AF) || cp == 0x3005;
}

int wb_text_has_kanji(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = s ? strlen(s) : 0;

    while (n > 0) {
        int32_t cp;
        int len = text_utf8_decode(p, n, &cp);
        if (is_kanji(cp))
            return 1;
        p += len;
        n -= (size_t)len;
    }
    return 0;
}

int wb_text_is_kana(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = s ? strlen(s) : 0;

    if (n == 0)
        return 0;
    while (n > 0) {
        int32_t cp;
        int len = text_utf8_decode(p, n, &cp);
        if (!((cp >= 0x3041 && cp <= 0x309F) || (cp >= 0x30A0 && cp <= 0x30FF)))
            return 0;
        p += len;
        n -= (size_t)len;
    }
    return 1;
}
