/* wordbank doctor: what configuration is in force and where each part came
 * from, the key masked, the database and media paths, and the models. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void show_setting(const struct cli *c, const char *label, const char *name)
{
    const char *v = wb_config_get(c->cfg, name);
    printf("%-14s %s  (%s)\n", label, v ? v : "(unset)", wb_config_origin(c->cfg, name));
}

static void show_key(const struct cli *c, const char *label, const char *name)
{
    char masked[64];
    const char *key = wb_config_get(c->cfg, name);
    wb_config_mask_key(key, masked, sizeof masked);
    printf("%-14s %s", label, masked);
    if (key)
        printf("  (from %s)", wb_config_origin(c->cfg, name));
    putchar('\n');
}

/* The offline provider's parts: MeCab's dictionary, EDICT, espeak-ng. */
static int check_offline(const struct cli *c)
{
    struct wb_error err = { 0 };
    struct wb_text *t = NULL;
    struct wb_edict *d = NULL;
    int16_t *pcm = NULL;
    size_t n = 0;
    int rate = 0, rc = EXIT_OK;
    if (wb_text_new(c->cfg, &t, &err) == 0) {
        printf("%-14s MeCab with %s\n", "readings", wb_text_dicdir(t));
    } else {
        printf("%-14s MISSING: %s\n", "readings", wb_error_text(&err));
        rc = EXIT_ENV;
    }
    wb_error_clear(&err);
    if (wb_edict_open(c->cfg, NULL, NULL, &d, &err) == 0) {
        printf("%-14s EDICT %s (index %s%s)\n", "meanings", wb_config_get(c->cfg, "edict_path"),
               wb_edict_index_path(d), wb_edict_was_built(d) ? ", built just now" : "");
    } else {
        printf("%-14s MISSING: %s\n", "meanings", wb_error_text(&err));
        rc = EXIT_ENV;
    }
    wb_error_clear(&err);
    if (wb_offline_speak("ねこ", wb_config_get(c->cfg, "lang"), t, &pcm, &n, &rate, NULL, &err) == 0) {
        printf("%-14s espeak-ng (%.2f s for ねこ at %d Hz)\n", "speech", (double)n / rate, rate);
    } else {
        printf("%-14s MISSING: %s\n", "speech", wb_error_text(&err));
        rc = EXIT_ENV;
    }
    free(pcm);
    wb_edict_close(d);
    wb_text_free(t);
    return rc;
}

int cmd_doctor(struct cli *c)
{
    const char *provider = wb_config_get(c->cfg, "provider");
    const char *db = cli_db_path(c);
    int rc = EXIT_OK;

    printf("wordbank %s\n", WB_VERSION);
    show_setting(c, "provider", "provider");
    show_key(c, "gemini key", "gemini_api_key");
    show_key(c, "openai key", "openai_api_key");
    printf("%-14s %s  (%s)%s\n", "database", db, wb_config_origin(c->cfg, "db"),
           access(db, F_OK) == 0 ? "" : "  [does not exist yet]");
    printf("%-14s %s%s\n", "media", cli_media_dir(c),
           access(cli_media_dir(c), F_OK) == 0 ? "" : "  [does not exist yet]");
    show_setting(c, "language", "lang");
    show_setting(c, "jobs", "jobs");
    if (!strcmp(provider, "gemini")) {
        show_setting(c, "endpoint", "base_url");
        show_setting(c, "api version", "api_version");
        show_setting(c, "text model", "text_model");
        show_setting(c, "speech model", "tts_model");
        show_setting(c, "voice", "voice");
        show_setting(c, "image model", "image_model");
        show_setting(c, "image api", "image_api");
    } else if (!strcmp(provider, "openai")) {
        show_setting(c, "endpoint", "openai_base_url");
        show_setting(c, "text model", "openai_text_model");
        show_setting(c, "speech model", "openai_tts_model");
        show_setting(c, "voice", "openai_voice");
        show_setting(c, "image model", "openai_image_model");
    }
    if (!strcmp(provider, "offline") && check_offline(c))
        rc = EXIT_ENV;
    show_setting(c, "audio format", "audio_format");
    show_setting(c, "image size", "image_size");
    if (!strcmp(provider, "gemini") && !wb_config_get(c->cfg, "gemini_api_key")) {
        cli_error("provider gemini needs a key: set GEMINI_API_KEY (or GOOGLE_API_KEY, or "
                  "GEMINI_API_KEY / GOOGLE_AI_STUDIO_KEY in .env)");
        rc = EXIT_ENV;
    } else if (!strcmp(provider, "gemini")) {
        struct wb_model_check m[3];
        struct wb_error err = { 0 };
        /* A diagnosis should answer quickly: one retry, ten seconds at most
         * (a setting the user gave still wins). */
        wb_config_set(c->cfg, "retry.max_attempts", "2", WB_SRC_DEFAULT);
        wb_config_set(c->cfg, "retry.deadline_ms", "10000", WB_SRC_DEFAULT);
        if (wb_check_models(c->cfg, m, &err)) {
            cli_error("cannot reach the models list: %s", wb_error_text(&err));
            return EXIT_ENV;
        }
        static const char *const flag[3] = { "--text-model", "--tts-model", "--image-model" };
        for (int i = 0; i < 3; i++) {
            if (m[i].found) {
                printf("%-14s %s: available\n", "model check", m[i].model);
            } else {
                printf("%-14s %s: NOT offered by this endpoint%s%s\n", "model check", m[i].model,
                       m[i].suggestions[0] ? "; close alternatives: " : "", m[i].suggestions);
                cli_error("the %s model %s is not offered by %s; choose another with %s", m[i].role,
                          m[i].model, wb_config_get(c->cfg, "base_url"), flag[i]);
                rc = EXIT_ENV;
            }
        }
    }
    return rc;
}
