/* The settings table: known settings with defaults, plus any others the user
 * sets (limits, prices), each with its source. Keys are registered as secrets
 * the moment they are set, so no later message can leak them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "wordbank/config.h"
#include "wordbank/log.h"

struct setting {
    char *name;
    char *value;
    char *origin;
    enum wb_config_source src;
};

struct wb_config {
    struct setting *v;
    size_t n, cap;
};

/* name, default, environment variable (besides WORDBANK_<NAME>) */
static const struct {
    const char *name, *dflt, *env;
} known[] = {
    { "db", "wordbank.db", "WORDBANK_DB" },
    { "media", NULL, "WORDBANK_MEDIA" },
    { "provider", NULL, NULL },
    { "details_provider", NULL, NULL },
    { "image_provider", NULL, NULL },
    { "audio_provider", NULL, NULL },
    { "lang", "ja", NULL },
    { "jobs", "16", NULL },
    { "gemini_api_key", NULL, NULL },
    { "openai_api_key", NULL, NULL },
    { "base_url", "https://generativelanguage.googleapis.com", "GEMINI_BASE_URL" },
    { "api_version", "v1beta", NULL },
    { "openai_base_url", "https://api.openai.com/v1", "OPENAI_BASE_URL" },
    { "text_model", "gemini-3.8-flash", NULL },
    { "tts_model", "gemini-3.8-flash-tts", NULL },
    { "image_model", "gemini-3.1-flash-image", NULL },
    { "image_api", "gemini", NULL },
    { "voice", "Kore", NULL },
    { "voice2", "Puck", NULL },
    { "openai_text_model", "gpt-4o-mini", NULL },
    { "openai_tts_model", "gpt-4o-mini-tts", NULL },
    { "openai_image_model", "gpt-image-1", NULL },
    { "openai_voice", "alloy", NULL },
    { "audio_format", "mp3", NULL },
    { "audio_trim", "1", NULL },
    { "image_size", "512", NULL },
    { "speech_text", "word", NULL },
    { "ca_file", NULL, "WORDBANK_CA_FILE" },
    { "retry.max_attempts", "6", NULL },
    { "retry.deadline_ms", "300000", NULL },
    { "retry.base_ms", "500", NULL },
    { "retry.cap_ms", "30000", NULL },
    { "timeout.connect_ms", "10000", NULL },
    { "timeout.text_ms", "120000", NULL },
    { "timeout.image_ms", "300000", NULL },
    { "timeout.speech_ms", "300000", NULL },
    { "cache_dir", NULL, NULL },
    { "edict_path", "/usr/share/edict/edict", NULL },
    { "mecab_dicdir", NULL, NULL },
    { "pitch_dicdir", NULL, NULL },
    { "anki_url", "http://127.0.0.1:8765", "WORDBANK_ANKI_URL" },
    { "anki_key", NULL, NULL },
};

/* Settings the library reads that have no default in the table above. */
static const char *const extra_names[] = {
    "image_format",
    "limit.headroom",
    "limit.aimd_step",
    "pipeline.batch_barrier",
    "pipeline.media_in_flight",
    "gemini.image_aspect",
    "gemini.image_resolution",
    "gemini.temperature",
    "gemini.thinking_level",
    "openai.image_size",
    "openai.image_quality",
    "openai.speech_instructions",
    "openai.temperature",
    "timeout.stream_idle_ms",
    "http.max_body",
    "http.max_host_connections",
    "stop.grace_ms",
    "engine.seed",
};

/* What a setting's value must be. */
enum value_kind {
    V_TEXT,
    V_COUNT,
    V_WHOLE,
    V_NUMBER,
    V_BOOL
};

static int is_secret_name(const char *name)
{
    return strstr(name, "api_key") != NULL || strcmp(name, "anki_key") == 0;
}

static int has_suffix_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcasecmp(s + n - k, suffix);
}

static int has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n > k && !strcmp(s + n - k, suffix);
}

/* A name that holds a credential, as users write them in files
 * (gemini_api_key, GEMINI_API_KEY, GOOGLE_AI_STUDIO_KEY, secret = ...). */
