/* The MeCab tagger: the only file that includes mecab.h. It opens a tagger on
 * an explicit dictionary with an empty resource file (so no mecabrc can change
 * the results), splits text into morphemes with their IPA-dictionary features,
 * and derives readings (hiragana) and pronunciations (katakana) from them.
 * libmecab (and the libstdc++ it brings) is loaded when the first tagger is
 * opened (core/dl.h), so a command that never tags Japanese never maps it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mecab.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/dl.h"
#include "core/util.h"
#include "text/text_internal.h"
#include "wordbank/text.h"

#define TEXT_INPUT_MAX (1u << 20)

#define PITCH_SOURCE "/var/lib/mecab/dic/open-jtalk/naist-jdic"

struct wb_text {
    mecab_t *mecab;
    char *dicdir;
    /* The accent dictionary, opened on first use: every morpheme (-a) and
     * the best path. pitch_dir is the configured folder or the cache folder
     * to prepare; pitch_cache is set when it is ours to prepare. */
    mecab_t *pitch_all, *pitch_best;
    char *pitch_dir;
    int pitch_cache;
};

/* Debian's soname of libmecab (its header does not say it). */
#define MECAB_SONAME "libmecab.so.2"

/* Every MeCab function used here, called through the loaded table. */
#define MECAB_FUNCTIONS(X)   \
    X(mecab_new)             \
    X(mecab_destroy)         \
    X(mecab_strerror)        \
    X(mecab_dictionary_info) \
    X(mecab_sparse_tonode2)

static struct {
    MECAB_FUNCTIONS(CORE_DL_MEMBER)
} mc;
#define MECAB_SYM(name) CORE_DL_SYM(mc, name, #name)
static const struct core_dl_sym mecab_syms[] = { MECAB_FUNCTIONS(MECAB_SYM) };
static struct core_dl_once mecab_once = CORE_DL_ONCE_INIT;

static int mecab_load(struct wb_error *err)
{
    return core_dl_load(MECAB_SONAME, mecab_syms, CORE_DL_COUNT(mecab_syms), err);
}

