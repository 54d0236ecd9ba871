/* add and propagate: generate every missing stage of the entries given. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_add(struct cli *c)
{
    struct wb_store *st = NULL;
    struct cli_run cr;
    struct wb_error err = { 0 };
    int rc;
    if (c->argc < 2 || c->argc > 3)
        return cli_usage("add");
    if ((rc = cli_open_store(c, 1, &st)))
        return rc;
    if ((rc = cli_run_begin(c, st, &cr)))
        goto out;
    if (wb_run_add(cr.run, c->argv[0], c->argv[1], c->argc > 2 ? c->argv[2] : NULL, &err)) {
        cli_error("%s", wb_error_text(&err));
        wb_run_free(cr.run);
        rc = EXIT_USAGE;
        goto out;
    }
    rc = cli_run_finish(c, &cr);
out:
    wb_store_close(st);
    return rc;
}

/* Reads "- word: translation (context)" or TSV lines; bad lines are reported
 * with FILE:LINE and counted. */
static int read_list(struct cli *c, struct wb_run *run, const char *path, size_t *bad)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;
    struct wb_error err = { 0 };
    (void)c;
    if (!f) {
        cli_error("%s: %s", path, strerror(errno));
        return EXIT_ENV;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        struct wb_word_item it = { 0 };
        const char *p = line;
        int rc;
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (lineno == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
            p += 3; /* a BOM */
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p || *p == '#' || !strncmp(p, "<wordbank>", 10) || !strncmp(p, "</wordbank>", 11))
            continue;
        if (strchr(p, '\t'))
            rc = wb_word_tsv_parse(p, strlen(p), &it, &err);
        else
            rc = wb_word_line_parse(p, strlen(p), &it, &err);
        if (rc == WB_LINE_BLANK)
            continue;
        if (rc == 0)
            rc = wb_run_add(run, it.word, it.translation, it.context, &err);
        if (rc) {
            fprintf(stderr, "%s:%u: %s\n", name, lineno, wb_error_text(&err));
            (*bad)++;
        }
        wb_word_item_release(&it);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return EXIT_OK;
}

int cmd_propagate(struct cli *c)
{
    struct wb_store *st = NULL;
    struct cli_run cr;
    size_t bad = 0;
    int rc;
    if (c->argc > 1)
        return cli_usage("propagate");
    if ((rc = cli_open_store(c, 1, &st)))
        return rc;
    if ((rc = cli_run_begin(c, st, &cr)))
        goto out;
    if ((rc = read_list(c, cr.run, c->argc ? c->argv[0] : "-", &bad))) {
        wb_run_free(cr.run);
        goto out;
    }
    if (wb_config_get_bool(c->cfg, "batch.enabled", 0)) {
        int failed = 0, brc = cli_batch_run(c, &cr, &failed);
        if (brc != CLI_BATCH_CONTINUE) {
            rc = brc == EXIT_OK && bad ? EXIT_SOME_FAILED : brc;
            goto out;
        }
        if (failed)
            bad = 1;
    }
    rc = cli_run_finish(c, &cr);
    if (rc == EXIT_OK && bad)
        rc = EXIT_SOME_FAILED;
out:
    wb_store_close(st);
    return rc;
}
