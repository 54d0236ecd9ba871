/* The recorded provider answers in tests/providers/fixtures (make_fixtures.py
 * writes them), read whole for the provider tests and the torture test. Link
 * harness_fixture_dep. */
#ifndef WB_TH_FIXTURE_H
#define WB_TH_FIXTURE_H

#include "core/util.h"

/* tests/providers/fixtures/<name> under the source root, in a fresh buffer
 * (wb_buf_release it); a failure fails the test. One CHECK. */
struct wb_buf th_fixture(const char *name);

#endif
