/* Running the generation pipeline for a command (add, propagate, render,
 * build): run options from the flags, Ctrl-C handling, the progress display,
 * and the summary with the exact command that retries only the failures. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static struct wb_run *volatile current_run;
static volatile sig_atomic_t interrupts;

static void on_signal(int sig)
{
    (void)sig;
    if (++interrupts > 1)
        _exit(EXIT_INTERRUPTED); /* the second Ctrl-C: at once (SQLite stays consistent) */
    if (current_run)
        wb_run_interrupt(current_run);
}

static int parse_force(const char *s, unsigned *mask)
{
    char buf[128], *tok, *save = NULL;
    *mask = 0;
    if (!s)
        return 0;
    if (!*s) {
        *mask = WB_STAGES_ALL;
        return 0;
    }
    snprintf(buf, sizeof buf, "%s", s);
    for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        int st = wb_stage_from_name(tok);
        if (st < 0)
            return -1;
        *mask |= WB_STAGE_BIT(st);
    }
    return 0;
}

static void on_progress(void *ud, const struct wb_run_stats *s)
{
    progress_update(ud, s);
}

int cli_run_begin(struct cli *c, struct wb_store *st, struct cli_run *cr)
{
    struct wb_run_opts o;
    struct wb_error err = { 0 };
    int rc;
    memset(cr, 0, sizeof *cr);
    wb_run_opts_init(&o);
    if (parse_force(c->force, &o.force)) {
        cli_error("--force takes a list of details, image, audio");
        return EXIT_USAGE;
    }
    if (c->no_image)
        o.skip |= WB_STAGE_BIT(WB_STAGE_IMAGE);
    if (c->no_audio)
        o.skip |= WB_STAGE_BIT(WB_STAGE_AUDIO);
    o.cache_only = c->cache_only;
    progress_init(&cr->progress, c);
    o.on_progress = on_progress;
    o.ud = &cr->progress;
    rc = wb_run_new(c->cfg, st, cli_media_dir(c), &o, &cr->run, &err);
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        return cli_exit_for(rc) == EXIT_SOME_FAILED ? EXIT_ENV : cli_exit_for(rc);
    }
    cr->store = st;
    return EXIT_OK;
}

/* A failure that another try could mend: not one that is the entry's own
 * ("not in EDICT", an input the provider refuses). */
static int retryable(const struct wb_run_failure *x)
{
    return x->code != WB_ENOTFOUND && x->code != WB_EINVAL && x->code != WB_EUNSUPPORTED;
}

struct pair {
    char *word, *translation;
};

static int has_pair(const struct pair *v, size_t n, const char *w, const char *t)
{
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(v[i].word, w) && !strcmp(v[i].translation, t))
            return 1;
    }
    return 0;
}

static int push_pair(struct pair **v, size_t *n, size_t *cap, const char *w, const char *t)
{
    if (*n == *cap) {
        size_t nc = *cap ? *cap * 2 : 32;
        struct pair *nv = realloc(*v, nc * sizeof *nv);
        if (!nv)
            return -1;
        *v = nv;
        *cap = nc;
    }
    (*v)[*n].word = strdup(w);
    (*v)[*n].translation = strdup(t);
    if (!(*v)[*n].word || !(*v)[*n].translation) {
        free((*v)[*n].word);
        free((*v)[*n].translation);
        return -1;
    }
    (*n)++;
    return 0;
}

/* 1 when the entry is in the word bank with a stage still failed. */
static int still_failed(struct cli *c, struct wb_store *st, const char *w, const char *t)
{
    struct wb_entry e;
    struct wb_error err = { 0 };
    int failed = 0;
    wb_entry_init(&e);
    if (st && wb_store_get(st, w, t, wb_config_get(c->cfg, "lang"), &e, &err) == 0) {
        for (int s = 0; s < WB_STAGE_COUNT; s++)
            failed |= e.stages[s].state == WB_STATE_FAILED;
    }
    wb_entry_release(&e);
    return failed;
}

/* Keeps <db>.failed.txt true: the entries whose last try failed in a way
 * another try could mend. Earlier lines stay while their entry still has a
 * failed stage (a later `add` of another word does not wipe them); lines
 * whose entry now succeeded go; this run's retryable failures are added. The
 * file is removed when nothing is left. Returns the number of lines; the
 * command that retries them goes into cmd. */
