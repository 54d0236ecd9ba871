/* libcurl's multi interface on libuv: the socket and timer callbacks that let
 * one loop thread drive every transfer (curl_multi_socket_action), the setup
 * of each easy handle (HTTP/2 over TLS with multiplexing, gzip, timeouts per
 * request kind, CA file), the body and header callbacks with their size caps,
 * and the mapping of libcurl's result codes to retryable or final errors.
 * Easy handles find their job through CURLOPT_PRIVATE and are reused from a
 * free list. Header values are never logged: one of them is the API key.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>

#include "core/util.h"
#include "engine/engine_int.h"
#include "wordbank/log.h"

#define STREAM_ERROR_BODY_MAX (1u << 20) /* error body of a streamed request */
#define HEADERS_MAX           100
#define HEADER_BYTES_MAX      (64u << 10)
#define FREE_EASY_MAX         256

struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct engine *e;
};

static void check_multi_info(struct engine *e)
{
    ENG_CURL_CHECKED;
    CURLMsg *msg;
    int pending;
    while ((msg = eng_curl.multi_info_read(e->multi, &pending))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        CURL *easy = msg->easy_handle;
        CURLcode res = msg->data.result;
        struct eng_job *j = NULL;
        curl_easy_getinfo(easy, CURLINFO_PRIVATE, (char **)&j);
        long code = 0;
        curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &code);
        eng_transfer_abort(e, j); /* removes and recycles the handle */
        j->http_status = code;
        eng_job_transfer_done(e, j, (int)res);
    }
}

static void on_poll(uv_poll_t *h, int status, int events)
{
    struct sock_ctx *c = h->data;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    eng_curl.multi_socket_action(c->e->multi, c->fd, flags, &running);
    check_multi_info(c->e);
    eng_kick_run(c->e); /* the requests its answers led to leave now */
}

static void free_sock_ctx(uv_handle_t *h)
{
    free(h->data);
}

static int on_socket(CURL *easy, curl_socket_t s, int action, void *userp, void *socketp)
{
    (void)easy;
    struct engine *e = userp;
    struct sock_ctx *c = socketp;
    if (action == CURL_POLL_REMOVE) {
        for (int i = 0; i < e->n_fresh; i++) {
            if (e->fresh[i] == s)
                e->fresh[i] = CURL_SOCKET_BAD;
        }
        if (c) {
            uv_poll_stop(&c->poll);
            eng_curl.multi_assign(e->multi, s, NULL);
            uv_close((uv_handle_t *)&c->poll, free_sock_ctx);
        }
        return 0;
    }
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return -1;
        c->fd = s;
        c->e = e;
        if (uv_poll_init_socket(&e->loop, &c->poll, s) != 0) {
            free(c);
            return -1;
        }
        c->poll.data = c;
        eng_curl.multi_assign(e->multi, s, c);
        /* A new socket that libcurl wants to hear is writable: its connect
         * is under way. On loopback it has often finished inside connect(). */
        if (e->driving && action == CURL_POLL_OUT) {
            if (e->n_fresh == e->cap_fresh) {
                int cap = e->cap_fresh ? 2 * e->cap_fresh : 64;
                curl_socket_t *f = realloc(e->fresh, (size_t)cap * sizeof *f);
                if (f) {
                    e->fresh = f;
                    e->cap_fresh = cap;
                }
            }
            if (e->n_fresh < e->cap_fresh)
                e->fresh[e->n_fresh++] = s;
        }
    }
    int ev = 0;
    if (action == CURL_POLL_IN || action == CURL_POLL_INOUT)
        ev |= UV_READABLE;
    if (action == CURL_POLL_OUT || action == CURL_POLL_INOUT)
        ev |= UV_WRITABLE;
    uv_poll_start(&c->poll, ev, on_poll);
    return 0;
}

static void on_curl_timer(uv_timer_t *t)
{
    struct engine *e = t->data;
    int running;
    eng_curl.multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_multi_info(e);
    eng_kick_run(e);
}

static int on_curl_timeout(CURLM *multi, long timeout_ms, void *userp)
{
    (void)multi;
    struct engine *e = userp;
    if (timeout_ms < 0)
        uv_timer_stop(&e->curl_timer);
    else
        uv_timer_start(&e->curl_timer, on_curl_timer, (uint64_t)timeout_ms, 0);
    return 0;
}

void eng_transfer_collect(struct engine *e)
{
    if (e->multi)
        check_multi_info(e);
}

/* libcurl learns that a connection is made only from an event on its socket:
 * driven from the loop, a transfer added now would connect on the loop's
 * next turn (libcurl's 0 ms timer), and write its request on the turn after
 * that (the socket's poll) -- a whole fill of transfers connected one after
 * the other before the first request was written. So right after a start
 * the engine asks libcurl to run what is due (the new transfer: connect, or
 * on a kept connection write its request), then to look at each socket it
 * opened meanwhile: a connect that has finished writes its request at once;
 * one still under way waits for its poll as before. */
