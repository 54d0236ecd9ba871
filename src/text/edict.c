/* The EDICT dictionary handle: where the source and the index live, opening
 * (building the index under a lock when it is missing, stale or damaged),
 * lookups by headword or reading, and choosing the sense that matches a
 * translation.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/util.h"
#include "text/edict_internal.h"
#include "text/text_internal.h"
#include "wordbank/log.h"
#include "wordbank/text.h"

#define WORD_MAX   1024
#define LOOKUP_MAX 256

struct wb_edict {
    struct edict_idx m;
    char *index_path;
    int built;
    atomic_int damaged; /* a lookup met a bad row: never trust this file again */
};

/* config "cache_dir", else $XDG_CACHE_HOME/wordbank, else ~/.cache/wordbank. */
int text_cache_dir(const struct wb_config *cfg, struct wb_buf *out, struct wb_error *err)
{
    const char *c = cfg ? wb_config_get(cfg, "cache_dir") : NULL;
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int rc;

    if (c && *c)
        rc = wb_buf_appends(out, c);
    else if (x && *x == '/')
        rc = wb_buf_appendf(out, "%s/wordbank", x);
    else if (home && *home)
        rc = wb_buf_appendf(out, "%s/.cache/wordbank", home);
    else
        return wb_error_set(err, WB_ECONFIG, "no cache directory: set cache_dir or HOME");
    return rc ? wb_error_set(err, rc, "out of memory") : 0;
}

int wb_edict_open(const struct wb_config *cfg, void (*progress)(void *ud, double frac), void *ud,
                  struct wb_edict **out, struct wb_error *err)
{
    const char *src = wb_config_get(cfg, "edict_path"); /* cfg NULL: the default */
    struct wb_edict *d = NULL;
    struct wb_buf dir, path;
    struct stat st;
    char hex[65];
    int rc = 0, lock = -1;

    wb_buf_init(&dir, 0);
    wb_buf_init(&path, 0);
    *out = NULL;
    if (!src || !*src)
        src = wb_settings_find("edict_path")->dflt; /* unset by the caller */
    if (stat(src, &st) != 0) {
        rc = wb_error_set(err, errno == ENOENT ? WB_ENOTFOUND : WB_EIO,
                          "EDICT dictionary %s: %s (install the edict package or set edict_path)",
                          src, strerror(errno));
        goto out;
    }
    if ((rc = text_cache_dir(cfg, &dir, err)) != 0 || (rc = wb_mkdirs(dir.data, err)) != 0)
        goto out;
    /* One index per source path, so a test's tiny EDICT never replaces the real one. */
    if ((rc = core_sha256_hex(src, strlen(src), hex)) < 0) {
        rc = core_crypto_load(err); /* the reason */
        goto out;
    }
    if ((rc = wb_buf_appendf(&path, "%s/edict-%.12s.idx", dir.data, hex)) != 0 ||
        !(d = calloc(1, sizeof *d))) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    rc = edict_idx_open(&d->m, path.data, &st);
    if (rc == WB_ENOMEM) { /* the fence keys: rebuilding would not help */
        rc = wb_error_set(err, rc, "out of memory reading the EDICT index %s", path.data);
        goto out;
    }
    if (rc != 0) {
        /* Missing, stale or damaged: build under the lock, unless another
         * process did it while we waited. */
        if ((lock = edict_lock(path.data, err)) < 0) {
            rc = err ? err->code : WB_EIO;
            goto out;
        }
        if (stat(src, &st) != 0) {
            rc = wb_error_set(err, WB_EIO, "EDICT dictionary %s: %s", src, strerror(errno));
            goto out;
        }
        rc = edict_idx_open(&d->m, path.data, &st);
        if (rc != 0) {
            int64_t t0 = core_clock_mono_ms();
            wb_log(WB_LOG_INFO, "building the EDICT index %s from %s", path.data, src);
            if ((rc = edict_build(src, path.data, progress, ud, err)) != 0)
                goto out;
            d->built = 1;
            wb_log(WB_LOG_INFO, "EDICT index built in %lld ms",
                   (long long)(core_clock_mono_ms() - t0));
            /* The file we just wrote was built from an fstat of the source;
             * check it against that source, not a later stat. */
            if ((rc = edict_idx_open(&d->m, path.data, NULL)) != 0) {
                rc = wb_error_set(err, WB_ECORRUPT, "the EDICT index %s just built is unreadable",
                                  path.data);
                goto out;
            }
        }
    }
    d->index_path = wb_buf_detach(&path, NULL);
    *out = d;
    d = NULL;
out:
    if (lock >= 0)
        close(lock);
    wb_edict_close(d);
    wb_buf_release(&dir);
    wb_buf_release(&path);
    return rc;
}

