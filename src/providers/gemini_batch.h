/* Gemini Batch mode and the Files API: pure request builders and response
 * parsers, no I/O (the engine sends, the pipeline drives). Bodies follow the
 * official JS SDK (@google/genai 2.32, src/batches.ts, the converters and
 * src/cross/_cross_uploader.ts): create {"batch": {"inputConfig", "displayName"}},
 * each inline request {"request", "metadata": {"key"}}; JSONL lines
 * {"key", "request"}; the resumable upload's start and upload/finalize
 * commands; the responses file downloaded from
 * {base}/download/{ver}/files/{id}:download?alt=media.
 */
#ifndef WB_PROVIDERS_GEMINI_BATCH_H
#define WB_PROVIDERS_GEMINI_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/http.h"
#include "providers/gemini.h"
#include "wordbank/buf.h"
#include "wordbank/error.h"

/* One request of a job: its key and a GenerateContentRequest body (JSON text,
 * as built by the interactive request builders). */
struct gemini_batch_item {
    const char *key;
    const char *body;
    size_t body_len;
};

/* POST {base}/{ver}/models/{model}:batchGenerateContent. With file_name
 * ("files/...") the job reads that JSONL file, else the n items go inline. */
int gemini_batch_create_request(const struct gemini_opts *o, const char *model,
                                const char *display_name, const struct gemini_batch_item *items,
                                size_t n, const char *file_name, struct core_http_request *out,
                                struct wb_error *err);
/* The size of the inline create body for these items (to choose inline or file). */
size_t gemini_batch_inline_size(const struct gemini_batch_item *items, size_t n);
/* The JSONL input file: one {"key": ..., "request": {...}} per line. */
int gemini_batch_jsonl(const struct gemini_batch_item *items, size_t n, struct wb_buf *out,
                       struct wb_error *err);
/* GET {base}/{ver}/{name} (name "batches/..."). */
int gemini_batch_get_request(const struct gemini_opts *o, const char *name,
                             struct core_http_request *out, struct wb_error *err);
/* POST {base}/{ver}/{name}:cancel. */
int gemini_batch_cancel_request(const struct gemini_opts *o, const char *name,
                                struct core_http_request *out, struct wb_error *err);
/* GET {base}/{ver}/models/{model}. */
int gemini_model_get_request(const struct gemini_opts *o, const char *model,
                             struct core_http_request *out, struct wb_error *err);
/* 1 when the model's supportedGenerationMethods lists method, 0 when not,
 * or a negative code (aerr filled) for a body that does not parse. */
int gemini_model_supports(const char *body, size_t len, const char *method,
                          struct core_api_error *aerr);

/* One result of a job. */
struct gemini_batch_result {
    char *key;
    char *response; /* the GenerateContentResponse as JSON text, or NULL */
    size_t response_len;
    int error_code;      /* the per-request error's code (0: none) */
    char *error_message; /* its message, or NULL */
};

/* A job as the API reports it. state is lower case without the prefix
 * ("pending", "running", "succeeded", "failed", "cancelled", "expired",
 * "unspecified"); BATCH_STATE_* and JOB_STATE_* are both accepted. */
struct gemini_batch {
    char *name;
    char state[32];
    int done;
    int64_t requests, succeeded, failed, pending;
    char *responses_file;                /* file jobs: "files/..." */
    char *error_message;                 /* a failed job's error.message, if any */
    struct gemini_batch_result *results; /* inline jobs */
    size_t n_results;
};

void gemini_batch_init(struct gemini_batch *b);
void gemini_batch_release(struct gemini_batch *b);
/* Parse an operation (the create reply or GET batches/...). */
int gemini_batch_parse(const char *body, size_t len, struct gemini_batch *b,
                       struct core_api_error *aerr);
/* 1 for a state after which nothing changes. */
int gemini_batch_state_final(const char *state);
/* Parse a downloaded responses file (one {"key", "response"} or
 * {"key", "error"} per line, any order) into b->results (appended). */
int gemini_batch_parse_jsonl(const char *body, size_t len, struct gemini_batch *b,
                             struct core_api_error *aerr);

/* GET {base}/{ver}/batches?pageSize=N[&pageToken=T] (page_size <= 0: 100). */
int gemini_batch_list_request(const struct gemini_opts *o, int page_size, const char *page_token,
                              struct core_http_request *out, struct wb_error *err);
/* One job of a listing. */
struct gemini_batch_brief {
    char *name, *display_name;
    char state[32];
};
/* {"operations": [...], "nextPageToken"}: appended to *v (grown), *next (free
 * it) NULL on the last page. */
int gemini_batch_list_parse(const char *body, size_t len, struct gemini_batch_brief **v, size_t *n,
                            char **next, struct core_api_error *aerr);
void gemini_batch_briefs_free(struct gemini_batch_brief *v, size_t n);

/* ---- Files API ---- */

/* POST {base}/upload/{ver}/files, resumable start: the reply's
 * x-goog-upload-url header is where the bytes go. */
int gemini_upload_start_request(const struct gemini_opts *o, const char *display_name, size_t size,
                                const char *mime, struct core_http_request *out,
                                struct wb_error *err);
/* POST upload_url with bytes [offset, offset+len): "upload" for a middle
 * chunk, "upload, finalize" for the last (final != 0). */
int gemini_upload_chunk_request(const struct gemini_opts *o, const char *upload_url,
                                const void *data, size_t len, size_t offset, int final,
                                struct core_http_request *out, struct wb_error *err);
/* The final reply {"file": {"name": "files/..."}}: *name (free it). */
int gemini_file_parse(const char *body, size_t len, char **name, struct core_api_error *aerr);
/* GET {base}/download/{ver}/{file}:download?alt=media. */
int gemini_download_request(const struct gemini_opts *o, const char *file,
                            struct core_http_request *out, struct wb_error *err);

#endif
