/* Small media byte strings for the import/export tests: ADTS AAC frames and
 * a JPEG shell whose framing passes the media module's structural checks
 * (the script test tests/cli/migrate.sh uses real files made by ffmpeg).
 * seed makes different contents (different store names).
 */
#ifndef WB_TEST_MEDIA_BYTES_H
#define WB_TEST_MEDIA_BYTES_H

#include <stdint.h>
#include <string.h>

#include "wordbank/buf.h"

/* frames ADTS frames (AAC-LC, 24 kHz, mono, no CRC) of 7 + 9 bytes. */
static inline void tm_adts(struct wb_buf *b, int frames, int seed)
{
    for (int f = 0; f < frames; f++) {
        const size_t len = 16;
        uint8_t h[16] = { 0xFF,
                          0xF1,
                          0x58,
                          (uint8_t)(0x40 | ((len >> 11) & 3)),
                          (uint8_t)((len >> 3) & 0xFF),
                          (uint8_t)(((len & 7) << 5) | 0x1F),
                          0xFC };
        for (size_t i = 7; i < len; i++)
            h[i] = (uint8_t)(seed * 31 + f * 7 + (int)i);
        wb_buf_append(b, h, len);
    }
}

/* SOI, an APP0 segment holding the seed, EOI. */
static inline void tm_jpeg(struct wb_buf *b, int seed)
{
    static const uint8_t head[] = { 0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0 };
    uint8_t tail[] = { 1, 1, 0, 0, 1, 0, 1, 0, 0, (uint8_t)seed, 0xFF, 0xD9 };
    wb_buf_append(b, head, sizeof head);
    wb_buf_append(b, tail, sizeof tail);
}

#endif
