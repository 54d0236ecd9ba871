/* Reading and writing entries: the whole entry (put), only what the details
 * stage produced (set_details), one stage (set_stage), removal, and walks
 * over a filtered set in insertion order. Stages live in their own rows, so
 * writing one stage can never clobber another finished at the same time;
 * every write is one transaction (or one savepoint inside a batch).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/sized.h"
#include "core/util.h"
#include "store/store_internal.h"

#define ENTRY_COLUMNS                                                                     \
    "id, word, translation, language, context, reading, description, image_description, " \
    "created_at, updated_at, pitch_accent"

static char *col_dup(sqlite3_stmt *s, int i, int *oom)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    char *c;
    if (!t)
        return NULL;
    if (!(c = strdup((const char *)t)))
        *oom = 1;
    return c;
}

/* pitch_accent is stored as text, "1" or "0,2"; NULL when unknown. */
static void bind_pitch(sqlite3_stmt *s, int i, const struct wb_entry *e)
{
    char b[16 * WB_PITCH_MAX] = "";
    size_t n = e->n_pitch_accent > WB_PITCH_MAX ? WB_PITCH_MAX : e->n_pitch_accent;
    for (size_t k = 0; k < n; k++)
        snprintf(b + strlen(b), sizeof b - strlen(b), "%s%d", k ? "," : "", e->pitch_accent[k]);
    if (n)
        sqlite3_bind_text(s, i, b, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static void load_pitch(sqlite3_stmt *s, int i, struct wb_entry *e)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    e->n_pitch_accent = 0;
    while (t && *t && e->n_pitch_accent < WB_PITCH_MAX) {
        char *end;
        long v = strtol(t, &end, 10);
        if (end == t || v < 0 || v > 64)
            break;
        e->pitch_accent[e->n_pitch_accent++] = (int)v;
        t = *end == ',' ? end + 1 : end;
    }
}

static void bind_text(sqlite3_stmt *s, int i, const char *v)
{
    sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
}

static int check_key(struct wb_store *st, const char *word, const char *translation,
                     const char *language, struct wb_error *err)
{
    if (!word || !*word || !translation || !*translation || !language || !*language)
        return wb_error_set(err, WB_EINVAL,
                            "%s: an entry needs a non-empty word, translation and language",
                            st->path);
    return 0;
}

/* What goes in passes the entry rules every way in shares; entries stored
 * before those rules can still be read, updated by stage and removed. */
static int check_new(struct wb_store *st, const struct wb_entry *en, struct wb_error *err)
{
    struct wb_error e = { 0 };
    if (wb_entry_check(en->word, en->translation, en->context, en->language, &e))
        return wb_error_set(err, WB_EINVAL, "%s: %s", st->path, wb_error_text(&e));
    return 0;
}

/* Examples and stages of the entry whose columns s's current row holds. */
static int load_rest(struct wb_store *st, struct wb_entry *e, struct wb_error *err)
{
    sqlite3_stmt *s;
    int rc, oom = 0;
    if (!(s = store_stmt(st, ST_GET_EXAMPLES, err)))
        return err ? err->code : WB_EINTERNAL;
    sqlite3_bind_int64(s, 1, e->id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (wb_entry_add_example(e, (const char *)sqlite3_column_text(s, 0),
                                 (const char *)sqlite3_column_text(s, 1))) {
            sqlite3_reset(s);
            return wb_error_set(err, WB_ENOMEM, "%s: out of memory", st->path);
        }
    }
    if (rc != SQLITE_DONE) {
        rc = store_fail(st, rc, "reading examples", err);
        sqlite3_reset(s);
        return rc;
    }
    sqlite3_reset(s);

    if (!(s = store_stmt(st, ST_GET_STAGES, err)))
        return err ? err->code : WB_EINTERNAL;
    sqlite3_bind_int64(s, 1, e->id);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int stage = wb_stage_from_name((const char *)sqlite3_column_text(s, 0));
        int state = wb_state_from_name((const char *)sqlite3_column_text(s, 1));
        struct wb_stage_info *si;
        if (stage < 0 || state < 0)
            continue; /* the CHECK constraints make this unreachable */
        si = &e->stages[stage];
        wb_stage_info_release(si);
        si->state = (enum wb_state)state;
        si->error = col_dup(s, 2, &oom);
        si->file = col_dup(s, 3, &oom);
        si->provider = col_dup(s, 4, &oom);
        si->model = col_dup(s, 5, &oom);
        si->voice = col_dup(s, 6, &oom);
        si->tokens_in = sqlite3_column_int64(s, 7);
        si->tokens_out = sqlite3_column_int64(s, 8);
        si->updated_at = sqlite3_column_int64(s, 9);
    }
    if (rc != SQLITE_DONE) {
        rc = store_fail(st, rc, "reading stages", err);
        sqlite3_reset(s);
        return rc;
    }
    sqlite3_reset(s);
    return oom ? wb_error_set(err, WB_ENOMEM, "%s: out of memory", st->path) : 0;
}

