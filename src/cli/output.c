/* What the commands print besides their own output: the one JSON value of
 * --json (and the error object when a command fails before printing it), and
 * repeated diagnostics, capped on stderr and listed in the JSON. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define DIAGS_SHOWN   20   /* on stderr; then "… and N more" */
#define DIAGS_IN_JSON 1000 /* in the JSON list; then a count */

static char last_error[1024];

void cli_remember_error(const char *msg)
{
    snprintf(last_error, sizeof last_error, "%s", msg);
}

void cli_json_emit(struct cli *c, const struct wb_buf *b)
{
    fwrite(b->data, 1, b->len, stdout);
    if (!b->len || b->data[b->len - 1] != '\n')
        fputc('\n', stdout);
    fflush(stdout);
    c->json_done = 1;
}

void cli_json_fallback(struct cli *c, int exit_code)
{
    struct wb_buf j;
    if (!c->json || c->json_done)
        return;
    wb_buf_init(&j, 0);
    wb_buf_appendf(&j,
                   "{\"status\": \"%s\", \"exit\": %d, \"error\": ", exit_code ? "error" : "done",
                   exit_code);
    if (exit_code && last_error[0])
        wb_json_quote(last_error, &j);
    else
        wb_buf_appends(&j, "null");
    wb_buf_appends(&j, "}\n");
    cli_json_emit(c, &j);
    wb_buf_release(&j);
}

void cli_diags_init(struct cli_diags *d)
{
    memset(d, 0, sizeof *d);
    wb_buf_init(&d->json, 0);
}

void cli_diag(struct cli_diags *d, const char *file, unsigned long line, const char *msg)
{
    if (d->n < DIAGS_SHOWN) {
        if (file)
            fprintf(stderr, "%s:%lu: %s\n", file, line, msg);
        else
            fprintf(stderr, "%s\n", msg);
    }
    if (d->n < DIAGS_IN_JSON) {
        wb_buf_appends(&d->json, d->n ? ", {\"file\": " : "{\"file\": ");
        if (file)
            wb_json_quote(file, &d->json);
        else
            wb_buf_appends(&d->json, "null");
        wb_buf_appendf(&d->json, ", \"line\": %lu, \"error\": ", line);
        wb_json_quote(msg, &d->json);
        wb_buf_appends(&d->json, "}");
    }
    d->n++;
}

void cli_diag_doc(struct cli_diags *d, const char *name, const char *msg)
{
    size_t n = strlen(name);
    unsigned long line = 0;
    char *end = NULL;
    if (!strncmp(msg, name, n) && msg[n] == ':')
        line = strtoul(msg + n + 1, &end, 10);
    if (line && end[0] == ':' && end[1] == ' ')
        cli_diag(d, name, line, end + 2);
    else
        cli_diag(d, NULL, 0, msg);
}

void cli_diags_end(struct cli_diags *d)
{
    if (d->n > DIAGS_SHOWN)
        fprintf(stderr, "… and %zu more like these\n", d->n - DIAGS_SHOWN);
}

void cli_diags_json(const struct cli_diags *d, struct wb_buf *out)
{
    wb_buf_append(out, "[", 1);
    if (d->json.len)
        wb_buf_append(out, d->json.data, d->json.len);
    wb_buf_append(out, "]", 1);
}

void cli_diags_release(struct cli_diags *d)
{
    wb_buf_release(&d->json);
}
