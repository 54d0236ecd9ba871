/* Images: a Gemini image model through generateContent (responseModalities
 * IMAGE, imageConfig), or the legacy Imagen :predict shape behind image_api
 * "imagen" for endpoints that still serve it; and one parser for both answers.
 */
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "providers/gemini_internal.h"

int gemini_image_request(const struct gemini_opts *o, const char *prompt,
                         struct core_http_request *out, struct wb_error *err)
{
    const char *model = prov_opt(o->image_model, WB_GEMINI_DEFAULT_IMAGE_MODEL);
    const char *api = prov_opt(o->image_api, "gemini");
    const char *aspect = prov_opt(o->image_aspect, WB_GEMINI_DEFAULT_ASPECT);
    const char *size = prov_opt(o->image_resolution, WB_GEMINI_DEFAULT_RESOLUTION);
    json_t *root = NULL;
    int imagen = !strcmp(api, "imagen");
    int rc;

    if (!imagen && strcmp(api, "gemini") != 0)
        return wb_error_set(err, WB_ECONFIG,
                            "image_api must be \"gemini\" or \"imagen\", not \"%s\"", api);
    if (!prompt || !*prompt)
        return wb_error_set(err, WB_EINVAL, "image request without a prompt");
    rc = gemini_request_begin(o, "POST", model, imagen ? ":predict" : ":generateContent",
                              WB_REQ_IMAGE, out, err);
    if (rc)
        return rc;
    if (imagen) {
        /* As SDK 2.18 sent it (sdk-requests.jsonl #7); 1:1 is Imagen's default. */
        root = json_pack("{s:[{s:s}],s:{s:i}}", "instances", "prompt", prompt, "parameters",
                         "sampleCount", 1);
        if (root && strcmp(aspect, "1:1") != 0)
            json_object_set_new(json_object_get(root, "parameters"), "aspectRatio",
                                json_string(aspect));
    } else {
        root = json_pack("{s:[{s:[{s:s}],s:s}],s:{s:[s],s:{s:s,s:s}}}", "contents", "parts", "text",
                         prompt, "role", "user", "generationConfig", "responseModalities", "IMAGE",
                         "imageConfig", "aspectRatio", aspect, "imageSize", size);
    }
    rc = prov_set_body(out, root, err);
    json_decref(root);
    return rc;
}

static int decode_image(const json_t *data, const json_t *mimetype, struct wb_buf *image,
                        char *mime, size_t mime_len, struct core_api_error *aerr)
{
    int rc;
    if (!json_is_string(data) || json_string_length(data) == 0)
        return prov_fail(aerr, WB_EPARSE, 1, "image part without data");
    if (image->limit == 0 || image->limit > WB_GEMINI_MAX_MEDIA)
        image->limit = WB_GEMINI_MAX_MEDIA;
    wb_buf_reset(image);
    rc = core_base64_decode(json_string_value(data), json_string_length(data), image);
    if (rc == WB_ETOOBIG)
        return prov_fail(aerr, WB_ETOOBIG, 0, "image exceeds %zu bytes", image->limit);
    if (rc)
        return prov_fail(aerr, WB_EPARSE, 1, "image data is not base64");
    if (image->len == 0)
        return prov_fail(aerr, WB_EPARSE, 1, "image data is empty");
    if (mime && mime_len)
        snprintf(mime, mime_len, "%s",
                 json_is_string(mimetype) ? json_string_value(mimetype) : "image/png");
    return 0;
}

static int parse_imagen(const json_t *root, struct wb_buf *image, char *mime, size_t mime_len,
                        struct core_api_error *aerr)
{
    const json_t *preds = json_object_get(root, "predictions"), *p;
    const char *rai = NULL;
    size_t i;
    json_array_foreach(preds, i, p) {
        const json_t *b = json_object_get(p, "bytesBase64Encoded");
        const json_t *r = json_object_get(p, "raiFilteredReason");
        if (json_is_string(b))
            return decode_image(b, json_object_get(p, "mimeType"), image, mime, mime_len, aerr);
        if (json_is_string(r) && !rai)
            rai = json_string_value(r);
    }
    snprintf(aerr->status, sizeof aerr->status, "%s", "RAI_FILTERED");
    if (rai)
        return prov_fail(aerr, WB_EBLOCKED, 0, "image filtered: %s", rai);
    return prov_fail(aerr, WB_EBLOCKED, 0, "no image returned (all images were filtered)");
}

int gemini_image_parse(const char *body, size_t len, struct wb_buf *image_bytes, char *mime,
                       size_t mime_len, struct prov_usage *u, struct core_api_error *aerr)
{
    json_t *root = NULL, *cand = NULL;
    const json_t *parts, *p;
    struct wb_buf text;
    size_t i;
    int rc;

    core_api_error_clear(aerr);
    wb_buf_init(&text, 65536);
    if (u)
        memset(u, 0, sizeof *u);
    if (mime && mime_len)
        mime[0] = '\0';
    rc = prov_load_json(body, len, WB_GEMINI_MAX_EVENT, &root, aerr);
    if (rc)
        goto out;
    gemini_usage_parse(root, u);
    if ((rc = gemini_inband_error(root, aerr)) != 0)
        goto out;
    if (json_object_get(root, "predictions") ||
        (!json_object_get(root, "candidates") && !json_object_get(root, "promptFeedback"))) {
        rc = parse_imagen(root, image_bytes, mime, mime_len, aerr);
        goto out;
    }
    rc = gemini_candidate(root, 1, &cand, aerr);
    if (rc)
        goto out;
    parts = json_object_get(json_object_get(cand, "content"), "parts");
    /* Thinking image models may show draft images as thoughts: take the first
     * image that is part of the answer. */
    json_array_foreach(parts, i, p) {
        const json_t *inl = json_object_get(p, "inlineData");
        if (json_is_true(json_object_get(p, "thought")) || !json_is_object(inl))
            continue;
        rc = decode_image(json_object_get(inl, "data"), json_object_get(inl, "mimeType"),
                          image_bytes, mime, mime_len, aerr);
        goto out;
    }
    /* STOP with words but no picture: the model declined (or described instead). */
    gemini_candidate_text(cand, &text);
    snprintf(aerr->status, sizeof aerr->status, "%s", "NO_IMAGE");
    rc = prov_fail(aerr, WB_EBLOCKED, 0, "the image model answered without an image%s%.300s",
                   text.len ? ": " : "", text.data);
out:
    json_decref(root);
    wb_buf_release(&text);
    return rc;
}
