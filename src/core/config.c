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

static int is_secret_name(const char *name)
{
    return strstr(name, "api_key") != NULL || strcmp(name, "anki_key") == 0;
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
        if (cfg->n == cfg->cap) {
            size_t cap = cfg->cap ? cfg->cap * 2 : 64;
            struct setting *v = realloc(cfg->v, cap * sizeof *v);
            if (!v)
                return WB_ENOMEM;
            cfg->v = v;
            cfg->cap = cap;
        }
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
    (void)err;
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
        if ((v = getenv(var)) && *v && (rc = set_origin(cfg, known[i].name, v, WB_SRC_ENV, var)))
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
                     int (*fn)(void *ud, const char *name, char *value, int line), void *ud)
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
        if ((rc = fn(ud, name, unquote(trim(eq + 1)), lineno))) {
            wb_error_set(err, rc, "%s:%d: cannot set %s", path, lineno, name);
            goto out;
        }
    }
out:
    wb_buf_release(&text);
    return rc;
}

static int file_setting(void *ud, const char *name, char *value, int line)
{
    (void)line;
    if (is_secret_name(name))
        return 0; /* keys belong in the environment or .env, not the shared config */
    return set_origin(ud, name, value, WB_SRC_FILE, NULL);
}

int wb_config_load_file(struct wb_config *cfg, const char *path, int required,
                        struct wb_error *err)
{
    return each_line(path, required, 0, err, file_setting, cfg);
}

static int dotenv_setting(void *ud, const char *name, char *value, int line)
{
    struct wb_config *cfg = ud;
    (void)line;
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
