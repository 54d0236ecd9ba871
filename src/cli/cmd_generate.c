/* add and propagate: generate every missing stage of the entries given. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

int cmd_add(struct cli *c)
{
    struct wb_store *st = NULL;
    struct cli_run cr;
    struct wb_error err = { 0 };
    int rc;
    if (c->argc < 2 || c->argc > 3)
        return cli_usage("add");
    /* Refused before the word bank is even opened: nothing is stored. */
    if (wb_entry_check(c->argv[0], c->argv[1], c->argc > 2 ? c->argv[2] : NULL, NULL, &err)) {
        cli_error("%s", wb_error_text(&err));
        return EXIT_USAGE;
    }
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
 * with FILE:LINE (capped) and counted. A directory or an unreadable file is
 * exit 3 before anything runs. */
static int read_list(struct wb_run *run, const char *path, struct cli_diags *bad)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned long lineno = 0;
    struct stat sb;
    struct wb_error err = { 0 };
    if (!f) {
        cli_error("%s: %s", path, strerror(errno));
        return EXIT_ENV;
    }
    if (fstat(fileno(f), &sb) == 0 && S_ISDIR(sb.st_mode)) {
        cli_error("%s: is a directory, not a word list", path);
        fclose(f);
        return EXIT_ENV;
    }
    while ((len = getline(&line, &cap, f)) >= 0) {
        struct wb_word_item it = { 0 };
        const char *p = line;
        int rc;
        lineno++;
        if (memchr(line, '\0', (size_t)len)) {
            cli_diag(bad, name, lineno, "the line contains a NUL byte");
            continue;
        }
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
        if (rc)
            cli_diag(bad, name, lineno, wb_error_text(&err));
        wb_error_clear(&err);
        wb_word_item_release(&it);
    }
    if (ferror(f)) {
        cli_error("%s: %s", path, strerror(errno));
        free(line);
        if (f != stdin)
            fclose(f);
        return EXIT_ENV;
    }
    cli_diags_end(bad);
    free(line);
    if (f != stdin)
        fclose(f);
    return EXIT_OK;
}

int cmd_propagate(struct cli *c)
{
    struct wb_store *st = NULL;
    struct cli_run cr;
    struct cli_diags bad;
    int rc;
    if (c->argc > 1)
        return cli_usage("propagate");
    cli_diags_init(&bad);
    if (c->argc && strcmp(c->argv[0], "-")) {
        /* The list must be readable before the word bank is created. */
        struct stat sb;
        if (stat(c->argv[0], &sb) != 0) {
            cli_error("%s: %s", c->argv[0], strerror(errno));
            rc = EXIT_ENV;
            goto out;
        }
        if (S_ISDIR(sb.st_mode)) {
            cli_error("%s: is a directory, not a word list", c->argv[0]);
            rc = EXIT_ENV;
            goto out;
        }
    }
    if ((rc = cli_open_store(c, 1, &st)))
        goto out;
    if ((rc = cli_run_begin(c, st, &cr)))
        goto out;
    if ((rc = read_list(cr.run, c->argc ? c->argv[0] : "-", &bad))) {
        wb_run_free(cr.run);
        goto out;
    }
    cr.input = &bad;
    rc = cli_run_finish(c, &cr);
    if (rc == EXIT_OK && bad.n)
        rc = EXIT_SOME_FAILED;
out:
    cli_diags_release(&bad);
    wb_store_close(st);
    return rc;
}
