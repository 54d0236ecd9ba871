/* Request records shared by providers and the engine. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/http.h"
#include "core/util.h"

void wb_http_request_init(struct wb_http_request *r)
{
    memset(r, 0, sizeof *r);
}

void wb_http_request_release(struct wb_http_request *r)
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

int wb_http_request_add_header(struct wb_http_request *r, const char *name, const char *value)
{
    struct wb_http_header *h;
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

const char *wb_http_header_find(const struct wb_http_header *h, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++) {
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    }
    return NULL;
}

void wb_api_error_clear(struct wb_api_error *e)
{
    memset(e, 0, sizeof *e);
    e->retry_after_ms = -1;
}
