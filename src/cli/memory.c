/* The command's malloc policy. A run allocates and frees buffers of 100 KB
 * to a few MB all the time (answers, decoded pictures and clips, encoder
 * output) on five threads. glibc's defaults hand each one back to the
 * kernel (buffers over its mmap threshold, and any free space at the top of
 * an arena beyond its trim threshold), so the next buffer is faulted in
 * again page by page: on the 2-core test machine that was ~15 % of a run's
 * CPU. The command keeps buffers under 4 MiB in the arenas and lets an arena
 * keep up to 32 MiB free (docs/pipeline.md, "Benchmark", has the figures). The library
 * never does this itself: it would change its host program's allocator.
 * GLIBC_TUNABLES in the environment wins: the policy then stays the user's.
 */
#include <malloc.h>
#include <stdlib.h>

#include "cli.h"

#define CLI_MMAP_THRESHOLD (4 << 20)
#define CLI_TRIM_THRESHOLD (32 << 20)

void cli_tune_malloc(void)
{
    const char *t = getenv("GLIBC_TUNABLES");
    if (t && *t)
        return;
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    mallopt(M_MMAP_THRESHOLD, CLI_MMAP_THRESHOLD);
    mallopt(M_TRIM_THRESHOLD, CLI_TRIM_THRESHOLD);
#endif
}
