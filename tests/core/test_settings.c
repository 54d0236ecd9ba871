/* The settings table (src/core/settings.c): well-formed rows, defaults that
 * the getters return as the table says, values checked by type and range as
 * they are set (flags, environment, config files with FILE:LINE), patterned
 * rows for per-model limits and prices, derived defaults. */
#include <stdio.h>
#include <stdlib.h>

#include "test.h"
#include "wordbank/config.h"
#include "wordbank/log.h"

static int near(double a, double b)
{
    return a - b < 1e-9 && b - a < 1e-9;
}

static const char *write_conf(const char *name, const char *text)
{
    static char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/%s", th_tmpdir(), name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
    return path;
}

TEST(every_row_is_well_formed_and_its_default_passes_its_own_check)
{
    static const char *const types[] = { "int",  "size", "duration", "number",
                                         "bool", "enum", "language", "string",
                                         "path", "url",  "secret",   NULL };
    struct wb_error err = { 0 };
    size_t n = wb_settings_count();
    CHECK(n >= 60);
    CHECK(wb_settings_at(n) == NULL);
    for (size_t i = 0; i < n; i++) {
        const struct wb_setting *s = wb_settings_at(i);
        int typed = 0;
        for (size_t t = 0; types[t]; t++)
            typed |= !strcmp(types[t], s->type);
        CHECK_MSG(typed, "%s: type %s", s->name, s->type);
        CHECK_MSG(s->description && *s->description, "%s has no description", s->name);
        CHECK_MSG(s->range != NULL, "%s has no range", s->name);
        CHECK_MSG(strcmp(s->type, "enum") != 0 || *s->range, "%s: an enum lists its values",
                  s->name);
        CHECK_MSG((strchr(s->name, '<') != NULL) == (s->pattern != 0), "%s: pattern flag", s->name);
        CHECK_MSG(wb_config_check(s->name, s->dflt, "table", &err) == 0, "%s: default '%s': %s",
                  s->name, s->dflt, err.msg);
        if (!s->pattern) {
            CHECK_MSG(wb_settings_find(s->name) == s, "%s is found as itself", s->name);
            for (size_t j = 0; j < i; j++)
                CHECK_MSG(strcmp(wb_settings_at(j)->name, s->name), "%s twice", s->name);
        }
    }
}

TEST(patterned_rows_cover_per_model_limits_and_prices)
{
    static const char *const names[] = { "limit.gemini-3.8-flash.rpm",
                                         "limit.speech.concurrency",
                                         "limit.m.tpm",
                                         "limit.m.burst",
                                         "price.gpt-4o-mini.in",
                                         "price.m.out",
                                         "price.m.batch_in",
                                         "price.m.batch_out" };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        const struct wb_setting *s = wb_settings_find(names[i]);
        CHECK_MSG(s && s->pattern, "%s fits no pattern", names[i]);
    }
    CHECK_STR(wb_settings_find("limit.m.rpm")->name, "limit.<model>.rpm");
    /* exact names before patterns; nothing between the dots is no model */
    CHECK_STR(wb_settings_find("limit.headroom")->name, "limit.headroom");
    CHECK(wb_settings_find("limit..rpm") == NULL);
    CHECK(wb_settings_find("limit.m.rpmx") == NULL);
    CHECK(wb_settings_find("price.m.inn") == NULL);
    CHECK(wb_settings_find("text_modle") == NULL);
}

