/* Sites (wordbank/content.h, wb_site_*): Markdown lessons rendered with their
 * cards into a folder, with the assets, the media the cards link and the
 * dialogue clips. What `wordbank render` and `wordbank build` do, as a
 * library: the command parses options, calls these and prints.
 *
 * Every bit of state lives in struct wb_site; the renderer's callbacks get it
 * as their user data. The only files read are the pages (and, through
 * wb_media_copy, media files the media store names); the only files written
 * are below out_dir (and the outputs a RENDER caller names).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "content/content_int.h"
#include "core/sized.h"
#include "wordbank/config.h"
#include "wordbank/file.h"
#include "wordbank/media.h"
#include "wordbank/pipeline.h"
#include "wordbank/store.h"

struct content_page {
    char *src_path; /* the Markdown file ("-": given by the caller) */
    char *out_path; /* where the page goes ("-": on_stdout) */
    char *root_rel; /* the way from the page's folder to the site folder */
    char *rel;      /* BUILD: its path below out_dir */
    int from_text;  /* the caller gave the source: no file to compare outputs with */
    struct wb_doc doc;
};

struct content_dlg {
    const struct wb_block *block;
    char *file; /* media file of the clip */
};

struct wb_site {
    struct wb_site_opts o;
    struct content_page *pages;
    size_t n_pages, cap_pages;
    struct wb_store *store;   /* during wb_site_write */
    struct wb_entry *entries; /* every entry the pages name, loaded once */
    size_t n_entries, cap_entries;
    const char *cur_root; /* the page being rendered: its way to out_dir */
    struct content_dlg *dlgs;
    size_t n_dlgs;
    int failed; /* something left out: -WB_EINCOMPLETE */
    int written;
};

static void site_diag(struct wb_site *s, const char *name, const char *msg)
{
    s->failed = 1;
    if (s->o.on_diag)
        s->o.on_diag(s->o.ud, name, msg);
}

static void site_warn(struct wb_site *s, const char *msg)
{
    s->failed = 1;
    if (s->o.on_warning)
        s->o.on_warning(s->o.ud, msg);
}

static const char *site_lang(const struct wb_site *s)
{
    return wb_config_get(s->o.cfg, "lang");
}

void wb_site_opts_init(struct wb_site_opts *o)
{
    memset(o, 0, sizeof *o);
    o->size = sizeof *o;
}

int wb_site_new(const struct wb_site_opts *opts, struct wb_site **out, struct wb_error *err)
{
    struct wb_site *s;
    int rc;
    *out = NULL;
    if (!opts)
        return wb_error_set(err, WB_EINVAL, "site options: none given");
    s = calloc(1, sizeof *s);
    if (!s)
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    /* An older caller's smaller struct: the fields it does not know stay 0. */
    if ((rc = core_sized_load(&s->o, sizeof s->o, opts, CORE_SIZED_MIN(struct wb_site_opts, kind),
                              "site options", err))) {
        free(s);
        return rc;
    }
    if (!s->o.cfg || !s->o.media_dir || !s->o.out_dir) {
        free(s);
        return wb_error_set(err, WB_EINVAL,
                            "site options: cfg, media_dir and out_dir are required");
    }
    if (s->o.kind == WB_SITE_BUILD) {
        s->o.media_url = NULL;
        s->o.inline_assets = 0;
    }
    *out = s;
    return 0;
}

void wb_site_free(struct wb_site *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_pages; i++) {
        wb_doc_release(&s->pages[i].doc);
        free(s->pages[i].src_path);
        free(s->pages[i].out_path);
        free(s->pages[i].root_rel);
        free(s->pages[i].rel);
    }
    free(s->pages);
    for (size_t i = 0; i < s->n_entries; i++)
        wb_entry_release(&s->entries[i]);
    free(s->entries);
    for (size_t i = 0; i < s->n_dlgs; i++)
        free(s->dlgs[i].file);
    free(s->dlgs);
    free(s);
}

