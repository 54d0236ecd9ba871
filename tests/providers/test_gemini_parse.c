/* Every Gemini response shape the SDK understands, from fixtures written after
 * docs/gemini-api.md: details (ok, pretty, blocked, every failure), speech
 * streams (CRLF, LF, split at every byte, error event, truncation), unary and
 * WAV speech, images (Gemini and Imagen, every refusal), errors and model lists. */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "providers/gemini.h"
#include "test.h"
#include "th_fixture.h"

static void entry_ja(struct wb_entry *e)
{
    wb_entry_init(e);
    e->word = strdup("猫");
    e->translation = strdup("cat");
    e->language = strdup("ja");
    e->context = strdup("the pet");
}

static int details(const char *name, struct wb_entry *e, struct prov_usage *u,
                   struct core_api_error *a)
{
    struct wb_buf b = th_fixture(name);
    int rc = gemini_details_parse(b.data, b.len, e, u, a);
    wb_buf_release(&b);
    return rc;
}

TEST(details_ok)
{
    struct wb_entry e;
    struct prov_usage u;
    struct core_api_error a;
    entry_ja(&e);
    CHECK_INT(details("details_ok.json", &e, &u, &a), 0);
    CHECK_STR(e.word, "猫");         /* kept, not the model's */
    CHECK_STR(e.translation, "cat"); /* kept */
    CHECK_STR(e.reading, "ねこ");
    CHECK_STR(e.description, "The common household pet, a small furry animal.");
    CHECK_STR(e.image_description, "A small cat curled up asleep on a sofa cushion.");
    CHECK_INT(e.n_examples, 2);
    CHECK_STR(e.examples[0].text, "猫がソファで寝ている。");
    CHECK_STR(e.examples[0].translation, "The cat is sleeping on the sofa.");
    CHECK_STR(e.examples[1].translation, "Our cat likes fish.");
    CHECK_INT(u.prompt_tokens, 181);
    CHECK_INT(u.output_tokens, 212);
    CHECK_INT(u.thought_tokens, 124);
    CHECK_INT(u.total_tokens, 517);
    wb_entry_release(&e);
}

TEST(details_pretty_and_string_counts)
{
    struct wb_entry e;
    struct prov_usage u;
    struct core_api_error a;
    wb_entry_init(&e);
    e.word = strdup("gato");
    e.translation = strdup("cat");
    CHECK_INT(details("details_pretty.json", &e, &u, &a), 0);
    CHECK(e.reading == NULL);    /* empty -> NULL */
    CHECK_STR(e.language, "es"); /* filled only because it was missing */
    CHECK_INT(e.n_examples, 2);
    CHECK_STR(e.examples[0].text, "El gato duerme.");
    CHECK(e.examples[0].translation == NULL);
    CHECK_INT(u.prompt_tokens, 14);
    CHECK_INT(u.total_tokens, 33);
    wb_entry_release(&e);
}

static void details_fails(const char *name, int code, int retryable, const char *in_msg)
{
    struct wb_entry e;
    struct core_api_error a;
    entry_ja(&e);
    CHECK_INT(details(name, &e, NULL, &a), code);
    CHECK_INT(a.code, code);
    CHECK_MSG(a.retryable == retryable, "%s: retryable %d", name, a.retryable);
    CHECK_MSG(strstr(a.message, in_msg) != NULL, "%s: message \"%s\"", name, a.message);
    CHECK(e.description == NULL && e.n_examples == 0); /* untouched */
    CHECK_STR(e.word, "猫");
    wb_entry_release(&e);
}

