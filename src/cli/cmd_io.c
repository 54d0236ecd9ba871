/* import and export: moving word banks in and out (the original JSONL format,
 * CSV and, where built, an Anki deck). */
#include <string.h>

#include "cli.h"

static void print_diag(void *ud, int is_warning, const char *msg)
{
    (void)ud;
    (void)is_warning; /* the message says so itself */
    fprintf(stderr, "%s\n", msg);
}

int cmd_import(struct cli *c)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct wb_import_opts o = { 0 };
    struct wb_import_report rep;
    int rc;
    if (c->argc != 1)
        return cli_usage("import");
    if ((rc = cli_open_store(c, 1, &st)))
        return rc;
    o.default_language = wb_config_get(c->cfg, "lang");
    o.on_diag = print_diag;
    o.media_dir = cli_media_dir(c);
    o.media_from = c->media_from;
    wb_import_report_init(&rep);
    rc = wb_import_jsonl(st, c->argv[0], &o, &rep, &err);
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        rc = cli_exit_for(rc) == EXIT_SOME_FAILED ? EXIT_SOME_FAILED : EXIT_ENV;
    } else {
        if (c->json)
            printf("{\"imported\": %zu, \"updated\": %zu, \"failed\": %zu, \"media_copied\": "
                   "%zu, \"media_refused\": %zu, \"media_missing\": %zu}\n",
                   rep.imported, rep.updated, rep.failed, rep.media_copied, rep.media_refused,
                   rep.media_missing);
        else if (c->verbosity >= 0)
            fprintf(stderr,
                    "imported %zu new, %zu updated, %zu failed line%s; %zu media file%s copied, "
                    "%zu refused, %zu not found\n",
                    rep.imported, rep.updated, rep.failed, rep.failed == 1 ? "" : "s",
                    rep.media_copied, rep.media_copied == 1 ? "" : "s", rep.media_refused,
                    rep.media_missing);
        /* A refused media path is a failure the user must see in the exit
         * status (the line's text is imported all the same). */
        rc = rep.failed || rep.media_refused ? EXIT_SOME_FAILED : EXIT_OK;
    }
    wb_import_report_release(&rep);
    wb_store_close(st);
    return rc;
}

int cmd_export(struct cli *c)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    const char *fmt = c->format ? c->format : "jsonl";
    const char *out = c->output ? c->output : "-";
    int rc;
    if (c->argc)
        return cli_usage("export");
    if (strcmp(fmt, "jsonl") && strcmp(fmt, "csv") && strcmp(fmt, "apkg")) {
        cli_error("unknown export format '%s' (jsonl, csv or apkg)", fmt);
        return EXIT_USAGE;
    }
    if ((rc = cli_open_store(c, 0, &st)))
        return rc;
    if (!st) {
        cli_error("no word bank at %s", cli_db_path(c));
        return EXIT_ENV;
    }
    if (!strcmp(fmt, "jsonl"))
        rc = wb_export_jsonl_full(st, cli_media_dir(c), out, NULL, &err);
    else if (!strcmp(fmt, "csv"))
        rc = wb_export_csv(st, out, NULL, &err);
    else
        rc = strcmp(out, "-") ? wb_export_apkg_deck(st, cli_media_dir(c), out, c->deck, &err)
                              : wb_error_set(&err, WB_EINVAL, "an Anki deck needs -o FILE.apkg");
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        rc = rc == WB_EINVAL ? EXIT_USAGE : EXIT_ENV;
    }
    wb_store_close(st);
    return rc;
}
