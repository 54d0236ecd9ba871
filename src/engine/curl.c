/* Loading libcurl on first use (curl_int.h), through core/dl.h. */
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

int engine_preload(struct wb_error *err)
{
    return eng_curl_load(err);
}
