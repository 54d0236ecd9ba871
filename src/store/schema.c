/* The schema and its forward migrations. The file's PRAGMA user_version says
 * which steps have run; opening runs the missing ones, in order, inside one
 * write transaction, so a crash mid-migration leaves the old version intact.
 * PRAGMA application_id marks the file as ours: a database that belongs to
 * another program is refused rather than filled with our tables.
 *
 * A new schema change is a new step appended to the table (never edit a
 * released step) and WB_STORE_SCHEMA_VERSION in store.h goes up by one.
 */
#include <stdlib.h>

#include "store/store_internal.h"

#define STORE_APPLICATION_ID 0x57424e4b /* "WBNK" */

struct migration {
    int version;
    const char *sql;
};

static const struct migration migrations[] = {
    { 1, /* the initial schema */
      "PRAGMA application_id = 1463963211;\n"
      "CREATE TABLE entries (\n"
      "  id INTEGER PRIMARY KEY,\n"
      "  word TEXT NOT NULL CHECK (word <> ''),\n"
      "  translation TEXT NOT NULL CHECK (translation <> ''),\n"
      "  language TEXT NOT NULL CHECK (language <> ''),\n"
      "  context TEXT,\n"
      "  reading TEXT,\n"
      "  description TEXT,\n"
      "  image_description TEXT,\n"
      "  created_at INTEGER NOT NULL,\n"
      "  updated_at INTEGER NOT NULL,\n"
      "  UNIQUE (word, translation, language)\n"
      ");\n"
      "CREATE TABLE examples (\n"
      "  entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,\n"
      "  position INTEGER NOT NULL,\n"
      "  text TEXT NOT NULL,\n"
      "  translation TEXT,\n"
      "  PRIMARY KEY (entry_id, position)\n"
      ") WITHOUT ROWID;\n"
      "CREATE TABLE stages (\n"
      "  entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,\n"
      "  stage TEXT NOT NULL CHECK (stage IN ('details', 'image', 'audio')),\n"
      "  state TEXT NOT NULL CHECK (state IN ('missing', 'done', 'failed')),\n"
      "  error TEXT,\n"
      "  file TEXT,\n"
      "  provider TEXT,\n"
      "  model TEXT,\n"
      "  voice TEXT,\n"
      "  tokens_in INTEGER NOT NULL DEFAULT 0,\n"
      "  tokens_out INTEGER NOT NULL DEFAULT 0,\n"
      "  updated_at INTEGER NOT NULL DEFAULT 0,\n"
      "  PRIMARY KEY (entry_id, stage)\n"
      ") WITHOUT ROWID;\n" },
    { 2, /* `list --lang xx` walks one language in insertion order */
      "CREATE INDEX entries_by_language ON entries (language, id);\n" },
    { 3, /* Japanese pitch accent: downstep mora positions, "1" or "0,2" */
      "ALTER TABLE entries ADD COLUMN pitch_accent TEXT;\n" },
    { 4, /* Gemini batch jobs and the entries each one carries (wordbank batch) */
      "CREATE TABLE batch_jobs (\n"
      "  name TEXT PRIMARY KEY,\n"
      "  model TEXT NOT NULL,\n"
      "  stage TEXT NOT NULL CHECK (stage IN ('details', 'image', 'audio')),\n"
      "  state TEXT NOT NULL,\n"
      "  input_file TEXT,\n"
      "  collected INTEGER NOT NULL DEFAULT 0,\n"
      "  requests INTEGER NOT NULL DEFAULT 0,\n"
      "  succeeded INTEGER NOT NULL DEFAULT 0,\n"
      "  failed INTEGER NOT NULL DEFAULT 0,\n"
      "  created_at INTEGER NOT NULL,\n"
      "  updated_at INTEGER NOT NULL\n"
      ") WITHOUT ROWID;\n"
      "CREATE TABLE batch_keys (\n"
      "  job TEXT NOT NULL REFERENCES batch_jobs(name) ON DELETE CASCADE ON UPDATE CASCADE,\n"
      "  idx INTEGER NOT NULL,\n"
      "  word TEXT NOT NULL,\n"
      "  translation TEXT NOT NULL,\n"
      "  language TEXT NOT NULL,\n"
      "  PRIMARY KEY (job, idx)\n"
      ") WITHOUT ROWID;\n" },
    { 5, /* runs sharing a word bank: who is making a stage; rates learned from 429s */
      "CREATE TABLE leases (\n"
      "  word TEXT NOT NULL,\n"
      "  translation TEXT NOT NULL,\n"
      "  language TEXT NOT NULL,\n"
      "  stage TEXT NOT NULL CHECK (stage IN ('details', 'image', 'audio')),\n"
      "  pid INTEGER NOT NULL,\n"
      "  host TEXT NOT NULL,\n"
      "  token INTEGER NOT NULL,\n"
      "  heartbeat INTEGER NOT NULL,\n"
      "  PRIMARY KEY (word, translation, language, stage)\n"
      ") WITHOUT ROWID;\n"
      "CREATE INDEX leases_by_token ON leases (token);\n"
      "CREATE TABLE rates (\n"
      "  model TEXT PRIMARY KEY,\n"
      "  rpm REAL NOT NULL CHECK (rpm > 0),\n"
      "  updated_at INTEGER NOT NULL\n"
      ") WITHOUT ROWID;\n" },
};