TEST(getters_return_the_tables_defaults)
{
    struct wb_config *cfg;
    CHECK_INT(wb_config_new(&cfg), 0);
    for (size_t i = 0; i < wb_settings_count(); i++) {
        const struct wb_setting *s = wb_settings_at(i);
        if (s->pattern)
            continue;
        if (s->dflt)
            CHECK_STR(wb_config_get(cfg, s->name), s->dflt);
        else
            CHECK_MSG(wb_config_get(cfg, s->name) == NULL, "%s has a value", s->name);
        CHECK_MSG(wb_config_int(cfg, s->name) == wb_config_int(NULL, s->name),
                  "%s: a config's default and the table's differ", s->name);
    }
    CHECK_INT(wb_config_int(cfg, "jobs"), 16);
    CHECK_STR(wb_config_get(NULL, "edict_path"), "/usr/share/edict/edict"); /* no config */
    CHECK(wb_config_get(NULL, "limit.m.rpm") == NULL);
    CHECK_INT(wb_config_int(NULL, "timeout.text_ms"), 120000);
    CHECK_INT(wb_config_int(cfg, "http.body_budget"), 16 << 20);
    CHECK_INT(wb_config_int(cfg, "http.max_body"), 64 << 20);
    CHECK_INT(wb_config_bool(cfg, "audio_trim"), 1);
    CHECK_INT(wb_config_bool(cfg, "pipeline.sync_commits"), 0);
    CHECK(near(wb_config_double(cfg, "limit.headroom"), 0.03));
    CHECK(near(wb_config_double(cfg, "batch.poll_factor"), 1.5));
    /* no default: 0, or the caller's fallback for a default computed at run time */
    CHECK_INT(wb_config_int(cfg, "pipeline.media_in_flight"), 0);
    CHECK_INT(wb_config_get_int(cfg, "pipeline.media_in_flight", 32), 32);
    CHECK(near(wb_config_get_double(cfg, "gemini.temperature", -1), -1));
    /* a table default wins over a fallback that would repeat it */
    CHECK_INT(wb_config_get_int(cfg, "jobs", 99), 16);
    /* patterned defaults, and batch prices derived from the interactive ones */
    CHECK(near(wb_config_double(cfg, "price.m.in"), 0.30));
    CHECK(near(wb_config_double(cfg, "price.m.out"), 2.50));
    CHECK(near(wb_config_double(cfg, "price.m.batch_in"), 0.15));
    CHECK(near(wb_config_double(cfg, "price.m.batch_out"), 1.25));
    CHECK_INT(wb_config_set(cfg, "price.m.in", "0.60", WB_SRC_FILE), 0);
    CHECK(near(wb_config_double(cfg, "price.m.batch_in"), 0.30));
    CHECK(near(wb_config_double(cfg, "price.other.batch_in"), 0.15));
    CHECK_INT(wb_config_set(cfg, "price.m.batch_in", "0.05", WB_SRC_FILE), 0);
    CHECK(near(wb_config_double(cfg, "price.m.batch_in"), 0.05));
    CHECK(near(wb_config_double(cfg, "limit.m.rpm"), 0));
    wb_config_free(cfg);
}

