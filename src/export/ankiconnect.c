/* `anki push`: the word bank into a running Anki through the AnkiConnect
 * add-on's HTTP API (every action with "version": 6, inside "multi" too).
 *
 *   version                      is it AnkiConnect, and new enough?
 *   multi[deckNames, modelNames] then createDeck / createModel when missing,
 *                                or modelFieldNames: the fields must be ours
 *   per batch of entries:
 *     multi[storeMediaFile...]   pictures and audio; the name Anki returns is
 *                                the one the fields use
 *     multi[findNotes...]        by the stable Key field
 *     notesInfo                  the found notes' fields
 *     multi[updateNoteFields...] only notes whose fields changed
 *     addNotes                   the entries Anki has no note for
 *
 * So a second push adds nothing and updates only what changed. Requests go
 * through the engine (src/engine/fetch.c), one attempt each.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/http.h"
#include "core/sized.h"
#include "core/util.h"
#include "engine/fetch.h"
#include "export/export_internal.h"
#include "wordbank/file.h"
#include "wordbank/log.h"
#include "wordbank/media.h"

#define AC_BATCH             25
#define AC_MEDIA_BATCH_BYTES (16u << 20)
#define AC_MEDIA_MAX         (64u << 20)

struct ac {
    const struct wb_config *cfg;
    const struct wb_anki_push_opts *o;
    struct wb_anki_push_report *rep;
    struct wb_error *err;
};

static json_t *action(const char *name, json_t *params)
{
    json_t *a = json_pack("{s:s, s:i}", "action", name, "version", 6);
    if (a && params && json_object_set_new(a, "params", params) != 0) {
        json_decref(a);
        return NULL;
    }
    if (!a)
        json_decref(params);
    return a;
}

static int has_api_key_words(const char *s)
{
    for (const char *p = s; *p; p++)
        if (strncasecmp(p, "api key", 7) == 0 || strncasecmp(p, "apikey", 6) == 0)
            return 1;
    return 0;
}

/* What AnkiConnect's "error" means for the user. */
static int ac_refused(struct ac *a, const char *what, const char *msg)
{
    if (has_api_key_words(msg))
        return wb_error_set(a->err, WB_EAUTH,
                            a->o->key && *a->o->key
                                ? "AnkiConnect at %s refused the API key (anki_key): %s"
                                : "AnkiConnect at %s asks for an API key: set anki_key "
                                  "(WORDBANK_ANKI_KEY in the environment or .env) to the key in "
                                  "its settings (%s)",
                            a->o->url, msg);
    return wb_error_set(a->err, WB_EHTTP, "AnkiConnect %s: %s", what, msg);
}

/* POST one request (act: an action object, taken) and return its result (a
 * new reference, may be JSON null). */
