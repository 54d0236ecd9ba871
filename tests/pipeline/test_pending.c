/* Pending markers (pending.c): written whole or not at all but never synced
 * (no fsync, no fchmod, no mkdir once the folder is there, getpid asked once
 * a process), skipped when the same bytes are already stored, and settled
 * only when whole: a marker a power cut left empty, cut short or zeroed is
 * left alone with its file. Calls are counted by wrapping them (the linker's
 * --wrap), never timed. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "test.h"
#include "th_syscount.h"
#include "wordbank/media.h"

static int n_fsync;

int __real_fsync(int fd);
int __wrap_fsync(int fd);
int __wrap_fsync(int fd)
{
    n_fsync++;
    return __real_fsync(fd);
}

static void reset(void)
{
    th_syscount_reset();
    n_fsync = 0;
}

/* A run with just what the markers use: a media folder and a store. */
static void run_init(struct run *r)
{
    struct wb_error err = { 0 };
    memset(r, 0, sizeof *r);
    r->media_dir = strdup(th_tmp_path("media"));
    r->db_real = strdup(th_tmp_path("wb.db"));
    CHECK(mkdir(r->media_dir, 0755) == 0);
    CHECK_OK(wb_store_open(r->db_real, WB_STORE_CREATE, &r->store, &err), &err);
}

static void run_done(struct run *r)
{
    wb_store_close(r->store);
    pipe_shared_free_all(r);
    free(r->media_dir);
    free(r->db_real);
}

static char *in_media(const struct run *r, const char *rel)
{
    static char path[4][4096];
    static int i;
    i = (i + 1) % 4;
    snprintf(path[i], sizeof path[i], "%s/%s", r->media_dir, rel);
    return path[i];
}

static int exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

TEST(markers_are_written_without_syncs)
{
    struct run r;
    struct wb_error err = { 0 };
    char name[64], want[4200];
    struct stat st;
    char *got;
    run_init(&r);
    reset();
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "%032d.mp3", i);
        CHECK_OK(pending_mark(&r, name, &err), &err);
    }
    CHECK_INT(n_fsync, 0);
    CHECK_INT(th_n_fchmod, 0);
    CHECK_INT(th_n_mkdir, 1); /* .pending, made by the first marker */
    CHECK(th_n_getpid <= 1);
    got = th_read_file(in_media(&r, ".pending/00000000000000000000000000000009.mp3"), NULL);
    snprintf(want, sizeof want, "db=%s\npid=%ld\n", r.db_real, (long)getpid());
    CHECK_STR(got, want);
    free(got);
    CHECK(stat(in_media(&r, ".pending/00000000000000000000000000000009.mp3"), &st) == 0 &&
          (st.st_mode & 0777) == 0600);
    pending_clear(&r, "00000000000000000000000000000009.mp3");
    CHECK(!exists(in_media(&r, ".pending/00000000000000000000000000000009.mp3")));
    run_done(&r);
}

TEST(settle_leaves_markers_that_are_not_whole)
{
    struct run r;
    char body[4200];
    static const char *const names[] = {
        "a0000000000000000000000000000000.mp3", /* empty marker */
        "b0000000000000000000000000000000.mp3", /* the db line without its end, no pid */
        "c0000000000000000000000000000000.mp3", /* the pid line cut short */
        "d0000000000000000000000000000000.mp3", /* zeros */
        "e0000000000000000000000000000000.mp3", /* whole, its writer dead: settled */
    };
    char zeros[40] = { 0 };
    run_init(&r);
    CHECK(mkdir(in_media(&r, ".pending"), 0755) == 0);
    for (size_t i = 0; i < 5; i++)
        th_write_text(in_media(&r, names[i]), "ID3 not really");
    th_write_text(in_media(&r, ".pending/a0000000000000000000000000000000.mp3"), "");
    snprintf(body, sizeof body, "db=%s", r.db_real);
    th_write_text(in_media(&r, ".pending/b0000000000000000000000000000000.mp3"), body);
    snprintf(body, sizeof body, "db=%s\npid=99999", r.db_real);
    th_write_text(in_media(&r, ".pending/c0000000000000000000000000000000.mp3"), body);
    th_write_file(in_media(&r, ".pending/d0000000000000000000000000000000.mp3"), zeros,
                  sizeof zeros);
    snprintf(body, sizeof body, "db=%s\npid=999999\n", r.db_real);
    th_write_text(in_media(&r, ".pending/e0000000000000000000000000000000.mp3"), body);
    run_sweep_orphans(&r);
    for (size_t i = 0; i < 4; i++) {
        char marker[128];
        snprintf(marker, sizeof marker, ".pending/%s", names[i]);
        CHECK_MSG(exists(in_media(&r, names[i])), "%s was removed", names[i]);
        CHECK_MSG(exists(in_media(&r, marker)), "%s was removed", marker);
    }
    CHECK(!exists(in_media(&r, names[4])));
    CHECK(!exists(in_media(&r, ".pending/e0000000000000000000000000000000.mp3")));
    run_done(&r);
}

TEST(bytes_already_stored_need_no_marker)
{
    struct run r;
    struct job j;
    struct stage_task t;
    struct wb_error err = { 0 };
    struct wb_pcm p;
    struct wb_buf clip;
    char name[128];
    run_init(&r);
    memset(&j, 0, sizeof j);
    memset(&t, 0, sizeof t);
    j.run = &r;
    t.job = &j;
    wb_pcm_init(&p);
    p.rate = 24000;
    p.channels = 1;
    p.n_samples = 2400;
    p.samples = calloc(p.n_samples, sizeof(int16_t));
    CHECK(p.samples != NULL);
    for (size_t i = 0; i < p.n_samples; i++)
        p.samples[i] = (int16_t)((i % 40) * 500 - 10000);
    wb_buf_init(&clip, 0);
    CHECK_OK(wb_audio_encode(&p, WB_AUDIO_WAV, &clip, &err), &err);
    CHECK_INT(wb_media_name(clip.data, clip.len, name, sizeof name), 0);
    /* New bytes: marked, then written. */
    CHECK_OK(stage_write_media(&t, clip.data, clip.len, &err), &err);
    CHECK(t.marked && t.file && !strcmp(t.file, name));
    CHECK(exists(in_media(&r, name)));
    pending_clear(&r, name);
    free(t.file);
    t.file = NULL;
    t.marked = 0;
    /* The same bytes again (another entry with the same clip): no marker. */
    reset();
    CHECK_OK(stage_write_media(&t, clip.data, clip.len, &err), &err);
    CHECK(!t.marked && t.file && !strcmp(t.file, name));
    CHECK_INT(n_fsync, 0);
    {
        char marker[200];
        snprintf(marker, sizeof marker, ".pending/%s", name);
        CHECK(!exists(in_media(&r, marker)));
    }
    free(t.file);
    wb_buf_release(&clip);
    wb_pcm_release(&p);
    run_done(&r);
}
