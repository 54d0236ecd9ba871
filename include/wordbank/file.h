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
/* mkdir -p. */
WB_API int wb_mkdirs(const char *path, struct wb_error *err);

#ifdef __cplusplus
}
#endif

#endif
