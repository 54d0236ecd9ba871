/* render, build and preview: Markdown lessons with <wordbank>/<dialogue>
 * blocks to HTML cards and quizzes. Entries that miss something are generated
 * first (one pipeline run for the whole site), unless --cache-only. */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

struct page {
    char *src_path;  /* the Markdown file */
    char *rel;       /* build: its path below SRC_DIR, ".md" replaced by ".html" */
    char *out_path;  /* render: where the page goes ("-": stdout) */
    char *root_rel;  /* render: the way from the page's folder to the site folder */
    struct wb_doc doc;
};

struct site {
    struct cli *c;
    struct wb_store *st;
    struct page *pages;
    size_t n_pages, cap_pages;
    struct wb_entry *entries; /* every entry the pages name, loaded once */
    size_t n_entries, cap_entries;
    const char *out_dir;      /* the site folder: media are copied into its media/ */
    int copy_media;
    const char *cur_root;     /* the page's relative way to the site folder */
    struct dlg {
        const struct wb_block *block;
        char *file;           /* media file of the clip */
    } *dlgs;
    size_t n_dlgs;
    int failed;               /* diagnostics or failures: exit 1 */
    struct cli_diags diags;   /* the pages' diagnostics, capped */
};

static int add_page(struct site *s, const char *path, const char *rel)
{
    struct wb_error err = { 0 };
    struct wb_buf text;
    struct page *p;
    int rc;
    if (s->n_pages == s->cap_pages) {
        size_t cap = s->cap_pages ? s->cap_pages * 2 : 16;
        p = realloc(s->pages, cap * sizeof *p);
        if (!p)
            return EXIT_ENV;
        s->pages = p;
        s->cap_pages = cap;
    }
    p = &s->pages[s->n_pages];
    memset(p, 0, sizeof *p);
    wb_doc_init(&p->doc);
    wb_buf_init(&text, WB_CONTENT_MAX_DOC);
    rc = wb_buf_read_input(&text, path, &err);
    if (!rc)
        rc = wb_doc_parse(&p->doc, strcmp(path, "-") ? path : "<stdin>", text.data, text.len, &err);
    wb_buf_release(&text);
    if (rc) {
        cli_error("%s", wb_error_text(&err));
        wb_doc_release(&p->doc);
        return EXIT_ENV;
    }
    for (size_t i = 0; i < p->doc.n_diags; i++) {
        cli_diag_doc(&s->diags, p->doc.name, p->doc.diags[i]);
        s->failed = 1;
    }
    p->src_path = strdup(path);
    p->rel = rel ? strdup(rel) : NULL;
    s->n_pages++;
    return EXIT_OK;
}

static void site_release(struct site *s)
{
    cli_diags_end(&s->diags);
    cli_diags_release(&s->diags);
    for (size_t i = 0; i < s->n_pages; i++) {
        wb_doc_release(&s->pages[i].doc);
        free(s->pages[i].src_path);
        free(s->pages[i].rel);
        free(s->pages[i].out_path);
        free(s->pages[i].root_rel);
    }
    free(s->pages);
    for (size_t i = 0; i < s->n_entries; i++)
        wb_entry_release(&s->entries[i]);
    free(s->entries);
    for (size_t i = 0; i < s->n_dlgs; i++) {
        free(s->dlgs[i].file);
    }
    free(s->dlgs);
}