static int looks_like_key(const char *name)
{
    for (const char *p = name; *p; p++) {
        if (!strncasecmp(p, "api_key", 7) || !strncasecmp(p, "secret", 6))
            return 1;
    }
    return has_suffix_ci(name, "_key");
}

/* "limit.<model>.<what>" and "price.<model>.<in|out>": the kind of the value,
 * or -1 when the name is none of them. */
static int pattern_kind(const char *name)
{
    static const struct {
        const char *prefix, *suffix;
        enum value_kind kind;
    } pats[] = {
        { "limit.", ".rpm", V_NUMBER },   { "limit.", ".tpm", V_NUMBER },
        { "limit.", ".burst", V_NUMBER }, { "limit.", ".concurrency", V_COUNT },
        { "price.", ".in", V_NUMBER },    { "price.", ".out", V_NUMBER },
    };
    for (size_t i = 0; i < sizeof pats / sizeof pats[0]; i++) {
        size_t p = strlen(pats[i].prefix);
        if (!strncmp(name, pats[i].prefix, p) && has_suffix(name + p - 1, pats[i].suffix))
            return (int)pats[i].kind;
    }
    return -1;
}

/* The kind of a known setting's value, or -1 for a name wordbank never reads. */
static int value_kind_of(const char *name)
{
    static const char *const counts[] = { "jobs", "image_size", "retry.max_attempts" };
    static const char *const wholes[] = {
        "retry.deadline_ms",      "retry.base_ms",
        "retry.cap_ms",           "limit.aimd_step",
        "pipeline.batch_barrier", "pipeline.media_in_flight",
        "http.max_body",          "http.max_host_connections",
        "stop.grace_ms",          "engine.seed",
    };
    static const char *const numbers[] = { "limit.headroom", "gemini.temperature",
                                           "openai.temperature" };
    int known_name = 0;
    for (size_t i = 0; i < sizeof known / sizeof known[0] && !known_name; i++)
        known_name = !strcmp(known[i].name, name);
    for (size_t i = 0; i < sizeof extra_names / sizeof extra_names[0] && !known_name; i++)
        known_name = !strcmp(extra_names[i], name);
    if (!known_name)
        return pattern_kind(name);
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++)
        if (!strcmp(counts[i], name))
            return V_COUNT;
    for (size_t i = 0; i < sizeof wholes / sizeof wholes[0]; i++)
        if (!strcmp(wholes[i], name))
            return V_WHOLE;
    if (!strncmp(name, "timeout.", 8))
        return V_WHOLE;
    for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++)
        if (!strcmp(numbers[i], name))
            return V_NUMBER;
    if (!strcmp(name, "audio_trim"))
        return V_BOOL;
    return V_TEXT;
}

/* NULL when value suits the setting, else what it should be. */
static const char *value_problem(const char *name, const char *value)
{
    char *end;
    int kind = value_kind_of(name);
    if (!value || !*value || kind == V_TEXT || kind < 0)
        return NULL;
    errno = 0;
    switch (kind) {
    case V_COUNT: {
        long long n = strtoll(value, &end, 10);
        return (errno || *end || n < 1) ? "a whole number of at least 1" : NULL;
    }
    case V_WHOLE: {
        long long n = strtoll(value, &end, 10);
        return (errno || *end || n < 0) ? "a whole number of at least 0" : NULL;
    }
    case V_NUMBER: {
        double d = strtod(value, &end);
        return (errno || *end || !(d >= 0)) ? "a number of at least 0" : NULL;
    }
    case V_BOOL:
        return (strcmp(value, "1") && strcmp(value, "0") && strcasecmp(value, "true") &&
                strcasecmp(value, "false") && strcasecmp(value, "yes") && strcasecmp(value, "no") &&
                strcasecmp(value, "on") && strcasecmp(value, "off"))
                   ? "true or false"
                   : NULL;
    }
    return NULL;
}

int wb_config_is_secret(const char *name)
{
    return is_secret_name(name);
}

static struct setting *find(const struct wb_config *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->n; i++) {
        if (strcmp(cfg->v[i].name, name) == 0)
            return &cfg->v[i];
    }
    return NULL;
}

