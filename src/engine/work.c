/* The worker pool and timers. CPU work (base64 decoding, audio encoding,
 * hashing, file writes) runs on libuv's thread pool (uv_queue_work; size from
 * UV_THREADPOOL_SIZE, default 4) so the loop thread never blocks; the after-
 * callback runs on the loop thread with a status, WB_ECANCELED when an abort
 * took the item off the queue before it started. Timers fire their callback
 * exactly once too: with 0, or with WB_ECANCELED on abort.
 *
 * The pool's threads run engine.worker_nice nice levels below the thread
 * that made them (the loop's), set once a thread at its first item: when the
 * CPU is short, the loop thread, which sends the next requests and reads
 * every answer, goes first, and encoding waits. A thread cannot take a nice
 * level back without privileges, so it stays so for the life of the process
 * (libuv's pool is the process's; an embedder's own uv_queue_work items run
 * there too).
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/engine_int.h"

struct eng_work {
    uv_work_t req;
    struct engine *e;
    void (*work)(void *ud);
    void (*after)(void *ud, int status);
    void *ud;
    struct eng_work *prev, *next;
};

struct eng_utimer {
    uv_timer_t t;
    struct engine *e;
    void (*cb)(void *ud, int status);
    void *ud;
    int weak; /* does not keep engine_run alive */
    struct eng_utimer *prev, *next;
};

static _Thread_local int niced;

static void work_run(uv_work_t *req)
{
    struct eng_work *w = req->data;
    if (!niced && w->e->worker_nice > 0) {
        id_t tid = (id_t)syscall(SYS_gettid);
        int now;
        niced = 1;
        errno = 0;
        now = getpriority(PRIO_PROCESS, tid);
        if (!(now == -1 && errno))
            setpriority(PRIO_PROCESS, tid,
                        now + w->e->worker_nice > 19 ? 19 : now + w->e->worker_nice);
    }
    w->work(w->ud);
}

static void work_after(uv_work_t *req, int status)
{
    struct eng_work *w = req->data;
    struct engine *e = w->e;
    if (w->prev)
        w->prev->next = w->next;
    else
        e->works = w->next;
    if (w->next)
        w->next->prev = w->prev;
    e->pending_work--;
    if (w->after)
        w->after(w->ud, status == UV_ECANCELED ? WB_ECANCELED : 0);
    free(w);
}

int engine_queue_work(struct engine *e, void (*work)(void *ud), void (*after)(void *ud, int status),
                      void *ud)
{
    if (!work)
        return WB_EINVAL;
    struct eng_work *w = calloc(1, sizeof *w);
    if (!w)
        return WB_ENOMEM;
    w->e = e;
    w->work = work;
    w->after = after;
    w->ud = ud;
    w->req.data = w;
    if (uv_queue_work(&e->loop, &w->req, work_run, work_after) != 0) {
        free(w);
        return WB_EINTERNAL;
    }
    w->next = e->works;
    if (e->works)
        e->works->prev = w;
    e->works = w;
    e->pending_work++;
    return 0;
}

static void utimer_unlink(struct eng_utimer *t)
{
    struct engine *e = t->e;
    if (t->prev)
        t->prev->next = t->next;
    else
        e->utimers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    if (!t->weak)
        e->pending_timers--;
}

static void utimer_free(uv_handle_t *h)
{
    free(h->data);
}

static void utimer_fire(uv_timer_t *h)
{
    struct eng_utimer *t = h->data;
    utimer_unlink(t);
    uv_close((uv_handle_t *)&t->t, utimer_free);
    t->cb(t->ud, 0);
}

static int timer_new(struct engine *e, int64_t ms, void (*cb)(void *ud, int status), void *ud,
                     int weak);

int engine_timer(struct engine *e, int64_t ms, void (*cb)(void *ud, int status), void *ud)
{
    return timer_new(e, ms, cb, ud, 0);
}

int engine_timer_weak(struct engine *e, int64_t ms, void (*cb)(void *ud, int status), void *ud)
{
    return timer_new(e, ms, cb, ud, 1);
}

static int timer_new(struct engine *e, int64_t ms, void (*cb)(void *ud, int status), void *ud,
                     int weak)
{
    if (!cb)
        return WB_EINVAL;
    struct eng_utimer *t = calloc(1, sizeof *t);
    if (!t)
        return WB_ENOMEM;
    t->e = e;
    t->cb = cb;
    t->ud = ud;
    uv_timer_init(&e->loop, &t->t);
    t->t.data = t;
    uv_update_time(&e->loop); /* the loop's cached time may be stale */
    uv_timer_start(&t->t, utimer_fire, (uint64_t)(ms < 0 ? 0 : ms), 0);
    t->weak = weak;
    if (weak)
        uv_unref((uv_handle_t *)&t->t);
    t->next = e->utimers;
    if (e->utimers)
        e->utimers->prev = t;
    e->utimers = t;
    if (!weak)
        e->pending_timers++;
    return 0;
}

void eng_work_abort(struct engine *e)
{
    for (struct eng_work *w = e->works; w; w = w->next)
        uv_cancel((uv_req_t *)&w->req); /* fails harmlessly for running items */
    while (e->utimers) {
        struct eng_utimer *t = e->utimers;
        uv_timer_stop(&t->t);
        utimer_unlink(t);
        uv_close((uv_handle_t *)&t->t, utimer_free);
        t->cb(t->ud, WB_ECANCELED);
    }
}
