/* The MeCab tagger: the only file that includes mecab.h. It opens a tagger on
 * an explicit dictionary with an empty resource file (so no mecabrc can change
 * the results), splits text into morphemes with their IPA-dictionary features,
 * and derives readings (hiragana) and pronunciations (katakana) from them.
 */
#include <mecab.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/util.h"
#include "text/text_internal.h"
#include "wordbank/text.h"

#define TEXT_INPUT_MAX (1u << 20)

struct wb_text {
    mecab_t *mecab;
    char *dicdir;
};

static const char *const default_dicdirs[] = {
    "/var/lib/mecab/dic/ipadic-utf8",
    "/var/lib/mecab/dic/naist-jdic",
};

int wb_text_new(const struct wb_config *cfg, struct wb_text **out, struct wb_error *err)
{
    struct wb_text *t = NULL;
    const char *dicdir = cfg ? wb_config_get(cfg, "mecab_dicdir") : NULL;
    struct wb_buf probe;
    int rc = 0;

    wb_buf_init(&probe, 0);
    *out = NULL;
    if (!dicdir || !*dicdir) {
        dicdir = NULL;
        for (size_t i = 0; i < sizeof default_dicdirs / sizeof *default_dicdirs; i++) {
            wb_buf_reset(&probe);
            if (wb_buf_appendf(&probe, "%s/sys.dic", default_dicdirs[i]) == 0 &&
                access(probe.data, R_OK) == 0) {
                dicdir = default_dicdirs[i];
                break;
            }
        }
        if (!dicdir) {
            rc = wb_error_set(err, WB_ECONFIG,
                              "no MeCab dictionary found (install mecab-ipadic-utf8 or set "
                              "mecab_dicdir)");
            goto out;
        }
    }
    t = calloc(1, sizeof *t);
    if (!t || !(t->dicdir = strdup(dicdir))) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    {
        /* mecab_new takes argv, so a dictionary path with spaces needs no quoting. */
        char *argv[] = { "mecab", "-d", t->dicdir, "-r", "/dev/null", NULL };
        t->mecab = mecab_new(5, argv);
    }
    if (!t->mecab) {
        rc = wb_error_set(err, WB_ECONFIG, "MeCab cannot open dictionary %s: %s", dicdir,
                          mecab_strerror(NULL));
        goto out;
    }
    {
        const mecab_dictionary_info_t *info = mecab_dictionary_info(t->mecab);
        if (!info || !info->charset ||
            (strcasecmp(info->charset, "utf-8") != 0 && strcasecmp(info->charset, "utf8") != 0)) {
            rc = wb_error_set(err, WB_ECONFIG, "MeCab dictionary %s is not UTF-8 (%s)", dicdir,
                              info && info->charset ? info->charset : "unknown charset");
            goto out;
        }
    }
    *out = t;
    t = NULL;
out:
    wb_text_free(t);
    wb_buf_release(&probe);
    return rc;
}

void wb_text_free(struct wb_text *t)
{
    if (!t)
        return;
    if (t->mecab)
        mecab_destroy(t->mecab);
    free(t->dicdir);
    free(t);
}

const char *wb_text_dicdir(const struct wb_text *t)
{
    return t->dicdir;
}

/* Split a MeCab feature string into at most max fields (CSV with optional
 * double quotes). Fields point into a copy in *store; returns the count. */
