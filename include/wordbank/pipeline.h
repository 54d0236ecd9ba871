/* The generation pipeline: for every entry, whatever stage is missing —
 * details, then image and audio at once — on the engine, within the quotas,
 * each finished stage committed to the store at once.
 *
 *   struct wb_run *r;
 *   wb_run_new(cfg, store, media_dir, &opts, &r, &err);
 *   wb_run_add(r, "猫", "cat", "the household pet", &err);   (duplicates merge)
 *   rc = wb_run_execute(r, &err);   0: all done; WB_EINCOMPLETE: some failed;
 *                                   WB_ECANCELED: interrupted; others: fatal
 *   wb_run_failure_at(r, i), wb_run_get_stats(r, &stats)
 *   wb_run_free(r);
 *
 * A stage is done when its data is in the store and its media file exists and
 * is valid; such a stage is never requested again unless forced. Identical
 * requests in one run (two entries that would pronounce the same text) are sent
 * once. One entry's failure never stops the others; a missing key, a rejected
 * key or a retired model stops the run early with one message.
 */
#ifndef WORDBANK_PIPELINE_H
#define WORDBANK_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include "wordbank/api.h"
#include "wordbank/buf.h"
#include "wordbank/config.h"
#include "wordbank/entry.h"
#include "wordbank/error.h"
#include "wordbank/store.h"

