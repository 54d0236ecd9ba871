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
    wb_import_report_init(&rep);
    rc = wb_import_jsonl(st, c->argv[0], &o, &rep, &err);
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        rc = cli_exit_for(rc) == EXIT_SOME_FAILED ? EXIT_SOME_FAILED : EXIT_ENV;
    } else {
        if (c->json)
            printf("{\"imported\": %zu, \"updated\": %zu, \"failed\": %zu}\n", rep.imported,
                   rep.updated, rep.failed);
        else if (c->verbosity >= 0)
            fprintf(stderr, "imported %zu new, %zu updated, %zu failed line%s\n", rep.imported,
                    rep.updated, rep.failed, rep.failed == 1 ? "" : "s");
        rc = rep.failed ? EXIT_SOME_FAILED : EXIT_OK;
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
    if ((rc = cli_open_existing(c, 1, &st)))
        return rc;
    if (!strcmp(fmt, "jsonl"))
        rc = wb_export_jsonl(st, out, NULL, &err);
    else if (!strcmp(fmt, "csv"))
        rc = wb_export_csv(st, out, NULL, &err);
    else
        rc = strcmp(out, "-") ? wb_export_apkg(st, cli_media_dir(c), out, &err)
                              : wb_error_set(&err, WB_EINVAL, "an Anki deck needs -o FILE.apkg");
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        rc = rc == WB_EINVAL ? EXIT_USAGE : EXIT_ENV;
    }
    wb_store_close(st);
    return rc;
}
