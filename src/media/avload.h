/* libavcodec and libavformat, loaded on first use. They pull in some 130
 * shared libraries (every codec Debian builds them with), which costs about
 * 25 MiB of memory and a few milliseconds at every start of a program that
 * links them; only the M4A encoder needs them, and MP3 is the default. So
 * m4a.c calls them through this table, filled by dlopen/dlsym the first time
 * an M4A is made. libavutil (small, also used by libswscale) is linked as
 * usual. Include after the libav headers, in m4a.c only.
 */
#ifndef WB_MEDIA_AVLOAD_H
#define WB_MEDIA_AVLOAD_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "wordbank/error.h"

/* X(library, function) for every libavcodec/libavformat function m4a.c uses. */
#define MEDIA_AV_FUNCTIONS(X)                 \
    X(codec, avcodec_find_encoder)            \
    X(codec, avcodec_alloc_context3)          \
    X(codec, avcodec_open2)                   \
    X(codec, avcodec_free_context)            \
    X(codec, avcodec_send_frame)              \
    X(codec, avcodec_receive_packet)          \
    X(codec, avcodec_parameters_from_context) \
    X(codec, av_packet_alloc)                 \
    X(codec, av_packet_free)                  \
    X(codec, av_packet_unref)                 \
    X(codec, av_packet_rescale_ts)            \
    X(format, avformat_alloc_output_context2) \
    X(format, avformat_new_stream)            \
    X(format, avformat_write_header)          \
    X(format, avformat_free_context)          \
    X(format, av_write_frame)                 \
    X(format, av_write_trailer)               \
    X(format, avio_alloc_context)             \
    X(format, avio_context_free)              \
    X(format, avio_flush)

struct media_av {
#define MEDIA_AV_MEMBER(lib, name) __typeof__(name) *name;
    MEDIA_AV_FUNCTIONS(MEDIA_AV_MEMBER)
#undef MEDIA_AV_MEMBER
};

/* Filled once, by the first media_av_load(); read-only after that. */
extern struct media_av media_av_table;
/* Load the libraries once: 0, or WB_EUNSUPPORTED with err set when they are
 * missing. Only after 0 may media_av_table be used. */
int media_av_load(struct wb_error *err);

#endif
