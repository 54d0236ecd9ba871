/* The wordbank command: shared state of one invocation, and one function per
 * subcommand (each in its own cmd_<name>.c). The CLI uses only the library's
 * public API (wordbank/wordbank.h) and is the only code that prints to the user.
 */
#ifndef WB_CLI_H
#define WB_CLI_H

#include <stdio.h>

#include "wordbank/wordbank.h"

/* Exit codes of the command-line contract. */
enum {
    EXIT_OK = 0,
    EXIT_SOME_FAILED = 1,
    EXIT_USAGE = 2,
    EXIT_ENV = 3,
    EXIT_INTERRUPTED = 130,
};

struct cli {
    struct wb_config *cfg;
    int json;             /* --json */
    int verbosity;        /* -v: +1, -q: -1 */
    const char *progress; /* auto | always | never */
    const char *output;   /* -o */
    const char *format;   /* --format */
    const char *deck;     /* --deck: the Anki deck (export --format apkg, anki push) */
    const char *force;    /* --force[=stages]: NULL, "" (all) or a list */
    int no_image, no_audio, cache_only, no_audio_trim;
    const char *base_url;   /* --base-url */
    const char *media_url;  /* --media-url: where media are served (render copies none) */
    const char *manifest;   /* render --manifest LIST */
    int inline_assets;      /* --inline-assets */
    const char *media_from; /* --media-from (import) */
    int json_done;          /* the one JSON value of --json is out */
    int argc;               /* positional arguments after the command */
    char **argv;
};

/* The live progress display of a generation run (progress.c). */
enum progress_mode {
    PROGRESS_OFF = 0,
    PROGRESS_PLAIN,
    PROGRESS_LIVE
};
struct progress {
    enum progress_mode mode;
    int tty;
    int lines;         /* lines drawn last time (live mode) */
    double last_plain; /* elapsed seconds of the last plain line */
    int final;
};
void progress_init(struct progress *p, const struct cli *c);
void progress_update(struct progress *p, const struct wb_run_stats *s);
/* "1:05", or "estimating" until the rate means something. */
void progress_eta(const struct wb_run_stats *s, char *out, size_t n);

/* A generation run for a command (run.c): begin, wb_run_add() the entries,
 * finish (runs it with Ctrl-C handling, prints progress and the summary and
 * returns the exit code). */
struct cli_run {
    struct wb_run *run;
    struct wb_store *store;
    struct progress progress;
    const struct cli_diags *input; /* the input's unreadable lines, or NULL */
};
int cli_run_begin(struct cli *c, struct wb_store *st, struct cli_run *cr);
int cli_run_finish(struct cli *c, struct cli_run *cr);

/* Print "wordbank: message" on stderr (the single voice of the CLI). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* memory.c: the command's malloc policy (buffers under 4 MiB kept for reuse),
 * set first thing in main unless GLIBC_TUNABLES is set. */
void cli_tune_malloc(void);
/* memory.c: 1 when the command frees everything before it exits (builds
 * with AddressSanitizer), 0 when the process's end releases what is left. */
int cli_frees_at_exit(void);
/* The end of main: flushes stdio and ends the process at once with code,
 * unless cli_frees_at_exit(), when it returns code for main to return. */
int cli_end(int code);
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Map a library error code to the contract's exit code. */
int cli_exit_for(int code);
/* Usage of one command on stderr; returns EXIT_USAGE. */
int cli_usage(const char *command);
/* The database path and the media directory after configuration. */
const char *cli_db_path(const struct cli *c);
/* wb_preload what the command will need (main.c): first thing in the
 * commands that send requests or make pictures. */
void cli_preload(const struct cli *c, unsigned stages, unsigned what);
const char *cli_media_dir(const struct cli *c);

/* Open the word bank: a missing one is NULL (an empty bank) unless create. */
int cli_open_store(struct cli *c, int create, struct wb_store **out);
/* Open an existing word bank (read-only for commands that only read); a
 * missing one is exit 3, reported, and nothing is created. */
int cli_open_existing(struct cli *c, int readonly, struct wb_store **out);
/* Prefix of media paths in --json output: relative to the database's folder
 * ("media") when the media directory is the default, else absolute. */
const char *cli_json_base(const struct cli *c);

/* Write a file atomically (temp, fsync, rename); "-" is stdout. 0 or -1 (reported). */
int cli_write_file(const char *path, const void *data, size_t len);

/* --json (output.c): print the command's one JSON value on stdout; at exit,
 * a command that printed none gets {"status", "exit", "error"} instead. */
void cli_json_emit(struct cli *c, const struct wb_buf *b);
void cli_json_fallback(struct cli *c, int exit_code);
void cli_remember_error(const char *msg);

/* Repeated diagnostics ("FILE:LINE: reason"): the first 20 on stderr, then
 * "… and N more"; all of them (up to 1000) as a JSON array for --json. */
struct cli_diags {
    size_t n;
    struct wb_buf json;
};
void cli_diags_init(struct cli_diags *d);
void cli_diag(struct cli_diags *d, const char *file, unsigned long line, const char *msg);
/* A document's "NAME:LINE: reason" diagnostic, split for --json. */
void cli_diag_doc(struct cli_diags *d, const char *name, const char *msg);
void cli_diags_end(struct cli_diags *d);
void cli_diags_json(const struct cli_diags *d, struct wb_buf *out);
void cli_diags_release(struct cli_diags *d);

int cmd_doctor(struct cli *c);
int cmd_anki(struct cli *c); /* cmd_anki.c */
int cmd_batch(struct cli *c);
/* propagate --batch (cmd_batch.c): the batched stages of cr's entries through
 * Gemini batch jobs. CLI_BATCH_CONTINUE: go on with cli_run_finish for what
 * batch mode does not do (*failed: some batch results failed); else the exit
 * code, with cr->run freed. */
#define CLI_BATCH_CONTINUE (-1)
int cli_batch_run(struct cli *c, struct cli_run *cr, int *failed);
int cmd_list(struct cli *c);
int cmd_show(struct cli *c);
int cmd_rm(struct cli *c);
int cmd_import(struct cli *c);
int cmd_add(struct cli *c);
int cmd_tts(struct cli *c);
int cmd_extract(struct cli *c);
int cmd_preview(struct cli *c);
int cmd_render(struct cli *c);
int cmd_build(struct cli *c);
int cmd_dialogue(struct cli *c);
int cmd_propagate(struct cli *c);
int cmd_export(struct cli *c);

#endif
