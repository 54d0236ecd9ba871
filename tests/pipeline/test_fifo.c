/* The pipeline's FIFO queues (deferred stages, ready entries): pushes at the
 * end, pops at the head; a full array moves its waiting part to the front
 * before it grows, so a queue that keeps being drained stays small. */
#include <stdlib.h>
#include <string.h>

#include "pipeline/internal.h"
#include "test.h"

static int push(size_t **v, size_t *head, size_t *len, size_t *cap, size_t x)
{
    int rc = PIPE_FIFO_RESERVE(*v, *head, *len, *cap);
    if (rc == 0)
        (*v)[(*len)++] = x;
    return rc;
}

TEST(fifo_keeps_order_and_reuses_room)
{
    size_t *v = NULL, head = 0, len = 0, cap = 0, next = 0, want = 0, first_cap;
    /* Fill to the first capacity. */
    CHECK_INT(push(&v, &head, &len, &cap, next++), 0);
    first_cap = cap;
    CHECK(first_cap >= 1);
    while (len < cap)
        CHECK_INT(push(&v, &head, &len, &cap, next++), 0);
    /* Drain some, then push many more while draining: the queue never holds
     * more than first_cap, so it must not grow, and order is kept. */
    for (int round = 0; round < 1000; round++) {
        CHECK(v[head] == want);
        head++;
        want++;
        CHECK_INT(push(&v, &head, &len, &cap, next++), 0);
        CHECK(len - head == first_cap);
    }
    CHECK_INT(cap, first_cap);
    CHECK(len <= cap);
    /* Nothing drained: it grows and keeps every element in order. */
    for (int i = 0; i < 100; i++)
        CHECK_INT(push(&v, &head, &len, &cap, next++), 0);
    CHECK(cap > first_cap);
    while (head < len) {
        CHECK(v[head] == want);
        head++;
        want++;
    }
    CHECK(want == next);
    free(v);
}
