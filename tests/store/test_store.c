/* The store's behaviour on good databases: schema creation, put/get,
 * details and per-stage updates that must not clobber each other, removal,
 * walks with filters, batches and migration from older layouts.
 */
#include <dirent.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store_internal.h"
#include "test.h"
#include "wordbank/store.h"

static struct wb_store *open_new(const char *name)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    CHECK_OK(wb_store_open(th_tmp_path(name), WB_STORE_CREATE, &st, &err), &err);
    return st;
}

static void fill(struct wb_entry *e, const char *word, const char *tr)
{
    wb_entry_init(e);
    e->word = strdup(word);
    e->translation = strdup(tr);
    e->language = strdup("ja");
    e->context = strdup("the household pet");
    e->reading = strdup("ねこ");
    e->description = strdup("A small \"furry\" animal, often kept at home.");
    e->image_description = strdup("a cat on a tatami mat");
    CHECK(wb_entry_add_example(e, "猫が好きです。", "I like cats.") == 0);
    CHECK(wb_entry_add_example(e, "黒い猫🐈\nがいる", NULL) == 0);
    e->stages[WB_STAGE_DETAILS].state = WB_STATE_DONE;
    e->stages[WB_STAGE_DETAILS].provider = strdup("gemini");
    e->stages[WB_STAGE_DETAILS].model = strdup("gemini-text");
    e->stages[WB_STAGE_DETAILS].tokens_in = 120;
    e->stages[WB_STAGE_DETAILS].tokens_out = 340;
    e->stages[WB_STAGE_IMAGE].state = WB_STATE_FAILED;
    e->stages[WB_STAGE_IMAGE].error = strdup("IMAGE_SAFETY: blocked");
    e->stages[WB_STAGE_AUDIO].state = WB_STATE_DONE;
    e->stages[WB_STAGE_AUDIO].file = strdup("ab/cd.mp3");
    e->stages[WB_STAGE_AUDIO].voice = strdup("Kore");
    e->stages[WB_STAGE_AUDIO].updated_at = 1700000000;
}

TEST(store_create_and_schema)
{
    struct wb_store *st = open_new("a.db");
    struct wb_entry e;
    struct wb_error err = { 0 };
    size_t n = 99;
    wb_entry_init(&e);
    CHECK_INT(wb_store_schema_version(st), WB_STORE_SCHEMA_VERSION);
    CHECK_STR(wb_store_path(st), th_tmp_path("a.db"));
    CHECK_INT(wb_store_get(st, "猫", "cat", "ja", &e, &err), WB_ENOTFOUND);
    CHECK_OK(wb_store_count(st, NULL, &n, &err), &err);
    CHECK_INT(n, 0);
    wb_store_close(st);
    /* Reopening an existing store needs no CREATE. */
    CHECK_OK(wb_store_open(th_tmp_path("a.db"), 0, &st, &err), &err);
    wb_store_close(st);
    wb_store_close(NULL);
}

TEST(store_put_get_roundtrip)
{
    struct wb_store *st = open_new("a.db");
    struct wb_entry e, g;
    struct wb_error err = { 0 };
    fill(&e, "猫", "cat");
    e.pitch_accent[0] = 1;
    e.pitch_accent[1] = 0;
    e.n_pitch_accent = 2;
    wb_entry_init(&g);
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    CHECK_OK(wb_store_get(st, "猫", "cat", "ja", &g, &err), &err);
    CHECK(g.id > 0);
    CHECK_INT(g.n_pitch_accent, 2);
    CHECK_INT(g.pitch_accent[0], 1);
    CHECK_INT(g.pitch_accent[1], 0);
    CHECK_STR(g.context, "the household pet");
    CHECK_STR(g.reading, "ねこ");
    CHECK_STR(g.description, e.description);
    CHECK_STR(g.image_description, "a cat on a tatami mat");
    CHECK_INT(g.n_examples, 2);
    CHECK_STR(g.examples[0].text, "猫が好きです。");
    CHECK_STR(g.examples[0].translation, "I like cats.");
    CHECK_STR(g.examples[1].text, "黒い猫🐈\nがいる");
    CHECK(g.examples[1].translation == NULL);
    CHECK_INT(g.stages[WB_STAGE_DETAILS].state, WB_STATE_DONE);
    CHECK_STR(g.stages[WB_STAGE_DETAILS].model, "gemini-text");
    CHECK_INT(g.stages[WB_STAGE_DETAILS].tokens_in, 120);
    CHECK_INT(g.stages[WB_STAGE_DETAILS].tokens_out, 340);
    CHECK(g.stages[WB_STAGE_DETAILS].updated_at > 0);
    CHECK_INT(g.stages[WB_STAGE_IMAGE].state, WB_STATE_FAILED);
    CHECK_STR(g.stages[WB_STAGE_IMAGE].error, "IMAGE_SAFETY: blocked");
    CHECK(g.stages[WB_STAGE_IMAGE].file == NULL);
    CHECK_STR(g.stages[WB_STAGE_AUDIO].file, "ab/cd.mp3");
    CHECK_STR(g.stages[WB_STAGE_AUDIO].voice, "Kore");
    CHECK_INT(g.stages[WB_STAGE_AUDIO].updated_at, 1700000000);
    CHECK(g.created_at > 0 && g.updated_at >= g.created_at);

    /* A second put replaces examples, keeps the id and created_at. */
    int64_t id = g.id, created = g.created_at;
    wb_entry_clear_examples(&e);
    CHECK(wb_entry_add_example(&e, "only one", NULL) == 0);
    e.created_at = 0;
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    CHECK_OK(wb_store_get(st, "猫", "cat", "ja", &g, &err), &err);
    CHECK_INT(g.id, id);
    CHECK_INT(g.created_at, created);
    CHECK_INT(g.n_examples, 1);
    CHECK_STR(g.examples[0].text, "only one");

    /* The key is exact: another translation is another entry. */
    CHECK_INT(wb_store_get(st, "猫", "Cat", "ja", &g, &err), WB_ENOTFOUND);
    CHECK(strstr(err.msg, "a.db") != NULL);
    int64_t fid = 0;
    CHECK_OK(wb_store_find(st, "猫", "cat", "ja", &fid, &err), &err);
    CHECK_INT(fid, id);
    wb_entry_release(&e);
    wb_entry_release(&g);
    wb_store_close(st);
}

