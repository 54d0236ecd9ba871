/* Batch mode and Files API builders and parsers: the create call against the
 * official SDK's recorded batchGenerateContent request (byte for byte), the
 * poll path as recorded, operations in both state spellings, inline and file
 * results matched by key, the resumable upload's headers, and refusals. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "providers/gemini_batch.h"
#include "test.h"
#include "wordbank/config.h"

#define KEY  "test-key-not-secret-123456"
#define BASE "http://127.0.0.1:8089"

static json_t *sdk_record(int id)
{
    struct wb_buf b;
    struct wb_error err = { 0 };
    json_t *found = NULL;
    char *line, *save = NULL;
    wb_buf_init(&b, 0);
    CHECK_OK(core_file_read(th_path("tests/providers/fixtures/sdk-requests.jsonl"), &b, &err),
             &err);
    for (line = strtok_r(b.data, "\n", &save); line && !found; line = strtok_r(NULL, "\n", &save)) {
        json_t *r = json_loads(line, 0, NULL);
        CHECK(r != NULL);
        if (json_integer_value(json_object_get(r, "id")) == id)
            found = r;
        else
            json_decref(r);
    }
    wb_buf_release(&b);
    CHECK_MSG(found != NULL, "record %d not in fixture", id);
    return found;
}

static void opts(struct gemini_opts *o)
{
    gemini_opts_init(o);
    o->base_url = BASE "/";
    o->api_key = KEY;
}

TEST(sdk_batch_create_identical)
{
    json_t *rec = sdk_record(12), *reqs, *one;
    const json_t *body = json_object_get(rec, "body");
    struct gemini_batch_item items[4];
    char *bodies[4], want_url[512];
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    size_t n, i;
    char *want;
    const char *cl;

    reqs = json_object_get(
        json_object_get(json_object_get(json_object_get(body, "batch"), "inputConfig"), "requests"),
        "requests");
    n = json_array_size(reqs);
    CHECK(n >= 2 && n <= 4);
    json_array_foreach(reqs, i, one) {
        bodies[i] = json_dumps(json_object_get(one, "request"), JSON_COMPACT | JSON_PRESERVE_ORDER);
        items[i].key = json_string_value(json_object_get(json_object_get(one, "metadata"), "key"));
        items[i].body = bodies[i];
        items[i].body_len = strlen(bodies[i]);
    }
    opts(&o);
    core_http_request_init(&r);
    CHECK_OK(gemini_batch_create_request(&o, "gemini-2.5-flash", "sdk-check-batch", items, n, NULL,
                                         &r, &err),
             &err);
    snprintf(want_url, sizeof want_url, BASE "%s", json_string_value(json_object_get(rec, "path")));
    CHECK_STR(r.url, want_url);
    CHECK_STR(r.method, "POST");
    want = json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER);
    CHECK_STR(r.body, want);
    cl = json_string_value(json_object_get(json_object_get(rec, "headers"), "content-length"));
    CHECK(cl != NULL);
    CHECK_INT(r.body_len, atoi(cl));
    CHECK_STR(core_http_header_find(r.headers, r.n_headers, "x-goog-api-key"), KEY);
    CHECK(strstr(r.url, KEY) == NULL);
    /* The size estimate errs on the large side (it decides inline vs file). */
    CHECK(gemini_batch_inline_size(items, n) >= r.body_len);
    free(want);
    core_http_request_release(&r);

    /* A file job names the file instead. */
    core_http_request_init(&r);
    CHECK_OK(
        gemini_batch_create_request(&o, "gemini-2.5-flash", "d", NULL, 0, "files/abc123", &r, &err),
        &err);
    CHECK_STR(r.body, "{\"batch\":{\"inputConfig\":{\"fileName\":\"files/abc123\"},"
                      "\"displayName\":\"d\"}}");
    core_http_request_release(&r);
    for (i = 0; i < n; i++)
        free(bodies[i]);
    json_decref(rec);
}

TEST(sdk_batch_poll_path)
{
    json_t *rec = sdk_record(13);
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    char want[512];
    opts(&o);
    core_http_request_init(&r);
    CHECK_OK(gemini_batch_get_request(&o, "batches/xbxwac0kocbqjx1c", &r, &err), &err);
    snprintf(want, sizeof want, BASE "%s", json_string_value(json_object_get(rec, "path")));
    CHECK_STR(r.url, want);
    CHECK_STR(r.method, json_string_value(json_object_get(rec, "method")));
    CHECK(r.body == NULL);
    core_http_request_release(&r);
    core_http_request_init(&r);
    CHECK_OK(gemini_batch_cancel_request(&o, "batches/xbxwac0kocbqjx1c", &r, &err), &err);
    CHECK_STR(r.url, BASE "/v1beta/batches/xbxwac0kocbqjx1c:cancel");
    CHECK_STR(r.method, "POST");
    core_http_request_release(&r);
    json_decref(rec);
}

