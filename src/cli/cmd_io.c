/* import and export: moving word banks in and out (the original JSONL format,
 * CSV and, where built, an Anki deck). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The importer's "FILE:LINE: reason" (or "FILE: warning: ..."), split so
 * that --json lists file, line and reason apart. */
static void print_diag(void *ud, int is_warning, const char *msg)
{
    const char *p = msg;
    (void)is_warning; /* the message says so itself */
    while ((p = strchr(p, ':')) != NULL) {
        char *end;
        unsigned long line = strtoul(p + 1, &end, 10);
        if (end > p + 1 && end[0] == ':' && end[1] == ' ') {
            char file[1024];
            snprintf(file, sizeof file, "%.*s", (int)(p - msg), msg);
            cli_diag(ud, file, line, end + 2);
            return;
        }
        p++;
    }
    cli_diag(ud, NULL, 0, msg);
}

int cmd_import(struct cli *c)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct wb_import_opts o;
    struct wb_import_report rep;
    struct cli_diags diags;
    int rc;
    if (c->argc != 1)
        return cli_usage("import");
    if ((rc = cli_open_store(c, 1, &st)))
        return rc;
    wb_import_opts_init(&o);
    o.default_language = wb_config_get(c->cfg, "lang");
    o.on_diag = print_diag;
    o.media_dir = cli_media_dir(c);
    o.media_from = c->media_from;
    o.ud = &diags;
    cli_diags_init(&diags);
    wb_import_report_init(&rep);
    rc = wb_import_jsonl(st, c->argv[0], &o, &rep, &err);
    cli_diags_end(&diags);
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        rc = cli_exit_for(rc) == EXIT_SOME_FAILED ? EXIT_SOME_FAILED : EXIT_ENV;
    } else {
        if (c->json) {
            struct wb_buf j;
            wb_buf_init(&j, 0);
            wb_buf_appendf(&j,
                           "{\"imported\": %zu, \"updated\": %zu, \"failed\": %zu, "
                           "\"media_copied\": %zu, \"media_refused\": %zu, \"media_missing\": %zu, "
                           "\"errors\": ",
                           rep.imported, rep.updated, rep.failed, rep.media_copied,
                           rep.media_refused, rep.media_missing);
            cli_diags_json(&diags, &j);
            wb_buf_appends(&j, "}");
            cli_json_emit(c, &j);
            wb_buf_release(&j);
        } else if (c->verbosity >= 0)
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
    cli_diags_release(&diags);
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
    if (c->json && !strcmp(out, "-")) {
        cli_error("export --json needs -o FILE (stdout is for the JSON summary)");
        return EXIT_USAGE;
    }
    if ((rc = cli_open_existing(c, 1, &st)))
        return rc;
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
    } else if (c->json) {
        struct wb_buf j;
        size_t n = 0;
        wb_store_count(st, NULL, &n, &err);
        wb_buf_init(&j, 0);
        wb_buf_appends(&j, "{\"format\": ");
        wb_json_quote(fmt, &j);
        wb_buf_appends(&j, ", \"output\": ");
        wb_json_quote(out, &j);
        wb_buf_appendf(&j, ", \"entries\": %zu}", n);
        cli_json_emit(c, &j);
        wb_buf_release(&j);
    }
    wb_store_close(st);
    return rc;
}