static int set_origin(struct wb_config *cfg, const char *name, const char *value,
                      enum wb_config_source src, const char *origin)
{
    struct setting *s = find(cfg, name);
    if (!s) {
        int rc = CORE_ARRAY_RESERVE(cfg->v, cfg->n, cfg->cap, 1, 0);
        if (rc)
            return rc;
        s = &cfg->v[cfg->n];
        memset(s, 0, sizeof *s);
        if (!(s->name = strdup(name)))
            return WB_ENOMEM;
        cfg->n++;
    } else if (s->src > src) {
        return 0; /* a stronger source already set it */
    }
    if (wb_str_set(&s->value, value) || wb_str_set(&s->origin, origin))
        return WB_ENOMEM;
    s->src = src;
    if (value && is_secret_name(name))
        wb_secret_register(value);
    return 0;
}

int wb_config_set(struct wb_config *cfg, const char *name, const char *value,
                  enum wb_config_source src)
{
    return set_origin(cfg, name, value, src, NULL);
}

int wb_config_new(struct wb_config **out)
{
    struct wb_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return WB_ENOMEM;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (set_origin(cfg, known[i].name, known[i].dflt, WB_SRC_DEFAULT, NULL)) {
            wb_config_free(cfg);
            return WB_ENOMEM;
        }
    }
    *out = cfg;
    return 0;
}

void wb_config_free(struct wb_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n; i++) {
        free(cfg->v[i].name);
        free(cfg->v[i].value);
        free(cfg->v[i].origin);
    }
    free(cfg->v);
    free(cfg);
}

const char *wb_config_get(const struct wb_config *cfg, const char *name)
{
    const struct setting *s = find(cfg, name);
    return s ? s->value : NULL;
}

enum wb_config_source wb_config_source_of(const struct wb_config *cfg, const char *name)
{
    const struct setting *s = find(cfg, name);
    return s ? s->src : WB_SRC_DEFAULT;
}

const char *wb_config_origin(const struct wb_config *cfg, const char *name)
{
    static const char *const names[] = { "default", ".env", "config file", "environment",
                                         "flag" };
    const struct setting *s = find(cfg, name);
    if (!s)
        return "default";
    return s->origin ? s->origin : names[s->src];
}

int64_t wb_config_get_int(const struct wb_config *cfg, const char *name, int64_t dflt)
{
    const char *v = wb_config_get(cfg, name);
    char *end;
    long long n;
    if (!v || !*v)
        return dflt;
    errno = 0;
    n = strtoll(v, &end, 10);
    return (errno || *end) ? dflt : (int64_t)n;
}

double wb_config_get_double(const struct wb_config *cfg, const char *name, double dflt)
{
    const char *v = wb_config_get(cfg, name);
    char *end;
    double d;
    if (!v || !*v)
        return dflt;
    d = strtod(v, &end);
    return *end ? dflt : d;
}

int wb_config_get_bool(const struct wb_config *cfg, const char *name, int dflt)
{
    const char *v = wb_config_get(cfg, name);
    if (!v || !*v)
        return dflt;
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        return 1;
    if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
        return 0;
    return dflt;
}

int wb_config_load_env(struct wb_config *cfg, struct wb_error *err)
{
    char var[128];
    const char *v;
    int rc;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        if (is_secret_name(known[i].name))
            continue;
        v = known[i].env ? getenv(known[i].env) : NULL;
        if (v && *v) {
            if ((rc = set_origin(cfg, known[i].name, v, WB_SRC_ENV, known[i].env)))
                return rc;
            continue;
        }
        snprintf(var, sizeof var, "WORDBANK_%s", known[i].name);
        for (char *p = var; *p; p++)
            *p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
        if (!(v = getenv(var)) || !*v)
            continue;
        if (value_problem(known[i].name, v))
            return wb_error_set(err, WB_EINVAL, "%s = '%.40s': %s must be %s", var, v,
                                known[i].name, value_problem(known[i].name, v));
        if ((rc = set_origin(cfg, known[i].name, v, WB_SRC_ENV, var)))
            return rc;
    }
    if ((v = getenv("GEMINI_API_KEY")) && *v)
        rc = set_origin(cfg, "gemini_api_key", v, WB_SRC_ENV, "GEMINI_API_KEY");
    else if ((v = getenv("GOOGLE_API_KEY")) && *v)
        rc = set_origin(cfg, "gemini_api_key", v, WB_SRC_ENV, "GOOGLE_API_KEY");
    else
        rc = 0;
    if (!rc && (v = getenv("OPENAI_API_KEY")) && *v)
        rc = set_origin(cfg, "openai_api_key", v, WB_SRC_ENV, "OPENAI_API_KEY");
    if (!rc && (v = getenv("WORDBANK_ANKI_KEY")) && *v)
        rc = set_origin(cfg, "anki_key", v, WB_SRC_ENV, "WORDBANK_ANKI_KEY");
    return rc;
}

