/* Entry lifecycle: init, deep copy, release. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "wordbank/entry.h"

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
    t.error = wb_strdup0(src->error);
    t.file = wb_strdup0(src->file);
    t.provider = wb_strdup0(src->provider);
    t.model = wb_strdup0(src->model);
    t.voice = wb_strdup0(src->voice);
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
    struct wb_example *n = realloc(e->examples, (e->n_examples + 1) * sizeof *n);
    if (!n)
        return WB_ENOMEM;
    e->examples = n;
    n[e->n_examples].text = wb_strdup0(text ? text : "");
    n[e->n_examples].translation = wb_strdup0(translation);
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
    if ((rc = wb_str_set(&t.word, src->word)) || (rc = wb_str_set(&t.translation, src->translation)) ||
        (rc = wb_str_set(&t.language, src->language)) || (rc = wb_str_set(&t.context, src->context)) ||
        (rc = wb_str_set(&t.reading, src->reading)) ||
        (rc = wb_str_set(&t.description, src->description)) ||
        (rc = wb_str_set(&t.image_description, src->image_description)))
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
