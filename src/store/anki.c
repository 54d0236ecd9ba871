/* The Anki collection writer: a throwaway SQLite file in Anki's legacy
 * schema (version 11, what Anki reads from collection.anki2 in an .apkg),
 * filled with one col row, notes and their new cards (one a template). No journal and
 * no fsync: the file is zipped and deleted straight away, and the .apkg is
 * what gets written safely.
 */
#include <stdlib.h>
#include <string.h>

#include "store/anki.h"
#include "store/store_internal.h"

static const char anki_schema[] =
    "CREATE TABLE col (id integer primary key, crt integer not null, mod integer not null,"
    " scm integer not null, ver integer not null, dty integer not null, usn integer not null,"
    " ls integer not null, conf text not null, models text not null, decks text not null,"
    " dconf text not null, tags text not null);"
    "CREATE TABLE notes (id integer primary key, guid text not null, mid integer not null,"
    " mod integer not null, usn integer not null, tags text not null, flds text not null,"
    " sfld integer not null, csum integer not null, flags integer not null,"
    " data text not null);"
    "CREATE TABLE cards (id integer primary key, nid integer not null, did integer not null,"
    " ord integer not null, mod integer not null, usn integer not null, type integer not null,"
    " queue integer not null, due integer not null, ivl integer not null,"
    " factor integer not null, reps integer not null, lapses integer not null,"
    " left integer not null, odue integer not null, odid integer not null,"
    " flags integer not null, data text not null);"
    "CREATE TABLE revlog (id integer primary key, cid integer not null, usn integer not null,"
    " ease integer not null, ivl integer not null, lastIvl integer not null,"
    " factor integer not null, time integer not null, type integer not null);"
    "CREATE TABLE graves (usn integer not null, oid integer not null, type integer not null);"
    "CREATE INDEX ix_notes_usn on notes (usn);"
    "CREATE INDEX ix_cards_usn on cards (usn);"
    "CREATE INDEX ix_revlog_usn on revlog (usn);"
    "CREATE INDEX ix_cards_nid on cards (nid);"
    "CREATE INDEX ix_cards_sched on cards (did, queue, due);"
    "CREATE INDEX ix_revlog_cid on revlog (cid);"
    "CREATE INDEX ix_notes_csum on notes (csum);";

struct store_anki {
    struct wb_store st; /* for store_fail's messages */
    sqlite3_stmt *note, *card;
};

static int fail(struct store_anki *a, int rc, const char *what, struct wb_error *err)
{
    return store_fail(&a->st, rc, what, err);
}

int store_anki_create(const char *path, const struct store_anki_col *col, struct store_anki **out,
                      struct wb_error *err)
{
    struct store_anki *a = calloc(1, sizeof *a);
    sqlite3_stmt *s = NULL;
    int rc;
    *out = NULL;
    if (!a || !(a->st.path = strdup(path))) {
        free(a);
        return wb_error_set(err, WB_ENOMEM, "%s: out of memory", path);
    }
    rc = sqlite3_open_v2(path, &a->st.db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK ||
        (rc = sqlite3_exec(a->st.db,
                           "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
                           "BEGIN",
                           NULL, NULL, NULL)) != SQLITE_OK ||
        (rc = sqlite3_exec(a->st.db, anki_schema, NULL, NULL, NULL)) != SQLITE_OK) {
        rc = fail(a, rc, "creating the Anki collection", err);
        goto out;
    }
    rc = sqlite3_prepare_v2(a->st.db,
                            "INSERT INTO col VALUES (1, ?1, ?2, ?2, 11, 0, 0, 0, ?3, ?4, ?5, ?6, "
                            "'{}')",
                            -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, col->crt);
        sqlite3_bind_int64(s, 2, col->mod_ms);
        sqlite3_bind_text(s, 3, col->conf, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, col->models, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 5, col->decks, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 6, col->dconf, -1, SQLITE_STATIC);
        rc = sqlite3_step(s) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(a->st.db);
    }
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(a->st.db,
                                "INSERT INTO notes VALUES (?1, ?2, ?3, ?4, -1, ?5, ?6, ?7, 0, 0, "
                                "'')",
                                -1, &a->note, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_prepare_v2(a->st.db,
                                "INSERT INTO cards VALUES (?1, ?2, ?3, ?6, ?4, -1, 0, 0, ?5, 0, 0, "
                                "0, 0, 0, 0, 0, 0, '')",
                                -1, &a->card, NULL);
    if (rc != SQLITE_OK) {
        rc = fail(a, rc, "writing the Anki collection", err);
        goto out;
    }
    *out = a;
    a = NULL;
    rc = 0;
out:
    sqlite3_finalize(s);
    store_anki_free(a);
    return rc;
}

int store_anki_add(struct store_anki *a, const struct store_anki_note *n, struct wb_error *err)
{
    int rc;
    sqlite3_reset(a->note);
    sqlite3_bind_int64(a->note, 1, n->id);
    sqlite3_bind_text(a->note, 2, n->guid, -1, SQLITE_STATIC);
    sqlite3_bind_int64(a->note, 3, n->model_id);
    sqlite3_bind_int64(a->note, 4, n->mod_s);
    sqlite3_bind_text(a->note, 5, n->tags ? n->tags : "", -1, SQLITE_STATIC);
    sqlite3_bind_text(a->note, 6, n->fields, -1, SQLITE_STATIC);
    sqlite3_bind_text(a->note, 7, n->sort_field, -1, SQLITE_STATIC);
    if ((rc = sqlite3_step(a->note)) != SQLITE_DONE)
        return fail(a, rc, "writing an Anki note", err);
    for (int ord = 0; ord < (n->n_cards > 0 ? n->n_cards : 1); ord++) {
        sqlite3_reset(a->card);
        sqlite3_bind_int64(a->card, 1, n->card_id + ord);
        sqlite3_bind_int64(a->card, 2, n->id);
        sqlite3_bind_int64(a->card, 3, n->deck_id);
        sqlite3_bind_int64(a->card, 4, n->mod_s);
        sqlite3_bind_int64(a->card, 5, n->due);
        sqlite3_bind_int(a->card, 6, ord);
        if ((rc = sqlite3_step(a->card)) != SQLITE_DONE)
            return fail(a, rc, "writing an Anki card", err);
    }
    return 0;
}

int store_anki_finish(struct store_anki *a, struct wb_error *err)
{
    int rc = sqlite3_exec(a->st.db, "COMMIT", NULL, NULL, NULL);
    rc = rc == SQLITE_OK ? 0 : fail(a, rc, "committing the Anki collection", err);
    store_anki_free(a);
    return rc;
}

void store_anki_free(struct store_anki *a)
{
    if (!a)
        return;
    sqlite3_finalize(a->note);
    sqlite3_finalize(a->card);
    sqlite3_close(a->st.db);
    free(a->st.path);
    free(a);
}
