/* The settings table: every setting wordbank reads, once, with its type,
 * default, range and description. Defaults live here and nowhere else: the
 * typed getters (wb_config_int ...) fall back to them, `wordbank help
 * settings` prints them, and every value set from a flag, the environment or
 * a config file is checked against its row before it is kept.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/settings.h"
#include "wordbank/entry.h"

#define HUGE_MAX 9.0e18

/* Row builders: the range text is the bounds as written. ROW is one row:
 * name, type name, default, range text, description, patterned; then the
 * type, bounds, environment variable, the key a default derives from and its
 * scale. */
#define ROW(n, tn, d, rng, desc, pat, t, lo, hi, env, derive, scale) \
    {                                                                \
        { n, tn, d, rng, desc, pat }, t, lo, hi, env, derive, scale  \
    }
#define S_STR(n, d, desc)        ROW(n, "string", d, "", desc, 0, CORE_T_STRING, 0, 0, NULL, NULL, 0)
#define S_PATH(n, d, env, desc)  ROW(n, "path", d, "", desc, 0, CORE_T_PATH, 0, 0, env, NULL, 0)
#define S_URL(n, d, env, desc)   ROW(n, "url", d, "", desc, 0, CORE_T_URL, 0, 0, env, NULL, 0)
#define S_SECRET(n, desc)        ROW(n, "secret", NULL, "", desc, 0, CORE_T_SECRET, 0, 0, NULL, NULL, 0)
#define S_ENUM(n, d, vals, desc) ROW(n, "enum", d, vals, desc, 0, CORE_T_ENUM, 0, 0, NULL, NULL, 0)
#define S_BOOL(n, d, desc) \
    ROW(n, "bool", d, "true or false", desc, 0, CORE_T_BOOL, 0, 1, NULL, NULL, 0)
