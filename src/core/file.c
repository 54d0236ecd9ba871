/* Whole files in and out: the one crash-safe write (temp file beside the
 * target, fsync, rename, fsync the folder) and the one whole-file read (a
 * path, or "-" for standard input). Every module that writes a file the user
 * keeps goes through core_atomic_*; see util.h.
 */
#define _GNU_SOURCE /* renameat2 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"

static int io_code(int e)
{
    return e == ENOSPC || e == EDQUOT ? WB_ENOSPC : e == EFBIG ? WB_ETOOBIG : WB_EIO;
}

/* The folder path is in: "." when it names none, "/" for a file at the root. */
static int folder_of(struct wb_buf *out, const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? wb_buf_append(out, path, slash == path ? 1 : (size_t)(slash - path))
                 : wb_buf_appendc(out, '.');
}

int core_atomic_open(struct core_atomic *a, const char *path, struct wb_error *err)
{
    return core_atomic_open_opt(a, path, 0, err);
}

int core_atomic_open_opt(struct core_atomic *a, const char *path, unsigned flags,
                         struct wb_error *err)
{
    int e;

    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->flags = flags;
    if (!path || !*path)
        return wb_error_set(err, WB_EINVAL, "no output path given");
    wb_buf_init(&a->tmp, 0);
    wb_buf_init(&a->dir, 0);
    if (!(a->path = strdup(path)) || wb_buf_appendf(&a->tmp, "%s.tmp-XXXXXX", path) < 0 ||
        folder_of(&a->dir, path) < 0) {
        core_atomic_abort(a);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    a->fd = mkstemp(a->tmp.data);
    if (a->fd < 0 && errno == ENOENT && (flags & CORE_ATOMIC_MKDIR)) {
        /* The folder is missing: made now, not checked before every file. */
        if ((e = wb_mkdirs(a->dir.data, err)) < 0) {
            wb_buf_reset(&a->tmp);
            core_atomic_abort(a);
            return e;
        }
        memcpy(a->tmp.data + a->tmp.len - 6, "XXXXXX", 6);
        a->fd = mkstemp(a->tmp.data);
    }
    if (a->fd < 0) {
        e = errno;
        wb_buf_reset(&a->tmp); /* nothing to unlink */
        core_atomic_abort(a);
        return wb_error_set(err, io_code(e), "%s: cannot create a temp file: %s", path,
                            strerror(e));
    }
    /* mkstemp makes 0600; what we write is read by browsers, Anki, players. */
    if (!(flags & CORE_ATOMIC_PRIVATE) && fchmod(a->fd, 0644) < 0) {
        e = errno;
        core_atomic_abort(a);
        return wb_error_set(err, io_code(e), "%s: %s", path, strerror(e));
    }
    return 0;
}

int core_atomic_write(struct core_atomic *a, const void *data, size_t len, struct wb_error *err)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = write(a->fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            int e = n < 0 ? errno : ENOSPC;
            return wb_error_set(err, io_code(e), "%s: writing: %s", a->path, strerror(e));
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* One folder sync: 0 or the errno (what = "open" or "sync"). */
static int sync_folder(const char *dir, const char **what)
{
    int e = 0, fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    *what = "open";
    if (fd < 0)
        return errno;
    *what = "sync";
    /* EINVAL: a file system that cannot sync folders; nothing more to do. */
    if (fsync(fd) < 0 && errno != EINVAL)
        e = errno;
    close(fd);
    return e;
}

/* Folder syncs shared by files renamed into one folder close together (the
 * worker pool writing media): a folder sync that starts after a rename
 * makes it durable, so a file whose rename came while another thread's sync
 * was under way waits for the next sync, and one sync serves every file
 * renamed before it started. One folder is shared at a time; a file in
 * another folder while it is in use syncs its own. */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    char dir[4096];
    int users;       /* threads inside for dir */
    int running;     /* a sync of dir is under way */
    uint64_t asked;  /* renames that asked for a sync */
    uint64_t synced; /* every rename up to this one is durable */
} shared_sync = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, "", 0, 0, 0, 0 };

static int fsync_dir(const char *dir, const char *path, struct wb_error *err)
{
    const char *what = "sync";
    uint64_t mine;
    int e = 0;

    pthread_mutex_lock(&shared_sync.lock);
    if (strcmp(shared_sync.dir, dir) != 0) {
        if (shared_sync.users > 0 || strlen(dir) >= sizeof shared_sync.dir) {
            pthread_mutex_unlock(&shared_sync.lock);
            e = sync_folder(dir, &what); /* another folder is shared now */
            goto out;
        }
        snprintf(shared_sync.dir, sizeof shared_sync.dir, "%s", dir);
        shared_sync.asked = shared_sync.synced = 0;
    }
    shared_sync.users++;
    mine = ++shared_sync.asked; /* after this file's rename */
    while (shared_sync.synced < mine) {
        if (shared_sync.running) {
            pthread_cond_wait(&shared_sync.cond, &shared_sync.lock);
            continue;
        }
        /* Ours to run: it covers every rename counted so far. */
        uint64_t upto = shared_sync.asked;
        shared_sync.running = 1;
        pthread_mutex_unlock(&shared_sync.lock);
        e = sync_folder(dir, &what);
        pthread_mutex_lock(&shared_sync.lock);
        shared_sync.running = 0;
        if (!e && upto > shared_sync.synced)
            shared_sync.synced = upto;
        pthread_cond_broadcast(&shared_sync.cond);
        if (e)
            break; /* the others try again themselves */
    }
    shared_sync.users--;
    pthread_mutex_unlock(&shared_sync.lock);
out:
    if (e && !strcmp(what, "open"))
        return wb_error_set(err, WB_EIO, "%s: cannot open its folder: %s", path, strerror(e));
    if (e)
        return wb_error_set(err, io_code(e), "%s: syncing its folder: %s", path, strerror(e));
    return 0;
}

