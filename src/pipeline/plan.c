/* Before a run starts: what the store already has, which stages this run
 * must do, and the media files an interrupted run left without an entry.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

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
    ok = wb_path_join(&path, r->media_dir, i->file) == 0 && wb_media_file_valid(path.data);
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
        wb_entry_init(&stored);
        rc = wb_store_get(r->store, j->e.word, j->e.translation, j->e.language, &stored, err);
        if (rc == 0) {
            if ((!stored.context || !*stored.context) && j->e.context)
                wb_str_set(&stored.context, j->e.context);
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
            if (r->opts.cache_only || (s == WB_STAGE_IMAGE && r->prov[s] == PROV_OFFLINE)) {
                c->skipped++; /* offline makes no pictures; cache-only makes nothing */
                continue;
            }
            j->want |= WB_STAGE_BIT(s);
            c->queued++;
        }
        if (!j->want)
            r->stats.entries_done++;
    }
    return 0;
}

/* Media files no entry refers to: written by a run that was killed between
 * writing a file and committing it. Only our own names (32 hex digits and an
 * extension), only files older than this run (a concurrent run's fresh files
 * are left alone) and not hard-linked (dialogue clips are). */
static int note_file(void *ud, const struct wb_entry *e)
{
    struct run *r = ud;
    for (int s = WB_STAGE_IMAGE; s <= WB_STAGE_AUDIO; s++) {
        struct wb_buf k;
        if (!e->stages[s].file)
            continue;
        wb_buf_init(&k, 0);
        if (wb_buf_appendf(&k, "F|%s", e->stages[s].file) == 0)
            shared_find(r, k.data, 1);
        wb_buf_release(&k);
    }
    return 0;
}

/* 1 for "<32 hex>.<ext>", 2 for the media writer's temp files
 * "<32 hex>.<ext>.tmp-XXXXXX", 0 for anything else. */
static int own_media_name(const char *n)
{
    const char *dot, *tmp;
    for (int i = 0; i < 32; i++) {
        if (!((n[i] >= '0' && n[i] <= '9') || (n[i] >= 'a' && n[i] <= 'f')))
            return 0;
    }
    if (n[32] != '.')
        return 0;
    dot = n + 33;
    tmp = strstr(dot, ".tmp-");
    if (tmp)
        return tmp - dot >= 3 && tmp - dot <= 4 && strlen(tmp + 5) == 6 ? 2 : 0;
    return strlen(dot) >= 3 && strlen(dot) <= 4;
}

void run_sweep_orphans(struct run *r)
{
    struct wb_error err = { 0 };
    DIR *d = opendir(r->media_dir);
    struct dirent *de;
    time_t start = time(NULL);
    size_t removed = 0;
    if (!d)
        return;
    if (wb_store_each(r->store, NULL, note_file, r, &err) != 0) {
        closedir(d);
        return;
    }
    while ((de = readdir(d)) != NULL) {
        struct wb_buf k, path;
        struct stat st;
        int kind = own_media_name(de->d_name);
        if (!kind)
            continue;
        wb_buf_init(&k, 0);
        wb_buf_init(&path, 0);
        wb_buf_appendf(&k, "F|%s", de->d_name);
        wb_path_join(&path, r->media_dir, de->d_name);
        if ((kind == 2 || !shared_find(r, k.data, 0)) && stat(path.data, &st) == 0 &&
            S_ISREG(st.st_mode) &&
            st.st_nlink == 1 && st.st_mtime < start - 1 && unlink(path.data) == 0)
            removed++;
        wb_buf_release(&k);
        wb_buf_release(&path);
    }
    closedir(d);
    if (removed)
        wb_log(WB_LOG_INFO, "removed %zu media file%s no entry refers to (left by an interrupted run)",
               removed, removed == 1 ? "" : "s");
}

