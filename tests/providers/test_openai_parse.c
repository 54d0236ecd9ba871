/* Every OpenAI response shape the provider reads: chat completions (ok,
 * fenced, think blocks, content parts, refusal, every finish_reason, broken
 * content, in-band errors), speech bodies (pcm, odd, WAV, compressed, JSON
 * errors), images (b64_json, URL only, empty, bad base64) and errors with each
 * rate-limit header form (retry-after-ms, Retry-After seconds and date,
 * x-ratelimit-reset-* of the exhausted limit, the message), quota, auth, model,
 * moderation, server errors and x-should-retry. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "providers/openai.h"
#include "test.h"
#include "wordbank/log.h"

static void entry_ja(struct wb_entry *e)
{
    wb_entry_init(e);
    e->word = strdup("猫");
    e->translation = strdup("cat");
    e->language = strdup("ja");
    e->context = strdup("the pet");
}

#define CARD                                                                                             \
    "{\"word\":\"ねこちゃん\",\"translation\":\"kitty\",\"language_code\":\"ja\","                  \
    "\"reading\":\"ねこ\",\"description\":\"A small furry pet.\",\"examples\":[{\"text\":"             \
    "\"猫が寝ている。\",\"translation\":\"The cat is sleeping.\"},{\"text\":\"猫が好き。\"," \
    "\"translation\":\"I like cats.\"}],\"image_description\":\"A cat asleep on a sofa.\"}"

/* A chat.completion with the given content (a JSON value), refusal and finish. */
static char *completion(const char *content_json, const char *refusal_json, const char *finish)
{
    json_t *content = json_loads(content_json, JSON_DECODE_ANY, NULL);
    json_t *refusal = json_loads(refusal_json, JSON_DECODE_ANY, NULL);
    json_t *root =
        json_pack("{s:s,s:s,s:i,s:s,s:[{s:i,s:{s:s,s:o,s:o},s:o}],s:{s:i,s:i,s:i,s:{s:i}}}", "id",
                  "chatcmpl-1", "object", "chat.completion", "created", 1, "model", "gpt-4o-mini",
                  "choices", "index", 0, "message", "role", "assistant", "content", content,
                  "refusal", refusal, "finish_reason", finish ? json_string(finish) : json_null(),
                  "usage", "prompt_tokens", 181, "completion_tokens", 212, "total_tokens", 393,
                  "completion_tokens_details", "reasoning_tokens", 12);
    char *s = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    return s;
}

static int details(const char *content_json, const char *refusal_json, const char *finish,
                   struct wb_entry *e, struct prov_usage *u, struct core_api_error *a)
{
    char *body = completion(content_json, refusal_json, finish);
    int rc;
    CHECK(body != NULL);
    rc = openai_details_parse(body, strlen(body), e, u, a);
    free(body);
    return rc;
}

static char *quoted(const char *s)
{
    json_t *j = json_string(s);
    char *q = json_dumps(j, JSON_ENCODE_ANY);
    json_decref(j);
    return q;
}

TEST(details_ok)
{
    struct wb_entry e;
    struct prov_usage u;
    struct core_api_error a;
    char *q = quoted(CARD);
    entry_ja(&e);
    CHECK_INT(details(q, "null", "stop", &e, &u, &a), 0);
    CHECK_STR(e.word, "猫");         /* the input's, not the model's */
    CHECK_STR(e.translation, "cat"); /* the input's */
    CHECK_STR(e.reading, "ねこ");
    CHECK_STR(e.description, "A small furry pet.");
    CHECK_STR(e.image_description, "A cat asleep on a sofa.");
    CHECK_INT(e.n_examples, 2);
    CHECK_STR(e.examples[1].text, "猫が好き。");
    CHECK_STR(e.examples[1].translation, "I like cats.");
    CHECK_INT(u.prompt_tokens, 181);
    CHECK_INT(u.output_tokens, 212);
    CHECK_INT(u.total_tokens, 393);
    CHECK_INT(u.thought_tokens, 12);
    free(q);
    wb_entry_release(&e);
}