TEST(details_failures)
{
    details_fails("details_max_tokens.json", WB_EINCOMPLETE, 1, "MAX_TOKENS");
    details_fails("details_safety.json", WB_EBLOCKED, 0, "SAFETY (HARM_CATEGORY_HARASSMENT)");
    details_fails("details_recitation.json", WB_EBLOCKED, 0, "RECITATION");
    details_fails("details_other.json", WB_EINCOMPLETE, 0, "OTHER: Unknown problem");
    details_fails("details_blocked.json", WB_EBLOCKED, 0, "prompt blocked: PROHIBITED_CONTENT");
    details_fails("details_no_finish.json", WB_EINCOMPLETE, 1, "no finishReason");
    details_fails("details_bad_json.json", WB_EPARSE, 1, "not a JSON object");
    details_fails("details_error_200.json", WB_EHTTP, 1, "overloaded");
    details_fails("error_404.json", WB_EMODEL, 0, "is not found");
    details_fails("error_502.html", WB_EPARSE, 1, "not JSON");
    {
        struct wb_entry e;
        struct core_api_error a;
        entry_ja(&e);
        CHECK_INT(gemini_details_parse("", 0, &e, NULL, &a), WB_EPARSE);
        CHECK_INT(gemini_details_parse("[]", 2, &e, NULL, &a), WB_EPARSE);
        CHECK_INT(gemini_details_parse("{}", 2, &e, NULL, &a), WB_EINCOMPLETE);
        wb_entry_release(&e);
    }
}

/* ---- speech ---- */

static void check_pcm(const struct gemini_audio *a, int rate)
{
    struct wb_buf want = th_fixture("tts_expected.pcm");
    size_t n;
    const void *p = gemini_audio_pcm(a, &n);
    CHECK_INT(n, want.len);
    CHECK(memcmp(p, want.data, n) == 0);
    CHECK_INT(gemini_audio_rate(a), rate);
    CHECK_INT(gemini_audio_channels(a), 1);
    wb_buf_release(&want);
}

static int stream_in_pieces(const struct wb_buf *s, size_t cut, size_t step, struct gemini_audio *a,
                            struct core_api_error *e)
{
    int rc = 0;
    gemini_audio_init(a);
    if (cut)
        rc = gemini_audio_feed(a, s->data, cut, e);
    for (size_t i = cut; i < s->len && !rc; i += step)
        rc = gemini_audio_feed(a, s->data + i, s->len - i < step ? s->len - i : step, e);
    if (!rc)
        rc = gemini_audio_finish(a, e);
    return rc;
}

TEST(speech_stream_crlf_and_lf)
{
    static const char *const names[] = { "tts_stream.sse", "tts_stream_lf.sse" };
    for (int k = 0; k < 2; k++) {
        struct wb_buf s = th_fixture(names[k]);
        struct gemini_audio a;
        struct core_api_error e;
        CHECK_INT(stream_in_pieces(&s, 0, s.len, &a, &e), 0);
        check_pcm(&a, 24000);
        CHECK_INT(gemini_audio_usage(&a)->output_tokens, 75); /* the last, not a sum */
        CHECK_INT(gemini_audio_usage(&a)->prompt_tokens, 9);
        CHECK_INT(gemini_audio_usage(&a)->total_tokens, 84);
        CHECK_STR(a.finish_reason, "STOP");
        CHECK_INT(a.n_events, 3);
        gemini_audio_release(&a);
        wb_buf_release(&s);
    }
}

TEST(speech_stream_split_at_every_byte)
{
    struct wb_buf s = th_fixture("tts_stream.sse");
    struct gemini_audio a;
    struct core_api_error e;
    for (size_t cut = 0; cut <= s.len; cut++) {
        CHECK_MSG(stream_in_pieces(&s, cut, s.len, &a, &e) == 0, "cut %zu: %s", cut, e.message);
        check_pcm(&a, 24000);
        gemini_audio_release(&a);
    }
    /* One byte per read, and a few odd chunk sizes. */
    for (size_t step = 1; step < 12; step += 3) {
        CHECK_INT(stream_in_pieces(&s, 0, step, &a, &e), 0);
        check_pcm(&a, 24000);
        gemini_audio_release(&a);
    }
    wb_buf_release(&s);
}

