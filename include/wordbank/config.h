/* Configuration: the settings table (every setting's name, type, default,
 * range and description; `wordbank help settings`, docs/settings.md) and a
 * configuration's values, each with where it came from. Precedence, highest
 * first: command-line flags > environment > config file > .env > defaults.
 * Every value is checked against its row as it is set. Every module reads its
 * settings by name ("text_model", "jobs", "limit.<model>.rpm") through the
 * typed getters, which fall back to the table's defaults, so adding a setting
 * never changes a struct that others compile against.
 */
#ifndef WORDBANK_CONFIG_H
#define WORDBANK_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/api.h"
#include "wordbank/error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum wb_config_source {
    WB_SRC_DEFAULT = 0,
    WB_SRC_DOTENV,
    WB_SRC_FILE,
    WB_SRC_ENV,
    WB_SRC_FLAG,
};

struct wb_config;

/* One row of the settings table (what `wordbank help settings` prints). The
 * rows are the library's and live as long as it; fields may be added at the
 * end, so never allocate or copy one. */
struct wb_setting {
    const char *name;  /* "jobs", or a pattern: "limit.<model>.rpm" */
    const char *type;  /* "int", "size", "duration", "number", "bool", "enum", "language",
                          "string", "path", "url", "secret" */
    const char *dflt;  /* the default as text; NULL when none, or computed at run time
                          (the description says how) */
    const char *range; /* "1 to 10000", "at least 0", "gemini, openai, offline", or "" */
    const char *description;
    int pattern; /* 1 when name holds a <placeholder> */
};

/* The table: rows 0 .. wb_settings_count() - 1, sorted as documented. */
WB_API size_t wb_settings_count(void);
WB_API const struct wb_setting *wb_settings_at(size_t i);
/* The row a name belongs to (exact, else the pattern it fits), or NULL for a
 * name wordbank never reads. */
WB_API const struct wb_setting *wb_settings_find(const char *name);
/* Check a value against its row: 0, or -WB_EINVAL with "ORIGIN: NAME =
 * 'VALUE': it must be RANGE" in err (ORIGIN may be NULL; a secret's value is
 * never quoted). Unknown names and NULL values pass. */
WB_API int wb_config_check(const char *name, const char *value, const char *origin,
                           struct wb_error *err);

/* A configuration holding the defaults only (nothing is read from the
 * environment or a file until a wb_config_load_* call). *out is the
 * caller's: wb_config_free() it (NULL is a no-op). -WB_ENOMEM. */
WB_API int wb_config_new(struct wb_config **out);
WB_API void wb_config_free(struct wb_config *cfg);

/* Set a value if src is at least as strong as the current value's source.
 * Unknown names are accepted (the table's patterns cover per-model limits
 * and prices); a value that does not suit its setting is refused with
 * -WB_EINVAL and nothing changes (wb_config_set_from says why). */
WB_API int wb_config_set(struct wb_config *cfg, const char *name, const char *value,
                         enum wb_config_source src);
/* wb_config_set that explains a refusal in err, naming origin ("--jobs",
 * "WORDBANK_JOBS", "FILE:LINE"; NULL for none), the name, the value and the
 * allowed range; origin is also what wb_config_origin reports. */
WB_API int wb_config_set_from(struct wb_config *cfg, const char *name, const char *value,
                              enum wb_config_source src, const char *origin, struct wb_error *err);
/* The value (NULL when unset and without default; cfg NULL: the table's default) and where
 * it came from. */
WB_API const char *wb_config_get(const struct wb_config *cfg, const char *name);
WB_API enum wb_config_source wb_config_source_of(const struct wb_config *cfg, const char *name);
/* Where a value came from, for doctor: "default", ".env", "config file", "environment", "flag";
 * the origin given to wb_config_set_from instead when there was one ("--text-model",
 * "WORDBANK_TEXT_MODEL"); for the keys, the variable or file ("GEMINI_API_KEY",
 * ".env (GOOGLE_AI_STUDIO_KEY)"). */
WB_API const char *wb_config_origin(const struct wb_config *cfg, const char *name);
/* Typed values, the table's default when unset (cfg may be NULL: the default
 * alone). Sizes are bytes ("64M" is 67108864), durations milliseconds
 * ("2min" is 120000), booleans 0 or 1. A setting without a default gives 0
 * (wb_config_get says whether it is set). */
WB_API int64_t wb_config_int(const struct wb_config *cfg, const char *name);
WB_API double wb_config_double(const struct wb_config *cfg, const char *name);
WB_API int wb_config_bool(const struct wb_config *cfg, const char *name);
/* The same with a fallback for settings whose default is computed at run time
 * (pipeline.media_in_flight) or means "the model's own" (gemini.temperature):
 * dflt is returned only when the setting has neither a value nor a default in
 * the table. */
WB_API int64_t wb_config_get_int(const struct wb_config *cfg, const char *name, int64_t dflt);
WB_API double wb_config_get_double(const struct wb_config *cfg, const char *name, double dflt);
WB_API int wb_config_get_bool(const struct wb_config *cfg, const char *name, int dflt);

/* Read the environment: WORDBANK_DB, WORDBANK_MEDIA, GEMINI_BASE_URL, OPENAI_BASE_URL,
 * the API keys (GEMINI_API_KEY, then GOOGLE_API_KEY; OPENAI_API_KEY) and any
 * WORDBANK_<NAME> for a known setting. */
WB_API int wb_config_load_env(struct wb_config *cfg, struct wb_error *err);
/* A config file: "name = value" lines, '#' comments, optional "[prefix]" sections
 * that prefix the names below them with "prefix.". Missing file with
 * required=0 is fine. Errors name FILE:LINE. */
WB_API int wb_config_load_file(struct wb_config *cfg, const char *path, int required,
                               struct wb_error *err);
/* A .env file: GEMINI_API_KEY or GOOGLE_AI_STUDIO_KEY, OPENAI_API_KEY,
 * GEMINI_BASE_URL ... ("export " prefixes and quotes allowed). */
WB_API int wb_config_load_dotenv(struct wb_config *cfg, const char *path, struct wb_error *err);
/* Iterate over every setting that has a value (for doctor). */
WB_API void wb_config_each(const struct wb_config *cfg,
                           void (*fn)(void *ud, const char *name, const char *value,
                                      enum wb_config_source src),
                           void *ud);
/* A key masked for display: first 4 characters and the length ("AIza… (39 chars)"). */
WB_API void wb_config_mask_key(const char *key, char *out, int outlen);
/* True for settings whose values are secrets (never printed). */
WB_API int wb_config_is_secret(const char *name);

#ifdef __cplusplus
}
#endif

#endif
