/* EDICT lines and gloss matching. A line is
 *   猫 [ねこ] /(n) (1) cat/(n) (2) shamisen/(P)/EntL1467890X/
 * a headword, an optional reading, then '/'-separated fields; a field may open
 * with parenthesised tags: part-of-speech codes ("v1,vt"), a sense number
 * ("2") or other markers ("uk", "abbr"). A sense number starts a new sense;
 * (P) marks a common word; EntL sequence numbers are dropped. This file also
 * scores how well a translation matches a gloss, to pick the right sense.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "text/text_internal.h"
#include "wordbank/text.h"

#define TAG_MAX 40

static const char *const pos_codes[] = {
    "adj", "adv", "adv-n", "adv-to", "aux",  "aux-adj", "aux-v", "conj",   "cop",   "cop-da",
    "ctr", "exp", "int",   "iv",     "n",    "n-adv",   "n-pr",  "n-pref", "n-suf", "n-t",
    "num", "pn",  "pref",  "prt",    "suf",  "unc",     "v1",    "v1-s",   "vi",    "vk",
    "vn",  "vr",  "vs",    "vs-c",   "vs-i", "vs-s",    "vt",    "vz",
};

static int is_pos_code(const char *s, size_t n)
{
    if ((n > 4 && strncmp(s, "adj-", 4) == 0) ||
        (n >= 2 && s[0] == 'v' && (s[1] == '2' || s[1] == '4' || s[1] == '5')))
        return 1;
    for (size_t i = 0; i < sizeof pos_codes / sizeof *pos_codes; i++)
        if (strlen(pos_codes[i]) == n && memcmp(pos_codes[i], s, n) == 0)
            return 1;
    return 0;
}

/* A "(...)" group that holds tags: letters, digits, '-', ',' only. */
static int is_tag_group(const char *s, size_t n)
{
    if (n == 0 || n > TAG_MAX)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != ',')
            return 0;
    return 1;
}

static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return 0;
    return n > 0;
}

/* Append "a,b" style: add s to the comma list *list. */
static int list_add(char **list, const char *s, size_t n)
{
    size_t old = *list ? strlen(*list) : 0;
    char *p = realloc(*list, old + n + 2);

    if (!p)
        return WB_ENOMEM;
    if (old)
        p[old++] = ',';
    memcpy(p + old, s, n);
    p[old + n] = '\0';
    *list = p;
    return 0;
}

static int sense_add_gloss(struct wb_edict_sense *s, const char *g, size_t n)
{
    int rc = CORE_ARRAY_RESIZE(s->glosses, s->n_glosses + 1, 0);

    if (rc)
        return rc;
    if (!(s->glosses[s->n_glosses] = strndup(g, n)))
        return WB_ENOMEM;
    s->n_glosses++;
    return 0;
}

static int entry_new_sense(struct wb_edict_entry *e)
{
    int rc = CORE_ARRAY_RESIZE(e->senses, e->n_senses + 1, 0);

    if (rc)
        return rc;
    memset(&e->senses[e->n_senses], 0, sizeof *e->senses);
    e->n_senses++;
    return 0;
}

void wb_edict_entry_release(struct wb_edict_entry *e)
{
    for (size_t i = 0; i < e->n_senses; i++) {
        struct wb_edict_sense *s = &e->senses[i];
        for (size_t j = 0; j < s->n_glosses; j++)
            free(s->glosses[j]);
        free(s->glosses);
        free(s->pos);
        free(s->tags);
    }
    free(e->senses);
    free(e->headword);
    free(e->reading);
    memset(e, 0, sizeof *e);
}

void wb_edict_entries_free(struct wb_edict_entry *e, size_t n)
{
    if (!e)
        return;
    for (size_t i = 0; i < n; i++)
        wb_edict_entry_release(&e[i]);
    free(e);
}

/* One '/'-delimited field: leading tag groups, then the gloss. */
static int parse_field(struct wb_edict_entry *e, const char *f, size_t n)
{
    char *pos = NULL, *tags = NULL;
    int numbered = 0, rc = 0;

    if (n == 3 && memcmp(f, "(P)", 3) == 0) {
        e->common = 1;
        goto out;
    }
    if (n >= 4 && memcmp(f, "EntL", 4) == 0)
        goto out;
    while (n > 0 && *f == '(') {
        const char *close = memchr(f, ')', n);
        size_t gl = close ? (size_t)(close - f - 1) : 0;
        if (!close || !is_tag_group(f + 1, gl))
            break;
        if (all_digits(f + 1, gl)) {
            numbered = 1;
        } else {
            const char *p = f + 1, *end = close;
            while (p < end && rc == 0) {
                const char *c = memchr(p, ',', (size_t)(end - p));
                size_t tl = (size_t)((c ? c : end) - p);
                if (tl > 0)
                    rc = list_add(is_pos_code(p, tl) ? &pos : &tags, p, tl);
                p += tl + 1;
            }
            if (rc)
                goto out;
        }
        n -= (size_t)(close + 1 - f);
        f = close + 1;
        while (n > 0 && *f == ' ')
            f++, n--;
    }
    while (n > 0 && f[n - 1] == ' ')
        n--;
    if (e->n_senses == 0 || (numbered && e->senses[e->n_senses - 1].n_glosses > 0)) {
        if ((rc = entry_new_sense(e)) != 0)
            goto out;
    }
    {
        struct wb_edict_sense *s = &e->senses[e->n_senses - 1];
        if (pos && !s->pos) {
            s->pos = pos;
            pos = NULL;
        }
        if (tags) {
            if (!s->tags) {
                s->tags = tags;
                tags = NULL;
            } else if ((rc = list_add(&s->tags, tags, strlen(tags))) != 0) {
                goto out;
            }
        }
        if (n > 0)
            rc = sense_add_gloss(s, f, n);
    }
out:
    free(pos);
    free(tags);
    return rc;
}