static char *trim(char *s)
{
    char *e;
    while (isspace((unsigned char)*s))
        s++;
    e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

/* A value: quoted ("..." or '...'), or bare up to an inline " # comment". */
static char *unquote(char *v)
{
    size_t n = strlen(v);
    if (v[0] != '"' && v[0] != '\'') {
        for (char *p = v; *p; p++) {
            if (*p == '#' && p > v && (p[-1] == ' ' || p[-1] == '\t')) {
                *p = '\0';
                return trim(v);
            }
        }
    }
    if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0]) {
        v[n - 1] = '\0';
        return v + 1;
    }
    return v;
}

/* Calls fn(name, value) for each "name = value" (or NAME=value) line. */
static int each_line(const char *path, int required, int dotenv, struct wb_error *err,
                     int (*fn)(void *ud, const char *path, int line, const char *name, char *value,
                               struct wb_error *err),
                     void *ud)
{
    struct wb_buf text;
    char section[128] = "";
    int rc, lineno = 0;
    char *p, *next;
    wb_buf_init(&text, 16 << 20);
    rc = wb_file_read(path, &text, err);
    if (rc == WB_ENOTFOUND && !required) {
        wb_error_clear(err);
        rc = 0;
        goto out;
    }
    if (rc)
        goto out;
    for (p = text.data; p && *p; p = next) {
        char *line, *eq, name[256];
        next = strchr(p, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        line = trim(p);
        if (!*line || *line == '#' || *line == ';')
            continue;
        if (!dotenv && *line == '[') {
            char *close = strchr(line, ']');
            if (!close || close[1]) {
                rc = wb_error_set(err, WB_ECONFIG, "%s:%d: bad section header", path, lineno);
                goto out;
            }
            *close = '\0';
            snprintf(section, sizeof section, "%s", trim(line + 1));
            continue;
        }
        if (dotenv && strncmp(line, "export ", 7) == 0)
            line = trim(line + 7);
        eq = strchr(line, '=');
        if (!eq) {
            rc = wb_error_set(err, WB_ECONFIG, "%s:%d: expected 'name = value'", path, lineno);
            goto out;
        }
        *eq = '\0';
        if (section[0])
            snprintf(name, sizeof name, "%s.%s", section, trim(line));
        else
            snprintf(name, sizeof name, "%s", trim(line));
        if ((rc = fn(ud, path, lineno, name, unquote(trim(eq + 1)), err)))
            goto out;
    }
out:
    wb_buf_release(&text);
    return rc;
}

/* Edit distance of two short names (insert, delete, substitute). */
static size_t distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[64], prev, tmp;
    if (la >= 63 || lb >= 63)
        return 99;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t best = prev + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            tmp = row[j];
            row[j] = best;
            prev = tmp;
        }
    }
    return row[lb];
}

/* The known setting a typo most likely meant (two edits at most), or NULL. */
static const char *nearest_name(const char *name)
{
    const char *best = NULL;
    size_t bd = 3;
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        size_t d = distance(name, known[i].name);
        if (d < bd && !is_secret_name(known[i].name)) {
            bd = d;
            best = known[i].name;
        }
    }
    return best;
}

