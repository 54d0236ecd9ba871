/* The EDICT index: built once from Debian's EUC-JP edict into the cache
 * directory, then read with pread. Layout (host byte order, it is a cache):
 *   header | UTF-8 text, one EDICT line per '\n' | uint32 line offsets sorted
 *   by headword | uint32 line offsets (lines with a reading) sorted by reading
 * Keys are read straight from the lines, so the tables are 4 bytes a row.
 * Lookups pread the rows and lines they need: a mapping made whole
 * page-cache folios (up to 2 MiB) resident for each probe, so the 22 MiB file
 * ended up in the process's RSS. Opening checks the header and reads the
 * fence keys (every EDICT_BLOCK-th row); every other row is checked when a
 * lookup reads it. A foreign or stale file is rebuilt at open; a damaged one
 * fails the lookup that meets the damage, is removed and rebuilt at the next
 * open: never trusted. Builds happen under a lock file (one builder at a
 * time across processes) into a temporary file renamed into place.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "text/edict_internal.h"
#include "wordbank/log.h"

#define EDICT_MAGIC      "WBEDICT1"
#define EDICT_VERSION    1u
#define EDICT_SOURCE_MAX ((size_t)256 << 20)
#define EDICT_LINE_MAX   65536

struct idx_header {
    char magic[8];
    uint32_t version;
    uint32_t header_size;
    uint64_t src_size;
    int64_t src_mtime_s;
    int64_t src_mtime_ns;
    uint64_t text_off, text_len;
    uint64_t head_off, n_head;
    uint64_t read_off, n_read;
    uint64_t total;
};

/* ---- keys ---- */

void edict_key_head(const char *text, uint32_t off, const char **k, size_t *n)
{
    const char *p = text + off;
    size_t i = 0;

    while (p[i] != ' ' && p[i] != '\n')
        i++;
    *k = p;
    *n = i;
}

void edict_key_read(const char *text, uint32_t off, const char **k, size_t *n)
{
    const char *p = text + off;
    size_t i = 0;

    *k = NULL;
    *n = 0;
    while (p[i] != ' ' && p[i] != '\n')
        i++;
    if (p[i] != ' ' || p[i + 1] != '[')
        return;
    p += i + 2;
    for (i = 0; p[i] != ']' && p[i] != '\n'; i++)
        ;
    if (p[i] == ']') {
        *k = p;
        *n = i;
    }
}

static int key_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : (an > bn) - (an < bn);
}

/* qsort_r is a GNU extension: the sort's context goes through a thread-local. */
static _Thread_local const struct edict_sort *sort_ctx;

static int cmp_rows(const void *x, const void *y)
{
    const struct edict_sort *s = sort_ctx;
    uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
    const char *ka, *kb;
    size_t na, nb;
    int c;

    s->key(s->text, a, &ka, &na);
    s->key(s->text, b, &kb, &nb);
    c = key_cmp(ka, na, kb, nb);
    return c ? c : (a > b) - (a < b);
}

/* ---- reading (pread: the file is never mapped) ---- */

/* n bytes at file offset at: 0, WB_ECORRUPT when the file ends first (it
 * shrank under us), WB_EIO. */
static int read_at(int fd, void *buf, size_t n, uint64_t at)
{
    char *p = buf;

    while (n > 0) {
        ssize_t r = pread(fd, p, n, (off_t)at);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return WB_EIO;
        if (r == 0)
            return WB_ECORRUPT;
        p += r;
        n -= (size_t)r;
        at += (uint64_t)r;
    }
    return 0;
}

void edict_reader_init(struct edict_reader *r, const struct edict_idx *x)
{
    memset(r, 0, sizeof *r);
    r->x = x;
    r->table = -1;
    wb_buf_init(&r->buf, 0);
}

void edict_reader_release(struct edict_reader *r)
{
    wb_buf_release(&r->buf);
}

size_t edict_rows(const struct edict_idx *x, int table)
{
    return table == EDICT_HEAD ? x->n_head : x->n_read;
}

