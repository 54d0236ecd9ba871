/* Before a run starts: what the store already has and which stages this run
 * must do. (Media an interrupted run left behind: pending.c.)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

/* Is a done stage really there? Its data, and for media a valid file. */
static int stage_present(const struct run *r, const struct wb_entry *e, enum wb_stage s)
{
    const struct wb_stage_info *i = &e->stages[s];
    struct wb_buf path;
    int ok;
    if (i->state != WB_STATE_DONE)
        return 0;
    if (s == WB_STAGE_DETAILS)
        return 1;
    if (!i->file || !*i->file)
        return 0;
    wb_buf_init(&path, 0);
    ok = core_path_join(&path, r->media_dir, i->file) == 0 && wb_media_file_valid(path.data);
    wb_buf_release(&path);
    return ok;
}

/* Load what the store has and decide, per stage, what this run must do. */
int run_plan(struct run *r, struct wb_error *err)
{
    for (size_t i = 0; i < r->n_jobs; i++) {
        struct job *j = &r->jobs[i];
        struct wb_entry stored;
        int rc;
        pipe_job_replan(j);
        wb_entry_init(&stored);
        rc = wb_store_get(r->store, j->e.word, j->e.translation, j->e.language, &stored, err);
        if (rc == 0) {
            if ((!stored.context || !*stored.context) && j->e.context)
                core_str_set(&stored.context, j->e.context);
            wb_entry_release(&j->e);
            j->e = stored;
        } else if (rc != WB_ENOTFOUND) {
            wb_entry_release(&stored);
            return rc;
        }
        wb_error_clear(err);
        for (int s = 0; s < WB_STAGE_COUNT; s++) {
            struct wb_stage_counts *c = &r->stats.stage[s];
            int present = stage_present(r, &j->e, (enum wb_stage)s);
            if (r->opts.skip & WB_STAGE_BIT(s))
                continue;
            c->total++;
            if (present && !(r->opts.force & WB_STAGE_BIT(s))) {
                c->cached++;
                continue;
            }
            if (r->opts.cache_only || (s == WB_STAGE_IMAGE && r->prov[s]->local)) {
                c->skipped++; /* offline makes no pictures; cache-only makes nothing */
                continue;
            }
            if (j->e.stages[s].state == WB_STATE_DONE)
                j->redo |= WB_STAGE_BIT(s);
            pipe_stage_set(r, j, (enum wb_stage)s, PS_WAITING);
        }
        if (!pipe_job_want(j))
            pipe_entry_set(r, j, PE_IDLE);
    }
    return 0;
}