void eng_transfer_drive(struct engine *e)
{
    int running;
    if (!e->multi)
        return;
    e->driving = 1;
    e->n_fresh = 0;
    eng_curl.multi_socket_action(e->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    e->driving = 0;
    for (int i = 0; i < e->n_fresh; i++) {
        if (e->fresh[i] != CURL_SOCKET_BAD)
            eng_curl.multi_socket_action(e->multi, e->fresh[i], 0, &running);
    }
    e->n_fresh = 0;
}

/* The multi handle, once libcurl is loaded. */
static int multi_new(struct engine *e)
{
    ENG_CURL_CHECKED;
    e->multi = eng_curl.multi_init();
    if (!e->multi)
        return WB_ENOMEM;
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(e->multi, CURLMOPT_SOCKETDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout);
    curl_multi_setopt(e->multi, CURLMOPT_TIMERDATA, e);
    curl_multi_setopt(e->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(e->multi, CURLMOPT_MAX_HOST_CONNECTIONS, e->max_host_conns);
    curl_multi_setopt(e->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, 1000L);
    uv_timer_init(&e->loop, &e->curl_timer);
    e->curl_timer.data = e;
    return 0;
}

/* Load libcurl and make the multi handle: on the first request. No
 * ENG_CURL_CHECKED here: the table is filled only in this function. */
static int transfer_init(struct engine *e)
{
    struct wb_error err = { 0, { 0 } };
    if (eng_curl_load(&err) < 0) {
        /* The installation's fault, the same for every request: WB_ECONFIG,
         * which stops a run at once (like a missing key) with this message. */
        core_api_error_clear(&e->load_error);
        e->load_error.code = WB_ECONFIG;
        snprintf(e->load_error.message, sizeof e->load_error.message, "%s", err.msg);
        return WB_ECONFIG;
    }
    return multi_new(e);
}

void eng_transfer_release(struct engine *e)
{
    if (e->multi)
        eng_curl.multi_cleanup(e->multi);
    e->multi = NULL;
    for (size_t i = 0; i < e->n_free_easy; i++)
        eng_curl.easy_cleanup(e->free_easy[i]);
    free(e->free_easy);
    free(e->fresh);
    e->fresh = NULL;
    e->n_fresh = e->cap_fresh = 0;
    e->free_easy = NULL;
    e->n_free_easy = 0;
}

static void free_rhdr(struct eng_job *j)
{
    for (size_t i = 0; i < j->n_rhdr; i++) {
        free(j->rhdr[i].name);
        free(j->rhdr[i].value);
    }
    free(j->rhdr);
    j->rhdr = NULL;
    j->n_rhdr = 0;
    j->rhdr_bytes = 0;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct eng_job *j = ud;
    size_t len = size * n;
    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) { /* a new response (after 100, ...) */
        free_rhdr(j);
        return len;
    }
    const char *colon = memchr(p, ':', len);
    if (!colon || j->n_rhdr >= HEADERS_MAX || j->rhdr_bytes + len > HEADER_BYTES_MAX)
        return len;
    size_t nlen = (size_t)(colon - p);
    const char *v = colon + 1, *end = p + len;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    struct core_http_header *h;
    if (CORE_ARRAY_RESIZE(j->rhdr, j->n_rhdr + 1, 0) != 0)
        return 0;
    h = j->rhdr;
    h[j->n_rhdr].name = strndup(p, nlen);
    h[j->n_rhdr].value = strndup(v, (size_t)(end - v));
    if (!h[j->n_rhdr].name || !h[j->n_rhdr].value) {
        free(h[j->n_rhdr].name);
        free(h[j->n_rhdr].value);
        return 0;
    }
    j->n_rhdr++;
    j->rhdr_bytes += len;
    /* Size the body buffer once when the length is known: no doubling, so
     * a large image body costs its size, not up to twice that. */
    if (!j->req.stream && strcasecmp(h[j->n_rhdr - 1].name, "content-length") == 0) {
        char *endp;
        unsigned long long cl = strtoull(h[j->n_rhdr - 1].value, &endp, 10);
        if (*endp == 0 && cl > 0 && cl < j->body.limit && j->body.len == 0 && !j->req.stream) {
            j->content_length = (size_t)cl;
            wb_buf_grow(&j->body, (size_t)cl);
        }
    }
    return len;
}

/* ---- the body budget ----
 * A media request reserves its expected body size when it starts (engine.c);
 * what arrives beyond the reservation is counted as it comes; everything is
 * given back when the transfer ends. */

static void budget_take(struct engine *e, struct eng_job *j, size_t need)
{
    j->budget_admitted = 1;
    j->budget_held = need;
    e->budget_used += need;
    if (e->budget_used > e->budget_peak)
        e->budget_peak = e->budget_used;
}

int eng_budget_reserve(struct engine *e, struct eng_job *j)
{
    size_t need = 0;
    if (j->req.kind == WB_REQ_IMAGE || j->req.kind == WB_REQ_SPEECH) {
        need = j->model->body_est;
        /* Something always goes when nothing else is counted, so one body
         * larger than the budget still goes. */
        if (e->budget_used > 0 && e->budget_used + need > e->budget)
            return 0;
    }
    budget_take(e, j, need);
    return 1;
}

/* The attempt's transfer ended (or was removed): its body no longer counts. */
static void budget_release(struct engine *e, struct eng_job *j)
{
    if (j->budget_admitted) {
        size_t got = ENG_JOB_STREAMS(j) ? j->stream_got : j->body.len;
        /* Learn the model's body size: the largest seen, so reservations
         * are not too small. */
        if (j->http_status >= 200 && j->http_status < 300 && got > j->model->body_est)
            j->model->body_est = got;
        e->budget_used = j->budget_held > e->budget_used ? 0 : e->budget_used - j->budget_held;
        eng_kick(e);
    }
    j->budget_admitted = 0;
    j->budget_held = 0;
}

long eng_host_conns(struct engine *e)
{
    long want = 2L * e->window + 8;
    struct rlimit rl;
    if (e->window <= 0)
        return 16; /* no window: a few connections, and HTTP/2 where it can */
    if (want < 16)
        want = 16;
    /* Each connection is a file descriptor; keep 256 for everything else. */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY) {
        rlim_t need = (rlim_t)want + 256;
        if (rl.rlim_cur < need) {
            rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
            if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
                getrlimit(RLIMIT_NOFILE, &rl);
        }
        if (rl.rlim_cur < need)
            want = rl.rlim_cur > 256 + 16 ? (long)(rl.rlim_cur - 256) : 16;
    }
    return want;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    ENG_CURL_CHECKED;
    struct eng_job *j = ud;
    size_t len = size * n;
    if (!j->http_status)
        curl_easy_getinfo(j->easy, CURLINFO_RESPONSE_CODE, &j->http_status);
    j->eng->st.bytes_in += len;
    int ok = j->http_status >= 200 && j->http_status < 300;
    if (!j->budget_admitted) /* an error body, or a request that reserved nothing */
        budget_take(j->eng, j, 0);
    if (ENG_JOB_STREAMS(j) && ok) {
        /* The consumer keeps what the stream carries: count it beyond the
         * reservation. (A stream without a consumer is kept whole, like any
         * body, for classify.) */
        j->stream_got += len;
        if (j->stream_got > j->budget_held) {
            j->eng->budget_used += j->stream_got - j->budget_held;
            j->budget_held = j->stream_got;
            if (j->eng->budget_used > j->eng->budget_peak)
                j->eng->budget_peak = j->eng->budget_used;
        }
        core_api_error_clear(&j->aerr);
        if (j->cbs.on_data(j->ud, p, len, &j->aerr) != 0) {
            j->consumer_failed = 1;
            return 0; /* CURLE_WRITE_ERROR ends the attempt */
        }
        return len;
    }
    if (wb_buf_append(&j->body, p, len) != 0) {
        j->too_big = 1;
        return 0;
    }
    if (j->body.len > j->budget_held) {
        j->eng->budget_used += j->body.len - j->budget_held;
        j->budget_held = j->body.len;
        if (j->eng->budget_used > j->eng->budget_peak)
            j->eng->budget_peak = j->eng->budget_used;
    }
    return len;
}