TEST(store_rejects_empty_key)
{
    struct wb_store *st = open_new("a.db");
    struct wb_entry e;
    struct wb_error err = { 0 };
    fill(&e, "猫", "cat");
    free(e.translation);
    e.translation = strdup("");
    CHECK_INT(wb_store_put(st, &e, &err), WB_EINVAL);
    free(e.translation);
    e.translation = NULL;
    CHECK_INT(wb_store_set_details(st, &e, &err), WB_EINVAL);
    /* The entry rules every way in shares: a newline in the word would
     * split rows in list and in the retry file. */
    e.translation = strdup("cat");
    free(e.word);
    e.word = strdup("ne\nko");
    CHECK_INT(wb_store_put(st, &e, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "control character (U+000A)") != NULL);
    free(e.word);
    e.word = strdup("\xe3\x80\x80");
    CHECK_INT(wb_store_put(st, &e, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "blank") != NULL);
    {
        size_t n = 1;
        CHECK_OK(wb_store_count(st, NULL, &n, &err), &err);
        CHECK_INT((int)n, 0);
    }
    wb_entry_release(&e);
    wb_store_close(st);
}

/* A WAL word bank in a folder nobody may write (a 444 file in a 555
 * folder, or another user's) opens read-only: SQLite cannot create its -shm
 * file there, so the store reads it as immutable. Root ignores permissions,
 * so the open runs in a child that drops to nobody when run as root. */
TEST(store_readonly_folder)
{
    struct wb_store *st;
    struct wb_entry e;
    struct wb_error err = { 0 };
    char dir[4096], db[4200], shm[4300];
    int status = -1;
    pid_t pid;
    snprintf(dir, sizeof dir, "%s/rofolder", th_tmpdir());
    snprintf(db, sizeof db, "%s/wb.db", dir);
    snprintf(shm, sizeof shm, "%s-shm", db);
    CHECK(mkdir(dir, 0755) == 0);
    st = NULL;
    CHECK_OK(wb_store_open(db, WB_STORE_CREATE, &st, &err), &err);
    fill(&e, "猫", "cat");
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    wb_store_close(st);
    wb_entry_release(&e);
    CHECK(chmod(db, 0444) == 0 && chmod(dir, 0555) == 0 && chmod(th_tmpdir(), 0755) == 0);
    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        struct wb_entry g;
        struct wb_store *ro = NULL;
        struct wb_error e2 = { 0 };
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
            _exit(2);
        if (wb_store_open(db, WB_STORE_READONLY, &ro, &e2) != 0) {
            fprintf(stderr, "# %s\n", e2.msg);
            _exit(3);
        }
        wb_entry_init(&g);
        if (wb_store_get(ro, "猫", "cat", "ja", &g, &e2) != 0)
            _exit(4);
        wb_entry_release(&g);
        wb_store_close(ro);
        _exit(0);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d", status);
    CHECK(access(shm, F_OK) != 0); /* nothing created beside it */
    chmod(dir, 0755);
    chmod(db, 0644);
}

