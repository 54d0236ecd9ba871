/* Entries as JSON: one line of the original wordbank.jsonl format, and the
 * object `list --json` / `show --json` print (DESIGN.md's shape). Both are
 * built as jansson values and serialised straight into a wb_buf.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "export/export_internal.h"

json_t *export_json_str(const char *s)
{
    struct wb_buf b;
    json_t *v;
    if (!s)
        return json_null();
    if ((v = json_string(s)))
        return v;
    /* Not valid UTF-8 (json_string refuses it): keep what is valid. */
    wb_buf_init(&b, 0);
    core_utf8_clean(&b, s, strlen(s));
    v = json_stringn(b.data, b.len);
    wb_buf_release(&b);
    return v;
}

const char *export_stage_file(const struct wb_entry *e, enum wb_stage s)
{
    const struct wb_stage_info *si = &e->stages[s];
    return si->state == WB_STATE_DONE && si->file && *si->file ? si->file : NULL;
}

static int dump_cb(const char *buffer, size_t size, void *data)
{
    return wb_buf_append(data, buffer, size) == 0 ? 0 : -1;
}

int export_json_append(json_t *v, struct wb_buf *out)
{
    if (!v)
        return WB_ENOMEM;
    return json_dump_callback(v, dump_cb, out, JSON_ENCODE_ANY) == 0 ? 0 : WB_ENOMEM;
}

/* json_object_set_new that remembers a failure (a NULL value is one). */
static void set(json_t *o, const char *k, json_t *v, int *bad)
{
    if (!v || json_object_set_new(o, k, v) != 0)
        *bad = 1;
}

/* "pitch_accent": [1] (downstep mora positions, 0 = heiban), only when known. */
static void set_pitch(json_t *o, const struct wb_entry *e, int *bad)
{
    json_t *a;
    if (e->n_pitch_accent == 0)
        return;
    if (!(a = json_array())) {
        *bad = 1;
        return;
    }
    for (size_t i = 0; i < e->n_pitch_accent && i < WB_PITCH_MAX; i++)
        if (json_array_append_new(a, json_integer(e->pitch_accent[i])) != 0)
            *bad = 1;
    set(o, "pitch_accent", a, bad);
}

/* The "stages" object of the lossless export: each stage that is not
 * missing, with the fields that are set. */
static json_t *stages_full(const struct wb_entry *e, const char *const files[WB_STAGE_COUNT],
                           int *bad)
{
    json_t *all = json_object();
    if (!all) {
        *bad = 1;
        return NULL;
    }
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        const struct wb_stage_info *si = &e->stages[s];
        json_t *o;
        if (si->state == WB_STATE_MISSING)
            continue;
        if (s != WB_STAGE_DETAILS && si->state == WB_STATE_DONE && !files[s])
            continue; /* its file did not make it: the stage is missing there */
        if (!(o = json_object())) {
            *bad = 1;
            break;
        }
        set(all, wb_stage_name((enum wb_stage)s), o, bad);
        set(o, "state", json_string(wb_state_name(si->state)), bad);
        if (si->provider)
            set(o, "provider", export_json_str(si->provider), bad);
        if (si->model)
            set(o, "model", export_json_str(si->model), bad);
        if (si->voice)
            set(o, "voice", export_json_str(si->voice), bad);
        if (si->error)
            set(o, "error", export_json_str(si->error), bad);
        if (si->tokens_in)
            set(o, "tokens_in", json_integer(si->tokens_in), bad);
        if (si->tokens_out)
            set(o, "tokens_out", json_integer(si->tokens_out), bad);
    }
    return all;
}

int export_entry_full(const struct wb_entry *e, const char *const files[WB_STAGE_COUNT],
                      struct wb_buf *out)
{
    json_t *o = json_object(), *ex = json_array(), *tr = json_array();
    int bad = !o || !ex || !tr, rc;
    for (size_t i = 0; !bad && i < e->n_examples; i++) {
        if (json_array_append_new(
                ex, export_json_str(e->examples[i].text ? e->examples[i].text : "")) != 0 ||
            json_array_append_new(tr, export_json_str(e->examples[i].translation)) != 0)
            bad = 1;
    }
    if (!bad) {
        set(o, "word", export_json_str(e->word), &bad);
        set(o, "en_translation", export_json_str(e->translation), &bad);
        set(o, "language_code", export_json_str(e->language), &bad);
        set(o, "examples", json_incref(ex), &bad);
        set(o, "description", export_json_str(e->description), &bad);
        set(o, "image_description", export_json_str(e->image_description), &bad);
        set(o, "image_file", export_json_str(files[WB_STAGE_IMAGE]), &bad);
        set(o, "audio_file", export_json_str(files[WB_STAGE_AUDIO]), &bad);
        set(o, "context", export_json_str(e->context), &bad);
        set(o, "reading", export_json_str(e->reading), &bad);
        set_pitch(o, e, &bad);
        set(o, "example_translations", json_incref(tr), &bad);
        set(o, "stages", stages_full(e, files, &bad), &bad);
    }
    rc = bad ? WB_ENOMEM : export_json_append(o, out);
    if (rc == 0)
        rc = wb_buf_appendc(out, '\n');
    json_decref(tr);
    json_decref(ex);
    json_decref(o);
    return rc;
}

