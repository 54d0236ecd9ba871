/* Lesson content: the <wordbank>/<dialogue> block parser and the HTML
 * renderer (flashcards, quiz, dialogue player, preview page, site assets).
 *
 * A document is parsed once into blocks that keep the byte ranges of the
 * source they replace; everything outside the blocks is reproduced byte for
 * byte. Lines that do not parse are reported as "FILE:LINE: reason" in the
 * document's diagnostics and skipped, never fatal. The renderer reads
 * struct wb_entry values that the caller looks up (from the store, usually)
 * and never touches the network or the store itself. See docs/content.md.
 */
#ifndef WORDBANK_CONTENT_H
#define WORDBANK_CONTENT_H

#include <stddef.h>

#include "wordbank/api.h"
#include "wordbank/buf.h"
#include "wordbank/dialogue.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Size caps on what comes from outside. */
#define WB_CONTENT_MAX_DOC   (32u << 20) /* a Markdown file */
#define WB_CONTENT_MAX_LINE  4096        /* one entry or dialogue line */
#define WB_CONTENT_MAX_DIAGS 1000        /* diagnostics kept per document */

/* Folder (under a site's root) that wb_site_write_assets() fills and pages link. */
#define WB_SITE_ASSETS_DIR "wordbank-assets"

/* ---- word lines ---------------------------------------------------------- */

/* One "- word: translation (context)" entry. Strings are owned (heap, UTF-8);
 * context is NULL when absent. line is the 1-based source line (0 if unknown). */
struct wb_word_item {
    char *word;
    char *translation;
    char *context;
    unsigned line;
};

WB_API void wb_word_item_release(struct wb_word_item *it);

/* What the line parsers return for a line that holds nothing (blank, or a
 * "#" comment in TSV): not an error, just nothing to add. */
#define WB_LINE_BLANK 1

/* Parse "- word: translation (context)". The bullet may be '-', '*' or '+';
 * the colon ':' or '：'; the context's parentheses "()" or "（）" and it is
 * optional. Surrounding ASCII spaces, tabs, CR and U+3000 are trimmed.
 * Returns 0 (out filled; release it), WB_LINE_BLANK, or WB_EPARSE with the
 * reason in err ("expected '- word: translation (context)'", ...). */
WB_API int wb_word_line_parse(const char *line, size_t len, struct wb_word_item *out,
                              struct wb_error *err);
/* Parse "word<TAB>translation[<TAB>context]". Lines starting with '#' are
 * comments (WB_LINE_BLANK), and so is a third column starting with '#' (what
 * `wordbank extract` writes there). Both parsers apply wb_entry_check() to
 * what they find (its reason, as WB_EPARSE). Same returns as
 * wb_word_line_parse(). */
WB_API int wb_word_tsv_parse(const char *line, size_t len, struct wb_word_item *out,
                             struct wb_error *err);

/* ---- documents ----------------------------------------------------------- */

enum wb_block_kind {
    WB_BLOCK_WORDBANK = 0,
    WB_BLOCK_DIALOGUE
};

struct wb_block {
    enum wb_block_kind kind;
    /* Source bytes this block replaces: from the first byte of the opening
     * tag's line to the end of the closing tag (its line ending excluded). */
    size_t start, end;
    unsigned line; /* line of the opening tag, 1-based */
    /* WB_BLOCK_WORDBANK */
    struct wb_word_item *items;
    size_t n_items;
    /* WB_BLOCK_DIALOGUE: the parsed lines, the distinct speakers in order of
     * appearance (at most 2 kept), how many there were (3 means three or
     * more), and whether the block is a valid two-voice dialogue (exactly two
     * speakers). */
    struct wb_dialogue_line *lines;
    size_t n_lines;
    char *speakers[2];
    size_t n_speakers;
    int two_voice;
};

struct wb_doc {
    char *name; /* for diagnostics; "<input>" when none was given */
    char *src;  /* a copy of the source, NUL-terminated */
    size_t len;
    size_t body; /* offset after a UTF-8 BOM (0 or 3) */
    struct wb_block *blocks;
    size_t n_blocks;
    char **diags; /* "FILE:LINE: reason" */
    size_t n_diags;
};

