/* core/dl.h: loading a shared library by soname into a table of function
 * pointers, the errors that name what is missing, and the once that every
 * thread waits on. */
#include <math.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "core/dl.h"
#include "test.h"

#define LIBM "libm.so.6"

/* A table as the modules make them: members named and typed like the
 * functions (CORE_DL_MEMBER), entries from the same list. */
#define TEST_FUNCTIONS(X) X(floor) X(ceil)
static struct {
    TEST_FUNCTIONS(CORE_DL_MEMBER)
} t;
#define TEST_SYM(name) CORE_DL_SYM(t, name, #name)
static const struct core_dl_sym syms[] = { TEST_FUNCTIONS(TEST_SYM) };

TEST(dl_fills_the_table)
{
    struct wb_error err = { 0 };
    CHECK_OK(core_dl_load(LIBM, syms, CORE_DL_COUNT(syms), &err), &err);
    CHECK(t.floor != NULL && t.ceil != NULL);
    /* The addresses are the library's functions: they compute. */
    CHECK(t.floor(2.5) == 2.0);
    CHECK(t.ceil(2.5) == 3.0);
}

TEST(dl_bogus_soname_is_named)
{
    struct wb_error err = { 0 };
    CHECK_INT(core_dl_load("libwordbank-no-such-library.so.9", syms, CORE_DL_COUNT(syms), &err),
              WB_EUNSUPPORTED);
    CHECK_MSG(strstr(err.msg, "cannot load libwordbank-no-such-library.so.9: ") == err.msg, "%s",
              err.msg);
    /* ... with the loader's own reason after it. */
    CHECK_MSG(strstr(err.msg, "No such file") != NULL, "%s", err.msg);
    CHECK(t.floor == NULL && t.ceil == NULL);
    CHECK_INT(core_dl_load("libwordbank-no-such-library.so.9", syms, 0, NULL), WB_EUNSUPPORTED);
}

TEST(dl_missing_symbol_is_named_and_nothing_filled)
{
    struct {
        __typeof__(cbrt) *cbrt;
        __typeof__(cbrt) *nope;
    } u = { 0 };
    const struct core_dl_sym s[] = { CORE_DL_SYM(u, cbrt, "cbrt")
                                         CORE_DL_SYM(u, nope, "wb_no_such_function") };
    struct wb_error err = { 0 };
    CHECK_INT(core_dl_load(LIBM, s, CORE_DL_COUNT(s), &err), WB_EUNSUPPORTED);
    CHECK_STR(err.msg, LIBM ": no symbol wb_no_such_function");
    /* All or nothing: the name that was found is not filled either. */
    CHECK(u.cbrt == NULL && u.nope == NULL);
}

static int loads;
static int slow_load(struct wb_error *err)
{
    __atomic_add_fetch(&loads, 1, __ATOMIC_SEQ_CST);
    usleep(50000); /* long enough for the other threads to arrive meanwhile */
    return wb_error_set(err, WB_EUNSUPPORTED, "cannot load libx.so.1: gone");
}

static struct core_dl_once slow_once = CORE_DL_ONCE_INIT;
static struct wb_error seen[8];
static int seen_rc[8];

static void *use(void *arg)
{
    int i = (int)(intptr_t)arg;
    seen_rc[i] = core_dl_once(&slow_once, slow_load, &seen[i]);
    return NULL;
}

TEST(dl_once_loads_once_and_everyone_gets_its_error)
{
    pthread_t th[8];
    for (int i = 0; i < 8; i++)
        CHECK_INT(pthread_create(&th[i], NULL, use, (void *)(intptr_t)i), 0);
    for (int i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    CHECK_INT(loads, 1);
    for (int i = 0; i < 8; i++) {
        CHECK_INT(seen_rc[i], WB_EUNSUPPORTED);
        CHECK_STR(seen[i].msg, "cannot load libx.so.1: gone");
    }
    /* Later: the same answer, no second attempt; err may be NULL. */
    struct wb_error err = { 0 };
    CHECK_INT(core_dl_once(&slow_once, slow_load, &err), WB_EUNSUPPORTED);
    CHECK_STR(err.msg, "cannot load libx.so.1: gone");
    CHECK_INT(core_dl_once(&slow_once, slow_load, NULL), WB_EUNSUPPORTED);
    CHECK_INT(loads, 1);
}

static int ok_load(struct wb_error *err)
{
    (void)err;
    loads++;
    return 0;
}

TEST(dl_once_success_leaves_err_alone)
{
    static struct core_dl_once o = CORE_DL_ONCE_INIT;
    struct wb_error err = { 0 };
    loads = 0;
    CHECK_INT(core_dl_once(&o, ok_load, &err), 0);
    CHECK_INT(core_dl_once(&o, ok_load, &err), 0);
    CHECK_INT(loads, 1);
    CHECK_INT(err.code, 0);
}

/* A library the caller cannot do without: its failure is WB_ECONFIG (the
 * installation's fault), the loader's reason behind what needed it. */
static int fail_load(struct wb_error *err)
{
    loads++;
    return wb_error_set(err, WB_EUNSUPPORTED, "cannot load liby.so.2: gone");
}

TEST(dl_need_is_the_installations_fault)
{
    static struct core_dl_once bad = CORE_DL_ONCE_INIT, good = CORE_DL_ONCE_INIT;
    struct wb_error err = { 0 };
    loads = 0;
    CHECK_INT(core_dl_need(&bad, fail_load, "Y needs liby", &err), WB_ECONFIG);
    CHECK_INT(err.code, WB_ECONFIG);
    CHECK_STR(err.msg, "Y needs liby: cannot load liby.so.2: gone");
    memset(&err, 0, sizeof err);
    CHECK_INT(core_dl_need(&bad, fail_load, NULL, &err), WB_ECONFIG);
    CHECK_STR(err.msg, "cannot load liby.so.2: gone");
    CHECK_INT(core_dl_need(&bad, fail_load, NULL, NULL), WB_ECONFIG);
    CHECK_INT(loads, 1);
    /* Loaded: 0, and err untouched. */
    memset(&err, 0, sizeof err);
    CHECK_INT(core_dl_need(&good, ok_load, "X needs libx", &err), 0);
    CHECK_INT(core_dl_need(&good, ok_load, "X needs libx", &err), 0);
    CHECK_INT(loads, 2);
    CHECK_INT(err.code, 0);
    CHECK_STR(err.msg, "");
}