static int mecab_ready(struct wb_error *err)
{
    return core_dl_once(&mecab_once, mecab_load, err);
}

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
        const char *pd = cfg ? wb_config_get(cfg, "pitch_dicdir") : NULL;
        wb_buf_reset(&probe);
        if (pd && *pd) {
            t->pitch_dir = strdup(pd);
        } else if (text_cache_dir(cfg, &probe, NULL) == 0 &&
                   wb_buf_appends(&probe, "/open-jtalk-dic") == 0) {
            t->pitch_dir = wb_buf_detach(&probe, NULL);
            t->pitch_cache = 1;
        }
        /* No cache directory: the accent dictionary reports it when asked. */
    }
    if ((rc = mecab_ready(err)) < 0)
        goto out;
    {
        /* mecab_new takes argv, so a dictionary path with spaces needs no quoting. */
        char *argv[] = { "mecab", "-d", t->dicdir, "-r", "/dev/null", NULL };
        t->mecab = mc.mecab_new(5, argv);
    }
    if (!t->mecab) {
        rc = wb_error_set(err, WB_ECONFIG, "MeCab cannot open dictionary %s: %s", dicdir,
                          mc.mecab_strerror(NULL));
        goto out;
    }
    {
        const mecab_dictionary_info_t *info = mc.mecab_dictionary_info(t->mecab);
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
        mc.mecab_destroy(t->mecab);
    if (t->pitch_all)
        mc.mecab_destroy(t->pitch_all);
    if (t->pitch_best)
        mc.mecab_destroy(t->pitch_best);
    free(t->pitch_dir);
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

static const mecab_node_t *parse(struct wb_text *t, const char *text, struct wb_error *err, int *rc)
{
    size_t len = strlen(text);
    const mecab_node_t *node;

    if (len > TEXT_INPUT_MAX) {
        *rc = wb_error_set(err, WB_ETOOBIG, "text too long for MeCab (%zu bytes, max %u)", len,
                           TEXT_INPUT_MAX);
        return NULL;
    }
    node = mc.mecab_sparse_tonode2(t->mecab, text, len);
    if (!node)
        *rc = wb_error_set(err, WB_EINTERNAL, "MeCab: %s", mc.mecab_strerror(t->mecab));
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
        if ((rc = CORE_ARRAY_RESERVE(v, count, cap, 1, 0)) != 0)
            break;
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

/* ---- pitch accent ---------------------------------------------------------- */

static int file_ok(const char *dir, const char *name)
{
    char p[4200];
    return snprintf(p, sizeof p, "%s/%s", dir, name) < (int)sizeof p && access(p, R_OK) == 0;
}

static void remove_tree1(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[4200];
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) < (int)sizeof p)
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* <cache>/open-jtalk-dic: symlinks to the package's files and a dicrc, made in
 * a temporary folder and renamed into place (another process may win). */
static int pitch_prepare(struct wb_text *t, struct wb_error *err)
{
    static const char dicrc[] = "; written by wordbank: MeCab needs a dicrc, "
                                "open-jtalk-mecab-naist-jdic ships none\n"
                                "cost-factor = 800\n"
                                "bos-feature = BOS/EOS,*,*,*,*,*,*,*,*\n"
                                "eval-size = 8\n"
                                "unk-eval-size = 4\n"
                                "config-charset = UTF-8\n";
    char tmp[4200], from[4300], to[4300];
    DIR *d = NULL;
    struct dirent *de;
    char *slash;
    int rc = 0;
    FILE *f;

    if (file_ok(t->pitch_dir, "dicrc") && file_ok(t->pitch_dir, "sys.dic"))
        return 0;
    if (!t->pitch_cache)
        return wb_error_set(err, WB_ECONFIG,
                            "pitch_dicdir %s is not a MeCab dictionary folder (needs dicrc and "
                            "sys.dic)",
                            t->pitch_dir);
    if (!file_ok(PITCH_SOURCE, "sys.dic"))
        return wb_error_set(err, WB_ECONFIG,
                            "no pitch accent dictionary at " PITCH_SOURCE
                            " (install open-jtalk-mecab-naist-jdic or set pitch_dicdir)");
    if ((slash = strrchr(t->pitch_dir, '/')) != NULL && slash != t->pitch_dir) {
        *slash = '\0';
        rc = wb_mkdirs(t->pitch_dir, err);
        *slash = '/';
        if (rc)
            return rc;
    }
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", t->pitch_dir) >= (int)sizeof tmp)
        return wb_error_set(err, WB_EINVAL, "cache path too long");
    if (!mkdtemp(tmp))
        return wb_error_set(err, WB_EIO, "creating %s: %s", tmp, strerror(errno));
    if (!(d = opendir(PITCH_SOURCE))) {
        rc = wb_error_set(err, WB_EIO, "reading " PITCH_SOURCE ": %s", strerror(errno));
        goto fail;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "dicrc") == 0)
            continue;
        if (snprintf(from, sizeof from, "%s/%s", PITCH_SOURCE, de->d_name) >= (int)sizeof from ||
            snprintf(to, sizeof to, "%s/%s", tmp, de->d_name) >= (int)sizeof to)
            continue;
        if (symlink(from, to) != 0) {
            rc = wb_error_set(err, WB_EIO, "linking %s: %s", to, strerror(errno));
            goto fail;
        }
    }
    snprintf(to, sizeof to, "%s/dicrc", tmp);
    if (!(f = fopen(to, "w")) || fputs(dicrc, f) < 0 || fclose(f) != 0) {
        rc = wb_error_set(err, WB_EIO, "writing %s: %s", to, strerror(errno));
        goto fail;
    }
    if (rename(tmp, t->pitch_dir) != 0) {
        /* Another process made it first: use theirs. */
        if (!(errno == EEXIST || errno == ENOTEMPTY) || !file_ok(t->pitch_dir, "dicrc")) {
            rc = wb_error_set(err, WB_EIO, "creating %s: %s", t->pitch_dir, strerror(errno));
        }
        goto fail;
    }
    closedir(d);
    return 0;
fail:
    if (d)
        closedir(d);
    remove_tree1(tmp);
    return rc;
}

