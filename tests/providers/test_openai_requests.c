/* The OpenAI provider's requests against §9 of docs/gemini-api.md: URL under
 * the configured base, Bearer auth as the only place of the key, field names,
 * the strict json_schema shape (every object closed with additionalProperties
 * false and all its properties required), pcm speech, base64 images with and
 * without response_format by model family, and option handling. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "providers/openai.h"
#include "test.h"

#define KEY "sk-test-not-secret-123456"

static void opts(struct openai_opts *o)
{
    openai_opts_init(o);
    o->api_key = KEY;
}

static void entry_ja(struct wb_entry *e)
{
    wb_entry_init(e);
    e->word = strdup("猫");
    e->translation = strdup("cat");
    e->language = strdup("ja");
    e->context = strdup("the pet");
}

static json_t *body_of(const struct core_http_request *r)
{
    json_error_t jerr;
    json_t *j = json_loadb(r->body, r->body_len, 0, &jerr);
    CHECK_MSG(j != NULL, "body is not JSON: %s", jerr.text);
    return j;
}

static void check_headers(const struct core_http_request *r)
{
    CHECK_STR(r->method, "POST");
    CHECK_STR(core_http_header_find(r->headers, r->n_headers, "authorization"), "Bearer " KEY);
    CHECK_STR(core_http_header_find(r->headers, r->n_headers, "content-type"), "application/json");
    CHECK(core_http_header_find(r->headers, r->n_headers, "x-goog-api-key") == NULL);
    CHECK(strstr(r->url, KEY) == NULL);
    CHECK(strstr(r->body, KEY) == NULL);
}

/* Strict mode's rules, recursively: objects closed and fully required. */
static void check_strict(const json_t *s, int depth)
{
    const json_t *props = json_object_get(s, "properties"), *req, *v;
    const char *k;
    CHECK(depth < 10);
    CHECK(json_is_string(json_object_get(s, "type")));
    if (!strcmp(json_string_value(json_object_get(s, "type")), "object")) {
        CHECK(json_is_false(json_object_get(s, "additionalProperties")));
        req = json_object_get(s, "required");
        CHECK(json_is_array(req));
        CHECK_INT(json_array_size(req), json_object_size(props));
        json_object_foreach((json_t *)props, k, v) {
            size_t i;
            const json_t *x;
            int found = 0;
            json_array_foreach(req, i, x)
                found |= !strcmp(json_string_value(x), k);
            CHECK_MSG(found, "property %s not in required", k);
            check_strict(v, depth + 1);
        }
    }
    if (json_object_get(s, "items"))
        check_strict(json_object_get(s, "items"), depth + 1);
    /* Lower-case JSON Schema types, not Gemini's OpenAPI subset. */
    CHECK(strcmp(json_string_value(json_object_get(s, "type")), "OBJECT") != 0);
}

TEST(details_request_shape)
{
    struct openai_opts o;
    struct wb_entry e;
    struct core_http_request r;
    struct wb_error err = { 0 };
    json_t *b, *rf, *js, *schema, *msgs;
    opts(&o);
    entry_ja(&e);
    core_http_request_init(&r);
    CHECK_OK(openai_details_request(&o, &e, &r, &err), &err);
    CHECK_STR(r.url, "https://api.openai.com/v1/chat/completions");
    CHECK_STR(r.model, "gpt-4o-mini");
    CHECK_INT(r.kind, WB_REQ_TEXT);
    CHECK_INT(r.stream, 0);
    check_headers(&r);
    b = body_of(&r);
    CHECK_STR(json_string_value(json_object_get(b, "model")), "gpt-4o-mini");
    CHECK(json_object_get(b, "temperature") == NULL);
    CHECK(json_object_get(b, "stream") == NULL);
    msgs = json_object_get(b, "messages");
    CHECK_INT(json_array_size(msgs), 2);
    CHECK_STR(json_string_value(json_object_get(json_array_get(msgs, 0), "role")), "system");
    CHECK_STR(json_string_value(json_object_get(json_array_get(msgs, 1), "role")), "user");
    CHECK(strstr(json_string_value(json_object_get(json_array_get(msgs, 1), "content")),
                 "Word: 猫") != NULL);
    rf = json_object_get(b, "response_format");
    CHECK_STR(json_string_value(json_object_get(rf, "type")), "json_schema");
    js = json_object_get(rf, "json_schema");
    CHECK_STR(json_string_value(json_object_get(js, "name")), "flashcard");
    CHECK(json_is_true(json_object_get(js, "strict")));
    schema = json_object_get(js, "schema");
    check_strict(schema, 0);
    CHECK_INT(json_object_size(json_object_get(schema, "properties")), 7);
    CHECK_STR(json_string_value(json_object_get(
                  json_object_get(json_object_get(schema, "properties"), "examples"), "type")),
              "array");
    /* Key order as the SDK sends it: model first, then messages. */
    CHECK(!strncmp(r.body, "{\"model\":", 9));
    json_decref(b);
    core_http_request_release(&r);
    wb_entry_release(&e);
}

