/* The store on bad days: missing, unreadable, foreign, damaged, newer and
 * locked databases must give a clear error and stay byte-for-byte as they
 * were; a writer killed with SIGKILL and a full disk must leave a consistent
 * database behind.
 */
#include <grp.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store/store_internal.h"
#include "test.h"
#include "wordbank/buf.h"
#include "wordbank/store.h"

/* Declared in src/core/util.h; repeated to keep the test on public headers. */
int core_file_read(const char *path, struct wb_buf *out, struct wb_error *err);

static void put_n(struct wb_store *st, int from, int n, int examples)
{
    struct wb_error err = { 0 };
    char w[64], d[600];
    memset(d, 'd', sizeof d - 1);
    d[sizeof d - 1] = 0;
    for (int i = from; i < from + n; i++) {
        struct wb_entry e;
        wb_entry_init(&e);
        snprintf(w, sizeof w, "単語%d", i);
        e.word = strdup(w);
        e.translation = strdup("word");
        e.language = strdup("ja");
        e.description = strdup(d);
        for (int k = 0; k < examples; k++)
            CHECK(wb_entry_add_example(&e, "例文です。", "An example.") == 0);
        e.stages[WB_STAGE_DETAILS].state = WB_STATE_DONE;
        CHECK_OK(wb_store_put(st, &e, &err), &err);
        wb_entry_release(&e);
    }
}

/* Opening path must fail with want, mention the path, and leave the bytes alone. */
static void expect_refused(const char *path, unsigned flags, int want, const char *needle)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    size_t n0, n1;
    char *before = th_read_file(path, &n0), *after;
    CHECK_INT(wb_store_open(path, flags, &st, &err), want);
    CHECK(st == NULL);
    CHECK_MSG(strstr(err.msg, path) != NULL, "no path in: %s", err.msg);
    CHECK_MSG(!needle || strstr(err.msg, needle), "no '%s' in: %s", needle, err.msg);
    after = th_read_file(path, &n1);
    CHECK_INT(n0, n1);
    CHECK(memcmp(before, after, n0) == 0);
    free(before);
    free(after);
}

TEST(bad_missing_without_create)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    const char *path = th_tmp_path("none.db");
    struct stat sb;
    CHECK_INT(wb_store_open(path, 0, &st, &err), WB_ENOTFOUND);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK(stat(path, &sb) != 0);
    CHECK_INT(wb_store_open(path, WB_STORE_READONLY, &st, &err), WB_ENOTFOUND);
}

TEST(bad_not_a_database)
{
    const char *path = th_tmp_path("notes.db");
    static const char text[] = "word\ttranslation\n猫\tcat\n"
                               "this is a text file, not SQLite, and it must survive intact\n";
    char big[8192];
    th_write_file(path, text, sizeof text - 1);
    expect_refused(path, 0, WB_ECORRUPT, "untouched");
    expect_refused(path, WB_STORE_CREATE, WB_ECORRUPT, NULL);
    expect_refused(path, WB_STORE_READONLY, WB_ECORRUPT, NULL);
    /* Bigger than a page, too. */
    for (size_t i = 0; i < sizeof big; i++)
        big[i] = (char)(i * 7);
    th_write_file(path, big, sizeof big);
    expect_refused(path, 0, WB_ECORRUPT, NULL);
}

TEST(bad_foreign_sqlite_database)
{
    const char *path = th_tmp_path("other.db");
    sqlite3 *db;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1);", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(db);
    expect_refused(path, 0, WB_ECORRUPT, "not a wordbank database");
    /* Same with another program's application_id and no tables. */
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DROP TABLE t; PRAGMA application_id = 1234;", NULL, NULL, NULL) ==
          SQLITE_OK);
    sqlite3_close(db);
    expect_refused(path, 0, WB_ECORRUPT, "another program");
}

TEST(bad_newer_schema_refused)
{
    const char *path = th_tmp_path("new.db");
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    sqlite3 *db;
    CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &st, &err), &err);
    wb_store_close(st);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    expect_refused(path, 0, WB_EUNSUPPORTED, "newer");
    expect_refused(path, WB_STORE_READONLY, WB_EUNSUPPORTED, "99");
}

/* Opens path as an unprivileged user (root reads everything, and CI runs as
 * root): a child drops to nobody (65534) for good, tries, and sends back its
 * return code and message. Run directly when not root. */
