/* wordbank doctor: what configuration is in force and where each part came
 * from, the key masked, the database and media paths, and checks of what
 * generation needs. A check that decides whether generation can work (a key
 * for gemini, the offline parts) is required and fails with exit 3; one that
 * only hints (is the model in the endpoint's /models list?) is advisory: it
 * is labelled so and never changes the exit code, because endpoints (proxies,
 * local servers) often serve models they do not list. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

struct report {
    struct cli *c;
    struct wb_buf settings; /* JSON members */
    struct wb_buf checks;   /* JSON array items */
    size_t n_settings, n_checks;
    int failed;               /* a required check failed */
    char first_failure[1024]; /* what the closing error names, when not the default */
};

static void row(struct report *r, const char *label, const char *key, const char *value,
                const char *origin)
{
    if (!r->c->json) {
        if (origin)
            printf("%-14s %s  (%s)\n", label, value ? value : "(unset)", origin);
        else
            printf("%-14s %s\n", label, value ? value : "(unset)");
        return;
    }
    wb_buf_appends(&r->settings, r->n_settings++ ? ", " : "");
    wb_json_quote(key, &r->settings);
    wb_buf_appends(&r->settings, ": {\"value\": ");
    if (value)
        wb_json_quote(value, &r->settings);
    else
        wb_buf_appends(&r->settings, "null");
    wb_buf_appends(&r->settings, ", \"from\": ");
    if (origin)
        wb_json_quote(origin, &r->settings);
    else
        wb_buf_appends(&r->settings, "null");
    wb_buf_appends(&r->settings, "}");
}

static void show_setting(struct report *r, const char *label, const char *name)
{
    row(r, label, name, wb_config_get(r->c->cfg, name), wb_config_origin(r->c->cfg, name));
}

static void show_key(struct report *r, const char *label, const char *name)
{
    char masked[64];
    const char *key = wb_config_get(r->c->cfg, name);
    char from[256];
    wb_config_mask_key(key, masked, sizeof masked);
    snprintf(from, sizeof from, "%s%s", r->c->json ? "" : "from ",
             wb_config_origin(r->c->cfg, name));
    row(r, label, name, masked, key ? from : NULL);
}

/* One check: ok, or failed (required: exit 3; advisory: a warning only). */
static void check(struct report *r, const char *name, int ok, int advisory, const char *detail)
{
    if (!ok && !advisory)
        r->failed = 1;
    if (!r->c->json) {
        printf("%-14s %s%s%s\n", name,
               ok         ? ""
               : advisory ? "ADVISORY: "
                          : "MISSING: ",
               detail, ok || !advisory ? "" : " (generation may still work)");
        return;
    }
    wb_buf_appends(&r->checks, r->n_checks++ ? ", {\"name\": " : "{\"name\": ");
    wb_json_quote(name, &r->checks);
    wb_buf_appendf(&r->checks,
                   ", \"ok\": %s, \"advisory\": %s, \"detail\": ", ok ? "true" : "false",
                   advisory ? "true" : "false");
    wb_json_quote(detail, &r->checks);
    wb_buf_appends(&r->checks, "}");
}

/* The offline provider's parts: MeCab's dictionary, EDICT, espeak-ng. */
static void check_offline(struct report *r)
{
    const struct cli *c = r->c;
    struct wb_error err = { 0 };
    struct wb_text *t = NULL;
    struct wb_edict *d = NULL;
    int16_t *pcm = NULL;
    size_t n = 0;
    int rate = 0;
    char msg[1024];
    if (wb_text_new(c->cfg, &t, &err) == 0) {
        snprintf(msg, sizeof msg, "MeCab with %s", wb_text_dicdir(t));
        check(r, "readings", 1, 0, msg);
    } else {
        check(r, "readings", 0, 0, wb_error_text(&err));
    }
    wb_error_clear(&err);
    if (wb_edict_open(c->cfg, NULL, NULL, &d, &err) == 0) {
        snprintf(msg, sizeof msg, "EDICT %s (index %s%s)", wb_config_get(c->cfg, "edict_path"),
                 wb_edict_index_path(d), wb_edict_was_built(d) ? ", built just now" : "");
        check(r, "meanings", 1, 0, msg);
    } else {
        check(r, "meanings", 0, 0, wb_error_text(&err));
    }
    wb_error_clear(&err);
    if (wb_offline_speak("ねこ", wb_config_get(c->cfg, "lang"), t, &pcm, &n, &rate, NULL, &err) ==
        0) {
        snprintf(msg, sizeof msg, "espeak-ng (%.2f s for ねこ at %d Hz)", (double)n / rate, rate);
        check(r, "speech", 1, 0, msg);
    } else {
        check(r, "speech", 0, 0, wb_error_text(&err));
    }
    free(pcm);
    wb_edict_close(d);
    wb_text_free(t);
}

