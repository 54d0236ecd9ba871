/* The block parser: finds <wordbank> and <dialogue> blocks in a Markdown file
 * (tags alone on their line, case-insensitive, outside fenced code), parses
 * their lines, and records the byte range each block replaces so that the
 * rest of the file can be reproduced byte for byte. Also the two word-list
 * line parsers ("- word: translation (context)" and TSV) that the CLI's
 * propagate command shares. Bad lines become "FILE:LINE: reason"
 * diagnostics; nothing here fails on bad input.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "content/content_int.h"
#include "core/util.h"
#include "wordbank/entry.h"

void wb_word_item_release(struct wb_word_item *it)
{
    if (!it)
        return;
    free(it->word);
    free(it->translation);
    free(it->context);
    memset(it, 0, sizeof(*it));
}

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

/* The first ':' or '：' in s[0..len): its offset and width, or 0. */
static size_t find_colon(const char *s, size_t len, size_t *width)
{
    for (size_t i = 0; i < len; i++) {
        if (s[i] == ':') {
            *width = 1;
            return i + 1;
        }
        if (i + 3 <= len && memcmp(s + i, "\xef\xbc\x9a", 3) == 0) {
            *width = 3;
            return i + 1;
        }
    }
    return 0;
}

static int is_open(const char *s, size_t i, size_t len, size_t *w)
{
    if (s[i] == '(') {
        *w = 1;
        return 1;
    }
    if (i + 3 <= len && memcmp(s + i, "\xef\xbc\x88", 3) == 0) { /* （ */
        *w = 3;
        return 1;
    }
    return 0;
}

static int is_close(const char *s, size_t i, size_t len, size_t *w)
{
    if (s[i] == ')') {
        *w = 1;
        return 1;
    }
    if (i + 3 <= len && memcmp(s + i, "\xef\xbc\x89", 3) == 0) { /* ） */
        *w = 3;
        return 1;
    }
    return 0;
}

/* Split "translation (context)". Parentheses must balance; the context is the
 * last top-level group when it ends the text. */
static int split_context(const char *s, size_t len, struct wb_word_item *out, struct wb_error *err)
{
    size_t i, w, depth = 0, last_open = 0, tr_len, ctx_len;
    int have_last = 0, ends_group = 0;
    const char *tr, *ctx;

    for (i = 0; i < len; i += w) {
        w = 1;
        if (is_open(s, i, len, &w)) {
            if (depth == 0) {
                last_open = i;
                have_last = 1;
            }
            depth++;
        } else if (is_close(s, i, len, &w)) {
            if (depth == 0)
                return wb_error_set(err, WB_EPARSE, "unbalanced ')'");
            depth--;
            ends_group = depth == 0 && i + w == len;
        } else {
            ends_group = 0;
        }
    }
    if (depth != 0)
        return wb_error_set(err, WB_EPARSE, "unbalanced '('");
    tr_len = len;
    tr = s;
    if (have_last && ends_group) {
        size_t ow = 1;
        is_open(s, last_open, len, &ow);
        ctx = s + last_open + ow;
        /* The closing bracket's width: look at the last byte. */
        ctx_len = len - (last_open + ow) - (s[len - 1] == ')' ? 1 : 3);
        ctx = content_trim(ctx, &ctx_len);
        tr_len = last_open;
        tr = content_trim(s, &tr_len);
        if (ctx_len > 0 && !(out->context = dupn(ctx, ctx_len)))
            return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    if (tr_len == 0)
        return wb_error_set(err, WB_EPARSE, "missing translation after ':'");
    if (!(out->translation = dupn(tr, tr_len)))
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    return 0;
}

int wb_word_line_parse(const char *line, size_t len, struct wb_word_item *out, struct wb_error *err)
{
    size_t cw = 0, colon, wlen, rlen;
    const char *s, *word, *rest;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    s = content_trim(line, &len);
    if (len == 0)
        return WB_LINE_BLANK;
    if (len > WB_CONTENT_MAX_LINE)
        return wb_error_set(err, WB_EPARSE, "line too long (over %d bytes)", WB_CONTENT_MAX_LINE);
    if (!content_utf8_valid(s, len))
        return wb_error_set(err, WB_EPARSE, "invalid UTF-8");
    if (!((s[0] == '-' || s[0] == '*' || s[0] == '+') &&
          (len == 1 || s[1] == ' ' || s[1] == '\t' ||
           (len >= 4 && !memcmp(s + 1, "\xe3\x80\x80", 3)))))
        return wb_error_set(err, WB_EPARSE, "expected '- word: translation (context)'");
    s++;
    len--;
    s = content_trim(s, &len);
    colon = find_colon(s, len, &cw);
    if (colon == 0)
        return wb_error_set(err, WB_EPARSE, "missing ':' between word and translation");
    wlen = colon - 1;
    word = content_trim(s, &wlen);
    if (wlen == 0)
        return wb_error_set(err, WB_EPARSE, "missing word before ':'");
    rest = s + colon - 1 + cw;
    rlen = len - (colon - 1 + cw);
    rest = content_trim(rest, &rlen);
    if (!(out->word = dupn(word, wlen))) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = split_context(rest, rlen, out, err)) == 0 &&
        wb_entry_check(out->word, out->translation, out->context, NULL, err))
        rc = err ? (err->code = WB_EPARSE) : WB_EPARSE;
