/* The recorded provider answers, read with the library's own file reader. */
#include <stdio.h>

#include "test.h"
#include "th_fixture.h"

struct wb_buf th_fixture(const char *name)
{
    struct wb_buf b;
    struct wb_error err = { 0 };
    char rel[256];
    snprintf(rel, sizeof rel, "tests/providers/fixtures/%s", name);
    wb_buf_init(&b, 0);
    CHECK_OK(core_file_read(th_path(rel), &b, &err), &err);
    return b;
}
