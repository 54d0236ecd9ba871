/* wordbank's public API, all of it: the CLI includes only this. */
#ifndef WORDBANK_WORDBANK_H
#define WORDBANK_WORDBANK_H

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

#endif
