/* Clocks, hashing and base64 (OpenSSL's libcrypto, included here only and
 * loaded on first use through core/dl.h), and small string and path helpers. */
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

#include "core/dl.h"
#include "core/util.h"

/* libcrypto (some 5 MiB, thousands of relocations: about 2 ms at every
 * start) is loaded by the first hash or base64 call, not by the exec: --version
 * and list never map it. libcurl brings it too, so in a run that sends
 * requests it is usually mapped already when the first response is decoded.
 * The soname is the one of the headers compiled against. */
#define CRYPTO_STR(x)    #x
#define CRYPTO_SONAME(v) "libcrypto.so." CRYPTO_STR(v)
#define CRYPTO_FUNCTIONS(X) \
    X(EVP_Digest)           \
    X(EVP_sha256)           \
    X(EVP_md5)              \
    X(EVP_DecodeBlock)      \
    X(EVP_EncodeBlock)
static struct {
    CRYPTO_FUNCTIONS(CORE_DL_MEMBER)
} crypto;
#define CRYPTO_SYM(name) CORE_DL_SYM(crypto, name, #name)
static const struct core_dl_sym crypto_syms[] = { CRYPTO_FUNCTIONS(CRYPTO_SYM) };
static struct core_dl_once crypto_once = CORE_DL_ONCE_INIT;

static int crypto_load(struct wb_error *err)
{
    return core_dl_load(CRYPTO_SONAME(OPENSSL_SHLIB_VERSION), crypto_syms,
                        CORE_DL_COUNT(crypto_syms), err);
}

int core_crypto_load(struct wb_error *err)
{
    /* Every hash and base64 piece asks: the loaded case touches no message. */
    return core_dl_need(&crypto_once, crypto_load, NULL, err);
}

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

int core_sha256(const void *data, size_t len, uint8_t out[32])
{
    unsigned int n = 32;
    int rc = core_crypto_load(NULL);
    if (rc < 0) {
        memset(out, 0, 32);
        return rc;
    }
    crypto.EVP_Digest(data, len, out, &n, crypto.EVP_sha256(), NULL);
    return 0;
}

int core_sha256_hex(const void *data, size_t len, char hex[65])
{
    uint8_t d[32];
    int rc = core_sha256(data, len, d);
    core_hex_encode(d, 32, hex);
    return rc;
}

int core_md5_hex(const void *data, size_t len, char hex[33])
{
    uint8_t d[16] = { 0 };
    unsigned int n = 16;
    int rc = core_crypto_load(NULL);
    if (rc == 0)
        crypto.EVP_Digest(data, len, d, &n, crypto.EVP_md5(), NULL);
    core_hex_encode(d, 16, hex);
    return rc;
}

/* ---- base64, whole or as it arrives ---- */

/* One look at each character: the standard alphabet, the white space the
 * decoder skips, the padding, and everything else (refused; OpenSSL's
 * streaming decoder stopped quietly at some foreign characters, '-'). */
enum {
    B64_ALPHA,
    B64_SPACE,
    B64_PAD,
    B64_BAD
};

static int b64_class(unsigned char c)
{
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
        c == '/')
        return B64_ALPHA;
    if (c == '\n' || c == '\r' || c == '\t' || c == ' ')
        return B64_SPACE;
    return c == '=' ? B64_PAD : B64_BAD;
}

/* Characters handed to EVP_DecodeBlock at once (a multiple of 4, in int). */
#define B64_RUN (1 << 16)

static int b64_alpha(char c)
{
    return b64_class((unsigned char)c) == B64_ALPHA;
}

/* Whole quanta q[0..n) (n a multiple of 4, '=' only in the last one, pad of
 * them) decoded onto out. Room is asked for exactly the bytes kept, so a
 * payload that fits out's limit decodes. */
static int b64_put(struct core_b64 *d, const char *q, size_t n, unsigned pad, struct wb_buf *out)
{
    unsigned char last[3];
    size_t body = pad ? n - 4 : n;
    int rc;
    if (body) {
        if ((rc = wb_buf_grow(out, body / 4 * 3)) != 0)
            return rc;
        if (crypto.EVP_DecodeBlock((unsigned char *)out->data + out->len, (const unsigned char *)q,
                                   (int)body) < 0)
            return WB_EPARSE;
        out->len += body / 4 * 3;
    }
    if (pad) {
        /* EVP_DecodeBlock decodes '=' as zero bits and returns whole groups:
         * the padded quantum's last byte(s) are not data. */
        if (crypto.EVP_DecodeBlock(last, (const unsigned char *)q + body, 4) < 0)
            return WB_EPARSE;
        if ((rc = wb_buf_append(out, last, 3 - pad)) != 0)
            return rc;
    }
    out->data[out->len] = '\0';
    d->decoded += body / 4 * 3 + (pad ? 3 - pad : 0);
    return 0;
}

