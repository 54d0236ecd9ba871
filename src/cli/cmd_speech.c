/* tts and dialogue: speech for any text, and a two-voice dialogue, written to
 * a file in the format its extension names (or --audio-format). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

int cli_write_file(const char *path, const void *data, size_t len)
{
    struct wb_error err = { 0 };
    if (!strcmp(path, "-"))
        return fwrite(data, 1, len, stdout) == len ? 0 : -1;
    if (wb_file_write(path, data, len, &err) < 0) {
        cli_error("%s", wb_error_text(&err));
        return -1;
    }
    return 0;
}

/* The format: the output's extension (.mp3, .m4a, .opus, .wav), else
 * --audio-format, else mp3. An extension wordbank cannot write, or one that
 * contradicts --audio-format, is refused (exit 2): t.xyz must not hold MP3. */
static const char *format_for(const struct cli *c, const char *path)
{
    static const char *const names[] = { "mp3", "m4a", "opus", "wav" };
    const char *flag = wb_config_source_of(c->cfg, "audio_format") != WB_SRC_DEFAULT
                           ? wb_config_get(c->cfg, "audio_format")
                           : NULL;
    const char *base = strrchr(path, '/'), *dot;
    int f;
    base = base ? base + 1 : path;
    dot = strrchr(base, '.');
    if (!strcmp(path, "-") || !dot || dot == base)
        return flag ? flag : "mp3";
    f = wb_audio_format_from_path(path);
    if (f < 0 || f >= 4) {
        cli_error("%s: wordbank cannot write audio as '%s' (use .mp3, .m4a, .opus or .wav)", path,
                  dot);
        return NULL;
    }
    if (flag && strcmp(flag, names[f])) {
        cli_error("%s: the extension says %s but --audio-format says %s", path, names[f], flag);
        return NULL;
    }
    return names[f];
}

static int finish(struct cli *c, const char *format, int rc, struct wb_error *err,
                  struct wb_buf *out, const char *script)
{
    if (rc) {
        const char *msg = wb_error_text(err);
        unsigned long line = 0;
        int off = 0;
        /* "dialogue line 3 has no speaker" -> "FILE:3: has no speaker" */
        if (script && sscanf(msg, "dialogue line %lu %n", &line, &off) == 1 && off > 0)
            cli_error("%s:%lu: %s", script, line, msg + off);
        else if (script && !strncmp(msg, "dialogue ", 9))
            cli_error("%s: %s", script, msg);
        else
            cli_error("%s", msg);
        rc = rc == WB_EINVAL ? EXIT_USAGE : cli_exit_for(rc);
    } else if (cli_write_file(c->output, out->data, out->len)) {
        rc = EXIT_ENV;
    } else if (c->json) {
        struct wb_buf j;
        wb_buf_init(&j, 0);
        wb_buf_appends(&j, "{\"output\": ");
        wb_json_quote(c->output, &j);
        wb_buf_appends(&j, ", \"format\": ");
        wb_json_quote(format, &j);
        wb_buf_appendf(&j, ", \"bytes\": %zu}", out->len);
        cli_json_emit(c, &j);
        wb_buf_release(&j);
    }
    wb_buf_release(out);
    return rc;
}

/* The output file: given, a format wordbank writes, and not stdout with --json. */
static const char *output_format(struct cli *c, const char *command)
{
    const char *fmt;
    if (c->argc != 1 || !c->output) {
        cli_usage(command);
        return NULL;
    }
    if (c->json && !strcmp(c->output, "-")) {
        cli_error("%s --json needs -o FILE (stdout is for the JSON summary)", command);
        return NULL;
    }
    fmt = format_for(c, c->output);
    return fmt;
}

int cmd_tts(struct cli *c)
{
    struct wb_error err = { 0 };
    struct wb_buf out;
    const char *fmt = output_format(c, "tts");
    if (!fmt)
        return EXIT_USAGE;
    cli_preload(c, WB_STAGE_BIT(WB_STAGE_AUDIO), WB_PRELOAD_NETWORK);
    wb_buf_init(&out, 0);
    return finish(c, fmt, wb_speak(c->cfg, c->argv[0], fmt, &out, &err), &err, &out, NULL);
}

int cmd_dialogue(struct cli *c)
{
    struct wb_error err = { 0 };
    struct wb_buf script, out;
    const char *fmt = output_format(c, "dialogue");
    const char *name;
    int rc;
    if (!fmt)
        return EXIT_USAGE;
    cli_preload(c, WB_STAGE_BIT(WB_STAGE_AUDIO), WB_PRELOAD_NETWORK);
    name = strcmp(c->argv[0], "-") ? c->argv[0] : "<stdin>";
    wb_buf_init(&script, 1 << 20);
    wb_buf_init(&out, 0);
    rc = wb_buf_read_input(&script, c->argv[0], &err);
    if (!rc)
        rc = wb_speak_dialogue(c->cfg, script.data, script.len, fmt, &out, &err);
    wb_buf_release(&script);
    return finish(c, fmt, rc, &err, &out, name);
}
