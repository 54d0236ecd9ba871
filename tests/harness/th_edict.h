/* Debian's EDICT for the tests that need a real dictionary: indexed once per
 * build tree into WB_BUILD_ROOT/test-cache (the library's lock file keeps
 * test binaries running at once from building it twice), or into the test's
 * own folder without WB_BUILD_ROOT. Link harness_edict_dep. */
#ifndef WB_TH_EDICT_H
#define WB_TH_EDICT_H

#include "wordbank/text.h"

/* The open dictionary (wb_edict_close it); a failure fails the test. Prints
 * a TAP comment saying whether the index was built or opened, and how long
 * that took. */
struct wb_edict *th_edict(void);

#endif
