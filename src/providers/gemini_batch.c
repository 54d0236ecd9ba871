/* Gemini Batch mode and the Files API: request builders and parsers (see
 * gemini_batch.h). Pure functions, no I/O.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "providers/gemini_batch.h"
#include "providers/gemini_internal.h"

/* "batches/<id>" or "files/<id>": a resource name safe to put in a URL. */
static int resource_ok(const char *name, const char *prefix)
{
    size_t n = strlen(prefix);
    if (!name || strncmp(name, prefix, n) != 0 || !name[n])
        return 0;
    for (const char *p = name + n; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '-' || c == '_' || c == '.'))
            return 0;
    }
    return 1;
}

static json_t *item_request(const struct gemini_batch_item *it, struct wb_error *err)
{
    json_error_t jerr;
    json_t *req = json_loadb(it->body, it->body_len, JSON_DECODE_ANY, &jerr);
    if (!req || !json_is_object(req)) {
        json_decref(req);
        wb_error_set(err, WB_EINVAL, "batch request %s is not a JSON object", it->key);
        return NULL;
    }
    return req;
}

static json_t *inline_requests(const struct gemini_batch_item *items, size_t n,
                               struct wb_error *err)
{
    json_t *arr = json_array();
    if (!arr) {
        wb_error_set(err, WB_ENOMEM, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *req = item_request(&items[i], err), *one;
        if (!req) {
            json_decref(arr);
            return NULL;
        }
        one = json_pack("{s:o,s:{s:s}}", "request", req, "metadata", "key", items[i].key);
        if (!one || json_array_append_new(arr, one)) {
            json_decref(arr);
            wb_error_set(err, WB_ENOMEM, "out of memory");
            return NULL;
        }
    }
    return arr;
}

int gemini_batch_create_request(const struct gemini_opts *o, const char *model,
                                const char *display_name, const struct gemini_batch_item *items,
                                size_t n, const char *file_name, struct core_http_request *out,
                                struct wb_error *err)
{
    json_t *root, *input;
    int rc;
    if (file_name && !resource_ok(file_name, "files/"))
        return wb_error_set(err, WB_EINVAL, "invalid file name \"%s\"", file_name);
    if ((rc = gemini_request_begin(o, "POST", model, ":batchGenerateContent", WB_REQ_LIST, out,
                                   err)))
        return rc;
    if (file_name) {
        input = json_pack("{s:s}", "fileName", file_name);
    } else {
        json_t *arr = inline_requests(items, n, err);
        if (!arr) {
            core_http_request_release(out);
            return err->code ? err->code : WB_ENOMEM;
        }
        input = json_pack("{s:{s:o}}", "requests", "requests", arr);
    }
    root = input ? json_pack("{s:{s:o,s:s}}", "batch", "inputConfig", input, "displayName",
                             display_name ? display_name : "wordbank")
                 : NULL;
    if (!root) {
        core_http_request_release(out);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    rc = prov_set_body(out, root, err);
    json_decref(root);
    return rc;
}

size_t gemini_batch_inline_size(const struct gemini_batch_item *items, size_t n)
{
    size_t total = 96;
    for (size_t i = 0; i < n; i++)
        total += items[i].body_len + strlen(items[i].key) + 40;
    return total;
}

int gemini_batch_jsonl(const struct gemini_batch_item *items, size_t n, struct wb_buf *out,
                       struct wb_error *err)
{
    for (size_t i = 0; i < n; i++) {
        json_t *req = item_request(&items[i], err), *line;
        char *s;
        int rc;
        if (!req)
            return err->code;
        line = json_pack("{s:s,s:o}", "key", items[i].key, "request", req);
        s = line ? json_dumps(line, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        json_decref(line);
        rc = s ? wb_buf_appends(out, s) : WB_ENOMEM;
        if (!rc)
            rc = wb_buf_append(out, "\n", 1);
        free(s);
        if (rc)
            return wb_error_set(err, rc, "the batch input file is too big");
    }
    return 0;
}

static int resource_request(const struct gemini_opts *o, const char *method, const char *name,
                            const char *prefix, const char *suffix, struct core_http_request *out,
                            struct wb_error *err)
{
    char path[512];
    if (!resource_ok(name, prefix))
        return wb_error_set(err, WB_EINVAL, "invalid name \"%s\" (expected %s<id>)",
                            name ? name : "", prefix);
    snprintf(path, sizeof path, "%s%s", name, suffix);
    return gemini_request_begin(o, method, NULL, path, WB_REQ_LIST, out, err);
}

int gemini_batch_get_request(const struct gemini_opts *o, const char *name,
                             struct core_http_request *out, struct wb_error *err)
{
    return resource_request(o, "GET", name, "batches/", "", out, err);
}

int gemini_batch_cancel_request(const struct gemini_opts *o, const char *name,
                                struct core_http_request *out, struct wb_error *err)
{
    int rc = resource_request(o, "POST", name, "batches/", ":cancel", out, err);
    /* The SDK posts an empty JSON object. */
    if (!rc) {
        json_t *root = json_object();
        rc = root ? prov_set_body(out, root, err) : wb_error_set(err, WB_ENOMEM, "out of memory");
        json_decref(root);
    }
    return rc;
}

int gemini_model_get_request(const struct gemini_opts *o, const char *model,
                             struct core_http_request *out, struct wb_error *err)
{
    return gemini_request_begin(o, "GET", model, "", WB_REQ_LIST, out, err);
}

int gemini_model_supports(const char *body, size_t len, const char *method,
                          struct core_api_error *aerr)
{
    json_t *root, *m, *v;
    size_t i;
    int found = 0, rc;
    if ((rc = prov_load_json(body, len, WB_GEMINI_MAX_TEXT, &root, aerr)))
        return rc;
    m = json_object_get(root, "supportedGenerationMethods");
    json_array_foreach(m, i, v) {
        if (json_is_string(v) && !strcmp(json_string_value(v), method))
            found = 1;
    }
    json_decref(root);
    return found;
}

/* ---- operations ---- */

void gemini_batch_init(struct gemini_batch *b)
{
    memset(b, 0, sizeof *b);
}

static void result_release(struct gemini_batch_result *r)
{
    free(r->key);
    free(r->response);
    free(r->error_message);
}

void gemini_batch_release(struct gemini_batch *b)
{
    free(b->name);
    free(b->responses_file);
    free(b->error_message);
    for (size_t i = 0; i < b->n_results; i++)
        result_release(&b->results[i]);
    free(b->results);
    gemini_batch_init(b);
}

int gemini_batch_state_final(const char *s)
{
    return !strcmp(s, "succeeded") || !strcmp(s, "failed") || !strcmp(s, "cancelled") ||
           !strcmp(s, "expired");
}

static void norm_state(const char *in, char *out, size_t cap)
{
    size_t i = 0;
    if (!in)
        in = "";
    if (!strncmp(in, "BATCH_STATE_", 12))
        in += 12;
    else if (!strncmp(in, "JOB_STATE_", 10))
        in += 10;
    for (; in[i] && i + 1 < cap; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'Z' ? in[i] - 'A' + 'a' : in[i]);
    out[i] = '\0';
    if (!strcmp(out, "canceled"))
        snprintf(out, cap, "cancelled");
    if (!*out)
        snprintf(out, cap, "unspecified");
}

/* One {response | error, metadata: {key}} or {key, response | error}. */
static int add_result(struct gemini_batch *b, const json_t *item, struct core_api_error *aerr)
{
    const json_t *key = json_object_get(item, "key"), *resp = json_object_get(item, "response"),
                 *er = json_object_get(item, "error"), *md = json_object_get(item, "metadata");
    struct gemini_batch_result *r;
    if (!json_is_string(key) && json_is_object(md))
        key = json_object_get(md, "key");
    if (!json_is_string(key))
        return prov_fail(aerr, WB_EPARSE, 0, "a batch result without a key");
    if (CORE_ARRAY_RESIZE(b->results, b->n_results + 1, 0) != 0)
        return prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
    r = &b->results[b->n_results++];
    memset(r, 0, sizeof *r);
    r->key = strdup(json_string_value(key));
    if (json_is_object(resp)) {
        r->response = json_dumps(resp, JSON_COMPACT | JSON_PRESERVE_ORDER);
        r->response_len = r->response ? strlen(r->response) : 0;
    } else {
        const json_t *msg = json_object_get(er, "message");
        r->error_code = (int)gemini_json_int(json_object_get(er, "code"), 0);
        if (!r->error_code)
            r->error_code = 500;
        r->error_message = strdup(json_is_string(msg) && *json_string_value(msg)
                                      ? json_string_value(msg)
                                      : "the batch returned neither a response nor an error");
    }
    if (!r->key || (!r->response && !r->error_message))
        return prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
    return 0;
}

int gemini_batch_parse(const char *body, size_t len, struct gemini_batch *b,
                       struct core_api_error *aerr)
{
    json_t *root, *md, *stats, *output, *inl, *v, *name;
    size_t i;
    int rc;
    if ((rc = prov_load_json(body, len, WB_GEMINI_MAX_EVENT, &root, aerr)))
        return rc;
    if ((rc = gemini_inband_error(root, aerr)))
        goto out;
    md = json_object_get(root, "metadata");
    name = json_object_get(root, "name");
    if (!json_is_string(name))
        name = json_object_get(md, "name");
    if (!json_is_string(name) || !resource_ok(json_string_value(name), "batches/")) {
        rc = prov_fail(aerr, WB_EPARSE, 0, "the batch operation has no valid name");
        goto out;
    }
    free(b->name);
    b->name = strdup(json_string_value(name));
    norm_state(json_string_value(json_object_get(md, "state")), b->state, sizeof b->state);
    b->done = json_is_true(json_object_get(root, "done"));
    stats = json_object_get(md, "batchStats");
    b->requests = gemini_json_int(json_object_get(stats, "requestCount"), 0);
    b->succeeded = gemini_json_int(json_object_get(stats, "successfulRequestCount"), 0);
    b->failed = gemini_json_int(json_object_get(stats, "failedRequestCount"), 0);
    b->pending = gemini_json_int(json_object_get(stats, "pendingRequestCount"), 0);
    {
        const json_t *er = json_object_get(root, "error"), *msg = json_object_get(er, "message");
        if (json_is_string(msg)) {
            free(b->error_message);
            b->error_message = strdup(json_string_value(msg));
        }
    }
    output = json_object_get(md, "output");
    if (!output)
        output = json_object_get(root, "response");
    v = json_object_get(output, "responsesFile");
    if (json_is_string(v)) {
        free(b->responses_file);
        b->responses_file = strdup(json_string_value(v));
    }
    inl = json_object_get(json_object_get(output, "inlinedResponses"), "inlinedResponses");
    for (i = 0; i < b->n_results; i++)
        result_release(&b->results[i]);
    b->n_results = 0;
    json_array_foreach(inl, i, v) {
        if ((rc = add_result(b, v, aerr)))
            goto out;
    }
    if (!b->name)
        rc = prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
out:
    json_decref(root);
    return rc;
}

int gemini_batch_parse_jsonl(const char *body, size_t len, struct gemini_batch *b,
                             struct core_api_error *aerr)
{
    size_t pos = 0, lineno = 0;
    while (pos < len) {
        const char *nl = memchr(body + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - body) : len, n = end - pos;
        json_t *line;
        json_error_t jerr;
        int rc;
        lineno++;
        while (n > 0 && (body[pos + n - 1] == '\r' || body[pos + n - 1] == ' '))
            n--;
        if (n > 0) {
            line = json_loadb(body + pos, n, 0, &jerr);
            if (!line || !json_is_object(line)) {
                json_decref(line);
                return prov_fail(aerr, WB_EPARSE, 1, "responses file line %zu is not JSON: %s",
                                 lineno, jerr.text);
            }
            rc = add_result(b, line, aerr);
            json_decref(line);
            if (rc)
                return rc;
        }
        pos = end + 1;
    }
    return 0;
}

int gemini_batch_list_request(const struct gemini_opts *o, int page_size, const char *page_token,
                              struct core_http_request *out, struct wb_error *err)
{
    struct wb_buf path;
    int rc;
    wb_buf_init(&path, 0);
    rc = wb_buf_appendf(&path, "batches?pageSize=%d", page_size > 0 ? page_size : 100);
    if (!rc && page_token) {
        /* Tokens are base64url-ish; refuse anything that would need escaping. */
        for (const char *p = page_token; *p; p++) {
            unsigned char c = (unsigned char)*p;
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_' || c == '.' || c == '=')) {
                wb_buf_release(&path);
                return wb_error_set(err, WB_EPARSE, "unexpected page token from the API");
            }
        }
        rc = wb_buf_appendf(&path, "&pageToken=%s", page_token);
    }
    if (rc) {
        wb_buf_release(&path);
        return wb_error_set(err, rc, "out of memory");
    }
    rc = gemini_request_begin(o, "GET", NULL, path.data, WB_REQ_LIST, out, err);
    wb_buf_release(&path);
    return rc;
}

void gemini_batch_briefs_free(struct gemini_batch_brief *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].name);
        free(v[i].display_name);
    }
    free(v);
}

