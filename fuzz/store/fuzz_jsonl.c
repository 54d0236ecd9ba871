/* libFuzzer target for the JSONL importer: the input is a file of lines fed
 * to wb_import_jsonl_stream into a fresh in-memory store, twice (the second
 * pass takes the update path). Then the invariant: exporting what was
 * imported and importing that into another store gives the same number of
 * entries with no failed line, and every entry serialises to --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordbank/export.h"
#include "wordbank/store.h"

struct collect {
    struct wb_buf jsonl;
    size_t n;
};

static int collect_fn(void *ud, const struct wb_entry *e)
{
    struct collect *c = ud;
    struct wb_buf j;
    int rc;
    wb_buf_init(&j, 0);
    rc = wb_entry_to_json(e, "media", &j);
    wb_buf_release(&j);
    if (rc == 0)
        rc = wb_entry_to_jsonl(e, &c->jsonl);
    c->n++;
    return rc;
}

static int import_bytes(struct wb_store *st, const char *data, size_t size,
                        struct wb_import_report *rep)
{
    struct wb_import_opts o = { .size = sizeof o, .default_language = "ja", .batch = 7 };
    struct wb_error err = { 0 };
    FILE *f = fmemopen((void *)data, size, "r");
    int rc;
    if (!f)
        return -1;
    rc = wb_import_jsonl_stream(st, f, "fuzz", &o, rep, &err);
    fclose(f);
    return rc;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    struct wb_store *st = NULL, *st2 = NULL;
    struct wb_import_report rep, rep2;
    struct wb_error err = { 0 };
    struct collect c = { .n = 0 };
    size_t n = 0, n2 = 0;
    if (size == 0 || size > (1u << 20))
        return 0;
    wb_import_report_init(&rep);
    wb_import_report_init(&rep2);
    wb_buf_init(&c.jsonl, 0);
    if (wb_store_open(":memory:", WB_STORE_CREATE, &st, &err) != 0)
        abort();
    if (import_bytes(st, (const char *)data, size, &rep) != 0 ||
        import_bytes(st, (const char *)data, size, &rep2) != 0)
        abort(); /* a memory store and a memory file: nothing fatal may happen */
    if (rep.imported + rep.updated + rep.failed > rep.lines || rep.warnings > 1 ||
        rep2.imported != 0)
        abort();
    if (wb_store_count(st, NULL, &n, &err) != 0 || n != rep.imported)
        abort();
    if (wb_store_each(st, NULL, collect_fn, &c, &err) != 0 || c.n != n)
        abort();
    wb_import_report_release(&rep2);
    wb_import_report_init(&rep2);
    if (wb_store_open(":memory:", WB_STORE_CREATE, &st2, &err) != 0)
        abort();
    if (c.jsonl.len && import_bytes(st2, c.jsonl.data, c.jsonl.len, &rep2) != 0)
        abort();
    if (wb_store_count(st2, NULL, &n2, &err) != 0 || n2 != n || rep2.failed != 0)
        abort();
    wb_store_close(st2);
    wb_store_close(st);
    wb_buf_release(&c.jsonl);
    wb_import_report_release(&rep);
    wb_import_report_release(&rep2);
    return 0;
}