static int pitch_open(struct wb_text *t, struct wb_error *err)
{
    int rc;

    if (t->pitch_all)
        return 0;
    if (!t->pitch_dir)
        return wb_error_set(err, WB_ECONFIG,
                            "no folder for the pitch accent dictionary: set cache_dir or HOME");
    if ((rc = pitch_prepare(t, err)) != 0)
        return rc;
    {
        char *all[] = { "mecab", "-d", t->pitch_dir, "-r", "/dev/null", "-a", NULL };
        char *best[] = { "mecab", "-d", t->pitch_dir, "-r", "/dev/null", NULL };
        t->pitch_all = mc.mecab_new(6, all);
        t->pitch_best = t->pitch_all ? mc.mecab_new(5, best) : NULL;
    }
    if (!t->pitch_all || !t->pitch_best) {
        rc = wb_error_set(err, WB_ECONFIG, "MeCab cannot open the pitch accent dictionary %s: %s",
                          t->pitch_dir, mc.mecab_strerror(NULL));
        goto fail;
    }
    {
        const mecab_dictionary_info_t *info = mc.mecab_dictionary_info(t->pitch_all);
        if (!info || !info->charset ||
            (strcasecmp(info->charset, "utf-8") != 0 && strcasecmp(info->charset, "utf8") != 0)) {
            rc = wb_error_set(err, WB_ECONFIG, "the pitch accent dictionary %s is not UTF-8",
                              t->pitch_dir);
            goto fail;
        }
    }
    return 0;
fail:
    if (t->pitch_all)
        mc.mecab_destroy(t->pitch_all);
    if (t->pitch_best)
        mc.mecab_destroy(t->pitch_best);
    t->pitch_all = t->pitch_best = NULL;
    return rc;
}

int wb_text_pitch_open(struct wb_text *t, struct wb_error *err)
{
    return pitch_open(t, err);
}

const char *wb_text_pitch_dicdir(const struct wb_text *t)
{
    return t->pitch_all ? t->pitch_dir : NULL;
}

size_t wb_text_morae(const char *kana)
{
    const unsigned char *p = (const unsigned char *)kana;
    size_t n = kana ? strlen(kana) : 0, m = 0;

    while (n > 0) {
        int32_t c;
        int len = text_utf8_decode(p, n, &c);
        int small = c == 0x3041 || c == 0x3043 || c == 0x3045 || c == 0x3047 || c == 0x3049 ||
                    c == 0x3083 || c == 0x3085 || c == 0x3087 || c == 0x308E || c == 0x30A1 ||
                    c == 0x30A3 || c == 0x30A5 || c == 0x30A7 || c == 0x30A9 || c == 0x30E3 ||
                    c == 0x30E5 || c == 0x30E7 || c == 0x30EE;
        if (!small && c > 0x20)
            m++;
        p += len;
        n -= (size_t)len;
    }
    return m;
}

/* The accent feature: pos, pos1, ..., reading (7), pronunciation (8),
 * "accent/morae" (9), chain rule (10). */
struct accent_feat {
    char *store;
    char *f[12];
    size_t nf;
    int accent, morae;
};

static int accent_parse(struct accent_feat *a, const char *feature)
{
    char *slash;
    a->nf = split_features(feature, &a->store, a->f, 12);
    if (!a->store || a->nf < 10)
        return -1;
    if (a->f[9][0] < '0' || a->f[9][0] > '9' || !(slash = strchr(a->f[9], '/')))
        return -1;
    a->accent = atoi(a->f[9]);
    a->morae = atoi(slash + 1);
    return a->accent >= 0 && a->morae > 0 && a->accent <= a->morae ? 0 : -1;
}

static void add_unique(int *out, size_t max, size_t *n, int v)
{
    for (size_t i = 0; i < *n; i++)
        if (out[i] == v)
            return;
    if (*n < max)
        out[(*n)++] = v;
}

/* Every accent of a dictionary entry spelled exactly text (and read rk, when
 * given). */
