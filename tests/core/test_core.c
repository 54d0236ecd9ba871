/* Core: error table, string builder, redaction, hashing, base64, entries. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "test.h"
#include "wordbank/config.h"
#include "wordbank/entry.h"
#include "wordbank/log.h"

TEST(error_table_names_and_messages)
{
    struct wb_error e = { 0 };
    CHECK_STR(wb_errname(WB_ENOTFOUND), "WB_ENOTFOUND");
    CHECK_STR(wb_errname(0), "WB_OK");
    CHECK_STR(wb_errname(-9999), "WB_E?");
    CHECK_STR(wb_strerror(WB_ENOMEM), "out of memory");
    CHECK(WB_ENOMEM < 0 && WB_EINVAL < 0 && WB_ENOMEM != WB_EINVAL);
    CHECK_INT(wb_error_set(&e, WB_EPARSE, "line %d", 7), WB_EPARSE);
    CHECK_STR(wb_error_text(&e), "line 7");
    wb_error_prefix(&e, "file.jsonl");
    CHECK_STR(e.msg, "file.jsonl: line 7");
    wb_error_clear(&e);
    CHECK_STR(wb_error_text(&e), "success");
}

TEST(buf_grows_and_detaches)
{
    struct wb_buf b;
    wb_buf_init(&b, 0);
    CHECK(b.data != NULL);
    CHECK_STR(b.data, "");
    for (int i = 0; i < 1000; i++)
        CHECK_INT(wb_buf_appendf(&b, "%d,", i), 0);
    CHECK(b.len > 3000);
    CHECK(strncmp(b.data, "0,1,2,", 6) == 0);
    wb_buf_consume(&b, 2);
    CHECK(strncmp(b.data, "1,2,", 4) == 0);
    size_t n;
    char *p = wb_buf_detach(&b, &n);
    CHECK(n > 3000 && p[n] == '\0');
    CHECK_STR(b.data, "");
    free(p);
    wb_buf_release(&b);
}

TEST(buf_respects_limit)
{
    struct wb_buf b;
    wb_buf_init(&b, 10);
    CHECK_INT(wb_buf_appends(&b, "0123456789"), 0);
    CHECK_INT(wb_buf_appends(&b, "x"), WB_ETOOBIG);
    CHECK_INT(b.len, 10);
    CHECK_STR(b.data, "0123456789");
    wb_buf_release(&b);
}

TEST(secrets_are_redacted_from_errors)
{
    struct wb_error e = { 0 };
    wb_secret_register("AIzaTESTKEY-0123456789abcdef");
    wb_error_set(&e, WB_EHTTP, "GET /x?key=%s failed; again %s", "AIzaTESTKEY-0123456789abcdef",
                 "AIzaTESTKEY-0123456789abcdef");
    CHECK(strstr(e.msg, "AIzaTESTKEY") == NULL);
    CHECK_STR(e.msg, "GET /x?key=[REDACTED] failed; again [REDACTED]");
    /* A secret shorter than the mask grows the text; it must still fit. */
    char small[16] = "ab12345678";
    wb_secret_register("12345678");
    wb_secret_redact(small, sizeof small);
    CHECK(strlen(small) < sizeof small);
    CHECK(strncmp(small, "ab[REDACTED]", 12) == 0);
}

