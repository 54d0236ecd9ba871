/* Opening and closing the store, the cache of prepared statements, batches
 * and the translation of SQLite's errors into ours (with the database's path
 * in every message). Opening never writes to a file before it has been read
 * and recognised as an SQLite database that is ours (or an empty one), so a
 * damaged or foreign file is reported and left byte-for-byte as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "store/store_internal.h"

#define STORE_BUSY_DEFAULT_MS 5000

static const char *const stmt_sql[ST__COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_SAVEPOINT] = "SAVEPOINT wb_op",
    [ST_RELEASE] = "RELEASE wb_op",
    [ST_ROLLBACK_TO] = "ROLLBACK TO wb_op",
    [ST_FIND] = "SELECT id FROM entries WHERE word = ?1 AND translation = ?2 AND language = ?3",
    [ST_GET] = "SELECT id, word, translation, language, context, reading, description, "
               "image_description, created_at, updated_at, pitch_accent FROM entries "
               "WHERE word = ?1 AND translation = ?2 AND language = ?3",
    [ST_GET_EXAMPLES] = "SELECT text, translation FROM examples WHERE entry_id = ?1 "
                        "ORDER BY position",
    [ST_GET_STAGES] = "SELECT stage, state, error, file, provider, model, voice, tokens_in, "
                      "tokens_out, updated_at FROM stages WHERE entry_id = ?1",
    /* Plain INSERT/UPDATE by id rather than an upsert with RETURNING, which
     * costs an ephemeral table per row (a third of a bulk import's time). */
    [ST_INSERT] = "INSERT INTO entries (word, translation, language, context, reading, "
                  "description, image_description, created_at, updated_at, pitch_accent) "
                  "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?11)",
    [ST_UPDATE] = "UPDATE entries SET context = ?4, reading = ?5, description = ?6, "
                  "image_description = ?7, updated_at = ?9, pitch_accent = ?11 WHERE id = ?10",
    [ST_TOUCH] = "UPDATE entries SET updated_at = ?2 WHERE id = ?1",
    [ST_UPDATE_DETAILS] = "UPDATE entries SET reading = ?2, description = ?3, "
                          "image_description = ?4, updated_at = ?5, pitch_accent = ?6 "
                          "WHERE id = ?1",
    [ST_DEL_EXAMPLES] = "DELETE FROM examples WHERE entry_id = ?1",
    [ST_ADD_EXAMPLE] = "INSERT INTO examples (entry_id, position, text, translation) "
                       "VALUES (?1, ?2, ?3, ?4)",
    [ST_SET_STAGE] = "INSERT OR REPLACE INTO stages (entry_id, stage, state, error, file, "
                     "provider, model, voice, tokens_in, tokens_out, updated_at) "
                     "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    [ST_REMOVE] = "DELETE FROM entries WHERE word = ?1 AND translation = ?2 AND language = ?3",
    [ST_STAGE_STATE] = "SELECT s.state FROM stages s JOIN entries e ON e.id = s.entry_id "
                       "WHERE e.word = ?1 AND e.translation = ?2 AND e.language = ?3 "
                       "AND s.stage = ?4",
    [ST_LEASE_GET] = "SELECT pid, host, token, heartbeat FROM leases WHERE word = ?1 "
                     "AND translation = ?2 AND language = ?3 AND stage = ?4",
    [ST_LEASE_PUT] = "INSERT OR REPLACE INTO leases (word, translation, language, stage, pid, "
                     "host, token, heartbeat) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    [ST_LEASE_DEL] = "DELETE FROM leases WHERE word = ?1 AND translation = ?2 AND language = ?3 "
                     "AND stage = ?4",
    [ST_LEASE_DEL_MINE] = "DELETE FROM leases WHERE token = ?1",
    [ST_LEASE_BEAT] = "UPDATE leases SET heartbeat = ?2 WHERE token = ?1",
    [ST_RATE_GET] = "SELECT rpm, updated_at FROM rates WHERE model = ?1",
    [ST_RATE_PUT] = "INSERT OR REPLACE INTO rates (model, rpm, updated_at) VALUES (?1, ?2, ?3)",
};

