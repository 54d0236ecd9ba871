/* Core: error table, string builder, redaction, hashing, base64, entries. */
#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/http.h"
#include "core/util.h"
#include "test.h"
#include "wordbank/config.h"
#include "wordbank/entry.h"
#include "wordbank/file.h"
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
    char hex[65], md5[33];
    struct wb_error err = { 0, { 0 } };
    /* libcrypto is loaded by the first call (util.h), from any thread. */
    CHECK_INT(core_crypto_load(&err), 0);
    CHECK_INT(err.code, 0);
    CHECK_INT(core_sha256_hex("abc", 3, hex), 0);
    CHECK_STR(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    CHECK_INT(core_md5_hex("abc", 3, md5), 0);
    CHECK_STR(md5, "900150983cd24fb0d6963f7d28e17f72");
}

TEST(base64_round_trip)
{
    struct wb_buf enc, dec;
    unsigned char raw[1000];
    for (int i = 0; i < 1000; i++)
        raw[i] = (unsigned char)(i * 7);
    wb_buf_init(&enc, 0);
    wb_buf_init(&dec, 0);
    CHECK_INT(core_base64_encode(raw, sizeof raw, &enc), 0);
    CHECK_INT(core_base64_decode(enc.data, enc.len, &dec), 0);
    CHECK_INT(dec.len, sizeof raw);
    CHECK(memcmp(dec.data, raw, sizeof raw) == 0);
    wb_buf_reset(&dec);
    CHECK_INT(core_base64_decode("aGVsbG8=", 8, &dec), 0);
    CHECK_STR(dec.data, "hello");
    wb_buf_reset(&dec);
    CHECK(core_base64_decode("a$b!", 4, &dec) != 0);
    wb_buf_reset(&dec);
    CHECK(core_base64_decode("aGVs-bG8=", 9, &dec) != 0); /* URL-safe alphabet is not ours */
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
    CHECK_INT(core_base64_encode(raw, sizeof raw, &enc), 0);
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

/* A payload in two pieces split at off (with the caller taking the bytes
 * between them): its result, and the bytes in *all. */
static int b64_split(const char *in, size_t len, size_t off, struct wb_buf *all)
{
    struct core_b64 d;
    int rc;
    wb_buf_reset(all);
    core_b64_init(&d);
    rc = core_b64_feed(&d, in, off, all);
    if (rc == 0)
        rc = core_b64_feed(&d, in + off, len - off, all);
    if (rc == 0)
        rc = core_b64_finish(&d, all);
    if (rc == 0 && d.decoded != all->len)
        rc = WB_EINTERNAL;
    core_b64_release(&d);
    return rc;
}

/* Every split of a payload gives the one-shot result: 0, 1 and 2 padding
 * characters, the bare alphabet (decoded in runs) and the same text wrapped
 * with white space (a character at a time). */
TEST(base64_every_split_equals_one_shot)
{
    struct wb_buf enc, text, dec, one;
    unsigned char raw[3002];
    for (size_t i = 0; i < sizeof raw; i++)
        raw[i] = (unsigned char)(i * 131 + (i >> 5));
    wb_buf_init(&enc, 0);
    wb_buf_init(&text, 0);
    wb_buf_init(&dec, 0);
    wb_buf_init(&one, 0);
    for (size_t n = 3000; n <= 3002; n++) {
        wb_buf_reset(&enc);
        CHECK_INT(core_base64_encode(raw, n, &enc), 0);
        CHECK(enc.len == (n + 2) / 3 * 4 && (n == 3000) == (enc.data[enc.len - 1] != '='));
        for (int wrap = 0; wrap < 2; wrap++) {
            wb_buf_reset(&text);
            for (size_t i = 0; i < enc.len; i++) {
                if (wrap && i % 76 == 0)
                    CHECK_INT(wb_buf_appends(&text, i % 152 ? "\r\n" : " \t\n"), 0);
                CHECK_INT(wb_buf_appendc(&text, enc.data[i]), 0);
            }
            if (wrap)
                CHECK_INT(wb_buf_appends(&text, "\n"), 0);
            wb_buf_reset(&one);
            CHECK_INT(core_base64_decode(text.data, text.len, &one), 0);
            CHECK_MSG(one.len == n && memcmp(one.data, raw, n) == 0, "%zu bytes wrap %d: %zu", n,
                      wrap, one.len);
            for (size_t off = 0; off <= text.len; off++) {
                int rc = b64_split(text.data, text.len, off, &dec);
                CHECK_MSG(rc == 0 && dec.len == one.len && memcmp(dec.data, one.data, n) == 0,
                          "%zu bytes wrap %d split at %zu: rc %d, %zu bytes", n, wrap, off, rc,
                          dec.len);
            }
        }
    }
    wb_buf_release(&enc);
    wb_buf_release(&text);
    wb_buf_release(&dec);
    wb_buf_release(&one);
}

/* A bad character or a misplaced '=' is refused wherever it stands and
 * wherever the pieces split, in the bare text and in the wrapped one. */
TEST(base64_refuses_bad_characters_and_padding_anywhere)
{
    static const char good[] = "aGVsbG8sIHdvcmxkISBiYXNlNjQgaW4gb25lIHBhc3M="; /* 44 chars */
    static const char bad[] = { '-', '_', '$', '.', ':', '\0', '\v', (char)0x80, (char)0xFF, '=' };
    char t[sizeof good + 1];
    size_t n = sizeof good - 1;
    struct wb_buf dec;
    wb_buf_init(&dec, 0);
    CHECK_INT(core_base64_decode(good, n, &dec), 0);
    CHECK_STR(dec.data, "hello, world! base64 in one pass");
    for (size_t k = 0; k < sizeof bad; k++) {
        for (size_t pos = 0; pos < n; pos++) {
            /* '=' is at home in the last place, and in the one before it
             * when the last is '=' too. */
            if (bad[k] == '=' && pos >= n - 2)
                continue;
            memcpy(t, good, n);
            t[pos] = bad[k];
            for (size_t off = 0; off <= n; off++)
                CHECK_MSG(b64_split(t, n, off, &dec) == WB_EPARSE, "0x%02x at %zu, split at %zu",
                          (unsigned char)bad[k], pos, off);
            /* The same with a line break in front: the character-at-a-time path. */
            t[0] = '\n';
            memcpy(t + 1, good, n);
            t[pos + 1] = bad[k];
            for (size_t off = 0; off <= n + 1; off++)
                CHECK_MSG(b64_split(t, n + 1, off, &dec) == WB_EPARSE,
                          "0x%02x at %zu after a newline, split at %zu", (unsigned char)bad[k], pos,
                          off);
        }
    }
    /* Data after the padding, more than two '=', a lone '=', a cut quantum. */
    static const char *const refused[] = { "aGk=aGk=", "aGk=\naGVs", "aG==aGVs",  "aG===",
                                           "a===",     "aGVsb===",   "aGVsbA===", "=",
                                           "====",     "aGVsb",      "aGVsbG=",   "aGVs=bG8=" };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        size_t len = strlen(refused[i]);
        for (size_t off = 0; off <= len; off++)
            CHECK_MSG(b64_split(refused[i], len, off, &dec) == WB_EPARSE, "%s split at %zu",
                      refused[i], off);
    }
    /* Accepted as before: padding split by white space, trailing white space,
     * nothing at all, non-zero bits under the padding. */
    CHECK_INT(b64_split("aGVsbA= =\r\n", 11, 6, &dec), 0);
    CHECK_INT(dec.len, 4);
    CHECK(memcmp(dec.data, "hell", 4) == 0);
    CHECK_INT(b64_split(" \n", 2, 1, &dec), 0);
    CHECK_INT(dec.len, 0);
    CHECK_INT(b64_split("aGk=", 4, 0, &dec), 0);
    CHECK_STR(dec.data, "hi");
    CHECK_INT(b64_split("aGl=", 4, 2, &dec), 0);
    CHECK_STR(dec.data, "hi");
    wb_buf_release(&dec);
}