static CURL *easy_get(struct engine *e)
{
    if (e->n_free_easy) {
        CURL *c = e->free_easy[--e->n_free_easy];
        eng_curl.easy_reset(c);
        return c;
    }
    return eng_curl.easy_init();
}

static void easy_put(struct engine *e, CURL *c)
{
    if (e->n_free_easy < FREE_EASY_MAX) {
        (void)CORE_ARRAY_RESERVE(e->free_easy, e->n_free_easy, e->cap_free_easy, 1, FREE_EASY_MAX);
        if (e->n_free_easy < e->cap_free_easy) {
            e->free_easy[e->n_free_easy++] = c;
            return;
        }
    }
    eng_curl.easy_cleanup(c);
}

static int transfer_setup(struct engine *e, struct eng_job *j)
{
    ENG_CURL_CHECKED;
    int rc = 0;
    CURL *c = easy_get(e);
    if (!c)
        return WB_ENOMEM;
    /* Fresh per-attempt state. */
    wb_buf_reset(&j->body);
    j->body.limit = ENG_JOB_STREAMS(j) ? STREAM_ERROR_BODY_MAX : e->max_body;
    free_rhdr(j);
    j->http_status = 0;
    j->consumer_failed = 0;
    j->too_big = 0;
    j->content_length = 0;
    j->stream_got = 0;
    j->curl_errbuf[0] = 0;
    core_api_error_clear(&j->aerr);

    struct curl_slist *l = NULL, *t;
    for (size_t i = 0; i < j->req.n_headers; i++) {
        char *line = NULL;
        size_t nl = strlen(j->req.headers[i].name), vl = strlen(j->req.headers[i].value);
        line = malloc(nl + vl + 3);
        if (!line) {
            rc = WB_ENOMEM;
            goto out;
        }
        memcpy(line, j->req.headers[i].name, nl);
        memcpy(line + nl, ": ", 2);
        memcpy(line + nl + 2, j->req.headers[i].value, vl + 1);
        t = eng_curl.slist_append(l, line);
        free(line);
        if (!t) {
            rc = WB_ENOMEM;
            goto out;
        }
        l = t;
    }
    t = eng_curl.slist_append(l, "Expect:");
    if (!t) {
        rc = WB_ENOMEM;
        goto out;
    }
    l = t;

    curl_easy_setopt(c, CURLOPT_URL, j->req.url);
    if (strcmp(j->req.method, "GET") == 0) {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    } else {
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)j->req.body_len);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, j->req.body ? j->req.body : "");
        if (strcmp(j->req.method, "POST") != 0)
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, j->req.method);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, l);
    curl_easy_setopt(c, CURLOPT_PRIVATE, (char *)j);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, j);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, j);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, j->curl_errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "wordbank/" WB_VERSION);
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
    /* Over TLS a new request waits for the connection being set up, which
     * may multiplex it (ALPN says h2 in the handshake). Plain http:// is
     * HTTP/1.1 here, and curl learns that only from the first answer: the
     * wait would hold every other request back for a whole response. */
    curl_easy_setopt(c, CURLOPT_PIPEWAIT, strncasecmp(j->req.url, "https://", 8) == 0 ? 1L : 0L);
    curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)e->connect_ms);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)e->kind_timeout_ms[j->req.kind]);
    if (j->req.stream && e->stream_idle_ms > 0) {
        long secs = (long)((e->stream_idle_ms + 999) / 1000);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
        curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, secs);
    }
    if (e->ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, e->ca_file);

    j->easy = c;
    j->hdr_list = l;
    l = NULL;
    if (eng_curl.multi_add_handle(e->multi, c) != CURLM_OK) {
        j->easy = NULL;
        l = j->hdr_list;
        j->hdr_list = NULL;
        rc = WB_EINTERNAL;
        goto out;
    }
    c = NULL;