TEST(details_request_options)
{
    struct openai_opts o;
    struct wb_entry e;
    struct core_http_request r;
    struct wb_error err = { 0 };
    json_t *b;
    opts(&o);
    o.base_url = "http://127.0.0.1:8080/v1///";
    o.text_model = "llama3.1:8b";
    o.temperature = 0.5;
    entry_ja(&e);
    core_http_request_init(&r);
    CHECK_OK(openai_details_request(&o, &e, &r, &err), &err);
    CHECK_STR(r.url, "http://127.0.0.1:8080/v1/chat/completions");
    CHECK_STR(r.model, "llama3.1:8b");
    b = body_of(&r);
    CHECK(json_real_value(json_object_get(b, "temperature")) == 0.5);
    json_decref(b);
    core_http_request_release(&r);
    wb_entry_release(&e);
}

TEST(request_refusals)
{
    struct openai_opts o;
    struct wb_entry e;
    struct core_http_request r;
    struct wb_error err = { 0 };
    entry_ja(&e);
    core_http_request_init(&r);
    openai_opts_init(&o); /* no key */
    CHECK_INT(openai_details_request(&o, &e, &r, &err), WB_ECONFIG);
    CHECK(strstr(err.msg, "OPENAI_API_KEY") != NULL);
    CHECK(r.url == NULL && r.n_headers == 0);
    o.api_key = "sk-bad\nkey";
    CHECK_INT(openai_speech_request(&o, "x", NULL, &r, &err), WB_ECONFIG);
    o.api_key = KEY;
    o.base_url = "ftp://example.com";
    CHECK_INT(openai_image_request(&o, "a cat", &r, &err), WB_ECONFIG);
    o.base_url = NULL;
    o.text_model = "bad\nmodel";
    CHECK_INT(openai_details_request(&o, &e, &r, &err), WB_ECONFIG);
    o.text_model = NULL;
    CHECK_INT(openai_image_request(&o, "", &r, &err), WB_EINVAL);
    CHECK_INT(openai_speech_request(&o, "", NULL, &r, &err), WB_EINVAL);
    free(e.word);
    e.word = NULL;
    CHECK_INT(openai_details_request(&o, &e, &r, &err), WB_EINVAL);
    CHECK(r.url == NULL);
    wb_entry_release(&e);
}

TEST(speech_request_shape)
{
    struct openai_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    json_t *b;
    opts(&o);
    core_http_request_init(&r);
    CHECK_OK(openai_speech_request(&o, "ねこ", NULL, &r, &err), &err);
    CHECK_STR(r.url, "https://api.openai.com/v1/audio/speech");
    CHECK_STR(r.model, "gpt-4o-mini-tts");
    CHECK_INT(r.kind, WB_REQ_SPEECH);
    CHECK_INT(r.stream, 0);
    check_headers(&r);
    b = body_of(&r);
    CHECK_STR(json_string_value(json_object_get(b, "model")), "gpt-4o-mini-tts");
    CHECK_STR(json_string_value(json_object_get(b, "input")), "ねこ");
    CHECK_STR(json_string_value(json_object_get(b, "voice")), "alloy");
    CHECK_STR(json_string_value(json_object_get(b, "response_format")), "pcm");
    CHECK(json_object_get(b, "instructions") == NULL);
    CHECK(json_object_get(b, "speed") == NULL);
    CHECK_INT(json_object_size(b), 4);
    json_decref(b);
    core_http_request_release(&r);

    o.speech_instructions = "Speak slowly.";
    o.tts_model = "tts-1";
    CHECK_OK(openai_speech_request(&o, "ねこ", "coral", &r, &err), &err);
    b = body_of(&r);
    CHECK_STR(json_string_value(json_object_get(b, "voice")), "coral");
    CHECK_STR(json_string_value(json_object_get(b, "model")), "tts-1");
    CHECK_STR(json_string_value(json_object_get(b, "instructions")), "Speak slowly.");
    json_decref(b);
    core_http_request_release(&r);
}