int store_map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return 0;
    case SQLITE_NOMEM:
        return WB_ENOMEM;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return WB_ELOCKED;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return WB_ECORRUPT;
    case SQLITE_FULL:
        return WB_ENOSPC;
    case SQLITE_TOOBIG:
        return WB_ETOOBIG;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
    case SQLITE_RANGE:
        return WB_EINVAL;
    case SQLITE_NOTFOUND:
        return WB_ENOTFOUND;
    case SQLITE_MISUSE:
    case SQLITE_INTERNAL:
    case SQLITE_ERROR:
        return WB_EINTERNAL;
    default: /* IOERR, CANTOPEN, PERM, READONLY, PROTOCOL, AUTH ... */
        return WB_EIO;
    }
}

int store_fail(struct wb_store *st, int rc, const char *what, struct wb_error *err)
{
    int code = store_map_rc(rc);
    const char *detail = st->db && sqlite3_errcode(st->db) != SQLITE_OK ? sqlite3_errmsg(st->db)
                                                                        : sqlite3_errstr(rc);
    const char *hint = "";
    int sys = st->db ? sqlite3_system_errno(st->db) : 0;
    if (!code)
        code = WB_EINTERNAL;
    /* SQLite says SQLITE_FULL only for short writes; a write refused outright
     * for lack of space comes back as an I/O error with the errno beside it. */
    if (code == WB_EIO && (sys == ENOSPC || sys == EDQUOT || sys == EFBIG))
        code = WB_ENOSPC;
    if (code == WB_ECORRUPT)
        hint = " (the file is damaged or not a database; it was left untouched)";
    else if (code == WB_ELOCKED)
        hint = " (another process is writing to it; waited for the busy timeout)";
    else if (code == WB_ENOSPC)
        hint = " (no space left for the database; the failed write was undone)";
    if (code == WB_EIO && sys)
        return wb_error_set(err, code, "%s: %s: %s (%s)", st->path, what, detail, strerror(sys));
    if (code == WB_ENOSPC && sys)
        return wb_error_set(err, code, "%s: %s: %s: %s%s", st->path, what, detail, strerror(sys),
                            hint);
    return wb_error_set(err, code, "%s: %s: %s%s", st->path, what, detail, hint);
}

sqlite3_stmt *store_stmt(struct wb_store *st, enum store_stmt which, struct wb_error *err)
{
    sqlite3_stmt *s = st->stmts[which];
    if (s) {
        sqlite3_reset(s);
        sqlite3_clear_bindings(s);
        return s;
    }
    int rc = sqlite3_prepare_v3(st->db, stmt_sql[which], -1, SQLITE_PREPARE_PERSISTENT, &s, NULL);
    if (rc != SQLITE_OK) {
        store_fail(st, rc, "preparing a statement", err);
        sqlite3_finalize(s);
        return NULL;
    }
    st->stmts[which] = s;
    return s;
}

int store_step_done(struct wb_store *st, sqlite3_stmt *s, const char *what, struct wb_error *err)
{
    int rc = sqlite3_step(s);
    if (rc == SQLITE_DONE || rc == SQLITE_ROW) {
        sqlite3_reset(s);
        return 0;
    }
    rc = store_fail(st, rc, what, err);
    sqlite3_reset(s);
    return rc;
}

static int run(struct wb_store *st, enum store_stmt which, const char *what, struct wb_error *err)
{
    sqlite3_stmt *s = store_stmt(st, which, err);
    return s ? store_step_done(st, s, what, err) : err ? err->code : WB_EINTERNAL;
}

int store_op_begin(struct wb_store *st, struct wb_error *err)
{
    if (st->flags & WB_STORE_READONLY)
        return wb_error_set(err, WB_EINVAL, "%s: opened read-only", st->path);
    return run(st, st->in_batch ? ST_SAVEPOINT : ST_BEGIN, "starting a write", err);
}

