/* Word details through a Gemini text model: the generateContent request with a
 * JSON response schema, and the parser that turns the model's JSON text back
 * into entry fields (keeping the input's word and translation).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "providers/gemini_internal.h"

/* The card's schema (Google's OpenAPI subset: upper-case types, the
 * properties' order spelled out, two or three examples). */
static json_t *details_schema(void)
{
    static const struct prov_schema_dialect gemini = { "STRING", "ARRAY", "OBJECT", 1, 0, 2, 3 };
    return prov_card_schema(&gemini);
}

int gemini_details_request(const struct gemini_opts *o, const struct wb_entry *e,
                           struct core_http_request *out, struct wb_error *err)
{
    const char *model = prov_opt(o->text_model, WB_GEMINI_DEFAULT_TEXT_MODEL);
    char *prompt = NULL;
    json_t *root = NULL, *gen = NULL;
    int rc;

    if (!e || !e->word || !*e->word)
        return wb_error_set(err, WB_EINVAL, "details request without a word");
    rc = gemini_request_begin(o, "POST", model, ":generateContent", WB_REQ_TEXT, out, err);
    if (rc)
        return rc;
    prompt = prompt_details(e);
    /* Key order as the SDK sends it: contents[{parts, role}], generationConfig
     * {temperature, responseMimeType, responseSchema}. */
    gen = json_object();
    if (gen && o->temperature >= 0)
        json_object_set_new(gen, "temperature", json_real(o->temperature));
    if (gen) {
        json_object_set_new(gen, "responseMimeType", json_string("application/json"));
        json_object_set_new(gen, "responseSchema", details_schema());
        if (o->thinking_level && *o->thinking_level)
            json_object_set_new(gen, "thinkingConfig",
                                json_pack("{s:s}", "thinkingLevel", o->thinking_level));
    }
    if (prompt && gen && json_object_get(gen, "responseSchema"))
        root = json_pack("{s:[{s:[{s:s}],s:s}],s:O}", "contents", "parts", "text", prompt, "role",
                         "user", "generationConfig", gen);
    rc = prov_set_body(out, root, err);
    free(prompt);
    json_decref(gen);
    json_decref(root);
    return rc;
}

int gemini_details_parse(const char *body, size_t len, struct wb_entry *e, struct prov_usage *u,
                         struct core_api_error *aerr)
{
    json_t *root = NULL, *cand = NULL;
    struct wb_buf text;
    int rc;

    core_api_error_clear(aerr);
    wb_buf_init(&text, WB_GEMINI_MAX_TEXT);
    if (u)
        memset(u, 0, sizeof *u);
    rc = prov_load_json(body, len, WB_GEMINI_MAX_TEXT, &root, aerr);
    if (rc)
        goto out;
    gemini_usage_parse(root, u);
    rc = gemini_candidate(root, 1, &cand, aerr);
    if (rc)
        goto out;
    if (gemini_candidate_text(cand, &text) != 0) {
        rc = prov_fail(aerr, WB_ETOOBIG, 0, "answer text exceeds %zu bytes", WB_GEMINI_MAX_TEXT);
        goto out;
    }
    rc = prov_card_apply(text.data, text.len, e, aerr);
out:
    json_decref(root);
    wb_buf_release(&text);
    return rc;
}
