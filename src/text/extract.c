/* Vocabulary extraction: tokenize Japanese text line by line, keep content
 * words by their dictionary form, count them, and attach the reading of the
 * dictionary form and its first EDICT gloss. Also formats the result as TSV
 * for `wordbank propagate`.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "text/edict_internal.h"
#include "text/text_internal.h"
#include "wordbank/text.h"

#define EXTRACT_TEXT_MAX ((size_t)64 << 20)
#define CHUNK_MAX        32768

struct counter {
    struct wb_extract_item *items;
    size_t n, cap;
    size_t *slots; /* open addressing: item index + 1, 0 = empty */
    size_t n_slots;
    size_t pos; /* tokens seen so far */
};

static int excluded(const struct wb_token *k)
{
    static const char *const pos[] = { "助詞",     "助動詞", "記号",  "接頭詞",
                                       "フィラー", "その他", "連体詞" };
    static const char *const detail[] = { "非自立", "接尾", "数", "代名詞" };

    for (size_t i = 0; i < sizeof pos / sizeof *pos; i++)
        if (strcmp(k->pos, pos[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof detail / sizeof *detail; i++)
        if (strcmp(k->pos_detail, detail[i]) == 0)
            return 1;
    if (strcmp(k->pos, "動詞") == 0 && strcmp(k->base, "する") == 0)
        return 1;
    /* Only Japanese words: ASCII words and numbers are not vocabulary here. */
    return !wb_text_has_kanji(k->base) && !wb_text_is_kana(k->base);
}

static size_t hash_str(const char *s)
{
    size_t h = 1469598103934665603ull;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 1099511628211ull;
    return h;
}

static int counter_grow(struct counter *c)
{
    size_t ns = c->n_slots ? c->n_slots * 2 : 256;
    size_t *slots = calloc(ns, sizeof *slots);

    if (!slots)
        return WB_ENOMEM;
    for (size_t i = 0; i < c->n; i++) {
        size_t h = hash_str(c->items[i].base) & (ns - 1);
        while (slots[h])
            h = (h + 1) & (ns - 1);
        slots[h] = i + 1;
    }
    free(c->slots);
    c->slots = slots;
    c->n_slots = ns;
    return 0;
}

static int counter_add(struct counter *c, const struct wb_token *k)
{
    size_t h;

    if ((c->n + 1) * 2 > c->n_slots && counter_grow(c) != 0)
        return WB_ENOMEM;
    h = hash_str(k->base) & (c->n_slots - 1);
    while (c->slots[h]) {
        struct wb_extract_item *it = &c->items[c->slots[h] - 1];
        if (strcmp(it->base, k->base) == 0) {
            it->count++;
            return 0;
        }
        h = (h + 1) & (c->n_slots - 1);
    }
    if (CORE_ARRAY_RESERVE(c->items, c->n, c->cap, 1, 0) != 0)
        return WB_ENOMEM;
    struct wb_extract_item *it = &c->items[c->n];
    memset(it, 0, sizeof *it);
    it->base = strdup(k->base);
    it->pos = strdup(k->pos);
    it->count = 1;
    it->first = c->pos;
    c->n++;
    if (!it->base || !it->pos)
        return WB_ENOMEM;
    c->slots[h] = c->n;
    return 0;
}

static int count_chunk(struct wb_text *t, struct counter *c, const char *s, struct wb_error *err)
{
    struct wb_token *toks = NULL;
    size_t n = 0;
    int rc = wb_text_tokenize(t, s, &toks, &n, err);

    for (size_t i = 0; i < n && rc == 0; i++, c->pos++)
        if (!excluded(&toks[i]))
            rc = counter_add(c, &toks[i]);
    if (rc == WB_ENOMEM)
        wb_error_set(err, rc, "out of memory");
    wb_tokens_free(toks, n);
    return rc;
}

/* Split at newlines; an overlong line is cut after a 。 or at a character
 * boundary, so MeCab never sees more than CHUNK_MAX bytes. */
static int count_text(struct wb_text *t, struct counter *c, const char *text, size_t len,
                      struct wb_error *err)
{
    struct wb_buf chunk;
    size_t i = 0;
    int rc = 0;

    wb_buf_init(&chunk, 0);
    while (i < len && rc == 0) {
        const char *nl = memchr(text + i, '\n', len - i);
        size_t l = (size_t)((nl ? nl : text + len) - (text + i)), skip = nl != NULL;
        if (l > CHUNK_MAX) {
            size_t cut = CHUNK_MAX;
            const char *maru = NULL;
            for (size_t j = CHUNK_MAX / 2; j + 3 <= CHUNK_MAX; j++)
                if (memcmp(text + i + j, "\xe3\x80\x82", 3) == 0)
                    maru = text + i + j + 3;
            if (maru)
                cut = (size_t)(maru - (text + i));
            while (cut > 0 && ((unsigned char)text[i + cut] & 0xC0) == 0x80)
                cut--;
            l = cut ? cut : CHUNK_MAX;
            skip = 0;
        }
        wb_buf_reset(&chunk);
        if ((rc = wb_buf_append(&chunk, text + i, l)) != 0) {
            wb_error_set(err, rc, "out of memory");
            break;
        }
        if (memchr(chunk.data, '\0', chunk.len)) {
            rc = wb_error_set(err, WB_EINVAL, "text contains NUL bytes");
            break;
        }
        if (l > 0)
            rc = count_chunk(t, c, chunk.data, err);
        i += l + skip;
    }
    wb_buf_release(&chunk);
    return rc;
}

/* The first gloss without its parenthesised notes: "cat (esp. ...)" -> "cat". */
static char *clean_gloss(const char *g)
{
    struct wb_buf b;
    int depth = 0;

    wb_buf_init(&b, 0);
    for (const char *p = g; *p; p++) {
        if (*p == '(')
            depth++;
        else if (*p == ')')
            depth -= depth > 0;
        else if (depth == 0 && !(*p == ' ' && (b.len == 0 || b.data[b.len - 1] == ' ')) &&
                 wb_buf_appendc(&b, *p) != 0)
            break;
    }
    while (b.len > 0 && b.data[b.len - 1] == ' ')
        b.data[--b.len] = '\0';
    if (b.len == 0) {
        wb_buf_release(&b);
        return strdup(g);
    }
    return wb_buf_detach(&b, NULL);
}

static int annotate(struct wb_text *t, struct wb_edict *d, struct wb_extract_item *it,
                    struct wb_error *err)
{
    struct wb_buf r;
    struct wb_edict_entry *e = NULL;
    size_t n = 0, ei, si;
    int rc;

    wb_buf_init(&r, 0);
    if ((rc = wb_text_reading(t, it->base, &r, err)) != 0)
        goto out;
    if (!(it->reading = wb_buf_detach(&r, NULL))) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if (!d)
        goto out;
    if ((rc = wb_edict_lookup(d, it->base, &e, &n, NULL)) != 0) {
        /* Not in EDICT: no gloss; out of memory is an error. */
        rc = rc == WB_ENOMEM ? wb_error_set(err, rc, "out of memory") : 0;
        goto out;
    }
    if (edict_pick(e, n, NULL, NULL, it->reading, &ei, &si) < 0) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if (e[ei].senses[si].n_glosses > 0 && !(it->gloss = clean_gloss(e[ei].senses[si].glosses[0])))
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
out:
    wb_edict_entries_free(e, n);
    wb_buf_release(&r);
    return rc;
}

static int cmp_items(const void *a, const void *b)
{
    const struct wb_extract_item *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

int wb_extract(struct wb_text *t, struct wb_edict *d, const char *text, size_t len,
               struct wb_extract_item **items, size_t *n, struct wb_error *err)
{
    struct counter c;
    int rc = 0;

    memset(&c, 0, sizeof c);
    *items = NULL;
    *n = 0;
    if (len > EXTRACT_TEXT_MAX) {
        rc = wb_error_set(err, WB_ETOOBIG, "text too long to extract (%zu bytes, max %zu)", len,
                          EXTRACT_TEXT_MAX);
        goto out;
    }
    if ((rc = count_text(t, &c, text, len, err)) != 0)
        goto out;
    for (size_t i = 0; i < c.n && rc == 0; i++)
        rc = annotate(t, d, &c.items[i], err);
    if (rc)
        goto out;
    if (c.n)
        qsort(c.items, c.n, sizeof *c.items, cmp_items);
    *items = c.items;
    *n = c.n;
    c.items = NULL;
    c.n = 0;
out:
    wb_extract_items_free(c.items, c.n);
    free(c.slots);
    return rc;
}

void wb_extract_items_free(struct wb_extract_item *items, size_t n)
{
    if (!items)
        return;
    for (size_t i = 0; i < n; i++) {
        free(items[i].base);
        free(items[i].reading);
        free(items[i].pos);
        free(items[i].gloss);
    }
    free(items);
}

/* A TSV field: tabs and line breaks become spaces. */
static int append_field(struct wb_buf *out, const char *s)
{
    int rc = 0;
    for (; s && *s && rc == 0; s++)
        rc = wb_buf_appendc(out, (*s == '\t' || *s == '\n' || *s == '\r') ? ' ' : *s);
    return rc;
}

int wb_extract_format_tsv(const struct wb_extract_item *items, size_t n, struct wb_buf *out)
{
    int rc = 0;

    for (size_t i = 0; i < n && rc == 0; i++) {
        const struct wb_extract_item *it = &items[i];
        if ((rc = append_field(out, it->base)) || (rc = wb_buf_appendc(out, '\t')) ||
            (rc = append_field(out, it->gloss)) || (rc = wb_buf_appends(out, "\t# ")) ||
            (rc = append_field(out, it->reading)) || (rc = wb_buf_appends(out, "; ")) ||
            (rc = append_field(out, it->pos)))
            break;
        rc = wb_buf_appendf(out, "; count %zu\n", it->count);
    }
    return rc;
}
