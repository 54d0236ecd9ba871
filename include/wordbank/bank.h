/* The embedding API: a word bank as one handle, for programs that embed
 * wordbank (a site generator's plugin, an editor, a web service, a binding).
 *
 *   struct wb_config *cfg;
 *   struct wb_bank *bank;
 *   struct wb_entry e;
 *   wb_config_new(&cfg);
 *   wb_config_set(cfg, "provider", "offline", WB_SRC_FLAG);
 *   wb_bank_open("words.db", cfg, WB_STORE_CREATE, &bank, &err);
 *   wb_entry_init(&e);
 *   wb_bank_add(bank, "猫", "cat", NULL, NULL, &e, &err);   blocking
 *   puts(e.reading);                                         "ねこ"
 *   wb_entry_release(&e);
 *   wb_bank_close(bank);
 *   wb_config_free(cfg);
 *
 * A bank is a store (wordbank/store.h), the configuration it was opened with
 * and its media folder. Everything the lower-level headers offer works on it
 * through wb_bank_store() and wb_bank_media_dir(): many entries in one run
 * (wb_run_new .. wb_run_execute, wordbank/pipeline.h, blocking, with a
 * progress callback in struct wb_run_opts), walking the entries
 * (wb_store_each), exports (wordbank/export.h), Markdown pages and sites
 * (wordbank/content.h). A bank is used by one thread at a time.
 *
 * Every function returns 0 or a negative WB_E* code (wordbank/error.h) with
 * the human message in err (which may be NULL). The library never prints,
 * never exits and never reads the environment on its own: a program that
 * wants the command's settings calls wb_config_load_env/_file/_dotenv first.
 */
#ifndef WORDBANK_BANK_H
#define WORDBANK_BANK_H

#include <stddef.h>

#include "wordbank/api.h"
#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/content.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"
#include "wordbank/pipeline.h"
#include "wordbank/store.h"

#ifdef __cplusplus
extern "C" {
#endif

struct wb_bank;

/* Open the word bank at path (NULL: the setting "db", default "wordbank.db").
 * flags are wb_store_open's: WB_STORE_CREATE creates a missing database (and
 * its folder), WB_STORE_READONLY never writes. The media folder is the setting
 * "media", else "media" beside the database, as for the command.
 *
 * cfg is borrowed and must outlive the bank; NULL gives a private
 * configuration with the defaults only (offline provider: no key is looked
 * for). The bank is the caller's: release it with wb_bank_close().
 *
 * Errors: those of wb_store_open (-WB_ENOTFOUND without WB_STORE_CREATE,
 * -WB_ECORRUPT, -WB_EUNSUPPORTED, -WB_ELOCKED, -WB_EIO), -WB_ENOMEM. *out is
 * NULL on failure. */
WB_API int wb_bank_open(const char *path, const struct wb_config *cfg, unsigned flags,
                        struct wb_bank **out, struct wb_error *err);

/* Close the store and free the bank. NULL is a no-op. */
WB_API void wb_bank_close(struct wb_bank *bank);

/* The bank's store, configuration and media folder, borrowed: valid until
 * wb_bank_close(). Use them with the lower-level API (wb_run_new,
 * wb_store_each, wb_export_*, wb_media_read). */
WB_API struct wb_store *wb_bank_store(struct wb_bank *bank);
WB_API const struct wb_config *wb_bank_config(const struct wb_bank *bank);
WB_API const char *wb_bank_media_dir(const struct wb_bank *bank);

/* Add one entry (word, translation, context; context may be NULL) in the
 * configured language (setting "lang", default "ja") and generate whatever it
 * is missing -- details, then image and audio -- blocking until done. A stage
 * done before is not made again (unless opts->force names it). opts may be
 * NULL; its on_progress is called on the generating thread, about ten times
 * a second and once at the end. For many entries, one wb_run over the bank
 * (wordbank/pipeline.h) is faster: it keeps several requests in flight.
 *
 * out (may be NULL; initialised with wb_entry_init(), its old contents
 * released) receives the stored entry when the call returns 0 or
 * -WB_EINCOMPLETE, so a caller sees which stages failed and why
 * (out->stages[s].error). It is the caller's: wb_entry_release() it.
 *
 * Returns 0 when every stage wanted is done; -WB_EINCOMPLETE when one failed
 * (the first failure's message in err); -WB_EINVAL for an entry that breaks
 * the rules of wb_entry_check; the run's fatal errors (-WB_EAUTH,
 * -WB_ECONFIG, -WB_ENOSPC, ...). A program that must be able to stop a long
 * call uses a wb_run and wb_run_interrupt() instead. */
WB_API int wb_bank_add(struct wb_bank *bank, const char *word, const char *translation,
                       const char *context, const struct wb_run_opts *opts, struct wb_entry *out,
                       struct wb_error *err);

/* Read the entry (word, translation) in the configured language into out
 * (initialised; its old contents released; the caller's). -WB_ENOTFOUND when
 * the bank has none. To walk every entry, use wb_store_each(wb_bank_store()). */
WB_API int wb_bank_get(struct wb_bank *bank, const char *word, const char *translation,
                       struct wb_entry *out, struct wb_error *err);

/* Render a Markdown document (src, len bytes; name is used in diagnostics, NULL:
 * "<input>") with its <wordbank> and <dialogue> blocks as cards, each card
 * filled from the bank's entry (an entry the bank lacks shows the line's own
 * word and translation). Nothing is generated: wb_bank_add or a wb_run does
 * that first. opts may be NULL (wb_render_opts_init's defaults: an HTML
 * fragment, media under "media/"); its lang defaults to the setting "lang".
 * The HTML is appended to out (the caller's buffer).
 *
 * Lines that do not parse are not errors: each "NAME:LINE: reason" goes to
 * on_diag (may be NULL) and the line is left out. Errors: -WB_ETOOBIG (a
 * document over WB_CONTENT_MAX_DOC), -WB_ENOMEM, and the store's errors
 * (-WB_EIO, -WB_ECORRUPT) when an entry could not be read (out then holds
 * the page with that card unfilled).
 *
 * A whole site is these pages plus wb_site_write_assets(), wb_render_index()
 * and wb_media_copy() of each card's files (what `wordbank build` does). */
WB_API int wb_bank_render_markdown(struct wb_bank *bank, const char *name, const char *src,
                                   size_t len, const struct wb_render_opts *opts,
                                   void (*on_diag)(void *ud, const char *msg), void *ud,
                                   struct wb_buf *out, struct wb_error *err);

#ifdef __cplusplus
}
#endif

#endif
