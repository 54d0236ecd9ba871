/* The embedding API (wordbank/bank.h) through the shared library, as an
 * embedding program sees it: open, add offline (blocking, with progress, and
 * asynchronous: start, poll the fd, wait, cancel), read, render Markdown and
 * build a site from the bank; option structs by size; the version API; and
 * wb_preload (the heavy libraries mapped only when asked for). */
#define _GNU_SOURCE /* dl_iterate_phdr */
#include <dirent.h>
#include <link.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test.h"
#include "wordbank/wordbank.h"

TEST(version_api)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", WB_VERSION_MAJOR, WB_VERSION_MINOR, WB_VERSION_PATCH);
    CHECK_STR(WB_VERSION_STRING, want);
    CHECK_STR(wb_version(), WB_VERSION_STRING);
    CHECK(WB_VERSION_NUM ==
          ((WB_VERSION_MAJOR << 16) | (WB_VERSION_MINOR << 8) | WB_VERSION_PATCH));
}

TEST(bank_open_missing)
{
    struct wb_error err = { 0 };
    struct wb_bank *b = (struct wb_bank *)1;
    char path[4096];
    snprintf(path, sizeof path, "%s/none/wb.db", th_tmpdir());
    CHECK_INT(wb_bank_open(path, NULL, 0, &b, &err), WB_ENOTFOUND);
    CHECK(b == NULL);
    CHECK(strstr(wb_error_text(&err), "wb.db") != NULL);
    struct stat sb;
    CHECK(stat(path, &sb) != 0); /* nothing created without WB_STORE_CREATE */
    wb_bank_close(NULL);
}

static void count_progress(void *ud, const struct wb_run_stats *s)
{
    int *n = ud;
    (*n)++;
    CHECK(s->entries <= 1);
}

struct diags {
    int n;
    char first[256];
};

static void on_diag(void *ud, const char *msg)
{
    struct diags *d = ud;
    if (!d->n++)
        snprintf(d->first, sizeof d->first, "%s", msg);
}

TEST(bank_add_get_render)
{
    struct wb_error err = { 0 };
    struct wb_config *cfg = NULL;
    struct wb_bank *b = NULL;
    struct wb_run_opts o = { 0 };
    struct wb_entry e, g;
    struct wb_buf html;
    struct diags d = { 0 };
    char path[8192], cache[4096], media[4096];
    int progress = 0;
    const char *md = "# Lesson\n\n<wordbank>\n- 猫: cat (the pet)\n- not a word line\n"
                     "- 犬: dog\n</wordbank>\n";

    snprintf(path, sizeof path, "%s/deep/folder/wb.db", th_tmpdir());
    snprintf(cache, sizeof cache, "%s/cache", th_tmpdir());
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set(cfg, "provider", "offline", WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_set(cfg, "cache_dir", cache, WB_SRC_FLAG), 0);
    CHECK_OK(wb_bank_open(path, cfg, WB_STORE_CREATE, &b, &err), &err);
    snprintf(media, sizeof media, "%s/deep/folder/media", th_tmpdir());
    CHECK_STR(wb_bank_media_dir(b), media);
    CHECK(wb_bank_config(b) == cfg);
    CHECK_STR(wb_store_path(wb_bank_store(b)), path);

    wb_entry_init(&e);
    CHECK_INT(wb_bank_add(b, "  ", "cat", NULL, NULL, &e, &err), WB_EINVAL);

    /* Options without their size are refused, not read past their end. */
    o.on_progress = count_progress;
    o.ud = &progress;
    CHECK_INT(wb_bank_add(b, "猫", "cat", "the pet", &o, &e, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "wb_run_opts") != NULL);
    wb_run_opts_init(&o);
    o.on_progress = count_progress;
    o.ud = &progress;
    CHECK_OK(wb_bank_add(b, "猫", "cat", "the pet", &o, &e, &err), &err);
    CHECK(progress >= 1);
    CHECK_STR(e.word, "猫");
    CHECK_STR(e.reading, "ねこ");
    CHECK_INT(e.stages[WB_STAGE_DETAILS].state, WB_STATE_DONE);
    CHECK_INT(e.stages[WB_STAGE_AUDIO].state, WB_STATE_DONE);
    CHECK(e.stages[WB_STAGE_AUDIO].file != NULL);
    snprintf(path, sizeof path, "%s/%s", media, e.stages[WB_STAGE_AUDIO].file);
    CHECK(wb_media_file_valid(path));

    wb_entry_init(&g);
    CHECK_OK(wb_bank_get(b, "猫", "cat", &g, &err), &err);
    CHECK_STR(g.reading, "ねこ");
    CHECK_INT(g.id, e.id);
    CHECK_INT(wb_bank_get(b, "犬", "dog", &g, &err), WB_ENOTFOUND);

    wb_buf_init(&html, 0);
    CHECK_OK(
        wb_bank_render_markdown(b, "lesson.md", md, strlen(md), NULL, on_diag, &d, &html, &err),
        &err);
    CHECK(strstr(html.data, "ねこ") != NULL);     /* 猫's card, from the bank */
    CHECK(strstr(html.data, "dog") != NULL);      /* 犬 is not in the bank: the line's own */
    CHECK(strstr(html.data, "# Lesson") != NULL); /* a fragment keeps the Markdown */
    CHECK_INT(d.n, 1);
    CHECK_MSG(!strncmp(d.first, "lesson.md:5:", 12), "diag: %s", d.first);

    wb_buf_release(&html);
    wb_entry_release(&e);
    wb_entry_release(&g);
    wb_bank_close(b);
    wb_config_free(cfg);
}

