/* Gemini Batch mode on the command line: `propagate --batch [FILE]` (with
 * --no-wait), `batch status [--json]` and `batch cancel [JOB]`.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

static struct wb_run *volatile batch_run;
static volatile sig_atomic_t batch_interrupts;

static void on_batch_signal(int sig)
{
    (void)sig;
    if (++batch_interrupts > 1)
        _exit(EXIT_INTERRUPTED);
    if (batch_run)
        wb_run_interrupt(batch_run);
}

struct batch_ui {
    struct cli *c;
    int quiet;   /* -q: no notices, no summary */
    int no_live; /* --progress never: no job lines */
};

static int final_state(const char *s)
{
    return !strcmp(s, "succeeded") || !strcmp(s, "failed") || !strcmp(s, "cancelled") ||
           !strcmp(s, "expired");
}

/* One line per poll round: the jobs still waited for, with their counts. */
static void on_jobs(void *ud, const struct wb_batch_view *v, size_t n)
{
    struct batch_ui *ui = ud;
    size_t waiting = 0;
    if (ui->quiet || ui->no_live)
        return;
    for (size_t i = 0; i < n; i++)
        waiting += !final_state(v[i].state);
    fprintf(stderr, "batch: %zu of %zu job(s) finished", n - waiting, n);
    for (size_t i = 0, k = 0; i < n; i++) {
        if (final_state(v[i].state))
            continue;
        fprintf(stderr, "%s %s %s %s %lld/%lld", k++ ? ";" : ":", v[i].name,
                wb_stage_name(v[i].stage), v[i].state,
                (long long)v[i].succeeded + (long long)v[i].failed, (long long)v[i].requests);
    }
    fputc('\n', stderr);
}

static void on_notice(void *ud, const char *msg)
{
    struct batch_ui *ui = ud;
    if (!ui->quiet)
        fprintf(stderr, "batch: %s\n", msg);
}

/* --json: the batch part's result when it is the whole run. */
static void json_summary(struct cli *c, const struct wb_batch_opts *o, const char *status)
{
    struct wb_buf j;
    wb_buf_init(&j, 0);
    wb_buf_appendf(&j, "{\"status\": \"%s\", \"batch\": true, \"jobs_left\": %zu, \"stages\": {",
                   status, o->jobs_left);
    for (int i = 0; i < WB_STAGE_COUNT; i++)
        wb_buf_appendf(&j, "%s\"%s\": {\"done\": %zu, \"batched\": %s}", i ? ", " : "",
                       wb_stage_name((enum wb_stage)i), o->done[i],
                       o->batched & WB_STAGE_BIT(i) ? "true" : "false");
    wb_buf_appendf(&j,
                   "}, \"failed\": %zu, \"lost\": %zu, \"tokens_in\": %lld, \"tokens_out\": "
                   "%lld, \"cost_usd\": %.4f}",
                   o->failed, o->lost, (long long)o->tokens_in, (long long)o->tokens_out,
                   o->cost_usd);
    cli_json_emit(c, &j);
    wb_buf_release(&j);
}

int cli_batch_run(struct cli *c, struct cli_run *cr, int *failed)
{
    struct wb_batch_opts o;
    struct wb_error err = { 0 };
    struct batch_ui ui = { c, c->verbosity < 0, !strcmp(c->progress, "never") };
    struct sigaction sa, old_int, old_term;
    int rc;

    wb_batch_opts_init(&o);
    o.no_wait = wb_config_bool(c->cfg, "batch.no_wait");
    o.on_jobs = on_jobs;
    o.on_notice = on_notice;
    o.ud = &ui;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_batch_signal;
    sigemptyset(&sa.sa_mask);
    batch_run = cr->run;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    rc = wb_run_batch(cr->run, &o, &err);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    batch_run = NULL;
    *failed = o.failed > 0 || o.lost > 0;

    if (!ui.quiet) {
        fprintf(stderr,
                "batch: %zu details, %zu pictures, %zu speech made, %zu failed; tokens %lld in / "
                "%lld out; estimated cost $%.4f (batch price)\n",
                o.done[WB_STAGE_DETAILS], o.done[WB_STAGE_IMAGE], o.done[WB_STAGE_AUDIO], o.failed,
                (long long)o.tokens_in, (long long)o.tokens_out, o.cost_usd);
    }
    if (rc == 0 && o.jobs_left == 0) {
        /* Anything left for interactive requests (speech without batch
         * support, another provider's stages)? Else the batch summary is all. */
        unsigned want = WB_STAGES_ALL;
        if (c->no_image)
            want &= ~WB_STAGE_BIT(WB_STAGE_IMAGE);
        if (c->no_audio)
            want &= ~WB_STAGE_BIT(WB_STAGE_AUDIO);
        if ((want & ~o.batched) != 0 || c->cache_only)
            return CLI_BATCH_CONTINUE;
    }
    if (rc == 0 && o.jobs_left == 0) {
        rc = EXIT_OK;
    } else if (rc == 0) {
        fprintf(stderr,
                "batch: %zu job(s) submitted and running; run the same command again to collect "
                "them (wordbank batch status shows them)\n",
                o.jobs_left);
        rc = EXIT_OK;
    } else if (rc == WB_ECANCELED) {
        cli_error("%s", wb_error_text(&err));
        rc = EXIT_INTERRUPTED;
    } else {
        cli_error("%s", wb_error_text(&err));
        rc = cli_exit_for(rc) == EXIT_SOME_FAILED ? EXIT_ENV : cli_exit_for(rc);
    }
    if (rc == EXIT_OK && *failed)
        rc = EXIT_SOME_FAILED;
    if (c->json)
        json_summary(c, &o,
                     rc == EXIT_INTERRUPTED   ? "interrupted"
                     : o.jobs_left            ? "submitted"
                     : rc == EXIT_SOME_FAILED ? "some failed"
                     : rc == EXIT_OK          ? "done"
                                              : "error");
    wb_run_free(cr->run);
    cr->run = NULL;
    return rc;
}