static size_t keep_retry_file(struct cli *c, struct cli_run *cr, struct wb_buf *cmd)
{
    struct wb_buf path, old;
    struct wb_error err = { 0 };
    struct pair *v = NULL;
    size_t n = 0, cap = 0, nf = wb_run_failure_count(cr->run), lines;
    wb_buf_init(&path, 0);
    wb_buf_init(&old, 64u << 20);
    wb_buf_appendf(&path, "%s.failed.txt", cli_db_path(c));
    if (wb_buf_read_file(&old, path.data, &err) == 0 && old.len) {
        char *save = NULL;
        for (char *line = strtok_r(old.data, "\n", &save); line;
             line = strtok_r(NULL, "\n", &save)) {
            char *tab = strchr(line, '\t');
            if (!tab)
                continue;
            *tab = '\0';
            if (!has_pair(v, n, line, tab + 1) && still_failed(c, cr->store, line, tab + 1))
                push_pair(&v, &n, &cap, line, tab + 1);
        }
    }
    for (size_t i = 0; i < nf; i++) {
        const struct wb_run_failure *x = wb_run_failure_at(cr->run, i);
        if (retryable(x) && !has_pair(v, n, x->word, x->translation))
            push_pair(&v, &n, &cap, x->word, x->translation);
    }
    lines = n;
    if (n == 0) {
        if (access(path.data, F_OK) == 0)
            unlink(path.data);
    } else {
        struct wb_buf text;
        wb_buf_init(&text, 0);
        for (size_t i = 0; i < n; i++)
            wb_buf_appendf(&text, "%s\t%s\n", v[i].word, v[i].translation);
        if (cli_write_file(path.data, text.data, text.len)) /* atomic; reports */
            lines = 0;
        wb_buf_release(&text);
    }
    if (lines) {
        wb_buf_appendf(cmd, "wordbank --db '%s'", cli_db_path(c));
        if (wb_config_source_of(c->cfg, "media") == WB_SRC_FLAG)
            wb_buf_appendf(cmd, " --media '%s'", cli_media_dir(c));
        if (wb_config_source_of(c->cfg, "provider") == WB_SRC_FLAG)
            wb_buf_appendf(cmd, " --provider %s", wb_config_get(c->cfg, "provider"));
        if (wb_config_source_of(c->cfg, "lang") == WB_SRC_FLAG)
            wb_buf_appendf(cmd, " --lang %s", wb_config_get(c->cfg, "lang"));
        wb_buf_appendf(cmd, "%s%s propagate '%s'", c->no_image ? " --no-image" : "",
                       c->no_audio ? " --no-audio" : "", path.data);
    }
    for (size_t i = 0; i < n; i++) {
        free(v[i].word);
        free(v[i].translation);
    }
    free(v);
    wb_buf_release(&path);
    wb_buf_release(&old);
    return lines;
}

static void json_summary(struct cli *c, struct cli_run *cr, const struct wb_run_stats *s,
                         int status, const char *retry)
{
    struct wb_buf j;
    size_t n = wb_run_failure_count(cr->run);
    wb_buf_init(&j, 0);
    if (status == 0 && cr->input && cr->input->n)
        status = WB_EINCOMPLETE; /* lines of the input could not be read */
    wb_buf_appendf(&j, "{\"status\": ");
    wb_json_quote(status == 0                ? "done"
                  : status == WB_ECANCELED   ? "interrupted"
                  : status == WB_EINCOMPLETE ? "some failed"
                                             : "error",
                  &j);
    wb_buf_appendf(&j,
                   ", \"entries\": %lld, \"entries_done\": %lld, \"entries_failed\": %lld, "
                   "\"stages\": {",
                   (long long)s->entries, (long long)s->entries_done, (long long)s->entries_failed);
    for (int i = 0; i < WB_STAGE_COUNT; i++) {
        const struct wb_stage_counts *k = &s->stage[i];
        wb_buf_appendf(&j,
                       "%s\"%s\": {\"total\": %lld, \"done\": %lld, \"cached\": %lld, "
                       "\"failed\": %lld, \"skipped\": %lld}",
                       i ? ", " : "", wb_stage_name((enum wb_stage)i), (long long)k->total,
                       (long long)k->done, (long long)k->cached, (long long)k->failed,
                       (long long)k->skipped);
    }
    wb_buf_appends(&j, "}, \"input_errors\": ");
    if (cr->input)
        cli_diags_json(cr->input, &j);
    else
        wb_buf_appends(&j, "[]");
    wb_buf_appendf(&j, ", \"failures\": [");
    for (size_t i = 0; i < n; i++) {
        const struct wb_run_failure *x = wb_run_failure_at(cr->run, i);
        wb_buf_appends(&j, i ? ", {\"word\": " : "{\"word\": ");
        wb_json_quote(x->word, &j);
        wb_buf_appends(&j, ", \"translation\": ");
        wb_json_quote(x->translation, &j);
        wb_buf_appendf(&j, ", \"stage\": \"%s\", \"retryable\": %s, \"error\": ",
                       wb_stage_name(x->stage), retryable(x) ? "true" : "false");
        wb_json_quote(x->message, &j);
        wb_buf_appends(&j, "}");
    }
    wb_buf_appendf(&j,
                   "], \"requests\": %lld, \"retries\": %lld, \"rate_limited\": %lld, "
                   "\"merged\": %lld, \"tokens_in\": %lld, \"tokens_out\": %lld, "
                   "\"cost_usd\": %.4f, \"elapsed_s\": %.3f, \"retry_command\": ",
                   (long long)s->requests, (long long)s->retries, (long long)s->rate_limited,
                   (long long)s->merged, (long long)s->tokens_in, (long long)s->tokens_out,
                   s->cost_usd, s->elapsed_s);
    if (retry && *retry)
        wb_json_quote(retry, &j);
    else
        wb_buf_appends(&j, "null");
    wb_buf_appends(&j, "}\n");
    cli_json_emit(c, &j);
    wb_buf_release(&j);
}