static int open_unprivileged(const char *path, char *msg, size_t msglen)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    int fds[2], status = 0, rc = 0;
    ssize_t got;
    pid_t pid;
    if (geteuid() != 0) {
        rc = wb_store_open(path, 0, &st, &err);
        if (st)
            wb_store_close(st);
        snprintf(msg, msglen, "%s", err.msg);
        return rc;
    }
    CHECK(pipe(fds) == 0);
    pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        close(fds[0]);
        if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0 || geteuid() == 0)
            _exit(2);
        rc = wb_store_open(path, 0, &st, &err);
        if (write(fds[1], &rc, sizeof rc) != (ssize_t)sizeof rc ||
            write(fds[1], err.msg, strlen(err.msg) + 1) < 0)
            _exit(3);
        _exit(0);
    }
    close(fds[1]);
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "the unprivileged child failed (status %d)", status);
    CHECK(read(fds[0], &rc, sizeof rc) == (ssize_t)sizeof rc);
    got = read(fds[0], msg, msglen - 1);
    msg[got > 0 ? got : 0] = '\0';
    close(fds[0]);
    return rc;
}

TEST(bad_unreadable)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    char msg[sizeof err.msg];
    const char *dir = th_tmp_path("adir");
    const char *path = th_tmp_path("locked-away.db");
    CHECK(mkdir(dir, 0755) == 0);
    CHECK_INT(wb_store_open(dir, WB_STORE_CREATE, &st, &err), WB_EIO);
    CHECK(strstr(err.msg, dir) != NULL);
    /* The test directory is searchable by everyone, the file readable by none
     * but its owner (root, when run as root). */
    CHECK(chmod(th_tmpdir(), 0755) == 0);
    th_write_file(path, "x", 1);
    CHECK(chmod(path, 0) == 0);
    CHECK_INT(open_unprivileged(path, msg, sizeof msg), WB_EIO);
    CHECK_MSG(strstr(msg, "Permission denied") != NULL && strstr(msg, path) != NULL, "message: %s",
              msg);
}

TEST(bad_corrupt_pages)
{
    const char *path = th_tmp_path("c.db");
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    size_t n0, n1;
    char *before, *after;
    int rc;
    CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &st, &err), &err);
    put_n(st, 0, 200, 3);
    wb_store_close(st); /* checkpoints the WAL into the file */
    before = th_read_file(path, &n0);
    CHECK(n0 > 16 * 4096);
    /* Overwrite every page after the first with garbage. */
    for (size_t i = 4096; i < n0; i++)
        before[i] = (char)(0x5a ^ (i * 131));
    th_write_file(path, before, n0);
    rc = wb_store_open(path, 0, &st, &err);
    if (rc == 0) {
        size_t n = 0;
        struct wb_entry e;
        wb_entry_init(&e);
        rc = wb_store_count(st, NULL, &n, &err);
        if (rc == 0)
            rc = wb_store_get(st, "単語5", "word", "ja", &e, &err);
        CHECK_INT(rc, WB_ECORRUPT);
        CHECK(strstr(err.msg, path) != NULL);
        CHECK_INT(wb_store_check(st, 1, &err), WB_ECORRUPT);
        CHECK(strstr(err.msg, "integrity") || strstr(err.msg, "malformed"));
        wb_entry_release(&e);
        wb_store_close(st);
    } else {
        CHECK_INT(rc, WB_ECORRUPT);
    }
    after = th_read_file(path, &n1);
    CHECK_INT(n0, n1);
    CHECK(memcmp(before, after, n0) == 0);
    free(before);
    free(after);
}

TEST(bad_locked_by_other_writer)
{
    const char *path = th_tmp_path("l.db");
    struct wb_store *st = NULL, *reader = NULL;
    struct wb_error err = { 0 };
    struct timespec t0, t1;
    sqlite3 *db;
    size_t n = 0;
    CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &st, &err), &err);
    put_n(st, 0, 3, 1);
    CHECK(sqlite3_open(path, &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "BEGIN IMMEDIATE; UPDATE entries SET context = 'x';", NULL, NULL,
                       NULL) == SQLITE_OK);
    CHECK_OK(wb_store_set_busy_timeout(st, 300, &err), &err);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct wb_entry e;
    wb_entry_init(&e);
    e.word = strdup("新");
    e.translation = strdup("new");
    e.language = strdup("ja");
    CHECK_INT(wb_store_put(st, &e, &err), WB_ELOCKED);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK_MSG(ms >= 250 && ms < 3000, "waited %.0f ms", ms);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK(strstr(err.msg, "another process") != NULL);
    CHECK_INT(wb_store_begin(st, &err), WB_ELOCKED);
    CHECK(!wb_store_in_batch(st));
    /* Readers are not blocked by the writer (WAL), and see the old state. */
    CHECK_OK(wb_store_open(path, WB_STORE_READONLY, &reader, &err), &err);
    CHECK_OK(wb_store_count(reader, NULL, &n, &err), &err);
    CHECK_INT(n, 3);
    wb_store_close(reader);
    /* Once the other writer is done, we write. */
    CHECK(sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_OK(wb_store_put(st, &e, &err), &err);
    wb_entry_release(&e);
    wb_store_close(st);
}

