/* Character-level helpers of the content module: UTF-8 decoding without
 * trusting the input, kana classification and folding, HTML and URL escaping,
 * whitespace trimming, and furigana alignment (食べる + たべる ->
 * <ruby>食<rt>た</rt></ruby>べる) with a memoised backtracking matcher.
 */
#include <stdlib.h>
#include <string.h>

#include "content/content_int.h"
#include "core/util.h"

uint32_t content_utf8_next(const char *str, size_t len, size_t *used)
{
    uint32_t cp;
    int n = core_utf8_decode(str, len, &cp);
    *used = n ? (size_t)n : 1;
    return cp;
}

int content_utf8_valid(const char *s, size_t len)
{
    return core_utf8_valid(s, len);
}

int content_utf8_clean(struct wb_buf *out, const char *s, size_t len)
{
    return core_utf8_clean(out, s, len);
}

int content_is_kana(uint32_t cp)
{
    /* Hiragana, katakana (without ヵ ヶ, which read like kanji: 一ヶ月) and ー. */
    return (cp >= 0x3041 && cp <= 0x3096) || (cp >= 0x309D && cp <= 0x309F) ||
           (cp >= 0x30A1 && cp <= 0x30F4) || (cp >= 0x30F7 && cp <= 0x30FA) ||
           (cp >= 0x30FC && cp <= 0x30FF);
}

int content_is_kanji(uint32_t cp)
{
    return (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0x20000 && cp <= 0x3134F) ||
           (cp >= 0x3005 && cp <= 0x3007) || cp == 0x30F5 || cp == 0x30F6;
}

uint32_t content_to_hiragana(uint32_t cp)
{
    /* Not ヵ ヶ (U+30F5, U+30F6): they read like kanji (一ヶ月 いっかげつ). */
    return content_is_kanji(cp) ? cp : core_kana_to_hiragana(cp);
}

int content_hiragana(struct wb_buf *out, const char *s)
{
    size_t len = strlen(s), i = 0, used;
    int rc = 0;

    while (i < len && rc == 0) {
        uint32_t cp = content_utf8_next(s + i, len - i, &used);
        rc = core_utf8_put(out, content_to_hiragana(cp));
        i += used;
    }
    return rc;
}

int content_escn(struct wb_buf *out, const char *s, size_t len)
{
    size_t i = 0, used;
    int rc = 0;

    while (i < len && rc == 0) {
        uint32_t cp = content_utf8_next(s + i, len - i, &used);
        switch (cp) {
        case '&':
            rc = wb_buf_appends(out, "&amp;");
            break;
        case '<':
            rc = wb_buf_appends(out, "&lt;");
            break;
        case '>':
            rc = wb_buf_appends(out, "&gt;");
            break;
        case '"':
            rc = wb_buf_appends(out, "&quot;");
            break;
        case '\'':
            rc = wb_buf_appends(out, "&#39;");
            break;
        case '\n':
            rc = wb_buf_appends(out, "&#10;");
            break;
        case '\t':
            rc = wb_buf_appendc(out, '\t');
            break;
        default:
            if (cp < 0x20 || cp == 0x7F)
                break; /* CR and other controls: dropped */
            if (cp == 0xFFFD && used == 1)
                rc = core_utf8_put(out, 0xFFFD);
            else
                rc = wb_buf_append(out, s + i, used);
        }
        i += used;
    }
    return rc;
}

int content_esc(struct wb_buf *out, const char *s)
{
    return s ? content_escn(out, s, strlen(s)) : 0;
}

int content_url_path(struct wb_buf *out, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    int rc = 0;

    for (const unsigned char *p = (const unsigned char *)s; *p && rc == 0; p++) {
        unsigned c = *p;
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
            c == '-' || c == '_' || c == '.' || c == '~' || c == '/')
            rc = wb_buf_appendc(out, (char)c);
        else
            rc = wb_buf_appendf(out, "%%%c%c", hex[c >> 4], hex[c & 15]);
    }
    return rc;
}

