/* Loading libavcodec and libavformat on first use (see avload.h). The
 * sonames come from the headers we compiled against, so the loaded libraries
 * are the versions whose types and structs this code was built for. */
#include <dlfcn.h>
#include <pthread.h>

#include <libavutil/macros.h>

#include "media/avload.h"

static pthread_once_t once = PTHREAD_ONCE_INIT;
struct media_av media_av_table;
static char failure[512];

static void *open_lib(const char *soname)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h && !failure[0])
        snprintf(failure, sizeof failure, "cannot load %s: %s", soname, dlerror());
    return h;
}

static void load(void)
{
    /* Never closed: the process keeps them once loaded. */
    void *codec = open_lib("libavcodec.so." AV_STRINGIFY(LIBAVCODEC_VERSION_MAJOR));
    void *format = open_lib("libavformat.so." AV_STRINGIFY(LIBAVFORMAT_VERSION_MAJOR));
    if (!codec || !format)
        return;
#define LOAD(lib, name)                                                       \
    if (!failure[0] && !(*(void **)&media_av_table.name = dlsym(lib, #name))) \
        snprintf(failure, sizeof failure, "%s: no %s", #lib, #name);
    MEDIA_AV_FUNCTIONS(LOAD)
#undef LOAD
}

int media_av_load(struct wb_error *err)
{
    pthread_once(&once, load);
    if (failure[0])
        return wb_error_set(err, WB_ENOTFOUND, "M4A needs libavcodec and libavformat: %s", failure);
    return 0;
}
