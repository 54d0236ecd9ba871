/* The EDICT index's internals, shared by its builder/mapper (edict_index.c)
 * and its lookups (edict.c). Not part of the public API.
 */
#ifndef WB_TEXT_EDICT_INTERNAL_H
#define WB_TEXT_EDICT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

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

struct edict_map {
    void *map;
    size_t map_len;
    const char *text;
    size_t text_len;
    const uint32_t *head, *rd;
    size_t n_head, n_read;
    dev_t dev; /* the mapped file, so a damaged one is removed only if */
    ino_t ino; /* it is still the one at the index path */
};

/* The key of row i, the row checked first (the tables are not validated when
 * mapped, so that only the pages a lookup reads become resident): 0, or
 * WB_ECORRUPT when the offset is not a line start inside the text or, for
 * a reading row, the line has no reading. Every line ends with '\n' and the
 * text's last byte is one (checked when mapped), so a key never runs past it. */
int edict_row_key(const struct edict_map *m, const uint32_t *rows, size_t i, edict_key_fn key,
                  const char **k, size_t *kn);
/* First row whose key is >= w into *at: 0, or WB_ECORRUPT on a bad row. */
int edict_lower_bound(const struct edict_map *m, const uint32_t *rows, size_t n, edict_key_fn key,
                      const char *w, size_t wn, size_t *at);

/* Convert and index src_path into idx_path (atomically). */
int edict_build(const char *src_path, const char *idx_path, void (*progress)(void *, double),
                void *ud, struct wb_error *err);
/* Map an index and check its header (magic, version, section bounds) and
 * that its text ends with '\n'; rows are checked as lookups read them
 * (edict_row_key). With src_st, also check it was built from that source.
 * 0, -WB_ENOTFOUND (no file), -WB_EEXIST (stale), -WB_ECORRUPT. */
int edict_map(struct edict_map *m, const char *idx_path, const struct stat *src_st);
void edict_unmap(struct edict_map *m);
/* A lookup met a bad row: remove the file at idx_path (under the build lock)
 * if it is still the one m maps, so the next open rebuilds it. The mapping
 * itself stays valid until edict_unmap. 0 or WB_EIO. */
int edict_discard(const struct edict_map *m, const char *idx_path, struct wb_error *err);
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
