/* Loading libavutil, libswscale, libyuv, libavcodec and libavformat on first use (see
 * avload.h), through core/dl.h. The sonames come from the headers we
 * compiled against, so the loaded libraries are the versions whose types and
 * structs this code was built for. */
#include <stdio.h>
#include <string.h>

#include <libavutil/macros.h>

#include "core/dl.h"
#include "media/avload.h"
#include "wordbank/log.h"

struct media_av media_av_table;

/* One entry list per library: PICK_<lib> is ENTRY for the list being
 * made, NONE for the others. */
#define PICK(lib, name) PICK_##lib(name)
#define ENTRY(name)     CORE_DL_SYM(media_av_table, name, #name)
#define NONE(name)
#define PICK_util   NONE
#define PICK_sws    NONE
#define PICK_yuv    NONE
#define PICK_codec  NONE
#define PICK_format NONE

#undef PICK_util
#define PICK_util ENTRY
static const struct core_dl_sym util_syms[] = { MEDIA_AV_FUNCTIONS(PICK) };
#undef PICK_util
#define PICK_util NONE

#undef PICK_sws
#define PICK_sws ENTRY
static const struct core_dl_sym sws_syms[] = { MEDIA_AV_FUNCTIONS(PICK) };
#undef PICK_sws
#define PICK_sws NONE

#undef PICK_yuv
#define PICK_yuv ENTRY
static const struct core_dl_sym yuv_syms[] = { MEDIA_AV_FUNCTIONS(PICK) };
#undef PICK_yuv
#define PICK_yuv NONE

#undef PICK_codec
#define PICK_codec ENTRY
static const struct core_dl_sym codec_syms[] = { MEDIA_AV_FUNCTIONS(PICK) };
#undef PICK_codec
#define PICK_codec NONE

#undef PICK_format
#define PICK_format ENTRY
static const struct core_dl_sym format_syms[] = { MEDIA_AV_FUNCTIONS(PICK) };

#define SONAME(lib, MAJOR) lib ".so." AV_STRINGIFY(MAJOR)
/* Debian's soname of libyuv (its headers do not say it). */
#define YUV_SONAME "libyuv.so.0"

/* libav's log lines go to wb_log (debug), never to stderr. */
static void to_wb_log(void *avcl, int level, const char *fmt, va_list vl)
{
    char line[1024];
    int prefix = 1;
    if (level > AV_LOG_WARNING || !wb_log_enabled(WB_LOG_DEBUG))
        return;
    AV->av_log_format_line2(avcl, level, fmt, vl, line, sizeof line, &prefix);
    line[strcspn(line, "\n")] = '\0';
    wb_log(WB_LOG_DEBUG, "libav: %s", line);
}

static int load_util(struct wb_error *err)
{
    int rc = core_dl_load(SONAME("libavutil", LIBAVUTIL_VERSION_MAJOR), util_syms,
                          CORE_DL_COUNT(util_syms), err);
    if (rc == 0)
        AV->av_log_set_callback(to_wb_log);
    return rc;
}

static int load_scaler(struct wb_error *err)
{
    int rc = media_av_load_util(err);
    if (rc == 0)
        rc = core_dl_load(SONAME("libswscale", LIBSWSCALE_VERSION_MAJOR), sws_syms,
                          CORE_DL_COUNT(sws_syms), err);
    if (rc == 0)
        rc = core_dl_load(YUV_SONAME, yuv_syms, CORE_DL_COUNT(yuv_syms), err);
    return rc;
}

static int load_codec(struct wb_error *err)
{
    int rc = media_av_load_util(err);
    if (rc == 0)
        rc = core_dl_load(SONAME("libavcodec", LIBAVCODEC_VERSION_MAJOR), codec_syms,
                          CORE_DL_COUNT(codec_syms), err);
    if (rc == 0)
        rc = core_dl_load(SONAME("libavformat", LIBAVFORMAT_VERSION_MAJOR), format_syms,
                          CORE_DL_COUNT(format_syms), err);
    return rc;
}

static struct core_dl_once util_once = CORE_DL_ONCE_INIT;
static struct core_dl_once scaler_once = CORE_DL_ONCE_INIT;
static struct core_dl_once codec_once = CORE_DL_ONCE_INIT;

int media_av_load_util(struct wb_error *err)
{
    return core_dl_once(&util_once, load_util, err);
}

int media_av_load_scaler(struct wb_error *err)
{
    return core_dl_once(&scaler_once, load_scaler, err);
}

int media_av_need_scaler(struct wb_error *err)
{
    return core_dl_need(&scaler_once, load_scaler, "pictures need libswscale and libyuv", err);
}

int media_av_load(struct wb_error *err)
{
    return core_dl_need(&codec_once, load_codec, "M4A needs libavcodec and libavformat", err);
}
