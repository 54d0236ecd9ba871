/* Internal to src/export: JSON value helpers shared by the importer and the
 * exporters, and the atomic output file. The only header that includes
 * jansson.h on the export side.
 */
#ifndef WB_EXPORT_INTERNAL_H
#define WB_EXPORT_INTERNAL_H

#include <jansson.h>
#include <stdio.h>

#include "core/util.h"
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
/* ---- the Anki note (anki_note.c), shared by the .apkg and AnkiConnect ---- */
enum {
    ANKI_KEY = 0, /* "wb-" + 24 hex of a hash of the entry's key: stable, first */
    ANKI_WORD,
    ANKI_READING,
    ANKI_PITCH, /* the reading with the pitch accent drawn, "[1]" */
    ANKI_TRANSLATION,
    ANKI_CONTEXT,
    ANKI_DESCRIPTION,
    ANKI_EXAMPLES,
    ANKI_PICTURE, /* <img src="name"> */
    ANKI_AUDIO,   /* [sound:name] */
    ANKI_NFIELDS
};
#define ANKI_NTEMPLATES 2
#define ANKI_KEY_MAX    32
#define ANKI_MODEL_NAME "wordbank two-way"
#define ANKI_MODEL_ID   1718204800200LL /* stable: re-imports reuse the note type */
struct anki_template {
    const char *name, *qfmt, *afmt;
};
extern const char *const anki_field_names[ANKI_NFIELDS];
extern const struct anki_template anki_templates[ANKI_NTEMPLATES];
extern const char anki_css[];
/* HTML-escape s for a field (newline -> <br>, 0x1f -> space). */
int anki_html(struct wb_buf *b, const char *s);
void anki_note_key(const struct wb_entry *e, char out[ANKI_KEY_MAX]);
/* A stable deck id from its full name ("Japanese::Lesson 1"). */
int64_t anki_deck_id(const char *name);
/* Fill the fields (each reset first) for e with the media names Anki knows
 * the picture and the audio by (either may be NULL). */
int anki_note_fields(const struct wb_entry *e, const char *image, const char *audio,
                     struct wb_buf f[ANKI_NFIELDS]);
/* The flat name a media file gets in Anki ("ab/cd.mp3" -> "ab_cd.mp3"). */
char *anki_media_name(const char *file);

/* An output file written beside the target and renamed over it on commit. */
struct export_out {
    FILE *f;               /* stdout, or a stream over at's temp file */
    const char *path;      /* the target, for messages */
    struct core_atomic at; /* unused for stdout */
};
int export_out_open(struct export_out *o, const char *path, struct wb_error *err);
int export_out_write(struct export_out *o, const void *p, size_t n, struct wb_error *err);
/* Flush, fsync, close and rename into place (stdout: flush). */
int export_out_commit(struct export_out *o, struct wb_error *err);
/* Close and delete the temporary file; the target is untouched. */
void export_out_abort(struct export_out *o);

#endif
