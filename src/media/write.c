/* Media files on disk: content-addressed names ("<32 hex digits of the
 * SHA-256>.<ext from the bytes>"), crash-safe writes (core_write_atomic: temp
 * file in the same directory, fsync, rename, fsync the directory), and the validity check that
 * decides whether a stage's file still counts as done.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "media/media_internal.h"

#define NAME_HEX 32

int wb_media_file_valid(const char *path)
{
    struct wb_buf b;
    struct stat st;
    int ok = 0;

    wb_buf_init(&b, MEDIA_MAX_INPUT_BYTES);
    if (!path || stat(path, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size <= 0 ||
        (uint64_t)st.st_size > MEDIA_MAX_INPUT_BYTES)
        goto out;
    if (core_file_read(path, &b, NULL) < 0)
        goto out;
    ok = wb_media_valid(b.data, b.len);
out:
    wb_buf_release(&b);
    return ok;
}

int wb_media_name(const void *data, size_t len, char *out, size_t cap)
{
    char hex[65];
    const char *ext = data ? wb_media_sniff_ext(data, len) : NULL;
    int rc;
    if (!ext || cap < NAME_HEX + 2 + strlen(ext))
        return WB_EMEDIA;
    if ((rc = core_sha256_hex(data, len, hex)) < 0)
        return rc; /* no libcrypto */
    snprintf(out, cap, "%.*s.%s", NAME_HEX, hex, ext);
    return 0;
}

static const char *const store_exts[] = {
    "mp3", "m4a", "aac", "opus", "wav", "png", "jpg", "webp"
};

/* The hash part of a store name (NULL when it is not one) and its extension. */
static const char *name_parts(const char *name, const char **ext)
{
    const char *h = name;
    size_t i;
    if (!name)
        return NULL;
    if (strncmp(h, "dialogue-", 9) == 0)
        h += 9;
    for (i = 0; i < NAME_HEX; i++) {
        if (!((h[i] >= '0' && h[i] <= '9') || (h[i] >= 'a' && h[i] <= 'f')))
            return NULL;
    }
    if (h[NAME_HEX] != '.')
        return NULL;
    for (i = 0; i < sizeof store_exts / sizeof store_exts[0]; i++) {
        if (strcmp(h + NAME_HEX + 1, store_exts[i]) == 0) {
            *ext = store_exts[i];
            return h;
        }
    }
    return NULL;
}

int wb_media_name_ok(const char *name)
{
    const char *ext;
    return name_parts(name, &ext) != NULL;
}