TEST(jsonl_input)
{
    struct gemini_batch_item it[2] = { { "k0", "{\"contents\":[]}", 15 },
                                       { "k1", "{\"a\":1}", 7 } };
    struct wb_buf out;
    struct wb_error err = { 0 };
    wb_buf_init(&out, 0);
    CHECK_OK(gemini_batch_jsonl(it, 2, &out, &err), &err);
    CHECK_STR(out.data, "{\"key\":\"k0\",\"request\":{\"contents\":[]}}\n"
                        "{\"key\":\"k1\",\"request\":{\"a\":1}}\n");
    wb_buf_release(&out);
    /* A body that is not an object is refused before any request exists. */
    it[1].body = "[1]";
    it[1].body_len = 3;
    wb_buf_init(&out, 0);
    CHECK_INT(gemini_batch_jsonl(it, 2, &out, &err), WB_EINVAL);
    wb_buf_release(&out);
}

TEST(operation_parse)
{
    const char *running =
        "{\"name\":\"batches/abc\",\"metadata\":{\"state\":\"BATCH_STATE_RUNNING\","
        "\"batchStats\":{\"requestCount\":\"3\",\"pendingRequestCount\":\"3\"}}}";
    const char *done =
        "{\"name\":\"batches/abc\",\"done\":true,\"metadata\":{\"state\":\"JOB_STATE_SUCCEEDED\","
        "\"batchStats\":{\"requestCount\":\"2\",\"successfulRequestCount\":\"1\","
        "\"failedRequestCount\":1},\"output\":{\"inlinedResponses\":{\"inlinedResponses\":["
        "{\"response\":{\"candidates\":[]},\"metadata\":{\"key\":\"k0\"}},"
        "{\"error\":{\"code\":400,\"message\":\"bad thing\"},\"metadata\":{\"key\":\"k1\"}}]}}}}";
    const char *file = "{\"name\":\"batches/f1\",\"done\":true,\"metadata\":{\"state\":"
                       "\"BATCH_STATE_SUCCEEDED\"},\"response\":{\"responsesFile\":\"files/r9\"}}";
    struct gemini_batch b;
    struct core_api_error ae;
    gemini_batch_init(&b);
    CHECK_OK(gemini_batch_parse(running, strlen(running), &b, &ae), NULL);
    CHECK_STR(b.name, "batches/abc");
    CHECK_STR(b.state, "running");
    CHECK_INT(b.requests, 3);
    CHECK_INT(b.pending, 3);
    CHECK_INT(b.done, 0);
    CHECK(!gemini_batch_state_final(b.state));
    CHECK_INT(b.n_results, 0);
    CHECK_OK(gemini_batch_parse(done, strlen(done), &b, &ae), NULL);
    CHECK_STR(b.state, "succeeded");
    CHECK(gemini_batch_state_final(b.state));
    CHECK_INT(b.succeeded, 1);
    CHECK_INT(b.failed, 1);
    CHECK_INT(b.n_results, 2);
    CHECK_STR(b.results[0].key, "k0");
    CHECK_STR(b.results[0].response, "{\"candidates\":[]}");
    CHECK(b.results[0].error_message == NULL);
    CHECK_STR(b.results[1].key, "k1");
    CHECK(b.results[1].response == NULL);
    CHECK_INT(b.results[1].error_code, 400);
    CHECK_STR(b.results[1].error_message, "bad thing");
    gemini_batch_release(&b);

    CHECK_OK(gemini_batch_parse(file, strlen(file), &b, &ae), NULL);
    CHECK_STR(b.responses_file, "files/r9");
    {
        /* Lines in any order, matched by key later; an error line; CRLF. */
        const char *lines = "{\"key\":\"k1\",\"error\":{\"code\":429,\"message\":\"later\"}}\r\n"
                            "{\"key\":\"k0\",\"response\":{\"x\":1}}\n\n";
        CHECK_OK(gemini_batch_parse_jsonl(lines, strlen(lines), &b, &ae), NULL);
        CHECK_INT(b.n_results, 2);
        CHECK_STR(b.results[0].key, "k1");
        CHECK_INT(b.results[0].error_code, 429);
        CHECK_STR(b.results[1].key, "k0");
        CHECK_STR(b.results[1].response, "{\"x\":1}");
        CHECK_INT(gemini_batch_parse_jsonl("{\"key\":\"k2\"", 11, &b, &ae), WB_EPARSE);
        CHECK_INT(gemini_batch_parse_jsonl("{\"response\":{}}\n", 16, &b, &ae), WB_EPARSE);
    }
    gemini_batch_release(&b);

    /* Expired and cancelled (either spelling) are final; a name that is not a
     * batch is refused; an error body is classified. */
    {
        const char *exp = "{\"name\":\"batches/e\",\"metadata\":{\"state\":\"JOB_STATE_EXPIRED\"}}";
        const char *can =
            "{\"name\":\"batches/c\",\"metadata\":{\"state\":\"BATCH_STATE_CANCELLED\"}}";
        const char *bad = "{\"name\":\"batches/../x\",\"metadata\":{}}";
        const char *err =
            "{\"error\":{\"code\":404,\"message\":\"gone\",\"status\":\"NOT_FOUND\"}}";
        CHECK_OK(gemini_batch_parse(exp, strlen(exp), &b, &ae), NULL);
        CHECK_STR(b.state, "expired");
        CHECK(gemini_batch_state_final(b.state));
        CHECK_OK(gemini_batch_parse(can, strlen(can), &b, &ae), NULL);
        CHECK_STR(b.state, "cancelled");
        CHECK_INT(gemini_batch_parse(bad, strlen(bad), &b, &ae), WB_EPARSE);
        CHECK(gemini_batch_parse(err, strlen(err), &b, &ae) < 0);
        CHECK(strstr(ae.message, "gone") != NULL);
        gemini_batch_release(&b);
    }
}