TEST(sha256_known_vector)
{
    char hex[65];
    wb_sha256_hex("abc", 3, hex);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(base64_round_trip)
{
    struct wb_buf enc, dec;
    unsigned char raw[1000];
    for (int i = 0; i < 1000; i++)
        raw[i] = (unsigned char)(i * 7);
    wb_buf_init(&enc, 0);
    wb_buf_init(&dec, 0);
    CHECK_INT(wb_base64_encode(raw, sizeof raw, &enc), 0);
    CHECK_INT(wb_base64_decode(enc.data, enc.len, &dec), 0);
    CHECK_INT(dec.len, sizeof raw);
    CHECK(memcmp(dec.data, raw, sizeof raw) == 0);
    wb_buf_reset(&dec);
    CHECK_INT(wb_base64_decode("aGVsbG8=", 8, &dec), 0);
    CHECK_STR(dec.data, "hello");
    wb_buf_reset(&dec);
    CHECK(wb_base64_decode("a$b!", 4, &dec) != 0);
    wb_buf_reset(&dec);
    CHECK(wb_base64_decode("aGVs-bG8=", 9, &dec) != 0); /* URL-safe alphabet is not ours */
    wb_buf_release(&enc);
    wb_buf_release(&dec);
}

/* The streaming decoder gives what the whole decoder gives, whatever the
 * splits (a quantum, a padding, a line break across two pieces), and the
 * caller may empty out between pieces. */
static int b64_pieces(const char *in, size_t len, size_t step, struct wb_buf *all, int drain)
{
    struct core_b64 d;
    struct wb_buf piece;
    int rc = core_b64_init(&d);
    if (rc)
        return rc;
    wb_buf_init(&piece, 0);
    for (size_t off = 0; off < len && rc == 0; off += step) {
        size_t take = len - off < step ? len - off : step;
        rc = core_b64_feed(&d, in + off, take, &piece);
        if (rc == 0 && drain) { /* consume and reset: nothing whole is kept */
            rc = wb_buf_append(all, piece.data, piece.len);
            wb_buf_reset(&piece);
        }
    }
    if (rc == 0)
        rc = core_b64_finish(&d, &piece);
    if (rc == 0)
        rc = wb_buf_append(all, piece.data, piece.len);
    if (rc == 0 && d.decoded != all->len)
        rc = WB_EINTERNAL;
    core_b64_release(&d);
    wb_buf_release(&piece);
    return rc;
}

TEST(base64_streaming_any_split)
{
    struct wb_buf enc, dec;
    unsigned char raw[3001];
    static const size_t steps[] = { 1, 2, 3, 4, 5, 7, 63, 64, 65, 1000, 1 << 17 };
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (unsigned char)(i * 131 + (i >> 5));
    wb_buf_init(&enc, 0);
    wb_buf_init(&dec, 0);
    CHECK_INT(wb_base64_encode(raw, sizeof raw, &enc), 0);
    CHECK(enc.len > 4000); /* line breaks included */
    for (size_t k = 0; k < sizeof steps / sizeof *steps; k++) {
        for (int drain = 0; drain < 2; drain++) {
            wb_buf_reset(&dec);
            CHECK_INT(b64_pieces(enc.data, enc.len, steps[k], &dec, drain), 0);
            CHECK_MSG(dec.len == sizeof raw && memcmp(dec.data, raw, sizeof raw) == 0,
                      "split %zu drain %d: %zu bytes", steps[k], drain, dec.len);
        }
    }
    /* Padding split from its quantum. */
    wb_buf_reset(&dec);
    CHECK_INT(b64_pieces("aGVsbG8=", 8, 7, &dec, 1), 0);
    CHECK_INT(dec.len, 5);
    CHECK(memcmp(dec.data, "hello", 5) == 0);
    /* A bad character in a later piece fails the stream, and stays failed. */
    wb_buf_reset(&dec);
    CHECK_INT(b64_pieces("aGVsbG8gd29y-bGQ=", 17, 4, &dec, 1), WB_EPARSE);
    {
        struct core_b64 d;
        CHECK_INT(core_b64_init(&d), 0);
        wb_buf_reset(&dec);
        CHECK_INT(core_b64_feed(&d, "aGVs", 4, &dec), 0);
        CHECK_INT(core_b64_feed(&d, "b$8=", 4, &dec), WB_EPARSE);
        CHECK_INT(core_b64_feed(&d, "aGVs", 4, &dec), WB_EPARSE);
        CHECK_INT(core_b64_finish(&d, &dec), WB_EPARSE);
        core_b64_release(&d);
    }
    /* A truncated stream (a quantum cut short) fails at its end. */
    wb_buf_reset(&dec);
    CHECK_INT(b64_pieces("aGVsbG8gQ", 9, 2, &dec, 0), WB_EPARSE);
    wb_buf_reset(&dec);
    CHECK_INT(b64_pieces("aGVsbG8", 7, 3, &dec, 0), WB_EPARSE);
    wb_buf_release(&enc);
    wb_buf_release(&dec);
}

TEST(entry_copy_is_deep)
{
    struct wb_entry a, b;
    wb_entry_init(&a);
    wb_entry_init(&b);
    a.word = strdup("猫");
    a.translation = strdup("cat");
    CHECK_INT(wb_entry_add_example(&a, "猫がいる。", "There is a cat."), 0);
    CHECK_INT(wb_entry_add_example(&a, "猫", NULL), 0);
    a.stages[WB_STAGE_AUDIO].state = WB_STATE_DONE;
    a.stages[WB_STAGE_AUDIO].file = strdup("ab.mp3");
    CHECK_INT(wb_entry_copy(&b, &a), 0);
    wb_entry_release(&a);
    CHECK_STR(b.word, "猫");
    CHECK_INT(b.n_examples, 2);
    CHECK(b.examples[1].translation == NULL);
    CHECK_STR(b.stages[WB_STAGE_AUDIO].file, "ab.mp3");
    CHECK_INT(wb_stage_from_name("image"), WB_STAGE_IMAGE);
    CHECK_INT(wb_state_from_name("nope"), -1);
    wb_entry_release(&b);
}

TEST(config_file_sections_comments_and_precedence)
{
    struct wb_config *cfg;
    struct wb_error err = { 0 };
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/wb.conf", th_tmpdir());
    f = fopen(path, "w");
    fputs("# a comment\nlang = fr\njobs = 8   # inline\nvoice = \"Kore # not a comment\"\n"
          "[limit.gemini-3.8-flash-tts]\nrpm = 10 # quota\ngemini_api_key = nope-never-from-file\n",
          f);
    fclose(f);
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_OK(wb_config_set(cfg, "lang", "de", WB_SRC_FLAG), &err);
    CHECK_OK(wb_config_load_file(cfg, path, 1, &err), &err);
    CHECK_STR(wb_config_get(cfg, "lang"), "de"); /* the flag wins */
    CHECK_INT(wb_config_get_int(cfg, "jobs", 0), 8);
    CHECK_STR(wb_config_get(cfg, "voice"), "Kore # not a comment");
    CHECK_INT(wb_config_get_int(cfg, "limit.gemini-3.8-flash-tts.rpm", 0), 10);
    CHECK(wb_config_get(cfg, "gemini_api_key") == NULL); /* keys never come from the file */
    CHECK_STR(wb_config_origin(cfg, "jobs"), "config file");
    CHECK(wb_config_load_file(cfg, "/nonexistent/wb.conf", 1, &err) != 0);
    CHECK_INT(wb_config_load_file(cfg, "/nonexistent/wb.conf", 0, &err), 0);
    f = fopen(path, "w");
    fputs("lang = ja\nthis line is broken\n", f);
    fclose(f);
    CHECK_INT(wb_config_load_file(cfg, path, 1, &err), WB_ECONFIG);
    CHECK(strstr(err.msg, "wb.conf:2:") != NULL);
    wb_config_free(cfg);
}

TEST(entry_check_applies_the_word_list_rules)
{
    struct wb_error err = { 0 };
    CHECK_OK(wb_entry_check("猫", "cat", "the pet", "ja", &err), &err);
    CHECK_OK(wb_entry_check("猫", "cat", NULL, NULL, &err), &err);
    CHECK_INT(wb_entry_check("ne\nko", "cat", NULL, "ja", &err), WB_EINVAL);
    CHECK(strstr(err.msg, "word contains a control character (U+000A)") != NULL);
    CHECK_INT(wb_entry_check(" \xe3\x80\x80 ", "cat", NULL, "ja", &err), WB_EINVAL);
    CHECK(strstr(err.msg, "word is blank") != NULL);
    CHECK_INT(wb_entry_check("猫", "\xc3\x28", NULL, "ja", &err), WB_EINVAL);
    CHECK(strstr(err.msg, "translation is not valid UTF-8") != NULL);
    CHECK_INT(wb_entry_check("猫", "cat", "a\xc2\x85", "ja", &err), WB_EINVAL); /* C1 NEL */
    CHECK(strstr(err.msg, "context contains a control character (U+0085)") != NULL);
    CHECK_INT(wb_entry_check("猫", "cat", "  ", "ja", &err), 0); /* a blank context is no context */
    CHECK_INT(wb_entry_check("\xe0\x80\xaf", "cat", NULL, NULL, &err), WB_EINVAL); /* overlong */
    CHECK_INT(wb_entry_check("猫", "cat", NULL, "", &err), WB_EINVAL);
    CHECK_INT(wb_language_check("pt-BR", &err), 0);
    CHECK_INT(wb_language_check("ja jp", &err), WB_EINVAL);
    CHECK_INT(wb_language_check("-ja", &err), WB_EINVAL);
}

static char warned[4096];
static void keep_warning(void *ud, enum wb_log_level level, const char *msg)
{
    (void)ud;
    if (level == WB_LOG_WARN)
        snprintf(warned + strlen(warned), sizeof warned - strlen(warned), "%s\n", msg);
}

TEST(config_file_names_unknown_settings_keys_and_bad_values)
{
    struct wb_config *cfg;
    struct wb_error err = { 0 };
    char path[4096];
    FILE *f;
    snprintf(path, sizeof path, "%s/diag.conf", th_tmpdir());
    f = fopen(path, "w");
    fputs("text_modle = x\n[price.m]\nin = 0.3\nGEMINI_API_KEY = AIzaNOTAREALKEY\n", f);
    fclose(f);
    warned[0] = '\0';
    wb_log_set_handler(keep_warning, NULL, WB_LOG_WARN);
    CHECK_INT(wb_config_new(&cfg), 0);
    CHECK_OK(wb_config_load_file(cfg, path, 1, &err), &err);
    CHECK(strstr(warned, "diag.conf:1: unknown setting 'text_modle'") != NULL);
    CHECK(strstr(warned, "did you mean 'text_model'") != NULL);
    CHECK(strstr(warned, "diag.conf:3") == NULL); /* price.<model>.in is known */
    CHECK(strstr(warned, "diag.conf:4:") != NULL && strstr(warned, "environment") != NULL);
    CHECK(strstr(warned, "AIzaNOTAREALKEY") == NULL);
    CHECK(wb_config_get(cfg, "price.m.gemini_api_key") == NULL);
    f = fopen(path, "w");
    fputs("lang = ja\n[limit.m]\nrpm = abc\n", f);
    fclose(f);
    CHECK_INT(wb_config_load_file(cfg, path, 1, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "diag.conf:3: limit.m.rpm = 'abc'") != NULL);
    f = fopen(path, "w");
    fputs("retry.max_attempts = -3\n", f);
    fclose(f);
    CHECK_INT(wb_config_load_file(cfg, path, 1, &err), WB_EINVAL);
    CHECK(strstr(err.msg, "diag.conf:1:") != NULL);
    wb_log_set_handler(NULL, NULL, WB_LOG_WARN);
    wb_config_free(cfg);
}