TEST(speech_stream_failures)
{
    struct gemini_audio a;
    struct core_api_error e;
    struct wb_buf s = th_fixture("tts_stream_error.sse");
    CHECK_INT(stream_in_pieces(&s, 0, 7, &a, &e), WB_EHTTP);
    CHECK_INT(e.retryable, 1);
    CHECK_INT(e.http_status, 503);
    CHECK_STR(e.status, "UNAVAILABLE");
    CHECK_STR(e.message, "The model is overloaded.");
    {
        struct core_api_error e2;
        CHECK_INT(gemini_audio_feed(&a, "data: {}\n\n", 10, &e2), WB_EHTTP); /* sticky */
        CHECK_STR(e2.message, "The model is overloaded.");
        CHECK_INT(gemini_audio_finish(&a, &e2), WB_EHTTP);
        CHECK_INT(e2.retryable, 1);
    }
    gemini_audio_release(&a);
    wb_buf_release(&s);

    s = th_fixture("tts_stream_truncated.sse");
    CHECK_INT(stream_in_pieces(&s, 0, s.len, &a, &e), WB_EINCOMPLETE);
    CHECK_INT(e.retryable, 1);
    CHECK(strstr(e.message, "without a finishReason"));
    gemini_audio_release(&a);
    wb_buf_release(&s);

    s = th_fixture("tts_stream_cut.sse");
    CHECK_INT(stream_in_pieces(&s, 0, 100, &a, &e), WB_EPARSE);
    CHECK_INT(e.retryable, 1);
    gemini_audio_release(&a);
    wb_buf_release(&s);

    s = th_fixture("tts_stream_safety.sse");
    CHECK_INT(stream_in_pieces(&s, 0, s.len, &a, &e), WB_EBLOCKED);
    CHECK_INT(e.retryable, 0);
    CHECK(strstr(e.message, "PROHIBITED_CONTENT"));
    gemini_audio_release(&a);
    wb_buf_release(&s);

    /* OTHER with no audio: intermittent on TTS models, so retryable here. */
    gemini_audio_init(&a);
    {
        static const char ev[] =
            "data: {\"candidates\":[{\"content\":{},\"finishReason\":\"OTHER\"}],"
            "\"usageMetadata\":{\"candidatesTokenCount\":5516}}\r\n\r\n";
        CHECK_INT(gemini_audio_feed(&a, ev, sizeof ev - 1, &e), WB_EINCOMPLETE);
        CHECK_INT(e.retryable, 1);
        CHECK_STR(e.status, "OTHER");
    }
    gemini_audio_release(&a);

    /* An empty stream, and audio in a format we do not take. */
    gemini_audio_init(&a);
    CHECK_INT(gemini_audio_finish(&a, &e), WB_EINCOMPLETE);
    CHECK_INT(e.retryable, 1);
    gemini_audio_release(&a);
    gemini_audio_init(&a);
    {
        static const char ev[] = "data: {\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":"
                                 "{\"mimeType\":\"audio/mpeg\",\"data\":\"AAAA\"}}]}}]}\n\n";
        CHECK_INT(gemini_audio_feed(&a, ev, sizeof ev - 1, &e), WB_EMEDIA);
        CHECK(strstr(e.message, "audio/mpeg"));
    }
    gemini_audio_release(&a);
}

