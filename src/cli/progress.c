/* The progress display on stderr: on a terminal, one line per stage plus a
 * status line, redrawn in place; elsewhere a plain line now and then; never on
 * stdout. And the end-of-run summary. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

#define PLAIN_EVERY_S 5.0

void progress_init(struct progress *p, const struct cli *c)
{
    memset(p, 0, sizeof *p);
    p->tty = isatty(STDERR_FILENO);
    if (!strcmp(c->progress, "never") || c->verbosity < 0)
        p->mode = PROGRESS_OFF;
    else if (!strcmp(c->progress, "always"))
        p->mode = PROGRESS_LIVE;
    else
        p->mode = p->tty ? PROGRESS_LIVE : PROGRESS_PLAIN;
}

static void fmt_eta(double s, char *out, size_t n)
{
    if (s < 0) {
        snprintf(out, n, "--:--");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(out, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(out, n, "%ld:%02ld", t / 60, t % 60);
}

static void bar(char *out, size_t n, double frac, int width)
{
    size_t o = 0;
    int full = (int)(frac * width + 0.5);
    for (int i = 0; i < width && o + 4 < n; i++) {
        const char *cell = i < full ? "█" : "░";
        memcpy(out + o, cell, 3);
        o += 3;
    }
    out[o] = '\0';
}

/* The ETA once it means something: a few seconds in and enough stages
 * finished that the rate is not one lucky (or unlucky) request. Before that
 * "estimating", not a wild guess (10:01 for a 9 s run). */
static int64_t finished_stages(const struct wb_run_stats *s, int64_t *total)
{
    int64_t finished = 0;
    *total = 0;
    for (int i = 0; i < WB_STAGE_COUNT; i++) {
        const struct wb_stage_counts *c = &s->stage[i];
        finished += c->done + c->cached + c->failed + c->skipped;
        *total += c->total;
    }
    return finished;
}

static int eta_known(const struct wb_run_stats *s)
{
    int64_t total, finished = finished_stages(s, &total);
    return s->eta_s >= 0 && s->elapsed_s >= 3.0 && finished >= 5 && finished * 20 >= total;
}

/* Stages finished per minute over the whole run so far, once a second has
 * passed ("…" before). */
static void rate_text(const struct wb_run_stats *s, char *out, size_t n)
{
    int64_t total, finished = finished_stages(s, &total);
    if (s->elapsed_s >= 1.0 && finished > 0)
        snprintf(out, n, "%.0f stages/min", (double)finished * 60.0 / s->elapsed_s);
    else
        snprintf(out, n, "… stages/min");
}

void progress_eta(const struct wb_run_stats *s, char *out, size_t n)
{
    if (eta_known(s))
        fmt_eta(s->eta_s, out, n);
    else
        snprintf(out, n, "estimating");
}

void progress_update(struct progress *p, const struct wb_run_stats *s)
{
    char eta[32], b[128], rate[48];
    if (p->mode == PROGRESS_OFF)
        return;
    if (p->mode == PROGRESS_PLAIN) {
        if (s->elapsed_s - p->last_plain < PLAIN_EVERY_S && !p->final)
            return;
        p->last_plain = s->elapsed_s;
        progress_eta(s, eta, sizeof eta);
        rate_text(s, rate, sizeof rate);
        fprintf(stderr, "progress %.0fs (%s, ETA %s):", s->elapsed_s, rate, eta);
        for (int i = 0; i < WB_STAGE_COUNT; i++) {
            const struct wb_stage_counts *c = &s->stage[i];
            fprintf(stderr, " %s %lld/%lld%s", wb_stage_name((enum wb_stage)i),
                    (long long)(c->done + c->cached), (long long)c->total,
                    c->failed ? " (failures)" : "");
        }
        fputc('\n', stderr);
        return;
    }
    /* Live: move up over the previous drawing and redraw every line. */
    if (p->lines)
        fprintf(stderr, "\033[%dA", p->lines);
    p->lines = 0;
    for (int i = 0; i < WB_STAGE_COUNT; i++) {
        const struct wb_stage_counts *c = &s->stage[i];
        double frac =
            c->total ? (double)(c->done + c->cached + c->failed + c->skipped) / (double)c->total
                     : 1.0;
        bar(b, sizeof b, frac, 20);
        fprintf(stderr,
                "\033[2K%-8s %s %5lld/%-5lld done %lld · in flight %lld · failed %lld · queued "
                "%lld%s\n",
                wb_stage_name((enum wb_stage)i), b, (long long)(c->done + c->cached),
                (long long)c->total, (long long)c->done, (long long)c->in_flight,
                (long long)c->failed, (long long)c->queued, c->skipped ? " · skipped" : "");
        p->lines++;
    }
    progress_eta(s, eta, sizeof eta);
    rate_text(s, rate, sizeof rate);
    fprintf(stderr, "\033[2K%s · ETA %s · %lld requests · %lld retries · %lld rate-limited%s%s\n",
            rate, eta, (long long)s->requests, (long long)s->retries, (long long)s->rate_limited,
            s->paused[0] ? " · " : "", s->paused);
    p->lines++;
    fflush(stderr);
}
