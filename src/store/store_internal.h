/* Internal to src/store: the store handle, its cache of prepared statements
 * and the helpers shared by the open/migrate code (store.c, schema.c) and
 * the entry queries (entries.c). The only header in the project that
 * includes sqlite3.h.
 */
#ifndef WB_STORE_INTERNAL_H
#define WB_STORE_INTERNAL_H

#include <sqlite3.h>

#include "wordbank/store.h"

/* Every statement the store runs more than once, prepared on first use and
 * kept for the handle's life. */
enum store_stmt {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_SAVEPOINT,
    ST_RELEASE,
    ST_ROLLBACK_TO,
    ST_FIND,
    ST_GET,
    ST_GET_EXAMPLES,
    ST_GET_STAGES,
    ST_INSERT,
    ST_UPDATE,
    ST_TOUCH,
    ST_UPDATE_DETAILS,
    ST_DEL_EXAMPLES,
    ST_ADD_EXAMPLE,
    ST_SET_STAGE,
    ST_REMOVE,
    ST_STAGE_STATE,
    ST_LEASE_GET,
    ST_LEASE_PUT,
    ST_LEASE_DEL,
    ST_LEASE_DEL_MINE,
    ST_LEASE_BEAT,
    ST_RATE_GET,
    ST_RATE_PUT,
    ST__COUNT
};

/* wb_store_each/count statements, one per combination of query filters. */
#define STORE_QUERY_SHAPES 8

struct wb_store {
    sqlite3 *db;
    char *path;
    unsigned flags;
    int version;
    int in_batch;
    int light_batch; /* wb_store_begin_light: synchronous = NORMAL until it ends */
    int sync_normal; /* wb_store_set_sync(st, 0): no sync at each commit */
    int busy_ms;
    int sync_level;   /* the synchronous pragma last set: 0 none yet, 1 NORMAL, 2 FULL */
    uint64_t commits; /* write transactions committed (sqlite3_commit_hook) */
    sqlite3_stmt *stmts[ST__COUNT];
    sqlite3_stmt *each_stmts[STORE_QUERY_SHAPES];
    sqlite3_stmt *count_stmts[STORE_QUERY_SHAPES];
};

/* Map an SQLite result code to a WB_E* code. */
int store_map_rc(int rc);
/* Set err from the connection's last error: "PATH: what: sqlite message". */
int store_fail(struct wb_store *st, int rc, const char *what, struct wb_error *err);
/* The cached statement (reset, bindings cleared), or NULL with err set. */
sqlite3_stmt *store_stmt(struct wb_store *st, enum store_stmt which, struct wb_error *err);
/* Run a statement that returns no rows (reset afterwards). */
int store_step_done(struct wb_store *st, sqlite3_stmt *s, const char *what, struct wb_error *err);
/* Start/finish one all-or-nothing write: a transaction, or a savepoint in a batch. */
int store_op_begin(struct wb_store *st, struct wb_error *err);
int store_op_end(struct wb_store *st, int rc, struct wb_error *err);

/* synchronous = NORMAL (1) or FULL (0) for the commits that follow. */
int store_set_light(struct wb_store *st, int light);
/* Drop any lease on stage s of the entry: it was just committed (leases.c). */
int store_lease_drop(struct wb_store *st, const struct wb_entry *key, enum wb_stage s,
                     struct wb_error *err);

/* Read the schema version into st->version; refuse a foreign or newer file.
 * Only reads, so it is safe before anything else touches the file. */
int store_schema_check(struct wb_store *st, struct wb_error *err);
/* Bring the schema to WB_STORE_SCHEMA_VERSION (schema.c). */
int store_migrate(struct wb_store *st, struct wb_error *err);

#endif