struct counts {
    int entries, bad;
};

static int count_fn(void *ud, const struct wb_entry *e)
{
    struct counts *c = ud;
    c->entries++;
    if (e->n_examples != 3 || e->stages[WB_STAGE_DETAILS].state != WB_STATE_DONE)
        c->bad++;
    return 0;
}

static void writer_child(const char *path, int ready_fd)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    if (wb_store_open(path, WB_STORE_CREATE, &st, &err) != 0)
        _exit(3);
    for (int round = 0;; round++) {
        if (wb_store_begin(st, &err) != 0)
            _exit(4);
        put_n(st, (round * 7) % 5000, 25, 3); /* updates and inserts */
        if (wb_store_commit(st, &err) != 0)
            _exit(5);
        put_n(st, 10000 + round, 1, 3); /* outside a batch, too */
        if (round == 0 && (write(ready_fd, "r", 1) != 1 || close(ready_fd) != 0))
            _exit(6);
    }
}

TEST(crash_sigkill_mid_write)
{
    const char *path = th_tmp_path("crash.db");
    for (int attempt = 0; attempt < 4; attempt++) {
        struct wb_store *st = NULL;
        struct wb_error err = { 0 };
        struct counts c = { 0 };
        int status = 0, ready[2];
        char byte;
        pid_t pid;
        CHECK(pipe(ready) == 0);
        pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            close(ready[0]);
            writer_child(path, ready[1]);
        }
        close(ready[1]);
        /* Once the writer is under way (however loaded the machine), kill it
         * at a different moment each time. */
        CHECK(read(ready[0], &byte, 1) == 1);
        close(ready[0]);
        usleep(10000 + attempt * 37000);
        CHECK(kill(pid, SIGKILL) == 0);
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK_MSG(WIFSIGNALED(status), "writer exited early with %d", WEXITSTATUS(status));
        CHECK_OK(wb_store_open(path, 0, &st, &err), &err);
        CHECK_OK(wb_store_check(st, 1, &err), &err);
        CHECK_OK(wb_store_each(st, NULL, count_fn, &c, &err), &err);
        CHECK_MSG(c.entries > 0, "the writer committed nothing in attempt %d", attempt);
        CHECK_INT(c.bad, 0);
        wb_store_close(st);
    }
}

TEST(sqlite_codes_map)
{
    CHECK_INT(store_map_rc(SQLITE_FULL), WB_ENOSPC);
    CHECK_INT(store_map_rc(SQLITE_NOTADB), WB_ECORRUPT);
    CHECK_INT(store_map_rc(SQLITE_CORRUPT_INDEX), WB_ECORRUPT);
    CHECK_INT(store_map_rc(SQLITE_BUSY_SNAPSHOT), WB_ELOCKED);
    CHECK_INT(store_map_rc(SQLITE_IOERR_WRITE), WB_EIO);
    CHECK_INT(store_map_rc(SQLITE_CANTOPEN), WB_EIO);
    CHECK_INT(store_map_rc(SQLITE_OK), 0);
}

/* A VFS shim over the default one whose writes fail with SQLITE_FULL while
 * disk_full is set: what the unix VFS returns on ENOSPC (SQLite's own tests
 * inject I/O errors the same way). */
static sqlite3_vfs *real_vfs;
static int disk_full;
struct shim_file {
    sqlite3_file base;
    sqlite3_file *real; /* follows this struct in the same allocation */
};
#define REAL(f) (((struct shim_file *)(f))->real)
static int sh_close(sqlite3_file *f)
{
    return REAL(f)->pMethods->xClose(REAL(f));
}
static int sh_read(sqlite3_file *f, void *b, int n, sqlite3_int64 o)
{
    return REAL(f)->pMethods->xRead(REAL(f), b, n, o);
}
static int sh_write(sqlite3_file *f, const void *b, int n, sqlite3_int64 o)
{
    return disk_full ? SQLITE_FULL : REAL(f)->pMethods->xWrite(REAL(f), b, n, o);
}
static int sh_truncate(sqlite3_file *f, sqlite3_int64 n)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), n);
}
static int sh_sync(sqlite3_file *f, int fl)
{
    return REAL(f)->pMethods->xSync(REAL(f), fl);
}
static int sh_size(sqlite3_file *f, sqlite3_int64 *n)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), n);
}
static int sh_lock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xLock(REAL(f), l);
}
static int sh_unlock(sqlite3_file *f, int l)
{
    return REAL(f)->pMethods->xUnlock(REAL(f), l);
}
static int sh_check(sqlite3_file *f, int *o)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), o);
}
static int sh_fcntl(sqlite3_file *f, int op, void *a)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, a);
}
static int sh_sector(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}
static int sh_dev(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}
static int sh_shmmap(sqlite3_file *f, int p, int sz, int w, void volatile **pp)
{
    return REAL(f)->pMethods->xShmMap(REAL(f), p, sz, w, pp);
}
static int sh_shmlock(sqlite3_file *f, int o, int n, int fl)
{
    return REAL(f)->pMethods->xShmLock(REAL(f), o, n, fl);
}
static void sh_shmbarrier(sqlite3_file *f)
{
    REAL(f)->pMethods->xShmBarrier(REAL(f));
}
static int sh_shmunmap(sqlite3_file *f, int d)
{
    return REAL(f)->pMethods->xShmUnmap(REAL(f), d);
}
static const sqlite3_io_methods shim_io = {
    2,          sh_close,      sh_read,     sh_write, sh_truncate, sh_sync, sh_size,
    sh_lock,    sh_unlock,     sh_check,    sh_fcntl, sh_sector,   sh_dev,  sh_shmmap,
    sh_shmlock, sh_shmbarrier, sh_shmunmap, NULL,     NULL,
};
static int sh_open(sqlite3_vfs *v, const char *name, sqlite3_file *f, int flags, int *out)
{
    struct shim_file *sf = (struct shim_file *)f;
    int rc;
    (void)v;
    sf->real = (sqlite3_file *)(sf + 1);
    rc = real_vfs->xOpen(real_vfs, name, sf->real, flags, out);
    sf->base.pMethods = rc == SQLITE_OK && sf->real->pMethods ? &shim_io : NULL;
    return rc;
}
static sqlite3_vfs shim_vfs;

