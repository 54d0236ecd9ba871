/* Loading media's libav libraries on first use (avload.h has the table and
 * the libav headers; this header has neither, for modules that only start a
 * load ahead: wb_preload in src/lib). Each is thread-safe and loads once per
 * process; a caller that arrives during a load waits for it; a failure stays
 * and is reported to every caller (err may be NULL).
 */
#ifndef WB_MEDIA_LOAD_H
#define WB_MEDIA_LOAD_H

#include "wordbank/error.h"

/* libavutil (and libav's log lines sent to wb_log, never to stderr): 0 or
 * -WB_EUNSUPPORTED with err set. */
int media_av_load_util(struct wb_error *err);
/* libavutil, libswscale and libyuv (the scaler): the same. */
int media_av_load_scaler(struct wb_error *err);
/* The scaler for a picture that needs it: 0, or WB_ECONFIG (the
 * installation's fault, the same for every picture) with the loader's
 * reason. */
int media_av_need_scaler(struct wb_error *err);
/* libavutil, libavcodec and libavformat (the M4A encoder): 0, or WB_ECONFIG
 * with the loader's reason. */
int media_av_load(struct wb_error *err);

#endif
