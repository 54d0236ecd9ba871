/* The worker pool and timers. CPU work (base64 decoding, audio encoding,
 * hashing, file writes) runs on libuv's thread pool (uv_queue_work; size from
 * UV_THREADPOOL_SIZE, default 4) so the loop thread never blocks; the after-
 * callback runs on the loop thread with a status, WB_ECANCELED when an abort
 * took the item off the queue before it started. Items wait in two queues
 * of ours, urgent first (engine_queue_work_urgent: parsing an answer whose
 * request slot waits for it), and each libuv request runs whichever item is
 * first when a thread takes it: libuv's own queue is first in, first out,
 * and an answer's parse would otherwise wait behind every picture queued
 * for encoding. Timers fire their callback
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
#include <pthread.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/engine_int.h"

/* A piece of work, queued by priority until a pool thread takes it. */
struct eng_task {
    void (*work)(void *ud);
    void (*after)(void *ud, int status);
    void *ud;
    struct eng_task *next;
};

/* One libuv work request: it runs whichever task is most urgent when a
 * thread picks it up (libuv's queue is first in, first out), and ends that
 * task on the loop thread. As many requests as tasks are queued. */
struct eng_work {
    uv_work_t req;
    struct engine *e;
    struct eng_task *ran;
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
/* The queues of every engine (a pool thread takes from one at a time). */
static pthread_mutex_t queue_mu = PTHREAD_MUTEX_INITIALIZER;

static struct eng_task *task_pop(struct engine *e)
{
    struct eng_task *t;
    pthread_mutex_lock(&queue_mu);
    for (int q = 0; q < 2; q++) {
        if ((t = e->task_head[q])) {
            if (!(e->task_head[q] = t->next))
                e->task_tail[q] = NULL;
            break;
        }
    }
    pthread_mutex_unlock(&queue_mu);
    return t;
}

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
    if ((w->ran = task_pop(w->e)))
        w->ran->work(w->ran->ud);
}

static void work_after(uv_work_t *req, int status)
{
    (void)status; /* canceled: it never took a task */
    struct eng_work *w = req->data;
    struct engine *e = w->e;
    /* Canceled before it ran: a task that never ran ends with it. */
    struct eng_task *t = w->ran ? w->ran : task_pop(e);
    int canceled = !w->ran;
    if (w->prev)
        w->prev->next = w->next;
    else
        e->works = w->next;
    if (w->next)
        w->next->prev = w->prev;
    e->pending_work--;
    free(w);
    if (t && t->after)
        t->after(t->ud, canceled ? WB_ECANCELED : 0);
    free(t);
}

static int queue_task(struct engine *e, int urgent, void (*work)(void *ud),
                      void (*after)(void *ud, int status), void *ud)
{
    struct eng_task *t;
    struct eng_work *w;
    int q = urgent ? 0 : 1;
    if (!work)
        return WB_EINVAL;
    t = calloc(1, sizeof *t);
    w = calloc(1, sizeof *w);
    if (!t || !w) {
        free(t);
        free(w);
        return WB_ENOMEM;
    }
    t->work = work;
    t->after = after;
    t->ud = ud;
    w->e = e;
    w->req.data = w;
    pthread_mutex_lock(&queue_mu);
    if (e->task_tail[q])
        e->task_tail[q]->next = t;
    else
        e->task_head[q] = t;
    e->task_tail[q] = t;
    pthread_mutex_unlock(&queue_mu);
    if (uv_queue_work(&e->loop, &w->req, work_run, work_after) != 0) {
        /* Take the task back out (it is the last of its queue). */
        pthread_mutex_lock(&queue_mu);
        struct eng_task **pp = &e->task_head[q], *prev = NULL;
        while (*pp != t) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        *pp = NULL;
        e->task_tail[q] = prev;
        pthread_mutex_unlock(&queue_mu);
        free(t);
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

int engine_queue_work(struct engine *e, void (*work)(void *ud), void (*after)(void *ud, int status),
                      void *ud)
{
    return queue_task(e, 0, work, after, ud);
}

int engine_queue_work_urgent(struct engine *e, void (*work)(void *ud),
                             void (*after)(void *ud, int status), void *ud)
{
    return queue_task(e, 1, work, after, ud);
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