TEST(store_stages_do_not_clobber)
{
    struct wb_store *a = open_new("a.db"), *b = NULL;
    struct wb_entry key, g;
    struct wb_stage_info img = { 0 }, aud = { 0 };
    struct wb_error err = { 0 };
    CHECK_OK(wb_store_open(th_tmp_path("a.db"), 0, &b, &err), &err);
    wb_entry_init(&key);
    wb_entry_init(&g);
    key.word = strdup("犬");
    key.translation = strdup("dog");
    key.language = strdup("ja");
    key.context = strdup("animal");
    /* set_stage creates the entry when it is absent. */
    img.state = WB_STATE_DONE;
    img.file = "11/22.png";
    img.model = "imagen";
    aud.state = WB_STATE_DONE;
    aud.file = "33/44.mp3";
    aud.voice = "Puck";
    CHECK_OK(wb_store_set_stage(a, &key, WB_STAGE_IMAGE, &img, &err), &err);
    /* Another connection (as if another writer) finishes audio. */
    CHECK_OK(wb_store_set_stage(b, &key, WB_STAGE_AUDIO, &aud, &err), &err);
    /* Then details arrive, from an entry that knows nothing of the media. */
    struct wb_entry d;
    wb_entry_init(&d);
    d.word = strdup("犬");
    d.translation = strdup("dog");
    d.language = strdup("ja");
    d.description = strdup("A loyal animal.");
    d.reading = strdup("いぬ");
    CHECK(wb_entry_add_example(&d, "犬が走る。", "The dog runs.") == 0);
    d.stages[WB_STAGE_DETAILS].state = WB_STATE_DONE;
    d.stages[WB_STAGE_DETAILS].model = strdup("gemini-text");
    CHECK_OK(wb_store_set_details(a, &d, &err), &err);

    CHECK_OK(wb_store_get(b, "犬", "dog", "ja", &g, &err), &err);
    CHECK_STR(g.context, "animal");
    CHECK_STR(g.reading, "いぬ");
    CHECK_STR(g.description, "A loyal animal.");
    CHECK_INT(g.n_examples, 1);
    CHECK_INT(g.stages[WB_STAGE_DETAILS].state, WB_STATE_DONE);
    CHECK_INT(g.stages[WB_STAGE_IMAGE].state, WB_STATE_DONE);
    CHECK_STR(g.stages[WB_STAGE_IMAGE].file, "11/22.png");
    CHECK_STR(g.stages[WB_STAGE_IMAGE].model, "imagen");
    CHECK_INT(g.stages[WB_STAGE_AUDIO].state, WB_STATE_DONE);
    CHECK_STR(g.stages[WB_STAGE_AUDIO].file, "33/44.mp3");
    CHECK_STR(g.stages[WB_STAGE_AUDIO].voice, "Puck");

    /* A failed image retry records its error and leaves audio alone. */
    img.state = WB_STATE_FAILED;
    img.file = NULL;
    img.error = "HTTP 500";
    CHECK_OK(wb_store_set_stage(a, &key, WB_STAGE_IMAGE, &img, &err), &err);
    CHECK_OK(wb_store_get(b, "犬", "dog", "ja", &g, &err), &err);
    CHECK_INT(g.stages[WB_STAGE_IMAGE].state, WB_STATE_FAILED);
    CHECK_STR(g.stages[WB_STAGE_IMAGE].error, "HTTP 500");
    CHECK_STR(g.stages[WB_STAGE_AUDIO].file, "33/44.mp3");
    CHECK_STR(g.description, "A loyal animal.");
    CHECK_INT(wb_store_set_stage(a, &key, (enum wb_stage)7, &img, &err), WB_EINVAL);
    wb_entry_release(&d);
    wb_entry_release(&key);
    wb_entry_release(&g);
    wb_store_close(a);
    wb_store_close(b);
}

struct walk {
    char words[16][32];
    int n, stop_after;
};

static int walk_fn(void *ud, const struct wb_entry *e)
{
    struct walk *w = ud;
    if (w->n < 16)
        snprintf(w->words[w->n], sizeof w->words[0], "%s/%s", e->word, e->language);
    w->n++;
    return w->stop_after && w->n >= w->stop_after ? 42 : 0;
}

