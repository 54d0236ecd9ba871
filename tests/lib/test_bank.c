/* The embedding API (wordbank/bank.h) through the shared library, as an
 * embedding program sees it: open, add offline (blocking, with progress),
 * read, render Markdown from the bank; and the version API. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "test.h"
#include "wordbank/wordbank.h"

TEST(version_api)
{
    char want[32];
    snprintf(want, sizeof want, "%d.%d.%d", WB_VERSION_MAJOR, WB_VERSION_MINOR, WB_VERSION_PATCH);
    CHECK_STR(WB_VERSION_STRING, want);
    CHECK_STR(wb_version(), WB_VERSION_STRING);
    CHECK(WB_VERSION_NUM ==
          ((WB_VERSION_MAJOR << 16) | (WB_VERSION_MINOR << 8) | WB_VERSION_PATCH));
}

TEST(bank_open_missing)
{
    struct wb_error err = { 0 };
    struct wb_bank *b = (struct wb_bank *)1;
    char path[4096];
    snprintf(path, sizeof path, "%s/none/wb.db", th_tmpdir());
    CHECK_INT(wb_bank_open(path, NULL, 0, &b, &err), WB_ENOTFOUND);
    CHECK(b == NULL);
    CHECK(strstr(wb_error_text(&err), "wb.db") != NULL);
    struct stat sb;
    CHECK(stat(path, &sb) != 0); /* nothing created without WB_STORE_CREATE */
    wb_bank_close(NULL);
}

static void count_progress(void *ud, const struct wb_run_stats *s)
{
    int *n = ud;
    (*n)++;
    CHECK(s->entries <= 1);
}

struct diags {
    int n;
    char first[256];
};

static void on_diag(void *ud, const char *msg)
{
    struct diags *d = ud;
    if (!d->n++)
        snprintf(d->first, sizeof d->first, "%s", msg);
}

TEST(bank_add_get_render)
{
    struct wb_error err = { 0 };
    struct wb_config *cfg = NULL;
    struct wb_bank *b = NULL;
    struct wb_run_opts o = { 0 };
    struct wb_entry e, g;
    struct wb_buf html;
    struct diags d = { 0 };
    char path[8192], cache[4096], media[4096];
    int progress = 0;
    const char *md = "# Lesson\n\n<wordbank>\n- 猫: cat (the pet)\n- not a word line\n"
                     "- 犬: dog\n</wordbank>\n";

    snprintf(path, sizeof path, "%s/deep/folder/wb.db", th_tmpdir());
    snprintf(cache, sizeof cache, "%s/cache", th_tmpdir());
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_INT(wb_config_set(cfg, "provider", "offline", WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_set(cfg, "cache_dir", cache, WB_SRC_FLAG), 0);
    CHECK_OK(wb_bank_open(path, cfg, WB_STORE_CREATE, &b, &err), &err);
    snprintf(media, sizeof media, "%s/deep/folder/media", th_tmpdir());
    CHECK_STR(wb_bank_media_dir(b), media);
    CHECK(wb_bank_config(b) == cfg);
    CHECK_STR(wb_store_path(wb_bank_store(b)), path);

    wb_entry_init(&e);
    CHECK_INT(wb_bank_add(b, "  ", "cat", NULL, NULL, &e, &err), WB_EINVAL);

    o.on_progress = count_progress;
    o.ud = &progress;
    CHECK_OK(wb_bank_add(b, "猫", "cat", "the pet", &o, &e, &err), &err);
    CHECK(progress >= 1);
    CHECK_STR(e.word, "猫");
    CHECK_STR(e.reading, "ねこ");
    CHECK_INT(e.stages[WB_STAGE_DETAILS].state, WB_STATE_DONE);
    CHECK_INT(e.stages[WB_STAGE_AUDIO].state, WB_STATE_DONE);
    CHECK(e.stages[WB_STAGE_AUDIO].file != NULL);
    snprintf(path, sizeof path, "%s/%s", media, e.stages[WB_STAGE_AUDIO].file);
    CHECK(wb_media_file_valid(path));

    wb_entry_init(&g);
    CHECK_OK(wb_bank_get(b, "猫", "cat", &g, &err), &err);
    CHECK_STR(g.reading, "ねこ");
    CHECK_INT(g.id, e.id);
    CHECK_INT(wb_bank_get(b, "犬", "dog", &g, &err), WB_ENOTFOUND);

    wb_buf_init(&html, 0);
    CHECK_OK(
        wb_bank_render_markdown(b, "lesson.md", md, strlen(md), NULL, on_diag, &d, &html, &err),
        &err);
    CHECK(strstr(html.data, "ねこ") != NULL);     /* 猫's card, from the bank */
    CHECK(strstr(html.data, "dog") != NULL);      /* 犬 is not in the bank: the line's own */
    CHECK(strstr(html.data, "# Lesson") != NULL); /* a fragment keeps the Markdown */
    CHECK_INT(d.n, 1);
    CHECK_MSG(!strncmp(d.first, "lesson.md:5:", 12), "diag: %s", d.first);

    wb_buf_release(&html);
    wb_entry_release(&e);
    wb_entry_release(&g);
    wb_bank_close(b);
    wb_config_free(cfg);
}

TEST(bank_memory_defaults)
{
    struct wb_error err = { 0 };
    struct wb_bank *b = NULL;
    struct wb_entry e;
    CHECK_OK(wb_bank_open(":memory:", NULL, WB_STORE_CREATE, &b, &err), &err);
    CHECK(wb_bank_config(b) != NULL); /* a private configuration, defaults only */
    CHECK_STR(wb_config_get(wb_bank_config(b), "lang"), "ja");
    CHECK_STR(wb_bank_media_dir(b), "./media");
    wb_entry_init(&e);
    CHECK_INT(wb_bank_get(b, "猫", "cat", &e, &err), WB_ENOTFOUND);
    wb_entry_release(&e);
    wb_bank_close(b);
}
