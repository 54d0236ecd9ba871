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
    cli_preload(c, WB_STAGES_ALL, WB_PRELOAD_NETWORK);
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

/* A lesson (Markdown with <wordbank>/<dialogue> blocks): the blocks' entries
 * join the run, and its two-voice dialogues are kept for after it. */
static void read_lesson(struct wb_run *run, struct wb_doc *doc, struct cli_diags *bad)
{
    struct wb_error err = { 0 };
    for (size_t i = 0; i < doc->n_diags; i++)
        cli_diag_doc(bad, doc->name, doc->diags[i]);
    for (size_t b = 0; b < doc->n_blocks; b++) {
        const struct wb_block *bl = &doc->blocks[b];
        for (size_t k = 0; k < bl->n_items; k++) {
            const struct wb_word_item *it = &bl->items[k];
            if (wb_run_add(run, it->word, it->translation, it->context, &err))
                cli_diag(bad, doc->name, it->line, wb_error_text(&err));
            wb_error_clear(&err);
        }
    }
}

/* Reads "- word: translation (context)" or TSV lines, or a lesson's blocks;
 * bad lines are reported with FILE:LINE and counted. A parsed lesson stays in
 * doc (for its dialogues). */
static int read_list(struct wb_run *run, const char *path, struct wb_doc *doc,
                     struct cli_diags *bad)
{
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    struct wb_buf text;
    struct wb_error err = { 0 };
    unsigned lineno = 0;
    int rc = 0;
    wb_buf_init(&text, WB_CONTENT_MAX_DOC);
    rc = wb_buf_read_input(&text, path, &err);
    if (!rc)
        rc = wb_doc_parse(doc, name, text.data, text.len, &err);
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        wb_buf_release(&text);
        return EXIT_ENV;
    }
    if (doc->n_blocks) {
        read_lesson(run, doc, bad);
        wb_buf_release(&text);
        return EXIT_OK;
    }
    wb_doc_release(doc);
    wb_doc_init(doc);
    for (char *line = text.data, *end = text.data + text.len; line < end;) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        char *next = nl ? nl + 1 : end;
        size_t len = (size_t)((nl ? nl : end) - line);
        struct wb_word_item it = { 0 };
        const char *p = line;
        lineno++;
        if (memchr(line, '\0', len)) {
            cli_diag(bad, name, lineno, "the line contains a NUL byte");
            line = next;
            continue;
        }
        line[len] = '\0';
        while (len && line[len - 1] == '\r')
            line[--len] = '\0';
        if (lineno == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
            p += 3; /* a BOM */
        while (*p == ' ' || *p == '\t')
            p++;
        line = next;
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
    wb_buf_release(&text);
    return EXIT_OK;
}

/* The clips of the lessons' two-voice dialogues, made once (then found). */
static int make_clips(struct cli *c, struct wb_doc *docs, int n, struct cli_diags *bad)
{
    const char *format = wb_config_get(c->cfg, "audio_format");
    for (int i = 0; i < n; i++) {
        for (size_t b = 0; b < docs[i].n_blocks; b++) {
            const struct wb_block *bl = &docs[i].blocks[b];
            struct wb_error err = { 0 };
            struct wb_buf script;
            char *file = NULL;
            int rc;
            if (bl->kind != WB_BLOCK_DIALOGUE)
                continue;
            if (!bl->two_voice)
                continue; /* the parser said why (one diagnostic) */
            wb_buf_init(&script, 0);
            for (size_t l = 0; l < bl->n_lines; l++)
                wb_buf_appendf(&script, "%s: %s\n", bl->lines[l].speaker, bl->lines[l].text);
            rc = wb_dialogue_file(c->cfg, cli_media_dir(c), script.data, script.len, format,
                                  c->cache_only, &file, &err);
            wb_buf_release(&script);
            free(file);
            if (rc == WB_ECANCELED || (rc && cli_exit_for(rc) == EXIT_ENV && rc != WB_ENOTFOUND)) {
                fprintf(stderr, "%s:%u: dialogue audio: %s\n", docs[i].name, bl->line,
                        wb_error_text(&err));
                return cli_exit_for(rc);
            }
            if (rc && !(c->cache_only && rc == WB_ENOTFOUND)) {
                struct wb_buf m;
                wb_buf_init(&m, 0);
                wb_buf_appendf(&m, "dialogue audio: %s", wb_error_text(&err));
                cli_diag(bad, docs[i].name, bl->line, m.data ? m.data : "dialogue audio");
                wb_buf_release(&m);
            }
        }
    }
    return EXIT_OK;
}

int cmd_propagate(struct cli *c)
{
    struct wb_store *st = NULL;
    struct cli_run cr;
    struct wb_doc *docs;
    int n = c->argc ? c->argc : 1;
    struct cli_diags bad;
    int rc = EXIT_OK, batch_failed = 0;
    cli_preload(c, WB_STAGES_ALL, WB_PRELOAD_NETWORK);
    if (!(docs = calloc((size_t)n, sizeof *docs))) {
        cli_error("out of memory");
        return EXIT_ENV;
    }
    for (int i = 0; i < n; i++)
        wb_doc_init(&docs[i]);
    cli_diags_init(&bad);
    /* Every list must be readable before the word bank is created. */
    for (int i = 0; i < c->argc && !rc; i++) {
        struct stat sb;
        if (!strcmp(c->argv[i], "-"))
            continue;
        if (stat(c->argv[i], &sb) != 0) {
            cli_error("%s: %s", c->argv[i], strerror(errno));
            rc = EXIT_ENV;
        } else if (S_ISDIR(sb.st_mode)) {
            cli_error("%s: is a directory, not a word list", c->argv[i]);
            rc = EXIT_ENV;
        }
    }
    if (rc || (rc = cli_open_store(c, 1, &st)))
        goto out;
    if ((rc = cli_run_begin(c, st, &cr)))
        goto out;
    for (int i = 0; i < n && !rc; i++)
        rc = read_list(cr.run, c->argc ? c->argv[i] : "-", &docs[i], &bad);
    cli_diags_end(&bad);
    if (rc) {
        wb_run_free(cr.run);
        goto out;
    }
    cr.input = &bad;
    if (wb_config_bool(c->cfg, "batch.enabled")) {
        int failed = 0, brc = cli_batch_run(c, &cr, &failed);
        if (brc != CLI_BATCH_CONTINUE) {
            rc = brc == EXIT_OK && bad.n ? EXIT_SOME_FAILED : brc;
            goto out;
        }
        batch_failed = failed;
    }
    rc = cli_run_finish(c, &cr);
    if (rc == EXIT_OK || rc == EXIT_SOME_FAILED) {
        int d = make_clips(c, docs, n, &bad);
        if (d)
            rc = d;
    }
    if (rc == EXIT_OK && (bad.n || batch_failed))
        rc = EXIT_SOME_FAILED;
out:
    cli_diags_release(&bad);
    for (int i = 0; i < n; i++)
        wb_doc_release(&docs[i]);
    free(docs);
    wb_store_close(st);
    return rc;
}