out:
    if (rc < 0)
        wb_word_item_release(out);
    return rc;
}

int wb_word_tsv_parse(const char *line, size_t len, struct wb_word_item *out, struct wb_error *err)
{
    const char *f[3], *s;
    size_t fl[3], n = 0, i, start = 0;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    /* Only the line ending is trimmed before splitting: tabs are separators. */
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    s = line;
    {
        size_t tl = len;
        content_trim(s, &tl);
        if (tl == 0)
            return WB_LINE_BLANK;
    }
    if (s[0] == '#')
        return WB_LINE_BLANK;
    if (len > WB_CONTENT_MAX_LINE)
        return wb_error_set(err, WB_EPARSE, "line too long (over %d bytes)", WB_CONTENT_MAX_LINE);
    if (!content_utf8_valid(s, len))
        return wb_error_set(err, WB_EPARSE, "invalid UTF-8");
    for (i = 0; i <= len; i++) {
        if (i == len || s[i] == '\t') {
            if (n == 3)
                return wb_error_set(err, WB_EPARSE,
                                    "too many fields (expected word<TAB>translation<TAB>context)");
            fl[n] = i - start;
            f[n] = content_trim(s + start, &fl[n]);
            n++;
            start = i + 1;
        }
    }
    if (n < 2 || fl[0] == 0 || fl[1] == 0)
        return wb_error_set(err, WB_EPARSE, "expected word<TAB>translation[<TAB>context]");
    /* A third column that begins with '#' is a comment (extract writes the
     * reading, part of speech and count there). */
    if (n == 3 && fl[2] > 0 && f[2][0] == '#')
        n = 2;
    if (!(out->word = dupn(f[0], fl[0])) || !(out->translation = dupn(f[1], fl[1])) ||
        (n == 3 && fl[2] > 0 && !(out->context = dupn(f[2], fl[2])))) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        wb_word_item_release(out);
    } else if (wb_entry_check(out->word, out->translation, out->context, NULL, err)) {
        rc = err ? (err->code = WB_EPARSE) : WB_EPARSE;
        wb_word_item_release(out);
    }
    return rc;
}

/* ---- documents ------------------------------------------------------------ */

static void block_release(struct wb_block *b)
{
    for (size_t i = 0; i < b->n_items; i++)
        wb_word_item_release(&b->items[i]);
    free(b->items);
    for (size_t i = 0; i < b->n_lines; i++) {
        free(b->lines[i].speaker);
        free(b->lines[i].text);
    }
    free(b->lines);
    free(b->speakers[0]);
    free(b->speakers[1]);
    memset(b, 0, sizeof(*b));
}

void wb_doc_init(struct wb_doc *doc)
{
    memset(doc, 0, sizeof(*doc));
}

void wb_doc_release(struct wb_doc *doc)
{
    if (!doc)
        return;
    for (size_t i = 0; i < doc->n_blocks; i++)
        block_release(&doc->blocks[i]);
    free(doc->blocks);
    for (size_t i = 0; i < doc->n_diags; i++)
        free(doc->diags[i]);
    free(doc->diags);
    free(doc->name);
    free(doc->src);
    memset(doc, 0, sizeof(*doc));
}