int gemini_batch_list_parse(const char *body, size_t len, struct gemini_batch_brief **v, size_t *n,
                            char **next, struct core_api_error *aerr)
{
    json_t *root, *ops, *op, *tok;
    size_t i;
    int rc;
    *next = NULL;
    if ((rc = prov_load_json(body, len, WB_GEMINI_MAX_EVENT, &root, aerr)))
        return rc;
    if ((rc = gemini_inband_error(root, aerr)))
        goto out;
    ops = json_object_get(root, "operations");
    if (!ops)
        ops = json_object_get(root, "batches");
    json_array_foreach(ops, i, op) {
        const json_t *md = json_object_get(op, "metadata"), *nm = json_object_get(op, "name"),
                     *dn = json_object_get(md, "displayName");
        struct gemini_batch_brief *b;
        if (!json_is_string(nm) || !resource_ok(json_string_value(nm), "batches/"))
            continue;
        if (CORE_ARRAY_RESIZE(*v, *n + 1, 0) != 0) {
            rc = prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
            goto out;
        }
        b = &(*v)[(*n)++];
        memset(b, 0, sizeof *b);
        b->name = strdup(json_string_value(nm));
        b->display_name = strdup(json_is_string(dn) ? json_string_value(dn) : "");
        norm_state(json_string_value(json_object_get(md, "state")), b->state, sizeof b->state);
        if (!b->name || !b->display_name) {
            rc = prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
            goto out;
        }
    }
    tok = json_object_get(root, "nextPageToken");
    if (json_is_string(tok) && *json_string_value(tok) && !(*next = strdup(json_string_value(tok))))
        rc = prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
out:
    json_decref(root);
    return rc;
}