static int pitch_whole(struct wb_text *t, const char *text, const char *rk, int *out, size_t max,
                       size_t *n, struct wb_error *err)
{
    size_t len = strlen(text);
    const mecab_node_t *node;

    if (len > TEXT_INPUT_MAX)
        return wb_error_set(err, WB_ETOOBIG, "word too long for MeCab");
    node = mc.mecab_sparse_tonode2(t->pitch_all, text, len);
    if (!node)
        return wb_error_set(err, WB_EINTERNAL, "MeCab: %s", mc.mecab_strerror(t->pitch_all));
    for (; node; node = node->next) {
        struct accent_feat a = { 0 };
        if (node->stat != MECAB_NOR_NODE || node->length != len ||
            memcmp(node->surface, text, len) != 0)
            continue;
        if (accent_parse(&a, node->feature) == 0 && (!rk || strcmp(a.f[7], rk) == 0))
            add_unique(out, max, n, a.accent);
        free(a.store);
    }
    return 0;
}

/* A compound on the best path: a word and its suffixes, combined by the
 * suffixes' chain rules (C1 keeps the suffix's accent, C2 falls on its first
 * mora, C3 on the word's last, C4 makes it flat, C5 keeps the word's). */
static int pitch_compound(struct wb_text *t, const char *text, const char *rk, int *out, size_t *n,
                          struct wb_error *err)
{
    size_t len = strlen(text), k = 0;
    const mecab_node_t *node = mc.mecab_sparse_tonode2(t->pitch_best, text, len);
    struct wb_buf joined;
    int acc = 0, morae = 0, ok = 1;

    if (!node)
        return wb_error_set(err, WB_EINTERNAL, "MeCab: %s", mc.mecab_strerror(t->pitch_best));
    wb_buf_init(&joined, 0);
    for (; node && ok; node = node->next) {
        struct accent_feat a = { 0 };
        if (node->stat == MECAB_BOS_NODE || node->stat == MECAB_EOS_NODE)
            continue;
        if (node->stat != MECAB_NOR_NODE || accent_parse(&a, node->feature) != 0 ||
            wb_buf_appends(&joined, a.f[7]) != 0) {
            ok = 0;
        } else if (k++ == 0) {
            acc = a.accent;
            morae = a.morae;
        } else if (strcmp(a.f[1], "接尾") == 0 && a.nf > 10 && a.f[10][0] == 'C') {
            switch (a.f[10][1]) {
            case '1':
                acc = a.accent ? morae + a.accent : 0;
                break;
            case '2':
                acc = morae + 1;
                break;
            case '3':
                acc = morae;
                break;
            case '4':
                acc = 0;
                break;
            case '5':
                break;
            default:
                ok = 0;
            }
            morae += a.morae;
        } else {
            ok = 0;
        }
        free(a.store);
    }
    if (ok && k > 1 && (!rk || (joined.data && strcmp(joined.data, rk) == 0))) {
        out[0] = acc;
        *n = 1;
    }
    wb_buf_release(&joined);
    return 0;
}

int wb_text_pitch_accent(struct wb_text *t, const char *word, const char *reading, int *out,
                         size_t max, size_t *n, struct wb_error *err)
{
    struct wb_buf rk, rh;
    int rc;

    *n = 0;
    if (!word || !*word || max == 0)
        return 0;
    if ((rc = pitch_open(t, err)) != 0)
        return rc;
    wb_buf_init(&rk, 0);
    wb_buf_init(&rh, 0);
    if (reading && *reading &&
        (wb_kana_to_katakana(reading, &rk) != 0 || wb_kana_to_hiragana(reading, &rh) != 0)) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    const char *want = rk.len ? rk.data : NULL;
    if ((rc = pitch_whole(t, word, want, out, max, n, err)) != 0 || *n)
        goto out;
    if ((rc = pitch_compound(t, word, want, out, n, err)) != 0 || *n)
        goto out;
    /* The dictionary has the word under another reading only (何れ: いずれ,
     * not どれ): the accent of the reading as a word of its own. */
    if (rh.len && strcmp(rh.data, word) != 0)
        rc = pitch_whole(t, rh.data, want, out, max, n, err);
out:
    wb_buf_release(&rk);
    wb_buf_release(&rh);
    return rc;
}