static int diag(struct wb_doc *doc, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int diag(struct wb_doc *doc, unsigned line, const char *fmt, ...)
{
    struct wb_buf b;
    va_list ap;
    int rc;

    if (doc->n_diags >= WB_CONTENT_MAX_DIAGS)
        return 0;
    wb_buf_init(&b, 0);
    rc = wb_buf_appendf(&b, "%s:%u: ", doc->name, line);
    va_start(ap, fmt);
    if (rc == 0)
        rc = wb_buf_appendvf(&b, fmt, ap);
    va_end(ap);
    if (rc == 0)
        rc = CORE_ARRAY_RESIZE(doc->diags, doc->n_diags + 1, 0);
    if (rc == 0) {
        doc->diags[doc->n_diags++] = wb_buf_detach(&b, NULL);
    }
    wb_buf_release(&b);
    return rc;
}

enum tag {
    TAG_NONE = 0,
    TAG_OPEN,
    TAG_CLOSE
};

/* "<wordbank>", "</DIALOGUE >" ...: up to three spaces of indentation, the
 * tag, optional blanks, nothing else on the line. */
static enum tag line_tag(const char *s, size_t len, enum wb_block_kind *kind)
{
    static const struct {
        const char *name;
        size_t n;
        enum wb_block_kind kind;
    } names[] = {
        { "wordbank", 8, WB_BLOCK_WORDBANK },
        { "dialogue", 8, WB_BLOCK_DIALOGUE },
    };
    size_t i = 0;
    enum tag t = TAG_OPEN;

    while (i < len && i < 3 && s[i] == ' ')
        i++;
    if (i >= len || s[i] != '<')
        return TAG_NONE;
    i++;
    if (i < len && s[i] == '/') {
        t = TAG_CLOSE;
        i++;
    }
    for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
        size_t j = i + names[k].n;
        if (len < j || strncasecmp(s + i, names[k].name, names[k].n) != 0)
            continue;
        while (j < len && (s[j] == ' ' || s[j] == '\t'))
            j++;
        if (j >= len || s[j] != '>')
            return TAG_NONE;
        j++;
        while (j < len && (s[j] == ' ' || s[j] == '\t'))
            j++;
        if (j != len)
            return TAG_NONE;
        *kind = names[k].kind;
        return t;
    }
    return TAG_NONE;
}

/* A code fence line (``` or ~~~, three or more, indented up to three spaces):
 * its character and length, or 0. */
static size_t fence(const char *s, size_t len, char *ch, int *has_info)
{
    size_t i = 0, n = 0;

    while (i < len && i < 3 && s[i] == ' ')
        i++;
    if (i >= len || (s[i] != '`' && s[i] != '~'))
        return 0;
    *ch = s[i];
    while (i + n < len && s[i + n] == *ch)
        n++;
    if (n < 3)
        return 0;
    *has_info = 0;
    for (size_t j = i + n; j < len; j++) {
        if (s[j] == '`' && *ch == '`')
            return 0; /* an info string with a backtick: not a fence (CommonMark) */
        if (s[j] != ' ' && s[j] != '\t')
            *has_info = 1;
    }
    return n;
}

static const char *kind_name(enum wb_block_kind k)
{
    return k == WB_BLOCK_WORDBANK ? "wordbank" : "dialogue";
}

static int add_item(struct wb_block *b, struct wb_word_item *it)
{
    if (CORE_ARRAY_RESIZE(b->items, b->n_items + 1, 0) != 0)
        return WB_ENOMEM;
    b->items[b->n_items++] = *it;
    memset(it, 0, sizeof(*it));
    return 0;
}

