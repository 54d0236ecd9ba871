/* libFuzzer target: WAV bytes as an API sends them (OpenAI's speech endpoint
 * with response_format wav; any RIFF/WAVE a provider returns) through the
 * audio path: sniff and validate, parse into PCM, trim and normalise, encode
 * as WAV. Invariants: parsed PCM has a sane rate, 1-2 channels and whole
 * frames; the re-encoded WAV is valid and parses back to the same frame
 * count; an error is a negative WB_E* code with a message. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wordbank/media.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
    struct wb_pcm pcm, back;
    struct wb_error err = { 0 };
    struct wb_buf out;
    int rc;

    (void)wb_media_sniff_ext(data, len);
    (void)wb_media_valid(data, len);
    wb_pcm_init(&pcm);
    rc = wb_pcm_from_wav(data, len, &pcm, &err);
    if (rc < 0) {
        if (err.code != rc || !err.msg[0])
            abort();
        wb_pcm_release(&pcm);
        return 0;
    }
    if (pcm.rate <= 0 || pcm.channels < 1 || pcm.channels > 2)
        abort();
    /* A long clip costs time, not coverage: stop at 10 s. */
    if (pcm.n_samples > (size_t)pcm.rate * 10) {
        wb_pcm_release(&pcm);
        return 0;
    }
    size_t frames = pcm.n_samples;
    if (wb_pcm_trim_normalize(&pcm, WB_AUDIO_KEEP_MS_DEFAULT, WB_AUDIO_PEAK_DBFS_DEFAULT) != 0 ||
        pcm.n_samples > frames)
        abort();
    wb_buf_init(&out, 0);
    rc = wb_audio_encode(&pcm, WB_AUDIO_WAV, &out, &err);
    if (rc == 0 && pcm.n_samples > 0) {
        wb_pcm_init(&back);
        if (!wb_media_valid(out.data, out.len) ||
            wb_pcm_from_wav(out.data, out.len, &back, &err) != 0 ||
            back.n_samples != pcm.n_samples || back.channels != pcm.channels ||
            back.rate != pcm.rate)
            abort();
        wb_pcm_release(&back);
    } else if (rc < 0 && (err.code != rc || !err.msg[0])) {
        abort();
    }
    wb_buf_release(&out);
    wb_pcm_release(&pcm);
    return 0;
}