int edict_line(struct edict_reader *r, uint32_t off)
{
    const struct edict_idx *x = r->x;
    /* From the byte before the line (it must be a '\n'), up to its '\n'. */
    size_t start = off > 0 ? off - 1 : 0, want = 256, have = 0;
    int rc;

    if (r->line && r->line_off == off)
        return 0; /* read just before (a search's last probe, then its first match) */
    r->line = NULL;
    if (off >= x->text_len)
        return WB_ECORRUPT;
    wb_buf_reset(&r->buf);
    for (;;) {
        size_t left = x->text_len - start - have, n = want < left ? want : left;
        const char *nl;
        size_t skip;
        if (n == 0)
            return WB_ECORRUPT; /* the text ends with '\n' (checked at open): it changed */
        if (wb_buf_grow(&r->buf, n) != 0)
            return WB_ENOMEM;
        if ((rc = read_at(x->fd, r->buf.data + have, n, x->text_off + start + have)) != 0)
            return rc;
        r->buf.len = have + n;
        r->buf.data[r->buf.len] = '\0';
        skip = have == 0 && off > 0; /* the '\n' before the line */
        nl = memchr(r->buf.data + have + skip, '\n', n - skip);
        have += n;
        if (nl) {
            r->line = r->buf.data + (off > 0);
            r->line_len = (size_t)(nl - r->line);
            break;
        }
        if (want < 65536)
            want *= 2;
    }
    if (off > 0 && r->buf.data[0] != '\n') {
        r->line = NULL;
        return WB_ECORRUPT;
    }
    r->line_off = off;
    return 0;
}

/* The key of the line at off, read into r->line and checked. */
static int line_key(struct edict_reader *r, int table, uint32_t off, const char **k, size_t *kn)
{
    int rc = edict_line(r, off);

    if (rc)
        return rc;
    (table == EDICT_HEAD ? edict_key_head : edict_key_read)(r->line, 0, k, kn);
    /* A reading row whose line has no reading is damage too. */
    return table == EDICT_READ && !*k ? WB_ECORRUPT : 0;
}

int edict_row(struct edict_reader *r, int table, size_t i, uint32_t *off, const char **k,
              size_t *kn)
{
    const struct edict_idx *x = r->x;
    int rc;

    if (table != r->table || i < r->first || i >= r->first + r->n) {
        /* A block of rows around i: a search's last probes stay inside it. */
        size_t n = edict_rows(x, table);
        r->first = i - i % EDICT_BLOCK;
        r->n = n - r->first < EDICT_BLOCK ? n - r->first : EDICT_BLOCK;
        r->table = -1;
        if ((rc = read_at(x->fd, r->rows, r->n * 4,
                          (table == EDICT_HEAD ? x->head_off : x->read_off) + r->first * 4)) != 0)
            return rc;
        r->table = table;
    }
    *off = r->rows[i - r->first];
    return line_key(r, table, *off, k, kn);
}