TEST(store_remove_each_count)
{
    struct wb_store *st = open_new("a.db");
    const char *words[] = { "z", "a", "m", "b" };
    struct wb_entry e;
    struct wb_error err = { 0 };
    struct walk w = { 0 };
    size_t n = 0;
    for (int i = 0; i < 4; i++) {
        fill(&e, words[i], "t");
        if (i == 3) {
            free(e.language);
            e.language = strdup("fr");
        }
        CHECK_OK(wb_store_put(st, &e, &err), &err);
        wb_entry_release(&e);
    }
    CHECK_OK(wb_store_each(st, NULL, walk_fn, &w, &err), &err);
    CHECK_INT(w.n, 4);
    CHECK_STR(w.words[0], "z/ja"); /* insertion order, not alphabetical */
    CHECK_STR(w.words[1], "a/ja");
    CHECK_STR(w.words[3], "b/fr");
    struct wb_store_query q = { .size = sizeof q, .language = "ja" };
    memset(&w, 0, sizeof w);
    CHECK_OK(wb_store_each(st, &q, walk_fn, &w, &err), &err);
    CHECK_INT(w.n, 3);
    CHECK_OK(wb_store_count(st, &q, &n, &err), &err);
    CHECK_INT(n, 3);
    q.word = "m";
    CHECK_OK(wb_store_count(st, &q, &n, &err), &err);
    CHECK_INT(n, 1);
    /* By size (wordbank/api.h): an older filter that ends before word
     * matches on language alone; an unset or a newer, larger one is refused. */
    q.size = offsetof(struct wb_store_query, word);
    CHECK_OK(wb_store_count(st, &q, &n, &err), &err);
    CHECK_INT(n, 3);
    q.size = 0;
    CHECK_INT(wb_store_count(st, &q, &n, &err), WB_EINVAL);
    q.size = sizeof q + 8;
    CHECK_INT(wb_store_each(st, &q, walk_fn, &w, &err), WB_EINVAL);
    q.size = sizeof q;
    memset(&w, 0, sizeof w);
    w.stop_after = 2;
    CHECK_INT(wb_store_each(st, NULL, walk_fn, &w, &err), 42);
    CHECK_INT(w.n, 2);

    CHECK_OK(wb_store_remove(st, "a", "t", "ja", &err), &err);
    CHECK_INT(wb_store_remove(st, "a", "t", "ja", &err), WB_ENOTFOUND);
    CHECK_OK(wb_store_count(st, NULL, &n, &err), &err);
    CHECK_INT(n, 3);
    wb_store_close(st);

    /* Examples and stages went with it (foreign keys cascade). */
    sqlite3 *db;
    sqlite3_stmt *s;
    CHECK(sqlite3_open(th_tmp_path("a.db"), &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT (SELECT count(*) FROM examples), "
                             "(SELECT count(*) FROM stages)",
                             -1, &s, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(s) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(s, 0), 3 * 2);
    CHECK_INT(sqlite3_column_int(s, 1), 3 * 3);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

static int nested_fn(void *ud, const struct wb_entry *e)
{
    struct wb_store *st = ud;
    struct walk w = { 0 };
    struct wb_entry g;
    int rc;
    wb_entry_init(&g);
    rc = wb_store_each(st, NULL, walk_fn, &w, NULL);
    if (rc == 0)
        rc = wb_store_get(st, e->word, e->translation, e->language, &g, NULL);
    wb_entry_release(&g);
    return rc ? rc : w.n == 2 ? 0 : -1000;
}

TEST(store_each_nested_walk)
{
    struct wb_store *st = open_new("a.db");
    struct wb_entry e;
    struct wb_error err = { 0 };
    fill(&e, "x", "t");
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    wb_entry_release(&e);
    fill(&e, "y", "t");
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    wb_entry_release(&e);
    CHECK_OK(wb_store_each(st, NULL, nested_fn, st, &err), &err);
    wb_store_close(st);
}

TEST(store_batches)
{
    struct wb_store *st = open_new("a.db");
    struct wb_entry e;
    struct wb_error err = { 0 };
    size_t n = 0;
    char w[32];
    CHECK_OK(wb_store_begin(st, &err), &err);
    CHECK_INT(wb_store_begin(st, &err), WB_EINVAL);
    CHECK(wb_store_in_batch(st));
    for (int i = 0; i < 50; i++) {
        snprintf(w, sizeof w, "w%d", i);
        fill(&e, w, "t");
        CHECK_OK(wb_store_put(st, &e, &err), &err);
        wb_entry_release(&e);
    }
    CHECK_OK(wb_store_rollback(st), NULL);
    CHECK_OK(wb_store_count(st, NULL, &n, &err), &err);
    CHECK_INT(n, 0);

    CHECK_OK(wb_store_begin(st, &err), &err);
    fill(&e, "kept", "t");
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    /* A failing write inside a batch undoes only itself. */
    free(e.word);
    e.word = strdup("");
    CHECK_INT(wb_store_put(st, &e, &err), WB_EINVAL);
    wb_entry_release(&e);
    CHECK_OK(wb_store_commit(st, &err), &err);
    CHECK(!wb_store_in_batch(st));
    CHECK_INT(wb_store_commit(st, &err), WB_EINVAL);
    CHECK_OK(wb_store_count(st, NULL, &n, &err), &err);
    CHECK_INT(n, 1);
    wb_store_close(st);
}

TEST(store_memory_and_readonly)
{
    struct wb_store *st = NULL;
    struct wb_entry e;
    struct wb_error err = { 0 };
    CHECK_OK(wb_store_open(":memory:", WB_STORE_CREATE, &st, &err), &err);
    fill(&e, "m", "t");
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    wb_store_close(st);

    wb_store_close(open_new("r.db"));
    CHECK_OK(wb_store_open(th_tmp_path("r.db"), WB_STORE_READONLY, &st, &err), &err);
    CHECK_INT(wb_store_put(st, &e, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "read-only") != NULL);
    wb_store_close(st);
    st = NULL;
    CHECK_INT(wb_store_open(th_tmp_path("r.db"), WB_STORE_READONLY | WB_STORE_CREATE, &st, &err),
              WB_EINVAL);
    wb_store_close(st);
    wb_entry_release(&e);
}

/* The v1 layout, as a version-1 wordbank created it. */
static const char v1_sql[] =
    "PRAGMA application_id = 1463963211;"
    "CREATE TABLE entries (id INTEGER PRIMARY KEY, word TEXT NOT NULL CHECK (word <> ''),"
    " translation TEXT NOT NULL CHECK (translation <> ''), language TEXT NOT NULL CHECK"
    " (language <> ''), context TEXT, reading TEXT, description TEXT, image_description TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
    " UNIQUE (word, translation, language));"
    "CREATE TABLE examples (entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    " position INTEGER NOT NULL, text TEXT NOT NULL, translation TEXT,"
    " PRIMARY KEY (entry_id, position)) WITHOUT ROWID;"
    "CREATE TABLE stages (entry_id INTEGER NOT NULL REFERENCES entries(id) ON DELETE CASCADE,"
    " stage TEXT NOT NULL CHECK (stage IN ('details', 'image', 'audio')),"
    " state TEXT NOT NULL CHECK (state IN ('missing', 'done', 'failed')), error TEXT, file TEXT,"
    " provider TEXT, model TEXT, voice TEXT, tokens_in INTEGER NOT NULL DEFAULT 0,"
    " tokens_out INTEGER NOT NULL DEFAULT 0, updated_at INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (entry_id, stage)) WITHOUT ROWID;"
    "INSERT INTO entries VALUES (7, '猫', 'cat', 'ja', NULL, 'ねこ', 'pet', NULL, 1, 2);"
    "INSERT INTO examples VALUES (7, 0, '猫だ。', NULL);"
    "INSERT INTO stages VALUES (7, 'image', 'done', NULL, 'a.png', 'gemini', 'm', NULL, 0, 0, 3);"
    "PRAGMA user_version = 1;";

static int has_index(const char *path, const char *name)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    int found;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ?1",
                             -1, &s, NULL) == SQLITE_OK);
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    sqlite3_close(db);
    return found;
}

