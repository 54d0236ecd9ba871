/* The OpenAI provider end to end against the project's loopback fake
 * (tests/fake/server.mjs): each request built by the provider, sent by the
 * real engine, parsed by the provider inside the engine's classify step.
 * Details must conform (the fake checks the strict schema and answers with
 * schema-shaped JSON), speech must be PCM of the fake's exact length, images a
 * real PNG; a 429 with Retry-After / retry-after-ms must pause the model until
 * the window frees (checked on the fake's arrival timestamps); wrong key,
 * unknown model and a refusal fail at once with the API's words.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "fakeproc.h"
#include "providers/openai.h"
#include "test.h"
#include "wordbank/config.h"

#define OKEY "sk-test-not-secret-123456"

enum call_kind {
    CALL_DETAILS,
    CALL_SPEECH,
    CALL_IMAGE
};

struct call {
    enum call_kind kind;
    struct wb_entry e;
    struct wb_buf bytes; /* PCM or image */
    int rate, channels;
    int done, status, attempts;
    int n429;
    int64_t last_hint_ms;
    long http_status;
    char msg[WB_ERRMSG_MAX];
};

static int classify(void *ud, long status, const struct core_http_header *h, size_t nh,
                    const char *body, size_t len, struct core_api_error *out)
{
    struct call *c = ud;
    if (status < 200 || status > 299) {
        int rc = openai_parse_error(status, h, nh, body, len, out);
        if (status == 429) {
            c->n429++;
            c->last_hint_ms = out->retry_after_ms;
        }
        return rc;
    }
    switch (c->kind) {
    case CALL_DETAILS:
        return openai_details_parse(body, len, &c->e, NULL, out);
    case CALL_SPEECH:
        wb_buf_reset(&c->bytes);
        return openai_speech_parse(body, len, &c->bytes, &c->rate, &c->channels, out);
    default:
        return openai_image_parse(body, len, &c->bytes, NULL, out);
    }
}

static void on_done(void *ud, const struct engine_response *r)
{
    struct call *c = ud;
    c->done++;
    c->status = r->status;
    c->attempts = r->attempts;
    c->http_status = r->http_status;
    if (r->status && r->api_error)
        snprintf(c->msg, sizeof c->msg, "%s", r->api_error->message);
}

static const struct engine_request_cbs cbs = { .classify = classify, .on_done = on_done };

static void call_init(struct call *c, enum call_kind k, const char *word)
{
    memset(c, 0, sizeof *c);
    c->kind = k;
    wb_entry_init(&c->e);
    c->e.word = strdup(word);
    c->e.translation = strdup("cat");
    c->e.language = strdup("ja");
    c->e.context = strdup("the pet");
    wb_buf_init(&c->bytes, 0);
}

static void call_release(struct call *c)
{
    wb_entry_release(&c->e);
    wb_buf_release(&c->bytes);
}

struct env {
    struct fake_proc f;
    struct wb_config *cfg;
    struct openai_opts o;
    struct engine *eng;
};

static void env_start(struct env *v, const char *scenario, const char *key)
{
    struct wb_error err = { 0 };
    char base[128];
    CHECK_MSG(fake_start(scenario, 0, &v->f) == 0, "fake did not start");
    snprintf(base, sizeof base, "%s/v1", v->f.base_url);
    CHECK_OK(wb_config_new(&v->cfg), &err);
    CHECK_OK(wb_config_set(v->cfg, "openai_api_key", key, WB_SRC_FLAG), &err);
    CHECK_OK(wb_config_set(v->cfg, "openai_base_url", base, WB_SRC_FLAG), &err);
    CHECK_OK(wb_config_set(v->cfg, "engine.seed", "5", WB_SRC_FLAG), &err);
    CHECK_OK(wb_config_set(v->cfg, "retry.base_ms", "20", WB_SRC_FLAG), &err);
    CHECK_OK(openai_opts_from_config(v->cfg, &v->o, &err), &err);
    CHECK_OK(engine_new(v->cfg, &v->eng, &err), &err);
}

static void env_stop(struct env *v)
{
    engine_free(v->eng);
    wb_config_free(v->cfg);
    fake_stop(&v->f);
}

static void submit(struct env *v, struct call *c, const char *text)
{
    struct core_http_request req;
    struct wb_error err = { 0 };
    core_http_request_init(&req);
    if (c->kind == CALL_DETAILS)
        CHECK_OK(openai_details_request(&v->o, &c->e, &req, &err), &err);
    else if (c->kind == CALL_SPEECH)
        CHECK_OK(openai_speech_request(&v->o, text, NULL, &req, &err), &err);
    else
        CHECK_OK(openai_image_request(&v->o, text, &req, &err), &err);
    CHECK_OK(engine_submit(v->eng, &req, 100, &cbs, c, NULL), &err);
}

