/* Built as libcurl.so.4, found first (LD_LIBRARY_PATH) by a check of
 * tests/cli/end.sh: a libcurl whose load never ends, its constructor waiting
 * forever. A command that waited for its preload of libcurl would never end
 * either. */
#include <unistd.h>

__attribute__((constructor)) static void stuck_forever(void)
{
    for (;;)
        pause();
}