int edict_lower_bound(struct edict_reader *r, int table, const char *w, size_t wn, size_t *at)
{
    const struct edict_idx *x = r->x;
    const size_t *fa = x->fence_at[table];
    const char *fk = x->fence_keys[table].data;
    size_t lo = 0, hi = x->n_fence[table];

    /* The fences: j = how many sampled keys are < w, so the answer lies
     * after row (j-1)*EDICT_BLOCK and at or before row j*EDICT_BLOCK. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_cmp(fk + fa[mid], fa[mid + 1] - fa[mid], w, wn) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    hi = lo * EDICT_BLOCK < edict_rows(x, table) ? lo * EDICT_BLOCK : edict_rows(x, table);
    lo = lo > 0 ? (lo - 1) * EDICT_BLOCK + 1 : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *k;
        size_t kn;
        uint32_t off;
        int rc = edict_row(r, table, mid, &off, &k, &kn);
        if (rc)
            return rc;
        if (key_cmp(k, kn, w, wn) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return 0;
}

/* Read every EDICT_BLOCK-th key of each table (their rows checked), the
 * table itself in chunks of FENCE_CHUNK rows. */
#define FENCE_CHUNK (16 * EDICT_BLOCK)

static int read_fences(struct edict_idx *x)
{
    struct edict_reader r;
    uint32_t *chunk = malloc(FENCE_CHUNK * sizeof *chunk);
    int rc = chunk ? 0 : WB_ENOMEM;

    edict_reader_init(&r, x);
    for (int t = EDICT_HEAD; t <= EDICT_READ && rc == 0; t++) {
        size_t rows = edict_rows(x, t), n = (rows + EDICT_BLOCK - 1) / EDICT_BLOCK, first = 0,
               have = 0;
        if (!(x->fence_at[t] = calloc(n + 1, sizeof *x->fence_at[t]))) {
            rc = WB_ENOMEM;
            break;
        }
        for (size_t j = 0; j < n && rc == 0; j++) {
            size_t row = j * EDICT_BLOCK;
            const char *k;
            size_t kn;
            if (row >= first + have) {
                first = row;
                have = rows - row < FENCE_CHUNK ? rows - row : FENCE_CHUNK;
                if ((rc = read_at(x->fd, chunk, have * 4,
                                  (t == EDICT_HEAD ? x->head_off : x->read_off) + row * 4)) != 0)
                    break;
            }
            if ((rc = line_key(&r, t, chunk[row - first], &k, &kn)) == 0 &&
                (rc = wb_buf_append(&x->fence_keys[t], k, kn)) == 0)
                x->fence_at[t][j + 1] = x->fence_keys[t].len;
        }
        x->n_fence[t] = n;
    }
    edict_reader_release(&r);
    free(chunk);
    return rc;
}

/* ---- building ---- */

static int read_source(int fd, const struct stat *st, struct wb_buf *src, struct wb_error *err)
{
    int rc = 0;

    if ((size_t)st->st_size > EDICT_SOURCE_MAX)
        return wb_error_set(err, WB_ETOOBIG, "EDICT file too large (%lld bytes)",
                            (long long)st->st_size);
    if ((rc = wb_buf_grow(src, (size_t)st->st_size + 1)) != 0)
        return wb_error_set(err, rc, "out of memory reading EDICT");
    for (;;) {
        if ((rc = wb_buf_grow(src, 65536)) != 0)
            return wb_error_set(err, rc, "EDICT file grew past its limit");
        ssize_t r = read(fd, src->data + src->len, 65536);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return wb_error_set(err, WB_EIO, "reading EDICT: %s", strerror(errno));
        if (r == 0)
            break;
        src->len += (size_t)r;
        src->data[src->len] = '\0';
    }
    return 0;
}

static int push_row(uint32_t **v, size_t *n, size_t *cap, uint32_t off)
{
    int rc = core_array_reserve(v, cap, *n, 1, sizeof **v, UINT32_MAX);
    if (rc)
        return rc;
    (*v)[(*n)++] = off;
    return 0;
}

/* Convert src (EUC-JP) line by line into text (UTF-8), collecting the row
 * tables. Lines that do not convert or do not look like EDICT are skipped. */
static int convert(const struct wb_buf *src, struct wb_buf *text, uint32_t **head, size_t *n_head,
                   uint32_t **rd, size_t *n_read, void (*progress)(void *, double), void *ud,
                   struct wb_error *err)
{
    iconv_t cd = iconv_open("UTF-8", "EUC-JP");
    size_t cap_h = 0, cap_r = 0, skipped = 0, line_no = 0;
    const char *p = src->data, *end = src->data + src->len;
    double next_report = 0.0;
    char *tmp = malloc(EDICT_LINE_MAX * 4);
    int rc = 0;

    if (cd == (iconv_t)-1 || !tmp) {
        rc = wb_error_set(err, WB_EUNSUPPORTED, "iconv cannot convert EUC-JP to UTF-8");
        goto out;
    }
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        const char *line = p;
        p += len + (nl != NULL);
        line_no++;
        while (len > 0 && line[len - 1] == '\r')
            len--;
        if (len == 0 || len > EDICT_LINE_MAX || memchr(line, '\0', len)) {
            skipped += len > 0;
            continue;
        }
        char *in = (char *)line, *o = tmp;
        size_t inleft = len, outleft = EDICT_LINE_MAX * 4;
        iconv(cd, NULL, NULL, NULL, NULL);
        if (iconv(cd, &in, &inleft, &o, &outleft) == (size_t)-1) {
            skipped++;
            continue;
        }
        size_t olen = (size_t)(o - tmp);
        if (outleft == 0) {
            skipped++;
            continue;
        }
        *o = '\0';
        /* The first line is the file's own title, not a word. */
        if (line_no == 1 && strstr(tmp, "/EDICT"))
            continue;
        const char *sp = memchr(tmp, ' ', olen);
        if (!sp || sp == tmp || !memchr(sp, '/', olen - (size_t)(sp - tmp))) {
            skipped++;
            continue;
        }
        if (text->len + olen + 1 > UINT32_MAX) {
            rc = wb_error_set(err, WB_ETOOBIG, "EDICT text exceeds 4 GiB");
            goto out;
        }
        uint32_t off = (uint32_t)text->len;
        if ((rc = wb_buf_append(text, tmp, olen)) != 0 || (rc = wb_buf_appendc(text, '\n')) != 0 ||
            (rc = push_row(head, n_head, &cap_h, off)) != 0)
            goto nomem;
        if (sp[1] == '[' && memchr(sp, ']', olen - (size_t)(sp - tmp)) &&
            (rc = push_row(rd, n_read, &cap_r, off)) != 0)
            goto nomem;
        double frac = 0.85 * (double)(p - src->data) / (double)src->len;
        if (progress && frac >= next_report) {
            progress(ud, frac);
            next_report = frac + 0.02;
        }
    }
    if (skipped)
        wb_log(WB_LOG_DEBUG, "edict: skipped %zu malformed lines", skipped);
    goto out;
nomem:
    wb_error_set(err, rc, "out of memory building the EDICT index");
out:
    if (cd != (iconv_t)-1)
        iconv_close(cd);
    free(tmp);
    return rc;
}

