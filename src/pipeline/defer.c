/* Back-pressure: image and audio stages from request to written file hold
 * big buffers; at most run.media_max at once. The rest wait here in order
 * (PS_DEFERRED) and start as room frees. Loop thread only.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"

int pipe_fifo_reserve(void *arrp, size_t *head, size_t *len, size_t *cap, size_t elem)
{
    if (*head && *len == *cap) {
        char *a;
        memcpy(&a, arrp, sizeof a);
        memmove(a, a + *head * elem, (*len - *head) * elem);
        *len -= *head;
        *head = 0;
    }
    return core_array_reserve(arrp, cap, *len, 1, elem, 0) ? WB_ENOMEM : 0;
}

int pipe_defer_push(struct run *r, struct job *j, enum wb_stage s)
{
    if (PIPE_FIFO_RESERVE(r->deferred, r->def_head, r->def_len, r->def_cap) != 0)
        return WB_ENOMEM;
    r->deferred[r->def_len].job = j;
    r->deferred[r->def_len].stage = s;
    r->def_len++;
    return 0;
}

int pipe_media_room(const struct run *r)
{
    return !r->enc_pending && r->media_active < r->media_max;
}

/* Room in the media pipeline again (or the encoders loaded: encoders.c):
 * start the stages that waited, in order. */
void pipe_resume_deferred(struct run *r)
{
    while (pipe_media_room(r) && r->def_head < r->def_len) {
        struct deferred_stage d = r->deferred[r->def_head++];
        pipe_stage_start(r, d.job, d.stage);
    }
}
