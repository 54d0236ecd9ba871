/* Loading libcurl on first use (curl_int.h), through core/dl.h, and the
 * handles wb_preload's thread makes ahead once it is loaded. */
#include <pthread.h>

#include "core/dl.h"
#include "engine/curl_int.h"
#include "engine/engine.h"

struct eng_curl eng_curl;

#define ENG_CURL_SYM(name) CORE_DL_SYM(eng_curl, name, "curl_" #name)
static const struct core_dl_sym syms[] = { ENG_CURL_FUNCTIONS(ENG_CURL_SYM) };

static int load(struct wb_error *err)
{
    CURLcode c;
    int rc = core_dl_load(ENG_CURL_SONAME, syms, CORE_DL_COUNT(syms), err);
    if (rc < 0)
        return rc;
    /* Once, before any other libcurl call. */
    if ((c = eng_curl.global_init(CURL_GLOBAL_DEFAULT)) != CURLE_OK)
        return wb_error_set(err, WB_EUNSUPPORTED, "%s: curl_global_init failed: %s",
                            ENG_CURL_SONAME, eng_curl.easy_strerror(c));
    return 0;
}

static struct core_dl_once once = CORE_DL_ONCE_INIT;

int eng_curl_load(struct wb_error *err)
{
    return core_dl_once(&once, load, err);
}

/* ---- handles made ahead ----
 * A window's first fill starts some 100 transfers at once on the loop
 * thread, and each new easy handle is a ~6 KiB calloc and libcurl's
 * defaults: ~17 us of the loop's time a handle, most of it page faults of
 * fresh heap (~13 us each on the test machine). The preload thread, once
 * libcurl is loaded, makes them instead (and the engine's multi handle),
 * while the loop thread still builds the requests; engines take them as
 * they go. Only handles fresh from curl_easy_init wait here: no setting of
 * any engine's. */
static pthread_mutex_t stock_mu = PTHREAD_MUTEX_INITIALIZER;
static CURL *stock[ENG_STOCK_MAX];
static int n_stock, stock_made, stock_want = ENG_STOCK_DEFAULT;
static CURLM *stock_multi;
static int multi_taken;

static void stock_fill(void)
{
    CURLM *m = eng_curl.multi_init();
    pthread_mutex_lock(&stock_mu);
    if (!multi_taken && !stock_multi) {
        stock_multi = m;
        m = NULL;
    }
    pthread_mutex_unlock(&stock_mu);
    if (m)
        eng_curl.multi_cleanup(m);
    for (;;) {
        CURL *c;
        pthread_mutex_lock(&stock_mu);
        int more = stock_made < stock_want && stock_made < ENG_STOCK_MAX;
        if (more)
            stock_made++;
        pthread_mutex_unlock(&stock_mu);
        if (!more || !(c = eng_curl.easy_init()))
            break;
        pthread_mutex_lock(&stock_mu);
        stock[n_stock++] = c;
        pthread_mutex_unlock(&stock_mu);
    }
}

void eng_curl_stock_want(int n)
{
    pthread_mutex_lock(&stock_mu);
    stock_want = n < ENG_STOCK_MAX ? n : ENG_STOCK_MAX;
    pthread_mutex_unlock(&stock_mu);
}

CURL *eng_curl_stock_easy(void)
{
    CURL *c = NULL;
    pthread_mutex_lock(&stock_mu);
    if (n_stock > 0)
        c = stock[--n_stock];
    pthread_mutex_unlock(&stock_mu);
    return c;
}

CURLM *eng_curl_stock_multi(void)
{
    CURLM *m;
    pthread_mutex_lock(&stock_mu);
    m = stock_multi;
    stock_multi = NULL;
    multi_taken = 1;
    pthread_mutex_unlock(&stock_mu);
    return m;
}

int engine_preload(struct wb_error *err)
{
    int rc = eng_curl_load(err);
    if (rc == 0)
        stock_fill();
    return rc;
}
