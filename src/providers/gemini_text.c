/* Word details through a Gemini text model: the generateContent request with a
 * JSON response schema, and the parser that turns the model's JSON text back
 * into entry fields (keeping the input's word and translation).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "providers/gemini_internal.h"

/* {"type": T} plus an optional description. */
static json_t *schema_of(const char *type, const char *description)
{
    json_t *o = json_pack("{s:s}", "type", type);
    if (o && description)
        json_object_set_new(o, "description", json_string(description));
    return o;
}

/* An OBJECT schema with properties in the given order, all required. */
static json_t *object_schema(const char *const *names, json_t **props, size_t n)
{
    json_t *o = json_pack("{s:s}", "type", "OBJECT");
    json_t *p = json_object(), *req = json_array(), *ord = json_array();
    if (!o || !p || !req || !ord)
        goto fail;
    for (size_t i = 0; i < n; i++) {
        if (!props[i])
            goto fail;
        json_object_set_new(p, names[i], props[i]);
        props[i] = NULL;
        json_array_append_new(req, json_string(names[i]));
        json_array_append_new(ord, json_string(names[i]));
    }
    json_object_set_new(o, "properties", p);
    json_object_set_new(o, "required", req);
    json_object_set_new(o, "propertyOrdering", ord);
    return o;
fail:
    for (size_t i = 0; i < n; i++)
        json_decref(props[i]);
    json_decref(o);
    json_decref(p);
    json_decref(req);
    json_decref(ord);
    return NULL;
}

/* The card's schema (Google's OpenAPI subset: upper-case types). */
static json_t *details_schema(void)
{
    const char *ex_names[PROV_EXAMPLE_N_FIELDS], *names[PROV_CARD_N_FIELDS];
    json_t *ex_props[PROV_EXAMPLE_N_FIELDS], *props[PROV_CARD_N_FIELDS], *examples;

    for (size_t i = 0; i < PROV_EXAMPLE_N_FIELDS; i++) {
        ex_names[i] = prov_example_fields[i].name;
        ex_props[i] = schema_of("STRING", prov_example_fields[i].description);
    }
    examples = schema_of("ARRAY", prov_card_fields[PROV_CARD_EXAMPLES].description);
    if (examples) {
        json_object_set_new(examples, "items",
                            object_schema(ex_names, ex_props, PROV_EXAMPLE_N_FIELDS));
        json_object_set_new(examples, "minItems", json_integer(2));
        json_object_set_new(examples, "maxItems", json_integer(3));
    } else {
        json_decref(ex_props[0]);
        json_decref(ex_props[1]);
    }
    for (size_t i = 0; i < PROV_CARD_N_FIELDS; i++) {
        names[i] = prov_card_fields[i].name;
        props[i] = i == PROV_CARD_EXAMPLES ? examples
                                           : schema_of("STRING", prov_card_fields[i].description);
    }
    return object_schema(names, props, PROV_CARD_N_FIELDS);
}

int wb_gemini_details_request(const struct wb_gemini_opts *o, const struct wb_entry *e,
                              struct wb_http_request *out, struct wb_error *err)
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
    prompt = wb_prompt_details(e);
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

int wb_gemini_details_parse(const char *body, size_t len, struct wb_entry *e, struct wb_usage *u,
                            struct wb_api_error *aerr)
{
    json_t *root = NULL, *cand = NULL;
    struct wb_buf text;
    int rc;

    wb_api_error_clear(aerr);
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
