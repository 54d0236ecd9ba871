/* Media file tests: content-hash names with sniffed extensions, atomic
 * writes (no temp file left, same content twice is a no-op), validity checks
 * that treat missing, empty, truncated and foreign files as missing, and a
 * failed write that leaves nothing behind.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../export/media_bytes.h"
#include "test.h"
#include "wordbank/media.h"

static struct wb_error *ep(struct wb_error *e)
{
    return e;
}

static void make_clip(enum wb_audio_format f, struct wb_buf *out)
{
    struct wb_pcm p;
    struct wb_error err = { 0 };
    wb_pcm_init(&p);
    p.rate = 24000;
    p.channels = 1;
    p.n_samples = 12000;
    p.samples = calloc(p.n_samples, sizeof(int16_t));
    CHECK(p.samples != NULL);
    for (size_t i = 0; i < p.n_samples; i++)
        p.samples[i] = (int16_t)((i % 55) * 400 - 11000);
    wb_buf_init(out, 0);
    CHECK_OK(wb_audio_encode(&p, f, out, ep(&err)), ep(&err));
    wb_pcm_release(&p);
}

/* Names in dir (not "." or ".."), joined by spaces; count returned. */
static int list_dir(const char *dir, char *names, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    names[0] = '\0';
    CHECK(d != NULL);
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        n++;
        strncat(names, e->d_name, cap - strlen(names) - 2);
        strcat(names, " ");
    }
    closedir(d);
    return n;
}

TEST(sniff)
{
    struct wb_buf b;
    static const char *exts[] = { "mp3", "m4a", "opus", "wav" };
    for (int f = 0; f < 4; f++) {
        make_clip((enum wb_audio_format)f, &b);
        CHECK_STR(wb_media_sniff_ext(b.data, b.len), exts[f]);
        CHECK(wb_media_valid(b.data, b.len));
        CHECK(!wb_media_valid(b.data, b.len / 2));
        CHECK(!wb_media_valid(b.data, 0));
        wb_buf_release(&b);
    }
    CHECK(wb_media_sniff_ext(NULL, 0) == NULL);
    CHECK(wb_media_sniff_ext("OggS", 4) == NULL);
    CHECK(wb_media_sniff_ext("GIF89a", 6) == NULL);
    CHECK(!wb_media_valid("ID3", 3));
}

TEST(write_names_and_idempotence)
{
    struct wb_buf b;
    struct wb_error err = { 0 };
    char dir[600], path[700], names[2048], *n1 = NULL, *n2 = NULL;
    struct stat st1, st2;

    snprintf(dir, sizeof dir, "%s/media/sub", th_tmpdir()); /* created on demand */
    make_clip(WB_AUDIO_MP3, &b);
    CHECK_OK(wb_media_write(dir, b.data, b.len, &n1, ep(&err)), ep(&err));
    CHECK(n1 != NULL);
    CHECK_INT(strlen(n1), 32 + 4);
    CHECK(strcmp(n1 + 32, ".mp3") == 0);
    for (int i = 0; i < 32; i++)
        CHECK(strchr("0123456789abcdef", n1[i]) != NULL);
    snprintf(path, sizeof path, "%s/%s", dir, n1);
    CHECK_INT(wb_media_file_valid(path), 1);
    CHECK(stat(path, &st1) == 0);
    CHECK_INT(st1.st_size, b.len);
    CHECK_INT(st1.st_mode & 0777, 0644);

    /* Same content: same name, file untouched, nothing else in the folder. */
    CHECK_OK(wb_media_write(dir, b.data, b.len, &n2, ep(&err)), ep(&err));
    CHECK_STR(n2, n1);
    CHECK(stat(path, &st2) == 0);
    CHECK_INT(st2.st_ino, st1.st_ino);
    CHECK_INT(list_dir(dir, names, sizeof names), 1);
    free(n2);
    n2 = NULL;

    /* Different content, different name; images too. */
    wb_buf_release(&b);
    make_clip(WB_AUDIO_OPUS, &b);
    CHECK_OK(wb_media_write(dir, b.data, b.len, &n2, ep(&err)), ep(&err));
    CHECK(strcmp(n2 + 32, ".opus") == 0);
    CHECK(strncmp(n1, n2, 32) != 0);
    CHECK_INT(list_dir(dir, names, sizeof names), 2);
    CHECK_MSG(strstr(names, ".tmp") == NULL, "temp file left: %s", names);

    free(n1);
    free(n2);
    wb_buf_release(&b);
}