TEST(details_tolerant_content)
{
    static const char *const variants[] = {
        "```json\n" CARD "\n```",
        "<think>The user wants a card.</think>\n" CARD,
        "  \n" CARD "\n\n",
    };
    struct wb_entry e;
    struct core_api_error a;
    for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
        char *q = quoted(variants[i]);
        entry_ja(&e);
        CHECK_MSG(details(q, "null", "stop", &e, NULL, &a) == 0, "variant %zu: %s", i, a.message);
        CHECK_STR(e.description, "A small furry pet.");
        free(q);
        wb_entry_release(&e);
    }
    /* Content as an array of text parts (some compatible servers). */
    {
        char *q = quoted(CARD);
        char parts[4096];
        snprintf(parts, sizeof parts, "[{\"type\":\"text\",\"text\":%s}]", q);
        entry_ja(&e);
        CHECK_INT(details(parts, "null", "stop", &e, NULL, &a), 0);
        CHECK_INT(e.n_examples, 2);
        free(q);
        wb_entry_release(&e);
    }
}

TEST(details_language_only_when_missing)
{
    struct wb_entry e;
    struct core_api_error a;
    char *q = quoted(CARD);
    entry_ja(&e);
    free(e.language);
    e.language = NULL;
    CHECK_INT(details(q, "null", "stop", &e, NULL, &a), 0);
    CHECK_STR(e.language, "ja");
    free(q);
    wb_entry_release(&e);
}

TEST(details_refusal)
{
    struct wb_entry e;
    struct core_api_error a;
    entry_ja(&e);
    CHECK_INT(details("null", "\"I'm sorry, I can't help with that.\"", "stop", &e, NULL, &a),
              WB_EBLOCKED);
    CHECK_INT(a.retryable, 0);
    CHECK(strstr(a.message, "I'm sorry, I can't help with that.") != NULL);
    CHECK(e.description == NULL); /* untouched */
    /* The fake's (and OpenAI's) blocked shape: refusal with content_filter. */
    CHECK_INT(details("null", "\"No.\"", "content_filter", &e, NULL, &a), WB_EBLOCKED);
    CHECK(strstr(a.message, "No.") != NULL);
    wb_entry_release(&e);
}

TEST(details_finish_reasons)
{
    struct wb_entry e;
    struct core_api_error a;
    char *q = quoted(CARD);
    entry_ja(&e);
    CHECK_INT(details(q, "null", "content_filter", &e, NULL, &a), WB_EBLOCKED);
    CHECK_INT(a.retryable, 0);
    CHECK_STR(a.status, "content_filter");
    CHECK_INT(details(q, "null", "length", &e, NULL, &a), WB_EINCOMPLETE);
    CHECK_INT(a.retryable, 1);
    CHECK_INT(details(q, "null", NULL, &e, NULL, &a), WB_EINCOMPLETE);
    CHECK_INT(a.retryable, 1);
    CHECK_INT(details(q, "null", "tool_calls", &e, NULL, &a), WB_EINCOMPLETE);
    CHECK_INT(a.retryable, 0);
    CHECK(strstr(a.message, "tool_calls") != NULL);
    CHECK(e.description == NULL);
    free(q);
    wb_entry_release(&e);
}

TEST(details_bad_content)
{
    static const char *const contents[] = {
        "\"not json\"",
        "\"{\\\"word\\\":\\\"x\\\"}\"",                            /* no description */
        "\"{\\\"description\\\":\\\"d\\\",\\\"examples\\\":[]}\"", /* no examples */
        "\"{\\\"description\\\":\\\"d\\\",\\\"examples\\\":[{\\\"text\\\":\\\" \\\"},3]}\"", /* none
                                                                                                usable
                                                                                              */
        "\"[1,2]\"",
        "null",
        "42",
    };
    struct wb_entry e;
    struct core_api_error a;
    entry_ja(&e);
    for (size_t i = 0; i < sizeof contents / sizeof contents[0]; i++) {
        CHECK_MSG(details(contents[i], "null", "stop", &e, NULL, &a) == WB_EPARSE, "content %zu",
                  i);
        CHECK_INT(a.retryable, 1);
    }
    CHECK(e.description == NULL);
    wb_entry_release(&e);
}

