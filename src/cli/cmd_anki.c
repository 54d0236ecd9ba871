/* anki push: the word bank's cards into a running Anki through AnkiConnect
 * (settings anki_url, --anki-url or WORDBANK_ANKI_URL; anki_key). */
#include <string.h>

#include "cli.h"

int cmd_anki(struct cli *c)
{
    struct wb_store *st = NULL;
    struct wb_error err = { 0 };
    struct wb_anki_push_opts o;
    struct wb_anki_push_report rep = { .size = sizeof rep };
    int rc;

    if (c->argc != 1 || strcmp(c->argv[0], "push") != 0)
        return cli_usage("anki");
    if (!c->deck || !*c->deck) {
        cli_error("anki push needs --deck NAME");
        return EXIT_USAGE;
    }
    cli_preload(c, 0, WB_PRELOAD_NETWORK); /* AnkiConnect, over HTTP */
    if ((rc = cli_open_store(c, 0, &st)))
        return rc;
    if (!st) {
        cli_error("no word bank at %s", cli_db_path(c));
        return EXIT_ENV;
    }
    wb_anki_push_opts_init(&o);
    o.url = wb_config_get(c->cfg, "anki_url");
    o.key = wb_config_get(c->cfg, "anki_key");
    o.deck = c->deck;
    o.media_dir = cli_media_dir(c);
    rc = wb_anki_push(st, c->cfg, &o, &rep, &err);
    wb_store_close(st);
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        /* Anki not running or not AnkiConnect: the environment's fault. */
        return rc == WB_EINVAL ? EXIT_USAGE
               : rc == WB_ETRANSPORT || rc == WB_ETIMEOUT || rc == WB_EUNSUPPORTED || rc == WB_EHTTP
                   ? EXIT_ENV
                   : cli_exit_for(rc);
    }
    if (c->json) {
        struct wb_buf b;
        wb_buf_init(&b, 0);
        wb_buf_appends(&b, "{\"deck\": ");
        wb_json_quote(c->deck, &b);
        wb_buf_appendf(&b,
                       ", \"added\": %zu, \"updated\": %zu, \"unchanged\": %zu, \"failed\": %zu, "
                       "\"media\": %zu, \"deck_created\": %s, \"note_type_created\": %s}",
                       rep.added, rep.updated, rep.unchanged, rep.failed, rep.media,
                       rep.deck_created ? "true" : "false",
                       rep.note_type_created ? "true" : "false");
        cli_json_emit(c, &b);
        wb_buf_release(&b);
    } else if (c->verbosity >= 0) {
        printf("Anki deck %s: %zu added, %zu updated, %zu unchanged, %zu media files%s%s\n",
               c->deck, rep.added, rep.updated, rep.unchanged, rep.media,
               rep.deck_created ? " (deck created)" : "",
               rep.note_type_created ? " (note type created)" : "");
    }
    if (rep.failed) {
        cli_error("Anki refused %zu notes", rep.failed);
        return EXIT_SOME_FAILED;
    }
    return EXIT_OK;
}
