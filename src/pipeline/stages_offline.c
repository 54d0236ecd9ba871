/* The offline stage drivers: details from MeCab and EDICT, speech from
 * espeak-ng, no pictures. All of it is CPU work, so it runs on the worker
 * pool; MeCab's tagger is shared under the run's text lock.
 */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "pipeline/internal.h"
#include "wordbank/log.h"

int offline_prepare(struct run *r, struct wb_error *err)
{
    int rc;
    if (strncmp(r->lang, "ja", 2) == 0 && !r->text) {
        if ((rc = wb_text_new(r->cfg, &r->text, err)))
            return rc;
    }
    if (r->prov[WB_STAGE_DETAILS]->local && !r->edict) {
        rc = wb_edict_open(r->cfg, NULL, NULL, &r->edict, err);
        if (rc == WB_ENOMEM) /* no details without their meaning (the torture run) */
            return rc;
        if (rc) {
            /* Readings still work without the dictionary. */
            wb_log(WB_LOG_WARN, "offline: no EDICT dictionary, meanings stay empty: %s",
                   wb_error_text(err));
            wb_error_clear(err);
            r->edict = NULL;
        } else if (wb_edict_was_built(r->edict)) {
            wb_log(WB_LOG_INFO, "offline: built the EDICT index at %s",
                   wb_edict_index_path(r->edict));
        }
    }
    return 0;
}

static void details_work(void *ud)
{
    struct stage_task *t = ud;
    struct run *r = t->job->run;
    const struct wb_entry *e = &t->job->e;
    struct wb_error err = { 0 };
    int rc;
    if (core_str_set(&t->details.word, e->word) ||
        core_str_set(&t->details.translation, e->translation) ||
        core_str_set(&t->details.language, e->language) ||
        core_str_set(&t->details.context, e->context)) {
        task_fail(t, WB_ENOMEM, "out of memory");
        return;
    }
    pthread_mutex_lock(&r->text_lock);
    rc = wb_offline_details(r->text, r->edict, &t->details, &err);
    pthread_mutex_unlock(&r->text_lock);
    if (rc)
        task_fail(t, rc, "%s", wb_error_text(&err));
}

static void audio_work(void *ud)
{
    struct stage_task *t = ud;
    struct run *r = t->job->run;
    struct wb_error err = { 0 };
    struct wb_audio_options o = r->audio_opts;
    struct wb_buf out;
    int16_t *pcm = NULL;
    size_t n = 0;
    int rate = 0, rc;
    char *text = prompt_speech_text(&t->job->e, r->speech_mode);
    wb_buf_init(&out, 0);
    if (!text) {
        task_fail(t, WB_ENOMEM, "out of memory");
        goto out;
    }
    pthread_mutex_lock(&r->text_lock);
    rc = wb_offline_speak(text, t->job->e.language, r->text, &pcm, &n, &rate, NULL, &err);
    pthread_mutex_unlock(&r->text_lock);
    if (rc) {
        task_fail(t, rc, "espeak-ng: %s", wb_error_text(&err));
        goto out;
    }
    o.pcm_rate = rate;
    o.pcm_channels = 1;
    rc = wb_audio_convert(pcm, n * sizeof *pcm, &o, &out, &err);
    if (rc) {
        task_fail(t, rc, "audio: %s", wb_error_text(&err));
        goto out;
    }
    rc = stage_write_media(t, out.data, out.len, &err);
    if (rc)
        task_fail(t, rc, "%s", wb_error_text(&err));
out:
    free(text);
    free(pcm);
    wb_buf_release(&out);
}

static void after_work(void *ud, int status)
{
    struct stage_task *t = ud;
    if (status && !t->status)
        task_fail(t, status, "%s", wb_strerror(status));
    run_stage_finished(t);
}

int offline_start(struct stage_task *t)
{
    struct run *r = t->job->run;
    void (*work)(void *) = t->stage == WB_STAGE_DETAILS ? details_work : audio_work;
    int rc;
    if (t->stage == WB_STAGE_IMAGE) {
        task_fail(t, WB_EUNSUPPORTED, "the offline provider makes no pictures");
        return WB_EUNSUPPORTED;
    }
    rc = engine_queue_work(r->eng, work, after_work, t);
    if (rc)
        task_fail(t, rc, "cannot queue work: %s", wb_strerror(rc));
    return rc;
}
