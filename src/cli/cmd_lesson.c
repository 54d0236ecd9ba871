/* render and build: Markdown lessons with <wordbank>/<dialogue> blocks to
 * HTML cards and quizzes, through the library's sites (wb_site_*,
 * wordbank/content.h). Here: the options, the generation run with its
 * progress and summary (entries that miss something are generated first, one
 * run for the whole site, unless --cache-only), and what is printed. */
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

/* What the site reports, printed the command's way. */
struct lesson {
    struct cli_diags diags; /* the pages' diagnostics, capped */
};

static void on_diag(void *ud, const char *name, const char *msg)
{
    struct lesson *l = ud;
    cli_diag_doc(&l->diags, name, msg);
}

static void on_warning(void *ud, const char *msg)
{
    (void)ud;
    cli_warn("%s", msg);
}

static int on_stdout(void *ud, const char *html, size_t len)
{
    (void)ud;
    return fwrite(html, 1, len, stdout) == len ? 0 : WB_EIO;
}

/* A library error of the site as the command's exit code, reported. Manifest
 * lines ("LIST:LINE: reason") are printed as they are. */
static int site_error(const struct wb_error *err, int rc)
{
    if (rc == WB_EPARSE) {
        fprintf(stderr, "%s\n", wb_error_text(err));
        return EXIT_USAGE;
    }
    cli_error("%s", wb_error_text(err));
    return rc == WB_EINVAL ? EXIT_USAGE : EXIT_ENV;
}

static void site_opts(struct cli *c, struct lesson *l, enum wb_site_kind kind, const char *out_dir,
                      struct wb_site_opts *o)
{
    wb_site_opts_init(o);
    o->kind = kind;
    o->cfg = c->cfg;
    o->media_dir = cli_media_dir(c);
    o->out_dir = out_dir;
    o->base_url = c->base_url;
    o->media_url = c->media_url;
    o->inline_assets = c->inline_assets;
    o->cache_only = c->cache_only;
    o->on_diag = on_diag;
    o->on_warning = on_warning;
    o->on_stdout = on_stdout;
    o->ud = l;
}

/* A page given on the command line ("-": standard input). */
static int add_page(struct wb_site *site, const char *src, const char *out, struct wb_error *err)
{
    struct wb_buf text;
    int rc;
    if (strcmp(src, "-"))
        return wb_site_add_page(site, src, NULL, 0, out, "", err);
    wb_buf_init(&text, WB_CONTENT_MAX_DOC);
    rc = wb_buf_read_input(&text, src, err);
    if (!rc)
        rc = wb_site_add_page(site, src, text.data ? text.data : "", text.len, out, "", err);
    wb_buf_release(&text);
    return rc;
}

/* Generate whatever the pages' entries miss, in one run. */
static int generate(struct cli *c, struct wb_store *st, struct wb_site *site)
{
    struct cli_run cr;
    struct wb_error err = { 0 };
    size_t n = 0;
    int rc;
    if (c->cache_only || !st)
        return EXIT_OK;
    if ((rc = cli_run_begin(c, st, &cr)))
        return rc;
    wb_site_queue(site, cr.run, &n, &err);
    if (!n) {
        wb_run_free(cr.run);
        return EXIT_OK;
    }
    return cli_run_finish(c, &cr);
}

/* The rest of a command once the pages are in: check (render), open the
 * word bank, generate, write. */
static int finish(struct cli *c, struct wb_site *site)
{
    struct wb_error err = { 0 };
    struct wb_store *st = NULL;
    int rc, failed = 0;
    if ((rc = wb_site_check(site, &err)))
        return site_error(&err, rc);
    if ((rc = cli_open_store(c, !c->cache_only, &st)))
        return rc;
    rc = generate(c, st, site);
    if (rc == EXIT_SOME_FAILED)
        failed = 1;
    else if (rc)
        goto out;
    rc = wb_site_write(site, st, &err);
    if (rc == WB_EINCOMPLETE) {
        failed = 1;
        rc = EXIT_OK;
    } else if (rc) {
        cli_error("%s", wb_error_text(&err)); /* a page not rendered or not written */
        rc = EXIT_ENV;
        goto out;
    }
    rc = failed ? EXIT_SOME_FAILED : EXIT_OK;
out:
    wb_store_close(st);
    return rc;
}

