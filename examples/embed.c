/* Embedding wordbank: open a word bank, add 猫 / cat with the blocking call
 * (offline: MeCab + EDICT for the details, espeak-ng for the audio) and print
 * the entry's reading.
 *
 *   cc embed.c $(pkg-config --cflags --libs wordbank) -o embed
 *   ./embed [DB]          prints ねこ (DB default: embed.db)
 */
#include <stdio.h>

#include <wordbank/wordbank.h>

static void on_progress(void *ud, const struct wb_run_stats *s)
{
    (void)ud;
    fprintf(stderr, "\r%lld/%lld entries", (long long)(s->entries_done + s->entries_failed),
            (long long)s->entries);
}

int main(int argc, char **argv)
{
    struct wb_error err = { 0 };
    struct wb_config *cfg = NULL;
    struct wb_bank *bank = NULL;
    struct wb_run_opts opts = { 0 };
    struct wb_entry e;
    int rc;

    wb_entry_init(&e);
    rc = wb_config_new(&cfg);
    if (!rc)
        rc = wb_config_set(cfg, "provider", "offline", WB_SRC_FLAG);
    if (rc) {
        fprintf(stderr, "embed: %s\n", wb_strerror(rc));
        return 1;
    }
    rc = wb_bank_open(argc > 1 ? argv[1] : "embed.db", cfg, WB_STORE_CREATE, &bank, &err);
    if (!rc) {
        wb_run_opts_init(&opts);
        opts.on_progress = on_progress;
        rc = wb_bank_add(bank, "猫", "cat", "the household pet", &opts, &e, &err);
        fputc('\n', stderr);
    }
    if (rc) {
        fprintf(stderr, "embed: %s\n", wb_error_text(&err));
    } else {
        printf("%s\n", e.reading ? e.reading : "");
        fprintf(stderr, "libwordbank %s (headers %s)\n", wb_version(), WB_VERSION_STRING);
    }
    wb_entry_release(&e);
    wb_bank_close(bank);
    wb_config_free(cfg);
    return rc ? 1 : 0;
}