TEST(store_migrates_v1)
{
    const char *path = th_tmp_path("v1.db");
    struct wb_store *st = NULL;
    struct wb_entry g;
    struct wb_error err = { 0 };
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, v1_sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK(!has_index(path, "entries_by_language"));
    /* Read-only cannot migrate: refused, not half-done. */
    CHECK_INT(wb_store_open(path, WB_STORE_READONLY, &st, &err), WB_EUNSUPPORTED);
    CHECK(strstr(err.msg, "version 1") != NULL);

    CHECK_OK(wb_store_open(path, 0, &st, &err), &err);
    CHECK_INT(wb_store_schema_version(st), WB_STORE_SCHEMA_VERSION);
    wb_entry_init(&g);
    CHECK_OK(wb_store_get(st, "猫", "cat", "ja", &g, &err), &err);
    CHECK_INT(g.id, 7);
    CHECK_STR(g.reading, "ねこ");
    CHECK_INT(g.n_examples, 1);
    CHECK_INT(g.n_pitch_accent, 0); /* migration 3: a column, empty for old entries */
    CHECK_STR(g.stages[WB_STAGE_IMAGE].file, "a.png");
    CHECK_INT(g.stages[WB_STAGE_AUDIO].state, WB_STATE_MISSING);
    wb_entry_release(&g);
    wb_store_close(st);
    CHECK(has_index(path, "entries_by_language"));
}

TEST(store_migrates_empty_v0_file)
{
    const char *path = th_tmp_path("empty.db");
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    fclose(f);
    /* An existing empty file is an empty database at version 0. */
    CHECK_OK(wb_store_open(path, 0, &st, &err), &err);
    CHECK_INT(wb_store_schema_version(st), WB_STORE_SCHEMA_VERSION);
    wb_store_close(st);
    CHECK(has_index(path, "entries_by_language"));
}

/* Leases: a stage claimed by one run is busy for another; committing it
 * drops the lease and makes it done for everyone; a holder whose process is
 * gone, or whose heartbeat is older than the ttl, loses its leases. */
