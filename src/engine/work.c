/* The worker pool and timers. CPU work (base64 decoding, audio encoding,
 * hashing, file writes) runs on the engine's own worker threads (4, or
 * UV_THREADPOOL_SIZE when set, 1 to 64) so the loop thread never blocks; the
 * after-callback runs on the loop thread with a status, WB_ECANCELED when an
 * abort took the item off the queue before it started. Items wait in two
 * queues, urgent first (engine_queue_work_urgent: parsing an answer whose
 * request slot waits for it); a thread takes the most urgent one. Timers
 * fire their callback exactly once too: with 0, or with WB_ECANCELED on
 * abort.
 *
 * The threads run engine.worker_nice nice levels below the thread that made
 * them (the loop's): when the CPU is short, the loop thread, which sends the
 * next requests and reads every answer, goes first, and encoding waits. They
 * were libuv's pool until session 5; two things made them the engine's own:
 * libuv's pool is the process's, so the nice level also slowed an
 * embedder's own uv_queue_work items; and libuv 1.44 ends every item with
 * uv_async_send, whose loop side spins (pause, then sched_yield) while a
 * sender is between its two steps: a niced thread preempted there kept the
 * loop thread spinning, 8.5 % of its CPU in a 200-entry run. Here a thread
 * ends an item by putting it on the done list and, when that list was
 * empty, writing to an eventfd the loop polls: nothing to spin on.
 *
 * The threads start with the first item (not with the engine) and end in
 * engine_free (eng_pool_free), which joins them.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "engine/engine_int.h"

#define POOL_THREADS_DEFAULT 4
#define POOL_THREADS_MAX     64

/* A piece of work: queued by priority until a thread takes it, then on the
 * done list until the loop thread ends it. */
struct eng_task {
    void (*work)(void *ud);
    void (*after)(void *ud, int status);
    void *ud;
    struct eng_task *next;
};

struct eng_pool {
    struct engine *e;
    pthread_mutex_t mu;
    pthread_cond_t cond;                /* work queued, or quit */
    struct eng_task *head[2], *tail[2]; /* not started, urgent first */
    struct eng_task *done;              /* finished, for the loop (newest first) */
    struct eng_task *canceled;          /* taken off the queues by an abort, never run */
    int quit;
    int nice;
    int efd;        /* eventfd: the done list has items */
    uv_poll_t poll; /* the loop's watch on efd */
    int n_threads, max_threads;
    pthread_t threads[POOL_THREADS_MAX];
};

struct eng_utimer {
    uv_timer_t t;
    struct engine *e;
    void (*cb)(void *ud, int status);
    void *ud;
    int weak; /* does not keep engine_run alive */
    struct eng_utimer *prev, *next;
};

static int pool_size(void)
{
    const char *v = getenv("UV_THREADPOOL_SIZE");
    long n = v && *v ? strtol(v, NULL, 10) : POOL_THREADS_DEFAULT;
    return n < 1 ? 1 : n > POOL_THREADS_MAX ? POOL_THREADS_MAX : (int)n;
}

