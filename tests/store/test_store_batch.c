/* The batch job table (schema version 3): a job and its entries recorded in
 * one transaction, listed (uncollected only or all), renamed after the create
 * call answered (its entries follow), updated, removed with its entries. */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "wordbank/batch.h"

static struct wb_store *open_new(void)
{
    static char p[4096];
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    snprintf(p, sizeof p, "%s/batch.db", th_tmpdir());
    remove(p);
    CHECK_OK(wb_store_open(p, WB_STORE_CREATE, &st, &err), &err);
    return st;
}

TEST(jobs_and_keys)
{
    struct wb_store *st = open_new();
    struct wb_error err = { 0 };
    struct wb_batch_key keys[3] = { { "猫", "cat", "ja" },
                                    { "犬", "dog", "ja" },
                                    { "鳥", "bird", "ja" } };
    struct wb_batch_job job = { 0 }, *v = NULL;
    struct wb_batch_key *k = NULL;
    size_t n = 0, nk = 0;

    CHECK_INT(wb_store_schema_version(st), WB_STORE_SCHEMA_VERSION);
    job.name = "pending/wordbank-details-1";
    job.model = "gemini-3.8-flash";
    job.stage = WB_STAGE_DETAILS;
    job.state = "creating";
    CHECK_OK(wb_store_batch_add(st, &job, keys, 3, &err), &err);
    /* The same name twice is refused and changes nothing. */
    CHECK(wb_store_batch_add(st, &job, keys, 1, &err) < 0);

    CHECK_OK(
        wb_store_batch_rename(st, "pending/wordbank-details-1", "batches/abc", "running", &err),
        &err);
    CHECK_INT(wb_store_batch_rename(st, "pending/nope", "batches/x", "running", &err),
              WB_ENOTFOUND);
    CHECK_OK(wb_store_batch_keys(st, "batches/abc", &k, &nk, &err), &err);
    CHECK_INT(nk, 3);
    CHECK_STR(k[1].word, "犬");
    CHECK_STR(k[2].translation, "bird");
    wb_batch_keys_free(k, nk);
    CHECK_OK(wb_store_batch_keys(st, "pending/wordbank-details-1", &k, &nk, &err), &err);
    CHECK_INT(nk, 0);
    wb_batch_keys_free(k, nk);

    job.name = "batches/def";
    job.stage = WB_STAGE_IMAGE;
    job.state = "pending";
    job.input_file = "files/in1";
    CHECK_OK(wb_store_batch_add(st, &job, keys, 2, &err), &err);
    CHECK_OK(wb_store_batch_list(st, 1, &v, &n, &err), &err);
    CHECK_INT(n, 2);
    wb_batch_jobs_free(v, n);

    CHECK_OK(wb_store_batch_update(st, "batches/abc", "succeeded", 2, 1, 1, &err), &err);
    CHECK_INT(wb_store_batch_update(st, "batches/zzz", "failed", 0, 0, 1, &err), WB_ENOTFOUND);
    CHECK_OK(wb_store_batch_list(st, 1, &v, &n, &err), &err);
    CHECK_INT(n, 1);
    CHECK_STR(v[0].name, "batches/def");
    CHECK_INT(v[0].stage, WB_STAGE_IMAGE);
    CHECK_STR(v[0].input_file, "files/in1");
    CHECK_INT(v[0].requests, 2);
    wb_batch_jobs_free(v, n);
    CHECK_OK(wb_store_batch_list(st, 0, &v, &n, &err), &err);
    CHECK_INT(n, 2);
    {
        const struct wb_batch_job *a = !strcmp(v[0].name, "batches/abc") ? &v[0] : &v[1];
        CHECK_STR(a->state, "succeeded");
        CHECK_INT(a->collected, 1);
        CHECK_INT(a->succeeded, 2);
        CHECK_INT(a->failed, 1);
        CHECK(a->input_file == NULL);
    }
    wb_batch_jobs_free(v, n);

    CHECK_OK(wb_store_batch_remove(st, "batches/def", &err), &err);
    CHECK_OK(wb_store_batch_keys(st, "batches/def", &k, &nk, &err), &err);
    CHECK_INT(nk, 0);
    wb_batch_keys_free(k, nk);
    CHECK_OK(wb_store_batch_list(st, 0, &v, &n, &err), &err);
    CHECK_INT(n, 1);
    wb_batch_jobs_free(v, n);
    wb_store_close(st);
}
