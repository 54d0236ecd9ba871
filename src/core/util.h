/* Internal core helpers shared by every module: clocks, hashing, base64,
 * small string and file utilities. Not part of the public API.
 */
#ifndef WB_CORE_UTIL_H
#define WB_CORE_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/buf.h"
#include "wordbank/error.h"
#include "wordbank/file.h"

/* Monotonic milliseconds: every timeout and rate decision. */
int64_t core_clock_mono_ms(void);
/* Wall clock, seconds since the epoch: only for timestamps stored in the database. */
int64_t core_clock_wall_s(void);

/* libcrypto (hashing and base64 below) is loaded by the first call that needs
 * it, once, on any thread (core/dl.h). core_crypto_load does it ahead and
 * says why it failed: 0, or WB_ECONFIG (the installation's fault: a run
 * stops at once, as for a missing libcurl) with err (may be NULL) saying
 * "cannot load libcrypto.so.3: <the loader's reason>". Every function below
 * that needs libcrypto returns that code when it cannot be loaded (the
 * digests are then all zero bits): a caller that can report the reason
 * calls core_crypto_load first. */
int core_crypto_load(struct wb_error *err);

/* SHA-256 of a byte string; hex is 65 bytes (64 digits and a NUL). 0, or
 * core_crypto_load's error. */
int core_sha256(const void *data, size_t len, uint8_t out[32]);
int core_sha256_hex(const void *data, size_t len, char hex[65]);
void core_hex_encode(const uint8_t *in, size_t len, char *out);
/* MD5 in hex (33 bytes): only to find files by the original system's names
 * (md5(word + ":" + translation)), never as a content hash. 0, or
 * core_crypto_load's error. */
int core_md5_hex(const void *data, size_t len, char hex[33]);

/* Standard base64 (padded; whitespace ignored) appended to out.
 * -WB_EPARSE on a bad character, -WB_ETOOBIG past out's limit, or
 * core_crypto_load's error. */
int core_base64_decode(const char *in, size_t len, struct wb_buf *out);
int core_base64_encode(const void *in, size_t len, struct wb_buf *out);

/* Base64 decoded as it arrives: the pieces may split the text anywhere (a
 * quantum across two pieces is kept until it completes), so a payload is
 * decoded while its response streams in, with no whole copy of the text. Each
 * core_b64_feed appends what its piece completes to out; the caller may take
 * it and reset out between pieces (memory stays one piece's worth). The
 * result and the errors do not depend on where the pieces split: padding
 * only at the end of the payload ("xy==" or "xyz="), white space (space, tab,
 * CR, LF) anywhere. Errors as core_base64_decode's; after one, every call
 * returns it. core_b64_finish after the last piece; core_b64_release always.
 * Runs of the bare alphabet (an API's JSON string) are checked and decoded in
 * one pass by OpenSSL's block decoder. */
struct core_b64 {
    char carry[4];   /* an incomplete quantum from earlier pieces */
    unsigned ncarry; /* its length, 0..3 */
    unsigned pad;    /* '=' seen: the payload ends with this quantum */
    int slow;        /* white space seen: a character at a time from then on */
    size_t decoded;  /* bytes produced so far */
    int failed;      /* the first error, sticky */
};
int core_b64_init(struct core_b64 *d);
int core_b64_feed(struct core_b64 *d, const char *in, size_t len, struct wb_buf *out);
int core_b64_finish(struct core_b64 *d, struct wb_buf *out);
void core_b64_release(struct core_b64 *d);

/* Append code point cp (<= U+10FFFF) as UTF-8. */
int core_utf8_put(struct wb_buf *out, uint32_t cp);

/* The one UTF-8 decoder (utf8.c), strict as RFC 3629: the length (1..4) of
 * the valid sequence at s[0..len) with its code point in *cp; 0 with *cp =
 * U+FFFD for anything else (len 0, a stray continuation byte, a truncated
 * sequence, an overlong form, a surrogate half, past U+10FFFF). Callers that
 * go on after a 0 skip one byte. */
int core_utf8_decode(const void *s, size_t len, uint32_t *cp);
/* 1 when all of s[0..len) is valid UTF-8 (a literal U+FFFD is valid). */
int core_utf8_valid(const void *s, size_t len);
/* Append s[0..len) with each invalid byte replaced by U+FFFD. */
int core_utf8_clean(struct wb_buf *out, const void *s, size_t len);
/* One line of a two-voice dialogue, "Name: text" (dialogue.c): the name is
 * what stands before the first ':' or full-width '：', the text what follows,
 * both trimmed of ASCII white space and U+3000. The name is at most
 * CORE_DIALOGUE_MAX_NAME bytes: the Markdown parser (content) and the speech
 * script parser (providers) apply the same limit, so a lesson whose dialogue
 * parses is one the speech request takes. Returns CORE_DIALOGUE_OK or the
 * first problem; out's spans point into line and are set whenever a colon was
 * found. A caller that allows continuation lines treats NO_NAME (and, for
 * prose with a late colon, LONG_NAME) as one. */
#define CORE_DIALOGUE_MAX_NAME 64
enum core_dialogue_rc {
    CORE_DIALOGUE_OK = 0,
    CORE_DIALOGUE_NO_NAME,    /* no ':' or '：' in the line */
    CORE_DIALOGUE_EMPTY_NAME, /* nothing before the colon */
    CORE_DIALOGUE_LONG_NAME,  /* a name over CORE_DIALOGUE_MAX_NAME bytes */
    CORE_DIALOGUE_EMPTY_TEXT, /* nothing after it */
};
struct core_dialogue_line {
    const char *name, *text;
    size_t name_len, text_len;
};
int core_dialogue_split(const char *line, size_t len, struct core_dialogue_line *out);

