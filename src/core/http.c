/* Request records shared by providers and the engine, and the one reader of
 * the servers' Retry-After hints. */
#define _XOPEN_SOURCE 700 /* strptime */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/http.h"
#include "core/util.h"

void core_http_request_init(struct core_http_request *r)
{
    memset(r, 0, sizeof *r);
}

void core_http_request_release(struct core_http_request *r)
{
    for (size_t i = 0; i < r->n_headers; i++) {
        free(r->headers[i].name);
        free(r->headers[i].value);
    }
    free(r->headers);
    free(r->method);
    free(r->url);
    free(r->body);
    free(r->model);
    memset(r, 0, sizeof *r);
}

int core_http_request_add_header(struct core_http_request *r, const char *name, const char *value)
{
    struct core_http_header *h;
    int rc = CORE_ARRAY_RESIZE(r->headers, r->n_headers + 1, 0);
    if (rc)
        return rc;
    h = r->headers;
    h[r->n_headers].name = strdup(name);
    h[r->n_headers].value = strdup(value);
    if (!h[r->n_headers].name || !h[r->n_headers].value) {
        free(h[r->n_headers].name);
        free(h[r->n_headers].value);
        return WB_ENOMEM;
    }
    r->n_headers++;
    return 0;
}

const char *core_http_header_find(const struct core_http_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    }
    return NULL;
}

void core_api_error_clear(struct core_api_error *e)
{
    memset(e, 0, sizeof *e);
    e->retry_after_ms = -1;
}

double core_decimal_at(const char **p)
{
    const char *s = *p;
    double whole = 0, frac = 0, scale = 1;
    int digits = 0;
    while (isdigit((unsigned char)*s)) {
        if (whole < 1e12)
            whole = whole * 10 + (*s - '0');
        s++;
        digits++;
    }
    if (*s == '.') {
        s++;
        while (isdigit((unsigned char)*s)) {
            if (scale < 1e9) {
                frac = frac * 10 + (*s - '0');
                scale *= 10;
            }
            s++;
            digits++;
        }
    }
    if (!digits)
        return -1;
    *p = s;
    return whole + frac / scale;
}

int64_t core_clamp_ms(double ms, int64_t max_ms)
{
    int64_t whole;
    if (ms < 0)
        return 0;
    if (ms >= (double)max_ms)
        return max_ms;
    whole = (int64_t)ms;
    return (double)whole + 1e-9 < ms ? whole + 1 : whole;
}

static const char *skip_blanks(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    return v;
}

int64_t core_delay_ms(const char *v, double unit_ms, int64_t max_ms)
{
    double x;
    if (!v)
        return -1;
    v = skip_blanks(v);
    if (!isdigit((unsigned char)*v) && *v != '.')
        return -1;
    x = core_decimal_at(&v);
    if (x < 0 || *skip_blanks(v))
        return -1;
    return core_clamp_ms(x * unit_ms, max_ms);
}

int64_t core_retry_after_ms(const char *v, int64_t now_wall_s, int64_t max_ms)
{
    struct tm tm;
    const char *end;
    int64_t at;
    if (!v)
        return -1;
    v = skip_blanks(v);
    if (isdigit((unsigned char)*v) || *v == '.')
        return core_delay_ms(v, 1000, max_ms);
    /* An HTTP-date: "Wed, 21 Oct 2015 07:28:00 GMT". */
    memset(&tm, 0, sizeof tm);
    end = strptime(v, "%a, %d %b %Y %H:%M:%S", &tm);
    if (!end)
        return -1;
    if (!strncmp(end, " GMT", 4))
        end += 4;
    if (*skip_blanks(end))
        return -1;
    at = (int64_t)timegm(&tm);
    if (at < 0)
        return -1;
    return core_clamp_ms(at > now_wall_s ? (double)(at - now_wall_s) * 1000 : 0, max_ms);
}
