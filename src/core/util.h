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
int64_t wb_clock_mono_ms(void);
/* Wall clock, seconds since the epoch: only for timestamps stored in the database. */
int64_t wb_clock_wall_s(void);

/* SHA-256 of a byte string; hex is 65 bytes (64 digits and a NUL). */
void wb_sha256(const void *data, size_t len, uint8_t out[32]);
void wb_sha256_hex(const void *data, size_t len, char hex[65]);
void wb_hex_encode(const uint8_t *in, size_t len, char *out);
/* MD5 in hex (33 bytes): only to find files by the original system's names
 * (md5(word + ":" + translation)), never as a content hash. */
void wb_md5_hex(const void *data, size_t len, char hex[33]);

/* Standard base64 (padded; whitespace ignored) appended to out.
 * -WB_EPARSE on a bad character, -WB_ETOOBIG past out's limit. */
int wb_base64_decode(const char *in, size_t len, struct wb_buf *out);
int wb_base64_encode(const void *in, size_t len, struct wb_buf *out);

/* Base64 decoded as it arrives: the pieces may split the text anywhere (a
 * quantum across two pieces is kept until it completes), so a payload is
 * decoded while its response streams in, with no whole copy of the text. Each
 * core_b64_feed appends what its piece completes to out; the caller may take
 * it and reset out between pieces (memory stays one piece's worth). Errors
 * as wb_base64_decode's; after one, every call returns it. core_b64_finish
 * after the last piece; core_b64_release always. */
struct core_b64 {
    void *ctx;      /* OpenSSL's EVP_ENCODE_CTX */
    size_t decoded; /* bytes produced so far */
    int failed;     /* the first error, sticky */
};
int core_b64_init(struct core_b64 *d);
int core_b64_feed(struct core_b64 *d, const char *in, size_t len, struct wb_buf *out);
int core_b64_finish(struct core_b64 *d, struct wb_buf *out);
void core_b64_release(struct core_b64 *d);

/* Append code point cp (<= U+10FFFF) as UTF-8. */
int wb_utf8_put(struct wb_buf *out, uint32_t cp);

/* strdup that accepts NULL (returns NULL). */
char *wb_strdup0(const char *s);
/* Replace *dst with a copy of src (or NULL); returns -WB_ENOMEM on failure. */
int wb_str_set(char **dst, const char *src);
/* Read a whole file into out (respecting its limit). */
int wb_file_read(const char *path, struct wb_buf *out, struct wb_error *err);
/* Join a directory and a name into out ("dir/name"; name alone if absolute). */
int wb_path_join(struct wb_buf *out, const char *dir, const char *name);


#endif