_Static_assert(sizeof migrations / sizeof migrations[0] == WB_STORE_SCHEMA_VERSION,
               "one migration step per schema version");

static int pragma_int(struct wb_store *st, const char *sql, int *out, struct wb_error *err)
{
    sqlite3_stmt *s = NULL;
    int rc = sqlite3_prepare_v2(st->db, sql, -1, &s, NULL);
    if (rc == SQLITE_OK) {
        rc = sqlite3_step(s);
        if (rc == SQLITE_ROW) {
            *out = sqlite3_column_int(s, 0);
            rc = SQLITE_OK;
        } else if (rc == SQLITE_DONE) {
            *out = 0;
            rc = SQLITE_OK;
        }
    }
    if (rc != SQLITE_OK) {
        rc = store_fail(st, rc, "reading the schema", err);
        sqlite3_finalize(s);
        return rc;
    }
    sqlite3_finalize(s);
    return 0;
}

/* Refuse what is not ours or too new; 0 when the file may be used or migrated. */
static int check_identity(struct wb_store *st, int version, struct wb_error *err)
{
    int appid = 0, tables = 0, rc;
    if ((rc = pragma_int(st, "PRAGMA application_id", &appid, err)))
        return rc;
    if ((rc = pragma_int(st, "SELECT count(*) FROM sqlite_master", &tables, err)))
        return rc;
    if (appid != 0 && appid != STORE_APPLICATION_ID)
        return wb_error_set(err, WB_ECORRUPT,
                            "%s: not a wordbank database (SQLite application_id %#x belongs "
                            "to another program); refusing to touch it",
                            st->path, (unsigned)appid);
    if (appid == 0 && (version != 0 || tables > 0))
        return wb_error_set(err, WB_ECORRUPT,
                            "%s: not a wordbank database (an SQLite database of another "
                            "program); refusing to touch it",
                            st->path);
    if (version > WB_STORE_SCHEMA_VERSION)
        return wb_error_set(err, WB_EUNSUPPORTED,
                            "%s: schema version %d is newer than this wordbank understands "
                            "(%d); use a newer wordbank",
                            st->path, version, WB_STORE_SCHEMA_VERSION);
    return 0;
}

int store_schema_check(struct wb_store *st, struct wb_error *err)
{
    int version = 0, rc;
    if ((rc = pragma_int(st, "PRAGMA user_version", &version, err)) ||
        (rc = check_identity(st, version, err)))
        return rc;
    st->version = version;
    return 0;
}

int store_migrate(struct wb_store *st, struct wb_error *err)
{
    int version = st->version, rc;
    char *msg = NULL;
    if (version == WB_STORE_SCHEMA_VERSION)
        return 0;
    if (st->flags & WB_STORE_READONLY)
        return wb_error_set(err, WB_EUNSUPPORTED,
                            "%s: schema version %d needs migrating to %d; open it read-write once",
                            st->path, version, WB_STORE_SCHEMA_VERSION);

    if ((rc = sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL)) != SQLITE_OK)
        return store_fail(st, rc, "starting the schema migration", err);
    /* Another process may have migrated while we waited for the lock. */
    if ((rc = pragma_int(st, "PRAGMA user_version", &version, err)) ||
        (rc = check_identity(st, version, err)))
        goto out;
    for (size_t i = 0; i < sizeof migrations / sizeof migrations[0]; i++) {
        char *setv;
        if (migrations[i].version <= version)
            continue;
        rc = sqlite3_exec(st->db, migrations[i].sql, NULL, NULL, &msg);
        if (rc == SQLITE_OK) {
            setv = sqlite3_mprintf("PRAGMA user_version = %d", migrations[i].version);
            rc = setv ? sqlite3_exec(st->db, setv, NULL, NULL, NULL) : SQLITE_NOMEM;
            sqlite3_free(setv);
        }
        if (rc != SQLITE_OK) {
            rc = store_fail(st, rc, "migrating the schema", err);
            goto out;
        }
        version = migrations[i].version;
    }
    if ((rc = sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL)) != SQLITE_OK) {
        rc = store_fail(st, rc, "committing the schema migration", err);
        goto out;
    }
    st->version = version;
    wb_error_clear(err);
    rc = 0;
out:
    sqlite3_free(msg);
    if (rc)
        sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
    return rc;
}