int store_op_end(struct wb_store *st, int rc, struct wb_error *err)
{
    if (rc == 0) {
        rc = run(st, st->in_batch ? ST_RELEASE : ST_COMMIT, "committing", err);
        if (rc == 0)
            return 0;
    }
    /* SQLite rolls the whole transaction back itself after some errors (disk
     * full, I/O); then the batch is gone and the caller must know. */
    if (sqlite3_get_autocommit(st->db)) {
        if (st->in_batch) {
            st->in_batch = 0;
            wb_error_prefix(err, "the batch was rolled back");
        }
        return rc;
    }
    if (st->in_batch) {
        run(st, ST_ROLLBACK_TO, "rolling back", NULL);
        run(st, ST_RELEASE, "rolling back", NULL);
    } else {
        run(st, ST_ROLLBACK, "rolling back", NULL);
    }
    return rc;
}

static int count_commit(void *ud)
{
    ((struct wb_store *)ud)->commits++;
    return 0; /* 0: the commit goes ahead */
}

static int exec_pragma(struct wb_store *st, const char *sql, struct wb_error *err)
{
    int rc = sqlite3_exec(st->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_fail(st, rc, sql, err);
}

/* Before SQLite sees the file: a clear message for the cases it would report
 * vaguely ("unable to open database file"). */
static int check_file(const char *path, unsigned flags, struct wb_error *err)
{
    struct stat sb;
    if (strcmp(path, ":memory:") == 0)
        return 0;
    if (stat(path, &sb) != 0) {
        if (errno == ENOENT && !(flags & WB_STORE_CREATE))
            return wb_error_set(err, WB_ENOTFOUND, "%s: no such word bank", path);
        if (errno == ENOENT)
            return 0;
        return wb_error_set(err, WB_EIO, "%s: %s", path, strerror(errno));
    }
    if (S_ISDIR(sb.st_mode))
        return wb_error_set(err, WB_EIO, "%s: is a directory, not a word bank", path);
    if (access(path, (flags & WB_STORE_READONLY) ? R_OK : R_OK | W_OK) != 0)
        return wb_error_set(err, WB_EIO, "%s: cannot %s it: %s", path,
                            (flags & WB_STORE_READONLY) ? "read" : "read and write",
                            strerror(errno));
    return 0;
}

/* A WAL-mode word bank opened read-only needs its -shm file, which a
 * read-only folder (or another user's) does not let SQLite create. When no
 * -wal file exists, every committed change is in the database file itself and
 * no writer is at work, so it is read as immutable instead. 0 when reopened. */
static int reopen_immutable(struct wb_store *st, struct wb_error *err)
{
    int code = sqlite3_errcode(st->db) & 0xff;
    char wal[4096], uri[3 * 4096 + 32];
    size_t o = 0;
    (void)err;
    if (code != SQLITE_READONLY && code != SQLITE_CANTOPEN)
        return -1;
    snprintf(wal, sizeof wal, "%s-wal", st->path);
    if (access(wal, F_OK) == 0 || strlen(st->path) >= 4096)
        return -1;
    o = (size_t)snprintf(uri, sizeof uri, "file:");
    for (const char *p = st->path; *p; p++) {
        if (*p == '%' || *p == '?' || *p == '#')
            o += (size_t)snprintf(uri + o, sizeof uri - o, "%%%02X", (unsigned char)*p);
        else
            uri[o++] = *p;
    }
    snprintf(uri + o, sizeof uri - o, "?immutable=1");
    sqlite3_close(st->db);
    st->db = NULL;
    if (sqlite3_open_v2(uri, &st->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK)
        return -1;
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_busy_timeout(st->db, st->busy_ms);
    return 0;
}

/* A bank that does not exist yet is made aside and put in place whole
 * (core_file_publish): its schema is written with neither journal nor sync
 * (no one can see that file yet), then the file is synced once. Made in
 * place it took seven fsyncs (the rollback journal that writes the first
 * page, the switch to WAL, the migration committed under FULL): ~20 ms on a
 * virtual disk, before a first run's first request. A process that creates
 * the bank meanwhile wins and ours is dropped: 0 then too; the caller opens
 * path either way. A crash leaves no bank (the next open makes it again)
 * and at worst a stray "<path>.new-<pid>". */
static int create_aside(const char *path, struct wb_error *err)
{
    static const char *const side[] = { "", "-journal", "-wal", "-shm" };
    struct wb_store tmp = { 0 };
    struct wb_buf name, extra;
    int rc;

    wb_buf_init(&name, 0);
    wb_buf_init(&extra, 0);
    if (wb_buf_appendf(&name, "%s.new-%ld", path, core_getpid()) != 0) {
        rc = wb_error_set(err, WB_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    unlink(name.data);       /* a stray one of an earlier process with our pid */
    tmp.path = (char *)path; /* messages name the bank */
    tmp.flags = WB_STORE_CREATE;
    rc = sqlite3_open_v2(name.data, &tmp.db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = store_fail(&tmp, rc, "creating", err);
        goto out;
    }
    sqlite3_extended_result_codes(tmp.db, 1);
    if ((rc = exec_pragma(&tmp, "PRAGMA journal_mode = OFF", err)) ||
        (rc = exec_pragma(&tmp, "PRAGMA synchronous = OFF", err)) ||
        (rc = store_migrate(&tmp, err)) ||
        (rc = exec_pragma(&tmp, "PRAGMA journal_mode = WAL", err)))
        goto out;
    rc = sqlite3_close(tmp.db);
    tmp.db = NULL;
    if (rc != SQLITE_OK) {
        rc = wb_error_set(err, store_map_rc(rc), "%s: closing the new bank: %s", path,
                          sqlite3_errstr(rc));
        goto out;
    }
    rc = core_file_publish(name.data, path, err);
    if (rc == WB_EEXIST) {
        wb_error_clear(err);
        rc = 0;
    }
out:
    if (tmp.db)
        sqlite3_close(tmp.db);
    for (size_t i = 0; rc && i < sizeof side / sizeof side[0]; i++) {
        wb_buf_reset(&extra);
        if (wb_buf_appendf(&extra, "%s%s", name.data, side[i]) == 0)
            unlink(extra.data);
    }
    wb_buf_release(&name);
    wb_buf_release(&extra);
    return rc;
}

int wb_store_open(const char *path, unsigned flags, struct wb_store **out, struct wb_error *err)
{
    struct wb_store *st = NULL;
    int rc, oflags;
    *out = NULL;
    if (!path || !*path)
        return wb_error_set(err, WB_EINVAL, "no database path given");
    if ((flags & WB_STORE_READONLY) && (flags & WB_STORE_CREATE))
        return wb_error_set(err, WB_EINVAL, "%s: cannot create a database read-only", path);
    if ((rc = check_file(path, flags, err)))
        return rc;
    if ((flags & WB_STORE_CREATE) && strcmp(path, ":memory:") != 0 &&
        strncmp(path, "file:", 5) != 0 && access(path, F_OK) != 0 && errno == ENOENT &&
        (rc = create_aside(path, err)))
        return rc;
    st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        rc = wb_error_set(err, WB_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    st->flags = flags;
    oflags = (flags & WB_STORE_READONLY)
                 ? SQLITE_OPEN_READONLY
                 : SQLITE_OPEN_READWRITE | ((flags & WB_STORE_CREATE) ? SQLITE_OPEN_CREATE : 0);
    rc = sqlite3_open_v2(path, &st->db, oflags | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc != SQLITE_OK) {
        rc = store_fail(st, rc, "opening", err);
        goto out;
    }
    sqlite3_extended_result_codes(st->db, 1);
    sqlite3_commit_hook(st->db, count_commit, st);
    st->busy_ms = STORE_BUSY_DEFAULT_MS;
    sqlite3_busy_timeout(st->db, st->busy_ms);
    /* Read first: a non-database or foreign file fails here, untouched. */
    rc = store_schema_check(st, err);
    if (rc && (flags & WB_STORE_READONLY) && reopen_immutable(st, err) == 0) {
        wb_error_clear(err);
        rc = store_schema_check(st, err);
    }
    if (rc)
        goto out;
    if (!(flags & WB_STORE_READONLY)) {
        /* Turning an old rollback-journal bank into WAL takes an exclusive
         * lock. Two processes opening it at once can both hold a shared lock
         * and want it: SQLite then answers BUSY at once, without its busy
         * handler (waiting would deadlock), so the retry is ours, within the
         * busy timeout. */
        for (int waited = 0;; waited += 20) {
            rc = sqlite3_exec(st->db, "PRAGMA journal_mode = WAL", NULL, NULL, NULL);
            if ((rc & 0xff) != SQLITE_BUSY || waited >= st->busy_ms)
                break;
            nanosleep(&(struct timespec){ .tv_nsec = 20 * 1000000L }, NULL);
        }
        if (rc != SQLITE_OK) {
            rc = store_fail(st, rc, "PRAGMA journal_mode = WAL", err);
            goto out;
        }
    }
    if ((rc = exec_pragma(st, "PRAGMA foreign_keys = ON", err)) ||
        (rc = exec_pragma(st, "PRAGMA synchronous = FULL", err)) ||
        (rc = exec_pragma(st, "PRAGMA temp_store = MEMORY", err)) || (rc = store_migrate(st, err)))
        goto out;
    st->sync_level = 2; /* FULL, set above */
    *out = st;
    st = NULL;
out:
    wb_store_close(st);
    return rc;
}

void wb_store_close(struct wb_store *st)
{
    if (!st)
        return;
    if (st->in_batch)
        wb_store_rollback(st);
    for (int i = 0; i < ST__COUNT; i++)
        sqlite3_finalize(st->stmts[i]);
    for (int i = 0; i < STORE_QUERY_SHAPES; i++) {
        sqlite3_finalize(st->each_stmts[i]);
        sqlite3_finalize(st->count_stmts[i]);
    }
    sqlite3_close(st->db);
    free(st->path);
    free(st);
}

const char *wb_store_path(const struct wb_store *st)
{
    return st->path;
}

int wb_store_schema_version(const struct wb_store *st)
{
    return st->version;
}

int wb_store_set_busy_timeout(struct wb_store *st, int ms, struct wb_error *err)
{
    int rc = sqlite3_busy_timeout(st->db, ms < 0 ? 0 : ms);
    if (rc != SQLITE_OK)
        return store_fail(st, rc, "setting the busy timeout", err);
    st->busy_ms = ms < 0 ? 0 : ms;
    return 0;
}

int store_set_light(struct wb_store *st, int light)
{
    int full = !light && !st->sync_normal, level = full ? 2 : 1;
    /* Each claim switches to NORMAL and back: a pragma parsed and run twice
     * a claim for nothing when the level is already the one wanted (all of
     * a run, which commits with NORMAL throughout). */
    if (st->sync_level == level)
        return 0;
    if (sqlite3_exec(st->db, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL",
                     NULL, NULL, NULL) != SQLITE_OK)
        return WB_EIO;
    st->sync_level = level;
    return 0;
}

uint64_t wb_store_commits(const struct wb_store *st)
{
    return st ? st->commits : 0;
}

int wb_store_set_sync(struct wb_store *st, int each_commit, struct wb_error *err)
{
    st->sync_normal = !each_commit;
    if (store_set_light(st, 0) != 0)
        return store_fail(st, sqlite3_errcode(st->db), "setting synchronous", err);
    return 0;
}

int wb_store_sync(struct wb_store *st, struct wb_error *err)
{
    /* A checkpoint syncs the log, then the database. */
    int rc = sqlite3_wal_checkpoint_v2(st->db, NULL, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    if (rc != SQLITE_OK && rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
        return store_fail(st, rc, "syncing", err);
    return 0;
}

int wb_store_begin_light(struct wb_store *st, struct wb_error *err)
{
    int rc;
    if (st->in_batch)
        return wb_error_set(err, WB_EINVAL, "%s: a batch is already open", st->path);
    store_set_light(st, 1);
    if ((rc = wb_store_begin(st, err)) != 0) {
        store_set_light(st, 0);
        return rc;
    }
    st->light_batch = 1;
    return 0;
}

int wb_store_begin(struct wb_store *st, struct wb_error *err)
{
    int rc;
    if (st->in_batch)
        return wb_error_set(err, WB_EINVAL, "%s: a batch is already open", st->path);
    if (st->flags & WB_STORE_READONLY)
        return wb_error_set(err, WB_EINVAL, "%s: opened read-only", st->path);
    if ((rc = run(st, ST_BEGIN, "starting a batch", err)))
        return rc;
    st->in_batch = 1;
    return 0;
}

int wb_store_commit(struct wb_store *st, struct wb_error *err)
{
    int rc;
    if (!st->in_batch)
        return wb_error_set(err, WB_EINVAL, "%s: no batch is open", st->path);
    rc = run(st, ST_COMMIT, "committing a batch", err);
    if (rc && !sqlite3_get_autocommit(st->db))
        run(st, ST_ROLLBACK, "rolling back", NULL);
    st->in_batch = 0;
    if (st->light_batch)
        store_set_light(st, 0);
    st->light_batch = 0;
    return rc;
}

int wb_store_rollback(struct wb_store *st)
{
    int rc = 0;
    if (st->in_batch && !sqlite3_get_autocommit(st->db))
        rc = run(st, ST_ROLLBACK, "rolling back a batch", NULL);
    st->in_batch = 0;
    if (st->light_batch)
        store_set_light(st, 0);
    st->light_batch = 0;
    return rc;
}

int wb_store_in_batch(const struct wb_store *st)
{
    return st->in_batch;
}

int wb_store_check(struct wb_store *st, int full, struct wb_error *err)
{
    sqlite3_stmt *s = NULL;
    struct wb_buf found;
    int rc, n = 0;
    wb_buf_init(&found, 4096);
    rc = sqlite3_prepare_v2(st->db, full ? "PRAGMA integrity_check" : "PRAGMA quick_check", -1, &s,
                            NULL);
    if (rc != SQLITE_OK) {
        rc = store_fail(st, rc, "checking integrity", err);
        goto out;
    }
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const char *line = (const char *)sqlite3_column_text(s, 0);
        if (line && strcmp(line, "ok") != 0 && n++ < 5)
            wb_buf_appendf(&found, "%s%s", found.len ? "; " : "", line);
    }
    if (rc != SQLITE_DONE) {
        rc = store_fail(st, rc, "checking integrity", err);
        goto out;
    }
    rc = n ? wb_error_set(err, WB_ECORRUPT, "%s: integrity check failed: %s", st->path, found.data)
           : 0;
out:
    sqlite3_finalize(s);
    wb_buf_release(&found);
    return rc;
}

#ifdef WB_TORTURE
/* Allocation-failure torture (core/torture.h): SQLite allocates through the
 * same counter as the library. SQLite needs each allocation's size, kept in
 * an 8-byte header. Installed before SQLite initialises. */
#    include "core/torture.h"

static void *store_torture_malloc(int n)
{
    sqlite3_int64 *p = core_torture_malloc((size_t)n + 8);
    if (!p)
        return NULL;
    p[0] = n;
    return p + 1;
}

static void store_torture_free(void *p)
{
    if (p)
        free((sqlite3_int64 *)p - 1);
}

static void *store_torture_realloc(void *p, int n)
{
    sqlite3_int64 *q;
    if (!p)
        return store_torture_malloc(n);
    q = core_torture_realloc((sqlite3_int64 *)p - 1, (size_t)n + 8);
    if (!q)
        return NULL;
    q[0] = n;
    return q + 1;
}

static int store_torture_size(void *p)
{
    return p ? (int)((sqlite3_int64 *)p)[-1] : 0;
}

static int store_torture_roundup(int n)
{
    return (n + 7) & ~7;
}

static int store_torture_init(void *ud)
{
    (void)ud;
    return SQLITE_OK;
}

static void store_torture_shutdown(void *ud)
{
    (void)ud;
}

__attribute__((constructor)) static void store_torture_install(void)
{
    static const sqlite3_mem_methods m = {
        .xMalloc = store_torture_malloc,
        .xFree = store_torture_free,
        .xRealloc = store_torture_realloc,
        .xSize = store_torture_size,
        .xRoundup = store_torture_roundup,
        .xInit = store_torture_init,
        .xShutdown = store_torture_shutdown,
    };
    sqlite3_config(SQLITE_CONFIG_MALLOC, &m);
}
#endif