/* The limit is the decoded size: a payload that fits exactly decodes, one
 * byte less is too big (whatever the padding and the white space). */
TEST(base64_limit_is_the_decoded_size)
{
    static const char *const text[] = { "aGVsbG8sIHdvcmxk", "aGVsbG8sIHdvcmw=", "aGVsbG8sIHdvcg==",
                                        "aGVs bG8s\nIHdv cg==\n" };
    static const size_t size[] = { 12, 11, 10, 10 };
    for (size_t i = 0; i < sizeof text / sizeof *text; i++) {
        struct wb_buf dec;
        wb_buf_init(&dec, size[i]);
        CHECK_MSG(core_base64_decode(text[i], strlen(text[i]), &dec) == 0 && dec.len == size[i],
                  "%s: %zu bytes", text[i], dec.len);
        wb_buf_release(&dec);
        wb_buf_init(&dec, size[i] - 1);
        CHECK_INT(core_base64_decode(text[i], strlen(text[i]), &dec), WB_ETOOBIG);
        CHECK_INT(dec.len, 0);
        wb_buf_release(&dec);
    }
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

/* The names in dir, sorted-insensitive, joined with ' ' (for "nothing left behind"). */
static void dir_names(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    out[0] = '\0';
    while (d && (de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
            snprintf(out + strlen(out), cap - strlen(out), "%s ", de->d_name);
    }
    if (d)
        closedir(d);
}

TEST(atomic_write_replaces_whole_file_and_leaves_no_temp)
{
    struct wb_error err = { 0 };
    struct wb_buf b;
    struct core_atomic a;
    struct stat st;
    char path[4096], names[1024];

    snprintf(path, sizeof path, "%s/out.txt", th_tmpdir());
    CHECK_OK(core_write_atomic(path, "first version", 13, &err), &err);
    wb_buf_init(&b, 0);
    CHECK_OK(core_file_read(path, &b, &err), &err);
    CHECK_STR(b.data, "first version");
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    /* Written in pieces; until commit the old file stays whole. */
    CHECK_OK(core_atomic_open(&a, path, &err), &err);
    CHECK_OK(core_atomic_write(&a, "sec", 3, &err), &err);
    CHECK_OK(core_atomic_write(&a, "ond", 3, &err), &err);
    wb_buf_reset(&b);
    CHECK_OK(core_file_read(path, &b, &err), &err);
    CHECK_STR(b.data, "first version");
    CHECK_OK(core_atomic_commit(&a, &err), &err);
    wb_buf_reset(&b);
    CHECK_OK(core_file_read(path, &b, &err), &err);
    CHECK_STR(b.data, "second");
    /* Abandoned: the old file stays, the temp file goes. */
    CHECK_OK(core_atomic_open(&a, path, &err), &err);
    CHECK_OK(core_atomic_write(&a, "third", 5, &err), &err);
    core_atomic_abort(&a);
    core_atomic_abort(&a); /* twice is harmless */
    wb_buf_reset(&b);
    CHECK_OK(core_file_read(path, &b, &err), &err);
    CHECK_STR(b.data, "second");
    dir_names(th_tmpdir(), names, sizeof names);
    CHECK_STR(names, "out.txt ");
    /* The public wrapper is the same write (a bare name: the folder is "."). */
    CHECK(chdir(th_tmpdir()) == 0);
    CHECK_OK(wb_file_write("bare.txt", "x", 1, &err), &err);
    wb_buf_reset(&b);
    CHECK_OK(core_file_read("bare.txt", &b, &err), &err);
    CHECK_STR(b.data, "x");
    wb_buf_release(&b);
}

TEST(atomic_write_failures_leave_nothing_behind)
{
    struct wb_error err = { 0 };
    char dir[4096], path[8192], names[1024];
    pid_t pid;
    int status;

    /* The target is a folder: the rename fails, the temp file is removed. */
    snprintf(path, sizeof path, "%s/taken", th_tmpdir());
    CHECK(mkdir(path, 0755) == 0);
    CHECK(core_write_atomic(path, "data", 4, &err) < 0);
    CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "renaming") != NULL);
    dir_names(th_tmpdir(), names, sizeof names);
    CHECK_STR(names, "taken ");
    /* A read-only folder (root ignores modes: the write runs as nobody). */
    CHECK(chmod(th_tmpdir(), 0755) == 0);
    snprintf(dir, sizeof dir, "%s/ro", th_tmpdir());
    snprintf(path, sizeof path, "%s/file.txt", dir);
    CHECK(mkdir(dir, 0555) == 0);
    pid = fork();
    if (pid == 0) {
        struct wb_error e = { 0 };
        if (geteuid() == 0 && setuid(65534) != 0)
            _exit(3);
        int rc = core_write_atomic(path, "data", 4, &e);
        _exit(rc == WB_EIO && strstr(e.msg, path) && strstr(e.msg, "temp file") ? 0 : 1);
    }
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK_INT(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0);
    dir_names(dir, names, sizeof names);
    CHECK_STR(names, "");
    chmod(dir, 0755);
}