/* The general path, a character at a time: white space anywhere, padding
 * checked, quanta split across pieces (d->carry). */
static int b64_slow(struct core_b64 *d, const char *in, size_t len, struct wb_buf *out)
{
    char q[4096];
    size_t nq = d->ncarry;
    int rc;
    memcpy(q, d->carry, nq);
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        switch (b64_class((unsigned char)c)) {
        case B64_ALPHA:
            if (d->pad)
                return WB_EPARSE; /* data after the padding */
            q[nq++] = c;
            break;
        case B64_SPACE:
            continue;
        case B64_PAD:
            /* "xy==" or "xyz=": never in a quantum's first two places, and
             * so never after a padded quantum either. */
            if (nq % 4 < 2)
                return WB_EPARSE;
            q[nq++] = c;
            d->pad++;
            break;
        default:
            return WB_EPARSE;
        }
        if (nq % 4 == 0 && (nq == sizeof q || d->pad)) {
            if ((rc = b64_put(d, q, nq, d->pad, out)) != 0)
                return rc;
            nq = 0;
        }
    }
    /* Whole quanta now (the caller may take them between pieces); the rest
     * waits for the next piece. */
    if ((rc = b64_put(d, q, nq & ~(size_t)3, 0, out)) != 0)
        return rc;
    d->ncarry = (unsigned)(nq & 3);
    memcpy(d->carry, q + (nq & ~(size_t)3), d->ncarry);
    return 0;
}

int core_b64_init(struct core_b64 *d)
{
    memset(d, 0, sizeof *d);
    return 0;
}

int core_b64_feed(struct core_b64 *d, const char *in, size_t len, struct wb_buf *out)
{
    size_t start = out->len, i = 0, room;
    int rc = 0;

    if (d->failed)
        return d->failed;
    if ((rc = core_crypto_load(NULL)) < 0)
        return d->failed = rc;
    /* One allocation for what the piece can hold, within out's limit (the
     * exact sizes are asked for as they are written). */
    room = (d->ncarry + len) / 4 * 3;
    if (out->limit)
        room = out->limit > out->len ? (room < out->limit - out->len ? room : out->limit - out->len)
                                     : 0;
    if ((rc = wb_buf_grow(out, room)) != 0)
        goto out;
    /* The fast path: runs of alphabet only (what an API's JSON string holds),
     * a multiple of 4 long, decoded by OpenSSL in one pass that also refuses
     * any character outside the alphabet but '='; a run that ends in a letter
     * and holds a '=' has data after its padding. Anything else (white space,
     * the padded last quantum, a quantum split across pieces, a bad
     * character) goes to the general path. */
    while (!d->ncarry && !d->pad && !d->slow && len - i >= 4) {
        size_t n = (len - i < B64_RUN ? len - i : B64_RUN) & ~(size_t)3;
        if (!b64_alpha(in[i + n - 1]) && n > 4)
            n -= 4; /* the padded quantum, most likely */
        if (!b64_alpha(in[i]) || !b64_alpha(in[i + n - 1]))
            break;
        /* Past the limit, perhaps only by white space in the run: the
         * general path asks for exact sizes. */
        if ((rc = wb_buf_grow(out, n / 4 * 3)) == WB_ETOOBIG) {
            rc = 0;
            break;
        }
        if (rc)
            goto out;
        if (crypto.EVP_DecodeBlock((unsigned char *)out->data + out->len,
                                   (const unsigned char *)in + i, (int)n) < 0) {
            d->slow = 1; /* white space (or worse): character at a time from here */
            break;
        }
        if (memchr(in + i, '=', n)) {
            rc = WB_EPARSE;
            goto out;
        }
        out->len += n / 4 * 3;
        out->data[out->len] = '\0';
        d->decoded += n / 4 * 3;
        i += n;
    }
    if (i < len)
        rc = b64_slow(d, in + i, len - i, out);
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
    (void)out;
    if (d->failed)
        return d->failed;
    if (d->ncarry)
        return d->failed = WB_EPARSE; /* a quantum cut short */
    return 0;
}

void core_b64_release(struct core_b64 *d)
{
    d->ncarry = 0;
}

int core_base64_decode(const char *in, size_t len, struct wb_buf *out)
{
    struct core_b64 d;
    size_t start = out->len;
    int rc;
    core_b64_init(&d);
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
    int rc = core_crypto_load(NULL);
    if (rc < 0 || (rc = wb_buf_grow(out, need)) != 0)
        return rc;
    /* EVP_EncodeBlock writes no newlines and NUL-terminates. */
    for (size_t off = 0; off < len;) {
        size_t take = len - off > 3 * 16384 ? 3 * 16384 : len - off;
        int n = crypto.EVP_EncodeBlock((unsigned char *)out->data + out->len,
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