TEST(values_are_checked_by_type_and_range_as_they_are_set)
{
    struct wb_config *cfg;
    struct wb_error err = { 0 };
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set_from(cfg, "jobs", "0", WB_SRC_FLAG, "--jobs", &err), WB_EINVAL);
    CHECK_STR(err.msg, "--jobs: jobs = '0': it must be a whole number from 1 to 10000");
    CHECK_INT(wb_config_set_from(cfg, "jobs", "10001", WB_SRC_FLAG, "--jobs", &err), WB_EINVAL);
    CHECK_INT(wb_config_set_from(cfg, "jobs", "8x", WB_SRC_FLAG, "--jobs", &err), WB_EINVAL);
    CHECK_INT(wb_config_set_from(cfg, "jobs", "", WB_SRC_FLAG, "--jobs", &err), WB_EINVAL);
    CHECK_STR(wb_config_get(cfg, "jobs"), "16"); /* a refused value changes nothing */
    CHECK_OK(wb_config_set_from(cfg, "jobs", "10000", WB_SRC_FLAG, "--jobs", &err), &err);
    CHECK_STR(wb_config_origin(cfg, "jobs"), "--jobs");
    CHECK_INT(wb_config_set(cfg, "jobs", "0", WB_SRC_FLAG), WB_EINVAL); /* no message, same rule */
    CHECK_INT(wb_config_int(cfg, "jobs"), 10000);

    CHECK_INT(wb_config_set_from(cfg, "provider", "gemni", WB_SRC_FLAG, NULL, &err), WB_EINVAL);
    CHECK_STR(err.msg, "provider = 'gemni': it must be one of gemini, openai, offline");
    CHECK_OK(wb_config_set_from(cfg, "provider", "openai", WB_SRC_FLAG, NULL, &err), &err);
    CHECK_INT(wb_config_set(cfg, "audio_format", "wav", WB_SRC_FLAG), WB_EINVAL);
    CHECK_INT(wb_config_set(cfg, "audio_format", "mp", WB_SRC_FLAG), WB_EINVAL);
    CHECK_INT(wb_config_set(cfg, "audio_format", "opus", WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_set_from(cfg, "audio_trim", "maybe", WB_SRC_ENV, "X", &err), WB_EINVAL);
    CHECK(strstr(err.msg, "X: audio_trim = 'maybe': it must be true or false") != NULL);
    CHECK_INT(wb_config_set(cfg, "audio_trim", "off", WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_bool(cfg, "audio_trim"), 0);
    CHECK_INT(wb_config_set_from(cfg, "lang", "ja jp", WB_SRC_FLAG, "--lang", &err), WB_EINVAL);
    CHECK(strstr(err.msg, "--lang: lang = 'ja jp': ") && strstr(err.msg, "BCP 47"));

    /* sizes and durations: whole, with their suffixes, within the range */
    CHECK_INT(wb_config_set_from(cfg, "http.body_budget", "512K", WB_SRC_FILE, NULL, &err),
              WB_EINVAL);
    CHECK(strstr(err.msg, "a size in bytes") && strstr(err.msg, "at least 1048576"));
    CHECK_INT(wb_config_set(cfg, "http.body_budget", "32M", WB_SRC_FILE), 0);
    CHECK_INT(wb_config_int(cfg, "http.body_budget"), 32 << 20);
    CHECK_INT(wb_config_set(cfg, "timeout.text_ms", "2min", WB_SRC_FILE), 0);
    CHECK_INT(wb_config_int(cfg, "timeout.text_ms"), 120000);
    CHECK_INT(wb_config_set(cfg, "timeout.text_ms", "1.5s", WB_SRC_FILE), 0);
    CHECK_INT(wb_config_int(cfg, "timeout.text_ms"), 1500);
    CHECK_INT(wb_config_set(cfg, "timeout.text_ms", "0.5ms", WB_SRC_FILE), WB_EINVAL);
    CHECK_INT(wb_config_set(cfg, "timeout.text_ms", "-1", WB_SRC_FILE), WB_EINVAL);
    CHECK_INT(wb_config_set(cfg, "timeout.text_ms", "soon", WB_SRC_FILE), WB_EINVAL);
    CHECK_INT(wb_config_set(cfg, "pipeline.lease_ttl_ms", "299", WB_SRC_FILE), WB_EINVAL);
    /* numbers */
    CHECK_INT(wb_config_set_from(cfg, "limit.headroom", "0.6", WB_SRC_FILE, NULL, &err), WB_EINVAL);
    CHECK_STR(err.msg, "limit.headroom = '0.6': it must be a number from 0 to 0.5");
    CHECK_INT(wb_config_set(cfg, "gemini.temperature", "nan", WB_SRC_FILE), WB_EINVAL);
    CHECK_INT(wb_config_set(cfg, "gemini.temperature", "0.7", WB_SRC_FILE), 0);
    CHECK(near(wb_config_get_double(cfg, "gemini.temperature", -1), 0.7));
    /* an empty value unsets a setting whose default is computed, not one with a default */
    CHECK_INT(wb_config_set(cfg, "gemini.temperature", "", WB_SRC_FLAG), 0);
    CHECK(near(wb_config_get_double(cfg, "gemini.temperature", -1), -1));
    CHECK_INT(wb_config_set(cfg, "image_size", "", WB_SRC_FLAG), WB_EINVAL);
    /* strings take anything */
    CHECK_INT(wb_config_set(cfg, "text_model", "any model/at all", WB_SRC_FLAG), 0);
    wb_config_free(cfg);
}

TEST(patterned_and_unknown_names)
{
    struct wb_config *cfg;
    struct wb_error err = { 0 };
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set_from(cfg, "limit.m.rpm", "abc", WB_SRC_FILE, "f.conf:3", &err),
              WB_EINVAL);
    CHECK_STR(err.msg, "f.conf:3: limit.m.rpm = 'abc': it must be a number of at least 0");
    CHECK_INT(wb_config_set(cfg, "limit.m.rpm", "5", WB_SRC_FILE), 0);
    CHECK(near(wb_config_double(cfg, "limit.m.rpm"), 5));
    CHECK_INT(wb_config_set(cfg, "limit.m.concurrency", "0", WB_SRC_FILE), WB_EINVAL);
    CHECK_INT(wb_config_set(cfg, "limit.m.concurrency", "2.5", WB_SRC_FILE), WB_EINVAL);
    CHECK_INT(wb_config_set(cfg, "price.m.batch_out", "-1", WB_SRC_FILE), WB_EINVAL);
    /* names wordbank never reads are kept as they are (today's behaviour) */
    CHECK_INT(wb_config_set(cfg, "limit.m.whatever", "abc", WB_SRC_FILE), 0);
    CHECK_STR(wb_config_get(cfg, "limit.m.whatever"), "abc");
    CHECK_INT(wb_config_check("no.such.setting", "x", NULL, &err), 0);
    wb_config_free(cfg);
}