TEST(files_api)
{
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    struct core_api_error ae;
    char *name = NULL;
    opts(&o);
    core_http_request_init(&r);
    CHECK_OK(gemini_upload_start_request(&o, "cards.jsonl", 1234, "application/jsonl", &r, &err),
             &err);
    CHECK_STR(r.url, BASE "/upload/v1beta/files");
    CHECK_STR(r.method, "POST");
    CHECK_STR(core_http_header_find(r.headers, r.n_headers, "X-Goog-Upload-Protocol"), "resumable");
    CHECK_STR(core_http_header_find(r.headers, r.n_headers, "X-Goog-Upload-Command"), "start");
    CHECK_STR(core_http_header_find(r.headers, r.n_headers, "X-Goog-Upload-Header-Content-Length"),
              "1234");
    CHECK_STR(core_http_header_find(r.headers, r.n_headers, "X-Goog-Upload-Header-Content-Type"),
              "application/jsonl");
    CHECK_STR(r.body, "{\"file\":{\"displayName\":\"cards.jsonl\"}}");
    core_http_request_release(&r);

    core_http_request_init(&r);
    CHECK_OK(gemini_upload_chunk_request(&o, BASE "/upload/v1beta/files?upload_id=x", "abcdef", 6,
                                         8388608, 1, &r, &err),
             &err);
    CHECK_STR(core_http_header_find(r.headers, r.n_headers, "X-Goog-Upload-Command"),
              "upload, finalize");
    CHECK_STR(core_http_header_find(r.headers, r.n_headers, "X-Goog-Upload-Offset"), "8388608");
    CHECK_INT(r.body_len, 6);
    CHECK(memcmp(r.body, "abcdef", 6) == 0);
    core_http_request_release(&r);
    core_http_request_init(&r);
    CHECK_OK(gemini_upload_chunk_request(&o, BASE "/upload/v1beta/files?upload_id=x", "ab", 2, 0, 0,
                                         &r, &err),
             &err);
    CHECK_STR(core_http_header_find(r.headers, r.n_headers, "X-Goog-Upload-Command"), "upload");
    core_http_request_release(&r);
    /* The key never goes to another host, even one that starts alike. */
    core_http_request_init(&r);
    CHECK_INT(gemini_upload_chunk_request(&o, "http://evil.example/upload", "a", 1, 0, 1, &r, &err),
              WB_EPARSE);
    CHECK_INT(gemini_upload_chunk_request(&o, BASE "0.evil/upload", "a", 1, 0, 1, &r, &err),
              WB_EPARSE);
    core_http_request_release(&r);

    CHECK_OK(gemini_file_parse("{\"file\":{\"name\":\"files/abc\",\"sizeBytes\":\"3\"}}", 45, &name,
                               &ae),
             NULL);
    CHECK_STR(name, "files/abc");
    free(name);
    CHECK_INT(gemini_file_parse("{\"file\":{}}", 11, &name, &ae), WB_EPARSE);

    core_http_request_init(&r);
    CHECK_OK(gemini_download_request(&o, "files/r9", &r, &err), &err);
    CHECK_STR(r.url, BASE "/download/v1beta/files/r9:download?alt=media");
    CHECK_STR(r.method, "GET");
    core_http_request_release(&r);
    core_http_request_init(&r);
    CHECK_INT(gemini_download_request(&o, "files/../../x", &r, &err), WB_EINVAL);
    CHECK_INT(gemini_batch_get_request(&o, "models/x", &r, &err), WB_EINVAL);
    core_http_request_release(&r);
}

TEST(model_supports)
{
    const char *yes = "{\"name\":\"models/m\",\"supportedGenerationMethods\":[\"generateContent\","
                      "\"batchGenerateContent\"]}";
    const char *no = "{\"name\":\"models/t\",\"supportedGenerationMethods\":[\"generateContent\"]}";
    struct core_api_error ae;
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    CHECK_INT(gemini_model_supports(yes, strlen(yes), "batchGenerateContent", &ae), 1);
    CHECK_INT(gemini_model_supports(no, strlen(no), "batchGenerateContent", &ae), 0);
    CHECK(gemini_model_supports("nope", 4, "batchGenerateContent", &ae) < 0);
    opts(&o);
    core_http_request_init(&r);
    CHECK_OK(gemini_model_get_request(&o, "gemini-3.8-flash-tts", &r, &err), &err);
    CHECK_STR(r.url, BASE "/v1beta/models/gemini-3.8-flash-tts");
    CHECK_STR(r.method, "GET");
    core_http_request_release(&r);
}
