/* The offline provider's pieces: speech from espeak-ng and entry details from
 * MeCab and EDICT. No key, no network. Only src/offline includes espeak-ng.
 *
 * espeak-ng is one global synthesizer and not thread-safe: every call here
 * takes one process-wide mutex, and the library is initialised once, on first
 * use. Speech comes back as PCM (mono, signed 16-bit, espeak-ng's rate, 22050
 * Hz): encoding it is the media module's job.
 */
#ifndef WORDBANK_OFFLINE_H
#define WORDBANK_OFFLINE_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/api.h"
#include "wordbank/buf.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"
#include "wordbank/text.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The provider and model names the offline stages record in wb_stage_info. */
#define WB_OFFLINE_PROVIDER      "offline"
#define WB_OFFLINE_DETAILS_MODEL "mecab+edict"
#define WB_OFFLINE_SPEECH_MODEL  "espeak-ng"

/* Speak text in lang (BCP 47: "ja", "en-US", "fr", "pt-BR", "zh"). For
 * Japanese, the text is first turned into MeCab's pronunciation, in hiragana,
 * because espeak-ng's ja voice reads kana only (kanji come out as "Chinese
 * letter", 食べる as "beru"); kanji MeCab cannot read are left out. t is used
 * for that (NULL: a temporary tagger is made). Other languages go to the
 * espeak-ng voice for the tag (its language matching: "en-US" -> en-us, "zh"
 * -> cmn). *pcm (free() it) gets *n_samples mono samples at *rate Hz.
 * voice_out (may be NULL) receives the espeak-ng voice used ("ja", "en-us").
 * Text is capped at 16 KiB, audio at 5 minutes (-WB_ETOOBIG).
 * -WB_EUNSUPPORTED when espeak-ng has no voice for lang or cannot start;
 * -WB_EINVAL when there is nothing to say. */
WB_API int wb_offline_speak(const char *text, const char *lang, struct wb_text *t, int16_t **pcm,
                            size_t *n_samples, int *rate, struct wb_buf *voice_out,
                            struct wb_error *err);

/* What wb_offline_speak would feed espeak-ng for (text, lang): for Japanese
 * the hiragana pronunciation, otherwise text unchanged. Appends to out. */
WB_API int wb_offline_speech_text(struct wb_text *t, const char *text, const char *lang,
                                  struct wb_buf *out, struct wb_error *err);

/* Fill e->reading and e->description for a Japanese entry (language "ja" or
 * NULL); examples are cleared (offline has none); other fields are left alone.
 * The description is the EDICT sense matching e->translation (see
 * wb_edict_gloss_for); an inflected word (食べました) is looked up by its base
 * form. The reading is that EDICT entry's reading when the word has kanji,
 * else MeCab's (hiragana).
 * d may be NULL: the reading only. -WB_ENOTFOUND when EDICT has no entry (the
 * reading is still filled); -WB_EUNSUPPORTED for other languages. */
WB_API int wb_offline_details(struct wb_text *t, struct wb_edict *d, struct wb_entry *e,
                              struct wb_error *err);

#ifdef __cplusplus
}
#endif

#endif
