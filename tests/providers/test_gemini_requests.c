/* The requests we build against the official SDK's recorded requests
 * (fixtures/sdk-requests.jsonl, @google/genai 2.32.0 / 2.18.0): for plain calls
 * (TTS, dialogue, image, Imagen) the whole body must be identical, byte for byte
 * after compact serialisation, with the recorded Content-Length; for the details
 * call, whose prompt and schema differ by design, everything else is compared
 * field by field. Paths, queries and headers too. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "providers/gemini.h"
#include "test.h"
#include "wordbank/config.h"
#include "wordbank/log.h"

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

/* The recorded path plus query, as our URL must end. */
static void check_url(const struct core_http_request *r, const json_t *rec)
{
    char want[1024];
    const json_t *q = json_object_get(rec, "query");
    const char *alt = json_string_value(json_object_get(q, "alt"));
    snprintf(want, sizeof want, BASE "%s%s%s", json_string_value(json_object_get(rec, "path")),
             alt ? "?alt=" : "", alt ? alt : "");
    CHECK_STR(r->url, want);
    CHECK_STR(r->method, json_string_value(json_object_get(rec, "method")));
    CHECK(strstr(r->url, KEY) == NULL);
}

/* Our three headers exist in the recording (same names), with our values. */
static void check_headers(const struct core_http_request *r, const json_t *rec)
{
    const json_t *h = json_object_get(rec, "headers");
    static const char *const names[] = { "Content-Type", "x-goog-api-key", "x-goog-api-client" };
    CHECK_INT(r->n_headers, 3);
    for (size_t i = 0; i < 3; i++) {
        CHECK(json_is_string(json_object_get(h, names[i])));
        CHECK(core_http_header_find(r->headers, r->n_headers, names[i]) != NULL);
    }
    CHECK_STR(core_http_header_find(r->headers, r->n_headers, "content-type"), "application/json");
    CHECK_STR(core_http_header_find(r->headers, r->n_headers, "x-goog-api-key"), KEY);
    CHECK_STR(core_http_header_find(r->headers, r->n_headers, "x-goog-api-client"),
              "wordbank/" WB_VERSION);
}

/* The whole body: equal as JSON, equal as compact text in the SDK's key order,
 * and as long as the recorded Content-Length. */
static void check_body_identical(const struct core_http_request *r, const json_t *rec)
{
    const json_t *want = json_object_get(rec, "body");
    json_t *got = json_loadb(r->body, r->body_len, 0, NULL);
    char *want_s = json_dumps(want, JSON_COMPACT);
    const char *cl =
        json_string_value(json_object_get(json_object_get(rec, "headers"), "content-length"));
    CHECK(got != NULL);
    CHECK(json_equal(got, want));
    CHECK_STR(r->body, want_s);
    CHECK(cl != NULL);
    CHECK_INT(r->body_len, atoi(cl));
    free(want_s);
    json_decref(got);
}

TEST(sdk_tts_stream_identical)
{
    json_t *rec = sdk_record(4);
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    opts(&o);
    o.tts_model = "gemini-2.5-flash-preview-tts";
    core_http_request_init(&r);
    CHECK_OK(gemini_speech_request(&o, "Say cheerfully: Have a wonderful day!", "Kore", &r, &err),
             &err);
    check_url(&r, rec);
    check_headers(&r, rec);
    check_body_identical(&r, rec);
    CHECK_INT(r.stream, 1);
    CHECK_INT(r.kind, WB_REQ_SPEECH);
    CHECK_STR(r.model, "gemini-2.5-flash-preview-tts");
    CHECK(strstr(r.body, "temperature") == NULL);
    core_http_request_release(&r);
    json_decref(rec);
}

