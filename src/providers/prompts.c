/* Prompt texts shared by providers (see prompts.h). The wording lives here,
 * in one place, so every provider asks for the same card and tests can pin it.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "providers/prompts.h"
#include "wordbank/buf.h"

static const struct {
    const char *code, *name;
} languages[] = {
    { "ja", "Japanese" },   { "zh", "Chinese" },    { "ko", "Korean" },     { "en", "English" },
    { "es", "Spanish" },    { "fr", "French" },     { "de", "German" },     { "it", "Italian" },
    { "pt", "Portuguese" }, { "ru", "Russian" },    { "ar", "Arabic" },     { "hi", "Hindi" },
    { "nl", "Dutch" },      { "sv", "Swedish" },    { "no", "Norwegian" },  { "nb", "Norwegian" },
    { "da", "Danish" },     { "fi", "Finnish" },    { "pl", "Polish" },     { "cs", "Czech" },
    { "sk", "Slovak" },     { "hu", "Hungarian" },  { "ro", "Romanian" },   { "el", "Greek" },
    { "tr", "Turkish" },    { "uk", "Ukrainian" },  { "he", "Hebrew" },     { "fa", "Persian" },
    { "th", "Thai" },       { "vi", "Vietnamese" }, { "id", "Indonesian" }, { "ms", "Malay" },
    { "tl", "Tagalog" },    { "bn", "Bengali" },    { "ta", "Tamil" },      { "sw", "Swahili" },
    { "ca", "Catalan" },    { "hr", "Croatian" },   { "sr", "Serbian" },    { "bg", "Bulgarian" },
    { "la", "Latin" },      { "eo", "Esperanto" },
};

const char *prov_language_name(const char *bcp47)
{
    size_t n;
    if (!bcp47 || !*bcp47)
        return "the target language";
    /* The primary subtag decides: "pt-BR" is Portuguese, "zh-Hant" Chinese. */
    n = strcspn(bcp47, "-_");
    for (size_t i = 0; i < sizeof languages / sizeof languages[0]; i++) {
        if (strlen(languages[i].code) == n && strncasecmp(languages[i].code, bcp47, n) == 0)
            return languages[i].name;
    }
    return bcp47;
}

static int is_japanese(const char *code)
{
    return code && strncasecmp(code, "ja", 2) == 0 && (code[2] == '\0' || code[2] == '-');
}

