/* A small test harness in libuv's manner: every TEST runs in its own forked
 * process with a timeout, and the runner prints TAP (one "ok"/"not ok" line a
 * test) that meson counts. A failing CHECK ends only its own test.
 *
 *   TEST(buf_appends) { ... CHECK(x == 1); CHECK_STR(a, "b"); }
 *
 * A test that cannot run here says so with SKIP("why"): TAP "ok N - name # SKIP
 * why", which the runner counts as skipped, never as passed. A test that
 * returns without having evaluated a single CHECK fails ("no check ran"), so an
 * early return cannot pass as an "ok".
 *
 * Run one test: ./test_core buf_appends. WB_TEST_TIMEOUT (seconds, default 120).
 */
#ifndef WB_TEST_H
#define WB_TEST_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef void (*th_fn)(void);
/* How many CHECKs this test has evaluated (each test runs in its own process). */
extern unsigned long th_checks;
void th_register(const char *name, th_fn fn);
void th_fail(const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4), noreturn));
/* Ends this test as skipped, with the reason on its TAP line. */
void th_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
#define SKIP(...) th_skip(__VA_ARGS__)
/* A fresh empty directory for this test (removed afterwards unless it failed). */
const char *th_tmpdir(void);
/* The source tree's root (for fixtures), from WB_SOURCE_ROOT or the build's definition. */
const char *th_source_root(void);
/* "<root>/<rel>" in a static buffer (each call overwrites the last). */
const char *th_path(const char *rel);
/* "<th_tmpdir()>/<name>"; the last 8 results stay valid. */
const char *th_tmp_path(const char *name);
/* Writes len bytes (th_write_text: a string) to path, created or truncated; a
 * failure fails the test. */
void th_write_file(const char *path, const void *data, size_t len);
void th_write_text(const char *path, const char *text);
/* The whole file, NUL-terminated, malloc'd (*len: its size, when len is not
 * NULL); a failure fails the test. */
char *th_read_file(const char *path, size_t *len);

#define TEST(name)                                               \
    static void name(void);                                      \
    __attribute__((constructor)) static void th_reg_##name(void) \
    {                                                            \
        th_register(#name, name);                                \
    }                                                            \
    static void name(void)

#define CHECK(cond)                                          \
    do {                                                     \
        th_checks++;                                         \
        if (!(cond))                                         \
            th_fail(__FILE__, __LINE__, "CHECK(%s)", #cond); \
    } while (0)

#define CHECK_MSG(cond, ...)                          \
    do {                                              \
        th_checks++;                                  \
        if (!(cond))                                  \
            th_fail(__FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

#define CHECK_INT(a, b)                                                                \
    do {                                                                               \
        long long th_a = (long long)(a), th_b = (long long)(b);                        \
        th_checks++;                                                                   \
        if (th_a != th_b)                                                              \
            th_fail(__FILE__, __LINE__, "%s == %s: %lld != %lld", #a, #b, th_a, th_b); \
    } while (0)

#define CHECK_STR(a, b)                                                       \
    do {                                                                      \
        const char *th_a = (a), *th_b = (b);                                  \
        th_checks++;                                                          \
        if (!th_a || !th_b || strcmp(th_a, th_b) != 0)                        \
            th_fail(__FILE__, __LINE__, "%s == %s: \"%s\" != \"%s\"", #a, #b, \
                    th_a ? th_a : "(null)", th_b ? th_b : "(null)");          \
    } while (0)

/* rc == 0, printing the error buffer's text when not. */
#define CHECK_OK(rc, errp)                                                                        \
    do {                                                                                          \
        int th_rc = (rc);                                                                         \
        th_checks++;                                                                              \
        if (th_rc != 0)                                                                           \
            th_fail(__FILE__, __LINE__, "%s returned %d (%s): %s", #rc, th_rc, wb_errname(th_rc), \
                    wb_error_text(errp));                                                         \
    } while (0)

#endif