/* Every two-voice <dialogue> block gets its clip (made once, then found). */
static void make_dialogues(struct site *s)
{
    const char *format = wb_config_get(s->c->cfg, "audio_format");
    size_t total = 0;
    for (size_t i = 0; i < s->n_pages; i++) {
        for (size_t b = 0; b < s->pages[i].doc.n_blocks; b++)
            total += s->pages[i].doc.blocks[b].kind == WB_BLOCK_DIALOGUE;
    }
    if (!total || !(s->dlgs = calloc(total, sizeof *s->dlgs)))
        return;
    for (size_t i = 0; i < s->n_pages; i++) {
        for (size_t b = 0; b < s->pages[i].doc.n_blocks; b++) {
            const struct wb_block *bl = &s->pages[i].doc.blocks[b];
            struct dlg *d;
            struct wb_buf script;
            struct wb_error err = { 0 };
            if (bl->kind != WB_BLOCK_DIALOGUE)
                continue;
            d = &s->dlgs[s->n_dlgs++];
            d->block = bl;
            if (!bl->two_voice) {
                s->failed = 1; /* the parser said why (one diagnostic) */
                continue;
            }
            wb_buf_init(&script, 0);
            for (size_t l = 0; l < bl->n_lines; l++)
                wb_buf_appendf(&script, "%s: %s\n", bl->lines[l].speaker, bl->lines[l].text);
            if (wb_dialogue_file(s->c->cfg, cli_media_dir(s->c), script.data, script.len, format,
                                 s->c->cache_only, &d->file, &err)) {
                if (!(s->c->cache_only && err.code == WB_ENOTFOUND)) {
                    struct wb_buf m;
                    wb_buf_init(&m, 0);
                    wb_buf_appendf(&m, "dialogue audio: %s", wb_error_text(&err));
                    cli_diag(&s->diags, s->pages[i].doc.name, bl->line,
                             m.data ? m.data : "dialogue audio");
                    wb_buf_release(&m);
                    s->failed = 1;
                }
            }
            wb_buf_release(&script);
        }
    }
}

static const char *dialogue_audio(void *ud, const struct wb_block *block)
{
    struct site *s = ud;
    for (size_t i = 0; i < s->n_dlgs; i++) {
        if (s->dlgs[i].block == block)
            return s->dlgs[i].file;
    }
    return NULL;
}

/* Generate whatever the pages' entries miss, in one run. */
static int generate(struct site *s)
{
    struct cli_run cr;
    struct wb_error err = { 0 };
    size_t n = 0;
    int rc;
    if (s->c->cache_only)
        return EXIT_OK;
    if ((rc = cli_run_begin(s->c, s->st, &cr)))
        return rc;
    for (size_t i = 0; i < s->n_pages; i++) {
        for (size_t b = 0; b < s->pages[i].doc.n_blocks; b++) {
            const struct wb_block *bl = &s->pages[i].doc.blocks[b];
            for (size_t k = 0; k < bl->n_items; k++) {
                if (wb_run_add(cr.run, bl->items[k].word, bl->items[k].translation,
                               bl->items[k].context, &err) == 0)
                    n++;
            }
        }
    }
    if (!n) {
        wb_run_free(cr.run);
        return EXIT_OK;
    }
    return cli_run_finish(s->c, &cr);
}

static int load_entry(void *ud, const struct wb_entry *e)
{
    struct site *s = ud;
    if (s->n_entries == s->cap_entries) {
        size_t cap = s->cap_entries ? s->cap_entries * 2 : 64;
        struct wb_entry *v = realloc(s->entries, cap * sizeof *v);
        if (!v)
            return WB_ENOMEM;
        s->entries = v;
        s->cap_entries = cap;
    }
    wb_entry_init(&s->entries[s->n_entries]);
    if (wb_entry_copy(&s->entries[s->n_entries], e))
        return WB_ENOMEM;
    s->n_entries++;
    return 0;
}

static const struct wb_entry *lookup(void *ud, const char *word, const char *translation)
{
    struct site *s = ud;
    struct wb_error err = { 0 };
    struct wb_store_query q = { 0 };
    for (size_t i = 0; i < s->n_entries; i++) {
        if (!strcmp(s->entries[i].word, word) && !strcmp(s->entries[i].translation, translation))
            return &s->entries[i];
    }
    if (!s->st)
        return NULL;
    q.word = word;
    q.translation = translation;
    q.language = wb_config_get(s->c->cfg, "lang");
    size_t before = s->n_entries;
    wb_store_each(s->st, &q, load_entry, s, &err);
    return s->n_entries > before ? &s->entries[before] : NULL;
}

/* Appends a URL prefix with exactly one '/' after it (none when empty). */
static int url_prefix(struct wb_buf *out, const char *prefix)
{
    size_t n = prefix ? strlen(prefix) : 0;
    if (!n)
        return 0;
    return wb_buf_appendf(out, "%s%s", prefix, prefix[n - 1] == '/' ? "" : "/");
}

