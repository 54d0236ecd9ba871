/* wordbank's public API, all of it: the CLI includes only this, and so may any
 * program built against libwordbank (pkg-config --cflags --libs wordbank).
 * Start with wordbank/bank.h, the embedding API. */
#ifndef WORDBANK_WORDBANK_H
#define WORDBANK_WORDBANK_H

#include "wordbank/api.h"
#include "wordbank/bank.h"
#include "wordbank/batch.h"
#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/content.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"
#include "wordbank/export.h"
#include "wordbank/file.h"
#include "wordbank/log.h"
#include "wordbank/media.h"
#include "wordbank/offline.h"
#include "wordbank/pipeline.h"
#include "wordbank/store.h"
#include "wordbank/text.h"
#include "wordbank/version.h"

#endif
