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
 * Threads. Every call here runs on the caller's thread and returns when its
 * work is done, except wb_bank_add_start(): it generates on a thread of the
 * library's own and hands the bank back when the job is waited for. An event
 * loop watches wb_bank_job_fd() (readable once the job is over) or takes the
 * completion callback (called on the library's thread: it may only note the
 * fact or wake the loop), then calls wb_bank_job_wait(), which does not block
 * any more and gives the result.
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

/* Close the store and free the bank. NULL is a no-op. A job of
 * wb_bank_add_start() not waited for yet is canceled and waited for first
 * (and freed: the caller's job pointer is then gone). */
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
 * call, or must not block, uses wb_bank_add_start() below. */
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
 * A whole site is wb_bank_build_site() below. */
WB_API int wb_bank_render_markdown(struct wb_bank *bank, const char *name, const char *src,
                                   size_t len, const struct wb_render_opts *opts,
                                   void (*on_diag)(void *ud, const char *msg), void *ud,
                                   struct wb_buf *out, struct wb_error *err);

/* ---- the asynchronous add --------------------------------------------- */

/* An add in progress (wb_bank_add_start), the caller's until
 * wb_bank_job_wait() frees it. */
struct wb_bank_job;

/* Called once, on the library's thread, when the job is over: rc is what
 * wb_bank_job_wait() will return. It must not call wb_bank_job_wait() (that
 * thread is the one it would wait for) nor use the bank. */
typedef void (*wb_bank_done_fn)(void *ud, struct wb_bank_job *job, int rc);

/* Start wb_bank_add(bank, word, translation, context, opts) on a thread of
 * the library's and return at once with *out, the job. opts is copied; its
 * on_progress is called on the job's thread. on_done (may be NULL) is called
 * with ud when the job is over. From this call until wb_bank_job_wait()
 * returns, the bank belongs to the job: the caller uses no other wb_bank_*
 * call on it (nor its store), only the job functions below.
 *
 * Errors (nothing started, *out NULL): -WB_EINVAL (an entry that breaks the
 * rules of wb_entry_check), -WB_ELOCKED (the bank has a job already), the
 * errors of wb_run_new (-WB_ECONFIG), -WB_ENOMEM, -WB_EIO (no thread). */
WB_API int wb_bank_add_start(struct wb_bank *bank, const char *word, const char *translation,
                             const char *context, const struct wb_run_opts *opts,
                             wb_bank_done_fn on_done, void *ud, struct wb_bank_job **out,
                             struct wb_error *err);

/* A descriptor that becomes readable (poll/epoll/uv_poll, POLLIN) when the
 * job is over and stays so; the job owns it (closed by wb_bank_job_wait). */
WB_API int wb_bank_job_fd(const struct wb_bank_job *job);

/* 1 when the job is over (wb_bank_job_wait will not block), else 0. */
WB_API int wb_bank_job_done(const struct wb_bank_job *job);

/* Stop the job as Ctrl-C stops the command: no new request starts, requests
 * in flight get a grace period, whatever finished is committed; the job then
 * ends with -WB_ECANCELED. Safe from any thread (and from on_progress), any
 * number of times, until wb_bank_job_wait(). */
WB_API void wb_bank_job_cancel(struct wb_bank_job *job);

/* Wait for the job to be over (at once when wb_bank_job_done says so), fill
 * out as wb_bank_add does (may be NULL), free the job and give the bank back.
 * Returns wb_bank_add's codes, or -WB_ECANCELED after wb_bank_job_cancel.
 * Called once per job, not from on_done (-WB_EINVAL, nothing freed). */
WB_API int wb_bank_job_wait(struct wb_bank_job *job, struct wb_entry *out, struct wb_error *err);

/* ---- sites ----------------------------------------------------------------- */

/* Build a site from the lessons below lessons_dir, as `wordbank build` does:
 * every "*.md" page as a standalone page with its cards, the media they link
 * copied, the dialogue clips, the assets and index.html, into
 * site_opts->out_dir (created). Whatever the pages' entries miss is
 * generated first in one run (run_opts, may be NULL: every stage, with its
 * on_progress), unless site_opts->cache_only. site_opts is a struct
 * wb_site_opts (wb_site_opts_init); its kind is taken as WB_SITE_BUILD, and
 * a NULL cfg or media_dir is the bank's. Its on_diag and on_warning report
 * what was left out.
 *
 * Returns 0; -WB_EINCOMPLETE when the site was written but something is left
 * out (a line that does not parse, an entry whose generation failed, a media
 * file, a clip); wb_site_add_dir's and wb_site_write's errors; the run's fatal
 * errors (-WB_EAUTH, -WB_ECONFIG, -WB_ENOSPC) before anything is written. */
WB_API int wb_bank_build_site(struct wb_bank *bank, const char *lessons_dir,
                              const struct wb_site_opts *site_opts,
                              const struct wb_run_opts *run_opts, struct wb_error *err);

/* ---- loading ahead ------------------------------------------------------ */

/* What wb_preload loads. */
#define WB_PRELOAD_NETWORK 1u /* libcurl (and its TLS, HTTP/2, ... libraries) */
#define WB_PRELOAD_MEDIA   2u /* libavutil and libswscale: scaling pictures */
#define WB_PRELOAD_ALL     (WB_PRELOAD_NETWORK | WB_PRELOAD_MEDIA)

/* libwordbank loads its heaviest libraries on first use, not when it is
 * loaded itself: libcurl (some 30 shared libraries, about 15 ms of the dynamic
 * loader) when the first request is sent, libavutil and libswscale (about
 * 7 ms) when the first picture is scaled, so a program that never does either
 * never pays for them. A program that knows it will, soon, calls
 * wb_preload(what) first: it returns at once and loads the libraries named
 * by what on a thread of the library's own, while the caller goes on (opens
 * the bank, reads its input); the first use then finds them loaded, or waits
 * for the load in progress. Each library is loaded once per process, however
 * often this is called; a library that cannot be loaded is reported by the
 * call that needs it (with the loader's reason: "cannot load libcurl.so.4:
 * ..."), never here. Calling it is never required; a program that calls it
 * calls wb_preload_wait before it exits (below). */
WB_API void wb_preload(unsigned what);
/* Wait for the loads wb_preload started (at once when none is under way).
 * A program calls it before it exits: libcurl's TLS library registers its
 * own exit handlers while it loads, and they run before wb_preload's own
 * wait at exit, so a process that exits while the load is still under way
 * (a command with nothing to send, done in a few milliseconds) may clean up
 * OpenSSL under the loading thread's feet. A program that ends with _exit
 * runs no exit handler and need not wait. */
WB_API void wb_preload_wait(void);

#ifdef __cplusplus
}
#endif

#endif