size_t wb_site_page_count(const struct wb_site *s)
{
    return s->n_pages;
}

/* ---- pages ---- */

static int page_add(struct wb_site *s, const char *path, const char *src, size_t len,
                    const char *out_path, const char *root_rel, const char *rel,
                    struct wb_error *err)
{
    struct content_page *p;
    struct wb_buf text;
    const char *name = strcmp(path, "-") ? path : "<stdin>";
    int rc = 0, from_text = src != NULL;
    if (s->n_pages == s->cap_pages) {
        size_t cap = s->cap_pages ? s->cap_pages * 2 : 16;
        p = realloc(s->pages, cap * sizeof *p);
        if (!p)
            return wb_error_set(err, WB_ENOMEM, "out of memory");
        s->pages = p;
        s->cap_pages = cap;
    }
    p = &s->pages[s->n_pages];
    memset(p, 0, sizeof *p);
    wb_doc_init(&p->doc);
    wb_buf_init(&text, WB_CONTENT_MAX_DOC);
    if (!src) {
        rc = wb_buf_read_file(&text, path, err);
        src = text.data ? text.data : "";
        len = text.len;
    }
    if (!rc)
        rc = wb_doc_parse(&p->doc, name, src, len, err);
    wb_buf_release(&text);
    p->from_text = from_text;
    p->src_path = strdup(path);
    p->out_path = out_path ? strdup(out_path) : NULL;
    p->root_rel = strdup(root_rel ? root_rel : "");
    p->rel = rel ? strdup(rel) : NULL;
    if (!rc && (!p->src_path || (out_path && !p->out_path) || !p->root_rel || (rel && !p->rel)))
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
    if (rc) {
        wb_doc_release(&p->doc);
        free(p->src_path);
        free(p->out_path);
        free(p->root_rel);
        free(p->rel);
        return rc;
    }
    s->n_pages++;
    for (size_t i = 0; i < p->doc.n_diags; i++)
        site_diag(s, p->doc.name, p->doc.diags[i]);
    return 0;
}

int wb_site_add_page(struct wb_site *s, const char *path, const char *src, size_t len,
                     const char *out_path, const char *root_rel, struct wb_error *err)
{
    if (!path || !out_path || (!src && !strcmp(path, "-")))
        return wb_error_set(err, WB_EINVAL, "a page needs its source and its output");
    return page_add(s, path, src, len, out_path, root_rel, NULL, err);
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

/* One "SRC<TAB>PAGE" line (NUL-terminated, its line ending removed). */
static int manifest_line(struct wb_site *s, const char *name, unsigned lineno, char *line,
                         struct wb_error *err)
{
    char *tab = strchr(line, '\t'), *page = tab ? tab + 1 : NULL;
    struct wb_buf out, root;
    int rc = 0;
    if (!tab || tab == line || !*page || strchr(page, '\t'))
        return wb_error_set(err, WB_EPARSE, "%s:%u: expected 'SOURCE<TAB>PAGE'", name, lineno);
    *tab = '\0';
    if (page[0] == '/' ? !s->o.base_url : climbs(page))
        return wb_error_set(err, WB_EPARSE, "%s:%u: %s", name, lineno,
                            page[0] == '/' ? "an absolute page needs --base-url (its links could "
                                             "not reach the site folder)"
                                           : "the page climbs out of the site folder");
    wb_buf_init(&out, 0);
    wb_buf_init(&root, 0);
    if (page[0] == '/')
        rc = wb_buf_appends(&out, page);
    else
        rc = wb_buf_appendf(&out, "%s/%s", s->o.out_dir, page);
    for (const char *q = page; !rc && page[0] != '/' && *q; q++) {
        if (*q == '/' && q[1] && q[1] != '/')
            rc = wb_buf_appends(&root, "../");
    }
    if (rc)
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
    else
        rc = wb_site_add_page(s, line, NULL, 0, out.data, root.data ? root.data : "", err);
    wb_buf_release(&out);
    wb_buf_release(&root);
    return rc;
}

int wb_site_add_manifest(struct wb_site *s, const char *name, const char *text, size_t len,
                         struct wb_error *err)
{
    size_t before = s->n_pages;
    unsigned lineno = 0;
    int rc = 0;
    if (!name)
        name = "<manifest>";
    for (size_t off = 0; !rc && off < len;) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
        size_t full = n;
        char *line = malloc(n + 1);
        lineno++;
        if (!line)
            return wb_error_set(err, WB_ENOMEM, "out of memory");
        memcpy(line, text + off, n);
        line[n] = '\0';
        while (n && (line[n - 1] == '\r' || line[n - 1] == '\n'))
            line[--n] = '\0';
        if (n && line[0] != '#')
            rc = manifest_line(s, name, lineno, line, err);
        free(line);
        off += full + 1;
    }
    if (!rc && s->n_pages == before)
        rc = wb_error_set(err, WB_EINVAL, "%s: no pages listed", name);
    return rc;
}