TEST(store_leases_claim_commit_takeover)
{
    const char *path = th_tmp_path("leases.db");
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct wb_entry e;
    struct wb_stage_info info;
    unsigned claimed, done;
    const unsigned all = 7u;
    struct wb_lease_holder a = { 1001, (long)getpid(), "hostA" };
    struct wb_lease_holder b = { 1002, (long)getpid(), "hostA" };
    CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &st, &err), &err);
    CHECK_OK(wb_store_claim(st, "猫", "cat", "ja", all, 0, &a, 30000, &claimed, &done, &err), &err);
    CHECK_INT(claimed, all);
    CHECK_INT(done, 0);
    /* b finds all three leased by a live holder. */
    CHECK_OK(wb_store_claim(st, "猫", "cat", "ja", all, 0, &b, 30000, &claimed, &done, &err), &err);
    CHECK_INT(claimed, 0);
    CHECK_INT(done, 0);
    /* a commits the audio stage: done for b, lease gone. */
    wb_entry_init(&e);
    e.word = strdup("猫");
    e.translation = strdup("cat");
    e.language = strdup("ja");
    memset(&info, 0, sizeof info);
    info.state = WB_STATE_DONE;
    info.file = (char *)"x.mp3";
    CHECK_OK(wb_store_set_stage(st, &e, WB_STAGE_AUDIO, &info, &err), &err);
    CHECK_OK(wb_store_claim(st, "猫", "cat", "ja", all, 0, &b, 30000, &claimed, &done, &err), &err);
    CHECK_INT(done, 1u << WB_STAGE_AUDIO);
    CHECK_INT(claimed, 0);
    /* Made again although done (--force): claimed, not reported done. */
    CHECK_OK(wb_store_claim(st, "猫", "cat", "ja", 1u << WB_STAGE_AUDIO, 1u << WB_STAGE_AUDIO, &b,
                            30000, &claimed, &done, &err),
             &err);
    CHECK_INT(done, 0);
    CHECK_INT(claimed, 1u << WB_STAGE_AUDIO);
    /* a's heartbeat older than the ttl: b takes over what is not done. */
    usleep(30000);
    CHECK_OK(wb_store_claim(st, "猫", "cat", "ja", all, 0, &b, 10, &claimed, &done, &err), &err);
    CHECK_INT(claimed, all & ~(1u << WB_STAGE_AUDIO));
    /* ... and now a is the one that waits (its own lease is gone). */
    CHECK_OK(wb_store_claim(st, "猫", "cat", "ja", 1u, 0, &a, 30000, &claimed, &done, &err), &err);
    CHECK_INT(claimed, 0);
    /* A holder on this host whose process is gone loses at once. */
    {
        pid_t child = fork();
        if (child == 0)
            _exit(0);
        waitpid(child, NULL, 0);
        struct wb_lease_holder dead = { 1003, (long)child, "hostA" };
        CHECK_OK(wb_store_claim(st, "犬", "dog", "ja", all, 0, &dead, 30000, &claimed, &done, &err),
                 &err);
        CHECK_INT(claimed, all);
        CHECK_OK(wb_store_claim(st, "犬", "dog", "ja", all, 0, &a, 30000, &claimed, &done, &err),
                 &err);
        CHECK_INT(claimed, all);
        /* The same pid on another host is not ours to judge: busy. */
        struct wb_lease_holder other = { 1004, (long)child, "hostB" };
        CHECK_OK(
            wb_store_claim(st, "鳥", "bird", "ja", all, 0, &other, 30000, &claimed, &done, &err),
            &err);
        CHECK_OK(wb_store_claim(st, "鳥", "bird", "ja", all, 0, &a, 30000, &claimed, &done, &err),
                 &err);
        CHECK_INT(claimed, 0);
    }
    /* Released leases are free again. */
    CHECK_OK(wb_store_lease_heartbeat(st, &a, &err), &err);
    CHECK_OK(wb_store_lease_release_all(st, &a, &err), &err);
    CHECK_OK(wb_store_claim(st, "犬", "dog", "ja", all, 0, &b, 30000, &claimed, &done, &err), &err);
    CHECK_INT(claimed, all);
    wb_entry_release(&e);
    wb_store_close(st);
}

TEST(store_rates_remembered)
{
    const char *path = th_tmp_path("rates.db");
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    double rpm = 0;
    int64_t at = 0;
    CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &st, &err), &err);
    CHECK_INT(wb_store_rate_get(st, "m", &rpm, &at, &err), WB_ENOTFOUND);
    CHECK_OK(wb_store_rate_set(st, "m", 42.5, &err), &err);
    CHECK_OK(wb_store_rate_set(st, "m", 40, &err), &err);
    wb_store_close(st);
    CHECK_OK(wb_store_open(path, 0, &st, &err), &err);
    CHECK_OK(wb_store_rate_get(st, "m", &rpm, &at, &err), &err);
    CHECK(rpm == 40);
    CHECK(at > 0);
    CHECK_INT(wb_store_rate_set(st, "m", 0, &err), WB_EINVAL);
    wb_store_close(st);
}

/* docs/store.md: the migration runs in one BEGIN IMMEDIATE transaction and
 * re-reads the version after taking the lock, so processes opening an old
 * file at the same moment migrate it once: every one of them opens it at the
 * current version, the data is intact and each step's objects exist once. */
/* n child processes start together (a byte each through one pipe) and run
 * child(i, path); the exit status of each is child's return (0: good).
 * Returns how many exited 0. */