static int ac_call(struct ac *a, json_t *act, json_t **result)
{
    struct core_http_request req;
    struct wb_buf body;
    json_t *resp = NULL, *err;
    json_error_t je;
    const char *what = act ? json_string_value(json_object_get(act, "action")) : NULL;
    char *text = NULL, whatbuf[64];
    long status = 0;
    int rc;

    *result = NULL;
    core_http_request_init(&req);
    wb_buf_init(&body, 0);
    snprintf(whatbuf, sizeof whatbuf, "%s", what ? what : "request");
    if (!act) {
        rc = wb_error_set(a->err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if (a->o->key && *a->o->key && json_object_set_new(act, "key", json_string(a->o->key)) != 0) {
        rc = wb_error_set(a->err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if (!(text = json_dumps(act, JSON_COMPACT)) || !(req.method = strdup("POST")) ||
        !(req.url = strdup(a->o->url)) || !(req.model = strdup("ankiconnect")) ||
        core_http_request_add_header(&req, "Content-Type", "application/json") != 0) {
        rc = wb_error_set(a->err, WB_ENOMEM, "out of memory");
        goto out;
    }
    req.body = text;
    req.body_len = strlen(text);
    text = NULL;
    rc = engine_fetch(a->cfg, &req, a->o->timeout_ms, &status, &body, a->err);
    if (rc == WB_ETRANSPORT || rc == WB_ETIMEOUT) {
        rc = wb_error_set(a->err, rc,
                          "cannot reach AnkiConnect at %s: is Anki running with the AnkiConnect "
                          "add-on? (%s)",
                          a->o->url, wb_error_text(a->err));
        goto out;
    }
    if (rc)
        goto out;
    if (status != 200) {
        rc = wb_error_set(a->err, WB_EHTTP, "AnkiConnect at %s answered HTTP %ld to %s", a->o->url,
                          status, whatbuf);
        goto out;
    }
    resp = json_loadb(body.data ? body.data : "", body.len, 0, &je);
    if (!json_is_object(resp) || !json_object_get(resp, "result") ||
        !(err = json_object_get(resp, "error"))) {
        rc = wb_error_set(a->err, WB_EUNSUPPORTED,
                          "%s does not answer like AnkiConnect API version 6 (to %s)", a->o->url,
                          whatbuf);
        goto out;
    }
    if (!json_is_null(err)) {
        rc = ac_refused(a, whatbuf, json_is_string(err) ? json_string_value(err) : "error");
        goto out;
    }
    *result = json_incref(json_object_get(resp, "result"));
    rc = 0;
out:
    json_decref(act);
    json_decref(resp);
    free(text);
    core_http_request_release(&req);
    wb_buf_release(&body);
    return rc;
}

/* "multi" over actions (an array, taken): the list of results, each checked
 * for its own error. */
static int ac_multi(struct ac *a, json_t *actions, json_t **results)
{
    json_t *r = NULL, *v;
    size_t i;
    int rc;

    *results = NULL;
    if (!actions)
        return wb_error_set(a->err, WB_ENOMEM, "out of memory");
    rc = ac_call(a, action("multi", json_pack("{s:O}", "actions", actions)), &r);
    if (rc)
        goto out;
    if (!json_is_array(r) || json_array_size(r) != json_array_size(actions)) {
        rc = wb_error_set(a->err, WB_EPARSE, "AnkiConnect multi: unexpected answer");
        goto out;
    }
    json_array_foreach(r, i, v) {
        json_t *e = json_object_get(v, "error");
        if (!json_is_object(v) || !json_object_get(v, "result") || !e) {
            rc = wb_error_set(a->err, WB_EUNSUPPORTED,
                              "AnkiConnect multi: an answer is not API version 6");
            goto out;
        }
        if (!json_is_null(e)) {
            const char *what =
                json_string_value(json_object_get(json_array_get(actions, i), "action"));
            rc = ac_refused(a, what ? what : "action",
                            json_is_string(e) ? json_string_value(e) : "error");
            goto out;
        }
    }
    *results = r;
    r = NULL;
out:
    json_decref(r);
    json_decref(actions);
    return rc;
}

static int in_list(json_t *list, const char *s)
{
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v) {
        if (json_is_string(v) && strcmp(json_string_value(v), s) == 0)
            return 1;
    }
    return 0;
}

static json_t *field_names(void)
{
    json_t *f = json_array();
    for (int i = 0; f && i < ANKI_NFIELDS; i++)
        json_array_append_new(f, json_string(anki_field_names[i]));
    return f;
}

/* The deck and the note type: made when missing; the note type's fields checked. */
static int ac_prepare(struct ac *a)
{
    json_t *r = NULL, *acts = NULL, *x = NULL;
    int rc;

    if ((rc = ac_call(a, action("version", NULL), &x)) != 0)
        return rc;
    if (!json_is_integer(x) || json_integer_value(x) < 6) {
        json_decref(x);
        return wb_error_set(a->err, WB_EUNSUPPORTED,
                            "AnkiConnect at %s speaks API version %lld; wordbank needs 6",
                            a->o->url, json_is_integer(x) ? (long long)json_integer_value(x) : 0LL);
    }
    json_decref(x);
    acts = json_array();
    if (!acts || json_array_append_new(acts, action("deckNames", NULL)) != 0 ||
        json_array_append_new(acts, action("modelNames", NULL)) != 0) {
        json_decref(acts);
        return wb_error_set(a->err, WB_ENOMEM, "out of memory");
    }
    if ((rc = ac_multi(a, acts, &r)) != 0)
        return rc;
    if (!in_list(json_object_get(json_array_get(r, 0), "result"), a->o->deck)) {
        rc = ac_call(a, action("createDeck", json_pack("{s:s}", "deck", a->o->deck)), &x);
        json_decref(x);
        if (rc)
            goto out;
        a->rep->deck_created = 1;
    }
    if (!in_list(json_object_get(json_array_get(r, 1), "result"), ANKI_MODEL_NAME)) {
        json_t *tm = json_array();
        for (int i = 0; tm && i < ANKI_NTEMPLATES; i++)
            json_array_append_new(tm, json_pack("{s:s, s:s, s:s}", "Name", anki_templates[i].name,
                                                "Front", anki_templates[i].qfmt, "Back",
                                                anki_templates[i].afmt));
        rc = ac_call(
            a,
            action("createModel", json_pack("{s:s, s:o, s:s, s:b, s:o}", "modelName",
                                            ANKI_MODEL_NAME, "inOrderFields", field_names(), "css",
                                            anki_css, "isCloze", 0, "cardTemplates", tm)),
            &x);
        json_decref(x);
        if (rc)
            goto out;
        a->rep->note_type_created = 1;
    } else {
        json_t *want = field_names();
        rc = ac_call(a, action("modelFieldNames", json_pack("{s:s}", "modelName", ANKI_MODEL_NAME)),
                     &x);
        if (rc == 0 && !json_equal(x, want)) {
            struct wb_buf have;
            size_t i;
            json_t *v;
            wb_buf_init(&have, 0);
            json_array_foreach(x, i, v) {
                wb_buf_appendf(&have, "%s%s", i ? ", " : "",
                               json_is_string(v) ? json_string_value(v) : "?");
            }
            rc = wb_error_set(a->err, WB_ECONFIG,
                              "the note type \"%s\" in Anki has the fields %s; wordbank needs "
                              "Key, Word, Reading, PitchAccent, Translation, Context, Description, "
                              "Examples, Picture, Audio in that order (rename that note type in "
                              "Anki and push again: wordbank makes a new one)",
                              ANKI_MODEL_NAME, have.len ? have.data : "(none)");
            wb_buf_release(&have);
        }
        json_decref(x);
        json_decref(want);
    }
out:
    json_decref(r);
    return rc;
}

struct pending {
    struct wb_entry e;
    char *media[2]; /* the names Anki gave the picture and the audio */
};

static const enum wb_stage media_stage[2] = { WB_STAGE_IMAGE, WB_STAGE_AUDIO };

/* storeMediaFile for every picture and audio of the batch, in multi calls of
 * at most AC_MEDIA_BATCH_BYTES of base64. */
static int ac_store_media(struct ac *a, struct pending *p, size_t n)
{
    json_t *acts = json_array(), *r = NULL;
    struct {
        size_t entry;
        int which;
    } slot[2 * AC_BATCH];
    size_t used = 0, bytes = 0;
    struct wb_buf data, b64;
    int rc = 0;

    wb_buf_init(&data, AC_MEDIA_MAX);
    wb_buf_init(&b64, 0);
    for (size_t i = 0; i <= n && rc == 0; i++) {
        for (int m = 0; i < n && m < 2 && rc == 0; m++) {
            const char *file = export_stage_file(&p[i].e, media_stage[m]);
            char *name;
            struct wb_error ferr = { 0 };
            if (!file)
                continue;
            wb_buf_reset(&data);
            wb_buf_reset(&b64);
            /* Only files of the media store, by validated names (no path,
             * no symbolic link, valid bytes): nothing else reaches Anki. */
            if (wb_media_read(a->o->media_dir ? a->o->media_dir : ".", file, &data, &ferr) != 0) {
                wb_log(WB_LOG_WARN, "%s: %s; sent without it", p[i].e.word, wb_error_text(&ferr));
                continue;
            }
            if (!(name = anki_media_name(file)) || core_base64_encode(data.data, data.len, &b64) ||
                json_array_append_new(
                    acts, action("storeMediaFile", json_pack("{s:s, s:s}", "filename", name, "data",
                                                             b64.data))) != 0) {
                free(name);
                rc = wb_error_set(a->err, WB_ENOMEM, "out of memory");
                break;
            }
            free(name);
            slot[used].entry = i;
            slot[used].which = m;
            used++;
            bytes += b64.len;
        }
        /* Send what is gathered when it is big enough, or at the end. */
        if (rc == 0 && used > 0 && (i == n || bytes >= AC_MEDIA_BATCH_BYTES)) {
            if ((rc = ac_multi(a, acts, &r)) != 0) {
                acts = NULL;
                break;
            }
            for (size_t k = 0; k < used; k++) {
                json_t *name = json_object_get(json_array_get(r, k), "result");
                if (!json_is_string(name)) {
                    rc = wb_error_set(a->err, WB_EPARSE,
                                      "AnkiConnect storeMediaFile returned no file name");
                    break;
                }
                free(p[slot[k].entry].media[slot[k].which]);
                p[slot[k].entry].media[slot[k].which] = strdup(json_string_value(name));
                a->rep->media++;
            }
            json_decref(r);
            r = NULL;
            acts = json_array();
            used = bytes = 0;
        }
    }
    json_decref(acts);
    wb_buf_release(&data);
    wb_buf_release(&b64);
    return rc;
}

static json_t *fields_json(struct wb_buf f[ANKI_NFIELDS])
{
    json_t *o = json_object();
    for (int i = 0; o && i < ANKI_NFIELDS; i++)
        if (json_object_set_new(o, anki_field_names[i], json_string(f[i].data ? f[i].data : "")))
            break;
    return o;
}

/* One batch: media, find by key, compare, update the changed, add the new. */
static int ac_batch(struct ac *a, struct pending *p, size_t n)
{
    struct wb_buf f[ANKI_NFIELDS];
    json_t *find = json_array(), *found = NULL, *ids = json_array(), *info = NULL;
    json_t *updates = json_array(), *adds = json_array(), *r = NULL;
    json_int_t note_of[AC_BATCH];
    int rc;

    for (int i = 0; i < ANKI_NFIELDS; i++)
        wb_buf_init(&f[i], 0);
    if (!find || !ids || !updates || !adds) {
        rc = wb_error_set(a->err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if ((rc = ac_store_media(a, p, n)) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        char key[ANKI_KEY_MAX], q[ANKI_KEY_MAX + 64];
        anki_note_key(&p[i].e, key);
        snprintf(q, sizeof q, "\"note:%s\" \"Key:%s\"", ANKI_MODEL_NAME, key);
        json_array_append_new(find, action("findNotes", json_pack("{s:s}", "query", q)));
    }
    rc = ac_multi(a, find, &found);
    find = NULL;
    if (rc)
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *list = json_object_get(json_array_get(found, i), "result");
        note_of[i] = 0;
        if (json_is_array(list) && json_array_size(list) > 0) {
            note_of[i] = json_integer_value(json_array_get(list, 0));
            if (json_array_size(list) > 1)
                wb_log(WB_LOG_WARN, "%s: Anki has %zu notes with its key; updating the first",
                       p[i].e.word, json_array_size(list));
            json_array_append_new(ids, json_integer(note_of[i]));
        }
    }
    if (json_array_size(ids) > 0 &&
        (rc = ac_call(a, action("notesInfo", json_pack("{s:O}", "notes", ids)), &info)) != 0)
        goto out;
    for (size_t i = 0; i < n; i++) {
        json_t *have = NULL, *mine;
        size_t k;
        json_t *v;
        if ((rc = anki_note_fields(&p[i].e, p[i].media[0], p[i].media[1], f)) != 0) {
            rc = wb_error_set(a->err, rc, "out of memory");
            goto out;
        }
        if (!note_of[i]) {
            json_array_append_new(adds,
                                  json_pack("{s:s, s:s, s:o, s:[s], s:{s:b, s:s}}", "deckName",
                                            a->o->deck, "modelName", ANKI_MODEL_NAME, "fields",
                                            fields_json(f), "tags", "wordbank", "options",
                                            "allowDuplicate", 0, "duplicateScope", "collection"));
            continue;
        }
        json_array_foreach(info, k, v) {
            if (json_integer_value(json_object_get(v, "noteId")) == note_of[i])
                have = json_object_get(v, "fields");
        }
        int same = have != NULL;
        for (int j = 0; same && j < ANKI_NFIELDS; j++) {
            const char *hv = json_string_value(
                json_object_get(json_object_get(have, anki_field_names[j]), "value"));
            same = hv && strcmp(hv, f[j].data ? f[j].data : "") == 0;
        }
        if (same) {
            a->rep->unchanged++;
            continue;
        }
        mine = fields_json(f);
        json_array_append_new(
            updates, action("updateNoteFields",
                            json_pack("{s:{s:I, s:o}}", "note", "id", note_of[i], "fields", mine)));
    }
    if (json_array_size(updates) > 0) {
        size_t nu = json_array_size(updates);
        rc = ac_multi(a, updates, &r);
        updates = NULL;
        json_decref(r);
        r = NULL;
        if (rc)
            goto out;
        a->rep->updated += nu;
    }
    if (json_array_size(adds) > 0) {
        size_t i;
        json_t *v;
        rc = ac_call(a, action("addNotes", json_pack("{s:O}", "notes", adds)), &r);
        if (rc)
            goto out;
        json_array_foreach(r, i, v) {
            if (json_is_integer(v))
                a->rep->added++;
            else
                a->rep->failed++;
        }
        if (!json_is_array(r) || json_array_size(r) != json_array_size(adds)) {
            rc = wb_error_set(a->err, WB_EPARSE, "AnkiConnect addNotes: unexpected answer");
            goto out;
        }
    }
out:
    for (int i = 0; i < ANKI_NFIELDS; i++)
        wb_buf_release(&f[i]);
    json_decref(find);
    json_decref(found);
    json_decref(ids);
    json_decref(info);
    json_decref(updates);
    json_decref(adds);
    json_decref(r);
    return rc;
}

struct walk {
    struct ac *a;
    struct pending p[AC_BATCH];
    size_t n;
};

static void pending_clear(struct walk *w)
{
    for (size_t i = 0; i < w->n; i++) {
        wb_entry_release(&w->p[i].e);
        free(w->p[i].media[0]);
        free(w->p[i].media[1]);
        memset(&w->p[i], 0, sizeof w->p[i]);
    }
    w->n = 0;
}

static int walk_fn(void *ud, const struct wb_entry *e)
{
    struct walk *w = ud;
    int rc;
    wb_entry_init(&w->p[w->n].e);
    if (wb_entry_copy(&w->p[w->n].e, e) != 0)
        return wb_error_set(w->a->err, WB_ENOMEM, "out of memory");
    w->n++;
    if (w->n < AC_BATCH)
        return 0;
    rc = ac_batch(w->a, w->p, w->n);
    pending_clear(w);
    return rc;
}

static int anki_push(struct wb_store *st, const struct wb_config *cfg,
                     const struct wb_anki_push_opts *o, struct wb_anki_push_report *rep,
                     struct wb_error *err);

void wb_anki_push_opts_init(struct wb_anki_push_opts *o)
{
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
}

/* The caller's options and report by their sizes (wordbank/api.h). */
int wb_anki_push(struct wb_store *st, const struct wb_config *cfg,
                 const struct wb_anki_push_opts *o, struct wb_anki_push_report *rep,
                 struct wb_error *err)
{
    struct wb_anki_push_opts lo;
    struct wb_anki_push_report lr;
    int rc;
    if ((rc = core_sized_load(&lo, sizeof lo, o, CORE_SIZED_MIN(struct wb_anki_push_opts, url),
                              "anki push options", err)) ||
        (rc = core_sized_check(rep, sizeof lr,
                               CORE_SIZED_MIN(struct wb_anki_push_report, note_type_created),
                               "anki push report", err)))
        return rc;
    /* The notes' keys are hashes: libcrypto first, or the reason at once. */
    if ((rc = core_crypto_load(err)) < 0)
        return rc;
    rc = anki_push(st, cfg, &lo, &lr, err);
    core_sized_store(rep, &lr, sizeof lr);
    return rc;
}

static int anki_push(struct wb_store *st, const struct wb_config *cfg,
                     const struct wb_anki_push_opts *o, struct wb_anki_push_report *rep,
                     struct wb_error *err)
{
    struct ac a = { .cfg = cfg, .o = o, .rep = rep, .err = err };
    struct walk *w = NULL;
    int rc;

    memset(rep, 0, sizeof *rep);
    if (!o->url || !*o->url)
        return wb_error_set(err, WB_ECONFIG, "no AnkiConnect address (anki_url)");
    if (strncmp(o->url, "http://", 7) != 0 && strncmp(o->url, "https://", 8) != 0)
        return wb_error_set(err, WB_ECONFIG, "anki_url %s is not an http:// address", o->url);
    if (!o->deck || !*o->deck || strchr(o->deck, '"'))
        return wb_error_set(err, WB_EINVAL, "anki push needs a deck name (--deck NAME)");
    if (o->key && *o->key)
        wb_secret_register(o->key);
    if ((rc = ac_prepare(&a)) != 0)
        return rc;
    if (!(w = calloc(1, sizeof *w)))
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    w->a = &a;
    rc = wb_store_each(st, NULL, walk_fn, w, err);
    if (rc == 0 && w->n > 0)
        rc = ac_batch(&a, w->p, w->n);
    pending_clear(w);
    free(w);
    return rc;
}
