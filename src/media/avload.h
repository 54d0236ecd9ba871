/* libavutil, libswscale, libavcodec and libavformat, loaded on first use
 * (core/dl.h). libavcodec and libavformat pull in some 130 shared libraries
 * (every codec Debian builds them with: about 25 MiB of memory and a few
 * milliseconds at every start), and only the M4A encoder needs them; libswscale
 * and libavutil bring libva, vdpau, X11, xcb, drm and OpenCL (about 7 ms),
 * and only a picture to scale needs them (libyuv too, which brings
 * libstdc++: with MeCab deferred as well, a few ms more). So image.c and m4a.c call all four
 * through this table, filled by dlopen/dlsym: a program that never scales a
 * picture nor makes an M4A never maps them. Ogg page checks (sniff.c) load
 * libavutil alone, for its CRC.
 */
#ifndef WB_MEDIA_AVLOAD_H
#define WB_MEDIA_AVLOAD_H

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/crc.h>
#include <libavutil/dict.h>
#include <libavutil/frame.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libswscale/swscale.h>
#include <libyuv/convert.h>
#include <libyuv/convert_from_argb.h>

#include "media/load.h"
#include "wordbank/error.h"

/* X(library, function) for every libav (and libyuv) function media uses:
 * util alone for the Ogg CRC (media_av_load_util), util, sws and yuv for the
 * scaler (media_av_load_scaler), util, codec and format for the M4A encoder
 * (media_av_load). */
#define MEDIA_AV_FUNCTIONS(X)                 \
    X(util, av_log_set_callback)              \
    X(util, av_log_format_line2)              \
    X(util, av_malloc)                        \
    X(util, av_free)                          \
    X(util, av_freep)                         \
    X(util, av_strdup)                        \
    X(util, av_strerror)                      \
    X(util, av_dict_set)                      \
    X(util, av_dict_free)                     \
    X(util, av_frame_alloc)                   \
    X(util, av_frame_free)                    \
    X(util, av_frame_get_buffer)              \
    X(util, av_frame_make_writable)           \
    X(util, av_channel_layout_default)        \
    X(util, av_channel_layout_copy)           \
    X(util, av_crc_get_table)                 \
    X(util, av_crc)                           \
    X(sws, sws_getContext)                    \
    X(sws, sws_getColorspaceDetails)          \
    X(sws, sws_setColorspaceDetails)          \
    X(sws, sws_scale)                         \
    X(sws, sws_freeContext)                   \
    X(yuv, ABGRToJ420)                        \
    X(yuv, RAWToJ420)                         \
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

/* Filled by the loads of media/load.h; read-only after that. */
extern struct media_av media_av_table;
#define AV (&media_av_table)

/* The loads that fill it: media/load.h. Only after media_av_load_util
 * returned 0 may the util members be used, after media_av_load_scaler the
 * sws and yuv members too, after media_av_load the codec and format members. */

#endif
