/* The Anki note every deck and every push use: one note type, "wordbank
 * two-way", with a stable key field first (what a push finds notes by and
 * what Anki checks duplicates on), the entry's parts as fields, and two card
 * templates: recognition (word, picture, audio -> meaning) and production
 * (meaning, picture -> word, reading, audio). The reading carries the pitch
 * accent: a ꜜ after the mora where the pitch falls and the accent numbers in
 * their own field.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "export/export_internal.h"

const char *const anki_field_names[ANKI_NFIELDS] = {
    "Key",     "Word",        "Reading",  "PitchAccent", "Translation",
    "Context", "Description", "Examples", "Picture",     "Audio",
};

const char anki_css[] =
    ".card { font-family: \"IPAGothic\", \"Noto Sans CJK JP\", sans-serif; font-size: 22px; "
    "text-align: center; color: #222; background: #fff; }\n"
    ".word { font-size: 48px; }\n.reading { color: #666; }\n.translation { font-weight: bold; }\n"
    ".pitch-accent .hi { border-top: 2px solid currentColor; }\n"
    ".pitch-num { font-size: 16px; color: #666; }\n"
    ".context { font-style: italic; color: #666; }\n"
    ".examples { text-align: left; }\n.ex-tr { color: #666; font-size: 18px; }\n"
    "img { max-width: 90%; max-height: 320px; }\n";

const struct anki_template anki_templates[ANKI_NTEMPLATES] = {
    { "Recognition", "<div class=\"word\">{{Word}}</div>\n{{Picture}}\n{{Audio}}",
      "{{FrontSide}}\n<hr id=\"answer\">\n<div class=\"reading\">{{PitchAccent}}</div>\n"
      "<div class=\"translation\">{{Translation}}</div>\n<div class=\"context\">{{Context}}</div>\n"
      "<div class=\"description\">{{Description}}</div>\n{{Examples}}" },
    { "Production",
      "<div class=\"translation\">{{Translation}}</div>\n<div class=\"context\">{{Context}}</div>\n"
      "{{Picture}}",
      "{{FrontSide}}\n<hr id=\"answer\">\n<div class=\"word\">{{Word}}</div>\n"
      "<div class=\"reading\">{{PitchAccent}}</div>\n{{Audio}}\n"
      "<div class=\"description\">{{Description}}</div>\n{{Examples}}" },
};

int anki_html(struct wb_buf *b, const char *s)
{
    int rc = 0;
    for (; s && *s && rc == 0; s++) {
        switch (*s) {
        case '&':
            rc = wb_buf_appends(b, "&amp;");
            break;
        case '<':
            rc = wb_buf_appends(b, "&lt;");
            break;
        case '>':
            rc = wb_buf_appends(b, "&gt;");
            break;
        case '"':
            rc = wb_buf_appends(b, "&quot;");
            break;
        case '\n':
            rc = wb_buf_appends(b, "<br>");
            break;
        case '\r':
            break;
        case '\x1f':
            rc = wb_buf_appendc(b, ' ');
            break; /* Anki's field separator */
        default:
            rc = wb_buf_appendc(b, *s);
        }
    }
    return rc;
}

/* Small kana (ゃ, ョ, ...) join the mora before them. */
static int small_kana(const unsigned char *p)
{
    static const char *const small[] = { "ぁ", "ぃ", "ぅ", "ぇ", "ぉ", "ゃ", "ゅ", "ょ", "ゎ",
                                         "ァ", "ィ", "ゥ", "ェ", "ォ", "ャ", "ュ", "ョ", "ヮ" };
    for (size_t i = 0; i < sizeof small / sizeof *small; i++)
        if (memcmp(p, small[i], 3) == 0)
            return 1;
    return 0;
}

/* Bytes of the character at p[0..n): an invalid byte counts as one. */
static size_t utf8_step(const unsigned char *p, size_t n)
{
    uint32_t cp;
    int k = core_utf8_decode(p, n, &cp);
    return k ? (size_t)k : 1;
}

/* The reading with the first accent drawn: high morae in <span class="hi">,
 * a ꜜ after the mora where the pitch falls, then "[1]" (every accent). */
