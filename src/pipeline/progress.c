/* Progress, cost and the rates learned from 429s: the run's figures as the
 * on_progress callback sees them (a smoothed rate, an ETA, the cost of the
 * tokens so far, a paused model), and each model's pace remembered in the
 * store for the next run. Loop thread only.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

/* A finished request's tokens, each at its own model's price
 * (price.<model>.in/out, USD per million tokens). */
void pipe_add_cost(struct run *r, enum wb_stage s, const struct stage_task *t)
{
    const char *m = t->model ? t->model : pipe_stage_model(r, s);
    int64_t out = t->usage.output_tokens + t->usage.thought_tokens;
    r->stats.tokens_in += t->usage.prompt_tokens;
    r->stats.tokens_out += out;
    r->cost_usd += (double)t->usage.prompt_tokens / 1e6 * pipe_price(r, m, "in") +
                   (double)out / 1e6 * pipe_price(r, m, "out");
}

/* ---- progress ---- */

double pipe_price(const struct run *r, const char *model, const char *dir)
{
    char name[256];
    snprintf(name, sizeof name, "price.%s.%s", model, dir);
    return wb_config_double(r->cfg, name);
}

void pipe_update_stats(struct run *r)
{
    struct engine_stats es;
    struct engine_model_info mi;
    int64_t now = core_clock_mono_ms(), done = 0, left = 0;
    engine_get_stats(r->eng, &es);
    r->stats.requests = (int64_t)es.attempts;
    r->stats.retries = (int64_t)es.retries;
    r->stats.rate_limited = (int64_t)es.rate_limited;
    r->stats.elapsed_s = (double)(now - r->started_ms) / 1000.0;
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        done += r->stats.stage[s].done + r->stats.stage[s].failed;
        left += r->stats.stage[s].queued + r->stats.stage[s].in_flight;
    }
    /* A smoothed completion rate: an exponential moving average per second. */
    if (now - r->rate_last_ms >= 1000) {
        double inst =
            (double)(done - r->rate_last_done) * 60000.0 / (double)(now - r->rate_last_ms);
        r->rate_ewma = r->rate_last_ms ? 0.7 * r->rate_ewma + 0.3 * inst : inst;
        r->rate_last_ms = now;
        r->rate_last_done = done;
    }
    r->stats.rate_per_min = r->rate_ewma;
    r->stats.eta_s = r->rate_ewma > 0.01 ? (double)left * 60.0 / r->rate_ewma : -1;
    /* Rough cost, summed per request at its model's price (USD per million
     * tokens; defaults for the default text model, price.<model>.in / .out). */
    r->stats.cost_usd = r->cost_usd;
    r->stats.paused[0] = '\0';
    for (size_t i = 0; i < engine_model_count(r->eng); i++) {
        if (engine_model_info(r->eng, i, &mi) == 0 && (mi.pause_ms > 0 || mi.exhausted)) {
            if (mi.exhausted)
                snprintf(r->stats.paused, sizeof r->stats.paused, "%s: daily quota exhausted",
                         mi.model);
            else
                snprintf(r->stats.paused, sizeof r->stats.paused, "%s paused %.0f s (rate limit)",
                         mi.model, (double)mi.pause_ms / 1000.0);
            break;
        }
    }
}

void pipe_progress_tick(void *ud, int status)
{
    struct run *r = ud;
    r->progress_timer = 0;
    if (status)
        return;
    pipe_update_stats(r);
    wb_log(WB_LOG_DEBUG, "pipeline: progress tick");
    if (r->opts.on_progress)
        r->opts.on_progress(r->opts.ud, &r->stats);
    /* Weak: the run ends when its work does, not at the next tick (it
     * waited up to 100 ms for it); the summary has the final counts. */
    if (pipe_work_left(r) && !r->fatal && !r->stopping &&
        engine_timer_weak(r->eng, PIPE_PROGRESS_MS, pipe_progress_tick, r) == 0)
        r->progress_timer = 1;
}

/* ---- rates learned from 429s, remembered in the store ---- */

static const enum core_req_kind stage_kind[WB_STAGE_COUNT] = { WB_REQ_TEXT, WB_REQ_IMAGE,
                                                               WB_REQ_SPEECH };

/* Start each model at the pace an earlier run learned, grown back with its
 * age (doubling every limit.learned_half_life_s, default an hour) so an old
 * lesson fades and the next 429 teaches a new one. */
void pipe_rates_load(struct run *r)
{
    double half = wb_config_double(r->cfg, "limit.learned_half_life_s");
    int64_t now = core_clock_wall_s();
    if (half < 1)
        half = 1;
    for (int s = 0; s < WB_STAGE_COUNT; s++) {
        const char *model = pipe_stage_model(r, (enum wb_stage)s);
        double rpm = 0, grown;
        int64_t at = 0;
        struct wb_error err = { 0 };
        if (r->prov[s]->local || !model || !*model || (r->opts.skip & WB_STAGE_BIT(s)))
            continue;
        if (wb_store_rate_get(r->store, model, &rpm, &at, &err) != 0)
            continue;
        grown = rpm * pow(2.0, (double)(now > at ? now - at : 0) / half);
        if (grown > rpm * 16)
            continue; /* forgotten */
        wb_log(WB_LOG_INFO, "%s: starting at %.0f requests a minute (learned from 429s)", model,
               grown);
        engine_set_rate(r->eng, model, stage_kind[s], grown);
    }
}

/* What this run learned: the pace the server allowed after its 429s; a
 * learned pace that drew no 429 may go a little faster next time. */
void pipe_rates_save(struct run *r)
{
    struct engine_model_info mi;
    for (size_t i = 0; i < engine_model_count(r->eng); i++) {
        struct wb_error err = { 0 };
        double rpm = 0;
        if (engine_model_info(r->eng, i, &mi) != 0)
            continue;
        if (mi.learned_rpm > 0)
            rpm = mi.learned_rpm;
        else if (mi.start_rpm > 0 && mi.rate_limited == 0 && mi.succeeded >= 10)
            rpm = mi.start_rpm * 1.25;
        if (rpm > 0 && wb_store_rate_set(r->store, mi.model, rpm, &err) != 0)
            wb_log(WB_LOG_WARN, "%s", wb_error_text(&err));
        else if (rpm > 0)
            wb_log(WB_LOG_INFO, "%s: %.0f requests a minute remembered for the next run", mi.model,
                   rpm);
    }
}
