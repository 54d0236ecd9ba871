/* Runs sharing a word bank (leases) and request rates learned from 429s.
 *
 * A lease says "run T (process P on host H) is making stage S of entry K";
 * its heartbeat (wall-clock ms) shows the run is alive. wb_store_claim reads
 * a stage's state and its lease and takes the lease in the same write
 * transaction, so two runs can never both find a stage missing and both
 * make it. Committing the stage drops its lease (entries.c). A holder on this
 * host whose process is gone, or a heartbeat older than the ttl, loses the
 * lease to the next claim.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "store/store_internal.h"

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void bind_key(sqlite3_stmt *s, const char *word, const char *translation,
                     const char *language, enum wb_stage stage)
{
    sqlite3_bind_text(s, 1, word, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, translation, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, language, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, wb_stage_name(stage), -1, SQLITE_STATIC);
}

static int holder_gone(const char *host, long pid, const struct wb_lease_holder *me)
{
    if (!host || !me->host || strcmp(host, me->host) != 0 || pid <= 0)
        return 0;
    return kill((pid_t)pid, 0) != 0 && errno == ESRCH;
}

/* One stage: done, claimed (1) or busy (0). */
static int claim_one(struct wb_store *st, const char *word, const char *translation,
                     const char *language, enum wb_stage stage, int redo,
                     const struct wb_lease_holder *me, int64_t ttl_ms, int64_t now, int *is_done,
                     struct wb_error *err)
{
    sqlite3_stmt *s;
    int rc, free_now = 1;
    *is_done = 0;
    if (redo)
        goto lease;
    if (!(s = store_stmt(st, ST_STAGE_STATE, err)))
        return err ? err->code : WB_EINTERNAL;
    bind_key(s, word, translation, language, stage);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *state = (const char *)sqlite3_column_text(s, 0);
        *is_done = state && strcmp(state, "done") == 0;
    } else if (rc != SQLITE_DONE) {
        rc = store_fail(st, rc, "reading a stage", err);
        sqlite3_reset(s);
        return rc;
    }
    sqlite3_reset(s);
    if (*is_done)
        return 0;
lease:
    if (!(s = store_stmt(st, ST_LEASE_GET, err)))
        return err ? err->code : WB_EINTERNAL;
    bind_key(s, word, translation, language, stage);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        long pid = (long)sqlite3_column_int64(s, 0);
        const char *host = (const char *)sqlite3_column_text(s, 1);
        int64_t token = sqlite3_column_int64(s, 2), beat = sqlite3_column_int64(s, 3);
        free_now = token == me->token || now - beat > ttl_ms || holder_gone(host, pid, me);
    } else if (rc != SQLITE_DONE) {
        rc = store_fail(st, rc, "reading a lease", err);
        sqlite3_reset(s);
        return rc;
    }
    sqlite3_reset(s);
    if (!free_now)
        return 0;
    if (!(s = store_stmt(st, ST_LEASE_PUT, err)))
        return err ? err->code : WB_EINTERNAL;
    bind_key(s, word, translation, language, stage);
    sqlite3_bind_int64(s, 5, me->pid);
    sqlite3_bind_text(s, 6, me->host ? me->host : "", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 7, me->token);
    sqlite3_bind_int64(s, 8, now);
    if ((rc = store_step_done(st, s, "taking a lease", err)))
        return rc;
    return 1;
}