TEST(sdk_tts_unary_identical)
{
    json_t *rec = sdk_record(6);
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    opts(&o);
    o.tts_model = "gemini-2.5-flash-preview-tts";
    o.voice = "Puck";
    core_http_request_init(&r);
    CHECK_OK(gemini_speech_request_unary(&o, "Hello there", NULL, &r, &err), &err);
    check_url(&r, rec);
    check_headers(&r, rec);
    check_body_identical(&r, rec);
    CHECK_INT(r.stream, 0);
    core_http_request_release(&r);
    json_decref(rec);
}

TEST(sdk_dialogue_identical)
{
    json_t *rec = sdk_record(5);
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    struct wb_dialogue_line *lines;
    size_t n;
    static const char script[] =
        "Joe: How's it going today Jane?\r\nJane: Not too bad, how about you?\n";
    CHECK_OK(prov_dialogue_parse(script, sizeof script - 1, &lines, &n, &err), &err);
    CHECK_INT(n, 2);
    opts(&o);
    o.tts_model = "gemini-2.5-pro-preview-tts";
    core_http_request_init(&r);
    CHECK_OK(gemini_dialogue_request(&o, lines, n, "Kore", "Puck", &r, &err), &err);
    check_url(&r, rec);
    check_headers(&r, rec);
    check_body_identical(&r, rec);
    CHECK_INT(r.stream, 1);
    core_http_request_release(&r);
    /* The unary variant: same body, generateContent, not streamed. */
    core_http_request_init(&r);
    CHECK_OK(gemini_dialogue_request_unary(&o, lines, n, "Kore", "Puck", &r, &err), &err);
    CHECK_STR(r.url, BASE "/v1beta/models/gemini-2.5-pro-preview-tts:generateContent");
    CHECK_INT(r.stream, 0);
    check_body_identical(&r, rec);
    core_http_request_release(&r);
    /* Default voices: voice and voice2. */
    core_http_request_init(&r);
    CHECK_OK(gemini_dialogue_request(&o, lines, n, NULL, NULL, &r, &err), &err);
    check_body_identical(&r, rec);
    core_http_request_release(&r);
    prov_dialogue_lines_free(lines, n);
    json_decref(rec);
}

TEST(sdk_image_identical)
{
    json_t *rec = sdk_record(11);
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    json_t *body;
    opts(&o);
    o.image_model = "gemini-2.5-flash-image";
    o.image_aspect = "16:9";
    core_http_request_init(&r);
    CHECK_OK(gemini_image_request(&o, "A red bicycle leaning on a blue wall", &r, &err), &err);
    check_url(&r, rec);
    check_headers(&r, rec);
    check_body_identical(&r, rec);
    CHECK_INT(r.kind, WB_REQ_IMAGE);
    CHECK_INT(r.stream, 0);
    core_http_request_release(&r);

    /* Defaults: 1:1 and 1K on the default image model. */
    opts(&o);
    core_http_request_init(&r);
    CHECK_OK(gemini_image_request(&o, "a cat", &r, &err), &err);
    CHECK_STR(r.url, BASE "/v1beta/models/gemini-3.1-flash-image:generateContent");
    body = json_loads(r.body, 0, NULL);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(body, "generationConfig"), "imageConfig"),
                  "aspectRatio")),
              "1:1");
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(body, "generationConfig"), "imageConfig"),
                  "imageSize")),
              "1K");
    json_decref(body);
    core_http_request_release(&r);
    json_decref(rec);
}

TEST(sdk_imagen_identical)
{
    json_t *rec = sdk_record(7);
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    opts(&o);
    o.image_api = "imagen";
    o.image_model = "imagen-4.0-generate-001";
    core_http_request_init(&r);
    CHECK_OK(gemini_image_request(&o, "A watercolor of a cat asleep on a chair", &r, &err), &err);
    check_url(&r, rec);
    check_headers(&r, rec);
    check_body_identical(&r, rec);
    core_http_request_release(&r);
    o.image_api = "dall-e";
    core_http_request_init(&r);
    CHECK_INT(gemini_image_request(&o, "x", &r, &err), WB_ECONFIG);
    core_http_request_release(&r);
    json_decref(rec);
}

