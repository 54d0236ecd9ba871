/* One line of a two-voice dialogue script ("Name: text"), shared by the
 * Markdown parser (content) and the speech request builders (providers). */
#ifndef WORDBANK_DIALOGUE_H
#define WORDBANK_DIALOGUE_H

#include "wordbank/api.h"

#ifdef __cplusplus
extern "C" {
#endif

struct wb_dialogue_line {
    char *speaker;
    char *text;
    unsigned line; /* 1-based source line, 0 when unknown */
};

#ifdef __cplusplus
}
#endif

#endif