void wb_edict_close(struct wb_edict *d)
{
    if (!d)
        return;
    edict_idx_close(&d->m);
    free(d->index_path);
    free(d);
}

int wb_edict_was_built(const struct wb_edict *d)
{
    return d->built;
}

const char *wb_edict_index_path(const struct wb_edict *d)
{
    return d->index_path;
}

/* A row whose key matched: its offset (dictionary order) and its entry,
 * parsed while its line is at hand. */
struct found {
    uint32_t off;
    int parsed; /* 0: the line is not an EDICT entry */
    struct wb_edict_entry e;
};

static int cmp_found(const void *a, const void *b)
{
    uint32_t x = ((const struct found *)a)->off, y = ((const struct found *)b)->off;
    return (x > y) - (x < y);
}

/* Collect the rows of table whose key equals word into found (*k of them,
 * parsed), in dictionary (offset) order: 0, or WB_ECORRUPT (a bad row),
 * WB_EIO, WB_ENOMEM. */
static int collect(struct edict_reader *r, int table, const char *w, size_t wn, struct found *found,
                   size_t max, size_t *k)
{
    size_t i, n = edict_rows(r->x, table);
    int rc;

    *k = 0;
    if ((rc = edict_lower_bound(r, table, w, wn, &i)) != 0)
        return rc;
    for (; i < n && *k < max; i++) {
        const char *kk;
        size_t kn;
        uint32_t off;
        struct found *f = &found[*k];
        if ((rc = edict_row(r, table, i, &off, &kk, &kn)) != 0)
            return rc;
        if (kn != wn || memcmp(kk, w, wn) != 0)
            break;
        f->off = off;
        rc = wb_edict_parse_line(r->line, r->line_len, &f->e);
        if (rc == WB_ENOMEM)
            return rc;
        f->parsed = rc == 0;
        ++*k;
    }
    qsort(found, *k, sizeof *found, cmp_found);
    return 0;
}

/* A lookup met a bad row. The first one says so and removes the file (the
 * next open rebuilds it); from then on every lookup on this handle fails the
 * same way: a damaged index is never trusted, and the handle is shared by
 * threads, so it is not rebuilt under their feet. */
static int damaged(struct wb_edict *d, struct wb_error *err)
{
    if (atomic_exchange(&d->damaged, 1) == 0) {
        struct wb_error derr = { 0 };
        if (edict_discard(&d->m, d->index_path, &derr) != 0)
            wb_log(WB_LOG_WARN, "%s", wb_error_text(&derr));
        else
            wb_log(WB_LOG_WARN, "the EDICT index %s is damaged: removed, the next run rebuilds it",
                   d->index_path);
    }
    return wb_error_set(err, WB_ECORRUPT,
                        "the EDICT index %s is damaged (it is rebuilt on the next open)",
                        d->index_path);
}

int wb_edict_lookup(struct wb_edict *d, const char *word, struct wb_edict_entry **out, size_t *n,
                    struct wb_error *err)
{
    struct found *found = NULL;
    struct edict_reader r;
    size_t wn = strlen(word), k = 0, got = 0;
    struct wb_edict_entry *v = NULL;
    int rc = 0, eno;

