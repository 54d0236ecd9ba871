/* Small file helpers the library also offers its users (the CLI). */
#ifndef WORDBANK_FILE_H
#define WORDBANK_FILE_H

#include "wordbank/buf.h"
#include "wordbank/error.h"

/* Append a whole file (within the buffer's limit); the path is in the message. */
int wb_buf_read_file(struct wb_buf *b, const char *path, struct wb_error *err);
/* mkdir -p. */
int wb_mkdirs(const char *path, struct wb_error *err);

#endif
