/*
 * log.c: lines on stderr. Each thread that serves requests buffers its lines (gw_log_buffer):
 * they leave in one write(2) when the buffer fills, before a warning or an error of that
 * thread (so its lines keep their order), and at gw_log_flush, which the thread calls after
 * every turn of its event loop (at most every 100 ms) and when it stops. Lines of other
 * threads (main, start-up) are written at once. A line never straddles two writes, so the
 * lines of several threads never interleave.
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static gw_log_level_t max_level = GW_LOG_INFO;
static gw_log_format_t log_format = GW_LOG_FORMAT_PLAIN;
static _Thread_local char thread_name[16] = "main";
static _Thread_local char *buffer; /* GW_LOG_BUFFER_BYTES once gw_log_buffer ran, else NULL */
static _Thread_local size_t buffered;

#define GW_LOG_BUFFER_BYTES 32768

static void write_all(const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDERR_FILENO, text, len);
        if (n <= 0)
            return; /* nowhere left to report it */
        text += n, len -= (size_t)n;
    }
}

void gw_log_buffer(void)
{
    if (buffer == NULL)
        buffer = malloc(GW_LOG_BUFFER_BYTES); /* NULL: lines are written at once */
}

void gw_log_flush(void)
{
    if (buffered > 0)
        write_all(buffer, buffered);
    buffered = 0;
}

void gw_log_unbuffer(void)
{
    gw_log_flush();
    free(buffer);
    buffer = NULL;
}

/* One whole line (its newline included): into the thread's buffer, or written at once. */
static void emit(gw_log_level_t level, const char *text, size_t len)
{
    if (buffer != NULL && level >= GW_LOG_INFO && len <= GW_LOG_BUFFER_BYTES) {
        if (buffered + len > GW_LOG_BUFFER_BYTES)
            gw_log_flush();
        memcpy(buffer + buffered, text, len);
        buffered += len;
        return;
    }
    gw_log_flush();
    write_all(text, len);
}

void gw_log_set_format(gw_log_format_t format)
{
    log_format = format;
}

gw_log_format_t gw_log_format(void)
{
    return log_format;
}

void gw_log_write_line(const char *text, size_t len)
{
    if (buffer != NULL && len < GW_LOG_BUFFER_BYTES) {
        if (buffered + len + 1 > GW_LOG_BUFFER_BYTES)
            gw_log_flush();
        memcpy(buffer + buffered, text, len);
        buffer[buffered + len] = '\n';
        buffered += len + 1;
        return;
    }
    char *line = malloc(len + 1);
    if (line == NULL)
        return;
    memcpy(line, text, len);
    line[len] = '\n';
    emit(GW_LOG_INFO, line, len + 1);
    free(line);
}

void gw_log_set_level(gw_log_level_t level)
{
    max_level = level;
}

int gw_log_enabled(gw_log_level_t level)
{
    return level <= max_level;
}

void gw_log_set_thread(const char *name)
{
    snprintf(thread_name, sizeof(thread_name), "%s", name);
}

const char *gw_log_time(char *buf, size_t cap)
{
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    size_t n = strftime(buf, cap, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, cap - n, ".%03ldZ", ts.tv_nsec / 1000000);
    return buf;
}

/* Formats one line, with suffix (or NULL) after the message, and emits it. */
static void vwrite_line(gw_log_level_t level, const char *file, int line, const char *suffix, const char *fmt, va_list ap)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char buf[2048];
    const char *base = strrchr(file, '/');
    size_t n;

    gw_log_time(buf, 32);
    n = strlen(buf);
    n += snprintf(buf + n, sizeof(buf) - n, " %s [%s] %s:%d ", names[level], thread_name, base ? base + 1 : file, line);
    if (n < sizeof(buf))
        n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
    if (suffix != NULL && n < sizeof(buf))
        n += snprintf(buf + n, sizeof(buf) - n, "%s", suffix);
    if (n > sizeof(buf) - 2)
        n = sizeof(buf) - 2;
    buf[n++] = '\n';
    emit(level, buf, n);
}

void gw_log_write(gw_log_level_t level, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vwrite_line(level, file, line, NULL, fmt, ap);
    va_end(ap);
}

/* ---- summarised lines ---- */

static uint64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int gw_log_summary_due(gw_log_summary_t *s, uint64_t *count, uint64_t *seconds)
{
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    uint64_t now = monotonic_ms() + 1; /* never 0: 0 is "no line yet" */
    uint64_t last = atomic_load_explicit(&s->last_ms, memory_order_relaxed);
    if (last != 0 && now - last < GW_LOG_SUMMARY_MS)
        return 0;
    if (!atomic_compare_exchange_strong(&s->last_ms, &last, now))
        return 0; /* another thread writes this period's line */
    *count = atomic_exchange_explicit(&s->count, 0, memory_order_relaxed);
    *seconds = last == 0 ? 0 : (now - last + 999) / 1000;
    return 1;
}

void gw_log_write_summary(gw_log_level_t level, const char *file, int line, uint64_t count, uint64_t seconds, const char *fmt,
                          ...)
{
    char suffix[96];
    va_list ap;
    if (seconds == 0)
        snprintf(suffix, sizeof(suffix), " (repeats of this line are summarised: at most one per %d s)", GW_LOG_SUMMARY_MS / 1000);
    else
        snprintf(suffix, sizeof(suffix), " (%llu times in the last %llu s)", (unsigned long long)count,
                 (unsigned long long)seconds);
    va_start(ap, fmt);
    vwrite_line(level, file, line, suffix, fmt, ap);
    va_end(ap);
}