/* An empty document; release frees its blocks, diagnostics and copy of the
 * source and leaves it initialised. */
WB_API void wb_doc_init(struct wb_doc *doc);
WB_API void wb_doc_release(struct wb_doc *doc);
/* Parse src (any bytes; LF or CRLF; an optional BOM). doc must be initialised
 * and is reset first. Malformed lines become diagnostics, not errors: the
 * only errors are WB_ETOOBIG (past WB_CONTENT_MAX_DOC) and WB_ENOMEM. */
WB_API int wb_doc_parse(struct wb_doc *doc, const char *name, const char *src, size_t len,
                        struct wb_error *err);

/* ---- rendering ----------------------------------------------------------- */

/* The entry for a parsed item, or NULL when the word bank has none (the card
 * then shows the item's own word, translation and context, no media). The
 * pointer must stay valid until wb_doc_render() returns. */
typedef const struct wb_entry *(*wb_entry_lookup_fn)(void *ud, const char *word,
                                                     const char *translation);
/* Append the URL for a media file (a stages[].file, relative to the media
 * dir) to out; return 0 or a negative code. */
typedef int (*wb_media_url_fn)(void *ud, const char *file, struct wb_buf *out);
/* The media file (relative to the media dir) of a dialogue's clip, or NULL
 * when there is none (the transcript is rendered alone). */
typedef const char *(*wb_dialogue_audio_fn)(void *ud, const struct wb_block *dialogue);

enum wb_render_mode {
    WB_RENDER_FRAGMENT = 0, /* the Markdown with each block replaced by inline HTML */
    WB_RENDER_PAGE          /* a standalone HTML page (Markdown converted by cmark) */
};

/* Rendering options. size is sizeof(struct wb_render_opts) as the caller
 * knows it (wb_render_opts_init sets it); an older, smaller struct is
 * accepted (the fields it lacks take their defaults), an unset (0) or larger
 * one is refused with -WB_EINVAL. See wordbank/api.h. */
struct wb_render_opts {
    size_t size;
    enum wb_render_mode mode;
    const char *title;     /* page <title>; NULL: its first heading, else the file name */
    const char *lang;      /* language of the words, default "ja" */
    const char *page_lang; /* <html lang>, default "en" */
    /* Where the assets are: base_url + WB_SITE_ASSETS_DIR "/" when base_url is
     * set (a site served under a prefix, "/course/"), else root_rel (the
     * relative path from the page to the site's root, "" or "../../"). */
    const char *base_url;
    const char *root_rel;
    /* Media URLs: media_url() when set, else media_url_prefix (default
     * "media/") followed by the percent-encoded file name. */
    wb_media_url_fn media_url;
    void *media_ud;
    const char *media_url_prefix;
    wb_dialogue_audio_fn dialogue_audio;
    void *dialogue_ud;
    int inline_assets; /* embed the CSS and JS instead of linking them */
    int no_quiz;       /* cards only */
};

/* Set size and zero every option: an HTML fragment, each NULL field taking
 * the default named above (lang "ja", media under "media/"), assets linked,
 * quiz on. opts NULL in the calls below means the same. */
WB_API void wb_render_opts_init(struct wb_render_opts *o);

/* Render a parsed document into out (appended). lookup may be NULL. */
WB_API int wb_doc_render(const struct wb_doc *doc, wb_entry_lookup_fn lookup, void *lookup_ud,
                         const struct wb_render_opts *opts, struct wb_buf *out,
                         struct wb_error *err);

/* A standalone page with every entry's card and a search box that filters by
 * word, translation and reading as one types. opts->mode is ignored. */
WB_API int wb_render_preview(const struct wb_entry *entries, size_t n,
                             const struct wb_render_opts *opts, struct wb_buf *out,
                             struct wb_error *err);

/* A site's front page: a list of links (hrefs relative to the page) with
 * their titles (NULL or "": the href), in the site's style. */
