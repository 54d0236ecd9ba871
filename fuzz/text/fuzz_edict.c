/* libFuzzer target for the EDICT line parser (the dictionary file comes from
 * outside): any bytes must parse or be refused without a crash, a leak or UB,
 * and what parses has a headword and senses that hold together. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wordbank/text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wb_edict_entry e;
    memset(&e, 0, sizeof e);
    if (wb_edict_parse_line((const char *)data, size, &e) == 0) {
        if (!e.headword)
            abort();
        for (size_t i = 0; i < e.n_senses; i++) {
            if (e.senses[i].n_glosses && !e.senses[i].glosses)
                abort();
            for (size_t g = 0; g < e.senses[i].n_glosses; g++) {
                if (!e.senses[i].glosses[g])
                    abort();
            }
        }
    }
    wb_edict_entry_release(&e);
    return 0;
}
