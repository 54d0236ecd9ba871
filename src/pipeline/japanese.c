/* Japanese details, whichever provider wrote them: the reading is checked
 * against EDICT (the sense matching the translation and context wins; a
 * reading the dictionary does not give for it is corrected, one it cannot
 * check is flagged) and written as the word is (メモ帳 -> メモちょう), and
 * the pitch accent is added. Runs on the loop thread when a details stage
 * settles, under the run's text lock (the offline workers share the tagger).
 * The tools open on the worker pool as the run starts (run_japanese_prepare),
 * while the first requests are on their way, not on the loop thread when the
 * first answer is in; a details answer that comes in before they are open
 * waits for them (run_japanese_park) instead of blocking the loop thread on
 * the lock (the first run on a machine builds EDICT's index: ~600 ms).
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

static int is_japanese(const char *lang)
{
    return lang && (strcmp(lang, "ja") == 0 || strncmp(lang, "ja-", 3) == 0);
}

/* The tagger and the dictionary, opened once a run; without them the details
 * stay as the provider wrote them (one warning a run). */
static int open_tools(struct run *r, const char *where)
{
    struct wb_error err = { 0 };
    int64_t t0 = core_clock_mono_ms();
    int opening = !r->text && !r->ja_failed;

    if (!r->text && !r->ja_failed && wb_text_new(r->cfg, &r->text, &err) != 0) {
        wb_log(WB_LOG_WARN, "readings are not checked and no pitch accent is added: %s",
               wb_error_text(&err));
        r->ja_failed = 1;
    }
    if (r->text && !r->edict && !r->ja_no_edict) {
        if (wb_edict_open(r->cfg, NULL, NULL, &r->edict, &err) != 0) {
            wb_log(WB_LOG_WARN, "no EDICT dictionary, readings are checked by MeCab only: %s",
                   wb_error_text(&err));
            r->ja_no_edict = 1;
            r->edict = NULL;
        }
    }
    if (opening)
        wb_log(WB_LOG_DEBUG, "pipeline: Japanese tools opened %s in %lld ms", where,
               (long long)(core_clock_mono_ms() - t0));
    return r->text != NULL;
}

static void prepare_work(void *ud)
{
    struct run *r = ud;
    struct wb_error err = { 0 };
    pthread_mutex_lock(&r->text_lock);
    /* A failure here is said (once) by the first entry that needs it. */
    if (open_tools(r, "on the worker pool") && !r->ja_no_pitch)
        wb_text_pitch_open(r->text, &err);
    pthread_mutex_unlock(&r->text_lock);
}

/* The tools are open (or could not be, or the item never ran: then the
 * first parked answer opens them here): the answers that waited settle. */
static void prepare_done(void *ud, int status)
{
    struct run *r = ud;
    struct stage_task **parked = r->ja_parked;
    size_t n = r->n_ja_parked;
    (void)status;
    r->ja_preparing = 0;
    r->ja_parked = NULL;
    r->n_ja_parked = r->cap_ja_parked = 0;
    for (size_t i = 0; i < n; i++)
        run_stage_finished(parked[i]);
    free(parked);
}

void run_japanese_prepare(struct run *r)
{
    for (size_t i = 0; i < r->n_jobs; i++) {
        const struct job *j = &r->jobs[i];
        if (is_japanese(j->e.language) && pipe_stage_wanted(j, WB_STAGE_DETAILS)) {
            /* Not queued: the loop thread opens them at the first answer. */
            if (engine_queue_work(r->eng, prepare_work, prepare_done, r) == 0)
                r->ja_preparing = 1;
            return;
        }
    }
}

int run_japanese_park(struct run *r, struct stage_task *t)
{
    if (!r->ja_preparing || t->stage != WB_STAGE_DETAILS || t->status != 0 ||
        !is_japanese(t->job->e.language))
        return 0;
    if (CORE_ARRAY_RESERVE(r->ja_parked, r->n_ja_parked, r->cap_ja_parked, 1, 0) != 0)
        return 0; /* settled now: the loop waits for the lock, nothing is lost */
    r->ja_parked[r->n_ja_parked++] = t;
    return 1;
}

void run_japanese_details(struct run *r, struct wb_entry *e)
{
    struct wb_buf reading;
    struct wb_error err = { 0 };
    int verdict = 0;

    if (!is_japanese(e->language) || !e->word || !*e->word)
        return;
    wb_buf_init(&reading, 0);
    pthread_mutex_lock(&r->text_lock);
    if (!open_tools(r, "at the first answer"))
        goto out;
    if (wb_text_check_reading(r->text, r->edict, e->word, e->translation, e->context, e->reading,
                              &reading, &verdict, &err) != 0) {
        wb_log(WB_LOG_WARN, "%s: reading not checked: %s", e->word, wb_error_text(&err));
    } else {
        /* At info level: one line an entry would tear up the live display. */
        if (verdict == WB_READING_CORRECTED)
            wb_log(WB_LOG_INFO, "%s (%s): reading %s corrected to %s (EDICT)", e->word,
                   e->translation ? e->translation : "", e->reading ? e->reading : "",
                   reading.data);
        else if (verdict == WB_READING_UNVERIFIED)
            wb_log(WB_LOG_INFO,
                   "%s (%s): reading %s is not in EDICT and differs from MeCab's; kept", e->word,
                   e->translation ? e->translation : "", e->reading ? e->reading : "");
        if (reading.len)
            core_str_set(&e->reading, reading.data);
    }
    e->n_pitch_accent = 0;
    if (!r->ja_no_pitch && wb_text_pitch_accent(r->text, e->word, e->reading, e->pitch_accent,
                                                WB_PITCH_MAX, &e->n_pitch_accent, &err) != 0) {
        wb_log(WB_LOG_WARN, "no pitch accent: %s", wb_error_text(&err));
        r->ja_no_pitch = 1;
        e->n_pitch_accent = 0;
    }
out:
    pthread_mutex_unlock(&r->text_lock);
    wb_buf_release(&reading);
}
