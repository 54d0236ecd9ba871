/* Runs the loopback fake as a child process (see fakeproc.h): spawn with
 * pipes, read the one-line ready message, blocking HTTP/1.0 control calls
 * over a plain socket, and a clean stop that never leaves a stray process.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fakeproc.h"

static const char *source_root(void)
{
    const char *r = getenv("WB_SOURCE_ROOT");
#ifdef WB_SOURCE_ROOT_DEFAULT
    if (!r || !*r)
        r = WB_SOURCE_ROOT_DEFAULT;
#endif
    return r && *r ? r : ".";
}

/* "key": value (a number or a string) from a flat JSON line. */
static int json_field(const char *line, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\"", key);
    const char *p = strstr(line, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    while (*p == ' ' || *p == ':')
        p++;
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (*p && *p != '"' && n + 1 < cap) {
            if (*p == '\\' && p[1])
                p++;
            out[n++] = *p++;
        }
    } else {
        while (*p && *p != ',' && *p != '}' && *p != ' ' && n + 1 < cap)
            out[n++] = *p++;
    }
    out[n] = 0;
    return 0;
}

int fake_start(const char *scenario_json, int tls, struct fake_proc *out)
{
    int in[2] = { -1, -1 }, outp[2] = { -1, -1 };
    memset(out, 0, sizeof *out);
    out->pid = -1;
    out->stdin_fd = -1;
    if (scenario_json) {
        const char *tmp = getenv("TMPDIR");
        snprintf(out->scenario_path, sizeof out->scenario_path, "%s/wbfake-scenario.XXXXXX",
                 tmp && *tmp ? tmp : "/tmp");
        int fd = mkstemp(out->scenario_path);
        if (fd < 0)
            goto fail;
        size_t len = strlen(scenario_json);
        if (write(fd, scenario_json, len) != (ssize_t)len) {
            close(fd);
            goto fail;
        }
        close(fd);
    }
    if (pipe(in) != 0 || pipe(outp) != 0)
        goto fail;
    char server[2048];
    snprintf(server, sizeof server, "%s/tests/fake/server.mjs", source_root());
    const char *node = getenv("WB_NODE");
    if (!node || !*node)
        node = "node";
    pid_t pid = fork();
    if (pid < 0)
        goto fail;
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(outp[1], 1);
        close(in[0]);
        close(in[1]);
        close(outp[0]);
        close(outp[1]);
        const char *argv[8];
        int a = 0;
        argv[a++] = node;
        argv[a++] = server;
        if (scenario_json) {
            argv[a++] = "--scenario";
            argv[a++] = out->scenario_path;
        }
        if (tls)
            argv[a++] = "--tls";
        argv[a] = NULL;
        execvp(node, (char *const *)argv);
        _exit(127);
    }
    out->pid = pid;
    close(in[0]);
    close(outp[1]);
    in[0] = outp[1] = -1;
    out->stdin_fd = in[1];
    fcntl(out->stdin_fd, F_SETFD, FD_CLOEXEC);

    char line[4096];
    size_t n = 0;
    int deadline_ms = 20000;
    while (n + 1 < sizeof line) {
        struct pollfd p = { .fd = outp[0], .events = POLLIN };
        int r = poll(&p, 1, deadline_ms);
        if (r <= 0) {
            fprintf(stderr, "# fake: no ready line\n");
            goto fail;
        }
        ssize_t k = read(outp[0], line + n, 1);
        if (k <= 0) {
            fprintf(stderr, "# fake: exited before ready\n");
            goto fail;
        }
        if (line[n] == '\n')
            break;
        n++;
    }
    line[n] = 0;
    close(outp[0]);
    outp[0] = -1;
    char v[1024];
    if (json_field(line, "port", v, sizeof v) != 0) {
        fprintf(stderr, "# fake: bad ready line: %s\n", line);
        goto fail;
    }
    out->port = atoi(v);
    snprintf(out->base_url, sizeof out->base_url, "http://127.0.0.1:%d", out->port);
    if (tls) {
        if (json_field(line, "tlsPort", v, sizeof v) != 0 ||
            json_field(line, "ca", out->ca, sizeof out->ca) != 0) {
            fprintf(stderr, "# fake: no tls in ready line: %s\n", line);
            goto fail;
        }
        out->tls_port = atoi(v);
        snprintf(out->tls_url, sizeof out->tls_url, "https://127.0.0.1:%d", out->tls_port);
    }
    return 0;
fail:
    if (in[0] >= 0)
        close(in[0]);
    if (outp[0] >= 0)
        close(outp[0]);
    if (outp[1] >= 0)
        close(outp[1]);
    if (out->stdin_fd < 0 && in[1] >= 0)
        close(in[1]);
    fake_stop(out);
    return -1;
}

static char *http_call(const struct fake_proc *f, const char *method, const char *path,
                       const char *body)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    char *resp = NULL;
    size_t len = 0, cap = 0;
    if (fd < 0)
        return NULL;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)f->port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0)
        goto out;
    char head[1024];
    size_t blen = body ? strlen(body) : 0;
    int hl = snprintf(head, sizeof head,
                      "%s %s HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      method, path, blen);
    if (write(fd, head, (size_t)hl) != hl || (blen && write(fd, body, blen) != (ssize_t)blen))
        goto out;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            size_t nc = cap ? cap * 2 : 65536;
            char *p = realloc(resp, nc);
            if (!p)
                goto out;
            resp = p;
            cap = nc;
        }
        ssize_t k = read(fd, resp + len, cap - len - 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        len += (size_t)k;
    }
    if (!resp)
        goto out;
    resp[len] = 0;
    char *b = strstr(resp, "\r\n\r\n");
    if (!b) {
        free(resp);
        resp = NULL;
        goto out;
    }
    b += 4;
    memmove(resp, b, strlen(b) + 1);
out:
    close(fd);
    return resp;
}

char *fake_get(const struct fake_proc *f, const char *path)
{
    return http_call(f, "GET", path, NULL);
}

char *fake_post(const struct fake_proc *f, const char *path, const char *json)
{
    return http_call(f, "POST", path, json ? json : "{}");
}

char *fake_stats_json(const struct fake_proc *f)
{
    return fake_get(f, "/_fake/stats");
}

void fake_stop(struct fake_proc *f)
{
    if (f->stdin_fd >= 0) {
        close(f->stdin_fd);
        f->stdin_fd = -1;
    }
    if (f->pid > 0) {
        kill(f->pid, SIGTERM);
        int st;
        /* Give it two seconds, then SIGKILL. */
        for (int i = 0; i < 200; i++) {
            pid_t r = waitpid(f->pid, &st, WNOHANG);
            if (r == f->pid || (r < 0 && errno != EINTR))
                goto reaped;
            struct timespec ts = { 0, 10 * 1000 * 1000 };
            nanosleep(&ts, NULL);
        }
        kill(f->pid, SIGKILL);
        waitpid(f->pid, &st, 0);
reaped:
        f->pid = -1;
    }
    if (f->scenario_path[0]) {
        unlink(f->scenario_path);
        f->scenario_path[0] = 0;
    }
}

void fake_raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}
