/* Loaded into wordbank with LD_PRELOAD by tests/cli/end.sh: a library
 * destructor that leaves a mark (the file WB_EXIT_PROBE names) when the
 * process runs its exit handlers. */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((destructor)) static void probe_exit_handlers_ran(void)
{
    const char *path = getenv("WB_EXIT_PROBE");
    int fd;
    if (!path || !*path)
        return;
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd >= 0)
        close(fd);
}