/* ---- a folder of lessons ---- */

struct content_walk {
    char **paths; /* below the root, "/"-separated */
    size_t n, cap;
};

static int walk_push(struct content_walk *w, const char *rel)
{
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 32;
        char **v = realloc(w->paths, cap * sizeof *v);
        if (!v)
            return WB_ENOMEM;
        w->paths = v;
        w->cap = cap;
    }
    if (!(w->paths[w->n] = strdup(rel)))
        return WB_ENOMEM;
    w->n++;
    return 0;
}

/* Collect the "*.md" regular files below root/rel (rel "" for the root).
 * Folders that cannot be opened below the root are skipped, as find does
 * with a warning; symbolic links are never followed. */
static int walk_dir(struct content_walk *w, const char *root, const char *rel, int depth,
                    struct wb_error *err)
{
    struct wb_buf dir, path, sub;
    DIR *d;
    struct dirent *de;
    int rc = 0;
    wb_buf_init(&dir, 0);
    wb_buf_init(&path, 0);
    wb_buf_init(&sub, 0);
    if (*rel ? wb_buf_appendf(&dir, "%s/%s", root, rel) : wb_buf_appends(&dir, root)) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    if (!(d = opendir(dir.data))) {
        if (!*rel)
            rc = wb_error_set(err, WB_EIO, "%s: cannot read every lesson: %s", root,
                              strerror(errno));
        goto out;
    }
    while (!rc && (errno = 0, de = readdir(d))) {
        struct stat sb;
        size_t n = strlen(de->d_name);
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        wb_buf_reset(&path);
        wb_buf_reset(&sub);
        if (wb_buf_appendf(&path, "%s/%s", dir.data, de->d_name) ||
            (*rel ? wb_buf_appendf(&sub, "%s/%s", rel, de->d_name)
                  : wb_buf_appends(&sub, de->d_name))) {
            rc = wb_error_set(err, WB_ENOMEM, "out of memory");
            break;
        }
        if (lstat(path.data, &sb) != 0) {
            rc = wb_error_set(err, WB_EIO, "%s: cannot read every lesson: %s: %s", root, path.data,
                              strerror(errno));
        } else if (S_ISDIR(sb.st_mode)) {
            if (depth >= 64)
                rc = wb_error_set(err, WB_EIO, "%s: cannot read every lesson: %s: too deep", root,
                                  path.data);
            else
                rc = walk_dir(w, root, sub.data, depth + 1, err);
        } else if (S_ISREG(sb.st_mode) && n >= 3 && !strcmp(de->d_name + n - 3, ".md")) {
            if (walk_push(w, sub.data))
                rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        }
    }
    if (!rc && errno)
        rc = wb_error_set(err, WB_EIO, "%s: cannot read every lesson: %s", root, strerror(errno));
    closedir(d);
out:
    wb_buf_release(&dir);
    wb_buf_release(&path);
    wb_buf_release(&sub);
    return rc;
}