WB_API int wb_render_index(const char *title, const char *const *titles, const char *const *hrefs,
                           size_t n, const struct wb_render_opts *opts, struct wb_buf *out,
                           struct wb_error *err);
/* Append a document's title: its first "# Heading" line (nothing if none). */
WB_API int wb_doc_title(const struct wb_doc *doc, struct wb_buf *out);

/* Write out_dir/WB_SITE_ASSETS_DIR/{wordbank.css,wordbank.js} (the folder is
 * created; files are replaced atomically). Once per site. */
WB_API int wb_site_write_assets(const char *out_dir, struct wb_error *err);

/* ---- sites ---------------------------------------------------------------- */

/* A site: Markdown lessons rendered with their cards into a folder, what
 * `wordbank render` and `wordbank build` do. One call sequence:
 *
 *   struct wb_site_opts o;
 *   struct wb_site *site;
 *   wb_site_opts_init(&o);                     o.size = sizeof o, the rest zero
 *   o.kind = WB_SITE_BUILD; o.cfg = cfg; o.media_dir = media; o.out_dir = "public";
 *   wb_site_new(&o, &site, &err);
 *   wb_site_add_dir(site, "lessons", &err);    or wb_site_add_page / _manifest
 *   wb_site_check(site, &err);                 RENDER: before anything costly
 *   wb_site_queue(site, run, &n, &err);        optional: generate what is missing
 *   wb_run_execute(run, &err);                 (wordbank/pipeline.h)
 *   rc = wb_site_write(site, store, &err);     0, or -WB_EINCOMPLETE
 *   wb_site_free(site);
 *
 * The site holds no global state: any number may live at once, each used by
 * one thread at a time. wordbank/bank.h's wb_bank_build_site() is the whole
 * sequence over a word bank. */
struct wb_site;
struct wb_run;
struct wb_store;
struct wb_config;

enum wb_site_kind {
    /* Each page is the Markdown with its blocks replaced by HTML (an HTML
     * fragment for a site generator), at the output its caller names. The
     * assets go into out_dir (unless inline_assets) and the media into
     * out_dir/media (unless media_url). */
    WB_SITE_RENDER = 0,
    /* Each page is a standalone HTML page at out_dir/REL.html (REL: its path
     * below the lessons folder), with out_dir/media, the assets, and an
     * index.html listing the lessons by title. media_url and inline_assets
     * are ignored. */
    WB_SITE_BUILD
};

/* The options of a site. size must be sizeof(struct wb_site_opts) as the
 * caller knows it (wb_site_opts_init sets it): a library that has grown
 * accepts an older, smaller struct (the missing fields are zero) and refuses
 * a larger one it does not know (-WB_EINVAL). See wordbank/api.h. */
struct wb_site_opts {
    size_t size;
    enum wb_site_kind kind;
    /* Settings "lang" and "audio_format", and the provider of dialogue clips.
     * Borrowed, like every pointer here: it must outlive the site. Required. */
    const struct wb_config *cfg;
    const char *media_dir; /* the word bank's media folder; required */
    const char *out_dir;   /* the site folder; required */
    const char *base_url;  /* links under this URL instead of relative ones */
    const char *media_url; /* RENDER: media linked here and not copied */
    int inline_assets;     /* RENDER: pages carry their CSS and JS */
    int cache_only;        /* dialogue clips are found, never made */
    /* A page's diagnostic, "NAME:LINE: reason", where name is the page's
     * (lines that do not parse, dialogue clips that could not be made); each
     * makes wb_site_write() return -WB_EINCOMPLETE. May be NULL. */
    void (*on_diag)(void *ud, const char *name, const char *msg);
    /* A media file left out of the site, and why (-WB_EINCOMPLETE too). */
    void (*on_warning)(void *ud, const char *msg);
    /* Where a page whose output is "-" goes (standard output, for the
     * command); 0 or a negative code. Required for such a page. */
    int (*on_stdout)(void *ud, const char *html, size_t len);
    void *ud;
};

/* Zero o and set o->size: a RENDER site without callbacks. */
WB_API void wb_site_opts_init(struct wb_site_opts *o);

