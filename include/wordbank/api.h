/* WB_API marks a declaration as part of libwordbank's ABI.
 *
 * The library is built with hidden symbol visibility: a function is exported
 * from libwordbank.so only when its declaration in an installed header
 * (include/wordbank/) carries WB_API. Everything else, including the internal
 * helpers of src/<module>/, stays inside the library. The test
 * tests/install/install.sh checks that the exported names and the WB_API
 * declarations are the same set.
 *
 * Versioning: the soname carries WB_VERSION_MAJOR (wordbank/version.h).
 *
 * Public structs that grow. A struct the caller fills and passes by pointer
 * (options, filters, and the reports the library fills for it) starts with
 * `size_t size`, set by the caller to the sizeof it was compiled with -- its
 * _init function (or initialiser macro) does that and sets the defaults:
 *   wb_render_opts, wb_site_opts, wb_import_opts, wb_import_report,
 *   wb_anki_push_opts, wb_anki_push_report, wb_audio_options, wb_store_query,
 *   wb_run_opts, wb_batch_opts (options and results), wb_run_stats.
 * Fields are only ever added at the end. The library accepts a smaller size
 * (a program built against an older release: the fields it does not know take
 * their defaults, and a report is filled only as far as it reaches) and
 * refuses, with -WB_EINVAL, a size of 0 (never set) or one larger than its
 * own (a program built against a newer release, whose new fields it would
 * silently ignore). Such a change raises the minor version.
 * Objects the library makes are opaque handles (wb_bank, wb_bank_job,
 * wb_site, wb_store, wb_config, wb_run, ...): they grow freely.
 * The remaining public structs are plain records that both sides read
 * (wb_buf, wb_error, wb_entry and its parts, wb_doc, wb_block, wb_word_item,
 * wb_token, wb_edict_*, wb_extract_item, wb_pcm, wb_image_info,
 * wb_lease_holder, wb_run_failure, wb_batch_view, wb_model_check); changing
 * any of them raises the major version (and the soname).
 */
#ifndef WORDBANK_API_H
#define WORDBANK_API_H

#if defined(__GNUC__) || defined(__clang__)
#    define WB_API __attribute__((visibility("default")))
#else
#    define WB_API
#endif

#endif
