/* Provider-neutral prompt texts and the small helpers around them, shared by
 * the Gemini provider and any other (OpenAI-compatible) provider: the details
 * prompt for a word, the image prompt built from an image description, the text
 * that is spoken for an entry, and dialogue scripts ("Name: line" per line).
 *
 * Everything returns heap strings (free()) or fills caller-owned structs; no I/O.
 */
#ifndef WB_PROVIDERS_PROMPTS_H
#define WB_PROVIDERS_PROMPTS_H

#include <stddef.h>

#include "wordbank/dialogue.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"

/* English name of a BCP 47 language ("ja", "ja-JP" -> "Japanese"); the code itself
 * when unknown, "the target language" for NULL or "". Never NULL, static. */
const char *prov_language_name(const char *bcp47);

/* The details prompt for e (word, translation, language, context). It asks for a
 * description of this sense (expanded when the context is thin), 2-3 natural
 * example sentences with translations, a concrete memorable image description
 * (content only, no style words; few other objects for nouns), the language code
 * and, for Japanese, the kana reading. NULL on out of memory or without a word. */
char *prompt_details(const struct wb_entry *e);

/* The image prompt for an image description: the picture content plus the
 * house style ("a simple infographic style, no text or labels unless the
 * description asks"). NULL on out of memory or an empty description. */
char *prompt_image(const char *image_description);

/* What is spoken for an entry: "word" (the default) speaks the word alone,
 * "reading" its kana reading when known (so a kanji word with several readings
 * is spoken in this sense; falls back to the word), "example" the first example
 * sentence (falling back to the word), "both" the word, a pause and the first
 * example. mode NULL means "word". */
char *prompt_speech_text(const struct wb_entry *e, const char *mode);

/* Parse a dialogue script: one "Name: text" per line (blank lines skipped; a
 * full-width colon "：" also separates). A line without a speaker continues the
 * previous line. Fills *lines (free with prov_dialogue_lines_free). -WB_EINVAL with
 * a message naming the line when the first line has no speaker or the script is
 * empty; -WB_ETOOBIG past 4096 lines or 64 KiB. */
int prov_dialogue_parse(const char *text, size_t len, struct wb_dialogue_line **lines, size_t *n,
                        struct wb_error *err);
void prov_dialogue_lines_free(struct wb_dialogue_line *lines, size_t n);

/* The distinct speakers in order of first appearance (borrowed pointers into
 * lines; at most max are stored, the return value is the true count). */
size_t prov_dialogue_speakers(const struct wb_dialogue_line *lines, size_t n, const char **out,
                              size_t max);

/* The text sent for a two-speaker dialogue, as the official SDK's example does:
 * "TTS the following conversation between A and B:\nA: ...\nB: ...". NULL on
 * out of memory. */
char *prompt_dialogue(const struct wb_dialogue_line *lines, size_t n, const char *speaker_a,
                      const char *speaker_b);

#endif
