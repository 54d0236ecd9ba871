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

static int cmd_help(struct cli *c);

/* name, handler, the synopsis line of `wordbank help` (as in the README's
 * "Command line"), and the options `wordbank help NAME` adds. */
static const struct command {
    const char *name;
    int (*run)(struct cli *c);
    const char *usage;
    const char *options;
} commands[] = {
    { "add", cmd_add, "add WORD TRANSLATION [CONTEXT]     generate one entry (all missing stages)",
      "  The word, translation and context must be valid UTF-8 without control characters.\n"
      "  --provider, --details-provider, --image-provider, --audio-provider NAME\n"
      "  --no-image --no-audio --cache-only --force[=details,image,audio]\n"
      "  --text-model --tts-model --image-model --voice --speech-text --audio-format --image-size\n"
      "  --json                the run's summary as one JSON object (docs/json.md)\n" },
    { "propagate", cmd_propagate,
      "propagate [FILE...|-]              generate every entry listed: lines \"- word: translation (context)\"\n"
      "                                     or \"word<TAB>translation<TAB>context\", or a lesson's\n"
      "                                     <wordbank> entries and <dialogue> clips",
      "  FILE is read from stdin when it is - or missing; bad lines are reported as FILE:LINE.\n"
      "  Several files (word lists or lessons) make one run.\n"
      "  A failed run writes its retryable failures to DB.failed.txt (a list propagate reads).\n"
      "  --provider, --details-provider, --image-provider, --audio-provider NAME\n"
      "  --no-image --no-audio --cache-only --force[=details,image,audio] -j N\n"
      "  --json                the run's summary as one JSON object, unreadable lines included\n" },
    { "build", cmd_build,
      "build SRC_DIR -o OUT_DIR           every Markdown file: <wordbank>/<dialogue> blocks -> HTML; media copied",
      "  --cache-only          only what the word bank already has (no API calls)\n"
      "  --base-url URL        prefix of the pages' asset and media links\n"
      "  --json                the run's summary as one JSON object\n" },
    { "render", cmd_render,
      "render FILE [-o OUT]               one Markdown file, blocks -> HTML (a filter when FILE is -)\n"
      "  render FILE... -o DIR              several files, each as DIR/NAME.html\n"
      "  render --manifest LIST -o DIR      \"SOURCE<TAB>PAGE\" lines, PAGE below DIR (one call for a site)",
      "  -o OUT                the HTML file (default: stdout) or, for several, the site folder\n"
      "  --manifest LIST       SOURCE<TAB>PAGE lines: every page in one call\n"
      "  --cache-only          only what the word bank already has (no API calls)\n"
      "  --base-url URL        prefix of the page's asset and media links\n"
      "  --media-url URL       media served there (none copied); else copied into media/ beside\n"
      "  --inline-assets       the CSS and JS inside the page (else wordbank-assets/ beside it)\n" },
    { "preview", cmd_preview,
      "preview -o DIR                     one page with every card in the word bank, with a search box",
      "  -o DIR                the folder of index.html and the media it uses\n"
      "  --base-url URL        prefix of the page's asset and media links\n"
      "  --json                {\"cards\", \"page\"}\n" },
    { "list", cmd_list, "list                               every entry",
      "  --lang CODE           only the entries of that language\n"
      "  --json                one JSON array of entries (docs/json.md)\n" },
    { "show", cmd_show, "show WORD [TRANSLATION]            one entry in full",
      "  --lang CODE           only the entries of that language\n"
      "  --json                one entry object (an array when the word has several)\n" },
    { "rm", cmd_rm, "rm WORD TRANSLATION                remove an entry",
      "  --lang CODE           the entry's language (default ja)\n"
      "  --json                {\"removed\": {\"word\", \"translation\", \"language\"}}\n" },
    { "tts", cmd_tts,
      "tts TEXT -o FILE                   speech for any text (.mp3, .m4a, .opus or .wav)",
      "  -o FILE               the format comes from its extension (or --audio-format)\n"
      "  --provider, --audio-provider NAME   --tts-model ID --voice NAME\n"
      "  --json                {\"output\", \"format\", \"bytes\"}\n" },
    { "dialogue", cmd_dialogue,
      "dialogue FILE -o FILE              two-speaker dialogue (\"Name: line\" per line)",
      "  -o FILE               .mp3, .m4a, .opus or .wav (or --audio-format)\n"
      "  --voice NAME --voice2 NAME   the first and second speaker's voices\n"
      "  --json                {\"output\", \"format\", \"bytes\"}\n" },
    { "import", cmd_import,
      "import FILE.jsonl [--media-from DIR]  the original wordbank.jsonl format, with its pictures and clips",
      "  --media-from DIR      where the original's content/ media are (default: beside the file's folder)\n"
      "  --lang CODE           language of lines without language_code (default ja)\n"
      "  --json                {\"imported\", \"updated\", \"failed\", \"media_copied\", ..., \"errors\"}\n" },
    { "export", cmd_export,
      "export [--format jsonl|csv|apkg] [-o FILE] [--deck NAME]   the word bank (default jsonl on stdout)",
      "  --format jsonl|csv|apkg   lossless JSONL (key order, media beside FILE), CSV (formulas\n"
      "                        neutralised), an Anki deck (two cards a note)\n"
      "  -o FILE               the output (an Anki deck needs one; - is stdout)\n"
      "  --deck NAME           the Anki deck (\"Japanese::Lesson 1\" makes a subdeck)\n"
      "  --json                {\"format\", \"output\", \"entries\"} (needs -o FILE)\n" },
    { "anki", cmd_anki,
      "anki push --deck NAME              send the cards into a running Anki (AnkiConnect): new notes added,\n"
      "                                     changed ones updated, never duplicated",
      "  --deck NAME           the deck (created when missing; A::B a subdeck)\n"
      "  --anki-url URL        AnkiConnect's address (default http://127.0.0.1:8765, env WORDBANK_ANKI_URL)\n"
      "  An API key set in AnkiConnect goes in WORDBANK_ANKI_KEY (environment or .env).\n"
      "  --json                {\"added\", \"updated\", \"unchanged\", ...}\n" },
    { "extract", cmd_extract,
      "extract FILE                       vocabulary candidates from Japanese text (TSV for propagate)",
      "  Prints word<TAB>gloss<TAB># reading; part of speech; count, ready for propagate.\n"
      "  --json                [{\"word\", \"reading\", \"pos\", \"gloss\", \"count\"}]\n" },
    { "batch", cmd_batch,
      "batch status|cancel [JOB]          the Gemini batch jobs of propagate --batch",
      "  status                the known jobs, their states and counts (--json: one array)\n"
      "  cancel [JOB]          cancel one job, or every unfinished one\n"
      "  propagate --batch [--no-wait] FILE   sends the missing stages as batch jobs (half price,\n"
      "                        results within 24 h); --no-wait submits and returns\n" },
    { "doctor", cmd_doctor,
      "doctor                             configuration, key (masked), models reachable",
      "  Exit 3 when something generation needs is missing; advisory checks only warn.\n"
      "  --json                {\"ok\", \"settings\", \"checks\"} (docs/json.md)\n" },
    { "help", cmd_help,
      "help [COMMAND|settings]            this text, one command's options, or every setting",
      "  COMMAND               its usage and options (the same as wordbank COMMAND --help)\n"
      "  settings              every setting: name, type, default, range, description\n"
      "  --json                with settings: one JSON array of them (docs/json.md)\n" },
};

