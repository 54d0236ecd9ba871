/* The word bank store: every entry (word, translation, language), what the
 * details stage wrote about it, and the state of its details/image/audio
 * stages, kept in one SQLite database (WAL mode, versioned schema with forward
 * migrations). This header is the whole interface; no other module sees SQL.
 *
 * A store handle is used by one thread at a time (the loop thread writes).
 * Several processes may open the same file: readers never block, a second
 * writer waits up to the busy timeout and then gets -WB_ELOCKED.
 *
 * Every function returns 0 or a negative WB_E* code with the detail (and the
 * database's path) in err. A damaged, foreign or newer database is refused,
 * never overwritten or "repaired".
 */
#ifndef WORDBANK_STORE_H
#define WORDBANK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/api.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"

#ifdef __cplusplus
extern "C" {
#endif

struct wb_store;

/* wb_store_open flags. */
#define WB_STORE_CREATE   0x1u /* create the file when missing (else -WB_ENOTFOUND) */
#define WB_STORE_READONLY 0x2u /* no writes, no migration (an older schema is refused) */

/* The newest schema version this code knows (PRAGMA user_version). */
#define WB_STORE_SCHEMA_VERSION 5

/* Open (and create or migrate) the database at path (":memory:" for a private
 * in-memory store). Errors: -WB_ENOTFOUND (missing, no CREATE), -WB_ECORRUPT
 * (not a database, corrupt, not a wordbank database), -WB_EUNSUPPORTED (schema
 * newer than this code, or older and READONLY), -WB_ELOCKED, -WB_EIO. */
WB_API int wb_store_open(const char *path, unsigned flags, struct wb_store **out,
                         struct wb_error *err);
/* Finalise statements and close. NULL is a no-op. An open batch is rolled back. */
WB_API void wb_store_close(struct wb_store *st);
/* The path given to wb_store_open. */
WB_API const char *wb_store_path(const struct wb_store *st);
/* How long a write waits for another writer before -WB_ELOCKED (default 5000 ms). */
WB_API int wb_store_set_busy_timeout(struct wb_store *st, int ms, struct wb_error *err);
/* The schema version found in the file after open (== WB_STORE_SCHEMA_VERSION). */
WB_API int wb_store_schema_version(const struct wb_store *st);

/* Load one entry into out (which must be initialised; its old contents are
 * released). -WB_ENOTFOUND when absent. */
WB_API int wb_store_get(struct wb_store *st, const char *word, const char *translation,
                        const char *language, struct wb_entry *out, struct wb_error *err);
/* Row id of an entry, -WB_ENOTFOUND when absent (a cheap existence test). */
WB_API int wb_store_find(struct wb_store *st, const char *word, const char *translation,
                         const char *language, int64_t *id, struct wb_error *err);

/* Insert or replace everything about e: text fields, examples (replaced, in
 * order), all three stages. created_at is kept for an existing entry. word,
 * translation and language must be non-empty. */
WB_API int wb_store_put(struct wb_store *st, const struct wb_entry *e, struct wb_error *err);
/* Only what the details stage produces: reading, description, examples,
 * image_description and stages[WB_STAGE_DETAILS]. Other stages are untouched.
 * Creates the entry (with e->context) when absent. */
WB_API int wb_store_set_details(struct wb_store *st, const struct wb_entry *e,
                                struct wb_error *err);
/* Only stage s of the entry keyed by key's word/translation/language (created
 * when absent): image and audio finishing at the same time never clobber
 * each other. info->updated_at 0 means now. */
WB_API int wb_store_set_stage(struct wb_store *st, const struct wb_entry *key, enum wb_stage s,
                              const struct wb_stage_info *info, struct wb_error *err);
/* Delete an entry with its examples and stages. -WB_ENOTFOUND when absent. */
WB_API int wb_store_remove(struct wb_store *st, const char *word, const char *translation,
                           const char *language, struct wb_error *err);

/* A filter: each non-NULL field must match exactly. size: sizeof(struct
 * wb_store_query) as the caller knows it (WB_STORE_QUERY_INIT); see
 * wordbank/api.h. */
struct wb_store_query {
    size_t size;
    const char *language;
    const char *word;
    const char *translation;
};

/* A filter that matches everything, its size set:
 *   struct wb_store_query q = WB_STORE_QUERY_INIT;  q.word = "猫"; */
#define WB_STORE_QUERY_INIT                             \
    {                                                   \
        sizeof(struct wb_store_query), NULL, NULL, NULL \
    }

typedef int (*wb_store_each_fn)(void *ud, const struct wb_entry *e);
/* Call fn for every matching entry (q NULL: all) in insertion order. The entry
 * is only valid during the call. fn returning non-zero stops the walk and that
 * value is returned (so a negative WB_E* code propagates). */
WB_API int wb_store_each(struct wb_store *st, const struct wb_store_query *q, wb_store_each_fn fn,
                         void *ud, struct wb_error *err);
/* Number of matching entries in *count. */
WB_API int wb_store_count(struct wb_store *st, const struct wb_store_query *q, size_t *count,
                          struct wb_error *err);

/* Batch many writes in one transaction (BEGIN IMMEDIATE: the write lock is
 * taken at once). Inside a batch each write is still all-or-nothing (a
 * savepoint), so one failing put does not spoil the batch. Not nestable. */
WB_API int wb_store_begin(struct wb_store *st, struct wb_error *err);
WB_API int wb_store_commit(struct wb_store *st, struct wb_error *err);
WB_API int wb_store_rollback(struct wb_store *st);
/* each_commit 1 (the default): every commit is synced to the disk before it
 * returns (SQLite's synchronous = FULL). 0: commits are written to the log
 * at once but synced only by wb_store_sync or a checkpoint (synchronous =
 * NORMAL): a commit survives the process being killed, a power loss may
 * lose the last ones (the file stays consistent). */
WB_API int wb_store_set_sync(struct wb_store *st, int each_commit, struct wb_error *err);
/* Write transactions committed through this handle so far (a batch is one;
 * a savepoint inside it is none): what a caller's batching saves. */
WB_API uint64_t wb_store_commits(const struct wb_store *st);
/* Sync what was committed (a WAL checkpoint). */
WB_API int wb_store_sync(struct wb_store *st, struct wb_error *err);
/* A batch whose commit need not reach the disk at once (leases): it
 * survives a crash of the process, not of the machine (SQLite's
 * synchronous = NORMAL in WAL mode), and spares a sync. */
WB_API int wb_store_begin_light(struct wb_store *st, struct wb_error *err);
/* Non-zero while a batch is open. */
WB_API int wb_store_in_batch(const struct wb_store *st);

/* ---- runs sharing a word bank ----
 * A run claims the stages it is about to make with a lease (its process id,
 * host, a token unique to the run, a heartbeat in wall-clock ms). Another run
 * does not make a leased stage; committing the stage (wb_store_set_stage,
 * wb_store_set_details) drops its lease. A lease whose holder is gone (same
 * host, no such process) or whose heartbeat is older than ttl_ms is taken
 * over. */
struct wb_lease_holder {
    int64_t token; /* unique to the run */
    long pid;
    const char *host;
};
/* In one write (the transaction that reads the stages' state): for each
 * stage in want (mask of 1u << stage), *done gets it when it is already done
 * (unless it is in redo: made again although done, e.g. forced), *claimed
 * when it is now leased to me (free, mine already, or its holder dead or
 * expired); the others are busy (another live run makes them). */
WB_API int wb_store_claim(struct wb_store *st, const char *word, const char *translation,
                          const char *language, unsigned want, unsigned redo,
                          const struct wb_lease_holder *me, int64_t ttl_ms, unsigned *claimed,
                          unsigned *done, struct wb_error *err);
/* Leases are not durable data: outside a batch, claims, heartbeats and
 * releases commit without a sync (see wb_store_begin_light). */
/* Refresh the heartbeat of every lease of me. */
WB_API int wb_store_lease_heartbeat(struct wb_store *st, const struct wb_lease_holder *me,
                                    struct wb_error *err);
/* Drop every lease of me (the run ends; stages not made are free again). */
WB_API int wb_store_lease_release_all(struct wb_store *st, const struct wb_lease_holder *me,
                                      struct wb_error *err);

/* ---- request rates learned from 429s, per model ----
 * -WB_ENOTFOUND when nothing is stored; *updated_s is the wall clock (s) of
 * the last store. */
WB_API int wb_store_rate_get(struct wb_store *st, const char *model, double *rpm,
                             int64_t *updated_s, struct wb_error *err);
WB_API int wb_store_rate_set(struct wb_store *st, const char *model, double rpm,
                             struct wb_error *err);

/* ---- the batch job table (Gemini Batch mode, wordbank/batch.h) ---- */

/* One batch job as the store knows it. state is the API's state in lower case
 * without prefix ("pending", "running", "succeeded", "failed", "cancelled",
 * "expired"); collected is set once its results were committed (or, for a
 * failed/expired/cancelled job, once its entries were released). */
struct wb_batch_job {
    char *name; /* "batches/..." */
    char *model;
    enum wb_stage stage;
    char *state;
    char *input_file; /* "files/..." for a file job, else NULL */
    int collected;
    int64_t requests, succeeded, failed; /* the last batchStats seen */
    int64_t created_at, updated_at;      /* unix seconds */
};

/* An entry a job carries; index is the request's key in the job ("k<index>"). */
struct wb_batch_key {
    char *word, *translation, *language;
};

/* Record a job and the entries it carries in one transaction. */
WB_API int wb_store_batch_add(struct wb_store *st, const struct wb_batch_job *job,
                              const struct wb_batch_key *keys, size_t n, struct wb_error *err);
/* Update a job's state and counts (collected: 1 marks it done with). */
WB_API int wb_store_batch_update(struct wb_store *st, const char *name, const char *state,
                                 int64_t succeeded, int64_t failed, int collected,
                                 struct wb_error *err);
/* Every job (uncollected_only: those not collected yet), oldest first.
 * Free with wb_batch_jobs_free. */
WB_API int wb_store_batch_list(struct wb_store *st, int uncollected_only, struct wb_batch_job **out,
                               size_t *n, struct wb_error *err);
/* The entries a job carries, by index. Free with wb_batch_keys_free. */
WB_API int wb_store_batch_keys(struct wb_store *st, const char *name, struct wb_batch_key **out,
                               size_t *n, struct wb_error *err);
/* A job recorded before its create call as "pending/<display name>" gets its
 * real name (and state) once the API answered. */
WB_API int wb_store_batch_rename(struct wb_store *st, const char *old_name, const char *new_name,
                                 const char *state, struct wb_error *err);
/* Forget a job and the entries it carries (a create call that never made one). */
WB_API int wb_store_batch_remove(struct wb_store *st, const char *name, struct wb_error *err);
WB_API void wb_batch_jobs_free(struct wb_batch_job *v, size_t n);
WB_API void wb_batch_keys_free(struct wb_batch_key *v, size_t n);

/* PRAGMA quick_check (full=1: integrity_check); -WB_ECORRUPT with SQLite's
 * findings in err when the file is damaged. */
WB_API int wb_store_check(struct wb_store *st, int full, struct wb_error *err);

#ifdef __cplusplus
}
#endif

#endif
