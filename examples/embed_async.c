/* Embedding wordbank in an event loop: add 犬 / dog offline without blocking
 * the loop, then print the entry's reading. The add runs on a thread of the
 * library's; the loop watches the job's descriptor with poll(2) (an epoll,
 * libuv or GLib loop watches it the same way) and may cancel the job.
 *
 *   cc embed_async.c $(pkg-config --cflags --libs wordbank) -o embed_async
 *   ./embed_async [DB]    prints いぬ (DB default: embed.db)
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>

#include <wordbank/wordbank.h>

/* On the library's thread: note the fact only (the loop learns it from the
 * descriptor anyway). */
static void on_done(void *ud, struct wb_bank_job *job, int rc)
{
    (void)job;
    *(int *)ud = rc;
}

int main(int argc, char **argv)
{
    struct wb_error err = { 0 };
    struct wb_config *cfg = NULL;
    struct wb_bank *bank = NULL;
    struct wb_bank_job *job = NULL;
    struct wb_entry e;
    int rc, done_rc = 1, ticks = 0;

    wb_entry_init(&e);
    rc = wb_config_new(&cfg);
    if (!rc)
        rc = wb_config_set(cfg, "provider", "offline", WB_SRC_FLAG);
    if (rc) {
        fprintf(stderr, "embed_async: %s\n", wb_strerror(rc));
        return 1;
    }
    rc = wb_bank_open(argc > 1 ? argv[1] : "embed.db", cfg, WB_STORE_CREATE, &bank, &err);
    if (!rc)
        rc = wb_bank_add_start(bank, "犬", "dog", NULL, NULL, on_done, &done_rc, &job, &err);
    if (!rc) {
        struct pollfd pfd = { .fd = wb_bank_job_fd(job), .events = POLLIN };
        /* The loop: other work every 100 ms until the job's descriptor is
         * readable. A loop that must stop would call wb_bank_job_cancel(). */
        for (;;) {
            int n = poll(&pfd, 1, 100);
            if (n > 0 || (n < 0 && errno != EINTR))
                break;
            ticks++;
        }
        rc = wb_bank_job_wait(job, &e, &err); /* over: returns at once */
        fprintf(stderr, "done after %d ticks (callback said %d)\n", ticks, done_rc);
    }
    if (rc)
        fprintf(stderr, "embed_async: %s\n", wb_error_text(&err));
    else
        printf("%s\n", e.reading ? e.reading : "");
    wb_entry_release(&e);
    wb_bank_close(bank);
    wb_config_free(cfg);
    return rc ? 1 : 0;
}