static const char global_usage[] =
    "wordbank [global options] COMMAND [ARGS]\n"
    "wordbank help [COMMAND] | wordbank COMMAND --help | wordbank --version\n"
    "\n"
    "global:  --db PATH            word bank database (env WORDBANK_DB; default ./wordbank.db)\n"
    "         --media DIR          media directory (env WORDBANK_MEDIA; default: \"media\" beside the db)\n"
    "         --config FILE        config file (default ./wordbank.conf if present)\n"
    "         --provider NAME      gemini | openai | offline (default: gemini when a key is found, else offline)\n"
    "         --lang CODE          language of the words (BCP 47, default ja)\n"
    "         -j, --jobs N         entries in flight, the window for every model (1 to 10000, default 16)\n"
    "         --progress WHEN      auto | always | never (auto: a live display only on a terminal)\n"
    "         --json               one JSON value on stdout (shapes in docs/json.md)\n"
    "         -v / -q              more / less logging on stderr (-v: retries and 429 pauses; -vv: debug)\n"
    "         --version            the version\n"
    "\n"
    "commands:\n";

static const char global_tail[] =
    "\n"
    "models:         --text-model ID --tts-model ID --image-model ID --image-api gemini|imagen\n"
    "                --voice NAME --voice2 NAME (second dialogue voice) --api-version VERSION\n"
    "stage switches: --no-image --no-audio --cache-only (never call an API) --force[=details,image,audio]\n"
    "batch mode:     propagate --batch [--no-wait] (Gemini Batch: half price, results within 24 h)\n"
    "providers:      --details-provider, --image-provider, --audio-provider gemini|openai|offline\n"
    "                --speech-text word|example|both (what the audio says)\n"
    "media:          --audio-format mp3|m4a|opus (default mp3) --image-size PX --no-audio-trim\n"
    "pages:          --base-url URL (render, build, preview: prefix of asset and media links)\n"
    "                --media-url URL (media served there, none copied) --inline-assets (CSS/JS inside)\n"
    "exit codes:     0 all done · 1 some entries failed (they are listed) · 2 usage · 3 configuration/environment\n"
    "                · 130 interrupted (Ctrl-C; finished work is kept)\n";