/* "Name: text" (core_dialogue_split: the limits the speech request has) */
static int dialogue_line(struct wb_doc *doc, struct wb_block *b, const char *s, size_t len,
                         unsigned lineno)
{
    struct core_dialogue_line dl;
    char *sp = NULL, *tx = NULL;

    if (len > WB_CONTENT_MAX_LINE)
        return diag(doc, lineno, "line too long (over %d bytes)", WB_CONTENT_MAX_LINE);
    if (!content_utf8_valid(s, len))
        return diag(doc, lineno, "invalid UTF-8");
    switch (core_dialogue_split(s, len, &dl)) {
    case CORE_DIALOGUE_OK:
        break;
    case CORE_DIALOGUE_NO_NAME:
        return diag(doc, lineno, "expected 'Name: text' in <dialogue>");
    case CORE_DIALOGUE_LONG_NAME:
        return diag(doc, lineno, "speaker name too long (over %d bytes)", CORE_DIALOGUE_MAX_NAME);
    default:
        return diag(doc, lineno, "expected 'Name: text' in <dialogue> (%s is empty)",
                    dl.name_len == 0 ? "the name" : "the text");
    }
    if (!(sp = dupn(dl.name, dl.name_len)) || !(tx = dupn(dl.text, dl.text_len)) ||
        CORE_ARRAY_RESIZE(b->lines, b->n_lines + 1, 0) != 0) {
        free(sp);
        free(tx);
        return WB_ENOMEM;
    }
    b->lines[b->n_lines].speaker = sp;
    b->lines[b->n_lines].text = tx;
    b->lines[b->n_lines].line = lineno;
    b->n_lines++;
    for (size_t k = 0; k < b->n_speakers && k < 2; k++)
        if (strcmp(b->speakers[k], sp) == 0)
            return 0;
    if (b->n_speakers < 2 && !(b->speakers[b->n_speakers] = strdup(sp)))
        return WB_ENOMEM;
    /* Count a third and later speaker only once each would need a set; the
     * number matters only as "more than two". */
    if (b->n_speakers < 3)
        b->n_speakers++;
    return 0;
}

static int add_block(struct wb_doc *doc, struct wb_block *b)
{
    if (CORE_ARRAY_RESIZE(doc->blocks, doc->n_blocks + 1, 0) != 0)
        return WB_ENOMEM;
    doc->blocks[doc->n_blocks++] = *b;
    memset(b, 0, sizeof(*b));
    return 0;
}

/* The scan's state: the next line to read and the line number. */
struct scan {
    size_t pos;
    unsigned line;
};

static int next_line(const struct wb_doc *doc, struct scan *sc, size_t *start, size_t *len,
                     size_t *next)
{
    const char *nl;

    if (sc->pos >= doc->len)
        return 0;
    *start = sc->pos;
    nl = memchr(doc->src + sc->pos, '\n', doc->len - sc->pos);
    *next = nl ? (size_t)(nl - doc->src) + 1 : doc->len;
    *len = (nl ? (size_t)(nl - doc->src) : doc->len) - sc->pos;
    if (*len > 0 && doc->src[*start + *len - 1] == '\r')
        (*len)--;
    sc->line++;
    return 1;
}

/* Parse one block whose opening tag is the line just read. Returns 1 when the
 * closing tag was found (the block added), 0 when it never closes. */
