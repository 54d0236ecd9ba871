/* The provider interface: the registry, the one choice of a stage's provider
 * (its precedence), and the tables routing to each provider's own builders
 * and parsers. */
#include <stdlib.h>
#include <string.h>

#include "providers/openai.h"
#include "providers/provider.h"
#include "test.h"
#include "wordbank/config.h"

TEST(registry_finds_each_provider_by_name_and_id)
{
    CHECK(prov_find("gemini") == &prov_gemini_ops);
    CHECK(prov_find("openai") == &prov_openai_ops);
    CHECK(prov_find("offline") == &prov_offline_ops);
    CHECK(prov_find("Gemini") == NULL);
    CHECK(prov_find("") == NULL);
    CHECK(prov_find(NULL) == NULL);
    CHECK(prov_get(PROV_OPENAI) == &prov_openai_ops);
    CHECK(prov_get(PROV_NONE) == NULL);
    /* Local providers make no requests; network ones build every stage's. */
    CHECK(prov_offline_ops.local && !prov_offline_ops.details_request);
    CHECK(!prov_gemini_ops.local && prov_gemini_ops.details_request &&
          prov_gemini_ops.image_request && prov_gemini_ops.speech_request &&
          prov_gemini_ops.parse_error && prov_gemini_ops.speech_new);
    CHECK(prov_openai_ops.speech_end && !prov_openai_ops.speech_new);
    CHECK(prov_gemini_ops.batch && !prov_openai_ops.batch);
}

TEST(stage_provider_precedence)
{
    struct wb_config *cfg = NULL;
    CHECK_INT(wb_config_new(&cfg), 0);
    /* Nothing set: offline; a Gemini key: gemini. */
    CHECK_STR(prov_configured(cfg, WB_STAGE_DETAILS), "offline");
    CHECK_INT(wb_config_set(cfg, "gemini_api_key", "k-not-secret", WB_SRC_FLAG), 0);
    CHECK_STR(prov_configured(cfg, WB_STAGE_AUDIO), "gemini");
    CHECK_STR(prov_default(cfg), "gemini");
    /* provider beats the key; a stage's own beats provider. */
    CHECK_INT(wb_config_set(cfg, "provider", "openai", WB_SRC_FLAG), 0);
    CHECK_INT(wb_config_set(cfg, "image_provider", "offline", WB_SRC_FLAG), 0);
    CHECK_STR(prov_configured(cfg, WB_STAGE_DETAILS), "openai");
    CHECK_STR(prov_configured(cfg, WB_STAGE_IMAGE), "offline");
    CHECK_STR(prov_configured(cfg, WB_STAGE_AUDIO), "openai");
    /* Models and voices come from each provider's own settings. */
    CHECK_STR(prov_model(&prov_gemini_ops, cfg, WB_STAGE_DETAILS), "gemini-3.8-flash");
    CHECK_STR(prov_model(&prov_offline_ops, cfg, WB_STAGE_AUDIO), "espeak-ng");
    CHECK_STR(prov_openai_ops.voice_key, "openai_voice");
    wb_config_free(cfg);
}

TEST(gemini_table_builds_the_gemini_request)
{
    struct gemini_opts o;
    struct core_http_request a, b;
    struct wb_error err = { 0 };
    struct wb_entry e;
    gemini_opts_init(&o);
    o.api_key = "k-not-secret";
    wb_entry_init(&e);
    e.word = "猫";
    e.translation = "cat";
    e.language = "ja";
    core_http_request_init(&a);
    core_http_request_init(&b);
    CHECK_INT(prov_gemini_ops.details_request(&o, &e, &a, &err), 0);
    CHECK_INT(gemini_details_request(&o, &e, &b, &err), 0);
    CHECK_STR(a.url, b.url);
    CHECK(a.body_len == b.body_len && memcmp(a.body, b.body, a.body_len) == 0);
    core_http_request_release(&a);
    core_http_request_release(&b);
}

TEST(openai_speech_answer_is_one_pcm_body)
{
    struct wb_buf pcm;
    struct core_api_error ae;
    struct prov_usage u = { 0 };
    int rate = 0, ch = 0;
    wb_buf_init(&pcm, PROV_MAX_MEDIA);
    core_api_error_clear(&ae);
    CHECK_INT(prov_openai_ops.speech_end(NULL, "\1\0\2\0", 4, &pcm, &rate, &ch, &u, &ae), 0);
    CHECK_INT((int)pcm.len, 4);
    CHECK_INT(rate, WB_OPENAI_PCM_RATE);
    CHECK_INT(ch, 1);
    /* An odd length is a cut-off body: retried. */
    CHECK_INT(prov_openai_ops.speech_end(NULL, "\1\0\2", 3, &pcm, &rate, &ch, &u, &ae),
              WB_EINCOMPLETE);
    CHECK(ae.retryable);
    wb_buf_release(&pcm);
}