int wb_edict_parse_line(const char *line, size_t len, struct wb_edict_entry *e)
{
    const char *p = line, *end = line + len, *sp, *slash;
    int rc = WB_EPARSE;

    memset(e, 0, sizeof *e);
    while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    sp = memchr(p, ' ', (size_t)(end - p));
    if (!sp || sp == p)
        goto out;
    if (!(e->headword = strndup(p, (size_t)(sp - p)))) {
        rc = WB_ENOMEM;
        goto out;
    }
    p = sp + 1;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close || close == p + 1)
            goto out;
        if (!(e->reading = strndup(p + 1, (size_t)(close - p - 1)))) {
            rc = WB_ENOMEM;
            goto out;
        }
        p = close + 1;
        while (p < end && *p == ' ')
            p++;
    }
    if (p >= end || *p != '/')
        goto out;
    p++;
    while (p < end) {
        slash = memchr(p, '/', (size_t)(end - p));
        const char *fend = slash ? slash : end;
        if (fend > p && (rc = parse_field(e, p, (size_t)(fend - p))) != 0)
            goto out;
        p = fend + 1;
    }
    rc = 0;
    /* Old EDICT gives the part of speech on the first sense only. */
    for (size_t i = 1; i < e->n_senses && rc == 0; i++)
        if (!e->senses[i].pos && e->senses[i - 1].pos &&
            !(e->senses[i].pos = strdup(e->senses[i - 1].pos)))
            rc = WB_ENOMEM;
    if (rc == 0 && e->n_senses == 0)
        rc = WB_EPARSE;
out:
    if (rc)
        wb_edict_entry_release(e);
    return rc;
}

/* ---- matching a translation against glosses ---- */

int text_gloss_normalize(const char *s, size_t len, struct wb_buf *out)
{
    int depth = 0, space = 1, rc = 0;
    size_t start = out->len;

    for (size_t i = 0; i < len && rc == 0; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '(') {
            depth++;
        } else if (c == ')') {
            depth -= depth > 0;
        } else if (depth == 0) {
            if (isalnum(c) || c >= 0x80 || c == '\'') {
                rc = wb_buf_appendc(out, (char)tolower(c));
                space = 0;
            } else if (!space) {
                rc = wb_buf_appendc(out, ' ');
                space = 1;
            }
        }
    }
    while (out->len > start && out->data[out->len - 1] == ' ')
        out->data[--out->len] = '\0';
    {
        static const char *const lead[] = { "to ", "a ", "an ", "the " };
        for (size_t i = 0; i < 4; i++) {
            size_t l = strlen(lead[i]);
            if (out->len - start > l && strncmp(out->data + start, lead[i], l) == 0) {
                memmove(out->data + start, out->data + start + l, out->len - start - l + 1);
                out->len -= l;
                break;
            }
        }
    }
    return rc;
}

static int is_stopword(const char *w, size_t n)
{
    static const char *const stop[] = { "a",  "an",  "the", "to", "of",      "be",       "one's",
                                        "or", "and", "in",  "on", "someone", "something" };
    for (size_t i = 0; i < sizeof stop / sizeof *stop; i++)
        if (strlen(stop[i]) == n && memcmp(stop[i], w, n) == 0)
            return 1;
    return 0;
}

/* Words equal up to a plural -s/-es. */
static int word_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an > bn) {
        const char *t = a;
        size_t tn = an;
        a = b, an = bn, b = t, bn = tn;
    }
    if (memcmp(a, b, an) != 0)
        return 0;
    return bn == an || (an >= 3 && ((bn == an + 1 && b[an] == 's') ||
                                    (bn == an + 2 && b[an] == 'e' && b[an + 1] == 's')));
}

static int has_word(const char *text, const char *w, size_t n)
{
    const char *p = text;

    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t l = sp ? (size_t)(sp - p) : strlen(p);
        if (word_eq(p, l, w, n))
            return 1;
        p += l + (sp != NULL);
    }
    return 0;
}