TEST(read_input_reads_a_file_or_stdin_within_the_limit)
{
    struct wb_error err = { 0 };
    struct wb_buf b;
    char path[4096];
    int fd;

    snprintf(path, sizeof path, "%s/in.txt", th_tmpdir());
    CHECK_OK(core_write_atomic(path, "0123456789abcdef", 16, &err), &err);
    wb_buf_init(&b, 0);
    CHECK_OK(wb_buf_read_input(&b, path, &err), &err);
    CHECK_STR(b.data, "0123456789abcdef");
    /* "-" is standard input, to its end. */
    CHECK((fd = open(path, O_RDONLY)) >= 0 && dup2(fd, STDIN_FILENO) == STDIN_FILENO);
    wb_buf_reset(&b);
    CHECK_OK(wb_buf_read_input(&b, "-", &err), &err);
    CHECK_STR(b.data, "0123456789abcdef");
    wb_buf_release(&b);
    /* Past the buffer's limit: an error naming the input, never a cut text. */
    CHECK(lseek(STDIN_FILENO, 0, SEEK_SET) == 0);
    wb_buf_init(&b, 10);
    CHECK_INT(wb_buf_read_input(&b, "-", &err), WB_ETOOBIG);
    CHECK(strncmp(err.msg, "<stdin>: ", 9) == 0);
    wb_buf_reset(&b);
    CHECK_INT(wb_buf_read_input(&b, path, &err), WB_ETOOBIG);
    CHECK(strncmp(err.msg, path, strlen(path)) == 0);
    CHECK_INT(wb_buf_read_input(&b, "/nonexistent/x", &err), WB_ENOTFOUND);
    wb_buf_release(&b);
    close(fd);
}

