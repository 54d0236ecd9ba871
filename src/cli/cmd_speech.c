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
    char tmp[4096];
    int fd;
    ssize_t w;
    size_t off = 0;
    if (!strcmp(path, "-")) {
        return fwrite(data, 1, len, stdout) == len ? 0 : -1;
    }
    snprintf(tmp, sizeof tmp, "%s.tmpXXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) {
        cli_error("%s: %s", path, strerror(errno));
        return -1;
    }
    while (off < len) {
        w = write(fd, (const char *)data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            cli_error("%s: %s", path, strerror(errno));
            close(fd);
            unlink(tmp);
            return -1;
        }
        off += (size_t)w;
    }
    if (fchmod(fd, 0644) < 0 || fsync(fd) < 0 || close(fd) < 0 || rename(tmp, path) < 0) {
        cli_error("%s: %s", path, strerror(errno));
        unlink(tmp);
        return -1;
    }
    return 0;
}

/* The format: --audio-format when given, else the output's extension, else mp3. */
static const char *format_for(const struct cli *c, const char *path)
{
    static const char *const names[] = { "mp3", "m4a", "opus", "wav" };
    int f;
    if (wb_config_source_of(c->cfg, "audio_format") != WB_SRC_DEFAULT)
        return wb_config_get(c->cfg, "audio_format");
    f = wb_audio_format_from_path(path);
    return f >= 0 && f < 4 ? names[f] : "mp3";
}

static int finish(const struct cli *c, int rc, struct wb_error *err, struct wb_buf *out)
{
    if (rc) {
        cli_error("%s", wb_error_text(err));
        rc = rc == WB_EINVAL ? EXIT_USAGE : cli_exit_for(rc);
    } else if (cli_write_file(c->output, out->data, out->len)) {
        rc = EXIT_ENV;
    }
    wb_buf_release(out);
    return rc;
}

int cmd_tts(struct cli *c)
{
    struct wb_error err = { 0 };
    struct wb_buf out;
    if (c->argc != 1 || !c->output)
        return cli_usage("tts");
    wb_buf_init(&out, 0);
    return finish(c, wb_speak(c->cfg, c->argv[0], format_for(c, c->output), &out, &err), &err,
                  &out);
}

int cmd_dialogue(struct cli *c)
{
    struct wb_error err = { 0 };
    struct wb_buf script, out;
    int rc;
    if (c->argc != 1 || !c->output)
        return cli_usage("dialogue");
    wb_buf_init(&script, 1 << 20);
    wb_buf_init(&out, 0);
    if (!strcmp(c->argv[0], "-")) {
        char tmp[4096];
        size_t n;
        rc = 0;
        while (!rc && (n = fread(tmp, 1, sizeof tmp, stdin)) > 0)
            rc = wb_buf_append(&script, tmp, n);
        if (rc)
            wb_error_set(&err, rc, "<stdin>: %s", wb_strerror(rc));
    } else {
        rc = wb_buf_read_file(&script, c->argv[0], &err);
    }
    if (!rc)
        rc = wb_speak_dialogue(c->cfg, script.data, script.len, format_for(c, c->output), &out,
                               &err);
    wb_buf_release(&script);
    return finish(c, rc, &err, &out);
}