#ifdef __cplusplus
extern "C" {
#endif

#define WB_STAGE_BIT(s) (1u << (s))
#define WB_STAGES_ALL \
    (WB_STAGE_BIT(WB_STAGE_DETAILS) | WB_STAGE_BIT(WB_STAGE_IMAGE) | WB_STAGE_BIT(WB_STAGE_AUDIO))

struct wb_stage_counts {
    int64_t total;     /* entries that want this stage in this run */
    int64_t queued;    /* not started yet */
    int64_t in_flight; /* requested or being processed */
    int64_t done;      /* finished in this run */
    int64_t cached;    /* already done before the run */
    int64_t failed;
    int64_t skipped; /* not available (offline images, --cache-only misses) */
};

/* A run's counters. The caller of wb_run_get_stats sets size to
 * sizeof(struct wb_run_stats); the progress callback gets the library's own,
 * whole copy (fields are only ever added at the end). */
struct wb_run_stats {
    size_t size;
    struct wb_stage_counts stage[WB_STAGE_COUNT];
    int64_t entries, entries_done, entries_failed;
    int64_t requests, retries, rate_limited, merged;
    int64_t tokens_in, tokens_out;
    double cost_usd; /* from the price table (price.<model>.in/out per million tokens) */
    double elapsed_s;
    double eta_s;        /* < 0 unknown */
    double rate_per_min; /* stages finished per minute, smoothed */
    char paused[128];    /* "gemini-3.8-flash-tts paused 12 s (429)" or "" */
};

struct wb_run_failure {
    const char *word, *translation, *language;
    enum wb_stage stage;
    const char *message; /* the API's own words */
    int code;            /* the WB_E* code (-WB_ENOTFOUND: "not in EDICT", no use retrying) */
};

/* Options of a run: wb_run_opts_init() it (it sets size; fields are only
 * ever added at its end, see wordbank/api.h on the ABI). */
struct wb_run_opts {
    size_t size;    /* sizeof(struct wb_run_opts): wb_run_opts_init sets it */
    unsigned skip;  /* WB_STAGE_BIT()s not to do (--no-image, --no-audio) */
    unsigned force; /* WB_STAGE_BIT()s to redo even when done */
    int cache_only; /* never call an API: report what is missing */
    int jobs;       /* entries in flight; 0: config "jobs" */
    /* Called on the loop thread at most ~10 times a second and once at the end. */
    void (*on_progress)(void *ud, const struct wb_run_stats *s);
    void *ud;
};

struct wb_run;

/* Defaults (every stage, config "jobs") and size. */
WB_API void wb_run_opts_init(struct wb_run_opts *o);

/* Make a run over store, writing media into media_dir. cfg, store and
 * media_dir are borrowed and must outlive the run; opts (may be NULL) is
 * copied. *out is the caller's: wb_run_free() it. Errors: -WB_ECONFIG (an
 * unknown provider, a provider without its key), -WB_ENOMEM, -WB_EINVAL (an
 * opts size of 0 or larger than this library's). */
WB_API int wb_run_new(const struct wb_config *cfg, struct wb_store *store, const char *media_dir,
                      const struct wb_run_opts *opts, struct wb_run **out, struct wb_error *err);
/* Free the run (after wb_run_execute returned, or instead of it). NULL is
 * a no-op. */
WB_API void wb_run_free(struct wb_run *r);
/* Queue an entry (language from config "lang"). Duplicates merge (the first
 * non-empty context wins). */
WB_API int wb_run_add(struct wb_run *r, const char *word, const char *translation,
                      const char *context, struct wb_error *err);
/* Make every missing stage of the queued entries, blocking until the run
 * ends; opts.on_progress reports on the way. Each finished stage is in the
 * store when this returns. 0: all done; -WB_EINCOMPLETE: some stages failed
 * (wb_run_failure_at lists them; the others are done); -WB_ECANCELED:
 * wb_run_interrupt() stopped it; anything else is fatal for the whole run
 * (-WB_EAUTH, -WB_EMODEL, -WB_ECONFIG, -WB_ENOSPC) with its message in err.
 * Once per run. */
WB_API int wb_run_execute(struct wb_run *r, struct wb_error *err);
/* Ctrl-C: stop starting work, let requests in flight finish within a grace
 * period, commit what finished. Async-signal-safe. */
WB_API void wb_run_interrupt(struct wb_run *r);
/* A copy of the run's counters (safe during wb_run_execute from the loop
 * thread's progress callback, and after it), filled as far as out->size
 * reaches (a size of 0, or one larger than this library's, gets nothing but
 * its size kept). */
WB_API void wb_run_get_stats(const struct wb_run *r, struct wb_run_stats *out);
/* The stage failures of this run, in the order they happened. */
WB_API size_t wb_run_failure_count(const struct wb_run *r);
/* The i-th failure (i < wb_run_failure_count), borrowed: valid until
 * wb_run_free(). */
WB_API const struct wb_run_failure *wb_run_failure_at(const struct wb_run *r, size_t i);

/* The provider a stage uses under cfg: <stage>_provider, else provider,
 * else "gemini" when a Gemini key is set, else "offline" (an unknown name is
 * returned as configured; wb_run_new refuses it). stage WB_STAGE_COUNT: the
 * provider of every stage without its own. The library's one choice of
 * provider; the run, wordbank tts and doctor follow it. */
WB_API const char *wb_provider_for(const struct wb_config *cfg, enum wb_stage stage);
/* Non-zero when this library has a provider of that name ("gemini",
 * "openai", "offline"). */
WB_API int wb_provider_known(const char *name);

/* One-off speech for any text (wordbank tts), in the configured provider's
 * voice, encoded as format ("mp3", "m4a", "opus", "wav"). */
WB_API int wb_speak(const struct wb_config *cfg, const char *text, const char *format,
                    struct wb_buf *out, struct wb_error *err);
/* A two-speaker dialogue ("Name: line" per line) as one clip. Exactly two
 * speakers, or a clear error before any request. */
WB_API int wb_speak_dialogue(const struct wb_config *cfg, const char *script, size_t len,
                             const char *format, struct wb_buf *out, struct wb_error *err);

/* doctor: is each configured Gemini model (text, speech, image) offered by
 * the endpoint (GET /models, every page)? suggestions names close
 * alternatives for a missing one. The model strings borrow from cfg. */
struct wb_model_check {
    const char *role; /* "text", "speech", "image" */
    const char *model;
    int found;
    char suggestions[256];
};
WB_API int wb_check_models(const struct wb_config *cfg, struct wb_model_check out[3],
                           struct wb_error *err);

/* The media file (name relative to media_dir) of a dialogue clip: made once
 * and found again by the request that shaped it. With cache_only, a clip not
 * made yet is -WB_ENOTFOUND. *name_out: free() it. */
WB_API int wb_dialogue_file(const struct wb_config *cfg, const char *media_dir, const char *script,
                            size_t len, const char *format, int cache_only, char **name_out,
                            struct wb_error *err);

#ifdef __cplusplus
}
#endif

#endif
