/* Internal helpers of the content module: UTF-8 walking, kana folding, HTML
 * and URL escaping, furigana alignment, and the pieces the page renderers
 * share. Nothing here is public API.
 */
#ifndef WB_CONTENT_INT_H
#define WB_CONTENT_INT_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/buf.h"
#include "wordbank/content.h"

/* The embedded assets (generated at build time from src/content/assets/). */
extern const char content_css[];
extern const size_t content_css_len;
extern const char content_js[];
extern const size_t content_js_len;

/* Decode one code point at s[0..len); invalid or truncated sequences give
 * U+FFFD and consume one byte. *used is set to the bytes consumed (>= 1). */
uint32_t content_utf8_next(const char *s, size_t len, size_t *used);
/* Encode cp (<= 0x10FFFF) into out. */
/* Non-zero when s[0..len) is valid UTF-8. */
int content_utf8_valid(const char *s, size_t len);
/* Append s with invalid sequences replaced by U+FFFD. */
int content_utf8_clean(struct wb_buf *out, const char *s, size_t len);

int content_is_kana(uint32_t cp);
int content_is_kanji(uint32_t cp);
/* Katakana to hiragana, other code points unchanged. */
uint32_t content_to_hiragana(uint32_t cp);
/* Append s with katakana folded to hiragana. */
int content_hiragana(struct wb_buf *out, const char *s);

/* HTML text and attribute escaping (one function serves both: & < > " ' are
 * escaped, newlines become &#10; so the output never holds a blank line, C0
 * controls other than tab are dropped, invalid UTF-8 becomes U+FFFD). */
int content_esc(struct wb_buf *out, const char *s);
int content_escn(struct wb_buf *out, const char *s, size_t len);
/* Percent-encode a relative path for a URL (keeps '/' and unreserved bytes). */
int content_url_path(struct wb_buf *out, const char *s);

/* The reading as a <p class="wb-reading wb-pitch"> with the first pitch
 * accent pattern drawn over its morae and every pattern listed (pitch.c). */
int content_pitch(struct wb_buf *out, const char *lang, const char *reading, const int *pitch,
                  size_t n_pitch);

/* The word as HTML with furigana from reading (see docs/content.md): okurigana
 * aligned when possible, whole-word ruby otherwise, the bare (escaped) word
 * when it has no kanji or there is no reading. *aligned (may be NULL) is set
 * to 1 for aligned ruby, 2 for whole-word ruby, 0 for none. */
int content_ruby(struct wb_buf *out, const char *word, const char *reading, int *aligned);

/* Trim ASCII whitespace and U+3000 from both ends of s[0..*len). */
const char *content_trim(const char *s, size_t *len);
/* Copy of s with whitespace runs collapsed to one space and trimmed. */
char *content_norm_ws(const char *s);

/* The caller's options (NULL: the defaults) into the library's layout
 * (core_sized_load): every public entry point renders from such a copy. */
int content_opts_load(struct wb_render_opts *dst, const struct wb_render_opts *opts,
                      struct wb_error *err);

/* Shared by the document and the preview renderers. */
int content_asset_href(struct wb_buf *out, const struct wb_render_opts *o, const char *file);
int content_page_open(struct wb_buf *out, const struct wb_render_opts *o, const char *title,
                      const char *body_class);
int content_page_close(struct wb_buf *out);
int content_assets_inline(struct wb_buf *out);
/* One card for an entry (the item supplies what the entry lacks). */
int content_card(struct wb_buf *out, const struct wb_render_opts *o, const struct wb_entry *e,
                 const struct wb_word_item *it, struct wb_error *err);

#endif