/* Media URLs: under --media-url (nothing copied), or "media/<file>" below the
 * site folder, linked relative to the page or under --base-url. Only files
 * the media store named are ever copied (wb_media_copy validates the name and
 * the bytes), so no path from a word bank can pull any other file into a
 * site: a name that is not a store name is refused (exit 1) and left out. */
static int media_url(void *ud, const char *file, struct wb_buf *out)
{
    struct site *s = ud;
    struct wb_error err = { 0 };
    struct wb_buf to;
    if (!wb_media_name_ok(file)) {
        cli_warn("refusing the media file name \"%s\" (not a media store name); left out", file);
        s->failed = 1;
        return 0;
    }
    if (!s->copy_media)
        return url_prefix(out, s->c->media_url) ? WB_ENOMEM : wb_buf_appends(out, file);
    wb_buf_init(&to, 0);
    wb_buf_appendf(&to, "%s/media", s->out_dir);
    if (wb_media_copy(cli_media_dir(s->c), file, to.data, &err)) {
        cli_warn("%s", wb_error_text(&err));
        s->failed = 1;
    }
    wb_buf_release(&to);
    if (url_prefix(out, s->c->base_url ? s->c->base_url : s->cur_root))
        return WB_ENOMEM;
    return wb_buf_appendf(out, "media/%s", file);
}

static int render_one(struct site *s, struct page *p, struct wb_render_opts *o, struct wb_buf *out)
{
    struct wb_error err = { 0 };
    int rc = wb_doc_render(&p->doc, lookup, s, o, out, &err);
    if (rc) {
        cli_error("%s: %s", p->src_path, wb_error_text(&err));
        return EXIT_ENV;
    }
    return EXIT_OK;
}

static int mkdir_for(const char *file)
{
    char tmp[PATH_MAX];
    struct wb_error err = { 0 };
    snprintf(tmp, sizeof tmp, "%s", file);
    if (wb_mkdirs(dirname(tmp), &err)) {
        cli_error("%s", wb_error_text(&err));
        return -1;
    }
    return 0;
}

/* A page of a render: SRC, where it goes, and the way back to the site folder. */
static int add_render_page(struct site *s, const char *src, const char *out, const char *root)
{
    int rc = add_page(s, src, NULL);
    if (rc)
        return rc;
    s->pages[s->n_pages - 1].out_path = strdup(out);
    s->pages[s->n_pages - 1].root_rel = strdup(root);
    return EXIT_OK;
}

/* Whether a relative path has a ".." segment. */
static int climbs(const char *path)
{
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, "/");
        if (n == 2 && p[0] == '.' && p[1] == '.')
            return 1;
        p += n + (p[n] == '/');
    }
    return 0;
}

/* "SRC<TAB>PAGE" lines: PAGE below the site folder (-o), or absolute with
 * --base-url (relative links could not reach the site). */
static int read_manifest(struct site *s, const char *list, const char *site_dir)
{
    FILE *f = strcmp(list, "-") ? fopen(list, "r") : stdin;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    unsigned lineno = 0;
    int rc = EXIT_OK;
    if (!f) {
        cli_error("%s: %s", list, strerror(errno));
        return EXIT_ENV;
    }
    while (!rc && (len = getline(&line, &cap, f)) >= 0) {
        char *tab, *page;
        struct wb_buf out, root;
        lineno++;
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (!len || line[0] == '#')
            continue;
        tab = strchr(line, '\t');
        page = tab ? tab + 1 : NULL;
        if (!tab || tab == line || !*page || strchr(page, '\t')) {
            fprintf(stderr, "%s:%u: expected 'SOURCE<TAB>PAGE'\n", list, lineno);
            rc = EXIT_USAGE;
            break;
        }
        *tab = '\0';
        if (page[0] == '/' ? !s->c->base_url : climbs(page)) {
            fprintf(stderr, "%s:%u: %s\n", list, lineno,
                    page[0] == '/' ? "an absolute page needs --base-url (its links could not "
                                     "reach the site folder)"
                                   : "the page climbs out of the site folder");
            rc = EXIT_USAGE;
            break;
        }
        wb_buf_init(&out, 0);
        wb_buf_init(&root, 0);
        if (page[0] == '/')
            wb_buf_appends(&out, page);
        else
            wb_buf_appendf(&out, "%s/%s", site_dir, page);
        for (const char *q = page; page[0] != '/' && *q; q++) {
            if (*q == '/' && q[1] && q[1] != '/')
                wb_buf_appends(&root, "../");
        }
        rc = add_render_page(s, line, out.data, root.data);
        wb_buf_release(&out);
        wb_buf_release(&root);
    }
    free(line);
    if (f != stdin)
        fclose(f);
    if (!rc && !s->n_pages) {
        cli_error("%s: no pages listed", list);
        rc = EXIT_USAGE;
    }
    return rc;
}