TEST(image_request_gpt_image)
{
    struct openai_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    json_t *b;
    opts(&o);
    core_http_request_init(&r);
    CHECK_OK(openai_image_request(&o, "A cat asleep on a sofa.", &r, &err), &err);
    CHECK_STR(r.url, "https://api.openai.com/v1/images/generations");
    CHECK_STR(r.model, "gpt-image-1");
    CHECK_INT(r.kind, WB_REQ_IMAGE);
    check_headers(&r);
    b = body_of(&r);
    CHECK_STR(json_string_value(json_object_get(b, "prompt")), "A cat asleep on a sofa.");
    CHECK_INT(json_integer_value(json_object_get(b, "n")), 1);
    CHECK_STR(json_string_value(json_object_get(b, "size")), "1024x1024");
    /* gpt-image always answers base64 and rejects response_format. */
    CHECK(json_object_get(b, "response_format") == NULL);
    CHECK(json_object_get(b, "quality") == NULL);
    json_decref(b);
    core_http_request_release(&r);
}

TEST(image_request_dalle)
{
    struct openai_opts o;
    struct core_http_request r;
    struct wb_error err = { 0 };
    json_t *b;
    opts(&o);
    o.image_model = "dall-e-3";
    o.image_quality = "hd";
    core_http_request_init(&r);
    CHECK_OK(openai_image_request(&o, "A cat.", &r, &err), &err);
    b = body_of(&r);
    CHECK_STR(json_string_value(json_object_get(b, "model")), "dall-e-3");
    CHECK_STR(json_string_value(json_object_get(b, "response_format")), "b64_json");
    CHECK_STR(json_string_value(json_object_get(b, "quality")), "hd");
    json_decref(b);
    core_http_request_release(&r);
    CHECK(openai_image_model_is_gpt("gpt-image-1"));
    CHECK(openai_image_model_is_gpt("gpt-image-1-mini"));
    CHECK(!openai_image_model_is_gpt("dall-e-2"));
    CHECK(!openai_image_model_is_gpt("stable-diffusion"));
}

TEST(opts_from_config)
{
    struct wb_config *cfg = NULL;
    struct openai_opts o;
    struct wb_error err = { 0 };
    CHECK_OK(wb_config_new(&cfg), &err);
    CHECK_OK(openai_opts_from_config(cfg, &o, &err), &err);
    CHECK_STR(o.base_url, "https://api.openai.com/v1");
    CHECK_STR(o.text_model, "gpt-4o-mini");
    CHECK_STR(o.tts_model, "gpt-4o-mini-tts");
    CHECK_STR(o.image_model, "gpt-image-1");
    CHECK_STR(o.voice, "alloy");
    CHECK_STR(o.image_size, "1024x1024");
    CHECK(o.api_key == NULL);
    CHECK(o.temperature < 0);
    CHECK_OK(wb_config_set(cfg, "openai_api_key", KEY, WB_SRC_ENV), &err);
    CHECK_OK(wb_config_set(cfg, "openai_base_url", "http://127.0.0.1:1/v1", WB_SRC_ENV), &err);
    CHECK_OK(wb_config_set(cfg, "openai_voice", "nova", WB_SRC_FILE), &err);
    CHECK_OK(wb_config_set(cfg, "openai.image_size", "512x512", WB_SRC_FILE), &err);
    CHECK_OK(wb_config_set(cfg, "openai.temperature", "0.2", WB_SRC_FILE), &err);
    CHECK_OK(openai_opts_from_config(cfg, &o, &err), &err);
    CHECK_STR(o.api_key, KEY);
    CHECK_STR(o.base_url, "http://127.0.0.1:1/v1");
    CHECK_STR(o.voice, "nova");
    CHECK_STR(o.image_size, "512x512");
    CHECK(o.temperature > 0.19 && o.temperature < 0.21);
    CHECK_OK(wb_config_set(cfg, "openai_base_url", "localhost:8080", WB_SRC_FLAG), &err);
    CHECK_INT(openai_opts_from_config(cfg, &o, &err), WB_ECONFIG);
    wb_config_free(cfg);
}