TEST(invalid_counts_as_missing)
{
    struct wb_buf b;
    struct wb_error err = { 0 };
    const char *dir = th_tmpdir();
    char path[700], names[2048], *name = NULL;

    make_clip(WB_AUDIO_M4A, &b);
    CHECK_OK(wb_media_write(dir, b.data, b.len, &name, ep(&err)), ep(&err));
    snprintf(path, sizeof path, "%s/%s", dir, name);
    CHECK_INT(wb_media_file_valid(path), 1);

    /* Truncated on disk (a crash mid-copy, a full disk): missing. */
    CHECK(truncate(path, (off_t)(b.len - 300)) == 0);
    CHECK_INT(wb_media_file_valid(path), 0);
    /* Writing it again repairs it. */
    CHECK_OK(wb_media_write(dir, b.data, b.len, NULL, ep(&err)), ep(&err));
    CHECK_INT(wb_media_file_valid(path), 1);

    /* Empty, foreign or absent: missing too. */
    CHECK(truncate(path, 0) == 0);
    CHECK_INT(wb_media_file_valid(path), 0);
    th_write_file(path, "<html>error</html>", 18);
    CHECK_INT(wb_media_file_valid(path), 0);
    CHECK(unlink(path) == 0);
    CHECK_INT(wb_media_file_valid(path), 0);
    CHECK_INT(wb_media_file_valid(dir), 0);
    CHECK_INT(wb_media_file_valid(NULL), 0);

    /* Invalid bytes are refused and nothing is written. */
    CHECK_INT(wb_media_write(dir, b.data, b.len - 300, NULL, ep(&err)), WB_EMEDIA);
    CHECK(strstr(err.msg, "truncated") != NULL);
    CHECK_INT(wb_media_write(dir, "hello", 5, NULL, ep(&err)), WB_EMEDIA);
    CHECK_INT(wb_media_write(dir, "", 0, NULL, ep(&err)), WB_EMEDIA);
    CHECK_INT(list_dir(dir, names, sizeof names), 0);

    free(name);
    wb_buf_release(&b);
}

/* A write that fails half-way (here: the file size limit, standing in for a
 * full disk) reports the error and leaves no temp file behind. */
TEST(failed_write_leaves_nothing)
{
    struct wb_buf b;
    struct wb_error err = { 0 };
    struct rlimit rl = { 4096, 4096 };
    const char *dir = th_tmpdir();
    char names[2048];
    int rc;

    make_clip(WB_AUDIO_WAV, &b);
    CHECK(b.len > 8192);
    signal(SIGXFSZ, SIG_IGN);
    CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
    rc = wb_media_write(dir, b.data, b.len, NULL, ep(&err));
    CHECK_MSG(rc == WB_ETOOBIG || rc == WB_ENOSPC || rc == WB_EIO, "rc %d: %s", rc, err.msg);
    CHECK_INT(list_dir(dir, names, sizeof names), 0);
    wb_buf_release(&b);
}

/* The binary is linked with -Wl,--wrap=write: while enospc_after >= 0, the
 * writes inside the media writer fail with ENOSPC once that many bytes went
 * through, like a disk filling up mid-file. */
static long enospc_after = -1;
ssize_t __real_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n);
ssize_t __wrap_write(int fd, const void *buf, size_t n)
{
    if (enospc_after >= 0 && fd > 2) {
        if (enospc_after == 0) {
            errno = ENOSPC;
            return -1;
        }
        if ((long)n > enospc_after)
            n = (size_t)enospc_after;
        enospc_after -= (long)n;
    }
    return __real_write(fd, buf, n);
}