/* Every key of want (recursively for objects) has the same JSON type in got;
 * the schema's own content differs by design and is compared separately. */
static void same_shape(const json_t *got, const json_t *want, const char *path)
{
    const char *k;
    const json_t *v;
    CHECK_MSG(json_typeof(got) == json_typeof(want), "type differs at %s", path);
    if (!json_is_object(want) || strstr(path, ".responseSchema"))
        return;
    json_object_foreach((json_t *)want, k, v) {
        char sub[512];
        snprintf(sub, sizeof sub, "%s.%s", path, k);
        CHECK_MSG(json_object_get(got, k) != NULL, "missing %s", sub);
        same_shape(json_object_get(got, k), v, sub);
    }
}

/* The same keys in the same order (what JSON.stringify would print). */
static void same_key_order(const json_t *got, const json_t *want)
{
    void *a = json_object_iter((json_t *)got), *b = json_object_iter((json_t *)want);
    while (a && b) {
        CHECK_STR(json_object_iter_key(a), json_object_iter_key(b));
        a = json_object_iter_next((json_t *)got, a);
        b = json_object_iter_next((json_t *)want, b);
    }
    CHECK(a == NULL && b == NULL);
}

TEST(sdk_details_same_shape)
{
    json_t *rec = sdk_record(1), *got;
    const json_t *want = json_object_get(rec, "body"), *gc, *wgc, *sch, *wsch, *p, *x;
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    struct wb_entry e;
    const char *k;
    size_t i;

    opts(&o);
    o.text_model = "gemini-2.5-flash";
    o.temperature = 0.2;
    wb_entry_init(&e);
    e.word = strdup("gato");
    e.translation = strdup("cat");
    e.language = strdup("es");
    e.context = strdup("El gato duerme en la silla.");
    core_http_request_init(&r);
    CHECK_OK(gemini_details_request(&o, &e, &r, &err), &err);
    check_url(&r, rec);
    check_headers(&r, rec);
    CHECK_INT(r.kind, WB_REQ_TEXT);
    CHECK_INT(r.stream, 0);
    got = json_loadb(r.body, r.body_len, 0, NULL);
    CHECK(got != NULL);
    /* Same top-level keys, same contents layout (one user turn, one text part). */
    CHECK_INT(json_object_size(got), json_object_size(want));
    same_shape(got, want, "body");
    CHECK_INT(json_array_size(json_object_get(got, "contents")), 1);
    p = json_array_get(json_object_get(got, "contents"), 0);
    CHECK_STR(json_string_value(json_object_get(p, "role")), "user");
    CHECK_INT(json_array_size(json_object_get(p, "parts")), 1);
    k = json_string_value(json_object_get(json_array_get(json_object_get(p, "parts"), 0), "text"));
    CHECK(k && strstr(k, "gato") && strstr(k, "cat") && strstr(k, "El gato duerme") &&
          strstr(k, "Spanish"));
    /* generationConfig: identical apart from the schema's content. */
    gc = json_object_get(got, "generationConfig");
    wgc = json_object_get(want, "generationConfig");
    CHECK(json_equal(json_object_get(gc, "temperature"), json_object_get(wgc, "temperature")));
    CHECK(json_equal(json_object_get(gc, "responseMimeType"),
                     json_object_get(wgc, "responseMimeType")));
    CHECK_INT(json_object_size(gc), json_object_size(wgc));
    same_key_order(got, want);
    same_key_order(p, json_array_get(json_object_get(want, "contents"), 0));
    same_key_order(gc, wgc);
    /* The schema follows the SDK's conventions: upper-case types, required and
     * propertyOrdering listing every property in order, items for arrays. */
    sch = json_object_get(gc, "responseSchema");
    wsch = json_object_get(wgc, "responseSchema");
    CHECK(json_equal(json_object_get(sch, "type"), json_object_get(wsch, "type")));
    CHECK(json_equal(json_object_get(sch, "required"), json_object_get(sch, "propertyOrdering")));
    CHECK(json_equal(json_object_get(wsch, "required"), json_object_get(wsch, "propertyOrdering")));
    i = 0;
    json_object_foreach((json_t *)json_object_get(sch, "properties"), k, x) {
        const char *t = json_string_value(json_object_get(x, "type"));
        CHECK_STR(k,
                  json_string_value(json_array_get(json_object_get(sch, "propertyOrdering"), i)));
        CHECK(t && (!strcmp(t, "STRING") || !strcmp(t, "ARRAY")));
        i++;
    }
    CHECK_INT(i, 7);
    x = json_object_get(json_object_get(json_object_get(sch, "properties"), "examples"), "items");
    CHECK_STR(json_string_value(json_object_get(x, "type")), "OBJECT");
    CHECK_INT(json_array_size(json_object_get(x, "propertyOrdering")), 2);
    /* The fields the issue asks for are in it. */
    {
        static const char *const need[] = { "description",   "examples", "image_description",
                                            "language_code", "reading",  "word",
                                            "translation" };
        for (i = 0; i < 7; i++)
            CHECK(json_object_get(json_object_get(sch, "properties"), need[i]) != NULL);
    }
    json_decref(got);
    core_http_request_release(&r);

    /* Without a temperature (the default) the field is left out. */
    opts(&o);
    core_http_request_init(&r);
    CHECK_OK(gemini_details_request(&o, &e, &r, &err), &err);
    CHECK(strstr(r.body, "temperature") == NULL);
    CHECK_STR(r.url, BASE "/v1beta/models/gemini-3.8-flash:generateContent");
    core_http_request_release(&r);
    o.thinking_level = "low";
    core_http_request_init(&r);
    CHECK_OK(gemini_details_request(&o, &e, &r, &err), &err);
    CHECK(strstr(r.body, "\"thinkingConfig\":{\"thinkingLevel\":\"low\"}") != NULL);
    core_http_request_release(&r);
    wb_entry_release(&e);
    json_decref(rec);
}