/* One alternative of the translation (already normalized) against one gloss. */
static int score_one(const char *t, const char *g)
{
    size_t words = 0, found = 0, gwords = 1;
    const char *p = t;

    if (!*t || !*g)
        return 0;
    if (strcmp(t, g) == 0)
        return 100;
    for (const char *q = g; *q; q++)
        gwords += *q == ' ';
    while (*p) {
        const char *sp = strchr(p, ' ');
        size_t l = sp ? (size_t)(sp - p) : strlen(p);
        if (!is_stopword(p, l)) {
            words++;
            found += has_word(g, p, l);
        }
        p += l + (sp != NULL);
    }
    if (words == 0 || found == 0)
        return 0;
    if (found == words) {
        /* Every word present: the fewer extra words in the gloss, the better. */
        int extra = (int)gwords - (int)words;
        return 90 - (extra > 0 ? (extra > 30 ? 30 : extra) : 0);
    }
    return (int)(50 * found / words);
}

int text_gloss_score(const char *translation, const char *gloss)
{
    struct wb_buf t, g;
    int best = 0;
    const char *p = translation;

    wb_buf_init(&t, 0);
    wb_buf_init(&g, 0);
    if (text_gloss_normalize(gloss, strlen(gloss), &g) != 0)
        goto oom;
    /* "cat; kitty" or "cat, feline": each alternative on its own. */
    while (*p) {
        size_t l = strcspn(p, ";,/");
        wb_buf_reset(&t);
        if (text_gloss_normalize(p, l, &t) != 0)
            goto oom;
        int s = score_one(t.data, g.data);
        if (s > best)
            best = s;
        p += l + (p[l] != '\0');
    }
out:
    wb_buf_release(&t);
    wb_buf_release(&g);
    return best;
oom: /* never a low score in place of an answer */
    best = WB_ENOMEM;
    goto out;
}

/* Lowercase ASCII words of s (parentheses kept, stopwords dropped) appended to
 * out, each followed by a space. */
static int bag_add(struct wb_buf *out, const char *s)
{
    int rc = 0;
    size_t i = 0, n = strlen(s);

    while (i < n && rc == 0) {
        size_t start;
        while (i < n && !isalnum((unsigned char)s[i]) && s[i] != '\'')
            i++;
        start = i;
        while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '\''))
            i++;
        if (i > start && !is_stopword(s + start, i - start)) {
            for (size_t k = start; k < i && rc == 0; k++)
                rc = wb_buf_appendc(out, (char)tolower((unsigned char)s[k]));
            if (rc == 0)
                rc = wb_buf_appendc(out, ' ');
        }
    }
    return rc;
}

/* EDICT's register tags as the words a translation would use for them. */
static const char *tag_word(const char *tag, size_t n)
{
    static const char *const map[][2] = {
        { "hum", "humble" },     { "hon", "honorific" },    { "pol", "polite" },
        { "arch", "archaic" },   { "col", "colloquial" },   { "sl", "slang" },
        { "fam", "familiar" },   { "vulg", "vulgar" },      { "fem", "feminine" },
        { "male", "masculine" }, { "derog", "derogatory" }, { "obs", "obsolete" },
        { "chn", "children's" }, { "poet", "poetical" },    { "joc", "jocular" },
    };
    for (size_t i = 0; i < sizeof map / sizeof *map; i++)
        if (strlen(map[i][0]) == n && memcmp(map[i][0], tag, n) == 0)
            return map[i][1];
    return NULL;
}

int text_sense_overlap(const char *query, const struct wb_edict_sense *s)
{
    struct wb_buf q, g;
    int found = 0;

    if (!query || !*query)
        return 0;
    wb_buf_init(&q, 0);
    wb_buf_init(&g, 0);
    if (bag_add(&q, query) != 0)
        goto oom;
    for (size_t i = 0; i < s->n_glosses; i++)
        if (bag_add(&g, s->glosses[i]) != 0)
            goto oom;
    for (const char *t = s->tags; t && *t;) {
        size_t l = strcspn(t, ",");
        const char *w = tag_word(t, l);
        if (w && (wb_buf_appends(&g, w) != 0 || wb_buf_appendc(&g, ' ') != 0))
            goto oom;
        t += l + (t[l] == ',');
    }
    /* Each distinct query word found among the sense's words counts once. */
    for (const char *p = q.data ? q.data : ""; *p;) {
        const char *sp = strchr(p, ' ');
        size_t l = (size_t)(sp - p);
        int dup = 0;
        for (const char *r = q.data; r < p;) {
            const char *rs = strchr(r, ' ');
            if ((size_t)(rs - r) == l && memcmp(r, p, l) == 0)
                dup = 1;
            r = rs + 1;
        }
        if (!dup && g.data && has_word(g.data, p, l))
            found++;
        p = sp + 1;
    }
out:
    wb_buf_release(&q);
    wb_buf_release(&g);
    return found;
oom:
    found = WB_ENOMEM;
    goto out;
}
