/* Moving word banks in and out: the original wordbank.jsonl format (import
 * and export), CSV, and the JSON shape `list --json` / `show --json` print.
 *
 * The original format is one JSON object a line:
 *   {"word": "猫", "en_translation": "cat", "language_code": "ja",
 *    "examples": ["…", "…"], "description": "…", "image_description": "…",
 *    "image_file": "cat.png" or null, "audio_file": "cat.mp3" (optional)}
 *
 * Files are written to a temporary file beside the target and renamed over it
 * only when complete, so a failed export never leaves half a file.
 */
#ifndef WORDBANK_EXPORT_H
#define WORDBANK_EXPORT_H

#include <stddef.h>
#include <stdio.h>

#include "wordbank/buf.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"
#include "wordbank/store.h"

/* The longest line an import accepts; a longer one is a failed line. */
#define WB_IMPORT_MAX_LINE (1024 * 1024)

struct wb_import_opts {
    const char *default_language; /* when a line has no language_code; NULL: "ja" */
    size_t batch;                 /* lines per transaction; 0: 1000 */
    /* Called with every diagnostic as it happens ("FILE:LINE: reason", and the
     * one unknown-keys warning "FILE: warning: ..."); may be NULL. */
    void (*on_diag)(void *ud, int is_warning, const char *msg);
    void *ud;
};

struct wb_import_report {
    size_t lines;    /* lines read, blank ones included */
    size_t imported; /* new entries */
    size_t updated;  /* entries that already existed (re-import) */
    size_t failed;   /* malformed lines, skipped; the CLI exits 1 when non-zero */
    size_t warnings; /* at most 1: unknown keys, named once per import */
    struct wb_buf diags; /* every diagnostic, one a line (capped at 64 KiB) */
    size_t diags_dropped; /* diagnostics past the cap (still passed to on_diag) */
};

void wb_import_report_init(struct wb_import_report *r);
void wb_import_report_release(struct wb_import_report *r);

/* Import an original-format JSONL file (path "-" reads stdin) into st,
 * streaming line by line. A malformed line (bad JSON, missing word or
 * en_translation, wrong types, too long) is reported as "FILE:LINE: reason"
 * and skipped; nothing of it is written; the other lines still import.
 * Re-importing updates entries in place (the key is word, en_translation,
 * language_code). Fields a line lacks keep their stored values.
 * Stages: details done (provider "import") when description or examples are
 * given; image/audio done with the file when image_file/audio_file is a
 * non-empty string; otherwise as stored (missing for a new entry).
 * Returns 0 when the file was read to the end (check rep->failed), or a
 * negative code when it could not be (unreadable file, store error: the
 * current batch is rolled back, earlier batches stay). */
int wb_import_jsonl(struct wb_store *st, const char *path, const struct wb_import_opts *o,
                    struct wb_import_report *rep, struct wb_error *err);
/* The same from an open stream; name is used in diagnostics. */
int wb_import_jsonl_stream(struct wb_store *st, FILE *in, const char *name,
                           const struct wb_import_opts *o, struct wb_import_report *rep,
                           struct wb_error *err);

/* Export matching entries (q NULL: all) in insertion order, atomically
 * (path "-" writes stdout). JSONL: the original format above (examples as
 * plain strings; image_file null without an image; audio_file only when
 * there is audio). CSV: RFC 4180 with CRLF and a header row: word,
 * translation, language, reading, context, description, examples (joined by
 * newlines), image_description, image_file, audio_file. A cell that begins
 * with =, +, -, @, a tab or a CR gets a leading ' so that spreadsheets show it
 * instead of running it as a formula. */
int wb_export_jsonl(struct wb_store *st, const char *path, const struct wb_store_query *q,
                    struct wb_error *err);
int wb_export_csv(struct wb_store *st, const char *path, const struct wb_store_query *q,
                  struct wb_error *err);

/* Export every entry as an Anki deck (.apkg) at path (not stdout), named
 * after the file ("Lesson 3.apkg" -> deck "Lesson 3"). One note an entry of a
 * basic "wordbank" note type: Front = word and its audio, Back = reading,
 * translation, description, examples and picture. Media files are read from
 * media_dir (stage files are relative to it); a missing or empty one is left
 * out with a warning in the log. Notes get a guid from the entry's key, so
 * importing a newer deck into Anki updates the notes. Written to a temporary
 * file and renamed into place. */
int wb_export_apkg(struct wb_store *st, const char *media_dir, const char *path,
                   struct wb_error *err);

/* Append one original-format line (with its "\n") for e to out. */
int wb_entry_to_jsonl(const struct wb_entry *e, struct wb_buf *out);
/* Append the `--json` object for e (no newline) to out:
 *   {"word", "translation", "language", "context", "reading", "description",
 *    "examples": [{"text", "translation"}], "image_description",
 *    "stages": {"details": {"state", "error", "model"},
 *               "image": {"state", "error", "file"},
 *               "audio": {"state", "error", "file"}}}
 * Unknown strings are null. A media file is prefixed with file_prefix (e.g.
 * "media", the media dir relative to the database's folder) unless it is
 * absolute or file_prefix is NULL. Invalid UTF-8 is replaced by U+FFFD. */
int wb_entry_to_json(const struct wb_entry *e, const char *file_prefix, struct wb_buf *out);

/* Append s as a JSON string literal (quotes and escapes; invalid UTF-8
 * replaced) to out, for callers that write small JSON documents by hand. */
int wb_json_quote(const char *s, struct wb_buf *out);

#endif
