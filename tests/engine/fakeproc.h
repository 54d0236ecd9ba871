/* Test helper: run the loopback Gemini fake (tests/fake/server.mjs) as a child
 * process for the length of a test, and talk to its control endpoints with
 * blocking loopback HTTP/1.0 calls (no libcurl, so any test can link it).
 *
 *   struct fake_proc f;
 *   if (fake_start("{\"default\":{\"latencyMs\":50}}", 0, &f) != 0) ...
 *   ... f.port, f.tls_port, f.ca, f.base_url ("http://127.0.0.1:N") ...
 *   char *stats = fake_stats_json(&f);   (malloc'd JSON, free() it)
 *   fake_stop(&f);
 *
 * The child's stdin is a pipe: if the test process dies, the fake sees EOF
 * and exits on its own. Needs `node` on PATH (or $WB_NODE).
 */
#ifndef WB_TEST_FAKEPROC_H
#define WB_TEST_FAKEPROC_H

#include <sys/types.h>

struct fake_proc {
    pid_t pid;
    int stdin_fd;
    int port, tls_port;
    char ca[1024];     /* CA file when started with tls */
    char base_url[64]; /* http://127.0.0.1:port */
    char tls_url[64];  /* https://127.0.0.1:tls_port, "" without tls */
    char scenario_path[1024];
};

/* The fake's API key (its default). */
#define FAKE_KEY "test-key-not-secret-123456"

/* Start the fake with a scenario (JSON text, or NULL for the defaults) and
 * optionally TLS (HTTP/2 via ALPN). Waits up to 20 s for its ready line.
 * Returns 0, or -1 with a message on stderr. */
int fake_start(const char *scenario_json, int tls, struct fake_proc *out);
/* GET path (e.g. "/_fake/stats") on the plain port; malloc'd body or NULL. */
char *fake_get(const struct fake_proc *f, const char *path);
/* POST a JSON body; malloc'd response body or NULL. */
char *fake_post(const struct fake_proc *f, const char *path, const char *json);
/* GET /_fake/stats. */
char *fake_stats_json(const struct fake_proc *f);
/* Close its stdin, SIGTERM, reap. Safe to call twice. */
void fake_stop(struct fake_proc *f);
/* Raise RLIMIT_NOFILE's soft limit to the hard limit (tests with many sockets). */
void fake_raise_nofile(void);

#endif