    *out = NULL;
    *n = 0;
    if (wn == 0 || wn > WORD_MAX || memchr(word, '\n', wn))
        return wb_error_set(err, WB_EINVAL, "not a dictionary word");
    if (atomic_load(&d->damaged))
        return damaged(d, err);
    edict_reader_init(&r, &d->m);
    if (!(found = malloc(LOOKUP_MAX * sizeof *found)))
        rc = WB_ENOMEM;
    if (rc == 0)
        rc = collect(&r, EDICT_HEAD, word, wn, found, LOOKUP_MAX, &k);
    /* Readings are kana (none of Debian's 203,934 holds a kanji): a word
     * with one is never a reading, and each search costs ~12 reads. */
    if (rc == 0 && k == 0 && !wb_text_has_kanji(word))
        rc = collect(&r, EDICT_READ, word, wn, found, LOOKUP_MAX, &k);
    if (rc == 0 && k == 0)
        rc = wb_error_set(err, WB_ENOTFOUND, "%s is not in EDICT", word);
    if (rc == 0 && !(v = calloc(k, sizeof *v)))
        rc = WB_ENOMEM;
    for (size_t i = 0; i < k; i++) {
        if (found[i].parsed && v)
            v[got++] = found[i].e;
        else if (found[i].parsed)
            wb_edict_entry_release(&found[i].e);
    }
    if (rc == 0 && got == 0)
        rc = wb_error_set(err, WB_ENOTFOUND, "%s: no readable EDICT entry", word);
    eno = errno;
    edict_reader_release(&r);
    free(found);
    if (rc == WB_ECORRUPT)
        rc = damaged(d, err);
    else if (rc == WB_EIO)
        rc = wb_error_set(err, rc, "reading the EDICT index %s: %s", d->index_path, strerror(eno));
    else if (rc == WB_ENOMEM)
        rc = wb_error_set(err, rc, "out of memory");
    if (rc)
        goto out;
    /* Common words first, dictionary order otherwise (a stable pass). */
    {
        size_t w = 0;
        struct wb_edict_entry *tmp = malloc(got * sizeof *tmp);
        if (!tmp) {
            rc = wb_error_set(err, WB_ENOMEM, "out of memory");
            goto out;
        }
        for (int pass = 1; pass >= 0; pass--)
            for (size_t i = 0; i < got; i++)
                if ((v[i].common != 0) == pass)
                    tmp[w++] = v[i];
        memcpy(v, tmp, got * sizeof *tmp);
        free(tmp);
    }
    *out = v;
    *n = got;
    v = NULL;
out:
    wb_edict_entries_free(v, got);
    return rc;
}

/* The ranking key of sense j of entry i, compared field by field: how well a
 * gloss matches the translation, how many of the translation's and context's
 * words the sense shares (parenthesised words and register tags included:
 * "to pour (into a cup)" picks つぐ over そそぐ, "to be (humble)" picks おる),
 * the reading hint, a common (P) entry, and finally how early the best gloss
 * stands in its sense (何れ "which": どれ's first gloss beats いずれ's second;
 * 端 "edge" stays the common はし, not つま whose first gloss is "edge"). */
struct pick_key {
    int score, overlap, hint, common, early;
};

/* 0, or WB_ENOMEM when a score could not be measured. */
static int sense_key(const struct wb_edict_entry *e, size_t i, size_t j, const char *translation,
                     const char *context, const char *reading_hint, struct pick_key *k)
{
    const char *r = e[i].reading ? e[i].reading : e[i].headword;
    const struct wb_edict_sense *s = &e[i].senses[j];
    size_t at = 0;
    int o1, o2;

    k->score = 0;
    for (size_t g = 0; translation && *translation && g < s->n_glosses; g++) {
        int v = text_gloss_score(translation, s->glosses[g]);
        if (v < 0)
            return v;
        if (v > k->score) {
            k->score = v;
            at = g;
        }
    }
    if ((o1 = text_sense_overlap(translation, s)) < 0)
        return o1;
    if ((o2 = text_sense_overlap(context, s)) < 0)
        return o2;
    k->overlap = o1 + o2;
    k->hint = reading_hint && *reading_hint && strcmp(r, reading_hint) == 0;
    k->common = e[i].common != 0;
    k->early = k->score > 0 ? -(int)(at > 8 ? 8 : at) : 0;
    return 0;
}

