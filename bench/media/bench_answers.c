/* What an entry's media answers cost after the network, part by part, on the
 * sizes the loopback fake sends (bench/media/run_answers.sh):
 *
 *   picture  a generateContent answer with a 94 KB picture in base64 (125 KB
 *            of JSON string): the whole parse (gemini_image_parse), and in the
 *            same run its two parts alone: jansson's json_loadb of the body
 *            and core_base64_decode of the string
 *   speech   a streamed answer, 3 SSE events of s16le PCM (2 s at 24 kHz),
 *            fed in 16 KB reads as curl hands them over
 *   clip     that PCM to MP3: wb_audio_convert (trim by offset) against the
 *            whole-buffer path (wb_pcm_from_s16le, wb_pcm_trim_normalize,
 *            wb_audio_encode: parse, trim with a move, encode) with the bytes
 *            compared, and a bare LAME encoder's set-up and release alone
 *
 * CPU time of this thread, median of 7 rounds (the rounds alternate the paths
 * compared). Prints one "figure: value" line per figure. Environment:
 * WB_BENCH_REPS (default 100).
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/util.h"
#include "media/media_internal.h"
#include "providers/gemini.h"
#include "wordbank/media.h"

#define ROUNDS       7
#define PICTURE      94000
#define RATE         24000
#define CLIP_SECONDS 2
#define EVENTS       3
#define READ_SIZE    16384

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double median(double *v)
{
    for (int i = 0; i < ROUNDS; i++)
        for (int j = i + 1; j < ROUNDS; j++)
            if (v[j] < v[i]) {
                double x = v[i];
                v[i] = v[j];
                v[j] = x;
            }
    return v[ROUNDS / 2];
}

static void fail(const char *what)
{
    fprintf(stderr, "bench_answers: %s failed\n", what);
    exit(1);
}

/* {"candidates":[{"content":{"parts":[{"inlineData":{mimeType, data}}]},
 * "finishReason":"STOP"}]} with data the base64 of bytes (no finishReason
 * unless last: a stream's earlier events); the base64 alone in b64. */
static char *answer(const void *bytes, size_t n, const char *mime, int last, struct wb_buf *b64)
{
    json_t *root, *cand;
    char *s;
    wb_buf_reset(b64);
    if (core_base64_encode(bytes, n, b64))
        fail("base64 encode");
    root = json_pack("{s:[{s:{s:[{s:{s:s,s:s}}]}}],s:{s:i}}", "candidates", "content", "parts",
                     "inlineData", "mimeType", mime, "data", b64->data, "usageMetadata",
                     "totalTokenCount", 1290);
    cand = json_array_get(json_object_get(root, "candidates"), 0);
    if (last && cand)
        json_object_set_new(cand, "finishReason", json_string("STOP"));
    s = root ? json_dumps(root, JSON_COMPACT) : NULL;
    json_decref(root);
    if (!s)
        fail("answer");
    return s;
}

static void bench_picture(int reps)
{
    unsigned char *raw = malloc(PICTURE);
    struct wb_buf b64, img;
    struct core_api_error aerr;
    struct prov_usage u;
    double whole[ROUNDS], json[ROUNDS], dec[ROUNDS];
    char mime[64], *body;
    size_t len;

    if (!raw)
        fail("malloc");
    for (size_t i = 0; i < PICTURE; i++)
        raw[i] = (unsigned char)(i * 2654435761u >> 13);
    wb_buf_init(&b64, 0);
    wb_buf_init(&img, 0);
    body = answer(raw, PICTURE, "image/png", 1, &b64);
    len = strlen(body);
    for (int r = 0; r < ROUNDS; r++) {
        double t = cpu_now();
        for (int k = 0; k < reps; k++) {
            wb_buf_release(&img);
            wb_buf_init(&img, 0);
            if (gemini_image_parse(body, len, &img, mime, sizeof mime, &u, &aerr) ||
                img.len != PICTURE || memcmp(img.data, raw, PICTURE))
                fail("gemini_image_parse");
        }
        whole[r] = (cpu_now() - t) / reps;
        t = cpu_now();
        for (int k = 0; k < reps; k++) {
            json_t *root = json_loadb(body, len, 0, NULL);
            if (!root)
                fail("json_loadb");
            json_decref(root);
        }
        json[r] = (cpu_now() - t) / reps;
        t = cpu_now();
        for (int k = 0; k < reps; k++) {
            wb_buf_release(&img);
            wb_buf_init(&img, 0);
            if (core_base64_decode(b64.data, b64.len, &img) || img.len != PICTURE)
                fail("core_base64_decode");
        }
        dec[r] = (cpu_now() - t) / reps;
    }
    printf("picture answer bytes: %zu\n", len);
    printf("picture parse ms: %.3f\n", median(whole) * 1e3);
    printf("picture json_loadb alone ms: %.3f\n", median(json) * 1e3);
    printf("picture base64 alone ms: %.3f\n", median(dec) * 1e3);
    free(body);
    free(raw);
    wb_buf_release(&b64);
    wb_buf_release(&img);
}

