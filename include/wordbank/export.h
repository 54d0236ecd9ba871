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

#include "wordbank/api.h"
#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"
#include "wordbank/store.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The longest line an import accepts; a longer one is a failed line. */
#define WB_IMPORT_MAX_LINE (1024 * 1024)

/* Options of an import. size: sizeof(struct wb_import_opts) as the caller
 * knows it (wb_import_opts_init sets it); see wordbank/api.h. */
struct wb_import_opts {
    size_t size;
    const char *default_language; /* when a line has no language_code; NULL: "ja" */
    size_t batch;                 /* lines per transaction; 0: 1000 */
    /* Called with every diagnostic as it happens ("FILE:LINE: reason", and the
     * one unknown-keys warning "FILE: warning: ..."); may be NULL. */
    void (*on_diag)(void *ud, int is_warning, const char *msg);
    void *ud;
    /* The media store the pictures and clips are copied into; NULL: media is
     * not imported (image/audio stages keep their stored state). */
    const char *media_dir;
    /* The original's content/ folder (holding images/wordbank/<h>.jpg and
     * audio/wordbank/<h>.aac); NULL: the JSONL folder's sibling "content"
     * and "./content". */
    const char *media_from;
};

/* What an import did. size: set by wb_import_report_init (the library
 * fills only as much as the caller's struct holds). */
struct wb_import_report {
    size_t size;
    size_t lines;         /* lines read, blank ones included */
    size_t imported;      /* new entries */
    size_t updated;       /* entries that already existed (re-import) */
    size_t failed;        /* malformed lines, skipped; the CLI exits 1 when non-zero */
    size_t warnings;      /* unknown keys (named once per import), media files not found */
    size_t media_copied;  /* pictures and clips brought into the media store */
    size_t media_refused; /* media paths or files refused (unsafe path, not media, too big) */
    size_t media_missing; /* stages left missing because no file was found */
    struct wb_buf diags;  /* every diagnostic, one a line (capped at 64 KiB) */
    size_t diags_dropped; /* diagnostics past the cap (still passed to on_diag) */
};

/* Set o->size and zero every option (NULL options to wb_import_jsonl mean
 * the same). */
WB_API void wb_import_opts_init(struct wb_import_opts *o);
/* Set r->size, zero the counts and make the diagnostics buffer. */
WB_API void wb_import_report_init(struct wb_import_report *r);
WB_API void wb_import_report_release(struct wb_import_report *r);

/* Import an original-format JSONL file (path "-" reads stdin) into st,
 * streaming line by line. A malformed line (bad JSON, missing word or
 * en_translation, wrong types, too long) is reported as "FILE:LINE: reason"
 * and skipped; nothing of it is written; the other lines still import.
 * Re-importing updates entries in place (the key is word, en_translation,
 * language_code). Fields a line lacks keep their stored values.
 * Stages: details done (provider "import") when description or examples are
 * given. Media (when o->media_dir is set): image_file/audio_file, relative to
 * the JSONL file's folder, or else the original's name
 * md5(word ":" en_translation)[:12] as images/wordbank/<h>.jpg and
 * audio/wordbank/<h>.aac under o->media_from (or the default folders), for a
 * stage that is not done yet. A path that is absolute, climbs out of its
 * folder with "..", holds a NUL, or resolves (through a symbolic link)
 * outside its folder, and a file that is too big (WB_MEDIA_MAX_FILE) or not
 * complete media of the stage's kind, is refused with "FILE:LINE: reason"
 * (counted in media_refused; the line's text still imports). A file found
 * and valid is copied into the media store under its content hash and the
 * stage is done with it; one not found leaves the stage as it was (one
 * warning FILE:LINE for a named file, one summary warning for the rest).
 * Never a stage done with nothing behind it.
 * The keys wordbank's own export adds ("context", "reading",
 * "example_translations", "stages") are read back, so an export imports
 * losslessly.
 * Returns 0 when the file was read to the end (check rep->failed), or a
 * negative code when it could not be (unreadable file, store error: the
 * current batch is rolled back, earlier batches stay). */
WB_API int wb_import_jsonl(struct wb_store *st, const char *path, const struct wb_import_opts *o,
                           struct wb_import_report *rep, struct wb_error *err);
/* The same from an open stream; name is used in diagnostics; media paths are
 * relative to the current folder (and the default content folder is
 * "./content"). */
