/* The settings table (internal view): every setting wordbank reads, with its
 * type, default, range and description, and the checks and parsers that go
 * with them. config.c keeps the values; this file knows what they may be.
 * The public view is struct wb_setting (wordbank/config.h).
 */
#ifndef WB_CORE_SETTINGS_H
#define WB_CORE_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/config.h"
#include "wordbank/error.h"

enum core_setting_type {
    CORE_T_STRING,
    CORE_T_PATH,
    CORE_T_URL,
    CORE_T_SECRET,
    CORE_T_ENUM,
    CORE_T_LANG,
    CORE_T_INT,
    CORE_T_SIZE,
    CORE_T_MS,
    CORE_T_NUMBER,
    CORE_T_BOOL,
};

struct core_setting {
    struct wb_setting pub; /* name, type, default, range, description */
    enum core_setting_type type;
    double min, max;    /* numeric types: the allowed range */
    const char *env;    /* a variable read besides WORDBANK_<NAME>, or NULL */
    const char *derive; /* patterned: when unset, scale x the sibling with this last part */
    double scale;
};

size_t core_settings_count(void);
const struct core_setting *core_setting_at(size_t i);
/* The row of a name: the exact one, else the pattern it fits
 * ("limit.m.rpm" fits "limit.<model>.rpm"), else NULL. */
const struct core_setting *core_setting_find(const char *name);
/* 0 when value suits the row, else -WB_EINVAL with
 * "ORIGIN: NAME = 'VALUE': it must be ..." (the value left out for secrets).
 * A NULL value (unset) always suits. */
int core_setting_check(const struct core_setting *s, const char *name, const char *value,
                       const char *origin, struct wb_error *err);
/* A value as a whole number: sizes in bytes (K, M, G suffixes), durations in
 * milliseconds (ms, s, min, h suffixes), booleans 0/1. 0 or -1 when unparseable. */
int core_setting_parse_int(const struct core_setting *s, const char *value, int64_t *out);
int core_setting_parse_double(const struct core_setting *s, const char *value, double *out);

#endif