TEST(the_environment_and_config_files_are_checked_with_where)
{
    struct wb_config *cfg;
    struct wb_error err = { 0 };
    const char *path;
    CHECK_INT(wb_config_new(&cfg), 0);
    setenv("WORDBANK_HTTP_BODY_BUDGET", "32M", 1);
    CHECK_OK(wb_config_load_env(cfg, &err), &err);
    CHECK_INT(wb_config_int(cfg, "http.body_budget"), 32 << 20);
    CHECK_STR(wb_config_origin(cfg, "http.body_budget"), "WORDBANK_HTTP_BODY_BUDGET");
    setenv("WORDBANK_JOBS", "lots", 1);
    CHECK_INT(wb_config_load_env(cfg, &err), WB_EINVAL);
    CHECK_STR(err.msg, "WORDBANK_JOBS: jobs = 'lots': it must be a whole number from 1 to 10000");
    unsetenv("WORDBANK_JOBS");
    unsetenv("WORDBANK_HTTP_BODY_BUDGET");

    path = write_conf("t.conf", "lang = ja\n[timeout]\ntext_ms = soon\n");
    CHECK_INT(wb_config_load_file(cfg, path, 1, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "t.conf:3: timeout.text_ms = 'soon': it must be a duration") != NULL);
    path = write_conf("t.conf", "audio_format = wav\n");
    CHECK_INT(wb_config_load_file(cfg, path, 1, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "t.conf:1: audio_format = 'wav': it must be one of mp3, m4a, opus"));
    path = write_conf("t.conf", "[price.m]\nbatch_in = 0.1\n[limit.m]\nconcurrency = 3\n"
                                "[batch]\npoll_first_ms = 2s\n");
    CHECK_OK(wb_config_load_file(cfg, path, 1, &err), &err);
    CHECK(near(wb_config_double(cfg, "price.m.batch_in"), 0.1));
    CHECK_INT(wb_config_int(cfg, "limit.m.concurrency"), 3);
    CHECK_INT(wb_config_int(cfg, "batch.poll_first_ms"), 2000);
    wb_config_free(cfg);
}
