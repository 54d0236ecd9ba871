/* Entry point of the wordbank command: options, configuration in its order of
 * precedence (flags > environment > config file > .env > defaults), logging on
 * stderr, and dispatch to one function per subcommand. */
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct command {
    const char *name;
    int (*run)(struct cli *c);
    const char *usage;
} commands[] = {
    { "add", cmd_add, "add WORD TRANSLATION [CONTEXT]     generate one entry (all missing stages)" },
    { "propagate", cmd_propagate, "propagate [FILE|-]                 generate every entry listed (\"- word: translation (context)\" or TSV)" },
    { "build", cmd_build, "build SRC_DIR -o OUT_DIR           every Markdown file: <wordbank>/<dialogue> blocks -> HTML" },
    { "render", cmd_render, "render FILE [-o OUT]               one Markdown file (a filter when FILE is -)" },
    { "preview", cmd_preview, "preview -o DIR                     every card of the word bank on one page, with search" },
    { "list", cmd_list, "list                               every entry (--json: one JSON array)" },
    { "show", cmd_show, "show WORD [TRANSLATION]            one entry in full" },
    { "rm", cmd_rm, "rm WORD TRANSLATION                remove an entry" },
    { "import", cmd_import, "import FILE.jsonl                  the original wordbank.jsonl format" },
    { "export", cmd_export, "export --format jsonl|csv -o FILE  write the word bank out (default jsonl to stdout)" },
    { "tts", cmd_tts, "tts TEXT -o FILE                   speech for any text (format from the extension)" },
    { "dialogue", cmd_dialogue, "dialogue FILE -o FILE              two-speaker dialogue (\"Name: line\" per line)" },
    { "extract", cmd_extract, "extract FILE                       vocabulary candidates from Japanese text (TSV or --json)" },
    { "batch", cmd_batch, "batch status|cancel [JOB]          Gemini batch jobs of propagate --batch (status --json)" },
    { "doctor", cmd_doctor, "doctor                             configuration, key (masked), models" },
};

static const char global_usage[] =
    "usage: wordbank [global options] COMMAND [ARGS]\n"
    "\n"
    "global options:\n"
    "  --db PATH            word bank database (env WORDBANK_DB; default ./wordbank.db)\n"
    "  --media DIR          media directory (env WORDBANK_MEDIA; default: media beside the db)\n"
    "  --config FILE        config file (default ./wordbank.conf if present)\n"
    "  --provider NAME      gemini | openai | offline (default: gemini when a key is found)\n"
    "  --lang CODE          language of the words (BCP 47, default ja)\n"
    "  -j, --jobs N         entries in flight (default 16)\n"
    "  --progress WHEN      auto | always | never\n"
    "  --json               machine-readable output on stdout\n"
    "  -v, -q               more / less logging on stderr\n"
    "  --text-model ID --tts-model ID --image-model ID --voice NAME --image-api gemini|imagen\n"
    "  --details-provider, --image-provider, --audio-provider NAME   a provider per stage\n"
    "  --speech-text word|example|both   what the audio says (default word)\n"
    "stage switches: --no-image --no-audio --cache-only --force[=details,image,audio]\n"
    "batch mode: propagate --batch [--no-wait] (Gemini Batch: half price, results within 24 h)\n"
    "media: --audio-format mp3|m4a|opus --image-size PX --no-audio-trim\n"
    "\n"
    "commands:\n";

/* Every message to the user passes here: one prefix, secrets redacted. */
static void say(const char *prefix, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    wb_secret_redact(msg, sizeof msg);
    fprintf(stderr, "wordbank: %s%s\n", prefix, msg);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("", fmt, ap);
    va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    say("warning: ", fmt, ap);
    va_end(ap);
}

int cli_exit_for(int code)
{
    switch (code) {
    case 0:
        return EXIT_OK;
    case WB_EINVAL:
    case WB_EPARSE:
        return EXIT_SOME_FAILED;
    case WB_ECANCELED:
        return EXIT_INTERRUPTED;
    case WB_ECONFIG:
    case WB_ECORRUPT:
    case WB_ELOCKED:
    case WB_EIO:
    case WB_ENOSPC:
    case WB_EAUTH:
    case WB_EMODEL:
    case WB_ENOTFOUND:
        return EXIT_ENV;
    default:
        return EXIT_SOME_FAILED;
    }
}

int cli_usage(const char *command)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!command || !strcmp(commands[i].name, command))
            fprintf(stderr, "usage: wordbank %s\n", commands[i].usage);
    }
    return EXIT_USAGE;
}

