/* The command's malloc policy (src/cli/memory.c): after cli_tune_malloc, a
 * 1 MiB buffer comes from the arena and its memory is kept for the next one
 * instead of being mapped and unmapped each time (mallinfo2's hblks counts
 * mmapped blocks); GLIBC_TUNABLES in the environment leaves the policy alone. */
#include <malloc.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "test.h"

static size_t mapped_while_holding(size_t n)
{
    char *p = malloc(n);
    size_t blocks;
    CHECK(p != NULL);
    memset(p, 1, n);
    blocks = mallinfo2().hblks;
    free(p);
    return blocks;
}

TEST(tunables_in_the_environment_win)
{
    setenv("GLIBC_TUNABLES", "glibc.malloc.check=0", 1);
    cli_tune_malloc();
    /* glibc's default: a fresh 1 MiB block is mapped on its own. */
    CHECK_INT((long)mapped_while_holding(1 << 20), 1);
    unsetenv("GLIBC_TUNABLES");
}

TEST(buffers_under_4_mib_stay_in_the_arena)
{
    cli_tune_malloc();
    CHECK_INT((long)mapped_while_holding(1 << 20), 0);
    CHECK_INT((long)mapped_while_holding(3 << 20), 0);
    /* Larger ones are still mapped (and given back when freed). */
    CHECK_INT((long)mapped_while_holding(8 << 20), 1);
}