/* core_utf8_decode on one byte string: its length and code point. */
static int dec(const char *s, size_t len, uint32_t *cp)
{
    return core_utf8_decode(s, len, cp);
}

TEST(utf8_decode_is_strict)
{
    uint32_t cp;
    struct wb_buf b;
    CHECK_INT(dec("A", 1, &cp), 1);
    CHECK_INT(cp, 'A');
    CHECK_INT(dec("\xC3\xA9", 2, &cp), 2); /* é */
    CHECK_INT(cp, 0xE9);
    CHECK_INT(dec("\xE7\x8C\xAB", 3, &cp), 3); /* 猫 */
    CHECK_INT(cp, 0x732B);
    CHECK_INT(dec("\xF0\x9F\x90\x88", 4, &cp), 4); /* U+1F408 */
    CHECK_INT(cp, 0x1F408);
    CHECK_INT(dec("\xF4\x8F\xBF\xBF", 4, &cp), 4); /* U+10FFFF, the last */
    CHECK_INT(cp, 0x10FFFF);
    CHECK_INT(dec("\xEF\xBF\xBD", 3, &cp), 3); /* a literal U+FFFD is valid */
    /* Invalid: 0 and U+FFFD. */
    CHECK_INT(dec("", 0, &cp), 0);
    CHECK_INT(cp, 0xFFFD);
    CHECK_INT(dec("\x80", 1, &cp), 0);             /* stray continuation */
    CHECK_INT(dec("\xC3", 1, &cp), 0);             /* truncated */
    CHECK_INT(dec("\xE7\x8C\xAB", 2, &cp), 0);     /* truncated by len */
    CHECK_INT(dec("\xC3\x28", 2, &cp), 0);         /* bad continuation */
    CHECK_INT(dec("\xC0\xAF", 2, &cp), 0);         /* overlong '/' */
    CHECK_INT(dec("\xC1\xBF", 2, &cp), 0);         /* overlong */
    CHECK_INT(dec("\xE0\x80\xAF", 3, &cp), 0);     /* overlong, 3 bytes */
    CHECK_INT(dec("\xE0\x9F\xBF", 3, &cp), 0);     /* overlong U+07FF */
    CHECK_INT(dec("\xF0\x80\x80\xAF", 4, &cp), 0); /* overlong, 4 bytes */
    CHECK_INT(dec("\xF0\x8F\xBF\xBF", 4, &cp), 0); /* overlong U+FFFF */
    CHECK_INT(dec("\xED\xA0\x80", 3, &cp), 0);     /* surrogate half U+D800 */
    CHECK_INT(dec("\xED\xBF\xBF", 3, &cp), 0);     /* surrogate half U+DFFF */
    CHECK_INT(cp, 0xFFFD);
    CHECK_INT(dec("\xF4\x90\x80\x80", 4, &cp), 0); /* U+110000 */
    CHECK_INT(dec("\xF5\x80\x80\x80", 4, &cp), 0);
    CHECK_INT(dec("\xFF", 1, &cp), 0);
    CHECK_INT(dec("\xED\x9F\xBF", 3, &cp), 3); /* U+D7FF, just below */
    CHECK_INT(dec("\xEE\x80\x80", 3, &cp), 3); /* U+E000, just above */
    CHECK(core_utf8_valid("ねこ cat", strlen("ねこ cat")));
    CHECK(!core_utf8_valid("ok\xED\xA0\x80", 5));
    CHECK(core_utf8_valid("", 0));
    /* Cleaning keeps what is valid and marks each bad byte. */
    wb_buf_init(&b, 0);
    CHECK_INT(core_utf8_clean(&b,
                              "a\xC0\xAF"
                              "b\xE7\x8C\xAB",
                              7),
              0);
    CHECK_STR(b.data, "a\xEF\xBF\xBD\xEF\xBF\xBD"
                      "b\xE7\x8C\xAB");
    wb_buf_release(&b);
}