/* An entry from a row of ENTRY_COLUMNS. */
static int load_row(struct wb_store *st, sqlite3_stmt *s, struct wb_entry *e, struct wb_error *err)
{
    int oom = 0;
    e->id = sqlite3_column_int64(s, 0);
    e->word = col_dup(s, 1, &oom);
    e->translation = col_dup(s, 2, &oom);
    e->language = col_dup(s, 3, &oom);
    e->context = col_dup(s, 4, &oom);
    e->reading = col_dup(s, 5, &oom);
    e->description = col_dup(s, 6, &oom);
    e->image_description = col_dup(s, 7, &oom);
    e->created_at = sqlite3_column_int64(s, 8);
    e->updated_at = sqlite3_column_int64(s, 9);
    load_pitch(s, 10, e);
    if (oom)
        return wb_error_set(err, WB_ENOMEM, "%s: out of memory", st->path);
    return 0;
}

int wb_store_find(struct wb_store *st, const char *word, const char *translation,
                  const char *language, int64_t *id, struct wb_error *err)
{
    sqlite3_stmt *s;
    int rc;
    if ((rc = check_key(st, word, translation, language, err)))
        return rc;
    if (!(s = store_stmt(st, ST_FIND, err)))
        return err ? err->code : WB_EINTERNAL;
    bind_text(s, 1, word);
    bind_text(s, 2, translation);
    bind_text(s, 3, language);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        if (id)
            *id = sqlite3_column_int64(s, 0);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = wb_error_set(err, WB_ENOTFOUND, "%s: no entry %s / %s (%s)", st->path, word,
                          translation, language);
    } else {
        rc = store_fail(st, rc, "looking up an entry", err);
    }
    sqlite3_reset(s);
    return rc;
}

int wb_store_get(struct wb_store *st, const char *word, const char *translation,
                 const char *language, struct wb_entry *out, struct wb_error *err)
{
    struct wb_entry e;
    sqlite3_stmt *s;
    int rc;
    wb_entry_init(&e);
    if ((rc = check_key(st, word, translation, language, err)))
        return rc;
    if (!(s = store_stmt(st, ST_GET, err)))
        return err ? err->code : WB_EINTERNAL;
    bind_text(s, 1, word);
    bind_text(s, 2, translation);
    bind_text(s, 3, language);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        rc = load_row(st, s, &e, err);
    } else if (rc == SQLITE_DONE) {
        rc = wb_error_set(err, WB_ENOTFOUND, "%s: no entry %s / %s (%s)", st->path, word,
                          translation, language);
    } else {
        rc = store_fail(st, rc, "reading an entry", err);
    }
    sqlite3_reset(s);
    if (rc == 0)
        rc = load_rest(st, &e, err);
    if (rc == 0) {
        wb_entry_release(out);
        *out = e;
    } else {
        wb_entry_release(&e);
    }
    return rc;
}

static int stage_is_blank(const struct wb_stage_info *si)
{
    return si->state == WB_STATE_MISSING && !si->error && !si->file && !si->provider &&
           !si->model && !si->voice && !si->tokens_in && !si->tokens_out;
}