static int is_space_at(const char *s, size_t len, size_t *w)
{
    if (len >= 1 && (s[0] == ' ' || s[0] == '\t' || s[0] == '\r' || s[0] == '\n' || s[0] == '\v' ||
                     s[0] == '\f')) {
        *w = 1;
        return 1;
    }
    if (len >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0) {
        *w = 3;
        return 1;
    }
    return 0;
}

const char *content_trim(const char *s, size_t *len)
{
    size_t n = *len, w;

    while (n > 0 && is_space_at(s, n, &w)) {
        s += w;
        n -= w;
    }
    for (;;) {
        if (n >= 1 && is_space_at(s + n - 1, 1, &w))
            n--;
        else if (n >= 3 && memcmp(s + n - 3, "\xe3\x80\x80", 3) == 0)
            n -= 3;
        else
            break;
    }
    *len = n;
    return s;
}

char *content_norm_ws(const char *s)
{
    struct wb_buf b;
    size_t len = s ? strlen(s) : 0, w;
    int space = 0;

    wb_buf_init(&b, 0);
    s = content_trim(s ? s : "", &len);
    for (size_t i = 0; i < len;) {
        if (is_space_at(s + i, len - i, &w)) {
            space = 1;
            i += w;
            continue;
        }
        if (space && wb_buf_appendc(&b, ' ') < 0)
            goto fail;
        space = 0;
        if (wb_buf_appendc(&b, s[i]) < 0)
            goto fail;
        i++;
    }
    return wb_buf_detach(&b, NULL);
fail:
    wb_buf_release(&b);
    return NULL;
}

/* ---- furigana ------------------------------------------------------------- */

#define RUBY_MAX_WORD    64
#define RUBY_MAX_READING 128

struct ruby_seg {
    size_t first, count; /* code points of the word */
    int kana;
    size_t rt, rt_len; /* the reading's code points assigned to a kanji run */
};

struct ruby_match {
    uint32_t w[RUBY_MAX_WORD];    /* word, hiragana-folded */
    uint32_t r[RUBY_MAX_READING]; /* reading, hiragana-folded */
    size_t nw, nr;
    struct ruby_seg seg[RUBY_MAX_WORD];
    size_t nseg;
    unsigned char failed[RUBY_MAX_WORD + 1][RUBY_MAX_READING + 1];
};

/* Does segment si onward match the reading from rp on? Kana runs must match
 * literally; each other run takes one or more reading characters, shortest
 * first. Dead ends are remembered so the search stays polynomial. */
static int ruby_align(struct ruby_match *m, size_t si, size_t rp)
{
    struct ruby_seg *sg;

    if (si == m->nseg)
        return rp == m->nr;
    if (m->failed[si][rp])
        return 0;
    sg = &m->seg[si];
    if (sg->kana) {
        if (rp + sg->count <= m->nr &&
            memcmp(&m->w[sg->first], &m->r[rp], sg->count * sizeof(uint32_t)) == 0 &&
            ruby_align(m, si + 1, rp + sg->count))
            return 1;
    } else {
        for (size_t k = 1; rp + k <= m->nr; k++) {
            if (ruby_align(m, si + 1, rp + k)) {
                sg->rt = rp;
                sg->rt_len = k;
                return 1;
            }
        }
    }
    m->failed[si][rp] = 1;
    return 0;
}

static int put_cps(struct wb_buf *out, const uint32_t *cp, size_t n)
{
    struct wb_buf tmp;
    int rc = 0;

    wb_buf_init(&tmp, 0);
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = core_utf8_put(&tmp, cp[i]);
    if (rc == 0)
        rc = content_escn(out, tmp.data, tmp.len);
    wb_buf_release(&tmp);
    return rc;
}

