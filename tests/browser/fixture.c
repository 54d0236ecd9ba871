/* Builds the pages the browser test opens, with the content API and
 * in-memory entries (until the CLI's build command exists):
 *   OUT/lesson.html   page mode: Markdown, a <wordbank> block, a <dialogue>
 *   OUT/lesson.md     fragment mode of the same file
 *   OUT/preview.html  every card with the search box
 *   OUT/media/cat.svg the picture; the recording (argv[2]) is made by the test
 *   OUT/wordbank-assets/  CSS and JS
 * Usage: browser_fixture OUT_DIR AUDIO_FILE_NAME
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "wordbank/content.h"

#define XSS "<img src=x onerror=alert(1)>"

static const char lesson[] =
    "# Animals and food\n"
    "\n"
    "Turn each card with a click, **Enter** or **Space**; the round button plays the word.\n"
    "\n"
    "<wordbank>\n"
    "- 猫: cat (the common household pet)\n"
    "- 食べる: to eat (food, meals)\n"
    "- 犬: dog\n"
    "- " XSS ": " XSS " (" XSS ")\n"
    "this line does not parse\n"
    "</wordbank>\n"
    "\n"
    "## A short dialogue\n"
    "\n"
    "<dialogue>\n"
    "田中: 猫が好きですか。\n"
    "Smith: はい、大好きです！\n"
    "</dialogue>\n";

static const char cat_svg[] =
    "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"400\" height=\"300\" viewBox=\"0 0 400 300\">"
    "<rect width=\"400\" height=\"300\" fill=\"#f3e9d6\"/>"
    "<circle cx=\"330\" cy=\"60\" r=\"30\" fill=\"#f6c667\"/>"
    "<path d=\"M130 110 L150 40 L190 95 Z M270 110 L250 40 L210 95 Z\" fill=\"#5b5f73\"/>"
    "<ellipse cx=\"200\" cy=\"160\" rx=\"95\" ry=\"85\" fill=\"#5b5f73\"/>"
    "<ellipse cx=\"165\" cy=\"150\" rx=\"13\" ry=\"17\" fill=\"#fff\"/>"
    "<ellipse cx=\"235\" cy=\"150\" rx=\"13\" ry=\"17\" fill=\"#fff\"/>"
    "<circle cx=\"167\" cy=\"153\" r=\"7\" fill=\"#1f2330\"/><circle cx=\"237\" cy=\"153\" r=\"7\" fill=\"#1f2330\"/>"
    "<path d=\"M192 185 L208 185 L200 195 Z\" fill=\"#f29ca3\"/>"
    "<path d=\"M120 185 L170 190 M120 200 L170 197 M280 185 L230 190 M280 200 L230 197\" "
    "stroke=\"#d8d8e0\" stroke-width=\"3\" stroke-linecap=\"round\"/>"
    "</svg>\n";

static struct wb_entry entries[3];
static const char *audio_file;

static void setup_entries(void)
{
    struct wb_entry *e = &entries[0];
    wb_entry_init(e);
    e->word = strdup("猫");
    e->translation = strdup("cat");
    e->language = strdup("ja");
    e->context = strdup("the common household pet");
    e->reading = strdup("ネコ");
    e->description = strdup("A small furry animal that many people keep at home.");
    e->image_description = strdup("A grey cat with big eyes under a yellow sun");
    wb_entry_add_example(e, "猫が好きです。", "I like cats.");
    wb_entry_add_example(e, "黒い猫が寝ています。", "A black cat is sleeping.");
    e->stages[WB_STAGE_IMAGE].state = WB_STATE_DONE;
    e->stages[WB_STAGE_IMAGE].file = strdup("cat.svg");
    e->stages[WB_STAGE_AUDIO].state = WB_STATE_DONE;
    e->stages[WB_STAGE_AUDIO].file = strdup(audio_file);

    e = &entries[1];
    wb_entry_init(e);
    e->word = strdup("食べる");
    e->translation = strdup("to eat");
    e->language = strdup("ja");
    e->context = strdup("food, meals");
    e->reading = strdup("たべる");
    wb_entry_add_example(e, "朝ご飯を食べる。", "I eat breakfast.");
    e->stages[WB_STAGE_IMAGE].state = WB_STATE_FAILED; /* no picture: still a card */

    e = &entries[2];
    wb_entry_init(e);
    e->word = strdup(XSS);
    e->translation = strdup(XSS);
    e->language = strdup("ja");
    e->context = strdup(XSS);
    e->reading = strdup(XSS);
    e->description = strdup(XSS);
    e->image_description = strdup(XSS);
    wb_entry_add_example(e, XSS, XSS);
}

static const struct wb_entry *lookup(void *ud, const char *word, const char *translation)
{
    (void)ud;
    (void)translation;
    for (size_t i = 0; i < 3; i++)
        if (strcmp(entries[i].word, word) == 0)
            return &entries[i];
    return NULL; /* 犬: only what the Markdown says */
}

static const char *dialogue_audio(void *ud, const struct wb_block *b)
{
    (void)ud;
    (void)b;
    return audio_file;
}

static int write_all(const char *dir, const char *name, const char *data, size_t len)
{
    char path[4096];
    FILE *f;
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (!(f = fopen(path, "wb")) || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "fixture: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    struct wb_error err = { 0 };
    struct wb_doc doc;
    struct wb_buf out;
    struct wb_render_opts o;
    char media[4096];
    int rc = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: %s OUT_DIR AUDIO_FILE_NAME\n", argv[0]);
        return 2;
    }
    audio_file = argv[2];
    setup_entries();
    wb_doc_init(&doc);
    wb_buf_init(&out, 0);
    snprintf(media, sizeof(media), "%s/media", argv[1]);
    mkdir(media, 0755);
    if (wb_site_write_assets(argv[1], &err) < 0 ||
        write_all(argv[1], "media/cat.svg", cat_svg, strlen(cat_svg)))
        goto out;
    if (wb_doc_parse(&doc, "lesson.md", lesson, strlen(lesson), &err) < 0)
        goto out;
    for (size_t i = 0; i < doc.n_diags; i++)
        fprintf(stderr, "%s\n", doc.diags[i]);
    wb_render_opts_init(&o);
    o.mode = WB_RENDER_PAGE;
    o.title = "Animals and food";
    o.dialogue_audio = dialogue_audio;
    if (wb_doc_render(&doc, lookup, NULL, &o, &out, &err) < 0 ||
        write_all(argv[1], "lesson.html", out.data, out.len))
        goto out;
    wb_buf_reset(&out);
    o.mode = WB_RENDER_FRAGMENT;
    if (wb_doc_render(&doc, lookup, NULL, &o, &out, &err) < 0 ||
        write_all(argv[1], "lesson.md", out.data, out.len))
        goto out;
    wb_buf_reset(&out);
    o.title = "Word bank";
    if (wb_render_preview(entries, 3, &o, &out, &err) < 0 ||
        write_all(argv[1], "preview.html", out.data, out.len))
        goto out;
    rc = 0;
out:
    if (rc && err.code)
        fprintf(stderr, "fixture: %s\n", wb_error_text(&err));
    wb_buf_release(&out);
    wb_doc_release(&doc);
    for (size_t i = 0; i < 3; i++)
        wb_entry_release(&entries[i]);
    return rc;
}