#define S_INT(n, d, lo, hi, desc) \
    ROW(n, "int", d, #lo " to " #hi, desc, 0, CORE_T_INT, lo, hi, NULL, NULL, 0)
#define S_INT_GE(n, d, lo, desc) \
    ROW(n, "int", d, "at least " #lo, desc, 0, CORE_T_INT, lo, HUGE_MAX, NULL, NULL, 0)
#define S_SIZE_GE(n, d, lo, desc) \
    ROW(n, "size", d, "at least " #lo, desc, 0, CORE_T_SIZE, lo, HUGE_MAX, NULL, NULL, 0)
#define S_MS_GE(n, d, lo, desc) \
    ROW(n, "duration", d, "at least " #lo, desc, 0, CORE_T_MS, lo, HUGE_MAX, NULL, NULL, 0)
#define S_NUM(n, d, lo, hi, desc) \
    ROW(n, "number", d, #lo " to " #hi, desc, 0, CORE_T_NUMBER, lo, hi, NULL, NULL, 0)
#define S_NUM_GE(n, d, lo, desc) \
    ROW(n, "number", d, "at least " #lo, desc, 0, CORE_T_NUMBER, lo, HUGE_MAX, NULL, NULL, 0)
/* Patterned rows: "<...>" stands for a model id (or a request kind). */
#define P_NUM_GE(n, d, lo, derive, scale, desc) \
    ROW(n, "number", d, "at least " #lo, desc, 1, CORE_T_NUMBER, lo, HUGE_MAX, NULL, derive, scale)
#define P_INT_GE(n, d, lo, desc) \
    ROW(n, "int", d, "at least " #lo, desc, 1, CORE_T_INT, lo, HUGE_MAX, NULL, NULL, 0)

#define PROVIDERS "gemini, openai, offline"

static const struct core_setting table[] = {
    /* the word bank */
    S_PATH("db", "wordbank.db", "WORDBANK_DB", "the word bank database (--db)"),
    S_PATH("media", NULL, "WORDBANK_MEDIA",
           "the media directory (--media; default: \"media\" beside the database)"),
    ROW("lang", "language", "ja", "a BCP 47 tag", "language of the words (--lang)", 0, CORE_T_LANG,
        0, 0, NULL, NULL, 0),
    S_INT("jobs", "16", 1, 10000, "entries in flight, the window for every model (-j)"),
    /* providers */
    S_ENUM("provider", NULL, PROVIDERS,
           "the provider of every stage (default: gemini when a key is found, else offline)"),
    S_ENUM("details_provider", NULL, PROVIDERS, "the details stage's provider (default: provider)"),
    S_ENUM("image_provider", NULL, PROVIDERS, "the picture stage's provider (default: provider)"),
    S_ENUM("audio_provider", NULL, PROVIDERS, "the audio stage's provider (default: provider)"),
    S_ENUM("speech_text", "word", "word, example, both", "what the audio says (--speech-text)"),
    /* media */
    S_ENUM("audio_format", "mp3", "mp3, m4a, opus", "the format of speech clips (--audio-format)"),
    S_BOOL("audio_trim", "1", "trim and normalise speech clips (--no-audio-trim: 0)"),
    S_INT("image_size", "512", 1, 8192,
          "longest side of stored pictures, in pixels (--image-size)"),
    S_ENUM("image_format", "jpeg", "jpeg, jpg, png, webp", "the format of stored pictures"),
    /* Gemini */
    S_SECRET("gemini_api_key", "Gemini API key: GEMINI_API_KEY or GOOGLE_API_KEY, or .env "
                               "(GEMINI_API_KEY, GOOGLE_AI_STUDIO_KEY); never from a config file"),
    S_URL("base_url", "https://generativelanguage.googleapis.com", "GEMINI_BASE_URL",
          "the Gemini endpoint"),
    S_STR("api_version", "v1beta", "the Gemini API version (--api-version)"),
    S_STR("text_model", "gemini-3.8-flash", "Gemini model of the details (--text-model)"),
    S_STR("tts_model", "gemini-3.8-flash-tts", "Gemini model of the speech (--tts-model)"),
    S_STR("image_model", "gemini-3.1-flash-image", "Gemini model of the pictures (--image-model)"),
    S_ENUM("image_api", "gemini", "gemini, imagen",
           "how pictures are asked for: generateContent, or imagen's :predict (--image-api)"),
    S_STR("voice", "Kore", "Gemini voice of the speech (--voice)"),
    S_STR("voice2", "Puck", "Gemini voice of a dialogue's second speaker (--voice2)"),
    S_STR("gemini.image_aspect", "1:1", "aspect ratio of Gemini pictures"),
    S_STR("gemini.image_resolution", "1K", "resolution of Gemini pictures"),
    S_NUM("gemini.temperature", NULL, 0, 2,
          "sampling temperature of Gemini details (default: the model's)"),
    S_STR("gemini.thinking_level", NULL, "thinkingLevel of Gemini details (default: the model's)"),
    /* OpenAI */
    S_SECRET("openai_api_key", "OpenAI API key: OPENAI_API_KEY or .env; never from a config file"),
    S_URL("openai_base_url", "https://api.openai.com/v1", "OPENAI_BASE_URL", "the OpenAI endpoint"),
    S_STR("openai_text_model", "gpt-4o-mini", "OpenAI model of the details"),
    S_STR("openai_tts_model", "gpt-4o-mini-tts", "OpenAI model of the speech"),
    S_STR("openai_image_model", "gpt-image-1", "OpenAI model of the pictures"),
    S_STR("openai_voice", "alloy", "OpenAI voice of the speech"),
    S_STR("openai.image_size", "1024x1024", "size of OpenAI pictures"),
    S_STR("openai.image_quality", NULL, "quality of OpenAI pictures (default: the model's)"),
    S_STR("openai.speech_instructions", NULL, "instructions sent with OpenAI speech requests"),
    S_NUM("openai.temperature", NULL, 0, 2,
          "sampling temperature of OpenAI details (default: the model's)"),
    /* the network */
    S_PATH("ca_file", NULL, "WORDBANK_CA_FILE", "a CA bundle for a private endpoint"),
    S_MS_GE("timeout.connect_ms", "10000", 0, "connecting to a host"),
    S_MS_GE("timeout.text_ms", "120000", 0, "a whole details (and list) request"),
    S_MS_GE("timeout.image_ms", "300000", 0, "a whole picture request"),
    S_MS_GE("timeout.speech_ms", "300000", 0, "a whole speech request"),
    S_MS_GE("timeout.stream_idle_ms", "30000", 0, "a stream that sends nothing for this long"),
    S_INT_GE("retry.max_attempts", "6", 1, "tries of a request (the first included)"),
    S_MS_GE("retry.deadline_ms", "300000", 0,
            "no retry starts later than this after the first try"),
    S_MS_GE("retry.base_ms", "500", 0, "first backoff (doubled each retry, with jitter)"),
    S_MS_GE("retry.cap_ms", "30000", 0, "longest backoff"),
    S_SIZE_GE("http.max_body", "67108864", 1, "largest response body that is not streamed"),
    S_SIZE_GE("http.body_budget", "16777216", 1048576,
              "bytes of responses in flight and decoded media waiting for an encoder"),
    S_INT_GE("http.max_host_connections", NULL, 0,
             "connections a host (default: 2 x jobs + 8; 0: no limit)"),
    S_MS_GE("stop.grace_ms", "10000", 0, "after Ctrl-C, how long requests in flight may finish"),
    S_INT_GE("engine.seed", "0", 0, "seed of the retry jitter (0: from the clock)"),
    S_INT("engine.worker_nice", "10", 0, 19,
          "nice levels the worker pool (pictures, speech) runs below the loop thread"),
    /* rate limits */
    S_NUM("limit.headroom", "0.03", 0, 0.5, "share of a configured rate kept unused"),
    S_INT_GE("limit.aimd_step", "2", 0, "successes that add one back to a lowered concurrency"),
    S_NUM_GE("limit.learned_half_life_s", "3600", 1,
             "seconds over which a rate learned from 429s fades (doubling)"),
    P_NUM_GE("limit.<model>.rpm", NULL, 0, NULL, 0,
             "requests a minute for a model, or for a kind (text, image, speech, list) "
             "as limit.<kind>.rpm (default: unlimited)"),
    P_NUM_GE("limit.<model>.tpm", NULL, 0, NULL, 0, "tokens a minute (default: unlimited)"),
    P_NUM_GE("limit.<model>.burst", NULL, 0, NULL, 0,
             "requests that may start at once (default: 1; text: rpm / 120)"),
    P_INT_GE("limit.<model>.concurrency", NULL, 1, "requests in flight (default: the window)"),
    /* prices (USD per million tokens) */
    P_NUM_GE("price.<model>.in", "0.30", 0, NULL, 0, "USD per million input tokens"),
    P_NUM_GE("price.<model>.out", "2.50", 0, NULL, 0, "USD per million output tokens"),
    P_NUM_GE("price.<model>.batch_in", NULL, 0, "in", 0.5,
             "USD per million input tokens in batch mode (default: half of price.<model>.in)"),
    P_NUM_GE("price.<model>.batch_out", NULL, 0, "out", 0.5,
             "USD per million output tokens in batch mode (default: half of price.<model>.out)"),
    /* the pipeline */
    S_INT_GE("pipeline.media_in_flight", NULL, 1,
             "pictures and clips between request and file (default: 4 x jobs)"),
    S_INT_GE("pipeline.batch_barrier", "0", 0,
             "start entries in rounds of this many (0: a sliding window)"),
    S_MS_GE("pipeline.lease_ttl_ms", "30000", 300,
            "a stage leased by a run on another host that stopped answering is free after this"),
    S_MS_GE("pipeline.lease_poll_ms", "200", 10, "how often a run waits for another's lease"),
    S_BOOL("pipeline.sync_commits", "0", "sync the disk after every commit (else at the end)"),
    /* batch mode */
    S_BOOL("batch.enabled", "0",
           "send the missing stages as Gemini batch jobs (propagate --batch)"),
    S_BOOL("batch.no_wait", "0", "submit the batch jobs and return (--no-wait)"),
    S_SIZE_GE("batch.inline_max_bytes", "20000000", 1,
              "larger jobs go as an uploaded file instead of inline"),
    S_INT_GE("batch.max_requests", "10000", 1, "requests a job"),
    S_INT_GE("batch.max_image_requests", "25", 1, "picture requests a job"),
    S_INT_GE("batch.max_speech_requests", "200", 1, "speech requests a job"),
    S_SIZE_GE("batch.upload_chunk_bytes", "8388608", 1, "chunks of a job file's upload"),
    S_MS_GE("batch.poll_first_ms", "5000", 1, "first wait before a job is polled"),
    S_MS_GE("batch.poll_max_ms", "120000", 1, "longest wait between polls"),
    S_NUM_GE("batch.poll_factor", "1.5", 1, "growth of the wait after each poll"),
    /* offline details and dictionaries */
    S_PATH("cache_dir", NULL, NULL,
           "caches (default: $XDG_CACHE_HOME/wordbank, else ~/.cache/wordbank)"),
    S_PATH("edict_path", "/usr/share/edict/edict", NULL, "the EDICT dictionary"),
    S_PATH("mecab_dicdir", NULL, NULL, "MeCab's dictionary (default: MeCab's own)"),
    S_PATH("pitch_dicdir", NULL, NULL, "a dictionary with pitch accents (default: looked for)"),
    /* Anki */
    S_URL("anki_url", "http://127.0.0.1:8765", "WORDBANK_ANKI_URL", "AnkiConnect (--anki-url)"),
    S_SECRET("anki_key", "AnkiConnect's API key: WORDBANK_ANKI_KEY or .env"),
};

#define N_ROWS (sizeof table / sizeof table[0])

size_t core_settings_count(void)
{
    return N_ROWS;
}

const struct core_setting *core_setting_at(size_t i)
{
    return i < N_ROWS ? &table[i] : NULL;
}

/* name fits "head<x>tail": starts with head, ends with tail, something between. */
static int fits(const char *pattern, const char *name)
{
    const char *lt = strchr(pattern, '<'), *gt = lt ? strchr(lt, '>') : NULL;
    size_t head, tail, n = strlen(name);
    if (!gt)
        return 0;
    head = (size_t)(lt - pattern);
    tail = strlen(gt + 1);
    return n > head + tail && !strncmp(name, pattern, head) && !strcmp(name + n - tail, gt + 1);
}

const struct core_setting *core_setting_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < N_ROWS; i++)
        if (!table[i].pub.pattern && !strcmp(table[i].pub.name, name))
            return &table[i];
    for (size_t i = 0; i < N_ROWS; i++)
        if (table[i].pub.pattern && fits(table[i].pub.name, name))
            return &table[i];
    return NULL;
}

size_t wb_settings_count(void)
{
    return N_ROWS;
}

const struct wb_setting *wb_settings_at(size_t i)
{
    return i < N_ROWS ? &table[i].pub : NULL;
}

const struct wb_setting *wb_settings_find(const char *name)
{
    const struct core_setting *s = core_setting_find(name);
    return s ? &s->pub : NULL;
}

/* A number with an optional unit suffix: mult[i] for unit[i]. */
static int parse_scaled(const char *v, const char *const *unit, const double *mult, double *out)
{
    char *end;
    double d;
    if (!v || !*v)
        return -1;
    errno = 0;
    d = strtod(v, &end);
    if (errno || end == v || d != d || d > HUGE_MAX || d < -HUGE_MAX)
        return -1;
    if (!*end) {
        *out = d;
        return 0;
    }
    for (size_t i = 0; unit && unit[i]; i++) {
        if (!strcasecmp(end, unit[i])) {
            *out = d * mult[i];
            return 0;
        }
    }
    return -1;
}

static const char *const size_units[] = { "K", "M", "G", NULL };
static const double size_mult[] = { 1024.0, 1048576.0, 1073741824.0 };
static const char *const ms_units[] = { "ms", "s", "min", "h", NULL };
static const double ms_mult[] = { 1, 1000, 60000, 3600000 };

static int parse_bool(const char *v)
{
    if (!strcmp(v, "1") || !strcasecmp(v, "true") || !strcasecmp(v, "yes") || !strcasecmp(v, "on"))
        return 1;
    if (!strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no") || !strcasecmp(v, "off"))
        return 0;
    return -1;
}

/* A whole decimal number, all of v: 0, or -1. */
static int parse_whole(const char *v, long long *out)
{
    char *end;
    if (!v || !*v)
        return -1;
    errno = 0;
    *out = strtoll(v, &end, 10);
    return errno || *end ? -1 : 0;
}

int core_setting_parse_double(const struct core_setting *s, const char *v, double *out)
{
    enum core_setting_type t = s ? s->type : CORE_T_NUMBER;
    int b;
    switch (t) {
    case CORE_T_BOOL:
        if (!v || (b = parse_bool(v)) < 0)
            return -1;
        *out = b;
        return 0;
    case CORE_T_SIZE:
        return parse_scaled(v, size_units, size_mult, out);
    case CORE_T_MS:
        return parse_scaled(v, ms_units, ms_mult, out);
    case CORE_T_INT: {
        long long n;
        if (parse_whole(v, &n))
            return -1;
        *out = (double)n;
        return 0;
    }
    default:
        return parse_scaled(v, NULL, NULL, out);
    }
}

int core_setting_parse_int(const struct core_setting *s, const char *v, int64_t *out)
{
    double d;
    if (s && s->type == CORE_T_INT) { /* exact, beyond a double's 53 bits */
        long long n;
        if (parse_whole(v, &n))
            return -1;
        *out = n;
        return 0;
    }
    if (core_setting_parse_double(s, v, &d) || d < -HUGE_MAX || d > HUGE_MAX)
        return -1;
    *out = (int64_t)(d < 0 ? d - 0.5 : d + 0.5);
    return 0;
}

/* "gemini, openai, offline" holds v as one of its items. */
static int enum_has(const char *list, const char *v)
{
    size_t n = strlen(v);
    for (const char *p = list; *p;) {
        size_t k = strcspn(p, ",");
        if (k == n && !strncmp(p, v, n) && n)
            return 1;
        p += k;
        while (*p == ',' || *p == ' ')
            p++;
    }
    return 0;
}

/* What a value must be, for the message: "a whole number from 1 to 10000". */
static void describe(const struct core_setting *s, char *out, size_t len)
{
    const char *what = "";
    const char *r = s->pub.range;
    int at_least = !strncmp(r, "at least", 8);
    switch (s->type) {
    case CORE_T_INT:
        what = "a whole number";
        break;
    case CORE_T_SIZE:
        what = "a size in bytes (K, M or G suffix allowed)";
        break;
    case CORE_T_MS:
        what = "a duration in milliseconds (ms, s, min or h suffix allowed)";
        break;
    case CORE_T_NUMBER:
        what = "a number";
        break;
    case CORE_T_BOOL:
        snprintf(out, len, "true or false (1/0, yes/no, on/off)");
        return;
    case CORE_T_ENUM:
        snprintf(out, len, "one of %s", r);
        return;
    default:
        snprintf(out, len, "%s", s->pub.type);
        return;
    }
    snprintf(out, len, "%s %s%s", what, at_least ? "of " : "from ", r);
}

int core_setting_check(const struct core_setting *s, const char *name, const char *value,
                       const char *origin, struct wb_error *err)
{
    char want[160];
    const char *sep = origin && *origin ? ": " : "";
    double d;
    int64_t n;
    if (!s || !value)
        return 0;
    if (!*value && !s->pub.dflt && s->type != CORE_T_LANG)
        return 0; /* empty: unset, for a setting whose default is computed */
    switch (s->type) {
    case CORE_T_STRING:
    case CORE_T_PATH:
    case CORE_T_URL:
    case CORE_T_SECRET:
        return 0;
    case CORE_T_LANG: {
        struct wb_error why = { 0 };
        if (!wb_language_check(value, &why))
            return 0;
        return wb_error_set(err, WB_EINVAL, "%s%s%s = '%.40s': %s", origin ? origin : "", sep, name,
                            value, why.msg);
    }
    case CORE_T_ENUM:
        if (enum_has(s->pub.range, value))
            return 0;
        break;
    case CORE_T_BOOL:
        if (parse_bool(value) >= 0)
            return 0;
        break;
    case CORE_T_INT:
        if (!core_setting_parse_int(s, value, &n) && (double)n >= s->min && (double)n <= s->max)
            return 0;
        break;
    case CORE_T_SIZE:
    case CORE_T_MS:
        /* whole bytes, whole milliseconds */
        if (!core_setting_parse_double(s, value, &d) && d == (double)(int64_t)d && d >= s->min &&
            d <= s->max)
            return 0;
        break;
    case CORE_T_NUMBER:
        if (!core_setting_parse_double(s, value, &d) && d >= s->min && d <= s->max)
            return 0;
        break;
    }
    describe(s, want, sizeof want);
    return wb_error_set(err, WB_EINVAL, "%s%s%s = '%.40s': it must be %s", origin ? origin : "",
                        sep, name, value, want);
}

int wb_config_check(const char *name, const char *value, const char *origin, struct wb_error *err)
{
    return core_setting_check(core_setting_find(name), name, value, origin, err);
}