/* The reading folded to hiragana, escaped. */
static int put_hira(struct wb_buf *out, const char *s, size_t len)
{
    struct wb_buf tmp;
    size_t used;
    int rc = 0;

    wb_buf_init(&tmp, 0);
    for (size_t i = 0; i < len && rc == 0; i += used)
        rc = core_utf8_put(&tmp, content_to_hiragana(content_utf8_next(s + i, len - i, &used)));
    if (rc == 0)
        rc = content_escn(out, tmp.data, tmp.len);
    wb_buf_release(&tmp);
    return rc;
}

int content_ruby(struct wb_buf *out, const char *word, const char *reading, int *aligned)
{
    struct ruby_match *m = NULL;
    size_t wlen = word ? strlen(word) : 0, rlen = reading ? strlen(reading) : 0;
    size_t off[RUBY_MAX_WORD + 1], i, used;
    int kanji = 0, same = 1, rc = 0;

    if (aligned)
        *aligned = 0;
    if (!word)
        return 0;
    reading = reading ? content_trim(reading, &rlen) : NULL;
    /* Does the word have kanji at all? */
    for (i = 0; i < wlen; i += used)
        if (content_is_kanji(content_utf8_next(word + i, wlen - i, &used)))
            kanji = 1;
    if (!kanji || rlen == 0)
        return content_esc(out, word);

    m = calloc(1, sizeof(*m));
    if (!m)
        return WB_ENOMEM;
    for (i = 0; i < wlen && m->nw < RUBY_MAX_WORD; i += used) {
        off[m->nw] = i;
        m->w[m->nw++] = content_to_hiragana(content_utf8_next(word + i, wlen - i, &used));
    }
    off[m->nw] = i;
    for (size_t j = 0; j < rlen && m->nr < RUBY_MAX_READING; j += used)
        m->r[m->nr++] = content_to_hiragana(content_utf8_next(reading + j, rlen - j, &used));
    if (i < wlen || m->nr == RUBY_MAX_READING)
        goto whole; /* too long to align */
    if (m->nw == m->nr)
        same = memcmp(m->w, m->r, m->nw * sizeof(uint32_t)) == 0;
    else
        same = 0;
    if (same) {
        rc = content_esc(out, word);
        goto out;
    }
    /* Runs of kana and of everything else. */
    for (i = 0; i < m->nw; i++) {
        int k = content_is_kana(m->w[i]);
        if (m->nseg == 0 || m->seg[m->nseg - 1].kana != k) {
            m->seg[m->nseg].first = i;
            m->seg[m->nseg].count = 0;
            m->seg[m->nseg].kana = k;
            m->nseg++;
        }
        m->seg[m->nseg - 1].count++;
    }
    if (!ruby_align(m, 0, 0))
        goto whole;
    for (i = 0; i < m->nseg && rc == 0; i++) {
        struct ruby_seg *sg = &m->seg[i];
        const char *from = word + off[sg->first];
        size_t n = off[sg->first + sg->count] - off[sg->first];
        if (sg->kana) {
            rc = content_escn(out, from, n);
            continue;
        }
        if ((rc = wb_buf_appends(out, "<ruby>")) < 0 || (rc = content_escn(out, from, n)) < 0 ||
            (rc = wb_buf_appends(out, "<rt>")) < 0 ||
            (rc = put_cps(out, &m->r[sg->rt], sg->rt_len)) < 0)
            break;
        rc = wb_buf_appends(out, "</rt></ruby>");
    }
    if (aligned && rc == 0)
        *aligned = 1;
    goto out;
whole:
    if ((rc = wb_buf_appends(out, "<ruby>")) == 0 && (rc = content_esc(out, word)) == 0 &&
        (rc = wb_buf_appends(out, "<rt>")) == 0 && (rc = put_hira(out, reading, rlen)) == 0)
        rc = wb_buf_appends(out, "</rt></ruby>");
    if (aligned && rc == 0)
        *aligned = 2;
out:
    free(m);
    return rc;
}