WB_API int wb_import_jsonl_stream(struct wb_store *st, FILE *in, const char *name,
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
WB_API int wb_export_jsonl(struct wb_store *st, const char *path, const struct wb_store_query *q,
                           struct wb_error *err);
/* The lossless JSONL export: entries in key order (word, translation,
 * language; byte order), one a line, the original's keys first and then
 * every field wordbank holds in a fixed order: "context", "reading",
 * "example_translations" (parallel to "examples", null where unknown) and
 * "stages" (each stage that is not missing: state, provider, model, voice,
 * error, tokens). Media are read from media_dir by validated store names
 * only (wb_media_read) and named relative to the output file's folder: in
 * place when media_dir is inside that folder, otherwise copied into a
 * "media" folder beside the file (path "-": relative to the current folder
 * when media_dir is inside it, else the bare store names; nothing copied). A stage whose file is
 * missing or invalid is written without a file (and logged). Deterministic: the same word bank
 * gives the same bytes. */
WB_API int wb_export_jsonl_full(struct wb_store *st, const char *media_dir, const char *path,
                                const struct wb_store_query *q, struct wb_error *err);
WB_API int wb_export_csv(struct wb_store *st, const char *path, const struct wb_store_query *q,
                         struct wb_error *err);

/* Export every entry as an Anki deck (.apkg) at path (not stdout), named
 * deck ("Japanese::Lesson 3" makes a subdeck, as in Anki; NULL: after the
 * file, "Lesson 3.apkg" -> "Lesson 3"). One note an entry of the note type
 * "wordbank two-way": fields Key (stable, from the entry's key), Word,
 * Reading, PitchAccent (the reading with its accent drawn, "[1]"),
 * Translation, Context, Description, Examples, Picture, Audio; two cards a
 * note: Recognition (word, picture, audio -> meaning) and Production
 * (meaning, picture -> word, reading, audio). Media files are read from
 * media_dir by validated store names only (wb_media_read: no path, no
 * symbolic link, valid bytes); any other, or a missing one, is left out with
 * a warning in the log. AAC clips go in as they are. The note type and deck ids and each note's
 * guid and id are stable, so importing a newer deck into Anki updates the
 * notes in place. Written to a temporary file and renamed into place.
 * -WB_EINVAL for a bad deck name or path. */
WB_API int wb_export_apkg_deck(struct wb_store *st, const char *media_dir, const char *path,
                               const char *deck, struct wb_error *err);
/* The same, the deck named after the file. */
WB_API int wb_export_apkg(struct wb_store *st, const char *media_dir, const char *path,
                          struct wb_error *err);

/* ---- AnkiConnect ---------------------------------------------------------
 *
 * Push every entry into a running Anki through the AnkiConnect add-on (API
 * version 6): the deck and the "wordbank two-way" note type are created when
 * missing (a note type of that name with other fields is -WB_ECONFIG), the
 * pictures and audio stored with storeMediaFile (the fields use the names it
 * returns), notes found by their Key field, changed ones updated, new ones
 * added; never a duplicate. Requests are batched through "multi".
 * Errors: -WB_ETRANSPORT when nothing answers at url (Anki not running),
 * -WB_EAUTH when AnkiConnect asks for an API key (or refuses key),
 * -WB_EUNSUPPORTED when url does not speak API version 6. */
/* size: sizeof(struct wb_anki_push_opts) as the caller knows it
 * (wb_anki_push_opts_init sets it); see wordbank/api.h. */
struct wb_anki_push_opts {
    size_t size;
    const char *url;       /* config anki_url: http://127.0.0.1:8765 */
    const char *key;       /* config anki_key, or NULL */
    const char *deck;      /* "Japanese::Lesson 1" */
    const char *media_dir; /* where the stage files are */
    long long timeout_ms;  /* each request, 0: 120 s */
};
/* size: set by the caller to sizeof(struct wb_anki_push_report) before the
 * call; the library fills only as much as it holds. */
struct wb_anki_push_report {
    size_t size;
    size_t added, updated, unchanged, failed, media;
    int deck_created, note_type_created;
};
/* Set o->size and zero every option. */
WB_API void wb_anki_push_opts_init(struct wb_anki_push_opts *o);
WB_API int wb_anki_push(struct wb_store *st, const struct wb_config *cfg,
                        const struct wb_anki_push_opts *o, struct wb_anki_push_report *rep,
                        struct wb_error *err);

/* Append one original-format line (with its "\n") for e to out. */
WB_API int wb_entry_to_jsonl(const struct wb_entry *e, struct wb_buf *out);
/* Append the `--json` object for e (no newline) to out:
 *   {"word", "translation", "language", "context", "reading", "pitch_accent" (only
 *    when known: [1]), "description",
 *    "examples": [{"text", "translation"}], "image_description",
 *    "stages": {"details": {"state", "error", "model"},
 *               "image": {"state", "error", "file"},
 *               "audio": {"state", "error", "file"}}}
 * Unknown strings are null. A media file is prefixed with file_prefix (e.g.
 * "media", the media dir relative to the database's folder) unless it is
 * absolute or file_prefix is NULL. Invalid UTF-8 is replaced by U+FFFD. */
WB_API int wb_entry_to_json(const struct wb_entry *e, const char *file_prefix, struct wb_buf *out);

/* Append s as a JSON string literal (quotes and escapes; invalid UTF-8
 * replaced) to out, for callers that write small JSON documents by hand. */
WB_API int wb_json_quote(const char *s, struct wb_buf *out);

#ifdef __cplusplus
}
#endif

#endif