static int write_index(const char *path, struct idx_header *h, const struct wb_buf *text,
                       const uint32_t *head, const uint32_t *rd, struct wb_error *err)
{
    static const char pad[4] = { 0 };
    size_t padn = (4 - text->len % 4) % 4;
    struct core_atomic out;
    int rc;

    h->text_off = sizeof *h;
    h->text_len = text->len;
    h->head_off = h->text_off + text->len + padn;
    h->read_off = h->head_off + h->n_head * 4;
    h->total = h->read_off + h->n_read * 4;
    if ((rc = core_atomic_open(&out, path, err)))
        return rc;
    if ((rc = core_atomic_write(&out, h, sizeof *h, err)) ||
        (rc = core_atomic_write(&out, text->data, text->len, err)) ||
        (rc = core_atomic_write(&out, pad, padn, err)) ||
        (rc = core_atomic_write(&out, head, h->n_head * 4, err)) ||
        (rc = core_atomic_write(&out, rd, h->n_read * 4, err))) {
        core_atomic_abort(&out);
        return rc;
    }
    return core_atomic_commit(&out, err);
}

int edict_build(const char *src_path, const char *idx_path, void (*progress)(void *, double),
                void *ud, struct wb_error *err)
{
    struct wb_buf src, text;
    uint32_t *head = NULL, *rd = NULL;
    size_t n_head = 0, n_read = 0;
    struct idx_header h;
    struct stat st;
    struct edict_sort sort;
    int fd = open(src_path, O_RDONLY | O_CLOEXEC), rc = 0;

    wb_buf_init(&src, 0);
    wb_buf_init(&text, 0);
    if (fd < 0 || fstat(fd, &st) != 0) {
        rc = wb_error_set(err, errno == ENOENT ? WB_ENOTFOUND : WB_EIO, "cannot open %s: %s",
                          src_path, strerror(errno));
        goto out;
    }
    if ((rc = read_source(fd, &st, &src, err)) != 0 ||
        (rc = wb_buf_grow(&text, src.len + src.len / 2)) != 0 ||
        (rc = convert(&src, &text, &head, &n_head, &rd, &n_read, progress, ud, err)) != 0)
        goto out;
    if (n_head == 0) {
        rc = wb_error_set(err, WB_EPARSE, "%s holds no EDICT lines", src_path);
        goto out;
    }
    sort.text = text.data;
    sort_ctx = &sort;
    sort.key = edict_key_head;
    qsort(head, n_head, sizeof *head, cmp_rows);
    sort.key = edict_key_read;
    qsort(rd, n_read, sizeof *rd, cmp_rows);
    sort_ctx = NULL;
    if (progress)
        progress(ud, 0.9);
    memset(&h, 0, sizeof h);
    memcpy(h.magic, EDICT_MAGIC, 8);
    h.version = EDICT_VERSION;
    h.header_size = sizeof h;
    h.src_size = (uint64_t)st.st_size;
    h.src_mtime_s = st.st_mtim.tv_sec;
    h.src_mtime_ns = st.st_mtim.tv_nsec;
    h.n_head = n_head;
    h.n_read = n_read;
    if ((rc = write_index(idx_path, &h, &text, head, rd, err)) != 0)
        goto out;
    if (progress)
        progress(ud, 1.0);
out:
    if (rc == WB_ENOMEM && err && !err->code)
        wb_error_set(err, rc, "out of memory building the EDICT index");
    if (fd >= 0)
        close(fd);
    free(head);
    free(rd);
    wb_buf_release(&src);
    wb_buf_release(&text);
    return rc;
}