/* Every message to the user passes here: one prefix, secrets redacted. */
static void say(const char *prefix, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    wb_secret_redact(msg, sizeof msg);
    fprintf(stderr, "wordbank: %s%s\n", prefix, msg);
    if (!*prefix)
        cli_remember_error(msg);
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

static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
        if (!strcmp(commands[i].name, name))
            return &commands[i];
    }
    return NULL;
}

/* One command's usage and options. */
static void command_help(FILE *f, const struct command *cmd)
{
    const char *desc = strstr(cmd->usage, "  ");
    int syn = desc ? (int)(desc - cmd->usage) : (int)strlen(cmd->usage);
    fprintf(f, "usage: wordbank [global options] %.*s\n", syn, cmd->usage);
    if (desc) {
        /* The description, its continuation lines joined. */
        fputs("  ", f);
        for (const char *p = desc; *p; p++) {
            if (*p == ' ' && (p[1] == ' ' || p[1] == '\n' || p[-1] == ' ' || p[-1] == '\n'))
                continue;
            fputc(*p == '\n' ? ' ' : *p, f);
        }
        fputc('\n', f);
    }
    fputs(cmd->options, f);
    if (strcmp(cmd->name, "help"))
        fprintf(f, "(wordbank help: the global options)\n");
}

int cli_usage(const char *command)
{
    const struct command *cmd = command ? find_command(command) : NULL;
    char line[256];
    if (cmd) {
        command_help(stderr, cmd);
        snprintf(line, sizeof line, "usage: wordbank %.*s", (int)strcspn(cmd->usage, " "),
                 cmd->usage);
        cli_remember_error(line);
    }
    return EXIT_USAGE;
}

static void full_usage(FILE *f)
{
    fputs(global_usage, f);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %s\n", commands[i].usage);
    fputs(global_tail, f);
}

