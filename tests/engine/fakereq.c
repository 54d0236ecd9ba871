/* Plausible Gemini request bodies and a minimal Gemini error classifier for
 * engine tests and benchmarks (see fakereq.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "fakeproc.h"
#include "fakereq.h"

int fake_gemini_request(struct core_http_request *r, const char *base_url, const char *model,
                        enum core_req_kind kind, const char *word, int stream)
{
    char url[512], body[2048];
    snprintf(url, sizeof url, "%s/v1beta/models/%s:%s", base_url, model,
             stream ? "streamGenerateContent?alt=sse" : "generateContent");
    if (kind == WB_REQ_SPEECH)
        snprintf(body, sizeof body,
                 "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Say clearly: %s\"}]}],"
                 "\"generationConfig\":{\"responseModalities\":[\"AUDIO\"],\"speechConfig\":"
                 "{\"voiceConfig\":{\"prebuiltVoiceConfig\":{\"voiceName\":\"Kore\"}}}}}",
                 word);
    else if (kind == WB_REQ_IMAGE)
        snprintf(body, sizeof body,
                 "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"A simple, memorable "
                 "illustration of %s for a flashcard, no text.\"}]}],"
                 "\"generationConfig\":{\"responseModalities\":[\"IMAGE\"]}}",
                 word);
    else
        snprintf(body, sizeof body,
                 "{\"contents\":[{\"role\":\"user\",\"parts\":[{\"text\":\"Make a vocabulary card "
                 "for the Japanese word \\\"%s\\\": a description, three example sentences with "
                 "translations and a picture description.\"}]}],"
                 "\"generationConfig\":{\"temperature\":0.2,\"responseMimeType\":"
                 "\"application/json\",\"responseSchema\":{\"type\":\"OBJECT\",\"properties\":{"
                 "\"description\":{\"type\":\"STRING\"},\"examples\":{\"type\":\"ARRAY\","
                 "\"items\":{\"type\":\"STRING\"}},\"image_description\":{\"type\":\"STRING\"}},"
                 "\"required\":[\"description\",\"examples\",\"image_description\"]}}}",
                 word);
    int rc = 0;
    r->method = strdup("POST");
    r->url = strdup(url);
    r->body = strdup(body);
    r->body_len = strlen(body);
    r->model = strdup(model);
    r->kind = kind;
    r->stream = stream;
    if (!r->method || !r->url || !r->body || !r->model)
        return WB_ENOMEM;
    if ((rc = core_http_request_add_header(r, "Content-Type", "application/json")) != 0 ||
        (rc = core_http_request_add_header(r, "x-goog-api-key", FAKE_KEY)) != 0)
        return rc;
    return 0;
}

int fake_gemini_classify(void *ud, long status, const struct core_http_header *h, size_t nh,
                         const char *body, size_t len, struct core_api_error *out)
{
    int rc = engine_classify_default(ud, status, h, nh, body, len, out);
    if (rc == 0 || !body)
        return rc;
    const char *d = strstr(body, "\"retryDelay\"");
    if (d && (d = strchr(d + 12, '"'))) {
        double s = strtod(d + 1, NULL);
        if (s >= 0)
            out->retry_after_ms = (int64_t)(s * 1000);
    }
    if (status == 429 && strstr(body, "PerDay")) {
        out->per_day = 1;
        out->retryable = 0;
        out->code = WB_EQUOTA;
    }
    return out->code;
}
