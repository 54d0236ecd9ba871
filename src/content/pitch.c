/* The reading with its pitch accent marked, the usual way: a line over the
 * high morae and a downstep line after the mora where the pitch falls (the
 * style sheet draws both from the classes), the accent numbers after it
 * (from data-pitch, so the element's text stays the reading itself).
 *
 *   <p class="wb-reading wb-pitch" lang="ja" data-pitch="1"
 *      title="pitch accent [1]: falls after mora 1">
 *     <span class="wb-mora wb-hi wb-drop">は</span><span class="wb-mora">し</span></p>
 *
 * Heiban (0): the first mora low, the rest high, no fall. Atamadaka (1): the
 * first mora high, then low. Otherwise: low, high up to the accent mora, then
 * low. The first pattern is drawn; every accepted pattern is listed.
 */
#include <stdio.h>
#include <string.h>

#include "content/content_int.h"

static int is_small(uint32_t c)
{
    return c == 0x3041 || c == 0x3043 || c == 0x3045 || c == 0x3047 || c == 0x3049 || c == 0x3083 ||
           c == 0x3085 || c == 0x3087 || c == 0x308E || c == 0x30A1 || c == 0x30A3 || c == 0x30A5 ||
           c == 0x30A7 || c == 0x30A9 || c == 0x30E3 || c == 0x30E5 || c == 0x30E7 || c == 0x30EE;
}

int content_pitch(struct wb_buf *out, const char *lang, const char *reading, const int *pitch,
                  size_t n_pitch)
{
    size_t len = strlen(reading), i = 0, mora = 0, total = 0, used;
    int acc = pitch[0], rc;
    char list[16 * 4] = "";

    for (size_t k = 0; k < n_pitch && k < 4; k++)
        snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", k ? "," : "", pitch[k]);
    for (size_t j = 0; j < len; j += used)
        total += !is_small(content_utf8_next(reading + j, len - j, &used));
    rc = wb_buf_appends(out, "<p class=\"wb-reading wb-pitch\" lang=\"");
    if (rc == 0 && (rc = content_esc(out, lang)) == 0) {
        if (acc == 0)
            rc = wb_buf_appendf(out, "\" data-pitch=\"%s\" title=\"pitch accent [%s]: flat\">",
                                list, list);
        else
            rc = wb_buf_appendf(out,
                                "\" data-pitch=\"%s\" title=\"pitch accent [%s]: falls after "
                                "mora %d\">",
                                list, list, acc);
    }
    while (rc == 0 && i < len) {
        size_t start = i;
        int hi;
        content_utf8_next(reading + i, len - i, &used);
        i += used;
        /* Small kana belong to the mora before them. */
        while (i < len && is_small(content_utf8_next(reading + i, len - i, &used)))
            i += used;
        mora++;
        hi = acc == 0   ? mora > 1 || total == 1
             : acc == 1 ? mora == 1
                        : mora > 1 && (int)mora <= acc;
        if ((rc = wb_buf_appendf(out, "<span class=\"wb-mora%s%s\">", hi ? " wb-hi" : "",
                                 acc > 0 && (int)mora == acc ? " wb-drop" : "")) == 0 &&
            (rc = content_escn(out, reading + start, i - start)) == 0)
            rc = wb_buf_appends(out, "</span>");
    }
    if (rc == 0)
        rc = wb_buf_appends(out, "</p>\n");
    return rc;
}
