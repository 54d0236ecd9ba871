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
    int json;        /* --json */
    int verbosity;   /* -v: +1, -q: -1 */
    const char *progress; /* auto | always | never */
    const char *output;   /* -o */
    const char *format;   /* --format */
    const char *force;    /* --force[=stages]: NULL, "" (all) or a list */
    int no_image, no_audio, cache_only, no_audio_trim;
    const char *base_url; /* --base-url */
    int argc;             /* positional arguments after the command */
    char **argv;
};

/* Print "wordbank: message" on stderr (the single voice of the CLI). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Map a library error code to the contract's exit code. */
int cli_exit_for(int code);
/* Usage of one command on stderr; returns EXIT_USAGE. */
int cli_usage(const char *command);
/* The database path and the media directory after configuration. */
const char *cli_db_path(const struct cli *c);
const char *cli_media_dir(const struct cli *c);

/* Open the word bank: a missing one is NULL (an empty bank) unless create. */
int cli_open_store(struct cli *c, int create, struct wb_store **out);
/* Prefix of media paths in --json output: relative to the database's folder
 * ("media") when the media directory is the default, else absolute. */
const char *cli_json_base(const struct cli *c);

int cmd_doctor(struct cli *c);
int cmd_list(struct cli *c);
int cmd_show(struct cli *c);
int cmd_rm(struct cli *c);
int cmd_import(struct cli *c);
int cmd_export(struct cli *c);

#endif
