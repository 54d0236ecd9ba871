/* anki push: the word bank's cards into a running Anki through AnkiConnect. */
#include <string.h>

#include "cli.h"

int cmd_anki(struct cli *c)
{
    (void)c;
    return cli_usage("anki");
}