static int parse_block(struct wb_doc *doc, struct scan *sc, enum wb_block_kind kind,
                       size_t tag_start)
{
    struct wb_block b;
    struct wb_word_item it;
    struct wb_error e;
    size_t start, len, next, diags_before = doc->n_diags;
    enum wb_block_kind k2, skip_kind = kind;
    int rc = 0, skip_open = 0;

    memset(&b, 0, sizeof(b));
    b.kind = kind;
    b.start = tag_start;
    b.line = sc->line;
    while (rc == 0 && next_line(doc, sc, &start, &len, &next)) {
        const char *s = doc->src + start;
        enum tag t = line_tag(s, len, &k2);
        size_t tl = len;

        sc->pos = next;
        if (t == TAG_CLOSE && k2 == kind) {
            b.end = start + len;
            if (kind == WB_BLOCK_DIALOGUE) {
                b.two_voice = b.n_speakers == 2 && b.n_lines > 0;
                if (!b.two_voice)
                    rc = diag(doc, b.line,
                              "<dialogue> has %s speaker%s; a two-voice clip needs exactly two",
                              b.n_speakers > 2    ? "more than two"
                              : b.n_speakers == 1 ? "one"
                                                  : "no",
                              b.n_speakers == 1 ? "" : "s");
            }
            if (rc == 0)
                rc = add_block(doc, &b);
            block_release(&b);
            return rc < 0 ? rc : 1;
        }
        if (skip_open) {
            /* Inside a nested block of another kind: its lines and its
             * closing tag go with the one diagnostic already given. */
            if (t == TAG_CLOSE && k2 == skip_kind)
                skip_open = 0;
            continue;
        }
        if (t == TAG_OPEN) {
            rc = diag(doc, sc->line, "<%s> inside <%s> ignored%s (blocks do not nest)",
                      kind_name(k2), kind_name(kind), k2 != kind ? " up to its closing tag" : "");
            skip_open = k2 != kind;
            skip_kind = k2;
            continue;
        }
        if (t == TAG_CLOSE) {
            rc = diag(doc, sc->line, "</%s> does not close <%s>; ignored", kind_name(k2),
                      kind_name(kind));
            continue;
        }
        content_trim(s, &tl);
        if (tl == 0)
            continue;
        if (kind == WB_BLOCK_DIALOGUE) {
            rc = dialogue_line(doc, &b, s, len, sc->line);
            continue;
        }
        wb_error_clear(&e);
        rc = wb_word_line_parse(s, len, &it, &e);
        if (rc == 0) {
            it.line = sc->line;
            rc = add_item(&b, &it);
            wb_word_item_release(&it);
        } else if (rc == WB_EPARSE) {
            rc = diag(doc, sc->line, "%s", e.msg);
        } else if (rc == WB_LINE_BLANK) {
            rc = 0;
        }
    }
    /* Never closed: forget what its lines said; the caller reports it. */
    for (size_t i = diags_before; i < doc->n_diags; i++)
        free(doc->diags[i]);
    doc->n_diags = diags_before;
    block_release(&b);
    return rc < 0 ? rc : 0;
}

int wb_doc_parse(struct wb_doc *doc, const char *name, const char *src, size_t len,
                 struct wb_error *err)
{
    struct scan sc = { 0, 0 };
    size_t start, llen, next, fence_len = 0;
    char fence_ch = 0;
    int rc = 0, unclosed[2] = { 0, 0 };

    wb_doc_release(doc);
    if (len > WB_CONTENT_MAX_DOC)
        return wb_error_set(err, WB_ETOOBIG, "%s: larger than %u bytes", name ? name : "<input>",
                            WB_CONTENT_MAX_DOC);
    doc->name = strdup(name ? name : "<input>");
    doc->src = malloc(len + 1);
    if (!doc->name || !doc->src) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    memcpy(doc->src, src, len);
    doc->src[len] = '\0';
    doc->len = len;
    if (len >= 3 && memcmp(src, "\xef\xbb\xbf", 3) == 0)
        doc->body = sc.pos = 3;

    while (rc == 0 && next_line(doc, &sc, &start, &llen, &next)) {
        const char *s = doc->src + start;
        enum wb_block_kind kind;
        enum tag t;
        char ch;
        int info;
        size_t n;

        sc.pos = next;
        if (fence_len > 0) {
            n = fence(s, llen, &ch, &info);
            if (n >= fence_len && ch == fence_ch && !info)
                fence_len = 0;
            continue;
        }
        if ((n = fence(s, llen, &ch, &info)) > 0) {
            fence_len = n;
            fence_ch = ch;
            continue;
        }
        t = line_tag(s, llen, &kind);
        if (t == TAG_CLOSE) {
            rc = diag(doc, sc.line, "</%s> without an opening tag; kept as text", kind_name(kind));
        } else if (t == TAG_OPEN) {
            struct scan save = sc;
            unsigned line = sc.line;
            int found = 0;
            /* Once a kind's block ran to the end unclosed, any later opening
             * tag of that kind is unclosed too: no need to scan again. */
            if (!unclosed[kind]) {
                rc = parse_block(doc, &sc, kind, start);
                found = rc == 1;
                rc = rc < 0 ? rc : 0;
            }
            if (rc == 0 && !found) {
                unclosed[kind] = 1;
                sc = save;
                rc = diag(doc, line, "<%s> is never closed; kept as text", kind_name(kind));
            }
        }
    }
    if (rc < 0)
        rc = wb_error_set(err, rc, "%s: %s", doc->name, wb_strerror(rc));
out:
    return rc;
}
