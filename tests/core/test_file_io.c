/* The system calls behind the one crash-safe write (core_atomic_*) and
 * wb_mkdirs: what each flag spares is counted by wrapping fsync, fchmod,
 * mkdir and getpid (the linker's --wrap), never timed. A write cut short by
 * the file size limit leaves the old file whole and no temp file. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "test.h"
#include "th_syscount.h"

static int n_fsync;

/* Folder syncs: a global order of renames and of folder syncs started and
 * finished, and a hold on the first folder sync until hold_for renames. */
static int seq, hold_for, n_renamed, n_dir_fsync;
static int dir_sync_start[64], dir_sync_done[64];

static int next_seq(void)
{
    return __atomic_add_fetch(&seq, 1, __ATOMIC_SEQ_CST);
}

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
    struct stat st;
    int rc, i;
    __atomic_add_fetch(&n_fsync, 1, __ATOMIC_SEQ_CST);
    if (fstat(fd, &st) != 0 || !S_ISDIR(st.st_mode))
        return __real_fsync(fd);
    i = __atomic_fetch_add(&n_dir_fsync, 1, __ATOMIC_SEQ_CST);
    if (i < 64)
        dir_sync_start[i] = next_seq();
    if (i == 0 && hold_for) {
        for (int t = 0; t < 10000 && __atomic_load_n(&n_renamed, __ATOMIC_SEQ_CST) < hold_for; t++)
            usleep(1000);
        usleep(20000); /* the others reach their folder sync */
    }
    rc = __real_fsync(fd);
    if (i < 64)
        __atomic_store_n(&dir_sync_done[i], next_seq(), __ATOMIC_SEQ_CST);
    return rc;
}

static struct {
    char path[4096];
    int seq;
} renames[8];

int __real_rename(const char *a, const char *b);
int __wrap_rename(const char *a, const char *b);
int __wrap_rename(const char *a, const char *b)
{
    int rc = __real_rename(a, b), s = next_seq();
    int i = __atomic_fetch_add(&n_renamed, 1, __ATOMIC_SEQ_CST);
    if (i < 8) {
        snprintf(renames[i].path, sizeof renames[i].path, "%s", b);
        renames[i].seq = s;
    }
    return rc;
}

static void reset(void)
{
    th_syscount_reset();
    n_fsync = n_dir_fsync = n_renamed = 0;
}

static mode_t mode_of(const char *path)
{
    struct stat st;
    CHECK(stat(path, &st) == 0);
    return st.st_mode & 0777;
}

TEST(default_write_syncs_the_file_and_its_folder)
{
    struct wb_error err = { 0 };
    const char *path = th_tmp_path("kept.txt");
    reset();
    CHECK_OK(core_write_atomic(path, "kept", 4, &err), &err);
    CHECK_INT(n_fsync, 2); /* the file, then its folder */
    CHECK_INT(th_n_fchmod, 1);
    CHECK_INT(mode_of(path), 0644);
}

TEST(nosync_private_write_spares_fsync_and_fchmod)
{
    struct wb_error err = { 0 };
    const char *path = th_tmp_path("marker");
    char *got;
    reset();
    CHECK_OK(core_write_atomic_opt(path, "db=x\npid=1\n", 11,
                                   CORE_ATOMIC_NOSYNC | CORE_ATOMIC_PRIVATE, &err),
             &err);
    CHECK_INT(n_fsync, 0);
    CHECK_INT(th_n_fchmod, 0);
    CHECK_INT(mode_of(path), 0600);
    got = th_read_file(path, NULL);
    CHECK_STR(got, "db=x\npid=1\n");
    free(got);
    /* Replaced whole, like any atomic write. */
    CHECK_OK(core_write_atomic_opt(path, "db=y\npid=2\n", 11, CORE_ATOMIC_NOSYNC, &err), &err);
    got = th_read_file(path, NULL);
    CHECK_STR(got, "db=y\npid=2\n");
    free(got);
}

TEST(mkdir_flag_makes_folders_only_when_missing)
{
    struct wb_error err = { 0 };
    char path[4096];
    char *got;
    /* The folder is there: no mkdir at all. */
    reset();
    CHECK_OK(core_write_atomic_opt(th_tmp_path("a.txt"), "a", 1, CORE_ATOMIC_MKDIR, &err), &err);
    CHECK_INT(th_n_mkdir, 0);
    /* Missing, two levels deep: made, then the file written. */
    snprintf(path, sizeof path, "%s/new/deeper/b.txt", th_tmpdir());
    CHECK_OK(core_write_atomic_opt(path, "b", 1, CORE_ATOMIC_MKDIR, &err), &err);
    CHECK(th_n_mkdir >= 2);
    got = th_read_file(path, NULL);
    CHECK_STR(got, "b");
    free(got);
    /* Without the flag a missing folder is an error naming the file. */
    snprintf(path, sizeof path, "%s/absent/c.txt", th_tmpdir());
    CHECK(core_write_atomic(path, "c", 1, &err) < 0);
    CHECK(strstr(err.msg, path) != NULL);
}