static void full_usage(FILE *f)
{
    fputs(global_usage, f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %s\n", commands[i].usage);
}

static char db_dir_media[PATH_MAX];

const char *cli_db_path(const struct cli *c)
{
    return wb_config_get(c->cfg, "db");
}

const char *cli_media_dir(const struct cli *c)
{
    const char *m = wb_config_get(c->cfg, "media");
    char tmp[PATH_MAX];
    if (m && *m)
        return m;
    /* Default: "media" beside the database. */
    snprintf(tmp, sizeof tmp, "%s", cli_db_path(c));
    snprintf(db_dir_media, sizeof db_dir_media, "%s/media", dirname(tmp));
    return db_dir_media;
}

const char *cli_json_base(const struct cli *c)
{
    static char abs[PATH_MAX];
    const char *m = wb_config_get(c->cfg, "media");
    if (!m || !*m)
        return "media";
    if (m[0] == '/' || !realpath(m, abs))
        return m;
    return abs;
}

static void log_to_stderr(void *ud, enum wb_log_level level, const char *msg)
{
    static const char *const names[] = { "error", "warning", "info", "debug", "trace" };
    (void)ud;
    fprintf(stderr, "wordbank: %s: %s\n", names[level], msg);
}

enum {
    OPT_DB = 256, OPT_MEDIA, OPT_CONFIG, OPT_PROVIDER, OPT_LANG, OPT_PROGRESS, OPT_JSON,
    OPT_TEXT_MODEL, OPT_TTS_MODEL, OPT_IMAGE_MODEL, OPT_VOICE, OPT_VOICE2, OPT_IMAGE_API,
    OPT_API_VERSION, OPT_NO_IMAGE, OPT_NO_AUDIO, OPT_CACHE_ONLY, OPT_FORCE, OPT_AUDIO_FORMAT,
    OPT_IMAGE_SIZE, OPT_NO_AUDIO_TRIM, OPT_FORMAT, OPT_BASE_URL, OPT_HELP, OPT_VERSION,
    OPT_DETAILS_PROVIDER, OPT_IMAGE_PROVIDER, OPT_AUDIO_PROVIDER, OPT_SPEECH_TEXT,
    OPT_BATCH, OPT_NO_WAIT,
};

static const struct option long_opts[] = {
    { "db", required_argument, 0, OPT_DB },
    { "media", required_argument, 0, OPT_MEDIA },
    { "config", required_argument, 0, OPT_CONFIG },
    { "provider", required_argument, 0, OPT_PROVIDER },
    { "lang", required_argument, 0, OPT_LANG },
    { "jobs", required_argument, 0, 'j' },
    { "progress", required_argument, 0, OPT_PROGRESS },
    { "json", no_argument, 0, OPT_JSON },
    { "verbose", no_argument, 0, 'v' },
    { "quiet", no_argument, 0, 'q' },
    { "text-model", required_argument, 0, OPT_TEXT_MODEL },
    { "tts-model", required_argument, 0, OPT_TTS_MODEL },
    { "image-model", required_argument, 0, OPT_IMAGE_MODEL },
    { "voice", required_argument, 0, OPT_VOICE },
    { "voice2", required_argument, 0, OPT_VOICE2 },
    { "image-api", required_argument, 0, OPT_IMAGE_API },
    { "api-version", required_argument, 0, OPT_API_VERSION },
    { "no-image", no_argument, 0, OPT_NO_IMAGE },
    { "no-audio", no_argument, 0, OPT_NO_AUDIO },
    { "cache-only", no_argument, 0, OPT_CACHE_ONLY },
    { "force", optional_argument, 0, OPT_FORCE },
    { "audio-format", required_argument, 0, OPT_AUDIO_FORMAT },
    { "image-size", required_argument, 0, OPT_IMAGE_SIZE },
    { "no-audio-trim", no_argument, 0, OPT_NO_AUDIO_TRIM },
    { "output", required_argument, 0, 'o' },
    { "format", required_argument, 0, OPT_FORMAT },
    { "base-url", required_argument, 0, OPT_BASE_URL },
    { "details-provider", required_argument, 0, OPT_DETAILS_PROVIDER },
    { "image-provider", required_argument, 0, OPT_IMAGE_PROVIDER },
    { "audio-provider", required_argument, 0, OPT_AUDIO_PROVIDER },
    { "speech-text", required_argument, 0, OPT_SPEECH_TEXT },
    { "batch", no_argument, 0, OPT_BATCH },
    { "no-wait", no_argument, 0, OPT_NO_WAIT },
    { "help", no_argument, 0, OPT_HELP },
    { "version", no_argument, 0, OPT_VERSION },
    { 0, 0, 0, 0 },
};

/* Options that are simply settings, by option code. */
static const struct {
    int opt;
    const char *setting;
} setting_opts[] = {
    { OPT_DB, "db" },
    { OPT_MEDIA, "media" },
    { OPT_PROVIDER, "provider" },
    { OPT_LANG, "lang" },
    { 'j', "jobs" },
    { OPT_TEXT_MODEL, "text_model" },
    { OPT_TTS_MODEL, "tts_model" },
    { OPT_IMAGE_MODEL, "image_model" },
    { OPT_VOICE, "voice" },
    { OPT_VOICE2, "voice2" },
    { OPT_IMAGE_API, "image_api" },
    { OPT_API_VERSION, "api_version" },
    { OPT_AUDIO_FORMAT, "audio_format" },
    { OPT_IMAGE_SIZE, "image_size" },
    { OPT_DETAILS_PROVIDER, "details_provider" },
    { OPT_IMAGE_PROVIDER, "image_provider" },
    { OPT_AUDIO_PROVIDER, "audio_provider" },
    { OPT_SPEECH_TEXT, "speech_text" },
};

static int positive_int(const char *s)
{
    char *end;
    long v = strtol(s, &end, 10);
    return *s && !*end && v > 0 && v <= 1000000;
}

/* Checks values whose mistakes would otherwise surface late and far away. */
static int validate(struct cli *c)
{
    const char *p = wb_config_get(c->cfg, "provider");
    const char *af = wb_config_get(c->cfg, "audio_format");
    const char *ia = wb_config_get(c->cfg, "image_api");
    static const char *const provs[] = { "provider", "details_provider", "image_provider",
                                         "audio_provider" };
    for (int i = 0; i < 4; i++) {
        p = wb_config_get(c->cfg, provs[i]);
        if (p && *p && strcmp(p, "gemini") && strcmp(p, "openai") && strcmp(p, "offline")) {
            cli_error("unknown provider '%s' for %s (gemini, openai or offline)", p, provs[i]);
            return EXIT_USAGE;
        }
    }
    p = wb_config_get(c->cfg, "speech_text");
    if (p && strcmp(p, "word") && strcmp(p, "example") && strcmp(p, "both")) {
        cli_error("--speech-text takes word, example or both");
        return EXIT_USAGE;
    }
    if (af && strcmp(af, "mp3") && strcmp(af, "m4a") && strcmp(af, "opus")) {
        cli_error("unknown audio format '%s' (mp3, m4a or opus)", af);
        return EXIT_USAGE;
    }
    if (ia && strcmp(ia, "gemini") && strcmp(ia, "imagen")) {
        cli_error("unknown image API '%s' (gemini or imagen)", ia);
        return EXIT_USAGE;
    }
    if (!positive_int(wb_config_get(c->cfg, "jobs"))) {
        cli_error("--jobs must be a positive number, not '%s'", wb_config_get(c->cfg, "jobs"));
        return EXIT_USAGE;
    }
    if (!positive_int(wb_config_get(c->cfg, "image_size"))) {
        cli_error("--image-size must be a positive number of pixels");
        return EXIT_USAGE;
    }
    if (strcmp(c->progress, "auto") && strcmp(c->progress, "always") &&
        strcmp(c->progress, "never")) {
        cli_error("--progress takes auto, always or never");
        return EXIT_USAGE;
    }
    return 0;
}

/* The provider when none was chosen: gemini with a key, else offline. */
static void default_provider(struct cli *c)
{
    if (wb_config_get(c->cfg, "provider"))
        return;
    if (wb_config_get(c->cfg, "gemini_api_key"))
        wb_config_set(c->cfg, "provider", "gemini", WB_SRC_DEFAULT);
    else
        wb_config_set(c->cfg, "provider", "offline", WB_SRC_DEFAULT);
}

/* Applies one parsed option; returns 0, or an exit code to stop with. */
static int apply_option(struct cli *c, int opt, const char *arg, const char *raw,
                        const char **config_file, int *help)
{
    switch (opt) {
    case 'v':
        c->verbosity++;
        return 0;
    case 'q':
        c->verbosity--;
        return 0;
    case 'o':
        c->output = arg;
        return 0;
    case 'h':
    case OPT_HELP:
        *help = 1;
        return 0;
    case OPT_CONFIG:
        *config_file = arg;
        return 0;
    case OPT_PROGRESS:
        c->progress = arg;
        return 0;
    case OPT_JSON:
        c->json = 1;
        return 0;
    case OPT_NO_IMAGE:
        c->no_image = 1;
        return 0;
    case OPT_NO_AUDIO:
        c->no_audio = 1;
        return 0;
    case OPT_CACHE_ONLY:
        c->cache_only = 1;
        return 0;
    case OPT_NO_AUDIO_TRIM:
        c->no_audio_trim = 1;
        return wb_config_set(c->cfg, "audio_trim", "0", WB_SRC_FLAG) ? EXIT_ENV : 0;
    case OPT_FORCE:
        c->force = arg ? arg : "";
        return 0;
    case OPT_FORMAT:
        c->format = arg;
        return 0;
    case OPT_BASE_URL:
        c->base_url = arg;
        return 0;
    case OPT_BATCH: /* propagate --batch: Gemini Batch mode (cmd_batch.c) */
        return wb_config_set(c->cfg, "batch.enabled", "1", WB_SRC_FLAG) ? EXIT_ENV : 0;
    case OPT_NO_WAIT:
        return wb_config_set(c->cfg, "batch.no_wait", "1", WB_SRC_FLAG) ? EXIT_ENV : 0;
    case ':':
        cli_error("option '%s' needs a value", raw);
        return EXIT_USAGE;
    case '?':
        cli_error("unknown option '%s'", raw);
        return EXIT_USAGE;
    }
    for (size_t i = 0; i < sizeof setting_opts / sizeof setting_opts[0]; i++) {
        if (setting_opts[i].opt == opt)
            return wb_config_set(c->cfg, setting_opts[i].setting, arg, WB_SRC_FLAG) ? EXIT_ENV : 0;
    }
    return 0;
}

/* Environment, config file and .env below the flags already set. */
static int load_configuration(struct cli *c, const char *config_file)
{
    struct wb_error err = { 0 };
    int rc = wb_config_load_env(c->cfg, &err);
    if (!rc)
        rc = wb_config_load_file(c->cfg, config_file ? config_file : "wordbank.conf",
                                 config_file != NULL, &err);
    if (!rc)
        rc = wb_config_load_dotenv(c->cfg, ".env", &err);
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        return EXIT_ENV;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli c = { 0 };
    const char *config_file = NULL;
    const struct command *cmd = NULL;
    int opt, rc = EXIT_USAGE, help = 0, idx;

    c.progress = "auto";
    if (wb_config_new(&c.cfg)) {
        cli_error("out of memory");
        return EXIT_ENV;
    }
    opterr = 0;
    /* GNU getopt permutes: options may stand before or after the command. */
    while ((opt = getopt_long(argc, argv, ":j:vqo:h", long_opts, &idx)) != -1) {
        if (opt == OPT_VERSION) {
            printf("wordbank %s\n", WB_VERSION);
            rc = EXIT_OK;
            goto out;
        }
        if ((rc = apply_option(&c, opt, optarg, argv[optind - 1], &config_file, &help)))
            goto usage;
    }
    if (optind < argc) {
        for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
            if (!strcmp(commands[i].name, argv[optind]))
                cmd = &commands[i];
        }
        if (!cmd) {
            cli_error("unknown command '%s'", argv[optind]);
            rc = EXIT_USAGE;
            goto usage;
        }
        c.argc = argc - optind - 1;
        c.argv = argv + optind + 1;
    }
    if (help) {
        if (cmd)
            cli_usage(cmd->name);
        else
            full_usage(stdout);
        rc = EXIT_OK;
        goto out;
    }
    if (!cmd) {
        rc = EXIT_USAGE;
        goto usage;
    }
    if ((rc = load_configuration(&c, config_file)))
        goto out;
    default_provider(&c);
    if ((rc = validate(&c)))
        goto out;
    if (strcmp(cmd->name, "propagate") != 0 &&
        (wb_config_source_of(c.cfg, "batch.enabled") == WB_SRC_FLAG ||
         wb_config_source_of(c.cfg, "batch.no_wait") == WB_SRC_FLAG)) {
        cli_error("--batch and --no-wait work with propagate only");
        rc = EXIT_USAGE;
        goto out;
    }
    wb_log_set_handler(log_to_stderr, NULL,
                       c.verbosity < 0 ? WB_LOG_ERROR
                       : c.verbosity == 0 ? WB_LOG_WARN
                       : c.verbosity == 1 ? WB_LOG_INFO
                       : c.verbosity == 2 ? WB_LOG_DEBUG
                                          : WB_LOG_TRACE);
    rc = cmd->run(&c);
    goto out;
usage:
    if (rc == EXIT_USAGE) {
        if (cmd)
            cli_usage(cmd->name);
        else
            full_usage(stderr);
    }
out:
    wb_config_free(c.cfg);
    return rc;
}