static int blank(const char *s)
{
    if (!s)
        return 1;
    while (*s && isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

char *prompt_details(const struct wb_entry *e)
{
    struct wb_buf b;
    const char *lang;
    int rc = 0;

    if (!e || blank(e->word))
        return NULL;
    lang = prov_language_name(e->language);
    wb_buf_init(&b, 0);
    rc |=
        wb_buf_appendf(&b, "You are writing a vocabulary flashcard for a learner of %s.\n\n", lang);
    rc |= wb_buf_appendf(&b, "Word: %s\n", e->word);
    rc |= wb_buf_appendf(&b, "Translation: %s\n",
                         blank(e->translation) ? "(none given)" : e->translation);
    rc |= wb_buf_appendf(&b, "Context: %s\n\n", blank(e->context) ? "(none given)" : e->context);
    rc |= wb_buf_appends(
        &b, "The translation and the context pin down which meaning of the word is meant; "
            "write about that meaning only.\n\nFill in these fields:\n");
    rc |= wb_buf_appends(&b, "- word: the word exactly as given above.\n"
                             "- translation: the translation exactly as given above.\n");
    rc |= wb_buf_appendf(&b, "- language_code: the BCP 47 code of the word's language (%s).\n",
                         blank(e->language) ? "for example ja" : e->language);
    if (is_japanese(e->language))
        rc |= wb_buf_appends(&b, "- reading: the reading of the word in kana (hiragana; katakana "
                                 "for words normally written in katakana).\n");
    else
        rc |= wb_buf_appends(&b, "- reading: an empty string.\n");
    rc |= wb_buf_appends(
        &b, "- description: two to four sentences, in the language of the translation, "
            "explaining this meaning: what it refers to, when and how it is used, its register, "
            "and what sets it apart from near-synonyms. When the context above is short or "
            "missing, expand on it so that the description stands on its own.\n");
    rc |= wb_buf_appendf(
        &b,
        "- examples: two or three short, natural example sentences in %s that use the word "
        "in this meaning, as a native speaker would say them in everyday life; each with "
        "\"text\" (the sentence in %s) and \"translation\" (its translation into the "
        "language of the translation above).\n",
        lang, lang);
    rc |= wb_buf_appends(
        &b, "- image_description: one or two sentences describing a concrete scene that makes "
            "this meaning memorable at a glance. Describe only the content of the picture (who "
            "or what is shown, doing what, where), with no words about style, medium, colours "
            "or camera. For a noun, show the thing itself clearly, with few other objects. No "
            "written text, letters or signs in the scene.\n");
    if (rc) {
        wb_buf_release(&b);
        return NULL;
    }
    return wb_buf_detach(&b, NULL);
}

char *prompt_image(const char *image_description)
{
    struct wb_buf b;
    const char *s = image_description;
    size_t n;
    if (blank(s))
        return NULL;
    while (isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    wb_buf_init(&b, 0);
    if (wb_buf_append(&b, s, n) ||
        wb_buf_appends(&b, "\n\nDraw this in a simple infographic style: clean flat shapes, a "
                           "plain background, the subject large and centred. No text or labels "
                           "unless the description asks for them.")) {
        wb_buf_release(&b);
        return NULL;
    }
    return wb_buf_detach(&b, NULL);
}

char *prompt_speech_text(const struct wb_entry *e, const char *mode)
{
    const char *example = NULL;
    struct wb_buf b;
    int rc = 0;
    if (!e || blank(e->word))
        return NULL;
    if (e->n_examples > 0 && !blank(e->examples[0].text))
        example = e->examples[0].text;
    wb_buf_init(&b, 0);
    if (mode && !strcmp(mode, "reading") && !blank(e->reading))
        rc = wb_buf_appends(&b, e->reading);
    else if (mode && !strcmp(mode, "example") && example)
        rc = wb_buf_appends(&b, example);
    else if (mode && !strcmp(mode, "both") && example)
        rc =
            wb_buf_appendf(&b, is_japanese(e->language) ? "%s。\n%s" : "%s.\n%s", e->word, example);
    else
        rc = wb_buf_appends(&b, e->word);
    if (rc) {
        wb_buf_release(&b);
        return NULL;
    }
    return wb_buf_detach(&b, NULL);
}

void prov_dialogue_lines_free(struct wb_dialogue_line *lines, size_t n)
{
    if (!lines)
        return;
    for (size_t i = 0; i < n; i++) {
        free(lines[i].speaker);
        free(lines[i].text);
    }
    free(lines);
}

int prov_dialogue_parse(const char *text, size_t len, struct wb_dialogue_line **lines, size_t *n,
                        struct wb_error *err)
{
    struct wb_dialogue_line *v = NULL;
    size_t count = 0, lineno = 0, pos = 0;
    int rc = 0;

    *lines = NULL;
    *n = 0;
    if (len > 64 * 1024) {
        rc = wb_error_set(err, WB_ETOOBIG, "dialogue is longer than 64 KiB");
        goto out;
    }
    while (pos < len) {
        const char *s = text + pos;
        struct core_dialogue_line dl;
        size_t ln = 0;
        int how;
        while (pos + ln < len && s[ln] != '\n')
            ln++;
        pos += ln + 1;
        lineno++;
        while (ln > 0 && (s[ln - 1] == '\r' || isspace((unsigned char)s[ln - 1])))
            ln--;
        while (ln > 0 && isspace((unsigned char)*s)) {
            s++;
            ln--;
        }
        if (ln == 0)
            continue;
        how = core_dialogue_split(s, ln, &dl);
        /* No speaker (or prose whose first colon comes late): the line goes on the last one. */
        if (how == CORE_DIALOGUE_NO_NAME || how == CORE_DIALOGUE_LONG_NAME) {
            struct wb_buf joined;
            if (count == 0) {
                rc = wb_error_set(err, WB_EINVAL,
                                  "dialogue line %zu has no speaker (expected \"Name: text\")",
                                  lineno);
                goto out;
            }
            wb_buf_init(&joined, 0);
            if (wb_buf_appends(&joined, v[count - 1].text) || wb_buf_appendc(&joined, ' ') ||
                wb_buf_append(&joined, s, ln)) {
                wb_buf_release(&joined);
                rc = wb_error_set(err, WB_ENOMEM, "out of memory");
                goto out;
            }
            free(v[count - 1].text);
            v[count - 1].text = wb_buf_detach(&joined, NULL);
            continue;
        }
        if (count >= 4096) {
            rc = wb_error_set(err, WB_ETOOBIG, "dialogue has more than 4096 lines");
            goto out;
        }
        if (CORE_ARRAY_RESIZE(v, count + 1, 0) != 0) {
            rc = wb_error_set(err, WB_ENOMEM, "out of memory");
            goto out;
        }
        v[count].speaker = strndup(dl.name, dl.name_len);
        v[count].text = strndup(dl.text, dl.text_len);
        v[count].line = (unsigned)lineno;
        count++;
        if (!v[count - 1].speaker || !v[count - 1].text) {
            rc = wb_error_set(err, WB_ENOMEM, "out of memory");
            goto out;
        }
        if (how == CORE_DIALOGUE_EMPTY_NAME) {
            rc =
                wb_error_set(err, WB_EINVAL, "dialogue line %zu has an empty speaker name", lineno);
            goto out;
        }
    }
    if (count == 0) {
        rc = wb_error_set(err, WB_EINVAL, "dialogue is empty (expected \"Name: text\" lines)");
        goto out;
    }
out:
    if (rc) {
        prov_dialogue_lines_free(v, count);
    } else {
        *lines = v;
        *n = count;
    }
    return rc;
}

size_t prov_dialogue_speakers(const struct wb_dialogue_line *lines, size_t n, const char **out,
                              size_t max)
{
    size_t count = 0, stored = 0;
    for (size_t i = 0; i < n; i++) {
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(lines[j].speaker, lines[i].speaker) == 0;
        if (seen)
            continue;
        if (stored < max)
            out[stored++] = lines[i].speaker;
        count++;
    }
    return count;
}

char *prompt_dialogue(const struct wb_dialogue_line *lines, size_t n, const char *speaker_a,
                      const char *speaker_b)
{
    struct wb_buf b;
    int rc;
    wb_buf_init(&b, 0);
    rc = wb_buf_appendf(&b, "TTS the following conversation between %s and %s:", speaker_a,
                        speaker_b);
    for (size_t i = 0; i < n && !rc; i++)
        rc = wb_buf_appendf(&b, "\n%s: %s", lines[i].speaker, lines[i].text);
    if (rc) {
        wb_buf_release(&b);
        return NULL;
    }
    return wb_buf_detach(&b, NULL);
}