TEST(details_bad_bodies)
{
    static const char *const bodies[] = {
        "",
        "{",
        "[]",
        "{\"choices\":[]}",
        "{\"choices\":[1]}",
        "{\"choices\":\"x\"}",
        "{\"choices\":[{\"finish_reason\":\"stop\"}]}",
    };
    static const int codes[] = { WB_EPARSE, WB_EPARSE,      WB_EPARSE, WB_EINCOMPLETE,
                                 WB_EPARSE, WB_EINCOMPLETE, WB_EPARSE };
    struct wb_entry e;
    struct core_api_error a;
    entry_ja(&e);
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        int rc = openai_details_parse(bodies[i], strlen(bodies[i]), &e, NULL, &a);
        CHECK_MSG(rc == codes[i], "body %zu: %s (%s)", i, wb_errname(rc), a.message);
        CHECK_INT(a.retryable, 1);
    }
    wb_entry_release(&e);
}

TEST(details_inband_error)
{
    static const char body[] =
        "{\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}";
    struct wb_entry e;
    struct core_api_error a;
    entry_ja(&e);
    CHECK_INT(openai_details_parse(body, strlen(body), &e, NULL, &a), WB_EHTTP);
    CHECK_INT(a.retryable, 1);
    CHECK_STR(a.message, "The server had an error");
    wb_entry_release(&e);
}

/* ---- speech ---- */

TEST(speech_pcm)
{
    char pcm[4800];
    struct wb_buf b;
    struct core_api_error a;
    int rate = 0, ch = 0;
    for (size_t i = 0; i < sizeof pcm; i++)
        pcm[i] = (char)(i * 7);
    pcm[0] = 0x10;
    wb_buf_init(&b, 0);
    CHECK_INT(openai_speech_parse(pcm, sizeof pcm, &b, &rate, &ch, &a), 0);
    CHECK_INT(b.len, sizeof pcm);
    CHECK(memcmp(b.data, pcm, sizeof pcm) == 0);
    CHECK_INT(rate, 24000);
    CHECK_INT(ch, 1);
    wb_buf_reset(&b);
    CHECK_INT(openai_speech_parse(pcm, 4799, &b, NULL, NULL, &a), WB_EINCOMPLETE);
    CHECK_INT(a.retryable, 1);
    CHECK_INT(openai_speech_parse("", 0, &b, NULL, NULL, &a), WB_EINCOMPLETE);
    wb_buf_release(&b);
}