/* 1 and *id when the key is stored, 0 when not, or a negative code. */
static int find_id(struct wb_store *st, const struct wb_entry *key, int64_t *id,
                   struct wb_error *err)
{
    sqlite3_stmt *s = store_stmt(st, ST_FIND, err);
    int rc;
    if (!s)
        return err ? err->code : WB_EINTERNAL;
    bind_text(s, 1, key->word);
    bind_text(s, 2, key->translation);
    bind_text(s, 3, key->language);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        rc = 1;
    } else {
        rc = rc == SQLITE_DONE ? 0 : store_fail(st, rc, "looking up an entry", err);
    }
    sqlite3_reset(s);
    return rc;
}

static int write_examples(struct wb_store *st, int64_t id, int is_new, const struct wb_entry *e,
                          struct wb_error *err)
{
    sqlite3_stmt *s;
    int rc;
    if (is_new)
        goto add;
    if (!(s = store_stmt(st, ST_DEL_EXAMPLES, err)))
        return err ? err->code : WB_EINTERNAL;
    sqlite3_bind_int64(s, 1, id);
    if ((rc = store_step_done(st, s, "replacing examples", err)))
        return rc;
add:
    for (size_t i = 0; i < e->n_examples; i++) {
        if (!(s = store_stmt(st, ST_ADD_EXAMPLE, err)))
            return err ? err->code : WB_EINTERNAL;
        sqlite3_bind_int64(s, 1, id);
        sqlite3_bind_int64(s, 2, (sqlite3_int64)i);
        bind_text(s, 3, e->examples[i].text ? e->examples[i].text : "");
        bind_text(s, 4, e->examples[i].translation);
        if ((rc = store_step_done(st, s, "writing an example", err)))
            return rc;
    }
    return 0;
}

static int write_stage(struct wb_store *st, int64_t id, enum wb_stage stage,
                       const struct wb_stage_info *si, int64_t now, struct wb_error *err)
{
    sqlite3_stmt *s;
    if (!(s = store_stmt(st, ST_SET_STAGE, err)))
        return err ? err->code : WB_EINTERNAL;
    sqlite3_bind_int64(s, 1, id);
    bind_text(s, 2, wb_stage_name(stage));
    bind_text(s, 3,
              wb_state_name((unsigned)si->state <= WB_STATE_FAILED ? si->state : WB_STATE_MISSING));
    bind_text(s, 4, si->error);
    bind_text(s, 5, si->file);
    bind_text(s, 6, si->provider);
    bind_text(s, 7, si->model);
    bind_text(s, 8, si->voice);
    sqlite3_bind_int64(s, 9, si->tokens_in);
    sqlite3_bind_int64(s, 10, si->tokens_out);
    sqlite3_bind_int64(s, 11, si->updated_at ? si->updated_at : now);
    return store_step_done(st, s, "writing a stage", err);
}

/* Write the entry row: every column of e (all = 1) or only the key and
 * context of a new row (all = 0; an existing row is only touched). */
static int write_row(struct wb_store *st, const struct wb_entry *e, int all, int64_t now,
                     int64_t *id, int *is_new, struct wb_error *err)
{
    sqlite3_stmt *s;
    int found = find_id(st, e, id, err), rc;
    if (found < 0)
        return found;
    if (is_new)
        *is_new = !found;
    if (found && !all) {
        if (!(s = store_stmt(st, ST_TOUCH, err)))
            return err ? err->code : WB_EINTERNAL;
        sqlite3_bind_int64(s, 1, *id);
        sqlite3_bind_int64(s, 2, now);
        return store_step_done(st, s, "writing an entry", err);
    }
    if (!(s = store_stmt(st, found ? ST_UPDATE : ST_INSERT, err)))
        return err ? err->code : WB_EINTERNAL;
    if (!found) {
        bind_text(s, 1, e->word);
        bind_text(s, 2, e->translation);
        bind_text(s, 3, e->language);
        sqlite3_bind_int64(s, 8, all && e->created_at ? e->created_at : now);
    } else {
        sqlite3_bind_int64(s, 10, *id);
    }
    bind_text(s, 4, e->context);
    if (all) {
        bind_text(s, 5, e->reading);
        bind_text(s, 6, e->description);
        bind_text(s, 7, e->image_description);
        bind_pitch(s, 11, e);
    }
    sqlite3_bind_int64(s, 9, now);
    if ((rc = store_step_done(st, s, "writing an entry", err)))
        return rc;
    if (!found)
        *id = sqlite3_last_insert_rowid(st->db);
    return 0;
}