TEST(disk_full_is_enospc)
{
    struct wb_buf b;
    struct wb_error err = { 0 };
    const char *dir = th_tmpdir();
    char names[2048];
    int rc;

    make_clip(WB_AUDIO_MP3, &b);
    enospc_after = 1000;
    rc = wb_media_write(dir, b.data, b.len, NULL, ep(&err));
    enospc_after = -1;
    CHECK_INT(rc, WB_ENOSPC);
    CHECK(strstr(err.msg, "No space") != NULL);
    CHECK_MSG(list_dir(dir, names, sizeof names) == 0, "left behind: %s", names);
    /* Space again: the same write succeeds. */
    CHECK_OK(wb_media_write(dir, b.data, b.len, NULL, ep(&err)), ep(&err));
    CHECK_INT(list_dir(dir, names, sizeof names), 1);
    wb_buf_release(&b);
}

/* ADTS AAC (what the original system stored): sniffed as "aac", valid only
 * while its frames tile the file exactly. */
TEST(adts_aac)
{
    struct wb_buf b;
    char name[80];
    wb_buf_init(&b, 0);
    tm_adts(&b, 5, 3);
    CHECK_STR(wb_media_sniff_ext(b.data, b.len), "aac");
    CHECK(wb_media_valid(b.data, b.len));
    CHECK(wb_media_name(b.data, b.len, name, sizeof name) == 0);
    CHECK(strlen(name) == 36 && strcmp(name + 32, ".aac") == 0);
    CHECK(!wb_media_valid(b.data, b.len - 3)); /* the last frame cut short */
    b.data[16 + 5] ^= 0x80;                    /* the second frame's length broken */
    CHECK(!wb_media_valid(b.data, b.len));
    b.data[16 + 5] ^= 0x80;
    b.data[16 + 1] = (char)0xF3; /* layer != 0: not ADTS */
    CHECK(!wb_media_valid(b.data, b.len));
    CHECK(wb_media_sniff_ext("plain text", 10) == NULL);
    wb_buf_release(&b);
}

TEST(store_names)
{
    static const char *const good[] = { "0123456789abcdef0123456789abcdef.jpg",
                                        "0123456789abcdef0123456789abcdef.aac",
                                        "dialogue-0123456789abcdef0123456789abcdef.mp3" };
    static const char *const bad[] = { "",
                                       "x.jpg",
                                       "../0123456789abcdef0123456789abcdef.jpg",
                                       "/0123456789abcdef0123456789abcdef.jpg",
                                       "0123456789ABCDEF0123456789abcdef.jpg",
                                       "0123456789abcdef0123456789abcdef.txt",
                                       "0123456789abcdef0123456789abcdef.jpg/",
                                       "0123456789abcdef0123456789abcdef.jpg.sh",
                                       "0123456789abcdef0123456789abcde.jpg",
                                       "sub/0123456789abcdef0123456789abcdef.jpg" };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        CHECK_MSG(wb_media_name_ok(good[i]), "refused %s", good[i]);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_MSG(!wb_media_name_ok(bad[i]), "accepted %s", bad[i]);
    CHECK(!wb_media_name_ok(NULL));
}