TEST(kana_folding_both_ways)
{
    CHECK_INT(core_kana_to_hiragana(0x30A2), 0x3042); /* ア -> あ */
    CHECK_INT(core_kana_to_hiragana(0x30F3), 0x3093); /* ン -> ん */
    CHECK_INT(core_kana_to_hiragana(0x30F6), 0x3096); /* ヶ -> ゖ */
    CHECK_INT(core_kana_to_hiragana(0x30FD), 0x309D); /* ヽ -> ゝ */
    CHECK_INT(core_kana_to_hiragana(0x30FC), 0x30FC); /* ー stays */
    CHECK_INT(core_kana_to_hiragana(0x30A0), 0x30A0); /* ゠ stays */
    CHECK_INT(core_kana_to_hiragana(0x3042), 0x3042);
    CHECK_INT(core_kana_to_hiragana('A'), 'A');
    CHECK_INT(core_kana_to_katakana(0x3041), 0x30A1); /* ぁ -> ァ */
    CHECK_INT(core_kana_to_katakana(0x3096), 0x30F6);
    CHECK_INT(core_kana_to_katakana(0x309E), 0x30FE); /* ゞ -> ヾ */
    CHECK_INT(core_kana_to_katakana(0x3097), 0x3097); /* unassigned stays */
    CHECK_INT(core_kana_to_katakana(0x732B), 0x732B); /* 猫 stays */
}