static int run_together(int n, const char *path, int (*child)(int i, const char *path))
{
    int go[2], status, ok = 0;
    pid_t kids[16];
    char c = 'g';
    CHECK(n <= 16 && pipe(go) == 0);
    for (int i = 0; i < n; i++) {
        kids[i] = fork();
        CHECK(kids[i] >= 0);
        if (kids[i] == 0) {
            char b;
            close(go[1]);
            _exit(read(go[0], &b, 1) != 1 ? 2 : child(i, path));
        }
    }
    close(go[0]);
    for (int i = 0; i < n; i++) /* all at once: one byte each */
        CHECK(write(go[1], &c, 1) == 1);
    close(go[1]);
    for (int i = 0; i < n; i++) {
        CHECK(waitpid(kids[i], &status, 0) == kids[i]);
        ok += WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    return ok;
}

/* A child of store_concurrent_creation: create the bank, write its entry. */
static int create_and_put(int i, const char *path)
{
    char word[16];
    struct wb_store *cs = NULL;
    struct wb_error ce = { 0 };
    struct wb_entry e;
    int rc;
    if (wb_store_open(path, WB_STORE_CREATE, &cs, &ce) != 0) {
        fprintf(stderr, "# child %d: %s\n", i, ce.msg);
        return 3;
    }
    snprintf(word, sizeof word, "語%d", i);
    fill(&e, word, "word");
    rc = wb_store_put(cs, &e, &ce);
    wb_entry_release(&e);
    wb_store_close(cs);
    return rc == 0 ? 0 : 4;
}

/* Processes creating one new bank at once: each gets the same file (none is
 * replaced after another opened it), so every one's entry is there. */
TEST(store_concurrent_creation)
{
    enum {
        KIDS = 6
    };
    const char *path = th_tmp_path("born.db");
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    size_t n = 0;
    int ok = run_together(KIDS, path, create_and_put);
    CHECK_INT(ok, KIDS);
    CHECK_OK(wb_store_open(path, 0, &st, &err), &err);
    CHECK_OK(wb_store_count(st, NULL, &n, &err), &err);
    CHECK_INT(n, KIDS);
    wb_store_close(st);
    /* Nothing left beside it but SQLite's own files. */
    {
        DIR *d = opendir(th_tmp_path(""));
        struct dirent *de;
        int stray = 0;
        CHECK(d != NULL);
        while (d && (de = readdir(d))) {
            if (strncmp(de->d_name, "born.db.", 8) == 0) {
                fprintf(stderr, "# left: %s\n", de->d_name);
                stray++;
            }
        }
        if (d)
            closedir(d);
        CHECK_INT(stray, 0);
    }
}

/* SQLite's syncs, counted by a VFS wrapped around the default one: each
 * kind of file's methods get a copy whose xSync counts, then calls the
 * original. */
static sqlite3_vfs counting_vfs, *real_vfs;
static int vfs_syncs;
static struct {
    const sqlite3_io_methods *orig;
    sqlite3_io_methods copy;
} counting_io[8];

static int counting_file_sync(sqlite3_file *f, int flags)
{
    vfs_syncs++;
    for (size_t i = 0; i < sizeof counting_io / sizeof counting_io[0]; i++) {
        if (f->pMethods == &counting_io[i].copy)
            return counting_io[i].orig->xSync(f, flags);
    }
    return SQLITE_IOERR;
}

static int counting_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
    int rc = real_vfs->xOpen(real_vfs, name, f, flags, out);
    (void)v;
    if (rc != SQLITE_OK || !f->pMethods)
        return rc;
    for (size_t i = 0; i < sizeof counting_io / sizeof counting_io[0]; i++) {
        if (!counting_io[i].orig) {
            counting_io[i].orig = f->pMethods;
            counting_io[i].copy = *f->pMethods;
            counting_io[i].copy.xSync = counting_file_sync;
        }
        if (counting_io[i].orig == f->pMethods) {
            f->pMethods = &counting_io[i].copy;
            break;
        }
    }
    return rc;
}

/* A new bank is built aside with neither journal nor syncs and put in place
 * whole (synced once by the store itself): SQLite syncs nothing while
 * creating it (in place it took seven). */
TEST(store_creation_needs_no_sqlite_sync)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    real_vfs = sqlite3_vfs_find(NULL);
    CHECK(real_vfs != NULL);
    counting_vfs = *real_vfs;
    counting_vfs.zName = "counting";
    counting_vfs.xOpen = counting_open;
    CHECK(sqlite3_vfs_register(&counting_vfs, 1) == SQLITE_OK);
    vfs_syncs = 0;
    CHECK_OK(wb_store_open(th_tmp_path("fresh.db"), WB_STORE_CREATE, &st, &err), &err);
    CHECK_MSG(vfs_syncs == 0, "%d syncs while creating", vfs_syncs);
    CHECK_INT(wb_store_schema_version(st), WB_STORE_SCHEMA_VERSION);
    wb_store_close(st);
    /* The counter counts: a bank opened again and written syncs (FULL). */
    {
        struct wb_entry e;
        fill(&e, "猫", "cat");
        CHECK_OK(wb_store_open(th_tmp_path("fresh.db"), 0, &st, &err), &err);
        CHECK_OK(wb_store_put(st, &e, &err), &err);
        wb_entry_release(&e);
        wb_store_close(st);
        CHECK(vfs_syncs > 0);
    }
    sqlite3_vfs_register(real_vfs, 1);
    sqlite3_vfs_unregister(&counting_vfs);
}

/* A child of store_concurrent_migrations: open (and migrate) the old bank. */
static int open_and_migrate(int i, const char *path)
{
    struct wb_store *cs = NULL;
    struct wb_error ce = { 0 };
    int v;
    if (wb_store_open(path, 0, &cs, &ce) != 0) {
        fprintf(stderr, "# child %d: %s\n", i, ce.msg);
        return 3;
    }
    v = wb_store_schema_version(cs);
    wb_store_close(cs);
    return v == WB_STORE_SCHEMA_VERSION ? 0 : 4;
}

