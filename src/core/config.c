/* The values of the settings: one per name (the table's defaults first, then
 * whatever flags, the environment, a config file or .env set), each with its
 * source. What a setting may be is the settings table's (settings.c): every
 * value is checked against it before it is kept. Keys are registered as
 * secrets the moment they are set, so no later message can leak them. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/settings.h"
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

static int is_secret_name(const char *name)
{
    return strstr(name, "api_key") != NULL || strcmp(name, "anki_key") == 0;
}

static int has_suffix_ci(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && !strcasecmp(s + n - k, suffix);
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
    if (core_setting_check(core_setting_find(name), name, value, NULL, NULL))
        return WB_EINVAL;
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
    if (core_str_set(&s->value, value) || core_str_set(&s->origin, origin))
        return WB_ENOMEM;
    s->src = src;
    if (value && is_secret_name(name))
        wb_secret_register(value);
    return 0;
}

int wb_config_set(struct wb_config *cfg, const char *name, const char *value,
                  enum wb_config_source src)
{
    if (!name)
        return WB_EINVAL;
    return set_origin(cfg, name, value, src, NULL);
}

int wb_config_set_from(struct wb_config *cfg, const char *name, const char *value,
                       enum wb_config_source src, const char *origin, struct wb_error *err)
{
    int rc;
    if (!name)
        return wb_error_set(err, WB_EINVAL, "a setting without a name");
    if ((rc = core_setting_check(core_setting_find(name), name, value, origin, err)))
        return rc;
    if ((rc = set_origin(cfg, name, value, src, origin)))
        return wb_error_set(err, rc, "%s: out of memory", name);
    return 0;
}

int wb_config_new(struct wb_config **out)
{
    struct wb_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return WB_ENOMEM;
    for (size_t i = 0; i < core_settings_count(); i++) {
        const struct core_setting *t = core_setting_at(i);
        if (!t->pub.pattern && set_origin(cfg, t->pub.name, t->pub.dflt, WB_SRC_DEFAULT, NULL)) {
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
    const struct setting *s;
    if (!cfg) {
        const struct core_setting *t = core_setting_find(name);
        return t && !t->pub.pattern ? t->pub.dflt : NULL;
    }
    s = find(cfg, name);
    return s ? s->value : NULL;
}

enum wb_config_source wb_config_source_of(const struct wb_config *cfg, const char *name)
{
    const struct setting *s = find(cfg, name);
    return s ? s->src : WB_SRC_DEFAULT;
}

const char *wb_config_origin(const struct wb_config *cfg, const char *name)
{
    static const char *const names[] = { "default", ".env", "config file", "environment", "flag" };
    const struct setting *s = find(cfg, name);
    if (!s)
        return "default";
    return s->origin ? s->origin : names[s->src];
}

/* The text a typed getter reads: the value, else the table's default (a
 * patterned row's, or the one it derives from: price.m.batch_in from
 * price.m.in), else NULL. *scale is what the derived value is multiplied by. */
static const char *typed_text(const struct wb_config *cfg, const char *name,
                              const struct core_setting **row, double *scale)
{
    const char *v = cfg ? wb_config_get(cfg, name) : NULL;
    const struct core_setting *t = core_setting_find(name);
    *row = t;
    *scale = 1;
    if (v && *v)
        return v;
    if (!t)
        return NULL;
    if (t->pub.pattern && t->derive) {
        char sib[256];
        const char *dot = strrchr(name, '.');
        const struct core_setting *st;
        double sc;
        snprintf(sib, sizeof sib, "%.*s.%s", (int)(dot - name), name, t->derive);
        v = typed_text(cfg, sib, &st, &sc);
        *row = st;
        *scale = t->scale * sc;
        return v;
    }
    return t->pub.dflt;
}

int64_t wb_config_get_int(const struct wb_config *cfg, const char *name, int64_t dflt)
{
    const struct core_setting *t;
    double scale;
    const char *v = typed_text(cfg, name, &t, &scale);
    int64_t n;
    if (!v || core_setting_parse_int(t, v, &n))
        return dflt;
    return scale == 1 ? n : (int64_t)((double)n * scale);
}

double wb_config_get_double(const struct wb_config *cfg, const char *name, double dflt)
{
    const struct core_setting *t;
    double scale, d;
    const char *v = typed_text(cfg, name, &t, &scale);
    if (!v || core_setting_parse_double(t, v, &d))
        return dflt;
    return d * scale;
}

int wb_config_get_bool(const struct wb_config *cfg, const char *name, int dflt)
{
    static const struct core_setting as_bool = { .type = CORE_T_BOOL };
    const struct core_setting *t;
    double scale;
    const char *v = typed_text(cfg, name, &t, &scale);
    int64_t n;
    if (!v || core_setting_parse_int(t && t->type != CORE_T_BOOL ? t : &as_bool, v, &n))
        return dflt;
    return n != 0;
}

int64_t wb_config_int(const struct wb_config *cfg, const char *name)
{
    return wb_config_get_int(cfg, name, 0);
}

double wb_config_double(const struct wb_config *cfg, const char *name)
{
    return wb_config_get_double(cfg, name, 0);
}

int wb_config_bool(const struct wb_config *cfg, const char *name)
{
    return wb_config_get_bool(cfg, name, 0);
}

int wb_config_load_env(struct wb_config *cfg, struct wb_error *err)
{
    char var[128];
    const char *v;
    int rc;
    for (size_t i = 0; i < core_settings_count(); i++) {
        const struct core_setting *t = core_setting_at(i);
        const char *name = t->pub.name;
        if (t->pub.pattern || t->type == CORE_T_SECRET)
            continue;
        v = t->env ? getenv(t->env) : NULL;
        if (v && *v) {
            if ((rc = wb_config_set_from(cfg, name, v, WB_SRC_ENV, t->env, err)))
                return rc;
            continue;
        }
        snprintf(var, sizeof var, "WORDBANK_%s", name);
        for (char *p = var; *p; p++)
            *p = *p == '.' ? '_' : (char)toupper((unsigned char)*p);
        if (!(v = getenv(var)) || !*v)
            continue;
        if ((rc = wb_config_set_from(cfg, name, v, WB_SRC_ENV, var, err)))
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
    rc = core_file_read(path, &text, err);
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
    for (size_t i = 0; i < core_settings_count(); i++) {
        const struct core_setting *t = core_setting_at(i);
        size_t d = t->pub.pattern || t->type == CORE_T_SECRET ? 99 : distance(name, t->pub.name);
        if (d < bd) {
            bd = d;
            best = t->pub.name;
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
    char where[4200];
    int rc;
    if (looks_like_key(name)) {
        wb_log(WB_LOG_WARN,
               "%s:%d: '%s' ignored: API keys are never read from the config file; put it "
               "in the environment (GEMINI_API_KEY, OPENAI_API_KEY) or in .env",
               path, line, name);
        return 0;
    }
    if (!core_setting_find(name)) {
        const char *near = nearest_name(name);
        wb_log(WB_LOG_WARN, "%s:%d: unknown setting '%s' is not used%s%s%s", path, line, name,
               near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
    }
    snprintf(where, sizeof where, "%s:%d", path, line);
    if ((rc = core_setting_check(core_setting_find(name), name, value, where, err)))
        return rc;
    if (set_origin(ud, name, value, WB_SRC_FILE, NULL))
        return wb_error_set(err, WB_ENOMEM, "%s:%d: out of memory", path, line);
    return 0;
}

int wb_config_load_file(struct wb_config *cfg, const char *path, int required, struct wb_error *err)
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