/* ---- Files API ---- */

/* {base}/{area}/{ver}/{path}: the upload and download hosts' URLs. */
static int area_url(const struct gemini_opts *o, const char *area, struct core_http_request *out)
{
    const char *base = prov_opt(o->base_url, WB_GEMINI_DEFAULT_BASE_URL);
    size_t blen = strlen(base), cap;
    char *url;
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    /* out->url is {base}/{ver}/...: put /{area} between base and ver. */
    if (!out->url || strncmp(out->url, base, blen) != 0)
        return WB_EINTERNAL;
    cap = strlen(out->url) + strlen(area) + 2;
    if (!(url = malloc(cap)))
        return WB_ENOMEM;
    snprintf(url, cap, "%.*s/%s%s", (int)blen, out->url, area, out->url + blen);
    free(out->url);
    out->url = url;
    return 0;
}

int gemini_upload_start_request(const struct gemini_opts *o, const char *display_name, size_t size,
                                const char *mime, struct core_http_request *out,
                                struct wb_error *err)
{
    char len[32];
    json_t *root;
    int rc;
    if ((rc = gemini_request_begin(o, "POST", NULL, "files", WB_REQ_LIST, out, err)))
        return rc;
    snprintf(len, sizeof len, "%zu", size);
    if ((rc = area_url(o, "upload", out)) ||
        (rc = core_http_request_add_header(out, "X-Goog-Upload-Protocol", "resumable")) ||
        (rc = core_http_request_add_header(out, "X-Goog-Upload-Command", "start")) ||
        (rc = core_http_request_add_header(out, "X-Goog-Upload-Header-Content-Length", len)) ||
        (rc = core_http_request_add_header(out, "X-Goog-Upload-Header-Content-Type", mime))) {
        core_http_request_release(out);
        return wb_error_set(err, rc, "cannot build the upload request");
    }
    root = json_pack("{s:{s:s}}", "file", "displayName", display_name ? display_name : "wordbank");
    if (!root) {
        core_http_request_release(out);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    rc = prov_set_body(out, root, err);
    json_decref(root);
    return rc;
}

int gemini_upload_chunk_request(const struct gemini_opts *o, const char *upload_url,
                                const void *data, size_t len, size_t offset, int final,
                                struct core_http_request *out, struct wb_error *err)
{
    const char *base = prov_opt(o->base_url, WB_GEMINI_DEFAULT_BASE_URL);
    const char *client = prov_opt(o->client, "wordbank/" WB_VERSION);
    size_t blen = strlen(base);
    char off[32];
    int rc;
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    /* The key goes only to the API's own host. */
    if (!upload_url || strncmp(upload_url, base, blen) != 0 ||
        (upload_url[blen] != '/' && upload_url[blen] != '?'))
        return wb_error_set(err, WB_EPARSE, "the upload URL does not belong to %.*s", (int)blen,
                            base);
    if (!o->api_key || !*o->api_key)
        return wb_error_set(err, WB_ECONFIG, "no Gemini API key");
    snprintf(off, sizeof off, "%zu", offset);
    out->method = strdup("POST");
    out->url = strdup(upload_url);
    out->model = strdup("files");
    out->kind = WB_REQ_LIST;
    out->body = malloc(len ? len : 1);
    if (!out->method || !out->url || !out->model || !out->body) {
        core_http_request_release(out);
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    }
    memcpy(out->body, data, len);
    out->body_len = len;
    if ((rc = core_http_request_add_header(out, "x-goog-api-client", client)) ||
        (rc = core_http_request_add_header(out, "x-goog-api-key", o->api_key)) ||
        (rc = core_http_request_add_header(out, "X-Goog-Upload-Command",
                                           final ? "upload, finalize" : "upload")) ||
        (rc = core_http_request_add_header(out, "X-Goog-Upload-Offset", off))) {
        core_http_request_release(out);
        return wb_error_set(err, rc, "out of memory");
    }
    return 0;
}

int gemini_file_parse(const char *body, size_t len, char **name, struct core_api_error *aerr)
{
    json_t *root, *n;
    int rc;
    *name = NULL;
    if ((rc = prov_load_json(body, len, WB_GEMINI_MAX_TEXT, &root, aerr)))
        return rc;
    n = json_object_get(json_object_get(root, "file"), "name");
    if (!json_is_string(n))
        n = json_object_get(root, "name");
    if (!json_is_string(n) || !resource_ok(json_string_value(n), "files/"))
        rc = prov_fail(aerr, WB_EPARSE, 0, "the upload reply names no file");
    else if (!(*name = strdup(json_string_value(n))))
        rc = prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
    json_decref(root);
    return rc;
}

int gemini_download_request(const struct gemini_opts *o, const char *file,
                            struct core_http_request *out, struct wb_error *err)
{
    int rc = resource_request(o, "GET", file, "files/", ":download?alt=media", out, err);
    if (!rc && (rc = area_url(o, "download", out))) {
        core_http_request_release(out);
        return wb_error_set(err, rc, "cannot build the download URL");
    }
    return rc;
}
