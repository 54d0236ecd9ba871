/* libcurl, loaded on first use (core/dl.h). libcurl and the libraries it
 * brings (GnuTLS, Kerberos, LDAP, libssh2, librtmp, nghttp2, ... some 30)
 * cost every start of every command about 15 ms of the dynamic loader, and
 * only a command that talks to a provider needs them. So the engine, the only
 * module that includes curl.h, calls libcurl through this table, filled by
 * dlopen/dlsym: the first scheduler pass with a request loads it
 * (eng_curl_load, through eng_transfer_prepare), and
 * wb_preload can start that ahead on another thread. libwordbank does not
 * link libcurl: a direct call of a curl function fails to link.
 *
 * Type checks. Under GCC curl.h makes curl_easy_setopt, curl_easy_getinfo
 * and curl_multi_setopt macros that check each value's type against the
 * option's and then call the function of that name. A function that calls
 * them begins with ENG_CURL_CHECKED: local pointers of those three names,
 * set from the table, which the macros' final call then lands on; the checks
 * stay curl's own. (A function that forgets it names libcurl's symbol, and
 * the library no longer links.) The locals are copies taken where the
 * function starts: only a function that runs once libcurl is loaded may
 * declare them (every one but transfer.c's transfer_init, which loads it).
 * Every other function is called through the table by its member name:
 * eng_curl.easy_init().
 *
 * (Note: curl's checks warn only where curl.h is not a system header; with
 * Debian's /usr/include/x86_64-linux-gnu/curl GCC hides them, as it did
 * when libcurl was linked. -Wsystem-headers shows them.)
 */
#ifndef WB_ENGINE_CURL_INT_H
#define WB_ENGINE_CURL_INT_H

#include <curl/curl.h>

#include "wordbank/error.h"

/* Debian's soname of libcurl (the 7.x and 8.x ABI). */
#define ENG_CURL_SONAME "libcurl.so.4"

/* X(name): every libcurl function the engine uses, called curl_<name>. */
#define ENG_CURL_FUNCTIONS(X) \
    X(global_init)            \
    X(easy_init)              \
    X(easy_cleanup)           \
    X(easy_reset)             \
    X(easy_setopt)            \
    X(easy_getinfo)           \
    X(easy_strerror)          \
    X(multi_init)             \
    X(multi_cleanup)          \
    X(multi_setopt)           \
    X(multi_add_handle)       \
    X(multi_remove_handle)    \
    X(multi_info_read)        \
    X(multi_socket_action)    \
    X(multi_assign)           \
    X(slist_append)           \
    X(slist_free_all)

struct eng_curl {
#define ENG_CURL_MEMBER(name) __typeof__(curl_##name) *name;
    ENG_CURL_FUNCTIONS(ENG_CURL_MEMBER)
#undef ENG_CURL_MEMBER
};

/* Filled once by eng_curl_load; read-only after that. */
extern struct eng_curl eng_curl;

/* Load libcurl and run curl_global_init, once per process, whichever thread
 * comes first (curl_global_init is thread-safe in libcurl builds with the
 * "threadsafe" feature, Debian's among them; the load is guarded anyway, and
 * nothing else calls libcurl before it). A caller that arrives while another
 * thread loads waits for it. 0, or -WB_EUNSUPPORTED with err set ("cannot
 * load libcurl.so.4: ..."); a failed load stays failed. Only after 0 may the
 * table be used. */
int eng_curl_load(struct wb_error *err);

/* See the top of this file. */
#define ENG_CURL_CHECKED                                                             \
    __typeof__(curl_easy_setopt) *const curl_easy_setopt __attribute__((unused)) =   \
        eng_curl.easy_setopt;                                                        \
    __typeof__(curl_easy_getinfo) *const curl_easy_getinfo __attribute__((unused)) = \
        eng_curl.easy_getinfo;                                                       \
    __typeof__(curl_multi_setopt) *const curl_multi_setopt __attribute__((unused)) = \
        eng_curl.multi_setopt

#endif