int wb_entry_to_jsonl(const struct wb_entry *e, struct wb_buf *out)
{
    json_t *o = json_object(), *ex = json_array();
    int bad = !o || !ex, rc;
    for (size_t i = 0; !bad && i < e->n_examples; i++) {
        if (json_array_append_new(
                ex, export_json_str(e->examples[i].text ? e->examples[i].text : "")) != 0)
            bad = 1;
    }
    if (!bad) {
        set(o, "word", export_json_str(e->word), &bad);
        set(o, "en_translation", export_json_str(e->translation), &bad);
        set(o, "language_code", export_json_str(e->language), &bad);
        set(o, "examples", json_incref(ex), &bad);
        set_pitch(o, e, &bad);
        set(o, "description", export_json_str(e->description), &bad);
        set(o, "image_description", export_json_str(e->image_description), &bad);
        set(o, "image_file", export_json_str(export_stage_file(e, WB_STAGE_IMAGE)), &bad);
        if (export_stage_file(e, WB_STAGE_AUDIO))
            set(o, "audio_file", export_json_str(export_stage_file(e, WB_STAGE_AUDIO)), &bad);
    }
    rc = bad ? WB_ENOMEM : export_json_append(o, out);
    if (rc == 0)
        rc = wb_buf_appendc(out, '\n');
    json_decref(ex);
    json_decref(o);
    return rc;
}

static json_t *stage_json(const struct wb_entry *e, enum wb_stage s, const char *prefix, int *bad)
{
    const struct wb_stage_info *si = &e->stages[s];
    json_t *o = json_object();
    if (!o) {
        *bad = 1;
        return NULL;
    }
    set(o, "state", json_string(wb_state_name(si->state)), bad);
    set(o, "error", export_json_str(si->error), bad);
    if (s == WB_STAGE_DETAILS) {
        set(o, "model", export_json_str(si->model), bad);
    } else if (si->file && *si->file && prefix && *prefix && si->file[0] != '/') {
        struct wb_buf p;
        wb_buf_init(&p, 0);
        if (core_path_join(&p, prefix, si->file) != 0)
            *bad = 1;
        set(o, "file", export_json_str(p.data), bad);
        wb_buf_release(&p);
    } else {
        set(o, "file", export_json_str(si->file && *si->file ? si->file : NULL), bad);
    }
    return o;
}

int wb_entry_to_json(const struct wb_entry *e, const char *file_prefix, struct wb_buf *out)
{
    json_t *o = json_object(), *ex = json_array(), *stages = json_object();
    int bad = !o || !ex || !stages, rc;
    for (size_t i = 0; !bad && i < e->n_examples; i++) {
        json_t *x = json_object();
        if (!x || json_array_append_new(ex, x) != 0) {
            bad = 1;
            break;
        }
        set(x, "text", export_json_str(e->examples[i].text), &bad);
        set(x, "translation", export_json_str(e->examples[i].translation), &bad);
    }
    for (int s = 0; !bad && s < WB_STAGE_COUNT; s++)
        set(stages, wb_stage_name((enum wb_stage)s),
            stage_json(e, (enum wb_stage)s, file_prefix, &bad), &bad);
    if (!bad) {
        set(o, "word", export_json_str(e->word), &bad);
        set(o, "translation", export_json_str(e->translation), &bad);
        set(o, "language", export_json_str(e->language), &bad);
        set(o, "context", export_json_str(e->context), &bad);
        set(o, "reading", export_json_str(e->reading), &bad);
        set_pitch(o, e, &bad);
        set(o, "description", export_json_str(e->description), &bad);
        set(o, "examples", json_incref(ex), &bad);
        set(o, "image_description", export_json_str(e->image_description), &bad);
        set(o, "stages", json_incref(stages), &bad);
    }
    rc = bad ? WB_ENOMEM : export_json_append(o, out);
    json_decref(stages);
    json_decref(ex);
    json_decref(o);
    return rc;
}

int wb_json_quote(const char *s, struct wb_buf *out)
{
    json_t *v = export_json_str(s ? s : "");
    int rc;
    if (!v)
        return WB_ENOMEM;
    rc = export_json_append(v, out);
    json_decref(v);
    return rc;
}