/* `wordbank help settings`: the library's settings table, as text or JSON. */
static int help_settings(const struct cli *c)
{
    struct wb_buf j;
    int rc = 0;
    if (!c->json) {
        char line[512];
        printf("%-30s %-9s %-26s %s\n", "SETTING", "TYPE", "DEFAULT", "RANGE");
        for (size_t i = 0; i < wb_settings_count(); i++) {
            const struct wb_setting *s = wb_settings_at(i);
            int n = snprintf(line, sizeof line, "%-30s %-9s %-26s %s", s->name, s->type,
                             s->dflt ? s->dflt : "-", s->range);
            while (n > 0 && n < (int)sizeof line && line[n - 1] == ' ')
                line[--n] = '\0';
            printf("%s\n    %s\n", line, s->description);
        }
        printf("\nSet them in the config file (name = value, or [prefix] sections), as\n"
               "WORDBANK_<NAME> in the environment (dots as _), or with their flags.\n"
               "Sizes take K, M or G; durations ms, s, min or h. <model> is a model id.\n");
        return EXIT_OK;
    }
    wb_buf_init(&j, 0);
    rc |= wb_buf_appends(&j, "[");
    for (size_t i = 0; i < wb_settings_count(); i++) {
        const struct wb_setting *s = wb_settings_at(i);
        rc |= wb_buf_appends(&j, i ? ",\n {\"name\": " : "{\"name\": ");
        rc |= wb_json_quote(s->name, &j);
        rc |= wb_buf_appends(&j, ", \"type\": ");
        rc |= wb_json_quote(s->type, &j);
        rc |= wb_buf_appends(&j, ", \"default\": ");
        rc |= s->dflt ? wb_json_quote(s->dflt, &j) : wb_buf_appends(&j, "null");
        rc |= wb_buf_appends(&j, ", \"range\": ");
        rc |= wb_json_quote(s->range, &j);
        rc |= wb_buf_appendf(&j,
                             ", \"pattern\": %s, \"description\": ", s->pattern ? "true" : "false");
        rc |= wb_json_quote(s->description, &j);
        rc |= wb_buf_appends(&j, "}");
    }
    rc |= wb_buf_appends(&j, "]\n");
    if (!rc)
        fwrite(j.data, 1, j.len, stdout);
    wb_buf_release(&j);
    if (rc)
        cli_error("out of memory");
    return rc ? EXIT_ENV : EXIT_OK;
}

static int cmd_help(struct cli *c)
{
    const struct command *cmd;
    if (c->argc == 0) {
        full_usage(stdout);
        return EXIT_OK;
    }
    if (c->argc == 1 && !strcmp(c->argv[0], "settings"))
        return help_settings(c);
    if (c->argc > 1 || !(cmd = find_command(c->argv[0]))) {
        cli_error("unknown command '%s' (wordbank help lists them)", c->argv[0]);
        return EXIT_USAGE;
    }
    command_help(stdout, cmd);
    return EXIT_OK;
}

static char db_dir_media[PATH_MAX];

/* Start loading, on the library's own thread, the libraries this command is
 * about to need (wb_preload), so the load overlaps opening the bank and
 * reading the input instead of delaying the first request: libcurl when a
 * stage it runs (stages: WB_STAGE_BIT()s; 0: the network in any case) has a
 * provider other than offline, the scaler (if what asks for it) when it may
 * make pictures. Nothing with --cache-only. A wrong guess costs a load in the
 * background, never a failure: the library loads what it needs on first use
 * anyway. The commands ask for the network only: loaded right after libcurl,
 * the scaler held the loader's lock while the run started its threads and
 * delayed the first request by ~10 ms (a window run's first request: 58 ms
 * from exec with the network alone, 67 with both, 70 before any preload);
 * the first picture, a few hundred ms later, loads it on a pool thread. */