out:
    eng_curl.slist_free_all(l);
    if (c)
        easy_put(e, c);
    return rc;
}

void eng_transfer_prepare(struct engine *e)
{
    if (!e->multi)
        (void)transfer_init(e);
}

int eng_transfer_start(struct engine *e, struct eng_job *j)
{
    int rc;
    if (!e->multi && (rc = transfer_init(e)) < 0)
        return rc;
    return transfer_setup(e, j);
}

void eng_transfer_abort(struct engine *e, struct eng_job *j)
{
    budget_release(e, j);
    if (j->easy) {
        eng_curl.multi_remove_handle(e->multi, j->easy);
        easy_put(e, j->easy);
        j->easy = NULL;
    }
    if (j->hdr_list) /* else libcurl may not even be loaded */
        eng_curl.slist_free_all(j->hdr_list);
    j->hdr_list = NULL;
}

void eng_transfer_error(int curl_code, const char *errbuf, struct core_api_error *out)
{
    core_api_error_clear(out);
    out->code = WB_ETRANSPORT;
    switch ((CURLcode)curl_code) {
    case CURLE_OPERATION_TIMEDOUT:
        out->code = WB_ETIMEOUT;
        out->retryable = 1;
        break;
    case CURLE_PARTIAL_FILE:
    case CURLE_BAD_CONTENT_ENCODING:
        out->code = WB_EINCOMPLETE;
        out->retryable = 1;
        break;
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_HTTP3:
        out->retryable = 1;
        break;
    default:
        break;
    }
    snprintf(out->message, sizeof out->message, "transport: %s%s%s",
             eng_curl.easy_strerror((CURLcode)curl_code), errbuf && errbuf[0] ? ": " : "",
             errbuf ? errbuf : "");
}

/* Free the per-job transfer state that outlives an attempt. */
void eng_transfer_job_release(struct eng_job *j)
{
    free_rhdr(j);
}
