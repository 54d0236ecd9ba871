/* The EDICT index's internals, shared by its builder/reader (edict_index.c)
 * and its lookups (edict.c). Not part of the public API.
 */
#ifndef WB_TEXT_EDICT_INTERNAL_H
#define WB_TEXT_EDICT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "wordbank/buf.h"
#include "wordbank/error.h"

/* The key of the line at text+off: its headword, or its reading (NULL, 0 when
 * the line has none). Lines end with '\n', which bounds every scan. */
typedef void (*edict_key_fn)(const char *text, uint32_t off, const char **k, size_t *n);
void edict_key_head(const char *text, uint32_t off, const char **k, size_t *n);
void edict_key_read(const char *text, uint32_t off, const char **k, size_t *n);

struct edict_sort {
    const char *text;
    edict_key_fn key;
};

/* An open index: its header checked, its rows not (a lookup checks the rows
 * it reads). Read with pread, so threads share it as it is. */
struct edict_idx {
    int fd;
    uint64_t text_off, head_off, read_off;
    size_t text_len, n_head, n_read;
    dev_t dev; /* the file, so a damaged one is removed only if it is */
    ino_t ino; /* still the one at the index path */
    /* Per table, the key of every EDICT_BLOCK-th row (read at open), so a
     * search reads one block of rows and ~10 lines, not ~18 of each. */
    struct wb_buf fence_keys[2];
    size_t *fence_at[2]; /* n_fence + 1 offsets into fence_keys */
    size_t n_fence[2];
};

enum {
    EDICT_HEAD,        /* the table sorted by headword */
    EDICT_READ,        /* the table sorted by reading */
    EDICT_BLOCK = 1024 /* rows read at once */
};

/* One lookup's reads: the line read last and a block of one table. */
struct edict_reader {
    const struct edict_idx *x;
    struct wb_buf buf;
    const char *line; /* in buf, line_len bytes, then its '\n'; NULL: none */
    size_t line_len;
    uint32_t line_off; /* the line's offset in the text */
    int table;
    size_t first, n;
    uint32_t rows[EDICT_BLOCK];
};

void edict_reader_init(struct edict_reader *r, const struct edict_idx *x);
void edict_reader_release(struct edict_reader *r);
size_t edict_rows(const struct edict_idx *x, int table);
/* Read the line at text offset off into r->line: 0, WB_ECORRUPT when off is
 * not a line start inside the text, WB_EIO, WB_ENOMEM. */
int edict_line(struct edict_reader *r, uint32_t off);
/* Row i of table: its offset, its line (r->line) and its key, the row
 * checked first (edict_line; a reading row's line must have a reading).
 * 0, WB_ECORRUPT, WB_EIO, WB_ENOMEM. */
int edict_row(struct edict_reader *r, int table, size_t i, uint32_t *off, const char **k,
              size_t *kn);
/* First row of table whose key is >= w into *at; errors as edict_row. */
int edict_lower_bound(struct edict_reader *r, int table, const char *w, size_t wn, size_t *at);

/* Convert and index src_path into idx_path (atomically). */
int edict_build(const char *src_path, const char *idx_path, void (*progress)(void *, double),
                void *ud, struct wb_error *err);
/* Open an index and check its header (magic, version, section bounds) and
 * that its text ends with '\n'; with src_st, also check it was built from
 * that source. 0, -WB_ENOTFOUND (no file), -WB_EEXIST (stale),
 * -WB_ECORRUPT, -WB_EIO. */
int edict_idx_open(struct edict_idx *x, const char *idx_path, const struct stat *src_st);
void edict_idx_close(struct edict_idx *x);
/* A lookup met a bad row: remove the file at idx_path (under the build lock)
 * if it is still the one x reads, so the next open rebuilds it. 0 or WB_EIO. */
int edict_discard(const struct edict_idx *x, const char *idx_path, struct wb_error *err);
/* The best (entry, sense) among n looked-up entries for a translation and a
 * context (either may be NULL), preferring entries whose reading is
 * reading_hint (may be NULL) on a tie; returns the match score (0: nothing
 * matched, the first sense won), or WB_ENOMEM. */
struct wb_edict_entry;
int edict_pick(const struct wb_edict_entry *e, size_t n, const char *translation,
               const char *context, const char *reading_hint, size_t *ei, size_t *si);
/* 1 when an entry read as hira (hiragana) has a sense that matches the
 * translation and context as well as sense si of entry ei does (the gloss
 * order and hints left aside): a reading EDICT gives for this meaning too.
 * WB_ENOMEM when it could not be measured. */
int edict_reading_fits(const struct wb_edict_entry *e, size_t n, const char *hira,
                       const char *translation, const char *context, size_t ei, size_t si);
/* An exclusive lock beside the index: returns the fd to close, or -1. */
int edict_lock(const char *idx_path, struct wb_error *err);

#endif
