/* Shared libraries loaded on first use: dlopen by soname, then a table of
 * function pointers filled by dlsym from a list of names. A library that
 * pulls in many others (libcurl, libav*, espeak-ng), or one only some
 * commands use (libcrypto, the codecs, libzip, cmark), costs every start of
 * every program that links it, even one that never calls it; a module calls
 * such a library through a table filled here instead, once, when it first
 * needs it (and wb_preload can do that ahead, on another thread). The module
 * keeps the library's headers for the types and the declarations the table
 * is built from (__typeof__), so the calls stay type-checked.
 *
 * The usual shape, with an X-macro listing the functions:
 *
 *     #define MY_FUNCTIONS(X) X(foo_open) X(foo_close)
 *     static struct { MY_FUNCTIONS(CORE_DL_MEMBER) } t;
 *     #define MY_SYM(name) CORE_DL_SYM(t, name, #name)
 *     static const struct core_dl_sym syms[] = { MY_FUNCTIONS(MY_SYM) };
 *     static struct core_dl_once once = CORE_DL_ONCE_INIT;
 *     static int load(struct wb_error *err)
 *     {
 *         return core_dl_load("libfoo.so.1", syms, CORE_DL_COUNT(syms), err);
 *     }
 *     ... if ((rc = core_dl_once(&once, load, err)) < 0) return rc;
 *
 * (core_dl_need instead when the caller cannot do without the library.)
 */
#ifndef WB_CORE_DL_H
#define WB_CORE_DL_H

#include <pthread.h>
#include <stddef.h>

#include "wordbank/error.h"

/* One function a library must provide: its name and where its address goes. */
struct core_dl_sym {
    const char *name;
    void **slot;
};

/* For X-macros: a table member named like the function, of its type, and
 * the entry that fills member of table with the address of symbol. */
#define CORE_DL_MEMBER(name)               __typeof__(name) *name;
#define CORE_DL_SYM(table, member, symbol) { symbol, (void **)&(table).member },
#define CORE_DL_COUNT(syms)                (sizeof(syms) / sizeof(syms)[0])

/* Loads soname (RTLD_NOW | RTLD_LOCAL; kept for the life of the process) and
 * fills every slot of syms from it. 0, or -WB_EUNSUPPORTED with err saying
 * "cannot load SONAME: <the loader's reason>" or "SONAME: no symbol NAME"
 * (the slots are then left as they were and the library is closed).
 * Thread-safe as dlopen is; guard the table with core_dl_once. */
int core_dl_load(const char *soname, const struct core_dl_sym *syms, size_t n,
                 struct wb_error *err);

/* Load once: the first core_dl_once runs load; every other caller, on any
 * thread, waits for it to finish and then gets its result, the code and the
 * message (a failed load is not retried: the reason stays the same). */
struct core_dl_once {
    pthread_mutex_t lock;
    int done; /* read outside the lock with acquire order */
    int rc;
    struct wb_error err;
};
#define CORE_DL_ONCE_INIT                \
    {                                    \
        PTHREAD_MUTEX_INITIALIZER, 0, 0, \
        {                                \
            0,                           \
            {                            \
                0                        \
            }                            \
        }                                \
    }

int core_dl_once(struct core_dl_once *o, int (*load)(struct wb_error *err), struct wb_error *err);

/* core_dl_once for a library the caller cannot do without: a failed load is
 * the installation's fault, the same for every call, so it is WB_ECONFIG
 * (a run stops at once, exit 3, as for a missing libcurl) with err saying
 * "NEED: <the loader's reason>", or the reason alone when need is NULL.
 * The loaded case touches no message. */
int core_dl_need(struct core_dl_once *o, int (*load)(struct wb_error *err), const char *need,
                 struct wb_error *err);

#endif
