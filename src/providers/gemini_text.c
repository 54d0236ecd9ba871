/* Word details through a Gemini text model: the generateContent request with a
 * JSON response schema, and the parser that turns the model's JSON text back
 * into entry fields (keeping the input's word and translation).
 */
#include <ctype.h>
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
    static const char *const ex_names[] = { "text", "translation" };
    static const char *const names[] = {
        "word",        "translation", "language_code",    "reading",
        "description", "examples",    "image_description"
    };
    json_t *ex_props[2], *props[7], *examples;

    ex_props[0] = schema_of("STRING", "The example sentence in the word's language.");
    ex_props[1] = schema_of("STRING", "Its translation.");
    examples = schema_of("ARRAY", "Two or three natural example sentences.");
    if (examples) {
        json_object_set_new(examples, "items", object_schema(ex_names, ex_props, 2));
        json_object_set_new(examples, "minItems", json_integer(2));
        json_object_set_new(examples, "maxItems", json_integer(3));
    } else {
        json_decref(ex_props[0]);
        json_decref(ex_props[1]);
    }
    props[0] = schema_of("STRING", "The word exactly as given.");
    props[1] = schema_of("STRING", "The translation exactly as given.");
    props[2] = schema_of("STRING", "BCP 47 language code of the word.");
    props[3] = schema_of("STRING", "Kana reading for Japanese; empty otherwise.");
    props[4] = schema_of("STRING", "The meaning in this sense.");
    props[5] = examples;
    props[6] = schema_of("STRING", "A concrete, memorable scene; content only, no style words.");
    return object_schema(names, props, 7);
}

int wb_gemini_details_request(const struct wb_gemini_opts *o, const struct wb_entry *e,
                              struct wb_http_request *out, struct wb_error *err)
{
    const char *model = gemini_opt(o->text_model, WB_GEMINI_DEFAULT_TEXT_MODEL);
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
    rc = gemini_request_set_body(out, root, err);
    free(prompt);
    json_decref(gen);
    json_decref(root);
    return rc;
}

/* The model's JSON text, tolerating a Markdown code fence around it. */
static json_t *load_card(struct wb_buf *text)
{
    char *s = text->data;
    size_t n = text->len;
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 6 && !strncmp(s, "```", 3) && !strncmp(s + n - 3, "```", 3)) {
        char *nl = memchr(s, '\n', n);
        if (nl) {
            n -= (size_t)(nl + 1 - s) + 3;
            s = nl + 1;
        }
    }
    return json_loadb(s, n, 0, NULL);
}

static const char *field(const json_t *card, const char *name)
{
    const json_t *v = json_object_get(card, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int nonblank(const char *s)
{
    if (!s)
        return 0;
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s != '\0';
}

#define MAX_EXAMPLES 8

/* An example's sentence: {"text": ...}, or a plain string (the older shape). */
static const char *example_text(const json_t *x)
{
    return json_is_string(x) ? json_string_value(x) : field(x, "text");
}

static size_t count_examples(const json_t *ex)
{
    const json_t *x;
    size_t i, n = 0;
    json_array_foreach(ex, i, x)
    {
        if (i < MAX_EXAMPLES && nonblank(example_text(x)))
            n++;
    }
    return n;
}

int wb_gemini_details_parse(const char *body, size_t len, struct wb_entry *e, struct wb_usage *u,
                            struct wb_api_error *aerr)
{
    json_t *root = NULL, *cand = NULL, *card = NULL;
    const json_t *ex, *x;
    struct wb_buf text;
    size_t i;
    int rc;

    wb_api_error_clear(aerr);
    wb_buf_init(&text, WB_GEMINI_MAX_TEXT);
    if (u)
        memset(u, 0, sizeof *u);
    rc = gemini_load(body, len, WB_GEMINI_MAX_TEXT, &root, aerr);
    if (rc)
        goto out;
    gemini_usage_parse(root, u);
    rc = gemini_candidate(root, 1, &cand, aerr);
    if (rc)
        goto out;
    if (gemini_candidate_text(cand, &text) != 0) {
        rc = gemini_fail(aerr, WB_ETOOBIG, 0, "answer text exceeds %zu bytes", WB_GEMINI_MAX_TEXT);
        goto out;
    }
    card = load_card(&text);
    if (!json_is_object(card)) {
        rc = gemini_fail(aerr, WB_EPARSE, 1, "the model's answer is not a JSON object (%zu bytes)",
                         text.len);
        goto out;
    }
    if (!nonblank(field(card, "description"))) {
        rc = gemini_fail(aerr, WB_EPARSE, 1, "the model's answer has no description");
        goto out;
    }
    ex = json_object_get(card, "examples");
    if (count_examples(ex) == 0) {
        rc = gemini_fail(aerr, WB_EPARSE, 1, "the model's answer has no examples");
        goto out;
    }
    /* Commit: only now is e changed, so a failed parse leaves it as it was. */
    if (wb_str_set(&e->description, field(card, "description")) ||
        wb_str_set(&e->image_description, nonblank(field(card, "image_description"))
                                              ? field(card, "image_description")
                                              : NULL) ||
        wb_str_set(&e->reading, nonblank(field(card, "reading")) ? field(card, "reading") : NULL)) {
        rc = gemini_fail(aerr, WB_ENOMEM, 0, "out of memory");
        goto out;
    }
    if ((!e->language || !*e->language) && nonblank(field(card, "language_code")) &&
        wb_str_set(&e->language, field(card, "language_code"))) {
        rc = gemini_fail(aerr, WB_ENOMEM, 0, "out of memory");
        goto out;
    }
    wb_entry_clear_examples(e);
    json_array_foreach(ex, i, x)
    {
        const char *t = example_text(x), *tr = field(x, "translation");
        if (!nonblank(t) || i >= MAX_EXAMPLES)
            continue;
        if (wb_entry_add_example(e, t, nonblank(tr) ? tr : NULL)) {
            rc = gemini_fail(aerr, WB_ENOMEM, 0, "out of memory");
            goto out;
        }
    }
out:
    json_decref(card);
    json_decref(root);
    wb_buf_release(&text);
    return rc;
}
