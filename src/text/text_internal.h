/* Internal helpers shared by the text module's files: UTF-8 decoding and the
 * EDICT index's record layout. Not part of the public API.
 */
#ifndef WB_TEXT_INTERNAL_H
#define WB_TEXT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/error.h"

/* Decode one code point from s (at most n bytes). Returns its length (1..4)
 * and sets *cp, or returns 1 with *cp = -1 for an invalid byte. n must be > 0. */
int text_utf8_decode(const unsigned char *s, size_t n, int32_t *cp);
/* Append the UTF-8 encoding of cp. */

/* Lowercase ASCII, parentheses removed, runs of other characters collapsed to
 * one space, a leading "to "/"a "/"an "/"the " dropped: the form in which
 * glosses and translations are compared. */
int text_gloss_normalize(const char *s, size_t len, struct wb_buf *out);
/* How well translation matches one gloss, 0 (not at all) .. 100 (the same);
 * WB_ENOMEM (negative) when it could not be measured. */
int text_gloss_score(const char *translation, const char *gloss);
/* How many distinct words of query (parentheses included, stopwords left
 * out) appear in a sense's glosses or as the word of one of its register tags
 * (hum -> humble, hon -> honorific, ...): "to pour (into a cup)" shares
 * "pour", "into" and "cup" with "to pour (into a vessel)/to fill (a cup,
 * bowl, etc.) with".
 * WB_ENOMEM (negative) when it could not be counted. */
struct wb_edict_sense;
int text_sense_overlap(const char *query, const struct wb_edict_sense *s);

/* The cache directory: config "cache_dir", else $XDG_CACHE_HOME/wordbank,
 * else ~/.cache/wordbank (appended to out; not created). */
int text_cache_dir(const struct wb_config *cfg, struct wb_buf *out, struct wb_error *err);

#endif