static void json_jobs(struct cli *c, const struct wb_batch_job *v, size_t n)
{
    struct wb_buf j;
    wb_buf_init(&j, 0);
    wb_buf_appends(&j, "{\"jobs\": [");
    for (size_t i = 0; i < n; i++) {
        wb_buf_appends(&j, i ? ", {\"name\": " : "{\"name\": ");
        wb_json_quote(v[i].name, &j);
        wb_buf_appends(&j, ", \"model\": ");
        wb_json_quote(v[i].model, &j);
        wb_buf_appendf(&j, ", \"stage\": \"%s\", \"state\": ", wb_stage_name(v[i].stage));
        wb_json_quote(v[i].state, &j);
        wb_buf_appendf(&j, ", \"collected\": %s, \"input\": ", v[i].collected ? "true" : "false");
        if (v[i].input_file)
            wb_json_quote(v[i].input_file, &j);
        else
            wb_buf_appends(&j, "\"inline\"");
        wb_buf_appendf(&j,
                       ", \"requests\": %lld, \"succeeded\": %lld, \"failed\": %lld, "
                       "\"created_at\": %lld, \"updated_at\": %lld}",
                       (long long)v[i].requests, (long long)v[i].succeeded, (long long)v[i].failed,
                       (long long)v[i].created_at, (long long)v[i].updated_at);
    }
    wb_buf_appends(&j, "]}");
    cli_json_emit(c, &j);
    wb_buf_release(&j);
}

static int batch_status(struct cli *c, struct wb_store *st)
{
    struct wb_error err = { 0 };
    struct wb_batch_job *v = NULL;
    size_t n = 0;
    int rc;
    if (wb_config_get(c->cfg, "gemini_api_key") && (rc = wb_batch_refresh(c->cfg, st, &err)))
        cli_warn("cannot ask the API for the jobs' states (showing the last known): %s",
                 wb_error_text(&err));
    if ((rc = wb_store_batch_list(st, 0, &v, &n, &err))) {
        cli_error("%s", wb_error_text(&err));
        return cli_exit_for(rc);
    }
    if (c->json) {
        json_jobs(c, v, n);
    } else if (!n) {
        printf("no batch jobs\n");
    } else {
        for (size_t i = 0; i < n; i++) {
            char when[32] = "";
            time_t t = (time_t)v[i].created_at;
            struct tm tm;
            if (localtime_r(&t, &tm))
                strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
            printf("%-28s %-8s %-10s %6lld requests  %s%s\n", v[i].name, wb_stage_name(v[i].stage),
                   v[i].state, (long long)v[i].requests, when, v[i].collected ? "  collected" : "");
        }
    }
    wb_batch_jobs_free(v, n);
    return EXIT_OK;
}

int cmd_batch(struct cli *c)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    int rc;
    if (c->argc < 1 || (strcmp(c->argv[0], "status") && strcmp(c->argv[0], "cancel")) ||
        (!strcmp(c->argv[0], "status") && c->argc != 1) || c->argc > 2)
        return cli_usage("batch");
    cli_preload(c, WB_STAGES_ALL, WB_PRELOAD_NETWORK);
    if ((rc = cli_open_store(c, 0, &st)))
        return rc;
    if (!st) {
        if (c->json)
            json_jobs(c, NULL, 0);
        else if (!strcmp(c->argv[0], "status"))
            printf("no batch jobs\n");
        else
            cli_error("no batch jobs to cancel");
        return strcmp(c->argv[0], "status") ? EXIT_SOME_FAILED : EXIT_OK;
    }
    if (!strcmp(c->argv[0], "status")) {
        rc = batch_status(c, st);
    } else {
        size_t n = 0;
        int brc = wb_batch_cancel(c->cfg, st, c->argc > 1 ? c->argv[1] : NULL, &n, &err);
        if (brc) {
            cli_error("%s", wb_error_text(&err));
            rc = brc == WB_ENOTFOUND ? EXIT_SOME_FAILED : cli_exit_for(brc);
        } else {
            if (c->json) {
                struct wb_buf j;
                wb_buf_init(&j, 0);
                wb_buf_appendf(&j, "{\"cancelled\": %zu}", n);
                cli_json_emit(c, &j);
                wb_buf_release(&j);
            } else {
                fprintf(stderr,
                        "%zu batch job(s) cancelled; their entries go into new jobs on the "
                        "next run\n",
                        n);
            }
            rc = EXIT_OK;
        }
    }
    wb_store_close(st);
    return rc;
}