static int pitch_field(struct wb_buf *b, const struct wb_entry *e)
{
    const unsigned char *p = (const unsigned char *)e->reading;
    size_t len = strlen(e->reading), i = 0, mora = 0, total = 0;
    int acc = e->pitch_accent[0], rc;

    for (size_t j = 0; j < len; j += utf8_step(p + j, len - j))
        total += !(len - j >= 3 && small_kana(p + j));
    rc = wb_buf_appendf(b, "<span class=\"pitch-accent\" data-pitch=\"%d\">", acc);
    while (rc == 0 && i < len) {
        size_t start = i;
        int hi;
        i += utf8_step(p + i, len - i);
        while (i + 3 <= len && small_kana(p + i))
            i += 3;
        if (i > len)
            i = len;
        mora++;
        hi = acc == 0   ? mora > 1 || total == 1
             : acc == 1 ? mora == 1
                        : mora > 1 && (int)mora <= acc;
        if (hi)
            rc |= wb_buf_appends(b, "<span class=\"hi\">");
        {
            char *part = strndup(e->reading + start, i - start);
            rc |= part ? anki_html(b, part) : WB_ENOMEM;
            free(part);
        }
        if (hi)
            rc |= wb_buf_appends(b, "</span>");
        if (acc > 0 && (int)mora == acc)
            rc |= wb_buf_appends(b, "\xea\x9c\x9c");
    }
    rc |= wb_buf_appends(b, "</span> <span class=\"pitch-num\">[");
    for (size_t k = 0; k < e->n_pitch_accent && k < WB_PITCH_MAX; k++)
        rc |= wb_buf_appendf(b, "%s%d", k ? ", " : "", e->pitch_accent[k]);
    rc |= wb_buf_appends(b, "]</span>");
    return rc ? WB_ENOMEM : 0;
}

void anki_note_key(const struct wb_entry *e, char out[ANKI_KEY_MAX])
{
    struct wb_buf k;
    uint8_t h[32];
    wb_buf_init(&k, 0);
    if (wb_buf_appendf(&k, "%s\x1f%s\x1f%s", e->word, e->translation, e->language) != 0) {
        snprintf(out, ANKI_KEY_MAX, "wb-");
    } else {
        core_sha256(k.data, k.len, h);
        snprintf(out, ANKI_KEY_MAX, "wb-");
        for (int i = 0; i < 12; i++)
            snprintf(out + 3 + 2 * i, ANKI_KEY_MAX - 3 - 2 * (size_t)i, "%02x", h[i]);
    }
    wb_buf_release(&k);
}

int64_t anki_deck_id(const char *name)
{
    uint8_t h[32];
    core_sha256(name, strlen(name), h);
    /* 48 bits, above Anki's default deck (1) and any ms timestamp id. */
    return ((int64_t)h[0] << 40 | (int64_t)h[1] << 32 | (int64_t)h[2] << 24 | (int64_t)h[3] << 16 |
            (int64_t)h[4] << 8 | h[5]) +
           2;
}

int anki_note_fields(const struct wb_entry *e, const char *image, const char *audio,
                     struct wb_buf f[ANKI_NFIELDS])
{
    char key[ANKI_KEY_MAX];
    int rc = 0;

    for (int i = 0; i < ANKI_NFIELDS; i++)
        wb_buf_reset(&f[i]);
    anki_note_key(e, key);
    rc |= wb_buf_appends(&f[ANKI_KEY], key);
    rc |= anki_html(&f[ANKI_WORD], e->word);
    rc |= anki_html(&f[ANKI_READING], e->reading);
    if (e->reading && *e->reading && e->n_pitch_accent > 0)
        rc |= pitch_field(&f[ANKI_PITCH], e);
    else
        rc |= anki_html(&f[ANKI_PITCH],
                        e->reading && strcmp(e->reading, e->word) ? e->reading : NULL);
    rc |= anki_html(&f[ANKI_TRANSLATION], e->translation);
    rc |= anki_html(&f[ANKI_CONTEXT], e->context);
    rc |= anki_html(&f[ANKI_DESCRIPTION], e->description);
    if (e->n_examples) {
        rc |= wb_buf_appends(&f[ANKI_EXAMPLES], "<ul class=\"examples\">");
        for (size_t i = 0; i < e->n_examples; i++) {
            rc |= wb_buf_appends(&f[ANKI_EXAMPLES], "<li>");
            rc |= anki_html(&f[ANKI_EXAMPLES], e->examples[i].text);
            if (e->examples[i].translation) {
                rc |= wb_buf_appends(&f[ANKI_EXAMPLES], "<br><span class=\"ex-tr\">");
                rc |= anki_html(&f[ANKI_EXAMPLES], e->examples[i].translation);
                rc |= wb_buf_appends(&f[ANKI_EXAMPLES], "</span>");
            }
            rc |= wb_buf_appends(&f[ANKI_EXAMPLES], "</li>");
        }
        rc |= wb_buf_appends(&f[ANKI_EXAMPLES], "</ul>");
    }
    if (image) {
        rc |= wb_buf_appends(&f[ANKI_PICTURE], "<img src=\"");
        rc |= anki_html(&f[ANKI_PICTURE], image);
        rc |= wb_buf_appends(&f[ANKI_PICTURE], "\">");
    }
    if (audio)
        rc |= wb_buf_appendf(&f[ANKI_AUDIO], "[sound:%s]", audio);
    /* Every buffer non-NULL, even when empty. */
    for (int i = 0; i < ANKI_NFIELDS; i++)
        rc |= wb_buf_appends(&f[i], "");
    return rc ? WB_ENOMEM : 0;
}

char *anki_media_name(const char *file)
{
    char *name = strdup(file);
    for (char *p = name; p && *p; p++)
        *p = *p == '/' ? '_' : *p;
    return name;
}
