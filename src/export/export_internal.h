/* Internal to src/export: JSON value helpers shared by the importer and the
 * exporters, and the atomic output file. The only header that includes
 * jansson.h on the export side.
 */
#ifndef WB_EXPORT_INTERNAL_H
#define WB_EXPORT_INTERNAL_H

#include <jansson.h>
#include <stdio.h>

#include "wordbank/export.h"

/* A JSON string for s (null when s is NULL); invalid UTF-8 becomes U+FFFD.
 * NULL only when out of memory. */
json_t *export_json_str(const char *s);
/* The stage's media file when the stage is done and has one, else NULL. */
const char *export_stage_file(const struct wb_entry *e, enum wb_stage s);
/* Serialise v (one line, ", " and ": " separators like Python's json.dumps)
 * and append it to out. */
int export_json_append(json_t *v, struct wb_buf *out);

/* One line of the lossless export (wb_export_jsonl_full) for e, with the
 * media files as they are to be named in it (NULL: none). */
int export_entry_full(const struct wb_entry *e, const char *const files[WB_STAGE_COUNT],
                      struct wb_buf *out);

/* An output file written beside the target and renamed over it on commit. */
struct export_out {
    FILE *f;
    char *path; /* the target */
    char *tmp;  /* NULL for stdout */
};
int export_out_open(struct export_out *o, const char *path, struct wb_error *err);
int export_out_write(struct export_out *o, const void *p, size_t n, struct wb_error *err);
/* Flush, fsync, close and rename into place (stdout: flush). */
int export_out_commit(struct export_out *o, struct wb_error *err);
/* Close and delete the temporary file; the target is untouched. */
void export_out_abort(struct export_out *o);

#endif
