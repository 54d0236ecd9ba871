/* Word details through an OpenAI-compatible chat model: the chat/completions
 * request with a strict json_schema response_format (JSON Schema proper:
 * lower-case types, every object closed with additionalProperties false and
 * all properties required, as strict mode demands), and the parser that turns
 * the message content back into entry fields, keeping the input's word and
 * translation.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "providers/openai_internal.h"

static const char system_prompt[] =
    "You write accurate, natural content for language-learning flashcards. Answer with "
    "one JSON object that follows the given schema.";

/* The card's schema (JSON Schema, strict: closed objects). No
 * minItems/maxItems: older strict-mode models refuse them; the description
 * and the prompt ask for two or three. */
static json_t *details_schema(void)
{
    static const struct prov_schema_dialect openai = { "string", "array", "object", 0, 1, 0, 0 };
    return prov_card_schema(&openai);
}

int openai_details_request(const struct openai_opts *o, const struct wb_entry *e,
                           struct core_http_request *out, struct wb_error *err)
{
    const char *model = prov_opt(o->text_model, WB_OPENAI_DEFAULT_TEXT_MODEL);
    char *prompt = NULL;
    json_t *root = NULL, *schema = NULL;
    int rc;

    if (!e || !e->word || !*e->word)
        return wb_error_set(err, WB_EINVAL, "details request without a word");
    rc = openai_request_begin(o, "chat/completions", model, WB_REQ_TEXT, out, err);
    if (rc)
        return rc;
    prompt = prompt_details(e);
    schema = details_schema();
    if (prompt && schema)
        root = json_pack("{s:s,s:[{s:s,s:s},{s:s,s:s}],s:{s:s,s:{s:s,s:b,s:O}}}", "model", model,
                         "messages", "role", "system", "content", system_prompt, "role", "user",
                         "content", prompt, "response_format", "type", "json_schema", "json_schema",
                         "name", "flashcard", "strict", 1, "schema", schema);
    if (root && o->temperature >= 0)
        json_object_set_new(root, "temperature", json_real(o->temperature));
    rc = prov_set_body(out, root, err);
    free(prompt);
    json_decref(schema);
    json_decref(root);
    return rc;
}

/* message.content as text: a string, or an array of {type: "text", text} parts. */
static int content_text(const json_t *msg, struct wb_buf *out)
{
    const json_t *c = json_object_get(msg, "content"), *p;
    size_t i;
    int rc = 0;
    if (json_is_string(c))
        return wb_buf_append(out, json_string_value(c), json_string_length(c));
    json_array_foreach(c, i, p) {
        const json_t *t = json_object_get(p, "text");
        if (json_is_string(t) &&
            (rc = wb_buf_append(out, json_string_value(t), json_string_length(t))))
            break;
    }
    return rc;
}

/* choices[0] checked: refusal, finish_reason. Returns 0 with *msg set. */
static int first_choice(const json_t *root, const json_t **msg, struct core_api_error *aerr)
{
    const json_t *choices = json_object_get(root, "choices"), *c, *refusal, *fr;
    int rc;
    *msg = NULL;
    if ((rc = openai_inband_error(root, aerr)) != 0)
        return rc;
    if (!json_is_array(choices) || json_array_size(choices) == 0)
        return prov_fail(aerr, WB_EINCOMPLETE, 1, "response has no choices");
    c = json_array_get(choices, 0);
    if (!json_is_object(c))
        return prov_fail(aerr, WB_EPARSE, 1, "choice is not an object");
    *msg = json_object_get(c, "message");
    refusal = json_object_get(*msg, "refusal");
    fr = json_object_get(c, "finish_reason");
    if (json_is_string(refusal) && json_string_length(refusal) > 0) {
        snprintf(aerr->status, sizeof aerr->status, "refusal");
        return prov_fail(aerr, WB_EBLOCKED, 0, "the model refused: %s", json_string_value(refusal));
    }
    if (!json_is_string(fr))
        return prov_fail(aerr, WB_EINCOMPLETE, 1, "response has no finish_reason (incomplete)");
    snprintf(aerr->status, sizeof aerr->status, "%s", json_string_value(fr));
    if (!strcmp(json_string_value(fr), "stop")) {
        aerr->status[0] = '\0';
        if (!json_is_object(*msg))
            return prov_fail(aerr, WB_EPARSE, 1, "choice has no message");
        return 0;
    }
    if (!strcmp(json_string_value(fr), "content_filter"))
        return prov_fail(aerr, WB_EBLOCKED, 0,
                         "content_filter: the answer was withheld by the content filter");
    if (!strcmp(json_string_value(fr), "length"))
        /* We set no max_tokens: the model ran away; another sample usually ends. */
        return prov_fail(aerr, WB_EINCOMPLETE, 1,
                         "length: the answer was cut off at the model's output limit");
    return prov_fail(aerr, WB_EINCOMPLETE, 0, "finish_reason %.100s (expected stop)",
                     json_string_value(fr));
}

int openai_details_parse(const char *body, size_t len, struct wb_entry *e, struct prov_usage *u,
                         struct core_api_error *aerr)
{
    json_t *root = NULL;
    const json_t *msg;
    struct wb_buf text;
    int rc;

    core_api_error_clear(aerr);
    wb_buf_init(&text, WB_OPENAI_MAX_TEXT);
    if (u)
        memset(u, 0, sizeof *u);
    rc = prov_load_json(body, len, WB_OPENAI_MAX_TEXT, &root, aerr);
    if (rc)
        goto out;
    openai_usage_parse(root, u);
    if ((rc = first_choice(root, &msg, aerr)))
        goto out;
    if (content_text(msg, &text) != 0) {
        rc = prov_fail(aerr, WB_ETOOBIG, 0, "answer text exceeds %zu bytes", WB_OPENAI_MAX_TEXT);
        goto out;
    }
    rc = prov_card_apply(text.data, text.len, e, aerr);
out:
    json_decref(root);
    wb_buf_release(&text);
    return rc;
}