/* Growable arrays (array.c). arrp is the address of a T * array (NULL at
 * first); elem is sizeof(T); max caps the element count (0: only what size_t
 * can hold). Both return 0, -WB_ETOOBIG past max or when the byte size would
 * overflow, -WB_ENOMEM; on error the array and *cap are left as they were.
 *
 * core_array_reserve: room for add more after the n in use, capacity in
 * *cap; grows by doubling (from 8), so pushes cost amortised O(1).
 *   if ((rc = CORE_ARRAY_RESERVE(v, n, cap, 1, MAX_V)) != 0) return rc;
 *   v[n++] = x;
 * core_array_resize: exactly count elements, for arrays that carry no
 * capacity (count 0 keeps a 1-element block, never a NULL array). */
int core_array_reserve(void *arrp, size_t *cap, size_t n, size_t add, size_t elem, size_t max);
int core_array_resize(void *arrp, size_t count, size_t elem, size_t max);
#define CORE_ARRAY_RESERVE(arr, n, cap, add, max) \
    core_array_reserve(&(arr), &(cap), (n), (add), sizeof *(arr), (max))
#define CORE_ARRAY_RESIZE(arr, count, max) core_array_resize(&(arr), (count), sizeof *(arr), (max))

/* Kana folding, one code point: katakana ァ..ヶ ヽ ヾ to hiragana ぁ..ゖ ゝ ゞ
 * and back; every other code point unchanged. */
uint32_t core_kana_to_hiragana(uint32_t cp);
uint32_t core_kana_to_katakana(uint32_t cp);

/* strdup that accepts NULL (returns NULL). */
char *core_strdup0(const char *s);
/* Replace *dst with a copy of src (or NULL); returns -WB_ENOMEM on failure. */
int core_str_set(char **dst, const char *src);
/* Read a whole file into out (respecting its limit). */
int core_file_read(const char *path, struct wb_buf *out, struct wb_error *err);

/* The one crash-safe file write (file.c). The bytes go to a temp file beside
 * path ("<path>.tmp-XXXXXX", mode 0644); commit fsyncs it, renames it over
 * path and fsyncs the folder, so a crash or an error leaves the old file (or
 * none), never part of the new one, and no temp file. Errors name path.
 * Threads renaming into one folder together share its fsync: a commit
 * returns once a folder sync begun after its own rename has finished.
 *
 *   struct core_atomic a;
 *   if (!(rc = core_atomic_open(&a, path, err))) {
 *       rc = core_atomic_write(&a, p, n, err);   // as often as needed
 *       rc = rc ? (core_atomic_abort(&a), rc) : core_atomic_commit(&a, err);
 *   }
 */
struct core_atomic {
    int fd;            /* the temp file, open for writing */
    unsigned flags;    /* CORE_ATOMIC_* */
    char *path;        /* the target */
    struct wb_buf tmp; /* the temp file's name; empty once there is none */
    struct wb_buf dir; /* the target's folder */
};
int core_atomic_open(struct core_atomic *a, const char *path, struct wb_error *err);
int core_atomic_write(struct core_atomic *a, const void *data, size_t len, struct wb_error *err);
/* fsync, close, rename into place, fsync the folder; releases a either way. */
int core_atomic_commit(struct core_atomic *a, struct wb_error *err);
/* Close and delete the temp file; the target is untouched. Safe to repeat. */
void core_atomic_abort(struct core_atomic *a);
/* All of the above for bytes in memory. */
int core_write_atomic(const char *path, const void *data, size_t len, struct wb_error *err);
/* The same with flags (core_atomic_open is core_atomic_open_opt with 0):
 * CORE_ATOMIC_MKDIR    the folder and its parents are made when the temp file
 *                      cannot be created for want of them (no mkdir per file
 *                      when they exist);
 * CORE_ATOMIC_NOSYNC   no fsync of the file or its folder: still whole or
 *                      absent after the process is killed (the page cache
 *                      outlives it), but a power cut may leave the file
 *                      empty, partly written or gone. For bookkeeping files
 *                      whose reader tolerates that (the pending markers);
 * CORE_ATOMIC_PRIVATE  keep mkstemp's mode 0600 (no fchmod): files nobody
 *                      else reads. */
#define CORE_ATOMIC_MKDIR   1u
#define CORE_ATOMIC_NOSYNC  2u
#define CORE_ATOMIC_PRIVATE 4u
int core_atomic_open_opt(struct core_atomic *a, const char *path, unsigned flags,
                         struct wb_error *err);
int core_write_atomic_opt(const char *path, const void *data, size_t len, unsigned flags,
                          struct wb_error *err);
/* A file written whole under the name tmp (beside path) appears as path,
 * never replacing one: fsync tmp, rename it without replacing (a hard link
 * where the file system cannot), fsync the folder. WB_EEXIST when path
 * exists already; tmp is gone either way. */
int core_file_publish(const char *tmp, const char *path, struct wb_error *err);
/* getpid(), asked once per process (again in a child after fork). */
long core_getpid(void);
/* Join a directory and a name into out ("dir/name"; name alone if absolute). */
int core_path_join(struct wb_buf *out, const char *dir, const char *name);

#endif