int wb_store_claim(struct wb_store *st, const char *word, const char *translation,
                   const char *language, unsigned want, unsigned redo,
                   const struct wb_lease_holder *me, int64_t ttl_ms, unsigned *claimed,
                   unsigned *done, struct wb_error *err)
{
    int64_t now = wall_ms();
    int rc;
    *claimed = *done = 0;
    if (!word || !*word || !translation || !*translation || !language || !*language)
        return wb_error_set(err, WB_EINVAL, "%s: a lease needs an entry's key", st->path);
    int light = !st->in_batch;
    if (light)
        store_set_light(st, 1);
    if ((rc = store_op_begin(st, err))) {
        if (light)
            store_set_light(st, 0);
        return rc;
    }
    for (int i = 0; i < WB_STAGE_COUNT; i++) {
        int is_done = 0;
        if (!(want & (1u << i)))
            continue;
        rc = claim_one(st, word, translation, language, (enum wb_stage)i, !!(redo & (1u << i)), me,
                       ttl_ms, now, &is_done, err);
        if (rc < 0)
            break;
        if (is_done)
            *done |= (1u << i);
        else if (rc == 1)
            *claimed |= (1u << i);
        rc = 0;
    }
    if (rc) {
        *claimed = *done = 0;
    }
    rc = store_op_end(st, rc, err);
    if (light)
        store_set_light(st, 0);
    return rc;
}

int store_lease_drop(struct wb_store *st, const struct wb_entry *key, enum wb_stage stage,
                     struct wb_error *err)
{
    sqlite3_stmt *s = store_stmt(st, ST_LEASE_DEL, err);
    if (!s)
        return err ? err->code : WB_EINTERNAL;
    bind_key(s, key->word, key->translation, key->language, stage);
    return store_step_done(st, s, "dropping a lease", err);
}

static int by_token(struct wb_store *st, enum store_stmt which, const struct wb_lease_holder *me,
                    const char *what, struct wb_error *err)
{
    sqlite3_stmt *s;
    int rc, light = !st->in_batch;
    if (light)
        store_set_light(st, 1);
    if ((rc = store_op_begin(st, err)))
        goto out;
    if (!(s = store_stmt(st, which, err))) {
        rc = err ? err->code : WB_EINTERNAL;
    } else {
        sqlite3_bind_int64(s, 1, me->token);
        if (which == ST_LEASE_BEAT)
            sqlite3_bind_int64(s, 2, wall_ms());
        rc = store_step_done(st, s, what, err);
    }
    rc = store_op_end(st, rc, err);
out:
    if (light)
        store_set_light(st, 0);
    return rc;
}

int wb_store_lease_heartbeat(struct wb_store *st, const struct wb_lease_holder *me,
                             struct wb_error *err)
{
    return by_token(st, ST_LEASE_BEAT, me, "refreshing leases", err);
}

int wb_store_lease_release_all(struct wb_store *st, const struct wb_lease_holder *me,
                               struct wb_error *err)
{
    return by_token(st, ST_LEASE_DEL_MINE, me, "releasing leases", err);
}

int wb_store_rate_get(struct wb_store *st, const char *model, double *rpm, int64_t *updated_s,
                      struct wb_error *err)
{
    sqlite3_stmt *s = store_stmt(st, ST_RATE_GET, err);
    int rc;
    if (!s)
        return err ? err->code : WB_EINTERNAL;
    sqlite3_bind_text(s, 1, model, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *rpm = sqlite3_column_double(s, 0);
        *updated_s = sqlite3_column_int64(s, 1);
        rc = 0;
    } else if (rc == SQLITE_DONE) {
        rc = WB_ENOTFOUND;
    } else {
        rc = store_fail(st, rc, "reading a rate", err);
    }
    sqlite3_reset(s);
    return rc;
}

int wb_store_rate_set(struct wb_store *st, const char *model, double rpm, struct wb_error *err)
{
    sqlite3_stmt *s;
    int rc;
    if (!model || !*model || !(rpm > 0))
        return wb_error_set(err, WB_EINVAL, "%s: a rate needs a model and a positive value",
                            st->path);
    if ((rc = store_op_begin(st, err)))
        return rc;
    if (!(s = store_stmt(st, ST_RATE_PUT, err))) {
        rc = err ? err->code : WB_EINTERNAL;
    } else {
        sqlite3_bind_text(s, 1, model, -1, SQLITE_STATIC);
        sqlite3_bind_double(s, 2, rpm);
        sqlite3_bind_int64(s, 3, core_clock_wall_s());
        rc = store_step_done(st, s, "storing a rate", err);
    }
    return store_op_end(st, rc, err);
}
