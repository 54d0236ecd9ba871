/* Readings as written: the kana of a word stays as the word writes it
 * (メモ帳 -> メモちょう, not めもちょう) and only the kanji get a reading, and
 * the check of a reading someone else (a model) gave against EDICT: the
 * dictionary's reading of the sense that matches the translation and context
 * wins over a reading EDICT does not know for this word.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "text/edict_internal.h"
#include "text/text_internal.h"
#include "wordbank/text.h"

#define ALIGN_MAX_WORD    64
#define ALIGN_MAX_READING 192

struct align {
    int32_t w[ALIGN_MAX_WORD], r[ALIGN_MAX_READING];
    size_t nw, nr;
    struct {
        size_t first, count, rt, rt_len;
        int kana;
    } seg[ALIGN_MAX_WORD];
    size_t nseg;
    unsigned steps;
};

static int is_kana_cp(int32_t c)
{
    return (c >= 0x3041 && c <= 0x3096) || (c >= 0x309D && c <= 0x309F) ||
           (c >= 0x30A1 && c <= 0x30FA) || (c >= 0x30FC && c <= 0x30FF);
}

static int is_kanji_cp(int32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x323AF) || c == 0x3005;
}

static int32_t hira(int32_t c)
{
    return (c >= 0x30A1 && c <= 0x30F6) || c == 0x30FD || c == 0x30FE ? c - 0x60 : c;
}

/* Decode s into at most max code points; 0 when it does not fit or is invalid. */
static size_t decode(const char *s, int32_t *out, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), k = 0;

    while (n > 0) {
        int32_t cp;
        int len = text_utf8_decode(p, n, &cp);
        if (cp < 0 || k == max)
            return 0;
        out[k++] = cp;
        p += len;
        n -= (size_t)len;
    }
    return k;
}

/* Does segment si onward match the reading from rp on? Kana runs match
 * literally (katakana and hiragana alike); other runs take one or more
 * reading characters, shortest first. The step budget bounds pathological
 * inputs. */
static int match(struct align *a, size_t si, size_t rp)
{
    if (++a->steps > 100000)
        return 0;
    if (si == a->nseg)
        return rp == a->nr;
    if (a->seg[si].kana) {
        size_t c = a->seg[si].count;
        if (rp + c > a->nr)
            return 0;
        for (size_t i = 0; i < c; i++)
            if (hira(a->w[a->seg[si].first + i]) != hira(a->r[rp + i]))
                return 0;
        return match(a, si + 1, rp + c);
    }
    for (size_t take = 1; rp + take <= a->nr; take++) {
        a->seg[si].rt = rp;
        a->seg[si].rt_len = take;
        if (match(a, si + 1, rp + take))
            return 1;
    }
    return 0;
}

/* keep_script: kanji runs keep the reading's own script (EDICT writes the
 * readings of ateji in katakana: 伯剌西爾 [ブラジル]); else hiragana. */
static int as_written(const char *word, const char *reading, int keep_script, struct wb_buf *out)
{
    struct align *a = NULL;
    int rc = 0;

    if (!reading || !*reading)
        return 0;
    if (!word || !(a = calloc(1, sizeof *a)))
        return word ? WB_ENOMEM : wb_buf_appends(out, reading);
    a->nw = decode(word, a->w, ALIGN_MAX_WORD);
    a->nr = decode(reading, a->r, ALIGN_MAX_READING);
    if (a->nw == 0 || a->nr == 0)
        goto as_given;
    for (size_t i = 0; i < a->nw; i++) {
        int k = is_kana_cp(a->w[i]);
        if (a->nseg == 0 || a->seg[a->nseg - 1].kana != k) {
            a->seg[a->nseg].first = i;
            a->seg[a->nseg].count = 0;
            a->seg[a->nseg].kana = k;
            a->nseg++;
        }
        a->seg[a->nseg - 1].count++;
    }
    if (!match(a, 0, 0))
        goto as_given;
    for (size_t s = 0; s < a->nseg && rc == 0; s++) {
        int kanji = 0;
        if (a->seg[s].kana) {
            for (size_t i = 0; i < a->seg[s].count && rc == 0; i++)
                rc = core_utf8_put(out, (uint32_t)a->w[a->seg[s].first + i]);
            continue;
        }
        for (size_t i = 0; i < a->seg[s].count; i++)
            kanji |= is_kanji_cp(a->w[a->seg[s].first + i]);
        /* Furigana over kanji is hiragana; other runs (Ｔ in Ｔシャツ) keep
         * the reading's own script. */
        for (size_t i = 0; i < a->seg[s].rt_len && rc == 0; i++) {
            int32_t c = a->r[a->seg[s].rt + i];
            rc = core_utf8_put(out, (uint32_t)(kanji && !keep_script ? hira(c) : c));
        }
    }
    free(a);
    return rc;
as_given:
    free(a);
    return wb_buf_appends(out, reading);
}

int wb_text_reading_as_written(const char *word, const char *reading, struct wb_buf *out)
{
    return as_written(word, reading, 0, out);
}