/* 0.25 s of silence each side, a voiced tone between, a little noise. */
static void make_pcm(int16_t *s, size_t frames)
{
    unsigned seed = 1234u;
    for (size_t i = 0; i < frames; i++) {
        double t = (double)i / RATE, v = 0;
        seed = seed * 1103515245u + 12345u;
        if (t > 0.25 && t < CLIP_SECONDS - 0.25)
            for (int h = 1; h <= 5; h++)
                v += 5000.0 * sin(2 * M_PI * 130.0 * h * t) / h;
        s[i] = (int16_t)lrint(v + (double)((int)(seed >> 16 & 0xFF) - 128) * 0.5);
    }
}

static void bench_speech(int reps, const int16_t *pcm, size_t frames)
{
    struct wb_buf stream, b64;
    struct core_api_error aerr;
    double t_feed[ROUNDS];
    size_t per = frames / EVENTS * 2;

    wb_buf_init(&stream, 0);
    wb_buf_init(&b64, 0);
    for (int e = 0; e < EVENTS; e++) {
        size_t n = e == EVENTS - 1 ? frames * 2 - per * (size_t)e : per;
        char *ev = answer((const char *)pcm + per * (size_t)e, n, "audio/L16;codec=pcm;rate=24000",
                          e == EVENTS - 1, &b64);
        if (wb_buf_appendf(&stream, "data: %s\r\n\r\n", ev))
            fail("stream");
        free(ev);
    }
    for (int r = 0; r < ROUNDS; r++) {
        double t = cpu_now();
        for (int k = 0; k < reps; k++) {
            struct gemini_audio a;
            size_t got = 0;
            gemini_audio_init(&a);
            for (size_t off = 0; off < stream.len; off += READ_SIZE) {
                size_t take = stream.len - off < READ_SIZE ? stream.len - off : READ_SIZE;
                if (gemini_audio_feed(&a, stream.data + off, take, &aerr))
                    fail("gemini_audio_feed");
            }
            if (gemini_audio_finish(&a, &aerr) || !gemini_audio_pcm(&a, &got) || got != frames * 2)
                fail("gemini_audio_finish");
            gemini_audio_release(&a);
        }
        t_feed[r] = (cpu_now() - t) / reps;
    }
    printf("speech answer bytes: %zu in %d events\n", stream.len, EVENTS);
    printf("speech parse ms: %.3f\n", median(t_feed) * 1e3);
    wb_buf_release(&stream);
    wb_buf_release(&b64);
}

static void bench_clip(int reps, const int16_t *pcm, size_t frames)
{
    struct wb_audio_options o;
    struct wb_buf a, b;
    struct wb_error err = { 0 };
    double conv[ROUNDS], whole[ROUNDS], setup[ROUNDS];
    int same = 1;

    wb_audio_options_init(&o);
    wb_buf_init(&a, 0);
    wb_buf_init(&b, 0);
    for (int r = 0; r < ROUNDS; r++) {
        double t = cpu_now();
        for (int k = 0; k < reps; k++) {
            wb_buf_reset(&a);
            if (wb_audio_convert(pcm, frames * 2, &o, &a, &err))
                fail("wb_audio_convert");
        }
        conv[r] = (cpu_now() - t) / reps;
        t = cpu_now();
        for (int k = 0; k < reps; k++) {
            struct wb_pcm p;
            wb_pcm_init(&p);
            wb_buf_reset(&b);
            if (wb_pcm_from_s16le(pcm, frames * 2, RATE, 1, &p, &err) ||
                wb_pcm_trim_normalize(&p, o.keep_ms, o.peak_dbfs) ||
                wb_audio_encode(&p, o.format, &b, &err))
                fail("the whole-buffer path");
            wb_pcm_release(&p);
        }
        whole[r] = (cpu_now() - t) / reps;
        same = same && a.len == b.len && memcmp(a.data, b.data, a.len) == 0;
        t = cpu_now();
        for (int k = 0; k < reps; k++) {
            struct media_mp3 *m = NULL;
            if (media_mp3_new(RATE, 1, &m, &err))
                fail("media_mp3_new");
            media_mp3_free(m);
        }
        setup[r] = (cpu_now() - t) / reps;
    }
    printf("clip mp3 bytes: %zu (same bytes as the whole-buffer path: %s)\n", a.len,
           same ? "yes" : "NO");
    printf("clip convert ms: %.3f\n", median(conv) * 1e3);
    printf("clip whole-buffer path ms: %.3f\n", median(whole) * 1e3);
    printf("clip LAME set-up alone ms: %.3f\n", median(setup) * 1e3);
    wb_buf_release(&a);
    wb_buf_release(&b);
    if (!same)
        exit(1);
}

int main(void)
{
    const char *env = getenv("WB_BENCH_REPS");
    int reps = env && atoi(env) > 0 ? atoi(env) : 100;
    size_t frames = (size_t)RATE * CLIP_SECONDS;
    int16_t *pcm = malloc(frames * sizeof *pcm);

    if (!pcm)
        fail("malloc");
    make_pcm(pcm, frames);
    bench_picture(reps);
    bench_speech(reps, pcm, frames);
    bench_clip(reps / 4 > 0 ? reps / 4 : 1, pcm, frames);
    free(pcm);
    return 0;
}