/* wb_media_read: the one way stored media is read back. */
TEST(read_only_store_files)
{
    char dir[1024], p[4096], q[2048], name[80], other[80];
    struct wb_buf b, got, o;
    struct wb_error err = { 0 };
    char *stored = NULL;
    FILE *f;
    snprintf(dir, sizeof dir, "%s/m", th_tmpdir());
    wb_buf_init(&b, 0);
    wb_buf_init(&got, 0);
    wb_buf_init(&o, 0);
    tm_adts(&b, 3, 4);
    CHECK_OK(wb_media_write(dir, b.data, b.len, &stored, &err), &err);
    CHECK_OK(wb_media_read(dir, stored, &got, &err), &err);
    CHECK(got.len == b.len && memcmp(got.data, b.data, b.len) == 0);
    /* A copy into another folder, same name and bytes. */
    snprintf(q, sizeof q, "%s/site/media", th_tmpdir());
    CHECK_OK(wb_media_copy(dir, stored, q, &err), &err);
    snprintf(p, sizeof p, "%s/%s", q, stored);
    CHECK(wb_media_file_valid(p));
    /* Not a store name. */
    CHECK_INT(wb_media_read(dir, "../m/x.aac", &got, &err), WB_EINVAL);
    /* Missing. */
    CHECK_INT(wb_media_read(dir, "0123456789abcdef0123456789abcdef.jpg", &got, &err), WB_ENOTFOUND);
    /* A symbolic link under a store name (to a valid file with that hash). */
    tm_adts(&o, 2, 6);
    snprintf(p, sizeof p, "%s/outside.aac", th_tmpdir());
    CHECK((f = fopen(p, "wb")) && fwrite(o.data, 1, o.len, f) == o.len && fclose(f) == 0);
    CHECK(wb_media_name(o.data, o.len, other, sizeof other) == 0);
    snprintf(q, sizeof q, "%s/%s", dir, other);
    CHECK(symlink(p, q) == 0);
    CHECK_INT(wb_media_read(dir, other, &got, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "symbolic link") != NULL);
    CHECK(unlink(q) == 0);
    /* Bytes that are not what the name says. */
    CHECK((f = fopen(q, "wb")) && fwrite(b.data, 1, b.len, f) == b.len && fclose(f) == 0);
    CHECK_INT(wb_media_read(dir, other, &got, &err), WB_EMEDIA);
    CHECK(unlink(q) == 0);
    /* Text under a media name. */
    snprintf(name, sizeof name, "%.32s.jpg", other);
    snprintf(q, sizeof q, "%s/%s", dir, name);
    CHECK((f = fopen(q, "wb")) && fputs("not a picture", f) >= 0 && fclose(f) == 0);
    CHECK_INT(wb_media_read(dir, name, &got, &err), WB_EMEDIA);
    /* Too big: refused before reading (a sparse file). */
    CHECK(truncate(q, (off_t)WB_MEDIA_MAX_FILE + 1) == 0);
    CHECK_INT(wb_media_read(dir, name, &got, &err), WB_ETOOBIG);
    CHECK_INT(wb_media_load(q, 1, &got, &err), WB_ETOOBIG);
    CHECK_MSG(strstr(err.msg, "(67108865 bytes)") != NULL, "not refused by its size: %s", err.msg);
    CHECK(got.len == b.len); /* nothing appended by the failures */
    free(stored);
    wb_buf_release(&b);
    wb_buf_release(&got);
    wb_buf_release(&o);
}

/* Linked with -Wl,--wrap=mkdir: the calls the media writer makes. */
static int n_mkdir;
int __real_mkdir(const char *p, mode_t m);
int __wrap_mkdir(const char *p, mode_t m);
int __wrap_mkdir(const char *p, mode_t m)
{
    n_mkdir++;
    return __real_mkdir(p, m);
}

TEST(folder_made_when_missing_not_checked_per_file)
{
    struct wb_buf a, b;
    struct wb_error err = { 0 };
    char dir[4096], names[2048];
    char *n1 = NULL, *n2 = NULL;

    make_clip(WB_AUDIO_MP3, &a);
    make_clip(WB_AUDIO_WAV, &b);
    snprintf(dir, sizeof dir, "%s/media/sub", th_tmpdir());
    n_mkdir = 0;
    CHECK_OK(wb_media_write(dir, a.data, a.len, &n1, ep(&err)), ep(&err));
    CHECK(n_mkdir >= 2); /* media, then media/sub */
    /* The folder is there now: the next file costs no mkdir. */
    n_mkdir = 0;
    CHECK_OK(wb_media_write(dir, b.data, b.len, &n2, ep(&err)), ep(&err));
    CHECK_INT(n_mkdir, 0);
    CHECK_INT(list_dir(dir, names, sizeof names), 2);
    CHECK(strstr(names, n1) && strstr(names, n2));
    free(n1);
    free(n2);
    wb_buf_release(&a);
    wb_buf_release(&b);
}