int core_atomic_commit(struct core_atomic *a, struct wb_error *err)
{
    int rc = 0, e;
    int sync = !(a->flags & CORE_ATOMIC_NOSYNC);

    if (sync && fsync(a->fd) < 0) {
        e = errno;
        rc = wb_error_set(err, io_code(e), "%s: syncing: %s", a->path, strerror(e));
        goto out;
    }
    e = close(a->fd) < 0 ? errno : 0;
    a->fd = -1;
    if (e) {
        rc = wb_error_set(err, io_code(e), "%s: closing: %s", a->path, strerror(e));
        goto out;
    }
    if (rename(a->tmp.data, a->path) < 0) {
        e = errno;
        rc = wb_error_set(err, io_code(e), "%s: renaming into place: %s", a->path, strerror(e));
        goto out;
    }
    wb_buf_reset(&a->tmp); /* renamed: nothing left to remove */
    if (sync)
        rc = fsync_dir(a->dir.data, a->path, err);
out:
    core_atomic_abort(a);
    return rc;
}

int core_file_publish(const char *tmp, const char *path, struct wb_error *err)
{
    struct wb_buf dir;
    int fd, e = 0, rc;

    fd = open(tmp, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) < 0)
        e = errno;
    if (fd >= 0)
        close(fd);
    if (e) {
        unlink(tmp);
        return wb_error_set(err, io_code(e), "%s: syncing: %s", tmp, strerror(e));
    }
    /* Never over a file that appeared meanwhile: renameat2's NOREPLACE, or
     * on a file system without it a hard link (which fails the same way). */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, path, RENAME_NOREPLACE) < 0) {
        e = errno;
        if (e == EINVAL || e == ENOSYS || e == ENOTSUP)
            e = link(tmp, path) < 0 ? errno : 0;
        unlink(tmp);
        if (e == EEXIST)
            return wb_error_set(err, WB_EEXIST, "%s: already exists", path);
        if (e)
            return wb_error_set(err, io_code(e), "%s: putting in place: %s", path, strerror(e));
    }
    /* The folder's sync is the one core_atomic_commit shares. */
    wb_buf_init(&dir, 0);
    rc = folder_of(&dir, path) < 0 ? wb_error_set(err, WB_ENOMEM, "out of memory")
                                   : fsync_dir(dir.data, path, err);
    wb_buf_release(&dir);
    return rc;
}

void core_atomic_abort(struct core_atomic *a)
{
    if (a->fd >= 0)
        close(a->fd);
    if (a->tmp.len)
        unlink(a->tmp.data);
    wb_buf_release(&a->tmp);
    wb_buf_release(&a->dir);
    free(a->path);
    a->path = NULL;
    a->fd = -1;
}

int core_write_atomic(const char *path, const void *data, size_t len, struct wb_error *err)
{
    return core_write_atomic_opt(path, data, len, 0, err);
}

int core_write_atomic_opt(const char *path, const void *data, size_t len, unsigned flags,
                          struct wb_error *err)
{
    struct core_atomic a;
    int rc = core_atomic_open_opt(&a, path, flags, err);
    if (rc)
        return rc;
    if ((rc = core_atomic_write(&a, data, len, err))) {
        core_atomic_abort(&a);
        return rc;
    }
    return core_atomic_commit(&a, err);
}

int wb_file_write(const char *path, const void *data, size_t len, struct wb_error *err)
{
    return core_write_atomic(path, data, len, err);
}

/* Append everything fd holds; name is for messages. */
static int read_fd(int fd, const char *name, struct wb_buf *out, struct wb_error *err)
{
    char tmp[65536];
    ssize_t n;
    int rc;

    while ((n = read(fd, tmp, sizeof tmp)) != 0) {
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return wb_error_set(err, WB_EIO, "%s: %s", name, strerror(errno));
        }
        if ((rc = wb_buf_append(out, tmp, (size_t)n)) != 0)
            return wb_error_set(err, rc, "%s: %s", name, wb_strerror(rc));
    }
    return 0;
}

int core_file_read(const char *path, struct wb_buf *out, struct wb_error *err)
{
    int rc, fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return wb_error_set(err, errno == ENOENT ? WB_ENOTFOUND : WB_EIO, "%s: %s", path,
                            strerror(errno));
    rc = read_fd(fd, path, out, err);
    close(fd);
    return rc;
}

int wb_buf_read_file(struct wb_buf *b, const char *path, struct wb_error *err)
{
    return core_file_read(path, b, err);
}

int wb_buf_read_input(struct wb_buf *b, const char *path, struct wb_error *err)
{
    if (path && strcmp(path, "-") == 0)
        return read_fd(STDIN_FILENO, "<stdin>", b, err);
    return core_file_read(path, b, err);
}