/* The outputs, checked before anything is generated: no page may overwrite
 * a source (its own or another's, by any path or hard link), no two pages
 * may share an output, and the site folder must be a writable folder. */
static int check_outputs(struct site *s, const char *site_dir)
{
    struct stat out, *in = calloc(s->n_pages ? s->n_pages : 1, sizeof *in);
    int rc = EXIT_OK;
    if (!in) {
        cli_error("out of memory");
        return EXIT_ENV;
    }
    for (size_t i = 0; i < s->n_pages; i++) {
        if (strcmp(s->pages[i].src_path, "-") == 0 || stat(s->pages[i].src_path, &in[i]) != 0)
            in[i].st_ino = 0;
    }
    for (size_t i = 0; i < s->n_pages && !rc; i++) {
        const struct page *p = &s->pages[i];
        if (!strcmp(p->out_path, "-"))
            continue;
        for (size_t j = 0; j < i && !rc; j++) {
            if (!strcmp(p->out_path, s->pages[j].out_path)) {
                cli_error("%s: both %s and %s would be written there", p->out_path,
                          s->pages[j].src_path, p->src_path);
                rc = EXIT_USAGE;
            }
        }
        if (rc || stat(p->out_path, &out) != 0)
            continue;
        for (size_t j = 0; j < s->n_pages && !rc; j++) {
            if (in[j].st_ino && in[j].st_dev == out.st_dev && in[j].st_ino == out.st_ino) {
                cli_error("%s: the output is the source file %s itself; choose another output",
                          p->out_path, s->pages[j].src_path);
                rc = EXIT_USAGE;
            }
        }
    }
    free(in);
    if (rc)
        return rc;
    if (stat(site_dir, &out) != 0 || !S_ISDIR(out.st_mode)) {
        cli_error("%s: no such folder for the output", site_dir);
        return EXIT_ENV;
    }
    if (access(site_dir, W_OK | X_OK) != 0) {
        cli_error("%s: cannot write into this folder: %s", site_dir, strerror(errno));
        return EXIT_ENV;
    }
    return EXIT_OK;
}