int cmd_render(struct cli *c)
{
    struct lesson l;
    struct wb_site_opts o;
    struct wb_site *site = NULL;
    struct wb_error err = { 0 };
    char site_dir[PATH_MAX];
    int rc = 0, to_stdout = 0;
    if (c->manifest) {
        if (c->argc != 0 || !c->output || !strcmp(c->output, "-"))
            return cli_usage("render");
        snprintf(site_dir, sizeof site_dir, "%s", c->output);
    } else if (c->argc == 1) {
        to_stdout = !c->output || !strcmp(c->output, "-");
        if (to_stdout) {
            snprintf(site_dir, sizeof site_dir, ".");
        } else {
            char tmp[PATH_MAX];
            snprintf(tmp, sizeof tmp, "%s", c->output);
            snprintf(site_dir, sizeof site_dir, "%s", dirname(tmp));
        }
    } else if (!(c->argc > 1 && c->output && strcmp(c->output, "-"))) {
        return cli_usage("render");
    } else {
        snprintf(site_dir, sizeof site_dir, "%s", c->output);
    }
    cli_diags_init(&l.diags);
    site_opts(c, &l, WB_SITE_RENDER, site_dir, &o);
    if ((rc = wb_site_new(&o, &site, &err))) {
        rc = site_error(&err, rc);
        goto out;
    }
    if (c->manifest) {
        struct wb_buf text;
        wb_buf_init(&text, 64u << 20);
        if ((rc = wb_buf_read_input(&text, c->manifest, &err))) {
            cli_error("%s", wb_error_text(&err));
            rc = EXIT_ENV;
        } else if ((rc = wb_site_add_manifest(site, c->manifest, text.data ? text.data : "",
                                              text.len, &err))) {
            rc = site_error(&err, rc);
        }
        wb_buf_release(&text);
    } else if (c->argc == 1) {
        if ((rc = add_page(site, c->argv[0], to_stdout ? "-" : c->output, &err)))
            rc = site_error(&err, rc);
    } else {
        /* Several files into the folder -o: each NAME.md as NAME.html. */
        for (int i = 0; i < c->argc && !rc; i++) {
            char tmp[PATH_MAX], name[PATH_MAX];
            struct wb_buf out;
            size_t n;
            snprintf(tmp, sizeof tmp, "%s", c->argv[i]);
            snprintf(name, sizeof name, "%s", basename(tmp));
            n = strlen(name);
            if (n > 3 && !strcmp(name + n - 3, ".md"))
                name[n - 3] = '\0';
            wb_buf_init(&out, 0);
            wb_buf_appendf(&out, "%s/%s.html", site_dir, name);
            if ((rc = add_page(site, c->argv[i], out.data, &err)))
                rc = site_error(&err, rc);
            wb_buf_release(&out);
        }
    }
    /* The page itself goes to stdout: a JSON summary there would spoil it. */
    if (to_stdout)
        c->json = 0;
    if (!rc)
        rc = finish(c, site);
out:
    cli_diags_end(&l.diags);
    cli_diags_release(&l.diags);
    wb_site_free(site);
    return rc;
}

int cmd_build(struct cli *c)
{
    struct lesson l;
    struct wb_site_opts o;
    struct wb_site *site = NULL;
    struct wb_error err = { 0 };
    struct stat sb;
    int rc;
    if (c->argc != 1 || !c->output)
        return cli_usage("build");
    if (stat(c->argv[0], &sb) || !S_ISDIR(sb.st_mode)) {
        cli_error("%s: not a directory", c->argv[0]);
        return EXIT_USAGE;
    }
    cli_diags_init(&l.diags);
    site_opts(c, &l, WB_SITE_BUILD, c->output, &o);
    if ((rc = wb_site_new(&o, &site, &err)) || (rc = wb_site_add_dir(site, c->argv[0], &err))) {
        rc = site_error(&err, rc);
        goto out;
    }
    rc = finish(c, site);
    if ((rc == EXIT_OK || rc == EXIT_SOME_FAILED) && c->verbosity >= 0) {
        size_t n = wb_site_page_count(site);
        fprintf(stderr, "built %zu page%s into %s\n", n, n == 1 ? "" : "s", c->output);
    }
out:
    cli_diags_end(&l.diags);
    cli_diags_release(&l.diags);
    wb_site_free(site);
    return rc;
}