/* EDICT entries whose headword is word itself (a lookup falls back to
 * readings; those do not say how this spelling is read). */
static size_t keep_headword(struct wb_edict_entry *e, size_t n, const char *word)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(e[i].headword, word) == 0) {
            struct wb_edict_entry tmp = e[k];
            e[k++] = e[i];
            e[i] = tmp;
        }
    }
    return k;
}

/* Kana (and ー, spaces, the middle dot) only. */
static int kana_reading(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (n > 0) {
        int32_t c;
        int len = text_utf8_decode(p, n, &c);
        if (!is_kana_cp(c) && c != ' ' && c != 0x3000 && c != 0x30FB)
            return 0;
        p += len;
        n -= (size_t)len;
    }
    return 1;
}

static int fold(const char *s, struct wb_buf *out)
{
    wb_buf_reset(out);
    return wb_kana_to_hiragana(s ? s : "", out);
}

int wb_text_check_reading(struct wb_text *t, struct wb_edict *d, const char *word,
                          const char *translation, const char *context, const char *given,
                          struct wb_buf *out, int *verdict, struct wb_error *err)
{
    struct wb_edict_entry *e = NULL;
    struct wb_buf g, h, mecab;
    const char *chosen = NULL;
    size_t n = 0, keep = 0, ei = 0, si = 0;
    int rc = 0;

    wb_buf_init(&g, 0);
    wb_buf_init(&h, 0);
    wb_buf_init(&mecab, 0);
    *verdict = WB_READING_CONFIRMED;
    if (!word || !*word)
        return wb_error_set(err, WB_EINVAL, "no word to read");
    if ((rc = fold(given, &g)) != 0)
        goto oom;
    /* A word in kana reads as it is written. */
    if (wb_text_is_kana(word)) {
        if ((rc = fold(word, &h)) != 0)
            goto oom;
        if (g.len && strcmp(g.data, h.data) != 0)
            *verdict = WB_READING_CORRECTED;
        else if (!g.len)
            *verdict = WB_READING_FILLED;
        rc = wb_buf_appends(out, word) ? WB_ENOMEM : 0;
        goto done;
    }
    if (d) {
        struct wb_error lerr = { 0 };
        rc = wb_edict_lookup(d, word, &e, &n, &lerr);
        /* A damaged index (logged once, rebuilt next run) leaves MeCab. */
        if (rc && rc != WB_ENOTFOUND && rc != WB_EINVAL && rc != WB_ECORRUPT) {
            if (err)
                *err = lerr;
            goto done;
        }
        rc = 0;
        keep = keep_headword(e, n, word);
    }
    if (keep > 0) {
        if (edict_pick(e, keep, translation, context, NULL, &ei, &si) < 0)
            goto oom;
        chosen = e[ei].reading ? e[ei].reading : e[ei].headword;
        if (!g.len) {
            *verdict = WB_READING_FILLED;
        } else if ((rc = fold(chosen, &h)) != 0) {
            goto oom;
        } else if (strcmp(h.data, g.data) != 0) {
            /* The given reading stands when EDICT has it for this word and it
             * fits the translation as well as the one we would choose. */
            int stands = edict_reading_fits(e, keep, g.data, translation, context, ei, si);
            if (stands < 0)
                goto oom;
            if (!stands)
                *verdict = WB_READING_CORRECTED;
            /* The given reading as EDICT writes it. */
            for (size_t i = 0; stands && i < keep; i++) {
                const char *r = e[i].reading ? e[i].reading : e[i].headword;
                if ((rc = fold(r, &h)) != 0)
                    goto oom;
                if (strcmp(h.data, g.data) == 0) {
                    chosen = r;
                    break;
                }
            }
        }
    } else {
        /* Not in EDICT: MeCab's reading fills in; a given one that differs
         * is kept but flagged. */
        if ((rc = wb_text_reading(t, word, &mecab, err)) != 0)
            goto done;
        if (!g.len) {
            chosen = mecab.data;
            *verdict = WB_READING_FILLED;
        } else if (!kana_reading(g.data)) {
            /* A "reading" with kanji or letters in it is no reading. */
            chosen = mecab.data;
            *verdict = WB_READING_CORRECTED;
        } else {
            chosen = given;
            if ((rc = fold(mecab.data, &h)) != 0)
                goto oom;
            if (strcmp(h.data, g.data) != 0)
                *verdict = WB_READING_UNVERIFIED;
        }
    }
    /* A dictionary reading keeps its script over kanji; MeCab's and a
     * provider's unchecked ones are hiragana there. */
    if (chosen && *chosen && (rc = as_written(word, chosen, keep > 0, out)) != 0)
        goto oom;
    goto done;
oom:
    rc = wb_error_set(err, WB_ENOMEM, "out of memory");
done:
    wb_edict_entries_free(e, n);
    wb_buf_release(&g);
    wb_buf_release(&h);
    wb_buf_release(&mecab);
    return rc;
}