int cmd_render(struct cli *c)
{
    struct site s = { 0 };
    cli_diags_init(&s.diags);
    struct wb_error err = { 0 };
    struct wb_render_opts o;
    struct wb_buf out;
    char site_dir[PATH_MAX];
    int rc, to_stdout = 0;
    s.c = c;
    s.copy_media = !c->media_url;
    if (c->manifest) {
        if (c->argc != 0 || !c->output || !strcmp(c->output, "-"))
            return cli_usage("render");
        snprintf(site_dir, sizeof site_dir, "%s", c->output);
        rc = read_manifest(&s, c->manifest, c->output);
    } else if (c->argc == 1) {
        to_stdout = !c->output || !strcmp(c->output, "-");
        if (to_stdout) {
            snprintf(site_dir, sizeof site_dir, ".");
        } else {
            char tmp[PATH_MAX];
            snprintf(tmp, sizeof tmp, "%s", c->output);
            snprintf(site_dir, sizeof site_dir, "%s", dirname(tmp));
        }
        rc = add_render_page(&s, c->argv[0], to_stdout ? "-" : c->output, "");
    } else if (c->argc > 1 && c->output && strcmp(c->output, "-")) {
        /* Several files into the folder -o: each NAME.md as NAME.html. */
        snprintf(site_dir, sizeof site_dir, "%s", c->output);
        rc = EXIT_OK;
        for (int i = 0; i < c->argc && !rc; i++) {
            char tmp[PATH_MAX], name[PATH_MAX];
            struct wb_buf o2;
            size_t n;
            snprintf(tmp, sizeof tmp, "%s", c->argv[i]);
            snprintf(name, sizeof name, "%s", basename(tmp));
            n = strlen(name);
            if (n > 3 && !strcmp(name + n - 3, ".md"))
                name[n - 3] = '\0';
            wb_buf_init(&o2, 0);
            wb_buf_appendf(&o2, "%s/%s.html", site_dir, name);
            rc = add_render_page(&s, c->argv[i], o2.data, "");
            wb_buf_release(&o2);
        }
    } else {
        return cli_usage("render");
    }
    s.out_dir = site_dir;
    /* The page itself goes to stdout: a JSON summary there would spoil it. */
    if (to_stdout)
        c->json = 0;
    if (!rc)
        rc = check_outputs(&s, site_dir);
    if (rc)
        goto out;
    if ((rc = cli_open_store(c, !c->cache_only, &s.st)))
        goto out;
    if (s.st && (rc = generate(&s)) && rc != EXIT_SOME_FAILED)
        goto out;
    if (rc == EXIT_SOME_FAILED)
        s.failed = 1;
    rc = EXIT_OK;
    make_dialogues(&s);
    /* A page on stdout carries its CSS and JS; files link the site's copies. */
    if (!to_stdout && !c->inline_assets && wb_site_write_assets(site_dir, &err)) {
        cli_error("%s", wb_error_text(&err));
        rc = EXIT_ENV;
        goto out;
    }
    wb_buf_init(&out, 0);
    for (size_t i = 0; i < s.n_pages && !rc; i++) {
        struct page *p = &s.pages[i];
        wb_render_opts_init(&o);
        o.dialogue_audio = dialogue_audio;
        o.dialogue_ud = &s;
        o.mode = WB_RENDER_FRAGMENT;
        o.lang = wb_config_get(c->cfg, "lang");
        o.inline_assets = to_stdout || c->inline_assets;
        o.base_url = c->base_url;
        o.root_rel = p->root_rel;
        o.media_url = media_url;
        o.media_ud = &s;
        s.cur_root = p->root_rel;
        wb_buf_reset(&out);
        rc = render_one(&s, p, &o, &out);
        if (!rc && strcmp(p->out_path, "-") && mkdir_for(p->out_path))
            rc = EXIT_ENV;
        if (!rc && cli_write_file(p->out_path, out.data, out.len))
            rc = EXIT_ENV;
    }
    wb_buf_release(&out);
    if (!rc && s.failed)
        rc = EXIT_SOME_FAILED;
out:
    site_release(&s);
    wb_store_close(s.st);
    return rc;
}

/* ---- build ---- */

static struct site *walk_site;
static const char *walk_root;

static int walk_md(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    size_t n = strlen(path);
    char rel[PATH_MAX];
    (void)sb;
    (void)ftw;
    if (flag != FTW_F || n < 3 || strcmp(path + n - 3, ".md"))
        return 0;
    snprintf(rel, sizeof rel, "%s", path + strlen(walk_root) + (path[strlen(walk_root)] == '/'));
    memcpy(rel + strlen(rel) - 3, ".html", 6);
    return add_page(walk_site, path, rel) ? 1 : 0;
}

static int page_cmp(const void *a, const void *b)
{
    return strcmp(((const struct page *)a)->rel, ((const struct page *)b)->rel);
}

/* The site's front page: its lessons by title. */
static int write_index(struct site *s, const char *out_dir)
{
    struct wb_error err = { 0 };
    struct wb_render_opts o;
    struct wb_buf out, path, *titles = calloc(s->n_pages ? s->n_pages : 1, sizeof *titles);
    const char **t = calloc(s->n_pages ? s->n_pages : 1, sizeof *t);
    const char **h = calloc(s->n_pages ? s->n_pages : 1, sizeof *h);
    int rc = EXIT_ENV;
    wb_buf_init(&out, 0);
    wb_buf_init(&path, 0);
    if (!titles || !t || !h)
        goto out;
    for (size_t i = 0; i < s->n_pages; i++) {
        wb_buf_init(&titles[i], 0);
        wb_doc_title(&s->pages[i].doc, &titles[i]);
        t[i] = titles[i].data;
        h[i] = s->pages[i].rel;
    }
    wb_render_opts_init(&o);
    o.base_url = s->c->base_url;
    o.root_rel = "";
    if (wb_render_index("Lessons", t, h, s->n_pages, &o, &out, &err)) {
        cli_error("%s", wb_error_text(&err));
        goto out;
    }
    wb_buf_appendf(&path, "%s/index.html", out_dir);
    rc = cli_write_file(path.data, out.data, out.len) ? EXIT_ENV : EXIT_OK;
out:
    for (size_t i = 0; titles && i < s->n_pages; i++)
        wb_buf_release(&titles[i]);
    free(titles);
    free(t);
    free(h);
    wb_buf_release(&out);
    wb_buf_release(&path);
    return rc;
}

