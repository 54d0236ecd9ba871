/* Clocks, hashing and base64 (OpenSSL's libcrypto, included here only), and
 * small string and path helpers. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"

int64_t core_clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t core_clock_wall_s(void)
{
    return (int64_t)time(NULL);
}

void core_hex_encode(const uint8_t *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

void core_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void core_sha256_hex(const void *data, size_t len, char hex[65])
{
    uint8_t d[32];
    core_sha256(data, len, d);
    core_hex_encode(d, 32, hex);
}

void core_md5_hex(const void *data, size_t len, char hex[33])
{
    uint8_t d[16];
    unsigned int n = 16;
    EVP_Digest(data, len, d, &n, EVP_md5(), NULL);
    core_hex_encode(d, 16, hex);
}

/* ---- base64, whole or as it arrives ---- */

static int b64_alphabet_ok(const char *in, size_t len)
{
    /* OpenSSL's decoder stops quietly at some foreign characters ('-'):
     * refuse anything outside the standard alphabet first. */
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '=' || c == '\n' || c == '\r' || c == ' ' || c == '\t'))
            return 0;
    }
    return 1;
}

int core_b64_init(struct core_b64 *d)
{
    memset(d, 0, sizeof *d);
    d->ctx = EVP_ENCODE_CTX_new();
    if (!d->ctx)
        return WB_ENOMEM;
    EVP_DecodeInit(d->ctx);
    return 0;
}

int core_b64_feed(struct core_b64 *d, const char *in, size_t len, struct wb_buf *out)
{
    const size_t chunk = 1 << 16;
    size_t start = out->len;
    int n = 0, rc = 0;

    if (d->failed)
        return d->failed;
    if (!b64_alphabet_ok(in, len)) {
        rc = WB_EPARSE;
        goto out;
    }
    for (size_t off = 0; off < len; off += chunk) {
        size_t take = len - off < chunk ? len - off : chunk;
        /* Up to 3 bytes of every 4 characters, plus what the decoder kept
         * from earlier pieces: up to 64 characters, 48 bytes). */
        if ((rc = wb_buf_grow(out, take / 4 * 3 + 66)) != 0)
            goto out;
        if (EVP_DecodeUpdate(d->ctx, (unsigned char *)out->data + out->len, &n,
                             (const unsigned char *)in + off, (int)take) < 0) {
            rc = WB_EPARSE;
            goto out;
        }
        out->len += (size_t)n;
        out->data[out->len] = '\0';
        d->decoded += (size_t)n;
    }
out:
    if (rc) {
        d->failed = rc;
        out->len = start;
        if (out->cap)
            out->data[start] = '\0';
    }
    return rc;
}

int core_b64_finish(struct core_b64 *d, struct wb_buf *out)
{
    int n = 0, rc;
    if (d->failed)
        return d->failed;
    if ((rc = wb_buf_grow(out, 3)) != 0)
        return d->failed = rc;
    if (EVP_DecodeFinal(d->ctx, (unsigned char *)out->data + out->len, &n) < 0)
        return d->failed = WB_EPARSE;
    out->len += (size_t)n;
    out->data[out->len] = '\0';
    d->decoded += (size_t)n;
    return 0;
}

void core_b64_release(struct core_b64 *d)
{
    EVP_ENCODE_CTX_free(d->ctx);
    d->ctx = NULL;
}

int core_base64_decode(const char *in, size_t len, struct wb_buf *out)
{
    struct core_b64 d;
    size_t start = out->len;
    int rc = core_b64_init(&d);
    if (rc)
        return rc;
    if ((rc = core_b64_feed(&d, in, len, out)) == 0 && (rc = core_b64_finish(&d, out)) != 0) {
        out->len = start;
        if (out->cap)
            out->data[start] = '\0';
    }
    core_b64_release(&d);
    return rc;
}

int core_base64_encode(const void *in, size_t len, struct wb_buf *out)
{
    size_t need = 4 * ((len + 2) / 3);
    int rc = wb_buf_grow(out, need);
    if (rc)
        return rc;
    /* EVP_EncodeBlock writes no newlines and NUL-terminates. */
    for (size_t off = 0; off < len;) {
        size_t take = len - off > 3 * 16384 ? 3 * 16384 : len - off;
        int n = EVP_EncodeBlock((unsigned char *)out->data + out->len,
                                (const unsigned char *)in + off, (int)take);
        out->len += (size_t)n;
        off += take;
    }
    out->data[out->len] = '\0';
    return 0;
}

int core_utf8_put(struct wb_buf *out, uint32_t cp)
{
    char b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (char)(0xC0 | (cp >> 6));
        b[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (char)(0xE0 | (cp >> 12));
        b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        b[0] = (char)(0xF0 | (cp >> 18));
        b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        b[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    return wb_buf_append(out, b, n);
}

char *core_strdup0(const char *s)
{
    return s ? strdup(s) : NULL;
}

int core_str_set(char **dst, const char *src)
{
    char *copy = NULL;
    if (src && !(copy = strdup(src)))
        return WB_ENOMEM;
    free(*dst);
    *dst = copy;
    return 0;
}

static long cached_pid;

static void pid_forget(void)
{
    cached_pid = 0;
}

static void pid_init(void)
{
    pthread_atfork(NULL, NULL, pid_forget);
}

long core_getpid(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    long pid = __atomic_load_n(&cached_pid, __ATOMIC_RELAXED);
    if (pid)
        return pid;
    pthread_once(&once, pid_init);
    pid = (long)getpid();
    __atomic_store_n(&cached_pid, pid, __ATOMIC_RELAXED);
    return pid;
}

int core_path_join(struct wb_buf *out, const char *dir, const char *name)
{
    if (name[0] == '/' || !dir || !dir[0])
        return wb_buf_appends(out, name);
    int rc = wb_buf_appends(out, dir);
    if (!rc && out->len && out->data[out->len - 1] != '/')
        rc = wb_buf_appendc(out, '/');
    return rc ? rc : wb_buf_appends(out, name);
}

int wb_mkdirs(const char *path, struct wb_error *err)
{
    char buf[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof buf)
        return wb_error_set(err, WB_EINVAL, "bad directory path '%s'", path);
    /* The common case first: the folder is there (one call), or only it is
     * missing. Its parents are walked only when one of them is missing. */
    if (mkdir(path, 0777) == 0 || errno == EEXIST)
        return 0;
    if (errno != ENOENT)
        return wb_error_set(err, errno == ENOSPC ? WB_ENOSPC : WB_EIO, "cannot create %s: %s", path,
                            strerror(errno));
    memcpy(buf, path, len + 1);
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(buf, 0777) < 0 && errno != EEXIST)
            return wb_error_set(err, WB_EIO, "cannot create %s: %s", buf, strerror(errno));
        *p = '/';
    }
    if (mkdir(buf, 0777) < 0 && errno != EEXIST)
        return wb_error_set(err, errno == ENOSPC ? WB_ENOSPC : WB_EIO, "cannot create %s: %s", buf,
                            strerror(errno));
    return 0;
}
