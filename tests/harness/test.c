/* The runner behind test.h: forks each test, enforces a timeout, prints TAP. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#define MAX_TESTS 1024

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

static int run_one(int i, int timeout)
{
    int status = 0;
    pid_t pid;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return 1;
    }
    if (pid == 0) {
        setpgid(0, 0);
        alarm((unsigned)timeout);
        tests[i].fn();
        if (tmpdir[0])
            nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
        /* exit, not _exit: LeakSanitizer checks at exit. */
        exit(0);
    }
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    kill(-pid, SIGKILL); /* anything the test left running */
    if (WIFSIGNALED(status)) {
        fprintf(stderr, "# %s: killed by signal %d%s\n", tests[i].name, WTERMSIG(status),
                WTERMSIG(status) == SIGALRM ? " (timeout)" : "");
        return 1;
    }
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
        int bad = run_one(i, timeout);
        run++;
        printf("%sok %d - %s\n", bad ? "not " : "", run, tests[i].name);
        failed += bad;
    }
    return failed ? 1 : 0;
}