int wb_media_load(const char *path, int follow, struct wb_buf *out, struct wb_error *err)
{
    struct stat st;
    size_t start = out->len;
    int fd, rc = 0;
    if (!path || !*path)
        return wb_error_set(err, WB_EINVAL, "no media path");
    /* O_NONBLOCK: a FIFO planted under a media name must not hang us (fstat
     * refuses it next); it changes nothing for a regular file. */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | (follow ? 0 : O_NOFOLLOW));
    if (fd < 0) {
        int e = errno;
        if (e == ELOOP)
            return wb_error_set(err, WB_EINVAL, "%s is a symbolic link", path);
        return wb_error_set(err, e == ENOENT || e == ENOTDIR ? WB_ENOTFOUND : WB_EIO, "%s: %s",
                            path, strerror(e));
    }
    if (fstat(fd, &st) < 0) {
        rc = wb_error_set(err, WB_EIO, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        rc = wb_error_set(err, WB_EMEDIA, "%s is not a regular file", path);
        goto out;
    }
    if ((uint64_t)st.st_size > WB_MEDIA_MAX_FILE) {
        rc = wb_error_set(err, WB_ETOOBIG, "%s is larger than %zu MiB (%lld bytes)", path,
                          (size_t)(WB_MEDIA_MAX_FILE >> 20), (long long)st.st_size);
        goto out;
    }
    if (st.st_size == 0) {
        rc = wb_error_set(err, WB_EMEDIA, "%s is empty", path);
        goto out;
    }
    if (wb_buf_grow(out, (size_t)st.st_size + 1) < 0) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    for (;;) {
        ssize_t n;
        if (out->len - start > WB_MEDIA_MAX_FILE) {
            rc = wb_error_set(err, WB_ETOOBIG, "%s is larger than %zu MiB", path,
                              (size_t)(WB_MEDIA_MAX_FILE >> 20));
            goto out;
        }
        if (wb_buf_grow(out, 65536) < 0) {
            rc = wb_error_set(err, WB_ENOMEM, "out of memory");
            goto out;
        }
        n = read(fd, out->data + out->len, 65536);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = wb_error_set(err, WB_EIO, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        out->len += (size_t)n;
        out->data[out->len] = '\0';
    }
    if (!wb_media_sniff_ext(out->data + start, out->len - start))
        rc = wb_error_set(err, WB_EMEDIA,
                          "%s is not a picture or sound file we know (JPEG, PNG, WebP, MP3, AAC, "
                          "M4A, Opus, WAV)",
                          path);
    else if (!wb_media_valid(out->data + start, out->len - start))
        rc = wb_error_set(err, WB_EMEDIA, "%s is a truncated or corrupt %s file", path,
                          wb_media_sniff_ext(out->data + start, out->len - start));
out:
    close(fd);
    if (rc)
        media_buf_truncate(out, start);
    return rc;
}

int wb_media_read(const char *media_dir, const char *name, struct wb_buf *out, struct wb_error *err)
{
    struct wb_buf path;
    const char *ext, *hash = name_parts(name, &ext);
    size_t start = out->len;
    char hex[65];
    int rc;
    if (!hash)
        return wb_error_set(err, WB_EINVAL, "\"%s\" is not a media store name",
                            name ? name : "(null)");
    wb_buf_init(&path, 0);
    if (core_path_join(&path, media_dir && *media_dir ? media_dir : ".", name) < 0) {
        wb_buf_release(&path);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    rc = wb_media_load(path.data, 0, out, err);
    if (rc == 0 && strcmp(wb_media_sniff_ext(out->data + start, out->len - start), ext) != 0)
        rc = wb_error_set(err, WB_EMEDIA, "%s holds %s data, not %s", path.data,
                          wb_media_sniff_ext(out->data + start, out->len - start), ext);
    if (rc == 0 && hash == name) { /* a content-hash name: the bytes must hash to it */
        if ((rc = core_sha256_hex(out->data + start, out->len - start, hex)) < 0)
            rc = core_crypto_load(err);
        else if (strncmp(hex, hash, NAME_HEX) != 0)
            rc =
                wb_error_set(err, WB_EMEDIA, "%s does not hold the bytes its name says", path.data);
    }
    if (rc)
        media_buf_truncate(out, start);
    wb_buf_release(&path);
    return rc;
}

int wb_media_copy(const char *media_dir, const char *name, const char *dest_dir,
                  struct wb_error *err)
{
    struct wb_buf data, path;
    int rc;
    wb_buf_init(&data, 0);
    wb_buf_init(&path, 0);
    if ((rc = wb_media_read(media_dir, name, &data, err)))
        goto out;
    if (core_path_join(&path, dest_dir, name) < 0) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if (!wb_media_file_valid(path.data))
        rc = core_write_atomic_opt(path.data, data.data, data.len, CORE_ATOMIC_MKDIR, err);
out:
    wb_buf_release(&data);
    wb_buf_release(&path);
    return rc;
}

int wb_media_write(const char *media_dir, const void *data, size_t len, char **name_out,
                   struct wb_error *err)
{
    char *name = NULL;
    const char *ext;
    struct wb_buf path;
    int rc;

    wb_buf_init(&path, 0);
    if (name_out)
        *name_out = NULL;
    if (!media_dir || !media_dir[0] || (!data && len)) {
        rc = wb_error_set(err, WB_EINVAL, "no media directory or data");
        goto out;
    }
    ext = wb_media_sniff_ext(data, len);
    if (!ext) {
        rc = wb_error_set(
            err, WB_EMEDIA, "%s",
            len ? "unknown media type (not MP3, AAC, M4A, Opus, WAV, PNG, JPEG or WebP)"
                : "empty media data");
        goto out;
    }
    if (!wb_media_valid(data, len)) {
        rc = wb_error_set(err, WB_EMEDIA, "truncated or corrupt %s data (%zu bytes)", ext, len);
        goto out;
    }
    name = malloc(NAME_HEX + 1 + strlen(ext) + 1);
    if (!name) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if (wb_media_name(data, len, name, NAME_HEX + 1 + strlen(ext) + 1) < 0) {
        rc = core_crypto_load(err); /* the hash's library: the only way it fails here */
        goto out;
    }
    rc = core_path_join(&path, media_dir, name);
    if (rc < 0) {
        wb_error_set(err, rc, "out of memory");
        goto out;
    }
    /* Same content, same name: a valid file already there is this file. */
    /* The folder is made if missing (not checked before every file). */
    if (!wb_media_file_valid(path.data))
        rc = core_write_atomic_opt(path.data, data, len, CORE_ATOMIC_MKDIR, err);
    if (rc == 0 && name_out) {
        *name_out = name;
        name = NULL;
    }
out:
    free(name);
    wb_buf_release(&path);
    return rc;
}