/* Is each configured model in the endpoint's /models list? Advisory. */
static void check_models(struct report *r)
{
    static const char *const flag[3] = { "--text-model", "--tts-model", "--image-model" };
    struct cli *c = r->c;
    struct wb_model_check m[3];
    struct wb_error err = { 0 };
    char msg[1024];
    int rc, listed = 0;
    /* A diagnosis should answer quickly: one retry, ten seconds at most
     * (a setting the user gave still wins). */
    wb_config_set(c->cfg, "retry.max_attempts", "2", WB_SRC_DEFAULT);
    wb_config_set(c->cfg, "retry.deadline_ms", "10000", WB_SRC_DEFAULT);
    if ((rc = wb_check_models(c->cfg, m, &err))) {
        /* Unreachable or refusing the key: generation fails the same way.
         * Anything else (a proxy without /models): only a hint. */
        int required = rc == WB_ETRANSPORT || rc == WB_ETIMEOUT || rc == WB_EAUTH;
        snprintf(msg, sizeof msg, "cannot read the endpoint's models list: %s",
                 wb_error_text(&err));
        check(r, required ? "endpoint" : "model list", 0, !required, msg);
        return;
    }
    for (int i = 0; i < 3; i++)
        listed += m[i].found;
    for (int i = 0; i < 3; i++) {
        if (m[i].found) {
            snprintf(msg, sizeof msg, "%s: available", m[i].model);
            check(r, "model check", 1, 0, msg);
            continue;
        }
        /* The list names some configured models but not this one: it is
         * retired or misspelt (required). It names none of them: the list
         * does not describe what this endpoint serves (advisory). */
        snprintf(msg, sizeof msg,
                 "%s model %s: not in the endpoint's /models list%s%s%s; %s chooses "
                 "another",
                 m[i].role, m[i].model, m[i].suggestions[0] ? " (close: " : "", m[i].suggestions,
                 m[i].suggestions[0] ? ")" : "", flag[i]);
        check(r, "model check", 0, listed == 0, msg);
        if (listed && !r->c->json)
            snprintf(r->first_failure + strlen(r->first_failure),
                     sizeof r->first_failure - strlen(r->first_failure),
                     "%sthe %s model %s is not offered by %s (%s)", r->first_failure[0] ? "; " : "",
                     m[i].role, m[i].model, wb_config_get(c->cfg, "base_url"), flag[i]);
    }
}

int cmd_doctor(struct cli *c)
{
    const char *provider = wb_config_get(c->cfg, "provider");
    const char *db = cli_db_path(c);
    struct report r = { .c = c };
    char tmp[4096];
    int rc;

    if (c->argc)
        return cli_usage("doctor");
    cli_preload(c, WB_STAGES_ALL, WB_PRELOAD_NETWORK); /* the model checks */
    wb_buf_init(&r.settings, 0);
    wb_buf_init(&r.checks, 0);
    if (!c->json)
        printf("wordbank %s\n", wb_version());
    show_setting(&r, "provider", "provider");
    show_key(&r, "gemini key", "gemini_api_key");
    show_key(&r, "openai key", "openai_api_key");
    snprintf(tmp, sizeof tmp, "%s%s", db, access(db, F_OK) == 0 ? "" : "  [does not exist yet]");
    row(&r, "database", "db", c->json ? db : tmp, wb_config_origin(c->cfg, "db"));
    snprintf(tmp, sizeof tmp, "%s%s", cli_media_dir(c),
             access(cli_media_dir(c), F_OK) == 0 ? "" : "  [does not exist yet]");
    row(&r, "media", "media", c->json ? cli_media_dir(c) : tmp, NULL);
    show_setting(&r, "language", "lang");
    show_setting(&r, "jobs", "jobs");
    if (!strcmp(provider, "gemini")) {
        show_setting(&r, "endpoint", "base_url");
        show_setting(&r, "api version", "api_version");
        show_setting(&r, "text model", "text_model");
        show_setting(&r, "speech model", "tts_model");
        show_setting(&r, "voice", "voice");
        show_setting(&r, "image model", "image_model");
        show_setting(&r, "image api", "image_api");
    } else if (!strcmp(provider, "openai")) {
        show_setting(&r, "endpoint", "openai_base_url");
        show_setting(&r, "text model", "openai_text_model");
        show_setting(&r, "speech model", "openai_tts_model");
        show_setting(&r, "voice", "openai_voice");
        show_setting(&r, "image model", "openai_image_model");
    }
    show_setting(&r, "audio format", "audio_format");
    show_setting(&r, "image size", "image_size");
    if (!strcmp(provider, "offline"))
        check_offline(&r);
    if (!strcmp(provider, "gemini") && !wb_config_get(c->cfg, "gemini_api_key"))
        check(&r, "key", 0, 0,
              "provider gemini needs a key: set GEMINI_API_KEY (or GOOGLE_API_KEY, or "
              "GEMINI_API_KEY / GOOGLE_AI_STUDIO_KEY in .env)");
    else if (!strcmp(provider, "openai") && !wb_config_get(c->cfg, "openai_api_key") &&
             wb_config_source_of(c->cfg, "openai_base_url") == WB_SRC_DEFAULT)
        check(&r, "key", 0, 0,
              "provider openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a "
              "local server)");
    else if (!strcmp(provider, "gemini"))
        check_models(&r);
    rc = r.failed ? EXIT_ENV : EXIT_OK;
    if (c->json) {
        struct wb_buf j;
        wb_buf_init(&j, 0);
        wb_buf_appends(&j, "{\"version\": ");
        wb_json_quote(wb_version(), &j);
        wb_buf_appendf(&j, ", \"ok\": %s, \"settings\": {", r.failed ? "false" : "true");
        if (r.settings.len)
            wb_buf_append(&j, r.settings.data, r.settings.len);
        wb_buf_appends(&j, "}, \"checks\": [");
        if (r.checks.len)
            wb_buf_append(&j, r.checks.data, r.checks.len);
        wb_buf_appends(&j, "]}");
        cli_json_emit(c, &j);
        wb_buf_release(&j);
    } else if (r.failed) {
        cli_error("%s", r.first_failure[0] ? r.first_failure
                                           : "a required check failed (MISSING above): generation "
                                             "cannot work yet");
    }
    wb_buf_release(&r.settings);
    wb_buf_release(&r.checks);
    return rc;
}