TEST(speech_odd_byte_trimmed)
{
    /* 3 bytes of PCM ("AAAB" -> 00 00 01): one whole sample is kept. */
    static const char ev[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":"
        "{\"mimeType\":\"audio/L16;codec=pcm;rate=8000\",\"data\":\"AAAB\"}}]},"
        "\"finishReason\":\"STOP\"}]}";
    struct gemini_audio a;
    struct core_api_error e;
    size_t n;
    gemini_audio_init(&a);
    CHECK_INT(gemini_audio_feed(&a, ev, sizeof ev - 1, &e), 0); /* no blank line yet */
    CHECK_INT(gemini_audio_finish(&a, &e), 0);
    gemini_audio_pcm(&a, &n);
    CHECK_INT(n, 2);
    CHECK_INT(gemini_audio_rate(&a), 8000);
    gemini_audio_release(&a);
}

TEST(speech_unary_pcm_and_wav)
{
    struct gemini_audio a;
    struct core_api_error e;
    struct wb_buf s = th_fixture("tts_unary.json");
    gemini_audio_init(&a);
    CHECK_INT(gemini_audio_parse_response(&a, s.data, s.len, &e), 0);
    check_pcm(&a, 16000);
    CHECK_INT(gemini_audio_usage(&a)->output_tokens, 75);
    gemini_audio_release(&a);
    wb_buf_release(&s);

    s = th_fixture("tts_unary_wav.json");
    gemini_audio_init(&a);
    CHECK_INT(gemini_audio_parse_response(&a, s.data, s.len, &e), 0);
    check_pcm(&a, 22050);
    gemini_audio_release(&a);
    wb_buf_release(&s);

    s = th_fixture("error_503.json");
    gemini_audio_init(&a);
    CHECK_INT(gemini_audio_parse_response(&a, s.data, s.len, &e), WB_EHTTP);
    CHECK_INT(e.retryable, 1);
    gemini_audio_release(&a);
    wb_buf_release(&s);
}

TEST(wav_parser)
{
    struct wb_buf pcm;
    int rate = 0, ch = 0;
    /* fmt with an odd-sized LIST chunk before it, 2 channels, data size 0 (streamed). */
    static const unsigned char wav[] = { 'R', 'I', 'F', 'F',  0,    0,   0,   0,   'W',  'A', 'V',
                                         'E', 'L', 'I', 'S',  'T',  3,   0,   0,   0,    'a', 'b',
                                         'c', 0,   'f', 'm',  't',  ' ', 16,  0,   0,    0,   1,
                                         0,   2,   0,   0x80, 0xBB, 0,   0,   0,   0xEE, 2,   0,
                                         4,   0,   16,  0,    'd',  'a', 't', 'a', 0,    0,   0,
                                         0,   1,   2,   3,    4,    5,   6,   7,   8,    9 };
    wb_buf_init(&pcm, 0);
    CHECK_INT(gemini_wav_to_pcm(wav, sizeof wav, &pcm, &rate, &ch), 0);
    CHECK_INT(rate, 48000);
    CHECK_INT(ch, 2);
    CHECK_INT(pcm.len, 8); /* whole frames only */
    CHECK_INT(gemini_wav_to_pcm(wav, 30, &pcm, &rate, &ch), WB_EMEDIA);
    CHECK_INT(gemini_wav_to_pcm("RIFX", 4, &pcm, &rate, &ch), WB_EMEDIA);
    wb_buf_release(&pcm);
}

/* ---- images ---- */

static int image(const char *name, struct wb_buf *img, char *mime, struct core_api_error *a)
{
    struct wb_buf b = th_fixture(name);
    struct prov_usage u;
    int rc = gemini_image_parse(b.data, b.len, img, mime, 64, &u, a);
    if (!strcmp(name, "image_ok.json"))
        CHECK_INT(u.output_tokens, 1290);
    wb_buf_release(&b);
    return rc;
}

TEST(image_ok_gemini_and_imagen)
{
    static const char *const names[] = { "image_ok.json", "imagen_ok.json" };
    struct wb_buf want = th_fixture("image_expected.png");
    for (int k = 0; k < 2; k++) {
        struct wb_buf img;
        struct core_api_error a;
        char mime[64];
        wb_buf_init(&img, 0);
        CHECK_INT(image(names[k], &img, mime, &a), 0);
        CHECK_INT(img.len, want.len); /* not the thought draft */
        CHECK(memcmp(img.data, want.data, want.len) == 0);
        CHECK_STR(mime, "image/png");
        wb_buf_release(&img);
    }
    wb_buf_release(&want);
}

static void image_fails(const char *name, int code, int retryable, const char *in_msg)
{
    struct wb_buf img;
    struct core_api_error a;
    char mime[64];
    wb_buf_init(&img, 0);
    CHECK_INT(image(name, &img, mime, &a), code);
    CHECK_MSG(a.retryable == retryable, "%s: retryable %d", name, a.retryable);
    CHECK_MSG(strstr(a.message, in_msg) != NULL, "%s: message \"%s\"", name, a.message);
    CHECK_INT(img.len, 0);
    wb_buf_release(&img);
}

TEST(image_failures)
{
    image_fails("image_safety.json", WB_EBLOCKED, 0, "IMAGE_SAFETY: Unable to show");
    image_fails("image_no_image.json", WB_EBLOCKED, 0, "NO_IMAGE");
    image_fails("image_prohibited.json", WB_EBLOCKED, 0, "IMAGE_PROHIBITED_CONTENT");
    image_fails("image_text_only.json", WB_EBLOCKED, 0, "without an image: I can't draw that");
    image_fails("image_blocked_prompt.json", WB_EBLOCKED, 0,
                "prompt blocked: SAFETY (HARM_CATEGORY_DANGEROUS_CONTENT)");
    image_fails("imagen_rai.json", WB_EBLOCKED, 0, "filtered out");
    image_fails("imagen_empty.json", WB_EBLOCKED, 0, "no image");
    image_fails("error_429_minute.json", WB_ERATELIMIT, 1, "exceeded your current quota");
    {
        struct wb_buf img;
        struct core_api_error a;
        wb_buf_init(&img, 16); /* the caller's cap is kept when smaller */
        CHECK_INT(image("image_ok.json", &img, NULL, &a), WB_ETOOBIG);
        CHECK_INT(a.retryable, 0);
        wb_buf_release(&img);
    }
}

/* ---- errors ---- */

static int err_of(const char *name, long status, const struct core_http_header *h, size_t nh,
                  struct core_api_error *a)
{
    struct wb_buf b = th_fixture(name);
    int rc = gemini_parse_error(status, h, nh, b.data, b.len, a);
    wb_buf_release(&b);
    return rc;
}

TEST(errors_rate_limits)
{
    struct core_api_error a;
    struct core_http_header ra = { "Retry-After", "7" };
    CHECK_INT(err_of("error_429_minute.json", 429, NULL, 0, &a), WB_ERATELIMIT);
    CHECK_INT(a.retryable, 1);
    CHECK_INT(a.retry_after_ms, 43000); /* RetryInfo wins over the message's 43.1s */
    CHECK_INT(a.per_day, 0);
    CHECK_INT(a.http_status, 429);
    CHECK_STR(a.status, "RESOURCE_EXHAUSTED");
    CHECK(!strncmp(a.message, "You exceeded your current quota", 31));

    CHECK_INT(err_of("error_429_day.json", 429, NULL, 0, &a), WB_EQUOTA);
    CHECK_INT(a.per_day, 1);
    CHECK_INT(a.retryable, 0);
    CHECK_INT(a.retry_after_ms, 1500);

    CHECK_INT(err_of("error_429_plain.json", 429, &ra, 1, &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, 7000); /* header before message */
    CHECK_INT(err_of("error_429_plain.json", 429, NULL, 0, &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, 12500); /* "Please retry in 12.5s." */
    CHECK_INT(err_of("error_429_bare.json", 429, NULL, 0, &a), WB_ERATELIMIT);
    CHECK_INT(a.retry_after_ms, -1);
    CHECK_INT(a.retryable, 1);
}

TEST(errors_classes)
{
    struct core_api_error a;
    CHECK_INT(err_of("error_400_key.json", 400, NULL, 0, &a), WB_EAUTH);
    CHECK_INT(a.retryable, 0);
    CHECK_STR(a.message, "API key not valid. Please pass a valid API key.");
    CHECK_INT(err_of("error_400_schema.json", 400, NULL, 0, &a), WB_EINVAL);
    CHECK_INT(a.retryable, 0);
    CHECK(strstr(a.message, "Unknown name"));
    {
        static const char tts400[] =
            "{\"error\": {\"code\": 400, \"message\": \"Model tried to generate text, but it "
            "should only be used for TTS. Make sure your instructions are clear to only generate "
            "audio from a given text transcript.\", \"status\": \"INVALID_ARGUMENT\"}}";
        CHECK_INT(gemini_parse_error(400, NULL, 0, tts400, sizeof tts400 - 1, &a), WB_EINVAL);
        CHECK_INT(a.retryable, 1);
    }
    CHECK_INT(err_of("error_403.json", 403, NULL, 0, &a), WB_EAUTH);
    CHECK_STR(a.status, "PERMISSION_DENIED");
    CHECK_INT(err_of("error_404.json", 404, NULL, 0, &a), WB_EMODEL);
    CHECK_INT(a.retryable, 0);
    CHECK(strstr(a.message, "gemini-2.5-flash-preview-tts is not found"));
    CHECK_INT(err_of("error_500.json", 500, NULL, 0, &a), WB_EHTTP);
    CHECK_INT(a.retryable, 1);
    CHECK_INT(err_of("error_503.json", 503, NULL, 0, &a), WB_EHTTP);
    CHECK_INT(a.retryable, 1);
    CHECK_INT(err_of("error_array.json", 504, NULL, 0, &a), WB_EHTTP);
    CHECK_INT(a.retryable, 1);
    CHECK_STR(a.status, "DEADLINE_EXCEEDED");
    CHECK_INT(err_of("error_502.html", 502, NULL, 0, &a), WB_EHTTP);
    CHECK_INT(a.retryable, 1);
    CHECK_STR(a.message, "HTTP 502: Error 502 (Server Error)!!1");
    CHECK_INT(gemini_parse_error(408, NULL, 0, "timeout\r\n", 9, &a), WB_EHTTP);
    CHECK_INT(a.retryable, 1);
    CHECK_STR(a.message, "HTTP 408: timeout");
    CHECK_INT(gemini_parse_error(499, NULL, 0, NULL, 0, &a), WB_EHTTP);
    CHECK_INT(a.retryable, 0);
    CHECK_INT(gemini_parse_error(401, NULL, 0, "{}", 2, &a), WB_EAUTH);
    CHECK_INT(gemini_parse_error(429, NULL, 0, "", 0, &a), WB_ERATELIMIT);
    {
        struct core_http_header d = { "retry-after", "Wed, 21 Oct 2015 07:28:00 GMT" };
        CHECK_INT(gemini_parse_error(503, &d, 1, "", 0, &a), WB_EHTTP);
        CHECK_INT(a.retry_after_ms, 0); /* a date in the past */
    }
}

/* ---- models ---- */

TEST(models_pages_and_suggestions)
{
    struct wb_buf b = th_fixture("models_page1.json");
    struct core_api_error a;
    char **ids = NULL, *tok = NULL;
    size_t n = 0;
    const char *sug[5];
    size_t ns;

    CHECK_INT(gemini_models_parse(b.data, b.len, &ids, &n, &tok, &a), 0);
    CHECK_INT(n, 5);
    CHECK_STR(ids[0], "gemini-3.8-flash");
    CHECK_STR(tok, "Cg9nZW1pbmktMy43/+flash==");
    CHECK(gemini_models_has(ids, n, "models/gemini-3.7-flash"));
    CHECK(!gemini_models_has(ids, n, "gemini-2.5-flash"));
    ns = gemini_models_suggest("gemini-2.5-flash", ids, n, sug, 3);
    CHECK(ns >= 2);
    CHECK_STR(sug[0], "gemini-3.8-flash");
    CHECK_STR(sug[1], "gemini-3.7-flash");
    gemini_ids_free(ids, n);
    free(tok);
    wb_buf_release(&b);

    b = th_fixture("models_page2.json");
    CHECK_INT(gemini_models_parse(b.data, b.len, &ids, &n, &tok, &a), 0);
    CHECK_INT(n, 4);
    CHECK(tok == NULL);
    ns = gemini_models_suggest("gemini-2.5-flash-preview-tts", ids, n, sug, 5);
    CHECK(ns >= 1);
    CHECK_STR(sug[0], "gemini-3.8-flash-tts");
    ns = gemini_models_suggest("imagen-4.0-generate-001", ids, n, sug, 5);
    CHECK_INT(ns, 0);
    ns = gemini_models_suggest("gemini-3.8-flash-ttss", ids, n, sug, 5);
    CHECK(ns >= 1);
    CHECK_STR(sug[0], "gemini-3.8-flash-tts");
    gemini_ids_free(ids, n);
    wb_buf_release(&b);

    b = th_fixture("error_403.json");
    CHECK_INT(gemini_models_parse(b.data, b.len, &ids, &n, &tok, &a), WB_EAUTH);
    CHECK(ids == NULL && n == 0);
    wb_buf_release(&b);
    CHECK_INT(gemini_models_parse("{\"models\": 3}", 13, &ids, &n, &tok, &a), WB_EPARSE);
    CHECK_INT(gemini_models_parse("{}", 2, &ids, &n, &tok, &a), 0);
    CHECK_INT(n, 0);
    gemini_ids_free(ids, n);
}

/* A body whose single text part is `answer` (JSON-escaped by jansson). */
static int details_text(const char *answer, struct wb_entry *e, struct core_api_error *a)
{
    json_t *r = json_pack("{s:[{s:{s:[{s:s}]},s:s}]}", "candidates", "content", "parts", "text",
                          answer, "finishReason", "STOP");
    char *s = json_dumps(r, 0);
    int rc = gemini_details_parse(s, strlen(s), e, NULL, a);
    free(s);
    json_decref(r);
    return rc;
}

TEST(details_answer_variants)
{
    struct wb_entry e;
    struct core_api_error a;
    entry_ja(&e);
    CHECK_INT(
        details_text("```json\n{\"description\": \"d\", \"examples\": [{\"text\": \"t\"}]}\n```",
                     &e, &a),
        0);
    CHECK_STR(e.description, "d");
    CHECK_INT(e.n_examples, 1);
    CHECK(e.image_description == NULL && e.reading == NULL);
    CHECK_INT(
        details_text("{\"description\": \"d2\", \"examples\": [{\"translation\": \"x\"}, \" \"]}",
                     &e, &a),
        WB_EPARSE);
    CHECK_STR(e.description, "d"); /* untouched by the failed parse */
    CHECK_INT(details_text("{\"description\": \"\", \"examples\": [\"t\"]}", &e, &a), WB_EPARSE);
    CHECK(strstr(a.message, "no description"));
    CHECK_INT(details_text("[1, 2]", &e, &a), WB_EPARSE);
    wb_entry_release(&e);
}

TEST(base64_outside_the_alphabet)
{
    /* OpenSSL would stop at '-' and report success with nothing decoded. */
    static const char img[] = "{\"predictions\":[{\"bytesBase64Encoded\":\"-iVgn\"}]}";
    static const char aud[] =
        "data: {\"candidates\":[{\"content\":{\"parts\":[{\"inlineData\":"
        "{\"mimeType\":\"audio/L16;rate=24000\",\"data\":\"AAAA-AAA\"}}]}}]}\n\n";
    struct wb_buf b;
    struct core_api_error a;
    struct gemini_audio au;
    wb_buf_init(&b, 0);
    CHECK_INT(gemini_image_parse(img, sizeof img - 1, &b, NULL, 0, NULL, &a), WB_EPARSE);
    CHECK_INT(b.len, 0);
    wb_buf_release(&b);
    gemini_audio_init(&au);
    CHECK_INT(gemini_audio_feed(&au, aud, sizeof aud - 1, &a), WB_EPARSE);
    gemini_audio_release(&au);
}

/* A candidate with a valid answer but finish reason `reason` (and a
 * finishMessage), through the details and the image parsers. */
static int finish_with(const char *reason, int image, struct core_api_error *a)
{
    const char *answer = "{\"reading\":\"ねこ\",\"description\":\"d\",\"examples\":"
                         "[{\"text\":\"猫だ。\",\"translation\":\"a cat.\"}],"
                         "\"image_description\":\"i\"}";
    json_t *r =
        image ? json_pack("{s:[{s:{s:[{s:{s:s,s:s}}]},s:s,s:s}]}", "candidates", "content", "parts",
                          "inlineData", "mimeType", "image/png", "data",
                          "iVBORw0KGgo=", "finishReason", reason, "finishMessage", "why it stopped")
              : json_pack("{s:[{s:{s:[{s:s}]},s:s,s:s}]}", "candidates", "content", "parts", "text",
                          answer, "finishReason", reason, "finishMessage", "why it stopped");
    char *s = json_dumps(r, 0);
    int rc;
    if (image) {
        struct wb_buf img;
        char mime[64];
        wb_buf_init(&img, 0);
        rc = gemini_image_parse(s, strlen(s), &img, mime, sizeof mime, NULL, a);
        wb_buf_release(&img);
    } else {
        struct wb_entry e;
        entry_ja(&e);
        rc = gemini_details_parse(s, strlen(s), &e, NULL, a);
        wb_entry_release(&e);
    }
    free(s);
    json_decref(r);
    return rc;
}

/* docs/providers.md's table: these finish reasons are a block (WB_EBLOCKED,
 * not retried, the reason in the message); CONTINUATION and unknown ones are
 * incomplete and not retried. */
TEST(finish_reasons_documented)
{
    static const char *const blocked_text[] = { "LANGUAGE", "BLOCKLIST",  "SPII",
                                                "SAFETY",   "RECITATION", "PROHIBITED_CONTENT" };
    static const char *const blocked_image[] = { "IMAGE_RECITATION", "IMAGE_OTHER", "IMAGE_SAFETY",
                                                 "IMAGE_PROHIBITED_CONTENT", "NO_IMAGE" };
    struct core_api_error a;
    for (size_t i = 0; i < sizeof blocked_text / sizeof *blocked_text; i++) {
        memset(&a, 0, sizeof a);
        CHECK_INT(finish_with(blocked_text[i], 0, &a), WB_EBLOCKED);
        CHECK_INT(a.retryable, 0);
        CHECK_MSG(strstr(a.message, blocked_text[i]) && strstr(a.message, "why it stopped"),
                  "%s: %s", blocked_text[i], a.message);
    }
    for (size_t i = 0; i < sizeof blocked_image / sizeof *blocked_image; i++) {
        memset(&a, 0, sizeof a);
        CHECK_INT(finish_with(blocked_image[i], 1, &a), WB_EBLOCKED);
        CHECK_INT(a.retryable, 0);
        CHECK_MSG(strstr(a.message, blocked_image[i]) != NULL, "%s: %s", blocked_image[i],
                  a.message);
    }
    memset(&a, 0, sizeof a);
    CHECK_INT(finish_with("CONTINUATION", 0, &a), WB_EINCOMPLETE);
    CHECK_INT(a.retryable, 0);
    CHECK(strstr(a.message, "CONTINUATION") != NULL);
    memset(&a, 0, sizeof a);
    CHECK_INT(finish_with("SOMETHING_NEW", 0, &a), WB_EINCOMPLETE);
    CHECK_INT(a.retryable, 0);
    CHECK(strstr(a.message, "SOMETHING_NEW") != NULL);
    memset(&a, 0, sizeof a);
    CHECK_INT(finish_with("STOP", 0, &a), 0); /* the same answer, finished normally */
}