static void put32(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

TEST(speech_wav_and_compressed)
{
    unsigned char wav[44 + 400];
    struct wb_buf b;
    struct core_api_error a;
    int rate = 0, ch = 0;
    memset(wav, 0, sizeof wav);
    memcpy(wav, "RIFF", 4);
    put32(wav + 4, sizeof wav - 8);
    memcpy(wav + 8, "WAVEfmt ", 8);
    put32(wav + 16, 16);
    wav[20] = 1; /* PCM */
    wav[22] = 2; /* channels */
    put32(wav + 24, 22050);
    put32(wav + 28, 22050 * 4);
    wav[32] = 4;
    wav[34] = 16;
    memcpy(wav + 36, "data", 4);
    put32(wav + 40, 400);
    wb_buf_init(&b, 0);
    CHECK_INT(openai_speech_parse((const char *)wav, sizeof wav, &b, &rate, &ch, &a), 0);
    CHECK_INT(b.len, 400);
    CHECK_INT(rate, 22050);
    CHECK_INT(ch, 2);
    wb_buf_reset(&b);
    /* A WAV without samples is no answer (found by the fuzzer). */
    put32(wav + 4, 36);
    put32(wav + 40, 0);
    CHECK_INT(openai_speech_parse((const char *)wav, 44, &b, &rate, &ch, &a), WB_EINCOMPLETE);
    CHECK_INT(a.retryable, 1);
    CHECK_INT(openai_speech_parse("ID3\x04\x00\x00\x00\x00\x00\x00", 10, &b, NULL, NULL, &a),
              WB_EMEDIA);
    CHECK_INT(a.retryable, 0);
    CHECK_INT(openai_speech_parse("\xff\xfb\x90\x00", 4, &b, NULL, NULL, &a), WB_EMEDIA);
    CHECK_INT(openai_speech_parse("OggS\0\0", 6, &b, NULL, NULL, &a), WB_EMEDIA);
    CHECK_INT(b.len, 0);
    wb_buf_release(&b);
}

TEST(speech_json_error)
{
    static const char body[] = "{\"error\":{\"message\":\"quota\",\"type\":\"insufficient_quota\","
                               "\"code\":\"insufficient_quota\"}}";
    struct wb_buf b;
    struct core_api_error a;
    wb_buf_init(&b, 0);
    CHECK_INT(openai_speech_parse(body, strlen(body), &b, NULL, NULL, &a), WB_EQUOTA);
    CHECK_INT(a.per_day, 1);
    CHECK_INT(b.len, 0);
    wb_buf_release(&b);
}

/* ---- images ---- */

TEST(image_b64)
{
    static const char body[] =
        "{\"created\":1,\"data\":[{\"b64_json\":\"iVBORw0KGgoAAAANSUhEUg==\","
        "\"revised_prompt\":\"x\"}],\"usage\":{\"input_tokens\":12,"
        "\"output_tokens\":1056,\"total_tokens\":1068}}";
    struct wb_buf b;
    struct prov_usage u;
    struct core_api_error a;
    wb_buf_init(&b, 0);
    CHECK_INT(openai_image_parse(body, strlen(body), &b, &u, &a), 0);
    CHECK_INT(b.len, 16);
    CHECK(memcmp(b.data, "\x89PNG\r\n\x1a\n", 8) == 0);
    CHECK_INT(u.prompt_tokens, 12);
    CHECK_INT(u.output_tokens, 1056);
    CHECK_INT(u.total_tokens, 1068);
    wb_buf_release(&b);
}

TEST(image_failures)
{
    static const struct {
        const char *body;
        int code, retryable;
    } cases[] = {
        { "{\"data\":[{\"url\":\"https://example.com/x.png\"}]}", WB_EUNSUPPORTED, 0 },
        { "{\"data\":[]}", WB_EINCOMPLETE, 1 },
        { "{\"created\":1}", WB_EINCOMPLETE, 1 },
        { "{\"data\":[{\"b64_json\":\"***\"}]}", WB_EPARSE, 1 },
        { "{\"data\":[{\"b64_json\":\"\"}]}", WB_EPARSE, 1 },
        { "{\"data\":[{}]}", WB_EPARSE, 1 },
        { "not json", WB_EPARSE, 1 },
        { "{\"error\":{\"message\":\"Your request was rejected as a result of our safety "
          "system.\",\"type\":\"image_generation_user_error\",\"code\":\"moderation_blocked\"}}",
          WB_EBLOCKED, 0 },
    };
    struct wb_buf b;
    struct core_api_error a;
    wb_buf_init(&b, 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = openai_image_parse(cases[i].body, strlen(cases[i].body), &b, NULL, &a);
        CHECK_MSG(rc == cases[i].code, "case %zu: %s (%s)", i, wb_errname(rc), a.message);
        CHECK_INT(a.retryable, cases[i].retryable);
    }
    wb_buf_release(&b);
}

/* ---- errors ---- */

#define RL_BODY                                                                               \
    "{\"error\":{\"message\":\"Rate limit reached for gpt-4o-mini in organization org-x on "  \
    "requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. Visit "   \
    "https://platform.openai.com/account/rate-limits to learn more.\",\"type\":\"requests\"," \
    "\"param\":null,\"code\":\"rate_limit_exceeded\"}}"

static int err_with(const char *const *hdrs, size_t nh, long status, const char *body,
                    struct core_api_error *a)
{
    struct core_http_header h[8];
    for (size_t i = 0; i < nh; i++) {
        h[i].name = (char *)hdrs[2 * i];
        h[i].value = (char *)hdrs[2 * i + 1];
    }
    return openai_parse_error(status, h, nh, body, body ? strlen(body) : 0, a);
}

TEST(error_429_retry_after_ms)
{
    static const char *const h[] = {
        "retry-after", "2", "retry-after-ms", "1534.2", "x-ratelimit-reset-requests", "9s"
    };
    struct core_api_error a;
    CHECK_INT(err_with(h, 3, 429, RL_BODY, &a), WB_ERATELIMIT);
    CHECK_INT(a.retryable, 1);
    CHECK_INT(a.per_day, 0);
    CHECK_INT(a.http_status, 429);
    CHECK_INT(a.retry_after_ms, 1535);
    CHECK_STR(a.status, "rate_limit_exceeded");
    CHECK(strncmp(a.message, "Rate limit reached for gpt-4o-mini", 34) == 0);
}

TEST(error_429_retry_after_seconds_and_date)
{
    static const char *const secs[] = { "Retry-After", "7" };
    static const char *const frac[] = { "retry-after", "0.25" };
    char date[64];
    const char *dh[2] = { "retry-after", date };
    time_t t = time(NULL) + 30;
    struct tm tm;
    struct core_api_error a;
    CHECK_INT(err_with(secs, 1, 429, RL_BODY, &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, 7000);
    CHECK_INT(err_with(frac, 1, 429, RL_BODY, &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, 250);
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    CHECK_INT(err_with(dh, 1, 429, RL_BODY, &a), WB_ERATELIMIT);
    CHECK_MSG(a.retry_after_ms >= 28000 && a.retry_after_ms <= 30000, "date: %lld",
              (long long)a.retry_after_ms);
    /* A date in the past: retry now. */
    t = time(NULL) - 100;
    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    CHECK_INT(err_with(dh, 1, 429, RL_BODY, &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, 0);
}

TEST(error_429_ratelimit_reset_headers)
{
    static const char *const requests[] = {
        "x-ratelimit-remaining-requests", "0",    "x-ratelimit-reset-requests", "6m0s",
        "x-ratelimit-remaining-tokens",   "1500", "x-ratelimit-reset-tokens",   "120ms",
    };
    static const char *const tokens[] = {
        "x-ratelimit-remaining-requests", "42", "x-ratelimit-reset-requests", "6m0s",
        "x-ratelimit-remaining-tokens",   "0",  "x-ratelimit-reset-tokens",   "1.5s",
    };
    static const char *const neither[] = {
        "x-ratelimit-reset-requests",
        "1s",
        "x-ratelimit-reset-tokens",
        "1m2.5s",
    };
    static const char *const garbage[] = { "retry-after", "soon", "x-ratelimit-reset-requests",
                                           "later" };
    struct core_api_error a;
    CHECK_INT(err_with(requests, 4, 429, "{}", &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, 360000);
    CHECK_INT(err_with(tokens, 4, 429, "{}", &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, 1500);
    CHECK_INT(err_with(neither, 2, 429, "{}", &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, 62500);
    /* Unreadable headers: fall back to the message's "try again in 20s". */
    CHECK_INT(err_with(garbage, 2, 429, RL_BODY, &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, 20000);
    /* Nothing at all. */
    CHECK_INT(err_with(NULL, 0, 429, "{}", &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, -1);
    CHECK(strstr(a.message, "429") != NULL);
    /* The reset headers are a 429 hint only, not for other statuses. */
    CHECK_INT(err_with(requests, 4, 503, "{}", &a), WB_EHTTP);
    CHECK_INT(a.retry_after_ms, -1);
}

TEST(error_durations)
{
    CHECK_INT(openai_duration_ms("1s"), 1000);
    CHECK_INT(openai_duration_ms("6m0s"), 360000);
    CHECK_INT(openai_duration_ms("120ms"), 120);
    CHECK_INT(openai_duration_ms("1h2m3.5s"), 3723500);
    CHECK_INT(openai_duration_ms("0.5s"), 500);
    CHECK_INT(openai_duration_ms("38.512s"), 38512);
    CHECK_INT(openai_duration_ms("250us"), 1);
    CHECK_INT(openai_duration_ms("0"), 0);
    CHECK_INT(openai_duration_ms("0s"), 0);
    CHECK_INT(openai_duration_ms("999999h"), 86400000);
    CHECK_INT(openai_duration_ms(""), -1);
    CHECK_INT(openai_duration_ms("s"), -1);
    CHECK_INT(openai_duration_ms("5"), -1);
    CHECK_INT(openai_duration_ms("5x"), -1);
    CHECK_INT(openai_duration_ms("1s junk"), -1);
    CHECK_INT(openai_duration_ms(NULL), -1);
}

TEST(error_insufficient_quota)
{
    static const char body[] =
        "{\"error\":{\"message\":\"You exceeded your current quota, please check your plan and "
        "billing details.\",\"type\":\"insufficient_quota\",\"param\":null,\"code\":"
        "\"insufficient_quota\"}}";
    static const char *const h[] = { "retry-after", "20" };
    struct core_api_error a;
    CHECK_INT(err_with(h, 1, 429, body, &a), WB_EQUOTA);
    CHECK_INT(a.per_day, 1);
    CHECK_INT(a.retryable, 0);
    CHECK_STR(a.status, "insufficient_quota");
    CHECK(strstr(a.message, "billing") != NULL);
}

TEST(error_statuses)
{
    static const struct {
        long status;
        const char *body;
        int code, retryable;
    } cases[] = {
        { 401,
          "{\"error\":{\"message\":\"Incorrect API key provided.\",\"type\":"
          "\"invalid_request_error\",\"code\":\"invalid_api_key\"}}",
          WB_EAUTH, 0 },
        { 403, "{\"error\":{\"message\":\"Country not supported\",\"type\":\"request_forbidden\"}}",
          WB_EAUTH, 0 },
        { 404,
          "{\"error\":{\"message\":\"The model `gpt-9` does not exist or you do not have "
          "access to it.\",\"type\":\"invalid_request_error\",\"code\":\"model_not_found\"}}",
          WB_EMODEL, 0 },
        { 400,
          "{\"error\":{\"message\":\"Invalid schema\",\"type\":\"invalid_request_error\","
          "\"code\":\"invalid_json_schema\",\"param\":\"response_format\"}}",
          WB_EINVAL, 0 },
        { 422, "{\"error\":{\"message\":\"bad\"}}", WB_EINVAL, 0 },
        { 400,
          "{\"error\":{\"message\":\"Your request was rejected\",\"type\":"
          "\"image_generation_user_error\",\"code\":\"content_policy_violation\"}}",
          WB_EBLOCKED, 0 },
        { 500, "{\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\"}}",
          WB_EHTTP, 1 },
        { 502, "<html><head><title>502 Bad Gateway</title></head></html>", WB_EHTTP, 1 },
        { 503, "upstream connect error", WB_EHTTP, 1 },
        { 408, "", WB_EHTTP, 1 },
        { 409, "{\"error\":{\"message\":\"conflict\"}}", WB_EHTTP, 1 },
        { 418, "{\"error\":\"I'm a teapot\"}", WB_EHTTP, 0 },
    };
    struct core_api_error a;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc =
            openai_parse_error(cases[i].status, NULL, 0, cases[i].body, strlen(cases[i].body), &a);
        CHECK_MSG(rc == cases[i].code, "case %zu: %s (%s)", i, wb_errname(rc), a.message);
        CHECK_MSG(a.retryable == cases[i].retryable, "case %zu retryable", i);
        CHECK_INT(a.http_status, cases[i].status);
        CHECK(a.message[0] != '\0');
    }
    CHECK_INT(openai_parse_error(404, NULL, 0, cases[2].body, strlen(cases[2].body), &a),
              WB_EMODEL);
    CHECK_STR(a.status, "model_not_found");
    CHECK(strstr(a.message, "gpt-9") != NULL);
    CHECK_INT(openai_parse_error(502, NULL, 0, cases[7].body, strlen(cases[7].body), &a), WB_EHTTP);
    CHECK_STR(a.message, "HTTP 502: 502 Bad Gateway");
    CHECK_INT(openai_parse_error(418, NULL, 0, cases[11].body, strlen(cases[11].body), &a),
              WB_EHTTP);
    CHECK_STR(a.message, "I'm a teapot");
}

TEST(error_should_retry_and_hint_on_5xx)
{
    static const char *const no[] = { "x-should-retry", "false" };
    static const char *const yes[] = { "x-should-retry", "true", "retry-after", "3" };
    struct core_api_error a;
    CHECK_INT(err_with(no, 1, 500, "{}", &a), WB_EHTTP);
    CHECK_INT(a.retryable, 0);
    CHECK_INT(err_with(yes, 2, 400, "{}", &a), WB_EINVAL);
    CHECK_INT(a.retryable, 1);
    CHECK_INT(a.retry_after_ms, 3000);
}

TEST(error_message_redacts_key)
{
    static const char body[] = "{\"error\":{\"message\":\"Incorrect API key provided: "
                               "sk-test-redact-me-987654321. You can find your key...\"}}";
    struct core_api_error a;
    wb_secret_register("sk-test-redact-me-987654321");
    CHECK_INT(openai_parse_error(401, NULL, 0, body, strlen(body), &a), WB_EAUTH);
    CHECK(strstr(a.message, "sk-test-redact-me-987654321") == NULL);
    CHECK(strstr(a.message, "Incorrect API key provided") != NULL);
}