void cli_preload(const struct cli *c, unsigned stages, unsigned what)
{
    int remote = stages == 0;
    if (c->cache_only)
        return;
    if (c->no_image)
        stages &= ~WB_STAGE_BIT(WB_STAGE_IMAGE);
    if (c->no_audio)
        stages &= ~WB_STAGE_BIT(WB_STAGE_AUDIO);
    for (int s = 0; s < WB_STAGE_COUNT; s++)
        if ((stages & WB_STAGE_BIT(s)) &&
            strcmp(wb_provider_for(c->cfg, (enum wb_stage)s), "offline"))
            remote = 1;
    if (!remote)
        what &= ~WB_PRELOAD_NETWORK;
    if (!(stages & WB_STAGE_BIT(WB_STAGE_IMAGE)))
        what &= ~WB_PRELOAD_MEDIA;
    if (what)
        wb_preload(what);
}

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
    OPT_DB = 256,
    OPT_MEDIA,
    OPT_CONFIG,
    OPT_PROVIDER,
    OPT_LANG,
    OPT_PROGRESS,
    OPT_JSON,
    OPT_TEXT_MODEL,
    OPT_TTS_MODEL,
    OPT_IMAGE_MODEL,
    OPT_VOICE,
    OPT_VOICE2,
    OPT_IMAGE_API,
    OPT_API_VERSION,
    OPT_NO_IMAGE,
    OPT_NO_AUDIO,
    OPT_CACHE_ONLY,
    OPT_FORCE,
    OPT_AUDIO_FORMAT,
    OPT_IMAGE_SIZE,
    OPT_NO_AUDIO_TRIM,
    OPT_FORMAT,
    OPT_BASE_URL,
    OPT_MEDIA_FROM,
    OPT_HELP,
    OPT_VERSION,
    OPT_DETAILS_PROVIDER,
    OPT_IMAGE_PROVIDER,
    OPT_AUDIO_PROVIDER,
    OPT_SPEECH_TEXT,
    OPT_MEDIA_URL,
    OPT_MANIFEST,
    OPT_INLINE_ASSETS,
    OPT_DECK,
    OPT_ANKI_URL,
    OPT_BATCH,
    OPT_NO_WAIT,
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
    { "media-url", required_argument, 0, OPT_MEDIA_URL },
    { "manifest", required_argument, 0, OPT_MANIFEST },
    { "inline-assets", no_argument, 0, OPT_INLINE_ASSETS },
    { "media-from", required_argument, 0, OPT_MEDIA_FROM },
    { "details-provider", required_argument, 0, OPT_DETAILS_PROVIDER },
    { "image-provider", required_argument, 0, OPT_IMAGE_PROVIDER },
    { "audio-provider", required_argument, 0, OPT_AUDIO_PROVIDER },
    { "speech-text", required_argument, 0, OPT_SPEECH_TEXT },
    { "deck", required_argument, 0, OPT_DECK },
    { "anki-url", required_argument, 0, OPT_ANKI_URL },
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
    { OPT_ANKI_URL, "anki_url" },
};

/* What only the command checks: the rest (providers, formats, -j, --lang,
 * --image-size ...) the settings table checks as each value is set. */
static int validate(struct cli *c)
{
    if (strcmp(c->progress, "auto") && strcmp(c->progress, "always") &&
        strcmp(c->progress, "never")) {
        cli_error("--progress takes auto, always or never");
        return EXIT_USAGE;
    }
    return 0;
}

static char bad_flag[WB_ERRMSG_MAX];

/* A setting from its flag (--jobs): checked by the library, which names the
 * flag, the value and what it may be. */
static int set_flag(struct cli *c, int opt, const char *setting, const char *arg)
{
    struct wb_error err = { 0 };
    char flag[64] = "-j";
    int rc;
    for (size_t i = 0; long_opts[i].name; i++) {
        if (long_opts[i].val == opt) {
            snprintf(flag, sizeof flag, "--%s", long_opts[i].name);
            break;
        }
    }
    rc = wb_config_set_from(c->cfg, setting, arg, WB_SRC_FLAG, flag, &err);
    if (rc == WB_EINVAL) { /* said once every option is read (--json may follow) */
        if (!bad_flag[0])
            snprintf(bad_flag, sizeof bad_flag, "%s", wb_error_text(&err));
        return 0;
    }
    return rc ? EXIT_ENV : 0;
}

