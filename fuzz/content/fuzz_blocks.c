/* libFuzzer target: any bytes as a Markdown document through the block
 * parser, both renderers and the line parsers. Beyond the sanitizers it
 * checks the parser's promises: blocks are in order, inside the source, and
 * the fragment rendering reproduces the text outside them byte for byte.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wordbank/content.h"

static struct wb_entry fz_entry;

static const struct wb_entry *lookup(void *ud, const char *word, const char *translation)
{
    (void)ud;
    (void)translation;
    /* Every other word has a full entry (reading taken from the word). */
    if (strlen(word) % 2)
        return NULL;
    free(fz_entry.word);
    free(fz_entry.reading);
    fz_entry.word = strdup(word);
    fz_entry.reading = strdup(translation);
    return &fz_entry;
}

static const char *dlg(void *ud, const struct wb_block *b)
{
    (void)ud;
    return b->n_lines % 2 ? "d/clip one.mp3" : NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wb_doc doc;
    struct wb_error err = { 0 };
    struct wb_buf out;
    struct wb_render_opts o;
    size_t prev = 0;

    if (!fz_entry.translation) {
        wb_entry_init(&fz_entry);
        fz_entry.translation = strdup("t");
        fz_entry.stages[WB_STAGE_IMAGE].state = WB_STATE_DONE;
        fz_entry.stages[WB_STAGE_IMAGE].file = strdup("i.png");
        fz_entry.stages[WB_STAGE_AUDIO].state = WB_STATE_DONE;
        fz_entry.stages[WB_STAGE_AUDIO].file = strdup("a b.mp3");
        wb_entry_add_example(&fz_entry, "ex", NULL);
    }
    wb_doc_init(&doc);
    wb_buf_init(&out, 0);
    if (wb_doc_parse(&doc, "fuzz.md", (const char *)data, size, &err) != 0)
        abort();
    for (size_t i = 0; i < doc.n_blocks; i++) {
        const struct wb_block *b = &doc.blocks[i];
        if (b->start < prev || b->end < b->start || b->end > doc.len)
            abort();
        prev = b->end;
    }
    wb_render_opts_init(&o);
    o.dialogue_audio = dlg;
    if (wb_doc_render(&doc, lookup, NULL, &o, &out, &err) != 0)
        abort();
    if (doc.n_blocks > 0 && memcmp(out.data, doc.src, doc.blocks[0].start) != 0)
        abort();
    if (doc.n_blocks > 0) {
        size_t tail = doc.len - doc.blocks[doc.n_blocks - 1].end;
        if (out.len < tail ||
            memcmp(out.data + out.len - tail, doc.src + doc.len - tail, tail) != 0)
            abort();
    } else if (out.len != doc.len || memcmp(out.data, doc.src, doc.len) != 0) {
        abort();
    }
    wb_buf_reset(&out);
    o.mode = WB_RENDER_PAGE;
    o.inline_assets = 1;
    if (wb_doc_render(&doc, lookup, NULL, &o, &out, &err) != 0)
        abort();
    /* The line parsers on every line. */
    for (size_t p = 0; p < size;) {
        const uint8_t *nl = memchr(data + p, '\n', size - p);
        size_t len = nl ? (size_t)(nl - (data + p)) : size - p;
        struct wb_word_item it;
        if (wb_word_line_parse((const char *)data + p, len, &it, &err) == 0)
            wb_word_item_release(&it);
        if (wb_word_tsv_parse((const char *)data + p, len, &it, &err) == 0)
            wb_word_item_release(&it);
        p += len + 1;
    }
    wb_buf_release(&out);
    wb_doc_release(&doc);
    return 0;
}