/* ---- opening ---- */

int edict_idx_open(struct edict_idx *x, const char *idx_path, const struct stat *src_st)
{
    int fd = open(idx_path, O_RDONLY | O_CLOEXEC), rc = WB_ECORRUPT;
    struct stat st;
    struct idx_header hb, *h = &hb;
    char last;

    memset(x, 0, sizeof *x);
    x->fd = -1;
    wb_buf_init(&x->fence_keys[EDICT_HEAD], 0);
    wb_buf_init(&x->fence_keys[EDICT_READ], 0);
    if (fd < 0)
        return errno == ENOENT ? WB_ENOTFOUND : WB_EIO;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < sizeof *h ||
        (rc = read_at(fd, h, sizeof *h, 0)) != 0) {
        rc = rc == WB_EIO ? WB_EIO : WB_ECORRUPT;
        goto out;
    }
    rc = WB_ECORRUPT;
    if (memcmp(h->magic, EDICT_MAGIC, 8) != 0 || h->version != EDICT_VERSION ||
        h->header_size != sizeof *h || h->total != (uint64_t)st.st_size ||
        h->text_off != sizeof *h || h->text_len == 0 || h->text_len > UINT32_MAX ||
        h->text_len > (uint64_t)st.st_size - h->text_off || h->head_off % 4 ||
        h->head_off < h->text_off + h->text_len || h->n_head > (uint64_t)st.st_size / 4 ||
        h->read_off != h->head_off + h->n_head * 4 || h->n_read > (uint64_t)st.st_size / 4 ||
        h->read_off + h->n_read * 4 != h->total)
        goto out;
    if (src_st &&
        (h->src_size != (uint64_t)src_st->st_size || h->src_mtime_s != src_st->st_mtim.tv_sec ||
         h->src_mtime_ns != src_st->st_mtim.tv_nsec)) {
        rc = WB_EEXIST; /* valid but stale */
        goto out;
    }
    /* Every line ends with '\n', so the last byte of the text is one. The
     * rows are checked as lookups read them (edict_row). */
    if ((rc = read_at(fd, &last, 1, h->text_off + h->text_len - 1)) != 0 || last != '\n') {
        rc = rc == WB_EIO ? WB_EIO : WB_ECORRUPT;
        goto out;
    }
    x->fd = fd;
    fd = -1;
    x->text_off = h->text_off;
    x->text_len = (size_t)h->text_len;
    x->head_off = h->head_off;
    x->n_head = (size_t)h->n_head;
    x->read_off = h->read_off;
    x->n_read = (size_t)h->n_read;
    x->dev = st.st_dev;
    x->ino = st.st_ino;
    rc = read_fences(x);
out:
    if (fd >= 0)
        close(fd);
    if (rc)
        edict_idx_close(x);
    return rc;
}

void edict_idx_close(struct edict_idx *x)
{
    if (x->fd >= 0)
        close(x->fd);
    for (int t = EDICT_HEAD; t <= EDICT_READ; t++) {
        wb_buf_release(&x->fence_keys[t]);
        free(x->fence_at[t]);
    }
    memset(x, 0, sizeof *x);
    x->fd = -1;
}

int edict_discard(const struct edict_idx *x, const char *idx_path, struct wb_error *err)
{
    struct stat st;
    int lock = edict_lock(idx_path, err), rc = 0;

    if (lock < 0)
        return WB_EIO;
    /* Another process may have rebuilt it already: leave a new file alone. */
    if (stat(idx_path, &st) == 0 && st.st_dev == x->dev && st.st_ino == x->ino &&
        unlink(idx_path) != 0 && errno != ENOENT)
        rc = wb_error_set(err, WB_EIO, "cannot remove the damaged EDICT index %s: %s", idx_path,
                          strerror(errno));
    close(lock);
    return rc;
}

int edict_lock(const char *idx_path, struct wb_error *err)
{
    struct wb_buf b;
    int fd = -1;

    wb_buf_init(&b, 0);
    if (wb_buf_appendf(&b, "%s.lock", idx_path) == 0)
        fd = open(b.data, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        wb_error_set(err, WB_EIO, "cannot open lock file %s: %s", b.data, strerror(errno));
    } else {
        while (flock(fd, LOCK_EX) != 0 && errno == EINTR)
            ;
    }
    wb_buf_release(&b);
    return fd;
}
