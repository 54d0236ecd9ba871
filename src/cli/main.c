/* The wordbank command (placeholder until the CLI lands). */
#include <stdio.h>

int main(void)
{
    puts("wordbank " WB_VERSION);
    return 0;
}