static size_t split_features(const char *feature, char **store, char **fields, size_t max)
{
    size_t n = 0;
    char *p = strdup(feature ? feature : "");
    char *w;

    *store = p;
    if (!p)
        return 0;
    while (n < max) {
        fields[n++] = w = p;
        if (*p == '"') {
            /* Quoted field: "" is a literal quote; copy in place. */
            p++;
            while (*p) {
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                w = ++p;
        }
        if (!*p) {
            *w = '\0';
            break;
        }
        p++;
        *w = '\0';
    }
    return n;
}

static const mecab_node_t *parse(struct wb_text *t, const char *text, struct wb_error *err,
                                 int *rc)
{
    size_t len = strlen(text);
    const mecab_node_t *node;

    if (len > TEXT_INPUT_MAX) {
        *rc = wb_error_set(err, WB_ETOOBIG, "text too long for MeCab (%zu bytes, max %u)", len,
                           TEXT_INPUT_MAX);
        return NULL;
    }
    node = mecab_sparse_tonode2(t->mecab, text, len);
    if (!node)
        *rc = wb_error_set(err, WB_EINTERNAL, "MeCab: %s", mecab_strerror(t->mecab));
    return node;
}

static char *dup_field(const char *s)
{
    return strdup(s && strcmp(s, "*") != 0 ? s : "");
}

static void token_release(struct wb_token *k)
{
    free(k->surface);
    free(k->base);
    free(k->reading);
    free(k->pronunciation);
    free(k->pos);
    free(k->pos_detail);
}

void wb_tokens_free(struct wb_token *toks, size_t n)
{
    if (!toks)
        return;
    for (size_t i = 0; i < n; i++)
        token_release(&toks[i]);
    free(toks);
}

/* Fill k from a node. Unknown words keep their surface as base form, and as
 * reading when written in kana. */
static int token_fill(struct wb_token *k, const mecab_node_t *node)
{
    char *store = NULL, *f[9];
    size_t nf = split_features(node->feature, &store, f, 9);
    struct wb_buf b;
    int rc = 0;

    wb_buf_init(&b, 0);
    if (!store) {
        rc = WB_ENOMEM;
        goto out;
    }
    k->surface = strndup(node->surface, node->length);
    k->pos = dup_field(nf > 0 ? f[0] : "");
    k->pos_detail = dup_field(nf > 1 ? f[1] : "");
    k->known = node->stat != MECAB_UNK_NODE && nf >= 9;
    if (!k->surface || !k->pos || !k->pos_detail) {
        rc = WB_ENOMEM;
        goto out;
    }
    k->base = dup_field(nf > 6 && strcmp(f[6], "*") != 0 ? f[6] : k->surface);
    if (nf >= 9 && strcmp(f[7], "*") != 0) {
        rc = wb_kana_to_hiragana(f[7], &b);
        k->reading = rc == 0 ? wb_buf_detach(&b, NULL) : NULL;
        k->pronunciation = dup_field(strcmp(f[8], "*") != 0 ? f[8] : f[7]);
    } else if (!wb_text_has_kanji(k->surface)) {
        rc = wb_kana_to_hiragana(k->surface, &b);
        k->reading = rc == 0 ? wb_buf_detach(&b, NULL) : NULL;
        rc = rc ? rc : wb_kana_to_katakana(k->surface, &b);
        k->pronunciation = rc == 0 ? wb_buf_detach(&b, NULL) : NULL;
    } else {
        k->reading = strdup("");
        k->pronunciation = strdup("");
    }
    if (!rc && (!k->base || !k->reading || !k->pronunciation))
        rc = WB_ENOMEM;
out:
    free(store);
    wb_buf_release(&b);
    return rc;
}

int wb_text_tokenize(struct wb_text *t, const char *text, struct wb_token **toks, size_t *n,
                     struct wb_error *err)
{
    struct wb_token *v = NULL;
    size_t count = 0, cap = 0;
    int rc = 0;
    const mecab_node_t *node = parse(t, text, err, &rc);

    *toks = NULL;
    *n = 0;
    for (; node && rc == 0; node = node->next) {
        if (node->stat == MECAB_BOS_NODE || node->stat == MECAB_EOS_NODE)
            continue;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            struct wb_token *nv = realloc(v, ncap * sizeof *nv);
            if (!nv) {
                rc = WB_ENOMEM;
                break;
            }
            v = nv;
            cap = ncap;
        }
        memset(&v[count], 0, sizeof v[count]);
        rc = token_fill(&v[count], node);
        count++;
    }
    if (rc) {
        if (rc == WB_ENOMEM)
            wb_error_set(err, rc, "out of memory");
        wb_tokens_free(v, count);
        goto out;
    }
    *toks = v;
    *n = count;
out:
    return rc;
}

/* Shared by reading and pronunciation: tokenize, then append one field a token. */
static int join_tokens(struct wb_text *t, const char *text, struct wb_buf *out, int pron,
                       struct wb_error *err)
{
    struct wb_token *toks = NULL;
    size_t n = 0;
    int rc = wb_text_tokenize(t, text, &toks, &n, err);

    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *f = pron ? toks[i].pronunciation : toks[i].reading;
        if (*f)
            rc = wb_buf_appends(out, f);
        else if (pron)
            rc = wb_kana_to_katakana(toks[i].surface, out);
        else
            rc = wb_kana_to_hiragana(toks[i].surface, out);
        if (rc)
            wb_error_set(err, rc, "%s while joining readings", wb_strerror(rc));
    }
    wb_tokens_free(toks, n);
    return rc;
}

int wb_text_reading(struct wb_text *t, const char *text, struct wb_buf *out, struct wb_error *err)
{
    return join_tokens(t, text, out, 0, err);
}

int wb_text_pronunciation(struct wb_text *t, const char *text, struct wb_buf *out,
                          struct wb_error *err)
{
    return join_tokens(t, text, out, 1, err);
}
