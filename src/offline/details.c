/* Offline details: an entry's reading and description from MeCab and EDICT,
 * with no examples and no picture description (the offline provider has
 * none; cards render without them).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "wordbank/offline.h"

/* The base form when word is one inflected word (食べました -> 食べる), else NULL. */
static char *base_form(struct wb_text *t, const char *word)
{
    struct wb_token *k = NULL;
    size_t n = 0, content = 0, at = 0;
    char *base = NULL;

    if (wb_text_tokenize(t, word, &k, &n, NULL) != 0)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(k[i].pos, "助動詞") != 0 && strcmp(k[i].pos, "助詞") != 0 &&
            strcmp(k[i].pos, "記号") != 0) {
            content++;
            at = i;
        }
    }
    if (content == 1 && strcmp(k[at].base, word) != 0)
        base = strdup(k[at].base);
    wb_tokens_free(k, n);
    return base;
}

int wb_offline_details(struct wb_text *t, struct wb_edict *d, struct wb_entry *e,
                       struct wb_error *err)
{
    struct wb_buf desc, edict_reading, reading;
    char *base = NULL;
    int rc = 0, found = 0;

    wb_buf_init(&desc, 0);
    wb_buf_init(&edict_reading, 0);
    wb_buf_init(&reading, 0);
    if (!e->word || !*e->word) {
        rc = wb_error_set(err, WB_EINVAL, "entry without a word");
        goto out;
    }
    if (e->language && strcmp(e->language, "ja") != 0 && strncmp(e->language, "ja-", 3) != 0) {
        rc = wb_error_set(err, WB_EUNSUPPORTED,
                          "offline details cover Japanese only (EDICT); \"%s\" is %s", e->word,
                          e->language);
        goto out;
    }
    if (d) {
        rc = wb_edict_describe(d, e->word, e->translation, e->context, &desc, &edict_reading, err);
        if (rc == WB_ENOTFOUND && (base = base_form(t, e->word)) != NULL) {
            wb_buf_reset(&desc);
            wb_buf_reset(&edict_reading);
            rc = wb_edict_describe(d, base, e->translation, e->context, &desc, &edict_reading, err);
        }
        if (rc && rc != WB_ENOTFOUND)
            goto out;
        found = rc == 0;
    }
    /* The reading of the sense that matches the translation and context,
     * written as the word is (メモ帳 -> メモちょう); MeCab reads what EDICT
     * does not have (an inflected word, a phrase). */
    {
        struct wb_error rerr = { 0 };
        int verdict;
        rc = wb_text_check_reading(t, found && !base ? d : NULL, e->word, e->translation,
                                   e->context, NULL, &reading, &verdict, &rerr);
        if (rc) {
            if (err)
                *err = rerr;
            goto out;
        }
    }
    if (rc || core_str_set(&e->reading, reading.data) != 0 ||
        (found && core_str_set(&e->description, desc.data) != 0)) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    wb_entry_clear_examples(e);
    if (!found && d)
        rc = wb_error_set(err, WB_ENOTFOUND, "\"%s\" is not in EDICT", e->word);
out:
    free(base);
    wb_buf_release(&desc);
    wb_buf_release(&edict_reading);
    wb_buf_release(&reading);
    return rc;
}