static int path_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int wb_site_add_dir(struct wb_site *s, const char *dir, struct wb_error *err)
{
    struct content_walk w = { 0 };
    struct wb_buf src, out, rel, root;
    struct stat sb;
    size_t before = s->n_pages;
    int rc;
    if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
        return wb_error_set(err, WB_EINVAL, "%s: not a directory", dir);
    rc = walk_dir(&w, dir, "", 0, err);
    if (w.n)
        qsort(w.paths, w.n, sizeof *w.paths, path_cmp);
    wb_buf_init(&src, 0);
    wb_buf_init(&out, 0);
    wb_buf_init(&rel, 0);
    wb_buf_init(&root, 0);
    for (size_t i = 0; !rc && i < w.n; i++) {
        const char *p = w.paths[i];
        wb_buf_reset(&src);
        wb_buf_reset(&out);
        wb_buf_reset(&rel);
        wb_buf_reset(&root);
        /* The page's path: a trailing '/' of dir is not doubled. */
        if (wb_buf_appendf(&src, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", p) ||
            wb_buf_append(&rel, p, strlen(p) - 3) || wb_buf_appends(&rel, ".html") ||
            wb_buf_appendf(&out, "%s/%s", s->o.out_dir, rel.data) || wb_buf_appends(&root, "")) {
            rc = wb_error_set(err, WB_ENOMEM, "out of memory");
            break;
        }
        for (const char *q = rel.data; !rc && *q; q++) {
            if (*q == '/')
                rc = wb_buf_appends(&root, "../") ? WB_ENOMEM : 0;
        }
        if (rc)
            rc = wb_error_set(err, rc, "out of memory");
        else
            rc = page_add(s, src.data, NULL, 0, out.data, root.data, rel.data, err);
    }
    for (size_t i = 0; i < w.n; i++)
        free(w.paths[i]);
    free(w.paths);
    wb_buf_release(&src);
    wb_buf_release(&out);
    wb_buf_release(&rel);
    wb_buf_release(&root);
    if (!rc && s->n_pages == before)
        rc = wb_error_set(err, WB_EINVAL, "%s: no Markdown (.md) files", dir);
    return rc;
}

/* ---- checks and generation ---- */

int wb_site_check(struct wb_site *s, struct wb_error *err)
{
    struct stat out, *in;
    int rc = 0;
    if (s->o.kind == WB_SITE_BUILD)
        return 0;
    in = calloc(s->n_pages ? s->n_pages : 1, sizeof *in);
    if (!in)
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    for (size_t i = 0; i < s->n_pages; i++) {
        if (s->pages[i].from_text || stat(s->pages[i].src_path, &in[i]) != 0)
            in[i].st_ino = 0;
    }
    for (size_t i = 0; i < s->n_pages && !rc; i++) {
        const struct content_page *p = &s->pages[i];
        if (!strcmp(p->out_path, "-"))
            continue;
        for (size_t j = 0; j < i && !rc; j++) {
            if (!strcmp(p->out_path, s->pages[j].out_path))
                rc = wb_error_set(err, WB_EINVAL, "%s: both %s and %s would be written there",
                                  p->out_path, s->pages[j].src_path, p->src_path);
        }
        if (rc || stat(p->out_path, &out) != 0)
            continue;
        for (size_t j = 0; j < s->n_pages && !rc; j++) {
            if (in[j].st_ino && in[j].st_dev == out.st_dev && in[j].st_ino == out.st_ino)
                rc = wb_error_set(err, WB_EINVAL,
                                  "%s: the output is the source file %s itself; choose another "
                                  "output",
                                  p->out_path, s->pages[j].src_path);
        }
    }
    free(in);
    if (rc)
        return rc;
    if (stat(s->o.out_dir, &out) != 0 || !S_ISDIR(out.st_mode))
        return wb_error_set(err, WB_ENOTFOUND, "%s: no such folder for the output", s->o.out_dir);
    if (access(s->o.out_dir, W_OK | X_OK) != 0)
        return wb_error_set(err, WB_EIO, "%s: cannot write into this folder: %s", s->o.out_dir,
                            strerror(errno));
    return 0;
}

int wb_site_queue(const struct wb_site *s, struct wb_run *run, size_t *queued, struct wb_error *err)
{
    size_t n = 0;
    (void)err;
    for (size_t i = 0; i < s->n_pages; i++) {
        for (size_t b = 0; b < s->pages[i].doc.n_blocks; b++) {
            const struct wb_block *bl = &s->pages[i].doc.blocks[b];
            for (size_t k = 0; k < bl->n_items; k++) {
                struct wb_error e = { 0 };
                if (wb_run_add(run, bl->items[k].word, bl->items[k].translation,
                               bl->items[k].context, &e) == 0)
                    n++;
            }
        }
    }
    if (queued)
        *queued = n;
    return 0;
}

/* ---- writing ---- */

/* Every two-voice <dialogue> block gets its clip (made once, then found). */
static int make_dialogues(struct wb_site *s)
{
    const char *format = wb_config_get(s->o.cfg, "audio_format");
    size_t total = 0;
    for (size_t i = 0; i < s->n_pages; i++) {
        for (size_t b = 0; b < s->pages[i].doc.n_blocks; b++)
            total += s->pages[i].doc.blocks[b].kind == WB_BLOCK_DIALOGUE;
    }
    if (!total)
        return 0;
    if (!(s->dlgs = calloc(total, sizeof *s->dlgs)))
        return WB_ENOMEM;
    for (size_t i = 0; i < s->n_pages; i++) {
        for (size_t b = 0; b < s->pages[i].doc.n_blocks; b++) {
            const struct wb_block *bl = &s->pages[i].doc.blocks[b];
            struct content_dlg *d;
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
            if (wb_dialogue_file(s->o.cfg, s->o.media_dir, script.data, script.len, format,
                                 s->o.cache_only, &d->file, &err) &&
                !(s->o.cache_only && err.code == WB_ENOTFOUND)) {
                struct wb_buf m;
                wb_buf_init(&m, 0);
                wb_buf_appendf(&m, "%s:%u: dialogue audio: %s", s->pages[i].doc.name, bl->line,
                               wb_error_text(&err));
                site_diag(s, s->pages[i].doc.name, m.data ? m.data : "dialogue audio");
                wb_buf_release(&m);
            }
            wb_buf_release(&script);
        }
    }
    return 0;
}

static const char *dialogue_audio(void *ud, const struct wb_block *block)
{
    struct wb_site *s = ud;
    for (size_t i = 0; i < s->n_dlgs; i++) {
        if (s->dlgs[i].block == block)
            return s->dlgs[i].file;
    }
    return NULL;
}

static int load_entry(void *ud, const struct wb_entry *e)
{
    struct wb_site *s = ud;
    if (s->n_entries == s->cap_entries) {
        size_t cap = s->cap_entries ? s->cap_entries * 2 : 64;
        struct wb_entry *v = realloc(s->entries, cap * sizeof *v);
        if (!v)
            return WB_ENOMEM;
        s->entries = v;
        s->cap_entries = cap;
    }
    wb_entry_init(&s->entries[s->n_entries]);
    if (wb_entry_copy(&s->entries[s->n_entries], e)) {
        wb_entry_release(&s->entries[s->n_entries]);
        return WB_ENOMEM;
    }
    s->n_entries++;
    return 0;
}

static const struct wb_entry *lookup(void *ud, const char *word, const char *translation)
{
    struct wb_site *s = ud;
    struct wb_error err = { 0 };
    struct wb_store_query q = WB_STORE_QUERY_INIT;
    size_t before = s->n_entries;
    for (size_t i = 0; i < s->n_entries; i++) {
        if (!strcmp(s->entries[i].word, word) && !strcmp(s->entries[i].translation, translation))
            return &s->entries[i];
    }
    if (!s->store)
        return NULL;
    q.word = word;
    q.translation = translation;
    q.language = site_lang(s);
    wb_store_each(s->store, &q, load_entry, s, &err);
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

/* Media URLs: under media_url (nothing copied), or "media/<file>" below the
 * site folder, linked relative to the page or under base_url. Only files the
 * media store named are ever copied (wb_media_copy validates the name and the
 * bytes), so no path from a word bank can pull any other file into a site: a
 * name that is not a store name is refused and left out. */
static int media_url(void *ud, const char *file, struct wb_buf *out)
{
    struct wb_site *s = ud;
    struct wb_error err = { 0 };
    struct wb_buf to;
    if (!wb_media_name_ok(file)) {
        struct wb_buf m;
        wb_buf_init(&m, 0);
        wb_buf_appendf(&m, "refusing the media file name \"%s\" (not a media store name); left out",
                       file);
        site_warn(s, m.data ? m.data : "refusing a media file name");
        wb_buf_release(&m);
        return 0;
    }
    if (s->o.media_url)
        return url_prefix(out, s->o.media_url) ? WB_ENOMEM : wb_buf_appends(out, file);
    wb_buf_init(&to, 0);
    if (wb_buf_appendf(&to, "%s/media", s->o.out_dir)) {
        wb_buf_release(&to);
        return WB_ENOMEM;
    }
    if (wb_media_copy(s->o.media_dir, file, to.data, &err))
        site_warn(s, wb_error_text(&err));
    wb_buf_release(&to);
    if (url_prefix(out, s->o.base_url ? s->o.base_url : s->cur_root))
        return WB_ENOMEM;
    return wb_buf_appendf(out, "media/%s", file);
}

/* Write a file atomically: a temporary beside it, fsync, rename; its folder
 * is made first. Messages name the file. */
static int write_out(const char *path, const char *data, size_t len, struct wb_error *err)
{
    struct wb_buf tmp, dir;
    const char *slash = strrchr(path, '/');
    int fd, rc = 0;
    wb_buf_init(&tmp, 0);
    wb_buf_init(&dir, 0);
    if (slash && slash != path) {
        if (wb_buf_append(&dir, path, (size_t)(slash - path)))
            return wb_error_set(err, WB_ENOMEM, "out of memory");
        rc = wb_mkdirs(dir.data, err);
        wb_buf_release(&dir);
        if (rc)
            return rc;
    }
    if (wb_buf_appendf(&tmp, "%s.tmpXXXXXX", path))
        return wb_error_set(err, WB_ENOMEM, "out of memory");
    fd = mkstemp(tmp.data);
    if (fd < 0) {
        rc = wb_error_set(err, errno == ENOSPC ? WB_ENOSPC : WB_EIO, "%s: %s", path,
                          strerror(errno));
        wb_buf_release(&tmp);
        return rc;
    }
    for (size_t off = 0; off < len && !rc;) {
        ssize_t w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = wb_error_set(err, errno == ENOSPC ? WB_ENOSPC : WB_EIO, "%s: %s", path,
                              strerror(errno));
        else
            off += (size_t)w;
    }
    if (!rc && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
        rc = wb_error_set(err, errno == ENOSPC ? WB_ENOSPC : WB_EIO, "%s: %s", path,
                          strerror(errno));
    if (close(fd) < 0 && !rc)
        rc = wb_error_set(err, WB_EIO, "%s: %s", path, strerror(errno));
    if (!rc && rename(tmp.data, path) < 0)
        rc = wb_error_set(err, WB_EIO, "%s: %s", path, strerror(errno));
    if (rc)
        unlink(tmp.data);
    wb_buf_release(&tmp);
    return rc;
}

/* The site's front page: its lessons by title. */
static int write_index(struct wb_site *s, struct wb_error *err)
{
    struct wb_render_opts o;
    size_t n = s->n_pages ? s->n_pages : 1;
    struct wb_buf out, path, *titles = calloc(n, sizeof *titles);
    const char **t = calloc(n, sizeof *t), **h = calloc(n, sizeof *h);
    int rc = 0;
    wb_buf_init(&out, 0);
    wb_buf_init(&path, 0);
    if (!titles || !t || !h) {
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < s->n_pages; i++) {
        wb_buf_init(&titles[i], 0);
        wb_doc_title(&s->pages[i].doc, &titles[i]);
        t[i] = titles[i].data;
        h[i] = s->pages[i].rel;
    }
    wb_render_opts_init(&o);
    o.base_url = s->o.base_url;
    o.root_rel = "";
    if ((rc = wb_render_index("Lessons", t, h, s->n_pages, &o, &out, err)))
        goto out;
    if (wb_buf_appendf(&path, "%s/index.html", s->o.out_dir))
        rc = wb_error_set(err, WB_ENOMEM, "out of memory");
    else
        rc = write_out(path.data, out.data ? out.data : "", out.len, err);
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

int wb_site_write(struct wb_site *s, struct wb_store *store, struct wb_error *err)
{
    struct wb_render_opts o;
    struct wb_buf out;
    int build = s->o.kind == WB_SITE_BUILD, rc = 0, to_stdout = 0;
    if (s->written)
        return wb_error_set(err, WB_EINVAL, "the site was written already");
    s->written = 1;
    s->store = store;
    for (size_t i = 0; i < s->n_pages; i++)
        to_stdout |= !strcmp(s->pages[i].out_path, "-");
    if (to_stdout && !s->o.on_stdout)
        return wb_error_set(err, WB_EINVAL, "a page goes to \"-\" and nothing takes it");
    if ((rc = make_dialogues(s)))
        return wb_error_set(err, rc, "out of memory");
    if (build) {
        struct wb_buf media;
        wb_buf_init(&media, 0);
        if (wb_buf_appendf(&media, "%s/media", s->o.out_dir))
            rc = wb_error_set(err, WB_ENOMEM, "out of memory");
        else
            rc = wb_mkdirs(media.data, err);
        wb_buf_release(&media);
        if (rc)
            return rc;
    }
    /* A page on standard output carries its CSS and JS; files link the
     * site's copies. */
    if (!(s->o.inline_assets || to_stdout) && (rc = wb_site_write_assets(s->o.out_dir, err)))
        return rc;
    wb_buf_init(&out, 0);
    for (size_t i = 0; i < s->n_pages && !rc; i++) {
        struct content_page *p = &s->pages[i];
        struct wb_error e = { 0 };
        int here = !strcmp(p->out_path, "-");
        wb_render_opts_init(&o);
        o.mode = build ? WB_RENDER_PAGE : WB_RENDER_FRAGMENT;
        o.lang = site_lang(s);
        o.inline_assets = !build && (here || s->o.inline_assets);
        o.base_url = s->o.base_url;
        o.root_rel = p->root_rel;
        o.media_url = media_url;
        o.media_ud = s;
        o.dialogue_audio = dialogue_audio;
        o.dialogue_ud = s;
        s->cur_root = p->root_rel;
        wb_buf_reset(&out);
        if ((rc = wb_doc_render(&p->doc, lookup, s, &o, &out, &e))) {
            rc = wb_error_set(err, rc, "%s: %s", p->src_path, wb_error_text(&e));
        } else if (here) {
            rc = s->o.on_stdout(s->o.ud, out.data ? out.data : "", out.len);
            if (rc)
                rc = wb_error_set(err, rc, "writing the page: %s", wb_strerror(rc));
        } else {
            rc = write_out(p->out_path, out.data ? out.data : "", out.len, err);
        }
    }
    wb_buf_release(&out);
    if (!rc && build)
        rc = write_index(s, err);
    if (!rc && s->failed)
        rc = wb_error_set(err, WB_EINCOMPLETE, "some of the site was left out");
    return rc;
}