/* Make an empty site (opts is copied; the strings it points to are
 * borrowed). *out is the caller's: wb_site_free() it. Errors: -WB_EINVAL (a
 * size this library does not know, a required field missing), -WB_ENOMEM. */
WB_API int wb_site_new(const struct wb_site_opts *opts, struct wb_site **out, struct wb_error *err);
/* Free the site. NULL is a no-op. */
WB_API void wb_site_free(struct wb_site *site);

/* Add a page and parse it now (its diagnostics go to on_diag at once). path
 * is the Markdown file, read here when src is NULL; otherwise src (len
 * bytes) is the page and path only its name ("-": standard input, named
 * "<stdin>" in diagnostics). out_path is where the page goes ("-": to
 * on_stdout) and root_rel the way from its folder back to out_dir ("" or
 * "../../"). Errors: the file's (-WB_ENOTFOUND, -WB_EIO, -WB_ETOOBIG), and
 * -WB_ENOMEM; the message names the file. */
WB_API int wb_site_add_page(struct wb_site *site, const char *path, const char *src, size_t len,
                            const char *out_path, const char *root_rel, struct wb_error *err);

/* Add the pages a manifest lists: "SOURCE<TAB>PAGE" lines (blank lines and
 * "#" comments skipped), PAGE relative to out_dir, or absolute when the site
 * has a base_url. name is the list's, for messages. Errors: -WB_EPARSE with
 * "NAME:LINE: reason" (a line without one tab, a page climbing out of
 * out_dir with "..", an absolute page without base_url), -WB_EINVAL ("NAME: no
 * pages listed"), and wb_site_add_page's. */
WB_API int wb_site_add_manifest(struct wb_site *site, const char *name, const char *text,
                                size_t len, struct wb_error *err);

/* Add every "*.md" file below dir (symbolic links are not followed; hidden
 * folders are read too), as dir/REL.md -> out_dir/REL.html, in the byte order
 * of REL. Errors: -WB_EINVAL ("DIR: not a directory", "DIR: no Markdown (.md)
 * files"), -WB_EIO ("DIR: cannot read every lesson: ..."), wb_site_add_page's. */
WB_API int wb_site_add_dir(struct wb_site *site, const char *dir, struct wb_error *err);

/* How many pages the site has. */
WB_API size_t wb_site_page_count(const struct wb_site *site);

/* Check the outputs of a RENDER site before anything is generated: no page
 * may overwrite a source (its own or another's, by any path or hard link),
 * no two pages may share an output (-WB_EINVAL), and out_dir must be a
 * folder (-WB_ENOTFOUND) one can write into (-WB_EIO). A BUILD site makes
 * its folders and has nothing to check (0). */
WB_API int wb_site_check(struct wb_site *site, struct wb_error *err);

/* Queue every word line of every page in run (wb_run_add; lines the run
 * refuses are skipped), so that one wb_run_execute() generates whatever the
 * site's entries miss. *queued (may be NULL) is set to the number queued. */
WB_API int wb_site_queue(const struct wb_site *site, struct wb_run *run, size_t *queued,
                         struct wb_error *err);

/* Write the site: the dialogue clips (made, unless cache_only), the assets,
 * every page with its cards filled from store's entries (NULL: an empty
 * bank) and the media they link, and for a BUILD site the index. Returns 0;
 * -WB_EINCOMPLETE when every page was written but something was left out
 * (a diagnostic, a media file, a clip: reported through on_diag/on_warning);
 * or the first error that stopped it (a page that could not be rendered or
 * written: its path in the message). Once per site. */
WB_API int wb_site_write(struct wb_site *site, struct wb_store *store, struct wb_error *err);

/* The quiz item id: the first 12 hex digits of SHA-256 over the question and
 * the answers (see docs/content.md for the canonical bytes). answers are
 * trimmed, deduplicated and sorted here; empty ones are ignored. */
WB_API int wb_quiz_id(const char *question, const char *const *answers, size_t n_answers,
                      char id[13]);

#ifdef __cplusplus
}
#endif

#endif