TEST(store_concurrent_migrations)
{
    enum {
        KIDS = 6
    };
    const char *path = th_tmp_path("race.db");
    struct wb_store *st = NULL;
    struct wb_entry g;
    struct wb_error err = { 0 };
    sqlite3 *db;
    sqlite3_stmt *q;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, v1_sql, NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    int ok = run_together(KIDS, path, open_and_migrate);
    CHECK_INT(ok, KIDS);
    CHECK(has_index(path, "entries_by_language"));
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db,
                             "SELECT count(*) FROM sqlite_master WHERE name = "
                             "'entries_by_language'",
                             -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(q, 0), 1);
    sqlite3_finalize(q);
    CHECK(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL) == SQLITE_OK);
    CHECK(sqlite3_step(q) == SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(q, 0), WB_STORE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    sqlite3_close(db);
    CHECK_OK(wb_store_open(path, WB_STORE_READONLY, &st, &err), &err);
    wb_entry_init(&g);
    CHECK_OK(wb_store_get(st, "猫", "cat", "ja", &g, &err), &err);
    CHECK_INT(g.id, 7);
    CHECK_STR(g.stages[WB_STAGE_IMAGE].file, "a.png");
    wb_entry_release(&g);
    wb_store_close(st);
}

/* Statements run on the connection whose text starts "PRAGMA synchronous". */
static int n_sync_pragmas;
static int count_sync_pragmas(unsigned type, void *ud, void *p, void *x)
{
    (void)type;
    (void)ud;
    const char *sql = sqlite3_sql((sqlite3_stmt *)p);
    (void)x;
    if (sql && strncmp(sql, "PRAGMA synchronous", 18) == 0)
        n_sync_pragmas++;
    return 0;
}

TEST(store_commits_counted_and_claims_without_pragmas)
{
    const char *path = th_tmp_path("commits.db");
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct wb_lease_holder me = { 77, (long)getpid(), "hostA" };
    struct wb_stage_info info;
    struct wb_entry e;
    unsigned claimed, done;
    uint64_t c0;
    char word[32];
    CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &st, &err), &err);
    /* A run's handle: commits not synced one by one (NORMAL). */
    CHECK_OK(wb_store_set_sync(st, 0, &err), &err);
    sqlite3_trace_v2(st->db, SQLITE_TRACE_STMT, count_sync_pragmas, NULL);
    c0 = wb_store_commits(st);
    for (int i = 0; i < 10; i++) {
        snprintf(word, sizeof word, "語%d", i);
        CHECK_OK(wb_store_claim(st, word, "w", "ja", 7u, 0, &me, 30000, &claimed, &done, &err),
                 &err);
        CHECK_INT(claimed, 7u);
    }
    /* One transaction a claim, and no pragma switching the level to NORMAL
     * and back around each: it is NORMAL already. */
    CHECK_INT(wb_store_commits(st) - c0, 10);
    CHECK_INT(n_sync_pragmas, 0);
    /* Ten stage commits and ten claims in a batch: one transaction, and each
     * stage's lease ends in it. */
    wb_entry_init(&e);
    memset(&info, 0, sizeof info);
    info.state = WB_STATE_DONE;
    info.file = (char *)"x.mp3";
    c0 = wb_store_commits(st);
    CHECK_OK(wb_store_begin(st, &err), &err);
    for (int i = 0; i < 10; i++) {
        snprintf(word, sizeof word, "語%d", i);
        free(e.word);
        e.word = strdup(word);
        if (!e.translation) {
            e.translation = strdup("w");
            e.language = strdup("ja");
        }
        CHECK_OK(wb_store_set_stage(st, &e, WB_STAGE_AUDIO, &info, &err), &err);
        snprintf(word, sizeof word, "新%d", i);
        CHECK_OK(wb_store_claim(st, word, "w", "ja", 7u, 0, &me, 30000, &claimed, &done, &err),
                 &err);
    }
    CHECK_INT(wb_store_commits(st) - c0, 0);
    CHECK_OK(wb_store_commit(st, &err), &err);
    CHECK_INT(wb_store_commits(st) - c0, 1);
    /* Committed, its lease gone: another run finds the stage done. */
    {
        struct wb_lease_holder other = { 78, (long)getpid(), "hostA" };
        CHECK_OK(wb_store_claim(st, "語3", "w", "ja", 1u << WB_STAGE_AUDIO, 0, &other, 30000,
                                &claimed, &done, &err),
                 &err);
        CHECK_INT(done, 1u << WB_STAGE_AUDIO);
    }
    /* Back to a sync a commit: the pragma runs once, not at every claim. */
    CHECK_OK(wb_store_set_sync(st, 1, &err), &err);
    n_sync_pragmas = 0;
    CHECK_OK(wb_store_claim(st, "別", "w", "ja", 7u, 0, &me, 30000, &claimed, &done, &err), &err);
    CHECK_INT(n_sync_pragmas, 2); /* NORMAL for the claim, FULL after it */
    wb_entry_release(&e);
    wb_store_close(st);
}