static void text_summary(struct cli *c, struct cli_run *cr, const struct wb_run_stats *s)
{
    size_t n = wb_run_failure_count(cr->run);
    if (c->verbosity < 0 && !n)
        return;
    fprintf(stderr, "%lld of %lld entr%s complete", (long long)s->entries_done,
            (long long)s->entries, s->entries == 1 ? "y" : "ies");
    if (s->entries_failed)
        fprintf(stderr, ", %lld failed", (long long)s->entries_failed);
    fprintf(stderr, " in %.1f s\n", s->elapsed_s);
    for (int i = 0; i < WB_STAGE_COUNT; i++) {
        const struct wb_stage_counts *k = &s->stage[i];
        if (!k->total)
            continue;
        fprintf(stderr, "  %-8s %lld new, %lld already there, %lld failed",
                wb_stage_name((enum wb_stage)i), (long long)k->done, (long long)k->cached,
                (long long)k->failed);
        if (k->skipped)
            fprintf(stderr, ", %lld not made%s", (long long)k->skipped,
                    i == WB_STAGE_IMAGE && !strcmp(wb_config_get(c->cfg, "provider"), "offline") &&
                            !wb_config_get(c->cfg, "image_provider")
                        ? " (the offline provider makes no pictures)"
                    : c->cache_only ? " (--cache-only)"
                                    : "");
        fputc('\n', stderr);
    }
    fprintf(
        stderr,
        "  %lld requests, %lld retries, %lld rate-limited (429); tokens %lld in / %lld out; estimated cost $%.4f\n",
        (long long)s->requests, (long long)s->retries, (long long)s->rate_limited,
        (long long)s->tokens_in, (long long)s->tokens_out, s->cost_usd);
    if (s->merged)
        fprintf(
            stderr,
            "  %lld merged: stages served by another entry's identical request (no extra request)\n",
            (long long)s->merged);
    if (n)
        fprintf(stderr, "failed:\n");
    for (size_t i = 0; i < n && i < 50; i++) {
        const struct wb_run_failure *x = wb_run_failure_at(cr->run, i);
        fprintf(stderr, "  %s / %s — %s: %s\n", x->word, x->translation, wb_stage_name(x->stage),
                x->message);
    }
    if (n > 50)
        fprintf(stderr, "  … and %zu more\n", n - 50);
}

int cli_run_finish(struct cli *c, struct cli_run *cr)
{
    struct wb_error err = { 0 };
    struct wb_run_stats s = { .size = sizeof s };
    struct sigaction sa, old_int, old_term;
    struct wb_buf cmd;
    int rc, exit_code;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    current_run = cr->run;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = wb_run_execute(cr->run, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    current_run = NULL;

    wb_run_get_stats(cr->run, &s);
    cr->progress.final = 1;
    wb_buf_init(&cmd, 0);
    keep_retry_file(c, cr, &cmd);
    if (c->json)
        json_summary(c, cr, &s, rc, cmd.data);
    else
        text_summary(c, cr, &s);
    if (!c->json && cmd.len && c->verbosity >= 0)
        fprintf(stderr, "retry the failures that another try can mend:\n  %s\n", cmd.data);
    wb_buf_release(&cmd);

    switch (rc) {
    case 0:
        exit_code = EXIT_OK;
        break;
    case WB_EINCOMPLETE:
        exit_code = EXIT_SOME_FAILED;
        break;
    case WB_ECANCELED:
        cli_error("interrupted; finished work is saved, run the same command again to go on");
        exit_code = EXIT_INTERRUPTED;
        break;
    default:
        cli_error("%s", wb_error_text(&err));
        exit_code = cli_exit_for(rc) == EXIT_SOME_FAILED ? EXIT_ENV : cli_exit_for(rc);
    }
    /* A run that ended normally is left to the process's end (cli_end);
     * after an interruption or an error it is freed here, its threads
     * joined, before the command goes on to report. */
    if (cli_frees_at_exit() || (exit_code != EXIT_OK && exit_code != EXIT_SOME_FAILED))
        wb_run_free(cr->run);
    cr->run = NULL;
    return exit_code;
}
