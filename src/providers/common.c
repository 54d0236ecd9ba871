/* Helpers shared by the Gemini and OpenAI providers (see common.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "providers/common.h"
#include "wordbank/log.h"

const struct prov_card_field prov_card_fields[PROV_CARD_N_FIELDS] = {
    { "word", "The word exactly as given." },
    { "translation", "The translation exactly as given." },
    { "language_code", "BCP 47 language code of the word." },
    { "reading", "Kana reading for Japanese; empty otherwise." },
    { "description", "The meaning in this sense." },
    { "examples", "Two or three natural example sentences." },
    { "image_description", "A concrete, memorable scene; content only, no style words." },
};

const struct prov_card_field prov_example_fields[PROV_EXAMPLE_N_FIELDS] = {
    { "text", "The example sentence in the word's language." },
    { "translation", "Its translation." },
};

int prov_printable(const char *v)
{
    for (; *v; v++) {
        if ((unsigned char)*v < 0x20 || *v == 0x7f)
            return 0;
    }
    return 1;
}

int prov_fail(struct core_api_error *aerr, int code, int retryable, const char *fmt, ...)
{
    va_list ap;
    aerr->code = code;
    aerr->retryable = retryable;
    va_start(ap, fmt);
    vsnprintf(aerr->message, sizeof aerr->message, fmt, ap);
    va_end(ap);
    wb_secret_redact(aerr->message, sizeof aerr->message);
    return code;
}

int prov_load_json(const char *body, size_t len, size_t cap, json_t **root,
                   struct core_api_error *aerr)
{
    json_error_t jerr;
    *root = NULL;
    if (len > cap)
        return prov_fail(aerr, WB_ETOOBIG, 0, "response of %zu bytes exceeds the %zu-byte cap", len,
                         cap);
    if (!body || len == 0)
        return prov_fail(aerr, WB_EPARSE, 1, "empty response body");
    *root = json_loadb(body, len, 0, &jerr);
    if (!*root)
        return prov_fail(aerr, WB_EPARSE, 1, "response is not JSON: %s (at byte %d)", jerr.text,
                         jerr.position);
    if (!json_is_object(*root)) {
        json_decref(*root);
        *root = NULL;
        return prov_fail(aerr, WB_EPARSE, 1, "response is not a JSON object");
    }
    return 0;
}

int prov_set_body(struct core_http_request *out, json_t *root, struct wb_error *err)
{
    char *s = root ? json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    if (!s) {
        core_http_request_release(out);
        return wb_error_set(err, WB_ENOMEM, "cannot serialise the request body");
    }
    out->body = s;
    out->body_len = strlen(s);
    return 0;
}

/* The JSON object in a model's text: tolerates a leading <think>...</think>
 * block (local reasoning models) and a Markdown code fence. */
