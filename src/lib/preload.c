/* wb_preload: the heavy libraries loaded ahead, on a thread of the
 * library's own (wordbank/bank.h). The loads themselves are the modules'
 * (engine_preload, media_av_load_scaler): each runs once per process and a
 * first use that arrives meanwhile waits for it, so this only starts them
 * early. */
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>

#include "engine/engine.h"
#include "media/load.h"
#include "wordbank/bank.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned started;     /* WB_PRELOAD_* bits a thread was started for */
static pthread_t threads[2]; /* at most one per bit */
static int n_threads;
static int waits_at_exit; /* wait_all is registered with atexit */

static void *preload_main(void *arg)
{
    unsigned what = (unsigned)(uintptr_t)arg;
    /* Failures stay with the loads: the first use reports them. */
    if (what & WB_PRELOAD_NETWORK)
        engine_preload(NULL);
    if (what & WB_PRELOAD_MEDIA)
        media_av_load_scaler(NULL);
    return NULL;
}

/* At exit, before the dynamic loader runs the libraries' destructors: a
 * load still in progress is let finish (a library half-initialised by one
 * thread while exit tears the process down on another is asking for a
 * crash). */
static void wait_all(void)
{
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_threads; i++)
        pthread_join(threads[i], NULL);
    n_threads = 0;
    pthread_mutex_unlock(&lock);
}

void wb_preload_wait(void)
{
    wait_all();
}

void wb_preload(unsigned what)
{
    sigset_t all, old;
    pthread_mutex_lock(&lock);
    what &= WB_PRELOAD_ALL & ~started;
    if (what && n_threads < (int)(sizeof threads / sizeof threads[0])) {
        if (!waits_at_exit && atexit(wait_all) != 0) {
            pthread_mutex_unlock(&lock);
            return; /* cannot wait at exit: leave the loads to first use */
        }
        waits_at_exit = 1;
        /* No signal is ever handled on the loading thread. */
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&threads[n_threads], NULL, preload_main, (void *)(uintptr_t)what) == 0) {
            n_threads++;
            started |= what;
        }
        pthread_sigmask(SIG_SETMASK, &old, NULL);
    }
    pthread_mutex_unlock(&lock);
}
