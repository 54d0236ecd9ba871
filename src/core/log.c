/* The logging callback and secret redaction. A mutex serialises the handler,
 * so worker-pool threads and the loop thread may both log. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wordbank/log.h"

#define MAX_SECRETS 8

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static wb_log_fn handler;
static void *handler_ud;
static enum wb_log_level max_level = WB_LOG_WARN;
static char *secrets[MAX_SECRETS];
static int n_secrets;

void wb_log_set_handler(wb_log_fn fn, void *ud, enum wb_log_level level)
{
    pthread_mutex_lock(&lock);
    handler = fn;
    handler_ud = ud;
    max_level = level;
    pthread_mutex_unlock(&lock);
}

int wb_log_enabled(enum wb_log_level level)
{
    return handler && level <= max_level;
}

void wb_log(enum wb_log_level level, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    if (!wb_log_enabled(level))
        return;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    wb_secret_redact(msg, sizeof msg);
    pthread_mutex_lock(&lock);
    if (handler)
        handler(handler_ud, level, msg);
    pthread_mutex_unlock(&lock);
}

void wb_secret_register(const char *secret)
{
    /* Very short strings would redact ordinary words; keys are long. */
    if (!secret || strlen(secret) < 8)
        return;
    pthread_mutex_lock(&lock);
    for (int i = 0; i < n_secrets; i++) {
        if (strcmp(secrets[i], secret) == 0)
            goto out;
    }
    if (n_secrets < MAX_SECRETS) {
        char *copy = strdup(secret);
        if (copy)
            secrets[n_secrets++] = copy;
    }
out:
    pthread_mutex_unlock(&lock);
}

static void redact_one(char *s, size_t cap, const char *secret)
{
    static const char mask[] = "[REDACTED]";
    size_t slen = strlen(secret), mlen = sizeof mask - 1;
    char *p = s;
    while ((p = strstr(p, secret)) != NULL) {
        size_t tail = strlen(p + slen);
        size_t pos = (size_t)(p - s);
        /* The mask is never longer than a registered secret (>= 8 < 10 bytes
         * would grow): clamp the tail so the result still fits in cap. */
        if (pos + mlen + tail + 1 > cap)
            tail = cap > pos + mlen + 1 ? cap - pos - mlen - 1 : 0;
        if (pos + mlen + 1 > cap) {
            *p = '\0';
            return;
        }
        memmove(p + mlen, p + slen, tail);
        p[mlen + tail] = '\0';
        memcpy(p, mask, mlen);
        p += mlen;
    }
}

void wb_secret_redact(char *s, size_t cap)
{
    int n;
    if (!s || !cap)
        return;
    pthread_mutex_lock(&lock);
    n = n_secrets;
    for (int i = 0; i < n; i++)
        redact_one(s, cap, secrets[i]);
    pthread_mutex_unlock(&lock);
}
