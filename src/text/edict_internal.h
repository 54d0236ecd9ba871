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

/* First row whose key is >= w. */
size_t edict_lower_bound(const char *text, const uint32_t *rows, size_t n, edict_key_fn key,
                         const char *w, size_t wn);

struct edict_map {
    void *map;
    size_t map_len;
    const char *text;
    size_t text_len;
    const uint32_t *head, *rd;
    size_t n_head, n_read;
};

/* Convert and index src_path into idx_path (atomically). */
int edict_build(const char *src_path, const char *idx_path, void (*progress)(void *, double),
                void *ud, struct wb_error *err);
/* Map and validate an index; with src_st, also check it was built from that
 * source. 0, -WB_ENOTFOUND (no file), -WB_EEXIST (stale), -WB_ECORRUPT. */
int edict_map(struct edict_map *m, const char *idx_path, const struct stat *src_st);
void edict_unmap(struct edict_map *m);
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