int cmd_build(struct cli *c)
{
    struct site s = { 0 };
    cli_diags_init(&s.diags);
    struct wb_error err = { 0 };
    struct wb_render_opts o;
    struct wb_buf out, path, root;
    struct stat sb;
    int rc;
    if (c->argc != 1 || !c->output)
        return cli_usage("build");
    if (stat(c->argv[0], &sb) || !S_ISDIR(sb.st_mode)) {
        cli_error("%s: not a directory", c->argv[0]);
        return EXIT_USAGE;
    }
    s.c = c;
    s.out_dir = c->output;
    s.copy_media = 1;
    if ((rc = cli_open_store(c, !c->cache_only, &s.st)))
        return rc;
    walk_site = &s;
    walk_root = c->argv[0];
    if (nftw(c->argv[0], walk_md, 32, FTW_PHYS)) {
        cli_error("%s: cannot read every lesson", c->argv[0]);
        rc = EXIT_ENV;
        goto out;
    }
    if (!s.n_pages) {
        cli_error("%s: no Markdown (.md) files", c->argv[0]);
        rc = EXIT_USAGE;
        goto out;
    }
    qsort(s.pages, s.n_pages, sizeof *s.pages, page_cmp);
    if (s.st && (rc = generate(&s)) && rc != EXIT_SOME_FAILED)
        goto out;
    if (rc == EXIT_SOME_FAILED)
        s.failed = 1;
    rc = EXIT_OK;
    make_dialogues(&s);
    wb_buf_init(&path, 0);
    wb_buf_appendf(&path, "%s/media", c->output);
    if (wb_mkdirs(path.data, &err) || wb_site_write_assets(c->output, &err)) {
        cli_error("%s", wb_error_text(&err));
        wb_buf_release(&path);
        rc = EXIT_ENV;
        goto out;
    }
    wb_buf_init(&out, 0);
    wb_buf_init(&root, 0);
    for (size_t i = 0; i < s.n_pages && !rc; i++) {
        struct page *p = &s.pages[i];
        wb_buf_reset(&out);
        wb_buf_reset(&root);
        for (const char *q = p->rel; *q; q++) {
            if (*q == '/')
                wb_buf_appends(&root, "../");
        }
        wb_render_opts_init(&o);
        o.mode = WB_RENDER_PAGE;
        o.lang = wb_config_get(c->cfg, "lang");
        o.base_url = c->base_url;
        o.root_rel = root.data;
        o.media_url = media_url;
        o.media_ud = &s;
        o.dialogue_audio = dialogue_audio;
        o.dialogue_ud = &s;
        s.cur_root = root.data;
        rc = render_one(&s, p, &o, &out);
        wb_buf_reset(&path);
        wb_buf_appendf(&path, "%s/%s", c->output, p->rel);
        if (!rc && (mkdir_for(path.data) || cli_write_file(path.data, out.data, out.len)))
            rc = EXIT_ENV;
    }
    wb_buf_release(&out);
    wb_buf_release(&root);
    wb_buf_release(&path);
    if (!rc)
        rc = write_index(&s, c->output);
    if (!rc && c->verbosity >= 0)
        fprintf(stderr, "built %zu page%s into %s\n", s.n_pages, s.n_pages == 1 ? "" : "s",
                c->output);
    if (!rc && s.failed)
        rc = EXIT_SOME_FAILED;
out:
    site_release(&s);
    wb_store_close(s.st);
    return rc;
}