/* The provider when none was chosen: gemini with a key, else offline. */
static void default_provider(struct cli *c)
{
    if (wb_config_get(c->cfg, "provider"))
        return;
    wb_config_set(c->cfg, "provider", wb_provider_for(c->cfg, WB_STAGE_COUNT), WB_SRC_DEFAULT);
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
    case OPT_MEDIA_FROM:
        c->media_from = arg;
        break;
    case OPT_DECK:
        c->deck = arg;
        return 0;
    case OPT_BASE_URL:
        c->base_url = arg;
        return 0;
    case OPT_MEDIA_URL:
        c->media_url = arg;
        return 0;
    case OPT_MANIFEST:
        c->manifest = arg;
        return 0;
    case OPT_INLINE_ASSETS:
        c->inline_assets = 1;
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
            return set_flag(c, opt, setting_opts[i].setting, arg);
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
        return rc == WB_EINVAL ? EXIT_USAGE : EXIT_ENV; /* a bad value is a usage error */
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct cli c = { 0 };
    const char *config_file = NULL;
    const struct command *cmd = NULL;
    int opt, rc = EXIT_USAGE, help = 0, idx;

    cli_tune_malloc();
    c.progress = "auto";
    if (wb_config_new(&c.cfg)) {
        cli_error("out of memory");
        return EXIT_ENV;
    }
    opterr = 0;
    /* GNU getopt permutes: options may stand before or after the command. */
    while ((opt = getopt_long(argc, argv, ":j:vqo:h", long_opts, &idx)) != -1) {
        if (opt == OPT_VERSION) {
            printf("wordbank %s\n", wb_version());
            c.json_done = 1;
            rc = EXIT_OK;
            goto out;
        }
        if ((rc = apply_option(&c, opt, optarg, argv[optind - 1], &config_file, &help)))
            goto usage;
    }
    if (optind < argc) {
        cmd = find_command(argv[optind]);
        if (!cmd) {
            cli_error("unknown command '%s'", argv[optind]);
            rc = EXIT_USAGE;
            goto usage;
        }
        c.argc = argc - optind - 1;
        c.argv = argv + optind + 1;
    }
    if (help || (cmd && cmd->run == cmd_help)) {
        c.json_done = 1; /* help is text, --json or not */
        if (cmd && cmd->run == cmd_help)
            rc = cmd_help(&c);
        else if (cmd)
            command_help(stdout, cmd), rc = EXIT_OK;
        else
            full_usage(stdout), rc = EXIT_OK;
        goto out;
    }
    if (!cmd) {
        rc = EXIT_USAGE;
        goto usage;
    }
    /* Logging first: the configuration's own warnings go through it. */
    wb_log_set_handler(log_to_stderr, NULL,
                       c.verbosity < 0    ? WB_LOG_ERROR
                       : c.verbosity == 0 ? WB_LOG_WARN
                       : c.verbosity == 1 ? WB_LOG_INFO
                       : c.verbosity == 2 ? WB_LOG_DEBUG
                                          : WB_LOG_TRACE);
    if (bad_flag[0]) {
        cli_error("%s", bad_flag); /* what is wrong, not the whole usage */
        rc = EXIT_USAGE;
        goto out;
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
    rc = cmd->run(&c);
    /* A command done before its preload: no exit handler may run under the
     * load (OpenSSL's, registered by it). cli_end runs none, so the command
     * waits only when it will exit normally. */
    if (cli_frees_at_exit())
        wb_preload_wait();
    goto out;
usage:
    if (rc == EXIT_USAGE) {
        if (cmd)
            cli_usage(cmd->name);
        else
            full_usage(stderr);
    }
out:
    cli_json_fallback(&c, rc);
    if (cli_frees_at_exit())
        wb_config_free(c.cfg);
    return cli_end(rc);
}