TEST(request_refusals)
{
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    struct wb_dialogue_line three[3] = { { "A", "hi", 1 }, { "B", "yo", 2 }, { "C", "hey", 3 } };
    struct wb_dialogue_line one[2] = { { "A", "hi", 1 }, { "A", "again", 2 } };

    opts(&o);
    core_http_request_init(&r);
    CHECK_INT(gemini_dialogue_request(&o, three, 3, NULL, NULL, &r, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "exactly two speakers") && strstr(err.msg, "3 (A, B, C)"));
    CHECK(r.url == NULL && r.body == NULL);
    CHECK_INT(gemini_dialogue_request(&o, one, 2, NULL, NULL, &r, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "one (A)"));
    CHECK_INT(gemini_dialogue_request(&o, one, 0, NULL, NULL, &r, &err), WB_EINVAL);

    o.api_key = NULL;
    CHECK_INT(gemini_speech_request(&o, "hi", NULL, &r, &err), WB_ECONFIG);
    CHECK(strstr(err.msg, "GEMINI_API_KEY"));
    o.api_key = "bad\r\nInjected: 1";
    CHECK_INT(gemini_speech_request(&o, "hi", NULL, &r, &err), WB_ECONFIG);
    o.api_key = KEY;
    o.tts_model = "../../v1/files";
    CHECK_INT(gemini_speech_request(&o, "hi", NULL, &r, &err), WB_ECONFIG);
    o.tts_model = "gemini?key=x";
    CHECK_INT(gemini_speech_request(&o, "hi", NULL, &r, &err), WB_ECONFIG);
    o.tts_model = "models/gemini-3.8-flash-tts"; /* the prefix is accepted, not doubled */
    o.api_version = "v1";
    o.base_url = "https://example.test//";
    CHECK_OK(gemini_speech_request(&o, "hi", NULL, &r, &err), &err);
    CHECK_STR(r.url,
              "https://example.test/v1/models/gemini-3.8-flash-tts:streamGenerateContent?alt=sse");
    CHECK_STR(r.model, "gemini-3.8-flash-tts");
    core_http_request_release(&r);
    o.base_url = "ftp://x";
    CHECK_INT(gemini_speech_request(&o, "hi", NULL, &r, &err), WB_ECONFIG);
    o.base_url = NULL;
    CHECK_INT(gemini_speech_request(&o, "", NULL, &r, &err), WB_EINVAL);
    o.api_version = "v1/../x";
    CHECK_INT(gemini_speech_request(&o, "hi", NULL, &r, &err), WB_ECONFIG);
    core_http_request_release(&r);
}