static int split(const char *line, struct core_dialogue_line *dl)
{
    return core_dialogue_split(line, strlen(line), dl);
}

TEST(dialogue_split_names_text_and_limits)
{
    struct core_dialogue_line dl;
    char name[CORE_DIALOGUE_MAX_NAME + 2], line[256];

    CHECK_INT(split("  Anna: Hallo, Ben!  ", &dl), CORE_DIALOGUE_OK);
    CHECK(dl.name_len == 4 && !memcmp(dl.name, "Anna", 4));
    CHECK(dl.text_len == 11 && !memcmp(dl.text, "Hallo, Ben!", 11));
    /* Full-width colon and ideographic spaces. */
    CHECK_INT(split("\xE3\x80\x80"
                    "ケン\xEF\xBC\x9A"
                    "こんにちは\xE3\x80\x80",
                    &dl),
              CORE_DIALOGUE_OK);
    CHECK(dl.name_len == 6 && !memcmp(dl.name, "ケン", 6));
    CHECK(dl.text_len == 15 && !memcmp(dl.text, "こんにちは", 15));
    /* The first colon splits: the text may hold more. */
    CHECK_INT(split("Ben: at 10:30", &dl), CORE_DIALOGUE_OK);
    CHECK(dl.text_len == 8 && !memcmp(dl.text, "at 10:30", 8));
    CHECK_INT(split("no speaker here", &dl), CORE_DIALOGUE_NO_NAME);
    CHECK_INT(split("", &dl), CORE_DIALOGUE_NO_NAME);
    CHECK_INT(split(" : text", &dl), CORE_DIALOGUE_EMPTY_NAME);
    CHECK_INT(split("Anna:  ", &dl), CORE_DIALOGUE_EMPTY_TEXT);
    /* The name limit: 64 bytes pass, 65 do not. */
    memset(name, 'n', sizeof name);
    name[CORE_DIALOGUE_MAX_NAME] = '\0';
    snprintf(line, sizeof line, "%s: hi", name);
    CHECK_INT(split(line, &dl), CORE_DIALOGUE_OK);
    CHECK_INT(dl.name_len, CORE_DIALOGUE_MAX_NAME);
    name[CORE_DIALOGUE_MAX_NAME] = 'n';
    name[CORE_DIALOGUE_MAX_NAME + 1] = '\0';
    snprintf(line, sizeof line, "%s: hi", name);
    CHECK_INT(split(line, &dl), CORE_DIALOGUE_LONG_NAME);
}

struct pt {
    int x, y;
};

