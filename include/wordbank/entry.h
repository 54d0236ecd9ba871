/* A word bank entry: the word, its translation and language (together the
 * key), what the details stage wrote about it, and the state of each stage.
 *
 * Strings are owned by the entry (heap, UTF-8) and may be NULL when unknown.
 */
#ifndef WORDBANK_ENTRY_H
#define WORDBANK_ENTRY_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/api.h"

#ifdef __cplusplus
extern "C" {
#endif

enum wb_stage {
    WB_STAGE_DETAILS = 0,
    WB_STAGE_IMAGE,
    WB_STAGE_AUDIO,
    WB_STAGE_COUNT
};
enum wb_state {
    WB_STATE_MISSING = 0,
    WB_STATE_DONE,
    WB_STATE_FAILED
};

/* "details", "image", "audio"; "missing", "done", "failed". */
WB_API const char *wb_stage_name(enum wb_stage stage);
WB_API const char *wb_state_name(enum wb_state state);
/* -1 when the name is unknown. */
WB_API int wb_stage_from_name(const char *name);
WB_API int wb_state_from_name(const char *name);

struct wb_example {
    char *text;
    char *translation; /* NULL when unknown (the original format had none) */
};

struct wb_stage_info {
    enum wb_state state;
    char *error;    /* the last failure's message (the API's own words), or NULL */
    char *file;     /* media file (image, audio) relative to the media dir, or NULL */
    char *provider; /* "gemini", "openai", "offline", "import" */
    char *model;
    char *voice;
    int64_t tokens_in, tokens_out;
    int64_t updated_at; /* wall clock, seconds */
};

/* At most this many accepted pitch accents a word. */
#define WB_PITCH_MAX 4

struct wb_entry {
    int64_t id; /* store row id, 0 when not stored */
    char *word;
    char *translation;
    char *language; /* BCP 47, "ja" */
    char *context;
    char *reading;
    char *description;
    char *image_description;
    /* Japanese pitch accent: the mora after which the pitch falls, one a
     * pattern the dictionary accepts (0 = heiban, no fall; 箸 1, 橋 2, 端 0).
     * n_pitch_accent is 0 when unknown. */
    int pitch_accent[WB_PITCH_MAX];
    size_t n_pitch_accent;
    struct wb_example *examples;
    size_t n_examples;
    struct wb_stage_info stages[WB_STAGE_COUNT];
    int64_t created_at, updated_at;
};

/* Zero an entry (every string NULL). Release frees what it owns and leaves
 * it initialised, ready for reuse. */
WB_API void wb_entry_init(struct wb_entry *e);
WB_API void wb_entry_release(struct wb_entry *e);
/* Deep copy; dst must be initialised (its old contents are released). */
WB_API int wb_entry_copy(struct wb_entry *dst, const struct wb_entry *src);
/* Append an example (copies both strings; translation may be NULL). */
WB_API int wb_entry_add_example(struct wb_entry *e, const char *text, const char *translation);
WB_API void wb_entry_clear_examples(struct wb_entry *e);
WB_API void wb_stage_info_release(struct wb_stage_info *s);
WB_API int wb_stage_info_copy(struct wb_stage_info *dst, const struct wb_stage_info *src);

struct wb_error;
/* The rules every entry passes however it comes in (add, propagate, import,
 * lesson blocks, the store itself): word, translation and context valid UTF-8
 * without control characters, word and translation not blank; a language
 * (when not NULL) checked as by wb_language_check. context may be NULL.
 * 0, or -WB_EINVAL with "the word is blank" and the like in err. */
WB_API int wb_entry_check(const char *word, const char *translation, const char *context,
                          const char *language, struct wb_error *err);
/* A language code shaped like BCP 47: letters, digits and '-' (and '_', as
 * in locale names), starting with a letter, 1-35 characters ("ja", "pt-BR",
 * "zh-Hant"). 0 or -WB_EINVAL. */
WB_API int wb_language_check(const char *language, struct wb_error *err);

#ifdef __cplusplus
}
#endif

#endif