static json_t *load_card(const char *s, size_t n)
{
    const char *end;
    while (n > 0 && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    if (n >= 7 && !strncmp(s, "<think>", 7)) {
        for (end = s + 7; end + 8 <= s + n; end++) {
            if (!strncmp(end, "</think>", 8))
                break;
        }
        if (end + 8 <= s + n) {
            n -= (size_t)(end + 8 - s);
            s = end + 8;
        }
        while (n > 0 && isspace((unsigned char)*s)) {
            s++;
            n--;
        }
    }
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    if (n >= 6 && !strncmp(s, "```", 3) && !strncmp(s + n - 3, "```", 3)) {
        const char *nl = memchr(s, '\n', n);
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

/* An example's sentence: {"text": ...}, or a plain string (the older shape). */
static const char *example_text(const json_t *x)
{
    if (json_is_string(x))
        return json_string_value(x);
    return json_is_object(x) ? field(x, "text") : NULL;
}

static size_t usable_examples(const json_t *ex)
{
    size_t i, n = 0;
    const json_t *x;
    json_array_foreach(ex, i, x) {
        if (i < PROV_MAX_EXAMPLES && nonblank(example_text(x)))
            n++;
    }
    return n;
}

static const char *nonblank_field(const json_t *card, const char *name)
{
    const char *v = field(card, name);
    return nonblank(v) ? v : NULL;
}

static void prov_swap_str(char **a, char **b)
{
    char *t = *a;
    *a = *b;
    *b = t;
}

int prov_card_apply(const char *text, size_t len, struct wb_entry *e, struct core_api_error *aerr)
{
    json_t *card = load_card(text, len);
    const json_t *ex, *x;
    struct wb_entry got;
    size_t i;
    int rc = 0;
    wb_entry_init(&got);
    if (!json_is_object(card)) {
        rc = prov_fail(aerr, WB_EPARSE, 1, "the model's answer is not a JSON object (%zu bytes)",
                       len);
        goto out;
    }
    if (!nonblank(field(card, "description"))) {
        rc = prov_fail(aerr, WB_EPARSE, 1, "the model's answer has no description");
        goto out;
    }
    ex = json_object_get(card, "examples");
    if (!usable_examples(ex)) {
        rc = prov_fail(aerr, WB_EPARSE, 1, "the model's answer has no usable example");
        goto out;
    }
    /* Copy everything first, then commit: only then is e changed, so a failed
     * parse (running out of memory too) leaves it as it was. */
    if (core_str_set(&got.description, field(card, "description")) ||
        core_str_set(&got.image_description, nonblank_field(card, "image_description")) ||
        core_str_set(&got.reading, nonblank_field(card, "reading")) ||
        ((!e->language || !*e->language) && nonblank_field(card, "language_code") &&
         core_str_set(&got.language, field(card, "language_code")))) {
        rc = prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
        goto out;
    }
    json_array_foreach(ex, i, x) {
        const char *t = example_text(x), *tr = json_is_object(x) ? field(x, "translation") : NULL;
        if (!nonblank(t) || i >= PROV_MAX_EXAMPLES)
            continue;
        if (wb_entry_add_example(&got, t, nonblank(tr) ? tr : NULL)) {
            rc = prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
            goto out;
        }
    }
    prov_swap_str(&e->description, &got.description);
    prov_swap_str(&e->image_description, &got.image_description);
    prov_swap_str(&e->reading, &got.reading);
    if (got.language)
        prov_swap_str(&e->language, &got.language);
    wb_entry_clear_examples(e);
    e->examples = got.examples;
    e->n_examples = got.n_examples;
    got.examples = NULL;
    got.n_examples = 0;
out:
    wb_entry_release(&got); /* what e had, or the copies of a failed parse */
    json_decref(card);
    return rc;
}

/* ---- the card's response schema, in either dialect ---- */

/* {"type": T, "description": D} (D may be NULL). */
static json_t *schema_of(const struct prov_schema_dialect *d, const char *type,
                         const char *description)
{
    json_t *o = json_pack("{s:s}", "type", type);
    (void)d;
    if (o && description)
        json_object_set_new(o, "description", json_string(description));
    return o;
}

/* An object schema with properties in the given order, all required (and,
 * by dialect, their order spelled out or nothing else allowed). */
static json_t *object_schema(const struct prov_schema_dialect *d, const char *const *names,
                             json_t **props, size_t n)
{
    json_t *o = json_pack("{s:s}", "type", d->object);
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
    if (d->property_ordering)
        json_object_set_new(o, "propertyOrdering", ord);
    else
        json_decref(ord);
    if (d->closed)
        json_object_set_new(o, "additionalProperties", json_false());
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

json_t *prov_card_schema(const struct prov_schema_dialect *d)
{
    const char *ex_names[PROV_EXAMPLE_N_FIELDS], *names[PROV_CARD_N_FIELDS];
    json_t *ex_props[PROV_EXAMPLE_N_FIELDS], *props[PROV_CARD_N_FIELDS], *examples;

    for (size_t i = 0; i < PROV_EXAMPLE_N_FIELDS; i++) {
        ex_names[i] = prov_example_fields[i].name;
        ex_props[i] = schema_of(d, d->string, prov_example_fields[i].description);
    }
    examples = schema_of(d, d->array, prov_card_fields[PROV_CARD_EXAMPLES].description);
    if (examples) {
        json_t *items = object_schema(d, ex_names, ex_props, PROV_EXAMPLE_N_FIELDS);
        if (!items || json_object_set_new(examples, "items", items)) {
            json_decref(examples);
            examples = NULL;
        } else if (d->max_items > 0) {
            json_object_set_new(examples, "minItems", json_integer(d->min_items));
            json_object_set_new(examples, "maxItems", json_integer(d->max_items));
        }
    } else {
        for (size_t i = 0; i < PROV_EXAMPLE_N_FIELDS; i++)
            json_decref(ex_props[i]);
    }
    for (size_t i = 0; i < PROV_CARD_N_FIELDS; i++) {
        names[i] = prov_card_fields[i].name;
        props[i] = i == PROV_CARD_EXAMPLES
                       ? examples
                       : schema_of(d, d->string, prov_card_fields[i].description);
    }
    return object_schema(d, names, props, PROV_CARD_N_FIELDS);
}

/* A readable excerpt of a body that is not a JSON error. */
void prov_body_excerpt(long status, const char *body, size_t len, struct core_api_error *out)
{
    char text[201];
    size_t n = 0;
    const char *t = body;
    if (len > 0 && body[0] == '<') {
        /* An HTML error page from a proxy: its <title> says enough. */
        const char *e = body + len;
        t = NULL;
        for (const char *p = body; p + 7 <= e; p++) {
            if (!strncasecmp(p, "<title>", 7)) {
                t = p + 7;
                break;
            }
        }
        if (t) {
            while (t + n < e && t[n] != '<' && n < sizeof text - 1)
                n++;
        }
    } else {
        n = len < sizeof text - 1 ? len : sizeof text - 1;
    }
    for (size_t i = 0; i < n; i++)
        text[i] = ((unsigned char)t[i] < 0x20 || t[i] == 0x7f) ? ' ' : t[i];
    text[n] = '\0';
    while (n > 0 && text[n - 1] == ' ')
        text[--n] = '\0';
    snprintf(out->message, sizeof out->message, "HTTP %ld%s%s", status, n ? ": " : "", text);
    wb_secret_redact(out->message, sizeof out->message);
}
