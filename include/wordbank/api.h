/* WB_API marks a declaration as part of libwordbank's ABI.
 *
 * The library is built with hidden symbol visibility: a function is exported
 * from libwordbank.so only when its declaration in an installed header
 * (include/wordbank/) carries WB_API. Everything else, including the internal
 * helpers of src/<module>/, stays inside the library. The test
 * tests/install/install.sh checks that the exported names and the WB_API
 * declarations are the same set.
 *
 * Versioning: the soname carries WB_VERSION_MAJOR (wordbank/version.h). Public
 * structs are not versioned by a size field; those a caller fills (options:
 * wb_run_opts, wb_render_opts, wb_import_opts, wb_batch_opts, ...) grow only at
 * their end, so callers must zero-initialise them (or use their _init
 * function) and a release that adds a field raises the minor version; a change
 * to any other public struct raises the major version (and the soname).
 */
#ifndef WORDBANK_API_H
#define WORDBANK_API_H

#if defined(__GNUC__) || defined(__clang__)
#    define WB_API __attribute__((visibility("default")))
#else
#    define WB_API
#endif

#endif