TEST(bank_memory_defaults)
{
    struct wb_error err = { 0 };
    struct wb_bank *b = NULL;
    struct wb_entry e;
    CHECK_OK(wb_bank_open(":memory:", NULL, WB_STORE_CREATE, &b, &err), &err);
    CHECK(wb_bank_config(b) != NULL); /* a private configuration, defaults only */
    CHECK_STR(wb_config_get(wb_bank_config(b), "lang"), "ja");
    CHECK_STR(wb_bank_media_dir(b), "./media");
    wb_entry_init(&e);
    CHECK_INT(wb_bank_get(b, "猫", "cat", &e, &err), WB_ENOTFOUND);
    wb_entry_release(&e);
    wb_bank_close(b);
}

/* An offline bank in the test's folder (NAME.db), its configuration the caller's. */
static struct wb_bank *offline_bank(const char *name, struct wb_config **cfg)
{
    struct wb_error err = { 0 };
    struct wb_bank *b = NULL;
    char path[4096], cache[4096];
    snprintf(path, sizeof path, "%s/%s/wb.db", th_tmpdir(), name);
    snprintf(cache, sizeof cache, "%s/cache", th_tmpdir());
    CHECK_INT(wb_config_new(cfg), 0);
    CHECK_INT(wb_config_set(*cfg, "provider", "offline", WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_set(*cfg, "cache_dir", cache, WB_SRC_FLAG), 0);
    CHECK_OK(wb_bank_open(path, *cfg, WB_STORE_CREATE, &b, &err), &err);
    return b;
}

struct done {
    int calls, rc;
    struct wb_bank_job *job;
};

static void on_done(void *ud, struct wb_bank_job *job, int rc)
{
    struct done *d = ud;
    d->calls++;
    d->rc = rc;
    d->job = job;
    /* The job's own thread may not wait for itself. */
    CHECK_INT(wb_bank_job_wait(job, NULL, NULL), WB_EINVAL);
}

TEST(bank_add_async)
{
    struct wb_error err = { 0 };
    struct wb_config *cfg = NULL;
    struct wb_bank *b = offline_bank("async", &cfg);
    struct wb_bank_job *job = NULL, *other = (struct wb_bank_job *)1;
    struct done d = { 0 };
    struct wb_entry e;
    struct pollfd pfd;
    int n;

    CHECK_INT(wb_bank_add_start(b, "犬", "", NULL, NULL, on_done, &d, &job, &err), WB_EINVAL);
    CHECK(job == NULL);
    CHECK_OK(wb_bank_add_start(b, "犬", "dog", NULL, NULL, on_done, &d, &job, &err), &err);
    CHECK(job != NULL);
    /* One job per bank until it is waited for. */
    CHECK_INT(wb_bank_add_start(b, "猫", "cat", NULL, NULL, NULL, NULL, &other, &err), WB_ELOCKED);
    CHECK(other == NULL);
    wb_entry_init(&e);
    CHECK_INT(wb_bank_add(b, "猫", "cat", NULL, NULL, &e, &err), WB_ELOCKED);
    /* An event loop's view: the descriptor turns readable when it is over. */
    pfd.fd = wb_bank_job_fd(job);
    pfd.events = POLLIN;
    do
        n = poll(&pfd, 1, 120000);
    while (n < 0);
    CHECK_INT(n, 1);
    CHECK(pfd.revents & POLLIN);
    CHECK_INT(wb_bank_job_done(job), 1);
    CHECK_OK(wb_bank_job_wait(job, &e, &err), &err);
    CHECK_INT(d.calls, 1);
    CHECK_INT(d.rc, 0);
    CHECK(d.job == job);
    CHECK_STR(e.reading, "いぬ");
    CHECK_INT(e.stages[WB_STAGE_DETAILS].state, WB_STATE_DONE);
    /* The bank is the caller's again. */
    CHECK_OK(wb_bank_add(b, "猫", "cat", NULL, NULL, &e, &err), &err);
    CHECK_STR(e.reading, "ねこ");
    wb_entry_release(&e);
    wb_bank_close(b);
    wb_config_free(cfg);
}

/* A Gemini bank whose server (a loopback socket that never answers) keeps a
 * request in flight until the job is canceled. */
TEST(bank_add_async_cancel)
{
    struct wb_error err = { 0 };
    struct wb_config *cfg = NULL;
    struct wb_bank *b = NULL;
    struct wb_bank_job *job = NULL;
    struct sockaddr_in sa = { 0 };
    socklen_t len = sizeof sa;
    struct pollfd pfd;
    char path[4096], url[64];
    int lfd, n;

    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    CHECK(lfd >= 0);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK_INT(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
    CHECK_INT(listen(lfd, 16), 0);
    CHECK_INT(getsockname(lfd, (struct sockaddr *)&sa, &len), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d", ntohs(sa.sin_port));
    snprintf(path, sizeof path, "%s/cancel/wb.db", th_tmpdir());
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set(cfg, "provider", "gemini", WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_set(cfg, "gemini_api_key", "test-key-not-real", WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_set(cfg, "base_url", url, WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_set(cfg, "stop.grace_ms", "200", WB_SRC_FLAG), 0);
    CHECK_OK(wb_bank_open(path, cfg, WB_STORE_CREATE, &b, &err), &err);
    CHECK_OK(wb_bank_add_start(b, "鳥", "bird", NULL, NULL, NULL, NULL, &job, &err), &err);
    pfd.fd = wb_bank_job_fd(job);
    pfd.events = POLLIN;
    /* Nobody answers: not over while the request waits. */
    CHECK_INT(poll(&pfd, 1, 300), 0);
    CHECK_INT(wb_bank_job_done(job), 0);
    wb_bank_job_cancel(job);
    wb_bank_job_cancel(job); /* any number of times */
    do
        n = poll(&pfd, 1, 60000);
    while (n < 0);
    CHECK_INT(n, 1);
    CHECK_INT(wb_bank_job_wait(job, NULL, &err), WB_ECANCELED);
    /* A job never waited for: closing the bank cancels it and waits. */
    struct done d = { 0 };
    CHECK_OK(wb_bank_add_start(b, "魚", "fish", NULL, NULL, on_done, &d, &job, &err), &err);
    wb_bank_close(b);
    CHECK_INT(d.calls, 1);
    CHECK_INT(d.rc, WB_ECANCELED);
    wb_config_free(cfg);
    close(lfd);
}

struct site_log {
    int diags, warnings;
    char first[512];
};

static void site_diag(void *ud, const char *name, const char *msg)
{
    struct site_log *l = ud;
    if (!l->diags++)
        snprintf(l->first, sizeof l->first, "%s|%s", name, msg);
}

static void site_warning(void *ud, const char *msg)
{
    struct site_log *l = ud;
    (void)msg;
    l->warnings++;
}

static int write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static char *slurp(const char *path)
{
    struct wb_buf b;
    struct wb_error err = { 0 };
    wb_buf_init(&b, 0);
    if (wb_buf_read_file(&b, path, &err)) {
        wb_buf_release(&b);
        return NULL;
    }
    return wb_buf_detach(&b, NULL);
}

TEST(bank_build_site)
{
    struct wb_error err = { 0 };
    struct wb_config *cfg = NULL;
    struct wb_bank *b = offline_bank("site", &cfg);
    struct wb_site_opts o;
    struct site_log log = { 0 };
    char dir[4096], path[4096], out[1024];
    char *html;
    struct stat sb;

    snprintf(dir, sizeof dir, "%s/lessons", th_tmpdir());
    snprintf(path, sizeof path, "%s/lessons/deep", th_tmpdir());
    CHECK_OK(wb_mkdirs(path, &err), &err);
    snprintf(path, sizeof path, "%s/lessons/animals.md", th_tmpdir());
    CHECK_INT(write_text(path, "# Animals\n\n<wordbank>\n- 猫: cat\n</wordbank>\n"), 0);
    snprintf(path, sizeof path, "%s/lessons/deep/birds.md", th_tmpdir());
    CHECK_INT(write_text(path, "# Birds\n\n<wordbank>\n- 鳥: bird\n- no colon here\n</wordbank>\n"),
              0);
    snprintf(path, sizeof path, "%s/lessons/notes.txt", th_tmpdir());
    CHECK_INT(write_text(path, "not a lesson"), 0);
    snprintf(out, sizeof out, "%s/public", th_tmpdir());

    wb_site_opts_init(&o);
    o.out_dir = out;
    o.on_diag = site_diag;
    o.on_warning = site_warning;
    o.ud = &log;
    /* The bad line is left out and said: the site is written, incomplete. */
    CHECK_INT(wb_bank_build_site(b, dir, &o, NULL, &err), WB_EINCOMPLETE);
    CHECK_INT(log.diags, 1);
    CHECK_MSG(strstr(log.first, "birds.md|") && strstr(log.first, "birds.md:5: "), "diag: %s",
              log.first);
    CHECK_INT(log.warnings, 0);

    snprintf(path, sizeof path, "%s/index.html", out);
    html = slurp(path);
    CHECK(html != NULL);
    CHECK(html && strstr(html, "href=\"animals.html\">Animals<") != NULL);
    CHECK(html && strstr(html, "href=\"deep/birds.html\">Birds<") != NULL);
    CHECK(html && !strstr(html, "notes"));
    free(html);
    snprintf(path, sizeof path, "%s/animals.html", out);
    html = slurp(path);
    CHECK(html && strstr(html, "ねこ") != NULL); /* generated for the site, then rendered */
    CHECK(html && strstr(html, "src=\"media/") != NULL);
    free(html);
    snprintf(path, sizeof path, "%s/deep/birds.html", out);
    html = slurp(path);
    CHECK(html && strstr(html, "とり") != NULL);
    CHECK(html && strstr(html, "href=\"../wordbank-assets/wordbank.css\"") != NULL);
    free(html);
    snprintf(path, sizeof path, "%s/wordbank-assets/wordbank.js", out);
    CHECK(stat(path, &sb) == 0 && sb.st_size > 0);

    /* Not a folder of lessons. */
    snprintf(path, sizeof path, "%s/lessons/notes.txt", th_tmpdir());
    CHECK_INT(wb_bank_build_site(b, path, &o, NULL, &err), WB_EINVAL);
    CHECK(strstr(wb_error_text(&err), "not a directory") != NULL);
    wb_bank_close(b);
    wb_config_free(cfg);
}

struct page_sink {
    int calls;
    char html[8192];
};

static int to_sink(void *ud, const char *html, size_t len)
{
    struct page_sink *p = ud;
    p->calls++;
    snprintf(p->html, sizeof p->html, "%.*s", (int)len, html);
    return 0;
}

/* wb_site_* on their own: options by size, manifests (FILE:LINE), the
 * outputs' checks, a page to the caller, and two sites alive at once (no
 * state outside the handle). */
TEST(site_api)
{
    struct wb_error err = { 0 };
    struct wb_config *cfg = NULL;
    struct wb_site_opts o;
    struct wb_site *a = NULL, *b = NULL;
    struct page_sink sink = { 0 };
    char dir[1024], src[2048], list[8192];
    const char *md = "# Title\n\n<wordbank>\n- 猫: cat\n</wordbank>\n";

    CHECK_INT(wb_config_new(&cfg), 0);
    snprintf(dir, sizeof dir, "%s/siteapi", th_tmpdir());
    CHECK_OK(wb_mkdirs(dir, &err), &err);
    snprintf(src, sizeof src, "%s/one.md", dir);
    CHECK_INT(write_text(src, md), 0);

    wb_site_opts_init(&o);
    CHECK_INT(o.size, sizeof o);
    o.cfg = cfg;
    o.media_dir = dir;
    o.out_dir = dir;
    o.on_stdout = to_sink;
    o.ud = &sink;
    o.size = 0;
    CHECK_INT(wb_site_new(&o, &a, &err), WB_EINVAL);
    CHECK(a == NULL);
    o.size = sizeof o + 1;
    CHECK_INT(wb_site_new(&o, &a, &err), WB_EINVAL);
    o.size = sizeof o;

    CHECK_OK(wb_site_new(&o, &a, &err), &err);
    CHECK_OK(wb_site_new(&o, &b, &err), &err);
    /* A manifest line without its tab, one climbing out, none at all. */
    snprintf(list, sizeof list, "# pages\n%s\tx.html\n\n%s\n", src, src);
    CHECK_INT(wb_site_add_manifest(a, "list.tsv", list, strlen(list), &err), WB_EPARSE);
    CHECK_STR(wb_error_text(&err), "list.tsv:4: expected 'SOURCE<TAB>PAGE'");
    snprintf(list, sizeof list, "%s\tdeep/../../up.html\n", src);
    CHECK_INT(wb_site_add_manifest(b, "l2", list, strlen(list), &err), WB_EPARSE);
    CHECK(strstr(wb_error_text(&err), "l2:1: the page climbs out") != NULL);
    CHECK_INT(wb_site_add_manifest(b, "l3", "# none\n", 7, &err), WB_EINVAL);
    CHECK_STR(wb_error_text(&err), "l3: no pages listed");
    /* Each site has its own pages. */
    CHECK_INT(wb_site_page_count(a), 1);
    CHECK_INT(wb_site_page_count(b), 0);
    snprintf(list, sizeof list, "%s\tsame.html\n%s\tsame.html\n", src, src);
    CHECK_OK(wb_site_add_manifest(b, "l4", list, strlen(list), &err), &err);
    CHECK_INT(wb_site_page_count(b), 2);
    CHECK_INT(wb_site_check(b, &err), WB_EINVAL);
    CHECK(strstr(wb_error_text(&err), "would be written there") != NULL);
    wb_site_free(b);

    /* A page from memory, to the caller: a fragment with the Markdown kept
     * and its card (no store: the line's own words). */
    wb_site_free(a);
    CHECK_OK(wb_site_new(&o, &a, &err), &err);
    CHECK_OK(wb_site_add_page(a, "-", md, strlen(md), "-", "", &err), &err);
    CHECK_OK(wb_site_check(a, &err), &err);
    CHECK_OK(wb_site_write(a, NULL, &err), &err);
    CHECK_INT(sink.calls, 1);
    CHECK(strstr(sink.html, "# Title") != NULL);
    CHECK(strstr(sink.html, "wb-card") != NULL);
    CHECK(strstr(sink.html, "<style>") != NULL);        /* a page on its own carries its CSS */
    CHECK_INT(wb_site_write(a, NULL, &err), WB_EINVAL); /* once per site */
    wb_site_free(a);
    wb_site_free(NULL);
    wb_config_free(cfg);
}

/* Whether a shared object whose file name starts with prefix is mapped. */
static int found_prefix;
static int find_prefix(struct dl_phdr_info *info, size_t size, void *prefix)
{
    const char *base = strrchr(info->dlpi_name, '/');
    (void)size;
    base = base ? base + 1 : info->dlpi_name;
    if (!strncmp(base, prefix, strlen(prefix)))
        found_prefix = 1;
    return 0;
}

static int mapped(const char *prefix)
{
    found_prefix = 0;
    dl_iterate_phdr(find_prefix, (void *)prefix);
    return found_prefix;
}

/* Polls (up to 30 s: a busy machine) until prefix is mapped. */
static int becomes_mapped(const char *prefix)
{
    for (int i = 0; i < 3000 && !mapped(prefix); i++)
        usleep(10000);
    return mapped(prefix);
}

TEST(preload_loads_ahead)
{
    /* Linking libwordbank maps neither libcurl nor libswscale... */
    CHECK(mapped("libwordbank.so"));
    CHECK(!mapped("libcurl.so"));
    CHECK(!mapped("libswscale.so"));
    CHECK(!mapped("libavutil.so"));
    /* ... wb_preload does, on its own thread, each only when asked. */
    wb_preload(0);
    wb_preload(WB_PRELOAD_NETWORK);
    CHECK(becomes_mapped("libcurl.so"));
    CHECK(!mapped("libswscale.so"));
    wb_preload(WB_PRELOAD_MEDIA);
    CHECK(becomes_mapped("libswscale.so"));
    CHECK(mapped("libavutil.so"));
    wb_preload(WB_PRELOAD_ALL); /* again: nothing left to start */
    wb_preload(~0u);            /* unknown bits are ignored */
    wb_preload_wait();
}

static int threads_now(void)
{
    DIR *d = opendir("/proc/self/task");
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d)))
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* wb_preload_wait returns once the loads are done and their thread gone: a
 * program that exits right after (a command with nothing to send) never
 * exits under a load (OpenSSL's exit handlers, registered as libcurl loads,
 * run before the library's own wait at exit). */
TEST(preload_wait_waits)
{
    int before = threads_now();
    wb_preload_wait(); /* nothing started: returns at once */
    wb_preload(WB_PRELOAD_NETWORK);
    wb_preload_wait();
    CHECK(mapped("libcurl.so"));
    CHECK_INT(threads_now(), before);
}
