/* The runner behind test.h: forks each test, enforces a timeout, prints TAP.
 * A test's child process reports a SKIP through a pipe (its reason) and exit
 * status TH_SKIP_STATUS; one that ran no CHECK exits TH_NOCHECK_STATUS. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define MAX_TESTS         1024
#define TH_SKIP_STATUS    77
#define TH_NOCHECK_STATUS 78

unsigned long th_checks;
const char *th_tmp_path(const char *name)
{
    static char p[8][4096];
    static int i;
    i = (i + 1) % 8;
    snprintf(p[i], sizeof p[i], "%s/%s", th_tmpdir(), name);
    return p[i];
}

void th_write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CHECK_MSG(f != NULL, "cannot create %s: %s", path, strerror(errno));
    CHECK_MSG(fwrite(data, 1, len, f) == len, "cannot write %s", path);
    CHECK_MSG(fclose(f) == 0, "cannot write %s: %s", path, strerror(errno));
}

void th_write_text(const char *path, const char *text)
{
    th_write_file(path, text, strlen(text));
}

char *th_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *s = NULL;
    size_t n = 0, cap = 0, got;
    CHECK_MSG(f != NULL, "cannot open %s: %s", path, strerror(errno));
    do {
        if (cap - n < 4096) {
            cap = cap ? cap * 2 : 8192;
            s = realloc(s, cap + 1);
            CHECK(s != NULL);
        }
        got = fread(s + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    CHECK_MSG(!ferror(f), "cannot read %s", path);
    fclose(f);
    s[n] = '\0';
    if (len)
        *len = n;
    return s;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw);
static int skip_fd = -1; /* the child's end of the SKIP-reason pipe */

static struct {
    const char *name;
    th_fn fn;
} tests[MAX_TESTS];
static int n_tests;
static char tmpdir[4096];

void th_register(const char *name, th_fn fn)
{
    if (n_tests < MAX_TESTS) {
        tests[n_tests].name = name;
        tests[n_tests].fn = fn;
        n_tests++;
    }
}

void th_fail(const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "# FAIL %s:%d: ", file, line);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
    _exit(1);
}

void th_skip(const char *fmt, ...)
{
    char why[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    for (char *c = why; *c; c++) /* one TAP line */
        if (*c == '\n' || *c == '\r')
            *c = ' ';
    if (skip_fd >= 0) {
        ssize_t w = write(skip_fd, why, strlen(why));
        (void)w;
    }
    if (tmpdir[0])
        nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    _exit(TH_SKIP_STATUS);
}

const char *th_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/wbtest.XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir))
            th_fail(__FILE__, __LINE__, "mkdtemp: %s", strerror(errno));
    }
    return tmpdir;
}

const char *th_source_root(void)
{
    const char *r = getenv("WB_SOURCE_ROOT");
#ifdef WB_SOURCE_ROOT_DEFAULT
    if (!r || !*r)
        r = WB_SOURCE_ROOT_DEFAULT;
#endif
    return r && *r ? r : ".";
}

const char *th_path(const char *rel)
{
    static char buf[4096];
    snprintf(buf, sizeof buf, "%s/%s", th_source_root(), rel);
    return buf;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* 0 passed, 1 failed, 2 skipped (the reason in why). */
static int run_one(int i, int timeout, char *why, size_t whylen)
{
    int status = 0, fds[2];
    ssize_t got = 0, r;
    pid_t pid;
    why[0] = '\0';
    fflush(stdout);
    fflush(stderr);
    if (pipe(fds) != 0) {
        perror("pipe");
        return 1;
    }
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        close(fds[0]);
        close(fds[1]);
        return 1;
    }
    if (pid == 0) {
        close(fds[0]);
        skip_fd = fds[1];
        setpgid(0, 0);
        alarm((unsigned)timeout);
        tests[i].fn();
        if (tmpdir[0])
            nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        if (th_checks == 0) {
            fprintf(stderr,
                    "# FAIL %s: returned without evaluating a single CHECK "
                    "(use SKIP(\"why\") for a test that cannot run here)\n",
                    tests[i].name);
            exit(TH_NOCHECK_STATUS);
        }
        /* exit, not _exit: LeakSanitizer checks at exit. */
        exit(0);
    }
    close(fds[1]);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    kill(-pid, SIGKILL); /* anything the test left running */
    /* The reason is short and already in the pipe; never wait for a process
     * the test left behind that inherited the pipe. */
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    while (
        got < (ssize_t)whylen - 1 &&
        ((r = read(fds[0], why + got, whylen - 1 - (size_t)got)) > 0 || (r < 0 && errno == EINTR)))
        got += r > 0 ? r : 0;
    why[got] = '\0';
    close(fds[0]);
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "# %s: killed by signal %d%s\n", tests[i].name, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
        return 1;
    }
    if (WEXITSTATUS(status) == TH_SKIP_STATUS && got > 0)
        return 2;
    return WEXITSTATUS(status) != 0;
}

int main(int argc, char **argv)
{
    int failed = 0, run = 0, timeout = 120;
    const char *t = getenv("WB_TEST_TIMEOUT");
    if (t && atoi(t) > 0)
        timeout = atoi(t);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < n_tests; i++) {
        if (argc > 1) {
            int want = 0;
            for (int a = 1; a < argc; a++)
                want |= strcmp(argv[a], tests[i].name) == 0;
            if (!want)
                continue;
        }
        run++;
    }
    printf("1..%d\n", run);
    run = 0;
    for (int i = 0; i < n_tests; i++) {
        if (argc > 1) {
            int want = 0;
            for (int a = 1; a < argc; a++)
                want |= strcmp(argv[a], tests[i].name) == 0;
            if (!want)
                continue;
        }
        char why[512];
        int res = run_one(i, timeout, why, sizeof why);
        run++;
        if (res == 2)
            printf("ok %d - %s # SKIP %s\n", run, tests[i].name, why);
        else
            printf("%sok %d - %s\n", res ? "not " : "", run, tests[i].name);
        failed += res == 1;
    }
    return failed ? 1 : 0;
}