TEST(array_grows_checks_overflow_and_caps)
{
    struct pt *v = NULL;
    size_t n = 0, cap = 0;
    char *big = NULL;
    size_t bcap = 0;

    for (int i = 0; i < 1000; i++) {
        CHECK_INT(CORE_ARRAY_RESERVE(v, n, cap, 1, 0), 0);
        CHECK(cap > n && cap >= 8);
        v[n].x = i;
        v[n++].y = -i;
    }
    CHECK(cap < 2048); /* doubling, not one element at a time or wild */
    for (int i = 0; i < 1000; i++)
        CHECK(v[i].x == i && v[i].y == -i);
    /* Room already there: nothing changes. */
    {
        struct pt *same = v;
        size_t c = cap;
        CHECK_INT(CORE_ARRAY_RESERVE(v, n, cap, cap - n, 0), 0);
        CHECK(v == same && cap == c);
    }
    /* The cap: 1000 allowed, 1001 refused, the array untouched. */
    CHECK_INT(CORE_ARRAY_RESERVE(v, n, cap, 1, 1000), WB_ETOOBIG);
    CHECK_INT(CORE_ARRAY_RESERVE(v, 999, cap, 1, 1000), 0);
    CHECK(v[999].x == 999);
    /* Growth stops at the cap, not at the next power of two. */
    {
        struct pt *w = NULL;
        size_t wn = 0, wc = 0;
        while (CORE_ARRAY_RESERVE(w, wn, wc, 1, 20) == 0)
            w[wn++].x = 1;
        CHECK_INT(wn, 20);
        CHECK_INT(wc, 20);
        free(w);
    }
    /* Byte sizes that would overflow size_t are refused, not wrapped. */
    CHECK_INT(core_array_reserve(&big, &bcap, 0, SIZE_MAX / 2 + 1, 2, 0), WB_ETOOBIG);
    CHECK_INT(core_array_reserve(&big, &bcap, SIZE_MAX / 4, SIZE_MAX / 4 + 2, 2, 0), WB_ETOOBIG);
    CHECK_INT(core_array_reserve(&big, &bcap, SIZE_MAX, 1, 1, 0), WB_ETOOBIG);
    CHECK(big == NULL && bcap == 0);
    CHECK_INT(CORE_ARRAY_RESIZE(v, SIZE_MAX / sizeof *v + 1, 0), WB_ETOOBIG);
    CHECK(v[0].x == 0 && v[999].x == 999);
    /* Exact sizing for arrays without a capacity. */
    CHECK_INT(CORE_ARRAY_RESIZE(v, 3, 10), 0);
    CHECK(v[2].x == 2);
    CHECK_INT(CORE_ARRAY_RESIZE(v, 11, 10), WB_ETOOBIG);
    CHECK_INT(core_array_reserve(&big, &bcap, 0, 1, 0, 0), WB_EINVAL);
    free(v);
}

/* The one reader of Retry-After hints (both providers and the engine). */
TEST(retry_after_seconds_fractions_dates_and_garbage)
{
    const int64_t max = 86400 * 1000;
    CHECK_INT(core_retry_after_ms("7", 0, max), 7000);
    CHECK_INT(core_retry_after_ms(" 0.25 ", 0, max), 250);
    CHECK_INT(core_retry_after_ms("999999999", 0, max), max);
    /* 100 s after the epoch, seen at 90 s; a past date is 0. */
    CHECK_INT(core_retry_after_ms("Thu, 01 Jan 1970 00:01:40 GMT", 90, max), 10000);
    CHECK_INT(core_retry_after_ms("Thu, 01 Jan 1970 00:01:40", 90, max), 10000);
    CHECK_INT(core_retry_after_ms("Thu, 01 Jan 1970 00:01:40 GMT", 500, max), 0);
    CHECK_INT(core_retry_after_ms("soon", 0, max), -1);
    CHECK_INT(core_retry_after_ms("7 seconds", 0, max), -1);
    CHECK_INT(core_retry_after_ms(NULL, 0, max), -1);
    /* retry-after-ms: fractions round up. */
    CHECK_INT(core_delay_ms("1534.2", 1, max), 1535);
    CHECK_INT(core_delay_ms("x", 1, max), -1);
}

/* The parts a provider's own duration syntax is read with (OpenAI's "6m0s"). */
TEST(decimal_at_and_clamp_ms)
{
    const char *p = "38.512s", *q = "s1";
    CHECK(core_decimal_at(&p) == 38.512);
    CHECK_STR(p, "s");
    CHECK(core_decimal_at(&q) < 0);
    CHECK_STR(q, "s1"); /* not moved */
    p = ".25m";
    CHECK(core_decimal_at(&p) == 0.25 && *p == 'm');
    CHECK_INT(core_clamp_ms(0.2, 1000), 1);
    CHECK_INT(core_clamp_ms(7, 1000), 7);
    CHECK_INT(core_clamp_ms(-3, 1000), 0);
    CHECK_INT(core_clamp_ms(1e12, 1000), 1000);
}
