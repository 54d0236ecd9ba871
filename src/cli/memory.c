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
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

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

/* The command's end. When the command is done (the word bank closed, its
 * output written), what is left in memory (a run's engine with its pooled
 * connections and worker threads, MeCab's dictionaries and lattice, the
 * configuration) is the kernel's to release, at once, when the process
 * ends. Freeing it piece by piece first, then running the libraries' exit
 * handlers (OpenSSL's cleanup, every library's destructors), was ~5 ms at
 * the end of every generation run, after its last answer. Builds with
 * AddressSanitizer free everything and exit normally, so their leak check
 * still sees every allocation of the code that frees it. */
int cli_frees_at_exit(void)
{
#if defined(__SANITIZE_ADDRESS__)
    return 1;
#elif defined(__has_feature)
#    if __has_feature(address_sanitizer)
    return 1;
#    else
    return 0;
#    endif
#else
    return 0;
#endif
}

int cli_end(int code)
{
    if (cli_frees_at_exit())
        return code;
    /* What exit() would flush (a failed write was the command's to report). */
    fflush(stdout);
    fflush(stderr);
    _exit(code);
}
