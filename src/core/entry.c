/* Entry lifecycle: init, deep copy, release. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"

static const char *const stage_names[WB_STAGE_COUNT] = { "details", "image", "audio" };
static const char *const state_names[] = { "missing", "done", "failed" };

const char *wb_stage_name(enum wb_stage stage)
{
    return (unsigned)stage < WB_STAGE_COUNT ? stage_names[stage] : "?";
}

const char *wb_state_name(enum wb_state state)
{
    return (unsigned)state < 3 ? state_names[state] : "?";
}

int wb_stage_from_name(const char *name)
{
    for (int i = 0; i < WB_STAGE_COUNT; i++) {
        if (name && strcmp(name, stage_names[i]) == 0)
            return i;
    }
    return -1;
}

int wb_state_from_name(const char *name)
{
    for (int i = 0; i < 3; i++) {
        if (name && strcmp(name, state_names[i]) == 0)
            return i;
    }
    return -1;
}

void wb_entry_init(struct wb_entry *e)
{
    memset(e, 0, sizeof *e);
}

void wb_stage_info_release(struct wb_stage_info *s)
{
    free(s->error);
    free(s->file);
    free(s->provider);
    free(s->model);
    free(s->voice);
    memset(s, 0, sizeof *s);
}

int wb_stage_info_copy(struct wb_stage_info *dst, const struct wb_stage_info *src)
{
    struct wb_stage_info t = *src;
    t.error = core_strdup0(src->error);
    t.file = core_strdup0(src->file);
    t.provider = core_strdup0(src->provider);
    t.model = core_strdup0(src->model);
    t.voice = core_strdup0(src->voice);
    if ((src->error && !t.error) || (src->file && !t.file) || (src->provider && !t.provider) ||
        (src->model && !t.model) || (src->voice && !t.voice)) {
        wb_stage_info_release(&t);
        return WB_ENOMEM;
    }
    wb_stage_info_release(dst);
    *dst = t;
    return 0;
}

void wb_entry_clear_examples(struct wb_entry *e)
{
    for (size_t i = 0; i < e->n_examples; i++) {
        free(e->examples[i].text);
        free(e->examples[i].translation);
    }
    free(e->examples);
    e->examples = NULL;
    e->n_examples = 0;
}

void wb_entry_release(struct wb_entry *e)
{
    free(e->word);
    free(e->translation);
    free(e->language);
    free(e->context);
    free(e->reading);
    free(e->description);
    free(e->image_description);
    wb_entry_clear_examples(e);
    for (int i = 0; i < WB_STAGE_COUNT; i++)
        wb_stage_info_release(&e->stages[i]);
    memset(e, 0, sizeof *e);
}

int wb_entry_add_example(struct wb_entry *e, const char *text, const char *translation)
{
    struct wb_example *n;
    int rc = CORE_ARRAY_RESIZE(e->examples, e->n_examples + 1, 0);
    if (rc)
        return rc;
    n = e->examples;
    n[e->n_examples].text = core_strdup0(text ? text : "");
    n[e->n_examples].translation = core_strdup0(translation);
    if (!n[e->n_examples].text || (translation && !n[e->n_examples].translation)) {
        free(n[e->n_examples].text);
        free(n[e->n_examples].translation);
        return WB_ENOMEM;
    }
    e->n_examples++;
    return 0;
}

int wb_entry_copy(struct wb_entry *dst, const struct wb_entry *src)
{
    struct wb_entry t;
    int rc = 0;
    wb_entry_init(&t);
    t.id = src->id;
    t.created_at = src->created_at;
    t.updated_at = src->updated_at;
    t.n_pitch_accent = src->n_pitch_accent > WB_PITCH_MAX ? WB_PITCH_MAX : src->n_pitch_accent;
    memcpy(t.pitch_accent, src->pitch_accent, sizeof t.pitch_accent);
    if ((rc = core_str_set(&t.word, src->word)) ||
        (rc = core_str_set(&t.translation, src->translation)) ||
        (rc = core_str_set(&t.language, src->language)) ||
        (rc = core_str_set(&t.context, src->context)) ||
        (rc = core_str_set(&t.reading, src->reading)) ||
        (rc = core_str_set(&t.description, src->description)) ||
        (rc = core_str_set(&t.image_description, src->image_description)))
        goto out;
    for (size_t i = 0; i < src->n_examples; i++) {
        if ((rc = wb_entry_add_example(&t, src->examples[i].text, src->examples[i].translation)))
            goto out;
    }
    for (int i = 0; i < WB_STAGE_COUNT; i++) {
        if ((rc = wb_stage_info_copy(&t.stages[i], &src->stages[i])))
            goto out;
    }
out:
    if (rc) {
        wb_entry_release(&t);
        return rc;
    }
    wb_entry_release(dst);
    *dst = t;
    return 0;
}

/* The first problem of one field, or NULL: invalid UTF-8 (strict: no overlong
 * forms, surrogates or code points past U+10FFFF), a control character (C0,
 * DEL, C1; the code point goes into *cp), or blank (only white space). */
static const char *field_problem(const char *str, int may_be_blank, unsigned long *cp)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t len = strlen(str);
    int blank = 1;
    while (len > 0) {
        uint32_t c;
        int n = core_utf8_decode(s, len, &c);
        if (n == 0)
            return "is not valid UTF-8";
        if (c < 0x20 || (c >= 0x7F && c < 0xA0)) {
            *cp = c;
            return "contains a control character";
        }
        /* White space: ASCII space, no-break space, the ideographic space,
         * the Unicode spaces U+2000-U+200B and U+FEFF. */
        if (!(c == ' ' || c == 0xA0 || c == 0x3000 || (c >= 0x2000 && c <= 0x200B) || c == 0xFEFF))
            blank = 0;
        s += n;
        len -= (size_t)n;
    }
    if (blank && !may_be_blank)
        return "is blank";
    return NULL;
}

static int check_field(const char *name, const char *v, int may_be_blank, struct wb_error *err)
{
    unsigned long cp = 0;
    const char *p;
    if (!v)
        return may_be_blank ? 0 : wb_error_set(err, WB_EINVAL, "the %s is missing", name);
    if (!(p = field_problem(v, may_be_blank, &cp)))
        return 0;
    if (cp)
        return wb_error_set(err, WB_EINVAL, "the %s %s (U+%04lX)", name, p, cp);
    return wb_error_set(err, WB_EINVAL, "the %s %s", name, p);
}

int wb_language_check(const char *language, struct wb_error *err)
{
    size_t n = language ? strlen(language) : 0;
    if (n == 0)
        return wb_error_set(err, WB_EINVAL, "the language code is empty (e.g. ja, en, pt-BR)");
    if (n > 35 || !((language[0] | 0x20) >= 'a' && (language[0] | 0x20) <= 'z'))
        goto bad;
    for (size_t i = 0; i < n; i++) {
        char ch = language[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_'))
            goto bad;
    }
    return 0;
bad:
    return wb_error_set(err, WB_EINVAL,
                        "the language code '%.40s' is not a BCP 47 tag (e.g. ja, en, pt-BR)",
                        language);
}

int wb_entry_check(const char *word, const char *translation, const char *context,
                   const char *language, struct wb_error *err)
{
    int rc;
    if ((rc = check_field("word", word, 0, err)) ||
        (rc = check_field("translation", translation, 0, err)) ||
        (rc = check_field("context", context, 1, err)))
        return rc;
    return language ? wb_language_check(language, err) : 0;
}