static int key_cmp(const struct pick_key *a, const struct pick_key *b)
{
    if (a->score != b->score)
        return a->score < b->score ? -1 : 1;
    if (a->overlap != b->overlap)
        return a->overlap < b->overlap ? -1 : 1;
    if (a->hint != b->hint)
        return a->hint < b->hint ? -1 : 1;
    if (a->common != b->common)
        return a->common < b->common ? -1 : 1;
    return (a->early > b->early) - (a->early < b->early);
}

int edict_pick(const struct wb_edict_entry *e, size_t n, const char *translation,
               const char *context, const char *reading_hint, size_t *ei, size_t *si)
{
    struct pick_key best = { -1, -1, -1, -1, -100 }, k;

    *ei = *si = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < e[i].n_senses; j++) {
            int rc = sense_key(e, i, j, translation, context, reading_hint, &k);
            if (rc)
                return rc;
            if (key_cmp(&k, &best) > 0) {
                best = k;
                *ei = i;
                *si = j;
            }
        }
    }
    return best.score < 0 ? 0 : best.score;
}

/* The best (score, overlap) of the entries read as hira (hiragana): 1 when
 * an entry is read so, 0 when none is, WB_ENOMEM. */
static int reading_strength(const struct wb_edict_entry *e, size_t n, const char *hira,
                            const char *translation, const char *context, struct pick_key *out)
{
    struct wb_buf h;
    int found = 0;

    wb_buf_init(&h, 0);
    out->score = out->overlap = -1;
    out->hint = out->common = out->early = 0;
    for (size_t i = 0; i < n && found >= 0; i++) {
        wb_buf_reset(&h);
        if (wb_kana_to_hiragana(e[i].reading ? e[i].reading : e[i].headword, &h) != 0) {
            found = WB_ENOMEM;
            break;
        }
        if (strcmp(h.data, hira) != 0)
            continue;
        found = 1;
        for (size_t j = 0; j < e[i].n_senses; j++) {
            struct pick_key k;
            if ((found = sense_key(e, i, j, translation, context, NULL, &k)) < 0)
                break;
            found = 1;
            k.hint = k.common = k.early = 0;
            if (key_cmp(&k, out) > 0)
                *out = k;
        }
    }
    wb_buf_release(&h);
    return found;
}

int edict_reading_fits(const struct wb_edict_entry *e, size_t n, const char *hira,
                       const char *translation, const char *context, size_t ei, size_t si)
{
    struct pick_key best, have;
    int rc = reading_strength(e, n, hira, translation, context, &have);

    if (rc <= 0)
        return rc;
    if ((rc = sense_key(e, ei, si, translation, context, NULL, &best)) != 0)
        return rc;
    best.hint = best.common = best.early = 0;
    return key_cmp(&have, &best) >= 0;
}

int wb_edict_gloss_for(struct wb_edict *d, const char *word, const char *translation,
                       struct wb_buf *description_out, struct wb_buf *reading_out,
                       struct wb_error *err)
{
    return wb_edict_describe(d, word, translation, NULL, description_out, reading_out, err);
}

int wb_edict_describe(struct wb_edict *d, const char *word, const char *translation,
                      const char *context, struct wb_buf *description_out,
                      struct wb_buf *reading_out, struct wb_error *err)
{
    struct wb_edict_entry *e = NULL;
    size_t n = 0, ei, si;
    int rc = wb_edict_lookup(d, word, &e, &n, err);

    if (rc)
        goto out;
    if ((rc = edict_pick(e, n, translation, context, NULL, &ei, &si)) < 0) {
        wb_error_set(err, rc, "%s", wb_strerror(rc));
        goto out;
    }
    rc = 0;
    for (size_t g = 0; g < e[ei].senses[si].n_glosses && rc == 0; g++) {
        if (g > 0)
            rc = wb_buf_appends(description_out, "; ");
        if (rc == 0)
            rc = wb_buf_appends(description_out, e[ei].senses[si].glosses[g]);
    }
    if (rc == 0 && reading_out)
        rc = wb_buf_appends(reading_out, e[ei].reading ? e[ei].reading : e[ei].headword);
    if (rc)
        wb_error_set(err, rc, "%s", wb_strerror(rc));
out:
    wb_edict_entries_free(e, n);
    return rc;
}
