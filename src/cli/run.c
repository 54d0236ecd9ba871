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
    struct wb_run_opts o = { 0 };
    struct wb_error err = { 0 };
    int rc;
    memset(cr, 0, sizeof *cr);
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

/* The failures as a word list, and the command that retries only them. */
static void retry_hint(struct cli *c, struct cli_run *cr, struct wb_buf *cmd)
{
    struct wb_buf path;
    FILE *f;
    size_t n = wb_run_failure_count(cr->run);
    wb_buf_init(&path, 0);
    wb_buf_appendf(&path, "%s.failed.txt", cli_db_path(c));
    f = fopen(path.data, "w");
    if (f) {
        const char *last_w = NULL, *last_t = NULL;
        for (size_t i = 0; i < n; i++) {
            const struct wb_run_failure *x = wb_run_failure_at(cr->run, i);
            if (last_w && !strcmp(last_w, x->word) && !strcmp(last_t, x->translation))
                continue;
            fprintf(f, "%s\t%s\n", x->word, x->translation);
            last_w = x->word;
            last_t = x->translation;
        }
        fclose(f);
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
    wb_buf_release(&path);
}

static void json_summary(struct cli *c, struct cli_run *cr, const struct wb_run_stats *s,
                         int status, const char *retry)
{
    struct wb_buf j;
    size_t n = wb_run_failure_count(cr->run);
    (void)c;
    wb_buf_init(&j, 0);
    wb_buf_appendf(&j, "{\"status\": ");
    wb_json_quote(status == 0 ? "done" : status == WB_ECANCELED ? "interrupted"
                                     : status == WB_EINCOMPLETE ? "some failed"
                                                                : "error",
                  &j);
    wb_buf_appendf(&j, ", \"entries\": %lld, \"entries_done\": %lld, \"entries_failed\": %lld, "
                       "\"stages\": {",
                   (long long)s->entries, (long long)s->entries_done,
                   (long long)s->entries_failed);
    for (int i = 0; i < WB_STAGE_COUNT; i++) {
        const struct wb_stage_counts *k = &s->stage[i];
        wb_buf_appendf(&j,
                       "%s\"%s\": {\"total\": %lld, \"done\": %lld, \"cached\": %lld, "
                       "\"failed\": %lld, \"skipped\": %lld}",
                       i ? ", " : "", wb_stage_name((enum wb_stage)i), (long long)k->total,
                       (long long)k->done, (long long)k->cached, (long long)k->failed,
                       (long long)k->skipped);
    }
    wb_buf_appendf(&j, "}, \"failures\": [");
    for (size_t i = 0; i < n; i++) {
        const struct wb_run_failure *x = wb_run_failure_at(cr->run, i);
        wb_buf_appends(&j, i ? ", {\"word\": " : "{\"word\": ");
        wb_json_quote(x->word, &j);
        wb_buf_appends(&j, ", \"translation\": ");
        wb_json_quote(x->translation, &j);
        wb_buf_appendf(&j, ", \"stage\": \"%s\", \"error\": ", wb_stage_name(x->stage));
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
    fwrite(j.data, 1, j.len, stdout);
    wb_buf_release(&j);
}

static void text_summary(struct cli *c, struct cli_run *cr, const struct wb_run_stats *s)
{
    size_t n = wb_run_failure_count(cr->run);
    if (c->verbosity < 0 && !n)
        return;
    fprintf(stderr, "%lld of %lld entries complete", (long long)s->entries_done,
            (long long)s->entries);
    if (s->entries_failed)
        fprintf(stderr, ", %lld failed", (long long)s->entries_failed);
    fprintf(stderr, " in %.1f s\n", s->elapsed_s);
    for (int i = 0; i < WB_STAGE_COUNT; i++) {
        const struct wb_stage_counts *k = &s->stage[i];
        if (!k->total)
            continue;
        fprintf(stderr, "  %-8s %lld new, %lld already there, %lld failed", wb_stage_name((enum wb_stage)i),
                (long long)k->done, (long long)k->cached, (long long)k->failed);
        if (k->skipped)
            fprintf(stderr, ", %lld not made%s", (long long)k->skipped,
                    i == WB_STAGE_IMAGE && !strcmp(wb_config_get(c->cfg, "provider"), "offline") &&
                            !wb_config_get(c->cfg, "image_provider")
                        ? " (the offline provider makes no pictures)"
                    : c->cache_only ? " (--cache-only)"
                                    : "");
        fputc('\n', stderr);
    }
    fprintf(stderr, "  %lld requests, %lld retries, %lld rate-limited (429), %lld merged; tokens %lld in / %lld out; estimated cost $%.4f\n",
            (long long)s->requests, (long long)s->retries, (long long)s->rate_limited,
            (long long)s->merged, (long long)s->tokens_in, (long long)s->tokens_out, s->cost_usd);
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
    struct wb_run_stats s;
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
    if (wb_run_failure_count(cr->run))
        retry_hint(c, cr, &cmd);
    if (c->json)
        json_summary(c, cr, &s, rc, cmd.data);
    else
        text_summary(c, cr, &s);
    if (!c->json && wb_run_failure_count(cr->run) && cmd.len)
        fprintf(stderr, "retry only the failures:\n  %s\n", cmd.data);
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
    wb_run_free(cr->run);
    cr->run = NULL;
    return exit_code;
}