static void install_full_vfs(void)
{
    real_vfs = sqlite3_vfs_find(NULL);
    shim_vfs = *real_vfs;
    shim_vfs.zName = "wb_full";
    shim_vfs.szOsFile = (int)sizeof(struct shim_file) + real_vfs->szOsFile;
    shim_vfs.xOpen = sh_open;
    CHECK(sqlite3_vfs_register(&shim_vfs, 1) == SQLITE_OK);
}

TEST(full_disk_maps_to_enospc)
{
    const char *path = th_tmp_path("full.db");
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct counts c = { 0 };
    int rc;
    install_full_vfs();
    CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &st, &err), &err);
    put_n(st, 0, 10, 3);
    CHECK_OK(wb_store_begin(st, &err), &err);
    put_n(st, 100, 20, 3);
    disk_full = 1;
    rc = wb_store_commit(st, &err);
    CHECK_MSG(rc == WB_ENOSPC, "rc %d: %s", rc, err.msg);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK(!wb_store_in_batch(st));
    struct wb_entry e;
    wb_entry_init(&e);
    e.word = strdup("w");
    e.translation = strdup("t");
    e.language = strdup("ja");
    CHECK_INT(wb_store_put(st, &e, &err), WB_ENOSPC);
    wb_entry_release(&e);
    disk_full = 0;
    wb_store_close(st);
    CHECK_OK(wb_store_open(path, 0, &st, &err), &err);
    CHECK_OK(wb_store_check(st, 1, &err), &err);
    CHECK_OK(wb_store_each(st, NULL, count_fn, &c, &err), &err);
    CHECK_INT(c.entries, 10);
    CHECK_INT(c.bad, 0);
    wb_store_close(st);
}

TEST(file_size_limit_mid_batch)
{
    const char *path = th_tmp_path("full.db");
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct rlimit old, lim;
    struct counts c = { 0 };
    int rc = 0, done = 0;
    CHECK_OK(wb_store_open(path, WB_STORE_CREATE, &st, &err), &err);
    put_n(st, 0, 10, 3);
    /* A file size limit stands in for a full disk: writes past it come up short. */
    signal(SIGXFSZ, SIG_IGN);
    CHECK(getrlimit(RLIMIT_FSIZE, &old) == 0);
    lim = old;
    lim.rlim_cur = 300001;
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0);
    for (int i = 0; i < 2000 && rc == 0; i += 20) {
        CHECK_OK(wb_store_begin(st, &err), &err);
        put_n(st, 100 + i, 20, 3);
        rc = wb_store_commit(st, &err);
        if (rc == 0)
            done += 20;
    }
    CHECK_MSG(rc == WB_ENOSPC || rc == WB_EIO, "rc %d: %s", rc, err.msg);
    CHECK(strstr(err.msg, path) != NULL);
    CHECK(setrlimit(RLIMIT_FSIZE, &old) == 0);
    wb_store_close(st);
    CHECK_OK(wb_store_open(path, 0, &st, &err), &err);
    CHECK_OK(wb_store_check(st, 1, &err), &err);
    CHECK_OK(wb_store_each(st, NULL, count_fn, &c, &err), &err);
    CHECK_INT(c.entries, 10 + done);
    CHECK_INT(c.bad, 0);
    wb_store_close(st);
}
