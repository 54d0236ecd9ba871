/* Japanese text: tokenization, readings and pronunciations (MeCab), kana and
 * width conversion, the EDICT dictionary (an index built once into the cache
 * directory) and vocabulary extraction from plain text.
 *
 * Only src/text includes MeCab. Every function here works offline.
 * Strings are UTF-8 in and out.
 */
#ifndef WORDBANK_TEXT_H
#define WORDBANK_TEXT_H

#include <stddef.h>

#include "wordbank/api.h"
#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- MeCab tagger ----------------------------------------------------------
 *
 * One MeCab tagger per wb_text. A wb_text is NOT thread-safe: use one per
 * thread (creating one costs a few milliseconds; the dictionary itself is
 * mmap'ed by MeCab and shared by the OS).
 *
 * The dictionary is config "mecab_dicdir" if set, else the first of
 * /var/lib/mecab/dic/ipadic-utf8 and /var/lib/mecab/dic/naist-jdic that exists
 * (both use the IPA feature layout: pos,pos1,pos2,pos3,ctype,cform,base,reading,
 * pronunciation). MeCab is always started with "-d <dicdir> -r /dev/null", so a
 * user's mecabrc (or $MECABRC) can never change the results.
 */
struct wb_text;

/* cfg may be NULL. -WB_ECONFIG when no usable dictionary is found. */
WB_API int wb_text_new(const struct wb_config *cfg, struct wb_text **out, struct wb_error *err);
WB_API void wb_text_free(struct wb_text *t);
/* The dictionary directory in use (borrowed). */
WB_API const char *wb_text_dicdir(const struct wb_text *t);

/* The reading of a word or phrase in hiragana: 食べる -> たべる, 東京都 -> とうきょうと.
 * Tokens MeCab does not know contribute their surface (kana folded to hiragana).
 * Appends to out. Input is capped at 1 MiB (-WB_ETOOBIG). */
WB_API int wb_text_reading(struct wb_text *t, const char *text, struct wb_buf *out,
                           struct wb_error *err);

/* MeCab's pronunciation field in katakana (は particle -> ワ, 東京 -> トーキョー),
 * punctuation kept: what a speech engine should read. Appends to out. */
WB_API int wb_text_pronunciation(struct wb_text *t, const char *text, struct wb_buf *out,
                                 struct wb_error *err);

/* ---- pitch accent ----------------------------------------------------------
 *
 * From Debian's open-jtalk-mecab-naist-jdic (its MeCab feature ends in
 * accent/mora-count and an accent chain rule: 箸 1/2, 橋 2/2, 端 0/2). The
 * package ships no dicrc, so wordbank runs MeCab on <cache>/open-jtalk-dic: a
 * generated dicrc beside symlinks to the package's files (config
 * "pitch_dicdir" names a ready dictionary folder instead). The tagger is
 * opened on first use.
 *
 * out[0..*n) gets the downstep positions (the mora after which the pitch
 * falls, 0 for heiban) of word read as reading (kana, may be NULL: the
 * dictionary's usual reading): every accent the dictionary lists for that
 * spelling and reading, else a compound with suffixes combined by the
 * dictionary's chain rules (東京都 4), else the accent of the reading itself
 * (何れ read どれ -> 1). *n = 0 when the dictionary cannot tell.
 * -WB_ECONFIG when the accent dictionary is missing. */
WB_API int wb_text_pitch_accent(struct wb_text *t, const char *word, const char *reading, int *out,
                                size_t max, size_t *n, struct wb_error *err);
/* Opens the accent dictionary now (wb_text_pitch_accent opens it at its first
 * call): 0, or -WB_ECONFIG when it is missing. */
WB_API int wb_text_pitch_open(struct wb_text *t, struct wb_error *err);
/* The accent dictionary folder in use, or NULL before the first call. */
WB_API const char *wb_text_pitch_dicdir(const struct wb_text *t);
/* Morae in a kana string (small ゃゅょぁぃぅぇぉゎ join the mora before). */
WB_API size_t wb_text_morae(const char *kana);

/* One morpheme. Every string is heap-owned and never NULL ("" when unknown). */
struct wb_token {
    char *surface;       /* as written: 見せ */
    char *base;          /* dictionary form: 見せる (the surface for unknown words) */
    char *reading;       /* hiragana: みせ ("" for unknown words written with kanji) */
    char *pronunciation; /* katakana: ミセ */
    char *pos;           /* part of speech: 名詞 動詞 形容詞 助詞 助動詞 記号 ... */
    char *pos_detail; /* MeCab's second level: 自立 非自立 接尾 固有名詞 ... ("" if "*") */
    int known;        /* 0 when MeCab guessed the word (not in its dictionary) */
};

/* Split text into morphemes. *toks is an array of *n tokens; free it with
 * wb_tokens_free. Input capped at 1 MiB per call. */
WB_API int wb_text_tokenize(struct wb_text *t, const char *text, struct wb_token **toks, size_t *n,
                            struct wb_error *err);
WB_API void wb_tokens_free(struct wb_token *toks, size_t n);

/* ---- kana and width -------------------------------------------------------
 * These append to out and return 0, or -WB_ENOMEM / -WB_ETOOBIG from the
 * buffer. Bytes that are not valid UTF-8 are copied through unchanged. */

/* Katakana -> hiragana (ァ-ヶ, ヽヾ; ー and ヷ-ヺ have no hiragana and stay). */
WB_API int wb_kana_to_hiragana(const char *in, struct wb_buf *out);
/* Hiragana -> katakana (ぁ-ゖ, ゝゞ). */
WB_API int wb_kana_to_katakana(const char *in, struct wb_buf *out);
/* Full-width ASCII (！..～) and the ideographic space -> ASCII; half-width
 * katakana -> full-width, with ﾞ/ﾟ composed into the previous kana (ｶﾞ -> ガ). */
WB_API int wb_text_fold_width(const char *in, struct wb_buf *out);
/* 1 when s holds a kanji (CJK ideographs, extension A/B.., compatibility, 々). */
WB_API int wb_text_has_kanji(const char *s);
/* 1 when s is non-empty and only hiragana/katakana (and ー). */
WB_API int wb_text_is_kana(const char *s);

/* ---- EDICT ------------------------------------------------------------------
 *
 * Debian's edict (config "edict_path", default /usr/share/edict/edict, EUC-JP)
 * is converted once to UTF-8 and indexed into
 *   <cache>/edict-<hash of the source path>.idx
 * where <cache> is config "cache_dir", else $XDG_CACHE_HOME/wordbank, else
 * ~/.cache/wordbank. The index is a UTF-8 copy of the dictionary plus two
 * sorted offset tables (by headword, by reading), binary-searched with pread
 * (so none of it counts in the process's RSS). It is rebuilt when the
 * source's size or mtime changes (at open) or a lookup finds it damaged (at
 * the next open), written to a temporary file and renamed into place, and
 * builders in several processes take turns through a lock file beside it.
 *
 * A wb_edict is read-only after open and may be shared by threads.
 */
struct wb_edict;

struct wb_edict_sense {
    char *pos;      /* EDICT part-of-speech codes, "v1,vt" (NULL when none given) */
    char *tags;     /* other markers, "uk,abbr" (NULL when none) */
    char **glosses; /* "to eat", "to live on (e.g. a salary)" */
    size_t n_glosses;
};

struct wb_edict_entry {
    char *headword; /* 食べる */
    char *reading;  /* たべる; NULL when the headword is itself kana */
    int common;     /* the (P) marker */
    struct wb_edict_sense *senses;
    size_t n_senses;
};

/* Open (building or rebuilding the index first when needed; progress, which may
 * be NULL, gets fractions 0..1 during a build). cfg may be NULL.
 * -WB_ENOTFOUND when the EDICT file does not exist. */
WB_API int wb_edict_open(const struct wb_config *cfg, void (*progress)(void *ud, double frac),
                         void *ud, struct wb_edict **out, struct wb_error *err);
WB_API void wb_edict_close(struct wb_edict *d);
/* 1 when the last open had to build the index (for tests and progress UIs). */
WB_API int wb_edict_was_built(const struct wb_edict *d);
/* The index file in use (borrowed). */
WB_API const char *wb_edict_index_path(const struct wb_edict *d);

/* Every entry whose headword is word; when there is none, every entry whose
 * reading is word (so もらう finds 貰う). Common (P) entries first, then
 * dictionary order. -WB_ENOTFOUND when there is no entry; -WB_ECORRUPT when
 * the lookup meets a damaged index (logged once; the file is removed and the
 * next wb_edict_open rebuilds it; every later lookup on d fails the same
 * way). Free with wb_edict_entries_free. */
WB_API int wb_edict_lookup(struct wb_edict *d, const char *word, struct wb_edict_entry **out,
                           size_t *n, struct wb_error *err);
WB_API void wb_edict_entries_free(struct wb_edict_entry *e, size_t n);

/* The description for (word, translation): the glosses, joined by "; ", of the
 * sense whose glosses best match translation (NULL or no match: the first
 * sense of the first entry). reading_out (may be NULL) receives that entry's
 * reading (or its kana headword). Appends to the buffers.
 * -WB_ENOTFOUND when EDICT has no entry for word. */
WB_API int wb_edict_gloss_for(struct wb_edict *d, const char *word, const char *translation,
                              struct wb_buf *description_out, struct wb_buf *reading_out,
                              struct wb_error *err);

/* The same, with the entry's context (may be NULL) helping to choose the
 * sense: its words count like the translation's parenthesised words. */
WB_API int wb_edict_describe(struct wb_edict *d, const char *word, const char *translation,
                             const char *context, struct wb_buf *description_out,
                             struct wb_buf *reading_out, struct wb_error *err);

/* Parse one UTF-8 EDICT line ("猫 [ねこ] /(n) (1) cat/(2) shamisen/(P)/") into
 * *e (release with wb_edict_entries_free(e, 1) semantics: use
 * wb_edict_entry_release). -WB_EPARSE on a line that is not EDICT. */
WB_API int wb_edict_parse_line(const char *line, size_t len, struct wb_edict_entry *e);
WB_API void wb_edict_entry_release(struct wb_edict_entry *e);

/* ---- readings as written -------------------------------------------------
 *
 * A word's reading keeps the kana the word is written with: メモ帳 with the
 * reading めもちょう gives メモちょう, ノーベル賞 gives ノーベルしょう; only
 * kanji runs take their part of the reading, in hiragana. When the word and
 * the reading cannot be aligned the reading is appended as given. */
WB_API int wb_text_reading_as_written(const char *word, const char *reading, struct wb_buf *out);

enum wb_reading_verdict {
    WB_READING_CONFIRMED = 0, /* the given reading is EDICT's for this meaning */
    WB_READING_FILLED,        /* none was given: the dictionary's (or MeCab's) */
    WB_READING_CORRECTED,     /* EDICT does not read the word so for this meaning: replaced */
    WB_READING_UNVERIFIED,    /* not in EDICT and unlike MeCab's reading: kept, flagged */
};

/* The reading of word (as written) for this translation and context (either
 * may be NULL), checking given (a provider's answer, may be NULL or empty)
 * against EDICT (d may be NULL: MeCab only). When EDICT has the word, the
 * reading of the sense whose glosses match the translation and context wins
 * (何れ "which" -> どれ, 注ぐ "to pour (into a cup)" -> つぐ, 居る "to be
 * (humble)" -> おる); a given reading stands when EDICT has it for an equally
 * good sense. A dictionary found damaged (WB_ECORRUPT from its lookup)
 * counts as none. *verdict says what happened. Appends to out. */
WB_API int wb_text_check_reading(struct wb_text *t, struct wb_edict *d, const char *word,
                                 const char *translation, const char *context, const char *given,
                                 struct wb_buf *out, int *verdict, struct wb_error *err);

/* ---- vocabulary extraction -------------------------------------------------- */

struct wb_extract_item {
    char *base;    /* dictionary form: 食べる */
    char *reading; /* hiragana of the dictionary form: たべる */
    char *pos;     /* 動詞 */
    char *gloss;   /* first EDICT gloss without parentheses ("to eat"), or NULL */
    size_t count;  /* occurrences in the text */
    size_t first;  /* index of the first occurrence (tokens from the start) */
};

/* Vocabulary candidates from Japanese text: every content word by its base
 * form, counted; particles (助詞), auxiliaries (助動詞), symbols (記号),
 * prefixes, fillers, pronouns, numbers, adnominals (この, その), dependent
 * words (非自立: こと, いる in ている) and suffixes are left out, and so is the
 * light verb する. Sorted by count (descending), then first occurrence.
 * d may be NULL (no glosses). Text up to 64 MiB, processed line by line. */
WB_API int wb_extract(struct wb_text *t, struct wb_edict *d, const char *text, size_t len,
                      struct wb_extract_item **items, size_t *n, struct wb_error *err);
WB_API void wb_extract_items_free(struct wb_extract_item *items, size_t n);

/* Append the items as TSV lines ready for `wordbank propagate`:
 *   base<TAB>gloss<TAB>reading; pos; count N
 * Items without a gloss get an empty translation column. Tabs and newlines
 * inside fields become spaces. */
WB_API int wb_extract_format_tsv(const struct wb_extract_item *items, size_t n, struct wb_buf *out);

#ifdef __cplusplus
}
#endif

#endif