TEST(mkdirs_asks_once_when_the_folder_exists)
{
    struct wb_error err = { 0 };
    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/x/y/z", th_tmpdir());
    CHECK_OK(wb_mkdirs(path, &err), &err);
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
    reset();
    CHECK_OK(wb_mkdirs(path, &err), &err);
    CHECK_INT(th_n_mkdir, 1);
    /* Only the last level missing: one call too. */
    snprintf(path, sizeof path, "%s/x/y/z/w", th_tmpdir());
    reset();
    CHECK_OK(wb_mkdirs(path, &err), &err);
    CHECK_INT(th_n_mkdir, 1);
    CHECK(stat(path, &st) == 0 && S_ISDIR(st.st_mode));
}

TEST(getpid_is_asked_once_and_again_after_fork)
{
    long me = core_getpid();
    pid_t pid;
    int status;
    reset();
    for (int i = 0; i < 100; i++)
        CHECK_INT(core_getpid(), me);
    CHECK_INT(th_n_getpid, 0);
    CHECK_INT(me, (long)syscall(SYS_getpid));
    pid = fork();
    if (pid == 0)
        _exit(core_getpid() == (long)syscall(SYS_getpid) && core_getpid() != me ? 0 : 1);
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
}

TEST(nosync_write_cut_short_leaves_the_old_file_whole)
{
    struct wb_error err = { 0 };
    const char *path = th_tmp_path("m");
    char big[8192];
    struct rlimit rl = { 4096, 4096 };
    char *got;
    DIR *d;
    struct dirent *de;
    int others = 0;
    CHECK_OK(core_write_atomic_opt(path, "db=old\npid=7\n", 13, CORE_ATOMIC_NOSYNC, &err), &err);
    /* Past the file size limit the write fails (EFBIG, not a signal). */
    signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    memset(big, 'x', sizeof big);
    CHECK(core_write_atomic_opt(path, big, sizeof big, CORE_ATOMIC_NOSYNC | CORE_ATOMIC_PRIVATE,
                                &err) < 0);
    CHECK(strstr(err.msg, path) != NULL);
    got = th_read_file(path, NULL);
    CHECK_STR(got, "db=old\npid=7\n");
    free(got);
    d = opendir(th_tmpdir());
    while (d && (de = readdir(d)) != NULL)
        others += de->d_name[0] != '.' && strcmp(de->d_name, "m") != 0;
    if (d)
        closedir(d);
    CHECK_INT(others, 0);
}

struct writer {
    char path[4096];
    int rc, renamed_at, covered;
};

static void *write_one(void *ud)
{
    struct writer *w = ud;
    struct wb_error err = { 0 };
    w->rc = core_write_atomic(w->path, "x", 1, &err);
    for (int i = 0; i < 8 && i < n_renamed; i++) {
        if (!strcmp(renames[i].path, w->path))
            w->renamed_at = renames[i].seq;
    }
    /* Returned: a folder sync that started after this file's rename (the
     * rename is the last one counted before the sync began) has finished. */
    for (int i = 0; i < n_dir_fsync && i < 64; i++) {
        if (dir_sync_start[i] > w->renamed_at && dir_sync_done[i] != 0)
            w->covered = 1;
    }
    return NULL;
}

TEST(files_renamed_together_share_a_folder_sync)
{
    struct writer w[3];
    pthread_t th[3];
    reset();
    hold_for = 3; /* the first folder sync waits until all three are renamed */
    for (int i = 0; i < 3; i++) {
        memset(&w[i], 0, sizeof w[i]);
        snprintf(w[i].path, sizeof w[i].path, "%s/f%d", th_tmpdir(), i);
    }
    for (int i = 0; i < 3; i++)
        CHECK(pthread_create(&th[i], NULL, write_one, &w[i]) == 0);
    for (int i = 0; i < 3; i++)
        CHECK(pthread_join(th[i], NULL) == 0);
    for (int i = 0; i < 3; i++) {
        CHECK_OK(w[i].rc, NULL);
        CHECK(access(w[i].path, F_OK) == 0);
        CHECK_MSG(w[i].renamed_at > 0 && w[i].covered,
                  "%s returned before a folder sync begun after its rename ended", w[i].path);
    }
    CHECK_INT(n_renamed, 3);
    /* Three files, each made durable by a sync begun after its rename, and
     * at most two folder syncs: the two renamed while the first ran share
     * the next. */
    CHECK_MSG(n_dir_fsync <= 2, "%d folder syncs for 3 files", n_dir_fsync);
    hold_for = 0;
}
