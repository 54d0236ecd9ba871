/* wb_version(): the version of the library loaded, from wordbank/version.h
 * as this library was built. */
#include "wordbank/version.h"

const char *wb_version(void)
{
    return WB_VERSION_STRING;
}
