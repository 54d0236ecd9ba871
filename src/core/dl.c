/* Shared libraries loaded on first use (dl.h). */
#include <dlfcn.h>

#include "core/dl.h"

int core_dl_load(const char *soname, const struct core_dl_sym *syms, size_t n, struct wb_error *err)
{
    void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        return wb_error_set(err, WB_EUNSUPPORTED, "cannot load %s: %s", soname,
                            why ? why : "unknown reason");
    }
    /* All or nothing: the slots are written only once every name is found. */
    for (size_t i = 0; i < n; i++) {
        if (!dlsym(h, syms[i].name)) {
            dlclose(h);
            return wb_error_set(err, WB_EUNSUPPORTED, "%s: no symbol %s", soname, syms[i].name);
        }
    }
    for (size_t i = 0; i < n; i++)
        *syms[i].slot = dlsym(h, syms[i].name);
    return 0; /* h is kept: the table points into it for the life of the process */
}

int core_dl_need(struct core_dl_once *o, int (*load)(struct wb_error *err), const char *need,
                 struct wb_error *err)
{
    struct wb_error e;
    if (core_dl_once(o, load, NULL) == 0)
        return 0;
    core_dl_once(o, load, &e);
    if (need)
        return wb_error_set(err, WB_ECONFIG, "%s: %s", need, e.msg);
    return wb_error_set(err, WB_ECONFIG, "%s", e.msg);
}

int core_dl_once(struct core_dl_once *o, int (*load)(struct wb_error *err), struct wb_error *err)
{
    if (!__atomic_load_n(&o->done, __ATOMIC_ACQUIRE)) {
        pthread_mutex_lock(&o->lock);
        if (!o->done) {
            o->rc = load(&o->err);
            __atomic_store_n(&o->done, 1, __ATOMIC_RELEASE);
        }
        pthread_mutex_unlock(&o->lock);
    }
    if (o->rc < 0 && err)
        *err = o->err;
    return o->rc;
}
