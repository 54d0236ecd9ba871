/* Media written but not yet committed. A run killed between writing a media
 * file and committing its stage would leave a file no entry refers to. So
 * before a worker writes one, it leaves a marker, <media>/.pending/<name>,
 * holding the database it is for and the process id ("db=<path>\npid=<n>\n");
 * the loop thread removes it once the stage is committed. At the start of a
 * run, markers for this database whose process is gone are settled: a file
 * this store does not refer to is removed with its temp leftovers. Files of
 * other databases sharing the media directory, dialogue clips and anything
 * without a marker are never touched. Markers are never synced (a kill leaves
 * them whole in the page cache); a power cut may leave one empty or cut short,
 * and such a marker is left alone with its file (docs/pipeline.md).
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

#define PENDING_DIR ".pending"

static int marker_path(const struct run *r, const char *name, struct wb_buf *out)
{
    return wb_buf_appendf(out, "%s/%s/%s", r->media_dir, PENDING_DIR, name);
}

int pending_mark(struct run *r, const char *name, struct wb_error *err)
{
    struct wb_buf path, body;
    int rc;
    wb_buf_init(&path, 0);
    wb_buf_init(&body, 0);
    if (marker_path(r, name, &path) ||
        wb_buf_appendf(&body, "db=%s\npid=%ld\n", r->db_real, core_getpid())) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    /* Whole or absent (a temp file renamed into place), never synced: a
     * killed process leaves its writes in the page cache, so Ctrl-C and
     * kill -9 find the marker whole. Only a power cut can leave it empty or
     * cut short, and settling leaves such a marker alone. The folder is made
     * when missing; the marker is ours alone (mode 0600). */
    rc = core_write_atomic_opt(path.data, body.data, body.len,
                               CORE_ATOMIC_NOSYNC | CORE_ATOMIC_MKDIR | CORE_ATOMIC_PRIVATE, err);
out:
    wb_buf_release(&path);
    wb_buf_release(&body);
    return rc;
}

void pending_clear(struct run *r, const char *name)
{
    struct wb_buf path;
    wb_buf_init(&path, 0);
    if (marker_path(r, name, &path) == 0)
        unlink(path.data);
    wb_buf_release(&path);
}

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

/* The marker's database and process: 1 when it is ours to settle. Only a
 * whole marker counts: both lines there and ended, a real process id. A
 * power cut can leave one empty, cut short or full of zeros (markers are not
 * synced); such a marker is left alone, and so is its file. */
static int ours_to_settle(const struct run *r, const char *marker)
{
    char line[PATH_MAX + 16], db[sizeof line] = "";
    long pid = 0;
    int have_db = 0;
    FILE *f = fopen(marker, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\n");
        if (line[n] != '\n')
            break; /* a line cut short: the marker is not whole */
        line[n] = '\0';
        if (!strncmp(line, "db=", 3)) {
            snprintf(db, sizeof db, "%s", line + 3);
            have_db = 1;
        } else if (!strncmp(line, "pid=", 4)) {
            char *end;
            pid = strtol(line + 4, &end, 10);
            if (*end)
                pid = 0;
        }
    }
    fclose(f);
    if (!have_db || pid <= 0)
        return 0; /* not a whole marker */
    if (strcmp(db, r->db_real) != 0)
        return 0; /* another word bank's */
    if (pid != core_getpid() && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
        return 0; /* its writer is still running */
    return 1;
}

/* Remove name and its temp leftovers ("<name>.tmp-XXXXXX") from the media dir. */
static size_t remove_media(struct run *r, const char *name, int referenced)
{
    DIR *d = opendir(r->media_dir);
    struct dirent *de;
    size_t n = strlen(name), removed = 0;
    if (!d)
        return 0;
    while ((de = readdir(d)) != NULL) {
        struct wb_buf path;
        struct stat st;
        int exact = !strcmp(de->d_name, name);
        int temp = !strncmp(de->d_name, name, n) && !strncmp(de->d_name + n, ".tmp-", 5);
        if (!(temp || (exact && !referenced)))
            continue;
        wb_buf_init(&path, 0);
        core_path_join(&path, r->media_dir, de->d_name);
        /* A hard-linked file is also a dialogue clip: keep it. */
        if (stat(path.data, &st) == 0 && S_ISREG(st.st_mode) && st.st_nlink == 1 &&
            unlink(path.data) == 0)
            removed++;
        wb_buf_release(&path);
    }
    closedir(d);
    return removed;
}

void run_sweep_orphans(struct run *r)
{
    struct wb_error err = { 0 };
    struct wb_buf dir;
    DIR *d;
    struct dirent *de;
    size_t removed = 0;
    int noted = 0;
    wb_buf_init(&dir, 0);
    wb_buf_appendf(&dir, "%s/%s", r->media_dir, PENDING_DIR);
    d = opendir(dir.data);
    while (d && (de = readdir(d)) != NULL) {
        struct wb_buf marker, k;
        if (de->d_name[0] == '.')
            continue;
        wb_buf_init(&marker, 0);
        wb_buf_init(&k, 0);
        core_path_join(&marker, dir.data, de->d_name);
        if (ours_to_settle(r, marker.data)) {
            if (!noted) {
                /* What this store refers to, read once. */
                if (wb_store_each(r->store, NULL, note_file, r, &err) != 0) {
                    wb_buf_release(&marker);
                    wb_buf_release(&k);
                    break;
                }
                noted = 1;
            }
            wb_buf_appendf(&k, "F|%s", de->d_name);
            removed += remove_media(r, de->d_name, shared_find(r, k.data, 0) != NULL);
            unlink(marker.data);
        }
        wb_buf_release(&marker);
        wb_buf_release(&k);
    }
    if (d)
        closedir(d);
    wb_buf_release(&dir);
    if (removed)
        wb_log(WB_LOG_INFO, "removed %zu media file%s an interrupted run left uncommitted", removed,
               removed == 1 ? "" : "s");
}