int wb_store_put(struct wb_store *st, const struct wb_entry *e, struct wb_error *err)
{
    int64_t now = core_clock_wall_s(), id = 0;
    int rc, is_new = 0;
    if ((rc = check_key(st, e->word, e->translation, e->language, err)) ||
        (rc = check_new(st, e, err)) || (rc = store_op_begin(st, err)))
        return rc;
    if ((rc = write_row(st, e, 1, now, &id, &is_new, err)) ||
        (rc = write_examples(st, id, is_new, e, err)))
        goto out;
    for (int i = 0; i < WB_STAGE_COUNT && rc == 0; i++) {
        /* A new entry needs no row for a stage that never ran (no row = missing). */
        if (!is_new || !stage_is_blank(&e->stages[i]))
            rc = write_stage(st, id, (enum wb_stage)i, &e->stages[i], now, err);
    }
out:
    return store_op_end(st, rc, err);
}

int wb_store_set_details(struct wb_store *st, const struct wb_entry *e, struct wb_error *err)
{
    int64_t now = core_clock_wall_s(), id = 0;
    sqlite3_stmt *s;
    int rc, is_new = 0;
    if ((rc = check_key(st, e->word, e->translation, e->language, err)) ||
        (rc = store_op_begin(st, err)))
        return rc;
    if ((rc = write_row(st, e, 0, now, &id, &is_new, err)))
        goto out;
    if (!(s = store_stmt(st, ST_UPDATE_DETAILS, err))) {
        rc = err ? err->code : WB_EINTERNAL;
        goto out;
    }
    sqlite3_bind_int64(s, 1, id);
    bind_text(s, 2, e->reading);
    bind_text(s, 3, e->description);
    bind_text(s, 4, e->image_description);
    sqlite3_bind_int64(s, 5, now);
    bind_pitch(s, 6, e);
    if ((rc = store_step_done(st, s, "writing details", err)) ||
        (rc = write_examples(st, id, is_new, e, err)))
        goto out;
    rc = write_stage(st, id, WB_STAGE_DETAILS, &e->stages[WB_STAGE_DETAILS], now, err);
    if (rc == 0)
        rc = store_lease_drop(st, e, WB_STAGE_DETAILS, err);
out:
    return store_op_end(st, rc, err);
}

int wb_store_set_stage(struct wb_store *st, const struct wb_entry *key, enum wb_stage stage,
                       const struct wb_stage_info *info, struct wb_error *err)
{
    int64_t now = core_clock_wall_s(), id = 0;
    int rc;
    if ((unsigned)stage >= WB_STAGE_COUNT || !info)
        return wb_error_set(err, WB_EINVAL, "%s: no such stage %d", st->path, (int)stage);
    if ((rc = check_key(st, key->word, key->translation, key->language, err)) ||
        (rc = store_op_begin(st, err)))
        return rc;
    if ((rc = write_row(st, key, 0, now, &id, NULL, err)) == 0)
        rc = write_stage(st, id, stage, info, now, err);
    if (rc == 0)
        rc = store_lease_drop(st, key, stage, err);
    return store_op_end(st, rc, err);
}

int wb_store_remove(struct wb_store *st, const char *word, const char *translation,
                    const char *language, struct wb_error *err)
{
    sqlite3_stmt *s;
    int rc;
    if ((rc = check_key(st, word, translation, language, err)) || (rc = store_op_begin(st, err)))
        return rc;
    if (!(s = store_stmt(st, ST_REMOVE, err))) {
        rc = err ? err->code : WB_EINTERNAL;
        goto out;
    }
    bind_text(s, 1, word);
    bind_text(s, 2, translation);
    bind_text(s, 3, language);
    if ((rc = store_step_done(st, s, "removing an entry", err)))
        goto out;
    if (sqlite3_changes(st->db) == 0)
        rc = wb_error_set(err, WB_ENOTFOUND, "%s: no entry %s / %s (%s)", st->path, word,
                          translation, language);
out:
    return store_op_end(st, rc, err);
}

