/* Opening the word bank for a command, with the contract's exit codes: a
 * missing database is an empty word bank for readers, and an unreadable,
 * locked or corrupt one is exit 3 with the store's own explanation. A writer
 * creates the database's folder when it does not exist yet. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"

int cli_open_store(struct cli *c, int create, struct wb_store **out)
{
    struct wb_error err = { 0 };
    int rc;
    if (create) {
        char dir[PATH_MAX];
        struct stat sb;
        snprintf(dir, sizeof dir, "%s", cli_db_path(c));
        if (stat(dirname(dir), &sb) != 0 && wb_mkdirs(dir, &err)) {
            cli_error("%s", wb_error_text(&err));
            return EXIT_ENV;
        }
    }
    rc = wb_store_open(cli_db_path(c), create ? WB_STORE_CREATE : 0, out, &err);
    if (rc == WB_ENOTFOUND && !create) {
        *out = NULL;
        return EXIT_OK;
    }
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        return EXIT_ENV;
    }
    return EXIT_OK;
}
