/* Small file helpers the library also offers its users (the CLI). */
#ifndef WORDBANK_FILE_H
#define WORDBANK_FILE_H

#include "wordbank/api.h"
#include "wordbank/buf.h"
#include "wordbank/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Append a whole file (within the buffer's limit); the path is in the message. */
WB_API int wb_buf_read_file(struct wb_buf *b, const char *path, struct wb_error *err);
/* Like wb_buf_read_file, but the path "-" reads standard input to its end
 * ("<stdin>" in the message). */
WB_API int wb_buf_read_input(struct wb_buf *b, const char *path, struct wb_error *err);
/* Write len bytes to path crash-safely: a temp file beside it, fsynced and
 * renamed over it, then the folder fsynced. On error the old file (or none) is
 * left and no temp file; the path is in the message. */
WB_API int wb_file_write(const char *path, const void *data, size_t len, struct wb_error *err);
/* mkdir -p. */
WB_API int wb_mkdirs(const char *path, struct wb_error *err);

#ifdef __cplusplus
}
#endif

#endif
