/* Listing models for doctor: the paged GET /{version}/models request, its
 * parser, and a helper that names close alternatives when a configured model
 * id is missing (Google retires ids every few months).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "providers/gemini_internal.h"

int gemini_models_request(const struct gemini_opts *o, int page_size, const char *page_token,
                          struct core_http_request *out, struct wb_error *err)
{
    struct wb_buf q;
    int rc;

    wb_buf_init(&q, 4096);
    if (page_size <= 0 || page_size > 1000)
        page_size = 1000;
    rc = wb_buf_appendf(&q, "models?pageSize=%d", page_size);
    if (!rc && page_token && *page_token) {
        /* Percent-encode the token: it is opaque and may hold '+', '/', '='. */
        rc = wb_buf_appends(&q, "&pageToken=");
        for (const char *p = page_token; *p && !rc; p++) {
            unsigned char c = (unsigned char)*p;
            if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '_' || c == '.' || c == '~')
                rc = wb_buf_appendc(&q, (char)c);
            else
                rc = wb_buf_appendf(&q, "%%%02X", c);
        }
    }
    if (rc) {
        wb_buf_release(&q);
        return wb_error_set(err, WB_EINVAL, "page token too long");
    }
    rc = gemini_request_begin(o, "GET", NULL, q.data, WB_REQ_LIST, out, err);
    wb_buf_release(&q);
    return rc;
}

void gemini_ids_free(char **ids, size_t n)
{
    if (!ids)
        return;
    for (size_t i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
}

int gemini_models_parse(const char *body, size_t len, char ***ids, size_t *n,
                        char **next_page_token, struct core_api_error *aerr)
{
    json_t *root = NULL;
    const json_t *models, *m, *tok;
    char **v = NULL;
    size_t count = 0, i;
    int rc;

    *ids = NULL;
    *n = 0;
    if (next_page_token)
        *next_page_token = NULL;
    core_api_error_clear(aerr);
    rc = prov_load_json(body, len, WB_GEMINI_MAX_TEXT, &root, aerr);
    if (rc)
        goto out;
    if ((rc = gemini_inband_error(root, aerr)) != 0)
        goto out;
    models = json_object_get(root, "models");
    if (models && !json_is_array(models)) {
        rc = prov_fail(aerr, WB_EPARSE, 0, "\"models\" is not a list");
        goto out;
    }
    v = calloc(json_array_size(models) + 1, sizeof *v);
    if (!v) {
        rc = prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
        goto out;
    }
    json_array_foreach(models, i, m) {
        const json_t *name = json_object_get(m, "name");
        const char *s;
        if (!json_is_string(name))
            continue;
        s = json_string_value(name);
        if (!strncmp(s, "models/", 7))
            s += 7;
        if (!*s)
            continue;
        v[count] = strdup(s);
        if (!v[count]) {
            rc = prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
            goto out;
        }
        count++;
    }
    tok = json_object_get(root, "nextPageToken");
    if (next_page_token && json_is_string(tok) && json_string_length(tok) > 0) {
        *next_page_token = strdup(json_string_value(tok));
        if (!*next_page_token) {
            rc = prov_fail(aerr, WB_ENOMEM, 0, "out of memory");
            goto out;
        }
    }
out:
    if (rc) {
        gemini_ids_free(v, count);
    } else {
        *ids = v;
        *n = count;
    }
    json_decref(root);
    return rc;
}

int gemini_models_has(char *const *ids, size_t n, const char *id)
{
    if (!strncmp(id, "models/", 7))
        id += 7;
    for (size_t i = 0; i < n; i++) {
        if (!strcmp(ids[i], id))
            return 1;
    }
    return 0;
}

/* Levenshtein distance, capped inputs (model ids are short). */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), row[129];
    if (la > 128)
        la = 128;
    if (lb > 128)
        lb = 128;
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* The family of an id: its name tokens without versions, dates and release
 * words, "gemini-2.5-flash-preview-tts" -> "gemini-flash-tts". */
static void family(const char *id, char *out, size_t cap)
{
    size_t o = 0;
    out[0] = '\0';
    if (!strncmp(id, "models/", 7))
        id += 7;
    while (*id) {
        size_t n = strcspn(id, "-");
        int digits = 0;
        for (size_t i = 0; i < n; i++)
            digits |= isdigit((unsigned char)id[i]) != 0;
        if (n && !digits && !(n == 7 && !strncmp(id, "preview", 7)) &&
            !(n == 3 && !strncmp(id, "exp", 3)) && !(n == 6 && !strncmp(id, "latest", 6)) &&
            o + n + 2 < cap) {
            if (o)
                out[o++] = '-';
            memcpy(out + o, id, n);
            o += n;
            out[o] = '\0';
        }
        id += n;
        if (*id == '-')
            id++;
    }
}

size_t gemini_models_suggest(const char *missing, char *const *ids, size_t n, const char **out,
                             size_t max)
{
    char fam[256], f2[256];
    size_t count = 0, lim;
    size_t score[64];

    if (!missing || !max)
        return 0;
    if (!strncmp(missing, "models/", 7))
        missing += 7;
    if (max > 64)
        max = 64;
    lim = strlen(missing) / 3 > 3 ? strlen(missing) / 3 : 3;
    family(missing, fam, sizeof fam);
    for (size_t i = 0; i < n; i++) {
        size_t d = edit_distance(missing, ids[i]), s, k;
        family(ids[i], f2, sizeof f2);
        if (fam[0] && !strcmp(fam, f2))
            s = d; /* same family: always a candidate, ranked by distance */
        else if (d <= lim)
            s = 1000 + d;
        else
            continue;
        /* Insert in order of score, keeping the best max. */
        for (k = count; k > 0 && score[k - 1] > s; k--) {
            if (k < max) {
                score[k] = score[k - 1];
                out[k] = out[k - 1];
            }
        }
        if (k < max) {
            score[k] = s;
            out[k] = ids[i];
            if (count < max)
                count++;
        }
    }
    return count;
}