static void *pool_thread(void *arg)
{
    struct eng_pool *p = arg;
    if (p->nice > 0) {
        id_t tid = (id_t)syscall(SYS_gettid);
        int now;
        errno = 0;
        now = getpriority(PRIO_PROCESS, tid);
        if (!(now == -1 && errno))
            setpriority(PRIO_PROCESS, tid, now + p->nice > 19 ? 19 : now + p->nice);
    }
    pthread_mutex_lock(&p->mu);
    for (;;) {
        struct eng_task *t = NULL;
        for (int q = 0; q < 2 && !t; q++) {
            if ((t = p->head[q]) && !(p->head[q] = t->next))
                p->tail[q] = NULL;
        }
        if (!t) {
            if (p->quit)
                break;
            pthread_cond_wait(&p->cond, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        t->work(t->ud);
        pthread_mutex_lock(&p->mu);
        int was_empty = !p->done;
        t->next = p->done;
        p->done = t;
        if (was_empty) {
            /* Outside the lock: the loop thread never waits on a thread
             * that is inside a system call. */
            pthread_mutex_unlock(&p->mu);
            uint64_t one = 1;
            while (write(p->efd, &one, sizeof one) < 0 && errno == EINTR) {
            }
            pthread_mutex_lock(&p->mu);
        }
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

/* End tasks on the loop thread, oldest first: status 0 (it ran) or
 * WB_ECANCELED (it never started). */
static void end_tasks(struct engine *e, struct eng_task *list, int status)
{
    while (list) {
        struct eng_task *t = list;
        list = t->next;
        e->pending_work--;
        if (t->after)
            t->after(t->ud, status);
        free(t);
    }
    if (e->pending_work == 0 && e->pool)
        uv_unref((uv_handle_t *)&e->pool->poll);
}

static struct eng_task *reversed(struct eng_task *t)
{
    struct eng_task *r = NULL;
    while (t) {
        struct eng_task *n = t->next;
        t->next = r;
        r = t;
        t = n;
    }
    return r;
}

static void on_done_ready(uv_poll_t *h, int status, int events)
{
    struct eng_pool *p = h->data;
    struct eng_task *list;
    uint64_t n;
    (void)status;
    (void)events;
    while (read(p->efd, &n, sizeof n) < 0 && errno == EINTR) {
    }
    struct eng_task *canceled;
    pthread_mutex_lock(&p->mu);
    list = p->done;
    canceled = p->canceled;
    p->done = p->canceled = NULL;
    pthread_mutex_unlock(&p->mu);
    end_tasks(p->e, reversed(list), 0);
    end_tasks(p->e, canceled, WB_ECANCELED);
    eng_kick_run(p->e); /* what the items' after callbacks submitted */
}

static void pool_closed(uv_handle_t *h)
{
    struct eng_pool *p = h->data;
    close(p->efd);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cond);
    free(p);
}

/* The pool, made with the first item: its eventfd on the loop, no thread
 * yet (they start as items come, up to the pool's size). */
static struct eng_pool *pool_get(struct engine *e)
{
    struct eng_pool *p = e->pool;
    if (p)
        return p;
    if (!(p = calloc(1, sizeof *p)))
        return NULL;
    p->e = e;
    p->nice = e->worker_nice;
    p->max_threads = pool_size();
    if ((p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) < 0) {
        free(p);
        return NULL;
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cond, NULL);
    if (uv_poll_init(&e->loop, &p->poll, p->efd) != 0) {
        close(p->efd);
        pthread_mutex_destroy(&p->mu);
        pthread_cond_destroy(&p->cond);
        free(p);
        return NULL;
    }
    p->poll.data = p;
    uv_poll_start(&p->poll, UV_READABLE, on_done_ready);
    uv_unref((uv_handle_t *)&p->poll);
    e->pool = p;
    return p;
}

static int queue_task(struct engine *e, int urgent, void (*work)(void *ud),
                      void (*after)(void *ud, int status), void *ud)
{
    struct eng_pool *p;
    struct eng_task *t;
    int q = urgent ? 0 : 1, start = 0;
    if (!work)
        return WB_EINVAL;
    if (!(p = pool_get(e)))
        return WB_ENOMEM;
    if (!(t = calloc(1, sizeof *t)))
        return WB_ENOMEM;
    t->work = work;
    t->after = after;
    t->ud = ud;
    pthread_mutex_lock(&p->mu);
    if (p->tail[q])
        p->tail[q]->next = t;
    else
        p->head[q] = t;
    p->tail[q] = t;
    /* One more thread while there are fewer than the pool's size. */
    if (p->n_threads < p->max_threads) {
        /* Signals go to the loop thread (the command's Ctrl-C), never to a
         * worker in the middle of an encode. */
        sigset_t all, old;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, &old);
        if (pthread_create(&p->threads[p->n_threads], NULL, pool_thread, p) == 0)
            p->n_threads++;
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        start = p->n_threads > 0;
    } else {
        start = 1;
    }
    if (!start) {
        /* No thread at all: take it back out (it is the last of its queue). */
        struct eng_task **pp = &p->head[q], *prev = NULL;
        while (*pp != t) {
            prev = *pp;
            pp = &(*pp)->next;
        }
        *pp = NULL;
        p->tail[q] = prev;
        pthread_mutex_unlock(&p->mu);
        free(t);
        return WB_EINTERNAL;
    }
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->mu);
    if (e->pending_work++ == 0)
        uv_ref((uv_handle_t *)&p->poll);
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

void eng_pool_free(struct engine *e)
{
    struct eng_pool *p = e->pool;
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->quit = 1;
    pthread_cond_broadcast(&p->cond);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->n_threads; i++)
        pthread_join(p->threads[i], NULL);
    e->pool = NULL;
    uv_poll_stop(&p->poll);
    uv_close((uv_handle_t *)&p->poll, pool_closed);
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
    /* A pass the loop turn asked for goes first: requests submitted in
     * this turn leave before a 0 ms timer's work (the pipeline commits the
     * turn's stages in one). Unlinked already: a stop the pass leads to
     * does not cancel this timer a second time. */
    eng_kick_run(t->e);
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
    struct eng_pool *p = e->pool;
    if (p) {
        /* Items not started end canceled, on a later loop turn (as a
         * finished one would: no callback runs inside the abort); running
         * ones finish. */
        struct eng_task **tail = &p->canceled;
        uint64_t one = 1;
        pthread_mutex_lock(&p->mu);
        while (*tail)
            tail = &(*tail)->next;
        for (int q = 0; q < 2; q++) {
            *tail = p->head[q];
            while (*tail)
                tail = &(*tail)->next;
            p->head[q] = p->tail[q] = NULL;
        }
        pthread_mutex_unlock(&p->mu);
        if (p->canceled)
            while (write(p->efd, &one, sizeof one) < 0 && errno == EINTR) {
            }
    }
    while (e->utimers) {
        struct eng_utimer *t = e->utimers;
        uv_timer_stop(&t->t);
        utimer_unlink(t);
        uv_close((uv_handle_t *)&t->t, utimer_free);
        t->cb(t->ud, WB_ECANCELED);
    }
}
