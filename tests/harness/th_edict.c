/* Debian's EDICT, indexed into the build tree's shared test cache. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "test.h"
#include "th_edict.h"
#include "wordbank/config.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

struct wb_edict *th_edict(void)
{
    const char *root = getenv("WB_BUILD_ROOT");
    char cache[4200];
    struct wb_config *cfg = NULL;
    struct wb_edict *d = NULL;
    struct wb_error err = { 0 };
    double t0;

    snprintf(cache, sizeof cache, "%s/test-cache", root && *root ? root : th_tmpdir());
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set(cfg, "cache_dir", cache, WB_SRC_FLAG), 0);
    t0 = now_ms();
    CHECK_OK(wb_edict_open(cfg, NULL, NULL, &d, &err), &err);
    printf("# %s the EDICT index %s in %.1f ms\n", wb_edict_was_built(d) ? "built" : "opened",
           wb_edict_index_path(d), now_ms() - t0);
    wb_config_free(cfg);
    return d;
}