/* The statement for one combination of filters: "WHERE language = ?1 AND ...",
 * so SQLite can use the indexes (a "?1 IS NULL OR" form would defeat them). */
static int query_stmt(struct wb_store *st, const struct wb_store_query *q, int count,
                      sqlite3_stmt **out, int *fresh, struct wb_error *err)
{
    static const char *const cols[3] = { "language", "word", "translation" };
    struct wb_store_query lq = { 0 };
    const char *vals[3];
    sqlite3_stmt **slot, *s;
    struct wb_buf sql;
    int shape = 0, rc = 0, n = 0;
    /* The caller's filter by its size (wordbank/api.h). */
    if (q &&
        (rc = core_sized_load(&lq, sizeof lq, q, CORE_SIZED_MIN(struct wb_store_query, language),
                              "store query", err)))
        return rc;
    vals[0] = lq.language;
    vals[1] = lq.word;
    vals[2] = lq.translation;
    for (int i = 0; i < 3; i++)
        shape |= vals[i] ? 1 << i : 0;
    slot = count ? &st->count_stmts[shape] : &st->each_stmts[shape];
    *fresh = 0;
    /* A walk inside a walk's callback cannot share the busy statement. */
    if (*slot && !sqlite3_stmt_busy(*slot)) {
        s = *slot;
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        goto bind;
    }
    wb_buf_init(&sql, 0);
    wb_buf_appends(&sql, count ? "SELECT count(*) FROM entries"
                               : "SELECT " ENTRY_COLUMNS " FROM entries");
    for (int i = 0; i < 3; i++) {
        if (vals[i])
            wb_buf_appendf(&sql, "%s %s = ?%d", n++ ? " AND" : " WHERE", cols[i], i + 1);
    }
    if (!count)
        wb_buf_appends(&sql, " ORDER BY id");
    rc = sqlite3_prepare_v3(st->db, sql.data, -1, *slot ? 0 : SQLITE_PREPARE_PERSISTENT, &s, NULL);
    wb_buf_release(&sql);
    if (rc != SQLITE_OK) {
        rc = store_fail(st, rc, "preparing a query", err);
        sqlite3_finalize(s);
        return rc;
    }
    if (*slot)
        *fresh = 1;
    else
        *slot = s;
bind:
    for (int i = 0; i < 3; i++) {
        if (vals[i])
            bind_text(s, i + 1, vals[i]);
    }
    *out = s;
    return 0;
}

int wb_store_each(struct wb_store *st, const struct wb_store_query *q, wb_store_each_fn fn,
                  void *ud, struct wb_error *err)
{
    sqlite3_stmt *s = NULL;
    struct wb_entry e;
    int rc, fresh = 0;
    wb_entry_init(&e);
    if ((rc = query_stmt(st, q, 0, &s, &fresh, err)))
        return rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        wb_entry_release(&e);
        if ((rc = load_row(st, s, &e, err)) || (rc = load_rest(st, &e, err)))
            goto out;
        if ((rc = fn(ud, &e)) != 0)
            goto out;
    }
    rc = rc == SQLITE_DONE ? 0 : store_fail(st, rc, "reading entries", err);
out:
    wb_entry_release(&e);
    if (fresh)
        sqlite3_finalize(s);
    else
        sqlite3_reset(s);
    return rc;
}

int wb_store_count(struct wb_store *st, const struct wb_store_query *q, size_t *count,
                   struct wb_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc, fresh = 0;
    if ((rc = query_stmt(st, q, 1, &s, &fresh, err)))
        return rc;
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *count = (size_t)sqlite3_column_int64(s, 0);
        rc = 0;
    } else {
        rc = store_fail(st, rc, "counting entries", err);
    }
    if (fresh)
        sqlite3_finalize(s);
    else
        sqlite3_reset(s);
    return rc;
}
