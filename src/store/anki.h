/* Writing a fresh Anki collection (the legacy "collection.anki2" SQLite file,
 * schema 11, that an .apkg carries). It lives in src/store because that is
 * where the project's SQL lives; src/export builds the JSON and the notes and
 * zips the result. Internal to the library, not part of the public API.
 */
#ifndef WB_STORE_ANKI_H
#define WB_STORE_ANKI_H

#include <stdint.h>

#include "wordbank/error.h"

struct store_anki;

/* The single row of the col table; the JSON texts are stored as given. */
struct store_anki_col {
    int64_t crt;        /* creation, seconds */
    int64_t mod_ms;     /* modification, milliseconds */
    const char *conf;   /* JSON */
    const char *models; /* JSON: the note types by id */
    const char *decks;  /* JSON: the decks by id */
    const char *dconf;  /* JSON: the deck options by id */
};

/* Create the collection at path (an empty or absent file). */
int store_anki_create(const char *path, const struct store_anki_col *col, struct store_anki **out,
                      struct wb_error *err);
/* One note (fields joined by 0x1f) and its cards: n_cards (at least 1) of
 * them, template ord k with id card_id + k. */
struct store_anki_note {
    int64_t id, card_id, model_id, deck_id, mod_s, due;
    int n_cards;
    const char *guid;
    const char *fields;     /* the note type's fields joined by 0x1f */
    const char *sort_field; /* the plain text the browser sorts by */
    const char *tags;       /* " tag1 tag2 " */
};
int store_anki_add(struct store_anki *a, const struct store_anki_note *n, struct wb_error *err);
/* Commit and close (a is freed either way). */
int store_anki_finish(struct store_anki *a, struct wb_error *err);
/* Close without committing. NULL is a no-op. */
void store_anki_free(struct store_anki *a);

#endif
