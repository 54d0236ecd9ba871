/* Opening the word bank for a command, with the contract's exit codes: an
 * unreadable, locked or corrupt one is exit 3 with the store's own
 * explanation. Commands that need an existing word bank say so when it is
 * missing (exit 3) and create nothing; commands that only read open it
 * read-only, so a word bank in a read-only folder or of another user can
 * still be listed and exported.
 * A writer creates the database's folder when it does not exist yet. */
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>

#include "cli.h"

static int open_with(struct cli *c, unsigned flags, int missing_is_empty, struct wb_store **out)
{
    struct wb_error err = { 0 };
    int rc;
    if (flags & WB_STORE_CREATE) {
        char dir[PATH_MAX];
        struct stat sb;
        snprintf(dir, sizeof dir, "%s", cli_db_path(c));
        if (stat(dirname(dir), &sb) != 0 && wb_mkdirs(dir, &err)) {
            cli_error("%s", wb_error_text(&err));
            return EXIT_ENV;
        }
    }
    rc = wb_store_open(cli_db_path(c), flags, out, &err);
    if (rc == WB_EUNSUPPORTED && (flags & WB_STORE_READONLY)) {
        /* An older schema needs one write to migrate: do it when the file
         * may be written, else say why it cannot be read. */
        struct wb_error e2 = { 0 };
        if (wb_store_open(cli_db_path(c), flags & ~WB_STORE_READONLY, out, &e2) == 0)
            rc = 0;
    }
    if (rc)
        *out = NULL;
    if (rc == WB_ENOTFOUND && missing_is_empty)
        return EXIT_OK;
    if (rc == WB_ENOTFOUND) {
        cli_error("no word bank at %s (add, propagate or import creates one; --db PATH or "
                  "WORDBANK_DB names another)",
                  cli_db_path(c));
        return EXIT_ENV;
    }
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        return EXIT_ENV;
    }
    return EXIT_OK;
}

int cli_open_store(struct cli *c, int create, struct wb_store **out)
{
    return open_with(c, create ? WB_STORE_CREATE : 0, !create, out);
}

int cli_open_existing(struct cli *c, int readonly, struct wb_store **out)
{
    return open_with(c, readonly ? WB_STORE_READONLY : 0, 0, out);
}