static json_t *fake_json(struct env *v, const char *path)
{
    char *s = fake_get(&v->f, path);
    json_t *j;
    CHECK(s != NULL);
    j = json_loads(s, 0, NULL);
    free(s);
    CHECK(j != NULL);
    return j;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

TEST(three_endpoints)
{
    struct env v;
    struct call d, s, im;
    json_t *reqs;
    const unsigned char *png;
    env_start(&v, "{\"default\":{\"latencyMs\":20,\"jitter\":0}}", OKEY);
    call_init(&d, CALL_DETAILS, "猫");
    call_init(&s, CALL_SPEECH, "猫");
    call_init(&im, CALL_IMAGE, "猫");
    submit(&v, &d, NULL);
    submit(&v, &s, "ねこ");
    submit(&v, &im, "A small cat curled up asleep on a sofa cushion.");
    CHECK_INT(engine_run(v.eng), 0);

    CHECK_MSG(d.status == 0, "details: %s", d.msg);
    CHECK_INT(d.attempts, 1);
    CHECK_STR(d.e.word, "猫");
    CHECK_STR(d.e.translation, "cat");
    CHECK(d.e.description && *d.e.description);
    CHECK(d.e.image_description && *d.e.image_description);
    CHECK(d.e.n_examples >= 2 && d.e.n_examples <= 3);
    CHECK(d.e.examples[0].translation != NULL);

    /* The fake's length rule: 2 code points -> 0.6 s -> n = 2 -> (2+10)*2400 bytes. */
    CHECK_MSG(s.status == 0, "speech: %s", s.msg);
    CHECK_INT(s.bytes.len, 12 * 2400);
    CHECK_INT(s.rate, 24000);
    CHECK_INT(s.channels, 1);

    CHECK_MSG(im.status == 0, "image: %s", im.msg);
    png = (const unsigned char *)im.bytes.data;
    CHECK(im.bytes.len > 1000);
    CHECK(memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    CHECK(memcmp(png + 12, "IHDR", 4) == 0);
    CHECK_INT(be32(png + 16), 1024);
    CHECK_INT(be32(png + 20), 1024);
    CHECK(memcmp(png + im.bytes.len - 8, "IEND", 4) == 0);

    /* What went over the wire: Bearer auth (redacted in the log), bodies. */
    reqs = fake_json(&v, "/_fake/requests?limit=10");
    CHECK_INT(json_array_size(reqs), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *r = json_array_get(reqs, i);
        const char *path = json_string_value(json_object_get(r, "path"));
        json_t *b = json_object_get(r, "body");
        CHECK(json_is_string(json_object_get(json_object_get(r, "headers"), "authorization")));
        if (!strcmp(path, "/v1/audio/speech")) {
            CHECK_STR(json_string_value(json_object_get(b, "response_format")), "pcm");
            CHECK_STR(json_string_value(json_object_get(b, "voice")), "alloy");
        } else if (!strcmp(path, "/v1/images/generations")) {
            CHECK(json_object_get(b, "response_format") == NULL); /* gpt-image-1 */
            CHECK_STR(json_string_value(json_object_get(b, "size")), "1024x1024");
        } else {
            CHECK_STR(path, "/v1/chat/completions");
            CHECK(json_is_true(json_object_get(
                json_object_get(json_object_get(b, "response_format"), "json_schema"), "strict")));
        }
    }
    json_decref(reqs);
    call_release(&d);
    call_release(&s);
    call_release(&im);
    env_stop(&v);
}

TEST(dalle_asks_for_b64_json)
{
    struct env v;
    struct call im;
    env_start(&v, "{\"default\":{\"latencyMs\":5}}", OKEY);
    v.o.image_model = "dall-e-3";
    call_init(&im, CALL_IMAGE, "x");
    submit(&v, &im, "A red apple on a table.");
    CHECK_INT(engine_run(v.eng), 0);
    CHECK_MSG(im.status == 0, "image: %s", im.msg);
    CHECK(memcmp(im.bytes.data, "\x89PNG", 4) == 0);
    call_release(&im);
    env_stop(&v);
}

TEST(rate_limit_429_waits_retry_after)
{
    enum {
        N = 6
    };
    struct env v;
    struct call c[N];
    json_t *st, *m, *sent;
    double t0, first_after;
    long long n429, n200;
    int total429 = 0;
    /* Two requests per 1.5 s for the text model: the other four get a 429
     * with retry-after (whole seconds), retry-after-ms and x-ratelimit-*. */
    env_start(&v,
              "{\"default\":{\"latencyMs\":10,\"jitter\":0},\"models\":{\"gpt-4o-mini\":"
              "{\"quota\":{\"requests\":2,\"windowMs\":1500}}}}",
              OKEY);
    for (int i = 0; i < N; i++) {
        char w[16];
        snprintf(w, sizeof w, "w%d", i);
        call_init(&c[i], CALL_DETAILS, w);
        submit(&v, &c[i], NULL);
    }
    CHECK_INT(engine_run(v.eng), 0);
    for (int i = 0; i < N; i++) {
        CHECK_MSG(c[i].status == 0, "call %d: %s", i, c[i].msg);
        CHECK(c[i].e.description != NULL);
        total429 += c[i].n429;
        if (c[i].n429) {
            /* The hint the provider read (retry-after-ms) is the window's rest. */
            CHECK_MSG(c[i].last_hint_ms > 0 && c[i].last_hint_ms <= 1500, "hint %lld",
                      (long long)c[i].last_hint_ms);
        }
    }
    st = fake_json(&v, "/_fake/stats");
    m = json_object_get(json_object_get(st, "models"), "gpt-4o-mini");
    sent = json_object_get(m, "sent");
    n429 = json_integer_value(json_object_get(json_object_get(m, "statuses"), "429"));
    n200 = json_integer_value(json_object_get(json_object_get(m, "statuses"), "200"));
    CHECK_INT(n200, N);
    CHECK(n429 >= 1);
    CHECK_INT(n429, total429);
    /* After the pause one probe goes first, not a herd of 429s. */
    CHECK_MSG(n429 <= N - 2 + 2, "%lld 429s", n429);
    CHECK_INT(json_array_size(sent), N + n429);
    /* The first N arrive together; nothing else may arrive before the first
     * admitted request leaves the window (what Retry-After said). */
    t0 = json_number_value(json_array_get(sent, 0));
    first_after = json_number_value(json_array_get(sent, N));
    CHECK_MSG(first_after - t0 >= 1500 - 15, "next request %.0f ms after the first",
              first_after - t0);
    /* Every later burst (each after a 429) also waits for the window: burst
     * starts are at least the window apart. */
    {
        double burst = t0;
        for (size_t i = 1; i < json_array_size(sent); i++) {
            double t = json_number_value(json_array_get(sent, i));
            if (t - json_number_value(json_array_get(sent, i - 1)) > 500) {
                CHECK_MSG(t - burst >= 1500 - 15, "burst at %.0f only %.0f ms after the last", t,
                          t - burst);
                burst = t;
            }
        }
    }
    json_decref(st);
    for (int i = 0; i < N; i++)
        call_release(&c[i]);
    env_stop(&v);
}

TEST(errors_fail_at_once)
{
    struct env v;
    struct call bad_key, bad_model, refused;
    struct env w;
    /* Wrong key: 401 invalid_api_key -> WB_EAUTH, one attempt. */
    env_start(&v, "{\"default\":{\"latencyMs\":5}}", "sk-wrong-not-secret-000000");
    call_init(&bad_key, CALL_SPEECH, "x");
    submit(&v, &bad_key, "ねこ");
    CHECK_INT(engine_run(v.eng), 0);
    CHECK_INT(bad_key.status, WB_EAUTH);
    CHECK_INT(bad_key.attempts, 1);
    CHECK_INT(bad_key.http_status, 401);
    CHECK(strstr(bad_key.msg, "Incorrect API key") != NULL);
    CHECK(strstr(bad_key.msg, "sk-wrong-not-secret-000000") == NULL);
    call_release(&bad_key);
    env_stop(&v);

    /* Unknown model: 404 model_not_found; a blocked word: refusal. */
    env_start(&w, "{\"default\":{\"latencyMs\":5,\"blocked\":[\"forbiddenword\"]}}", OKEY);
    w.o.text_model = "gpt-9-imaginary";
    call_init(&bad_model, CALL_DETAILS, "猫");
    submit(&w, &bad_model, NULL);
    w.o.text_model = NULL;
    call_init(&refused, CALL_DETAILS, "forbiddenword");
    submit(&w, &refused, NULL);
    CHECK_INT(engine_run(w.eng), 0);
    CHECK_INT(bad_model.status, WB_EMODEL);
    CHECK_INT(bad_model.attempts, 1);
    CHECK(strstr(bad_model.msg, "gpt-9-imaginary") != NULL);
    CHECK_INT(refused.status, WB_EBLOCKED);
    CHECK_INT(refused.attempts, 1);
    CHECK(strstr(refused.msg, "can't help") != NULL);
    CHECK(refused.e.description == NULL);
    call_release(&bad_model);
    call_release(&refused);
    env_stop(&w);
}
