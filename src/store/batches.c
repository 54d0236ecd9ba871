/* The batch job table: every Gemini batch job a run submitted, with the
 * entries it carries, recorded in one transaction with the submission's
 * answer, so that a run killed at any moment never submits an entry twice.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "store/store_internal.h"
#include "wordbank/store.h"

static char *dup_col(sqlite3_stmt *s, int i)
{
    const unsigned char *t = sqlite3_column_text(s, i);
    return t ? strdup((const char *)t) : NULL;
}

static int prep(struct wb_store *st, const char *sql, sqlite3_stmt **s, struct wb_error *err)
{
    int rc = sqlite3_prepare_v2(st->db, sql, -1, s, NULL);
    if (rc != SQLITE_OK) {
        sqlite3_finalize(*s);
        *s = NULL;
        return store_fail(st, rc, "preparing a batch query", err);
    }
    return 0;
}

static int step_done(struct wb_store *st, sqlite3_stmt *s, const char *what, struct wb_error *err)
{
    int rc = sqlite3_step(s);
    if (rc != SQLITE_DONE)
        return store_fail(st, rc, what, err);
    return 0;
}

int wb_store_batch_add(struct wb_store *st, const struct wb_batch_job *job,
                       const struct wb_batch_key *keys, size_t n, struct wb_error *err)
{
    sqlite3_stmt *s = NULL, *k = NULL;
    int64_t now = (int64_t)time(NULL);
    int rc;
    if (!job || !job->name || !job->model || !job->state)
        return wb_error_set(err, WB_EINVAL, "a batch job needs a name, a model and a state");
    if ((rc = wb_store_begin(st, err)))
        return rc;
    rc = prep(st,
              "INSERT INTO batch_jobs (name, model, stage, state, input_file, collected, requests, "
              "succeeded, failed, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, 0, ?6, 0, 0, "
              "?7, ?7)",
              &s, err);
    if (!rc)
        rc = prep(st,
                  "INSERT INTO batch_keys (job, idx, word, translation, language) VALUES (?1, ?2, "
                  "?3, ?4, ?5)",
                  &k, err);
    if (!rc) {
        sqlite3_bind_text(s, 1, job->name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, job->model, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, wb_stage_name(job->stage), -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, job->state, -1, SQLITE_STATIC);
        if (job->input_file)
            sqlite3_bind_text(s, 5, job->input_file, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 6, (sqlite3_int64)n);
        sqlite3_bind_int64(s, 7, now);
        rc = step_done(st, s, "recording a batch job", err);
    }
    for (size_t i = 0; !rc && i < n; i++) {
        sqlite3_reset(k);
        sqlite3_bind_text(k, 1, job->name, -1, SQLITE_STATIC);
        sqlite3_bind_int64(k, 2, (sqlite3_int64)i);
        sqlite3_bind_text(k, 3, keys[i].word, -1, SQLITE_STATIC);
        sqlite3_bind_text(k, 4, keys[i].translation, -1, SQLITE_STATIC);
        sqlite3_bind_text(k, 5, keys[i].language, -1, SQLITE_STATIC);
        rc = step_done(st, k, "recording a batch job's entries", err);
    }
    sqlite3_finalize(s);
    sqlite3_finalize(k);
    if (rc) {
        wb_store_rollback(st);
        return rc;
    }
    return wb_store_commit(st, err);
}

int wb_store_batch_update(struct wb_store *st, const char *name, const char *state,
                          int64_t succeeded, int64_t failed, int collected, struct wb_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc = prep(st,
                  "UPDATE batch_jobs SET state = ?2, succeeded = ?3, failed = ?4, "
                  "collected = max(collected, ?5), updated_at = ?6 WHERE name = ?1",
                  &s, err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, succeeded);
    sqlite3_bind_int64(s, 4, failed);
    sqlite3_bind_int(s, 5, collected ? 1 : 0);
    sqlite3_bind_int64(s, 6, (int64_t)time(NULL));
    rc = step_done(st, s, "updating a batch job", err);
    if (!rc && sqlite3_changes(st->db) == 0)
        rc = wb_error_set(err, WB_ENOTFOUND, "no batch job %s in this word bank", name);
    sqlite3_finalize(s);
    return rc;
}

int wb_store_batch_rename(struct wb_store *st, const char *old_name, const char *new_name,
                          const char *state, struct wb_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc =
        prep(st, "UPDATE batch_jobs SET name = ?2, state = ?3, updated_at = ?4 WHERE name = ?1", &s,
             err);
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, old_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, new_name, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, state, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (int64_t)time(NULL));
    rc = step_done(st, s, "naming a batch job", err);
    if (!rc && sqlite3_changes(st->db) == 0)
        rc = wb_error_set(err, WB_ENOTFOUND, "no batch job %s in this word bank", old_name);
    sqlite3_finalize(s);
    return rc;
}

int wb_store_batch_remove(struct wb_store *st, const char *name, struct wb_error *err)
{
    sqlite3_stmt *s = NULL, *k = NULL;
    int rc;
    if ((rc = wb_store_begin(st, err)))
        return rc;
    rc = prep(st, "DELETE FROM batch_keys WHERE job = ?1", &k, err);
    if (!rc)
        rc = prep(st, "DELETE FROM batch_jobs WHERE name = ?1", &s, err);
    if (!rc) {
        sqlite3_bind_text(k, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
        rc = step_done(st, k, "removing a batch job", err);
        if (!rc)
            rc = step_done(st, s, "removing a batch job", err);
    }
    sqlite3_finalize(s);
    sqlite3_finalize(k);
    if (rc) {
        wb_store_rollback(st);
        return rc;
    }
    return wb_store_commit(st, err);
}

void wb_batch_jobs_free(struct wb_batch_job *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].model);
        free(v[i].state);
        free(v[i].input_file);
    }
    free(v);
}

void wb_batch_keys_free(struct wb_batch_key *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].word);
        free(v[i].translation);
        free(v[i].language);
    }
    free(v);
}

int wb_store_batch_list(struct wb_store *st, int uncollected_only, struct wb_batch_job **out,
                        size_t *n, struct wb_error *err)
{
    sqlite3_stmt *s = NULL;
    struct wb_batch_job *v = NULL;
    size_t len = 0, cap = 0;
    int rc = prep(st,
                  "SELECT name, model, stage, state, input_file, collected, requests, succeeded, "
                  "failed, created_at, updated_at FROM batch_jobs WHERE collected = 0 OR ?1 = 0 "
                  "ORDER BY created_at, name",
                  &s, err);
    *out = NULL;
    *n = 0;
    if (rc)
        return rc;
    sqlite3_bind_int(s, 1, uncollected_only ? 1 : 0);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct wb_batch_job *j;
        if (CORE_ARRAY_RESERVE(v, len, cap, 1, 0) != 0) {
            rc = SQLITE_NOMEM;
            break;
        }
        j = &v[len++];
        memset(j, 0, sizeof *j);
        j->name = dup_col(s, 0);
        j->model = dup_col(s, 1);
        j->stage = (enum wb_stage)wb_stage_from_name((const char *)sqlite3_column_text(s, 2));
        j->state = dup_col(s, 3);
        j->input_file = dup_col(s, 4);
        j->collected = sqlite3_column_int(s, 5);
        j->requests = sqlite3_column_int64(s, 6);
        j->succeeded = sqlite3_column_int64(s, 7);
        j->failed = sqlite3_column_int64(s, 8);
        j->created_at = sqlite3_column_int64(s, 9);
        j->updated_at = sqlite3_column_int64(s, 10);
        if (!j->name || !j->model || !j->state) {
            rc = SQLITE_NOMEM;
            break;
        }
    }
    if (rc != SQLITE_DONE) {
        rc = store_fail(st, rc, "listing batch jobs", err);
        sqlite3_finalize(s);
        wb_batch_jobs_free(v, len);
        return rc;
    }
    sqlite3_finalize(s);
    *out = v;
    *n = len;
    return 0;
}

int wb_store_batch_keys(struct wb_store *st, const char *name, struct wb_batch_key **out, size_t *n,
                        struct wb_error *err)
{
    sqlite3_stmt *s = NULL;
    struct wb_batch_key *v = NULL;
    size_t len = 0, cap = 0;
    int rc = prep(st,
                  "SELECT idx, word, translation, language FROM batch_keys WHERE job = ?1 "
                  "ORDER BY idx",
                  &s, err);
    *out = NULL;
    *n = 0;
    if (rc)
        return rc;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        size_t idx = (size_t)sqlite3_column_int64(s, 0);
        if (idx >= cap) {
            size_t old = cap;
            if (CORE_ARRAY_RESERVE(v, idx, cap, 1, 0) != 0) {
                rc = SQLITE_NOMEM;
                break;
            }
            memset(v + old, 0, (cap - old) * sizeof *v);
        }
        v[idx].word = dup_col(s, 1);
        v[idx].translation = dup_col(s, 2);
        v[idx].language = dup_col(s, 3);
        if (idx + 1 > len)
            len = idx + 1;
    }
    if (rc != SQLITE_DONE) {
        rc = store_fail(st, rc, "reading a batch job's entries", err);
        sqlite3_finalize(s);
        wb_batch_keys_free(v, cap);
        return rc;
    }
    sqlite3_finalize(s);
    *out = v;
    *n = len;
    return 0;
}
