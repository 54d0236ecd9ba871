/* list, show and rm: reading and removing entries of the word bank. */
#include <string.h>

#include "cli.h"

static const char *mark(enum wb_state s)
{
    return s == WB_STATE_DONE ? "done" : s == WB_STATE_FAILED ? "FAILED" : "-";
}

struct walk {
    struct cli *c;
    size_t n;
    struct wb_buf json;
};

static int print_row(void *ud, const struct wb_entry *e)
{
    struct walk *w = ud;
    if (w->c->json) {
        int rc;
        if (w->n && (rc = wb_buf_appends(&w->json, ",\n")))
            return rc;
        if ((rc = wb_entry_to_json(e, cli_json_base(w->c), &w->json)))
            return rc;
        /* Stream long listings instead of holding them whole. */
        if (w->json.len > (1 << 16)) {
            fwrite(w->json.data, 1, w->json.len, stdout);
            wb_buf_reset(&w->json);
        }
    } else {
        printf("%s\t%s\t%s\t%s\tdetails:%s image:%s audio:%s\n", e->word, e->translation,
               e->language, e->reading ? e->reading : "", mark(e->stages[WB_STAGE_DETAILS].state),
               mark(e->stages[WB_STAGE_IMAGE].state), mark(e->stages[WB_STAGE_AUDIO].state));
    }
    w->n++;
    return 0;
}

int cmd_list(struct cli *c)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct walk w = { c, 0, { 0 } };
    struct wb_store_query q = WB_STORE_QUERY_INIT;
    int rc;
    if (c->argc) {
        cli_error("list takes no arguments");
        return cli_usage("list");
    }
    if ((rc = cli_open_existing(c, 1, &st)))
        return rc;
    wb_buf_init(&w.json, 0);
    if (wb_config_source_of(c->cfg, "lang") != WB_SRC_DEFAULT)
        q.language = wb_config_get(c->cfg, "lang");
    if (c->json) {
        fputs("[", stdout);
        c->json_done = 1;
    }
    rc = wb_store_each(st, &q, print_row, &w, &err);
    if (c->json) {
        fwrite(w.json.data, 1, w.json.len, stdout);
        fputs("]\n", stdout);
    }
    if (rc) {
        cli_error("%s", rc == WB_ENOMEM ? "out of memory" : wb_error_text(&err));
        rc = EXIT_ENV;
    } else if (!c->json && c->verbosity >= 0) {
        fprintf(stderr, "%zu entr%s\n", w.n, w.n == 1 ? "y" : "ies");
    }
    wb_buf_release(&w.json);
    wb_store_close(st);
    return rc;
}

static void print_stage(const struct wb_entry *e, enum wb_stage s)
{
    const struct wb_stage_info *i = &e->stages[s];
    printf("%-8s %s", wb_stage_name(s), wb_state_name(i->state));
    if (i->file)
        printf("  %s", i->file);
    if (i->model)
        printf("  (%s%s%s)", i->provider ? i->provider : "", i->provider ? " " : "", i->model);
    else if (i->provider)
        printf("  (%s)", i->provider);
    if (i->error)
        printf("\n         error: %s", i->error);
    putchar('\n');
}

static int print_entry(void *ud, const struct wb_entry *e)
{
    struct walk *w = ud;
    if (w->c->json) {
        int rc;
        if (w->n && (rc = wb_buf_appends(&w->json, ",\n")))
            return rc;
        w->n++;
        return wb_entry_to_json(e, cli_json_base(w->c), &w->json);
    }
    if (w->n++)
        putchar('\n');
    if (e->reading && *e->reading && strcmp(e->reading, e->word))
        printf("%s (%s) — %s [%s]\n", e->word, e->reading, e->translation, e->language);
    else
        printf("%s — %s [%s]\n", e->word, e->translation, e->language);
    if (e->context)
        printf("context  %s\n", e->context);
    if (e->description)
        printf("meaning  %s\n", e->description);
    for (size_t i = 0; i < e->n_examples; i++) {
        printf("example  %s\n", e->examples[i].text);
        if (e->examples[i].translation)
            printf("         %s\n", e->examples[i].translation);
    }
    if (e->image_description)
        printf("picture  %s\n", e->image_description);
    for (int s = 0; s < WB_STAGE_COUNT; s++)
        print_stage(e, (enum wb_stage)s);
    return 0;
}

int cmd_show(struct cli *c)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct walk w = { c, 0, { 0 } };
    struct wb_store_query q = WB_STORE_QUERY_INIT;
    int rc;
    if (c->argc < 1 || c->argc > 2)
        return cli_usage("show");
    if ((rc = cli_open_existing(c, 1, &st)))
        return rc;
    q.word = c->argv[0];
    q.translation = c->argc > 1 ? c->argv[1] : NULL;
    if (wb_config_source_of(c->cfg, "lang") != WB_SRC_DEFAULT)
        q.language = wb_config_get(c->cfg, "lang");
    wb_buf_init(&w.json, 0);
    rc = wb_store_each(st, &q, print_entry, &w, &err);
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        rc = EXIT_ENV;
    } else if (w.n == 0) {
        cli_error("no entry for '%s'%s%s", q.word, q.translation ? " / " : "",
                  q.translation ? q.translation : "");
        rc = EXIT_SOME_FAILED;
    } else if (c->json) {
        /* One object for one entry; an array when the word has several. */
        if (w.n > 1)
            printf("[%s]\n", w.json.data);
        else
            printf("%s\n", w.json.data);
        c->json_done = 1;
    }
    wb_buf_release(&w.json);
    wb_store_close(st);
    return rc;
}

int cmd_rm(struct cli *c)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    int rc;
    if (c->argc != 2)
        return cli_usage("rm");
    if ((rc = cli_open_existing(c, 0, &st)))
        return rc;
    rc = wb_store_remove(st, c->argv[0], c->argv[1], wb_config_get(c->cfg, "lang"), &err);
    if (rc == 0 && c->json) {
        struct wb_buf j;
        wb_buf_init(&j, 0);
        wb_buf_appends(&j, "{\"removed\": {\"word\": ");
        wb_json_quote(c->argv[0], &j);
        wb_buf_appends(&j, ", \"translation\": ");
        wb_json_quote(c->argv[1], &j);
        wb_buf_appends(&j, ", \"language\": ");
        wb_json_quote(wb_config_get(c->cfg, "lang"), &j);
        wb_buf_appends(&j, "}}");
        cli_json_emit(c, &j);
        wb_buf_release(&j);
    } else if (rc == 0 && c->verbosity >= 0) {
        fprintf(stderr, "removed %s / %s [%s]\n", c->argv[0], c->argv[1],
                wb_config_get(c->cfg, "lang"));
    } else if (rc == WB_ENOTFOUND) {
        cli_error("no entry for '%s' / '%s' in language %s", c->argv[0], c->argv[1],
                  wb_config_get(c->cfg, "lang"));
        rc = EXIT_SOME_FAILED;
    } else if (rc) {
        cli_error("%s", wb_error_text(&err));
        rc = EXIT_ENV;
    }
    wb_store_close(st);
    return rc;
}