/* One line of the config file: a key is ignored with a warning (keys belong
 * in the environment or .env, not in a file that gets shared), an unknown name
 * is kept with a warning (a typo must not pass silently), a bad value is
 * refused. */
static int file_setting(void *ud, const char *path, int line, const char *name, char *value,
                        struct wb_error *err)
{
    const char *why;
    if (looks_like_key(name)) {
        wb_log(WB_LOG_WARN,
               "%s:%d: '%s' ignored: API keys are never read from the config file; put it "
               "in the environment (GEMINI_API_KEY, OPENAI_API_KEY) or in .env",
               path, line, name);
        return 0;
    }
    if (value_kind_of(name) < 0) {
        const char *near = nearest_name(name);
        wb_log(WB_LOG_WARN, "%s:%d: unknown setting '%s' is not used%s%s%s", path, line, name,
               near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    } else if ((why = value_problem(name, value))) {
        return wb_error_set(err, WB_EINVAL, "%s:%d: %s = '%.40s': it must be %s", path, line, name,
                            value, why);
    }
    if (set_origin(ud, name, value, WB_SRC_FILE, NULL))
        return wb_error_set(err, WB_ENOMEM, "%s:%d: out of memory", path, line);
    return 0;
}

int wb_config_load_file(struct wb_config *cfg, const char *path, int required,
                        struct wb_error *err)
{
    return each_line(path, required, 0, err, file_setting, cfg);
}

static int dotenv_setting(void *ud, const char *path, int line, const char *name, char *value,
                          struct wb_error *err)
{
    struct wb_config *cfg = ud;
    (void)path;
    (void)line;
    (void)err;
    if (!*value)
        return 0;
    if (!strcmp(name, "GEMINI_API_KEY") || !strcmp(name, "GOOGLE_AI_STUDIO_KEY")) {
        /* GEMINI_API_KEY wins over GOOGLE_AI_STUDIO_KEY within the file. */
        const char *o = wb_config_origin(cfg, "gemini_api_key");
        if (!strcmp(name, "GOOGLE_AI_STUDIO_KEY") && !strcmp(o, ".env (GEMINI_API_KEY)"))
            return 0;
        return set_origin(cfg, "gemini_api_key", value, WB_SRC_DOTENV,
                          !strcmp(name, "GEMINI_API_KEY") ? ".env (GEMINI_API_KEY)"
                                                          : ".env (GOOGLE_AI_STUDIO_KEY)");
    }
    if (!strcmp(name, "OPENAI_API_KEY"))
        return set_origin(cfg, "openai_api_key", value, WB_SRC_DOTENV, ".env (OPENAI_API_KEY)");
    if (!strcmp(name, "WORDBANK_ANKI_KEY"))
        return set_origin(cfg, "anki_key", value, WB_SRC_DOTENV, ".env (WORDBANK_ANKI_KEY)");
    if (!strcmp(name, "GEMINI_BASE_URL"))
        return set_origin(cfg, "base_url", value, WB_SRC_DOTENV, ".env (GEMINI_BASE_URL)");
    if (!strcmp(name, "OPENAI_BASE_URL"))
        return set_origin(cfg, "openai_base_url", value, WB_SRC_DOTENV, ".env (OPENAI_BASE_URL)");
    return 0; /* other variables in .env are not ours */
}

int wb_config_load_dotenv(struct wb_config *cfg, const char *path, struct wb_error *err)
{
    return each_line(path, 0, 1, err, dotenv_setting, cfg);
}

void wb_config_each(const struct wb_config *cfg,
                    void (*fn)(void *ud, const char *name, const char *value,
                               enum wb_config_source src),
                    void *ud)
{
    for (size_t i = 0; i < cfg->n; i++) {
        if (cfg->v[i].value)
            fn(ud, cfg->v[i].name, cfg->v[i].value, cfg->v[i].src);
    }
}

void wb_config_mask_key(const char *key, char *out, int outlen)
{
    if (!key || !*key) {
        snprintf(out, (size_t)outlen, "(none)");
        return;
    }
    snprintf(out, (size_t)outlen, "%.4s… (%zu chars)", key, strlen(key));
}
