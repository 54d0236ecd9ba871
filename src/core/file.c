/* Whole files in and out: the one crash-safe write (temp file beside the
 * target, fsync, rename, fsync the folder) and the one whole-file read (a
 * path, or "-" for standard input). Every module that writes a file the user
 * keeps goes through core_atomic_*; see util.h.
 */
#include <errno.h>
#include <fcntl.h>
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

int core_atomic_open(struct core_atomic *a, const char *path, struct wb_error *err)
{
    return core_atomic_open_opt(a, path, 0, err);
}

int core_atomic_open_opt(struct core_atomic *a, const char *path, unsigned flags,
                         struct wb_error *err)
{
    const char *slash;
    int e;

    memset(a, 0, sizeof *a);
    a->fd = -1;
    a->flags = flags;
    if (!path || !*path)
        return wb_error_set(err, WB_EINVAL, "no output path given");
    wb_buf_init(&a->tmp, 0);
    wb_buf_init(&a->dir, 0);
    slash = strrchr(path, '/');
    if (!(a->path = strdup(path)) || wb_buf_appendf(&a->tmp, "%s.tmp-XXXXXX", path) < 0 ||
        (slash ? wb_buf_append(&a->dir, path, slash == path ? 1 : (size_t)(slash - path))
               : wb_buf_appendc(&a->dir, '.')) < 0) {
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

static int fsync_dir(const char *dir, const char *path, struct wb_error *err)
{
    int rc = 0, fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return wb_error_set(err, WB_EIO, "%s: cannot open its folder: %s", path, strerror(errno));
    /* EINVAL: a file system that cannot sync folders; nothing more to do. */
    if (fsync(fd) < 0 && errno != EINVAL)
        rc = wb_error_set(err, io_code(errno), "%s: syncing its folder: %s", path, strerror(errno));
    close(fd);
    return rc;
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