TEST(models_request)
{
    struct gemini_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    opts(&o);
    core_http_request_init(&r);
    CHECK_OK(gemini_models_request(&o, 50, NULL, &r, &err), &err);
    CHECK_STR(r.method, "GET");
    CHECK_STR(r.url, BASE "/v1beta/models?pageSize=50");
    CHECK(r.body == NULL);
    CHECK_INT(r.kind, WB_REQ_LIST);
    CHECK_STR(core_http_header_find(r.headers, r.n_headers, "x-goog-api-key"), KEY);
    core_http_request_release(&r);
    core_http_request_init(&r);
    CHECK_OK(gemini_models_request(&o, 0, "Cg9n/+x==", &r, &err), &err);
    CHECK_STR(r.url, BASE "/v1beta/models?pageSize=1000&pageToken=Cg9n%2F%2Bx%3D%3D");
    core_http_request_release(&r);
}

TEST(opts_from_config)
{
    struct wb_config *cfg;
    struct gemini_opts o;
    struct wb_error err = { 0 };
    struct core_http_request r;
    char msg[256];
    CHECK_OK(wb_config_new(&cfg), &err);
    CHECK_OK(gemini_opts_from_config(cfg, &o, &err), &err);
    CHECK_STR(o.text_model, "gemini-3.8-flash");
    CHECK_STR(o.tts_model, "gemini-3.8-flash-tts");
    CHECK_STR(o.image_model, "gemini-3.1-flash-image");
    CHECK_STR(o.voice, "Kore");
    CHECK_STR(o.api_version, "v1beta");
    CHECK_STR(o.base_url, "https://generativelanguage.googleapis.com");
    CHECK(o.api_key == NULL);
    CHECK(o.temperature < 0);
    wb_config_set(cfg, "gemini_api_key", KEY, WB_SRC_FLAG);
    wb_config_set(cfg, "text_model", "gemini-3.7-flash", WB_SRC_FLAG);
    wb_config_set(cfg, "base_url", BASE, WB_SRC_FLAG);
    wb_config_set(cfg, "api_version", "v1", WB_SRC_FLAG);
    wb_config_set(cfg, "gemini.temperature", "0.5", WB_SRC_FLAG);
    CHECK_OK(gemini_opts_from_config(cfg, &o, &err), &err);
    CHECK_STR(o.api_key, KEY);
    CHECK(o.temperature > 0.49 && o.temperature < 0.51);
    {
        struct wb_entry e;
        wb_entry_init(&e);
        e.word = strdup("猫");
        core_http_request_init(&r);
        CHECK_OK(gemini_details_request(&o, &e, &r, &err), &err);
        CHECK_STR(r.url, BASE "/v1/models/gemini-3.7-flash:generateContent");
        core_http_request_release(&r);
        wb_entry_release(&e);
    }
    /* The key is now a registered secret: redacted from messages. */
    snprintf(msg, sizeof msg, "key=%s", KEY);
    wb_secret_redact(msg, sizeof msg);
    CHECK(strstr(msg, KEY) == NULL);
    CHECK_INT(wb_config_set(cfg, "image_api", "dalle", WB_SRC_FLAG), WB_EINVAL); /* the table */
    CHECK_STR(wb_config_get(cfg, "image_api"), "gemini");
    wb_config_free(cfg);
}
