/* Configuration: one table of settings, each known by name, with a default, a
 * value and where the value came from. Precedence, highest first: command-line
 * flags > environment > config file > .env > defaults. Every module reads its
 * settings by name ("text_model", "jobs", "limit.<model>.rpm"), so adding a
 * setting never changes a struct that others compile against.
 */
#ifndef WORDBANK_CONFIG_H
#define WORDBANK_CONFIG_H

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

/* A configuration holding the defaults only (nothing is read from the
 * environment or a file until a wb_config_load_* call). *out is the
 * caller's: wb_config_free() it (NULL is a no-op). -WB_ENOMEM. */
WB_API int wb_config_new(struct wb_config **out);
WB_API void wb_config_free(struct wb_config *cfg);

/* Set a value if src is at least as strong as the current value's source.
 * Unknown names are accepted (per-model limits, prices, ...). */
WB_API int wb_config_set(struct wb_config *cfg, const char *name, const char *value,
                         enum wb_config_source src);
/* The value (NULL when unset and without default) and where it came from. */
WB_API const char *wb_config_get(const struct wb_config *cfg, const char *name);
WB_API enum wb_config_source wb_config_source_of(const struct wb_config *cfg, const char *name);
/* Where a value came from, for doctor: "default", ".env", "config file", "environment", "flag";
 * for the keys, the variable or file ("GEMINI_API_KEY", ".env (GOOGLE_AI_STUDIO_KEY)"). */
WB_API const char *wb_config_origin(const struct wb_config *cfg, const char *name);
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
