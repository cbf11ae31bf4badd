/* log.h: one line per event on stderr, stamped with time, level, thread and source line;
 * repeated warnings summarised (GW_LOG_SUMMARISED); a serving thread's lines buffered. */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Sets the level below which lines are dropped. Called once at start-up. */
void gw_log_set_level(gw_log_level_t level);

/* Sets the access log's format (LOG_FORMAT). Called once at start-up. */
void gw_log_set_format(gw_log_format_t format);

/* The access log's format. */
gw_log_format_t gw_log_format(void);

/* The time now, RFC 3339 in UTC with milliseconds ("2026-11-30T15:53:24.123Z"), in buf (32 bytes). */
const char *gw_log_time(char *buf, size_t cap);

/* Writes text (len bytes, no newline: one is added) as one line, unstamped: a JSON log line
 * is its own record. */
void gw_log_write_line(const char *text, size_t len);

/* Whether a line of this level would be written. */
int gw_log_enabled(gw_log_level_t level);

/* Names the calling thread in its log lines ("main", "w0", ...); name is copied. */
void gw_log_set_thread(const char *name);

/* From now on, the calling thread's info and debug lines (the access log) are buffered
 * (32 KiB) and leave in one write when the buffer is full, before any warning or error of
 * this thread, and at gw_log_flush; the thread must call gw_log_flush after each turn of its
 * loop and gw_log_unbuffer when it stops. Out of memory: lines keep being written at once. */
void gw_log_buffer(void);
/* Writes what the calling thread buffered (one write(2)); nothing when it buffers nothing. */
void gw_log_flush(void);
/* Flushes, and writes the calling thread's lines at once from now on. */
void gw_log_unbuffer(void);

/* Writes one line; use the macros below. */
void gw_log_write(gw_log_level_t level, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define GW_LOG(level, ...)                                                                                                         \
    do {                                                                                                                           \
        if (gw_log_enabled(level))                                                                                                 \
            gw_log_write(level, __FILE__, __LINE__, __VA_ARGS__);                                                                  \
    } while (0)
/* A summarised line: one per call site (shared by every thread), at most once per
 * GW_LOG_SUMMARY_MS: the first is written at once, saying repeats are summarised; later
 * occurrences are counted, and the next one after the period writes its own text with
 * " (N times in the last S s)": N occurrences (this one included) since the last line, S
 * seconds since it. For every warning a client or a failing database can repeat per request
 * or per connection: a flood must not flood the log. */
#define GW_LOG_SUMMARY_MS 10000
typedef struct gw_log_summary {
    atomic_uint_fast64_t count;   /* occurrences since the last line */
    atomic_uint_fast64_t last_ms; /* CLOCK_MONOTONIC ms + 1 of the last line; 0: none yet */
} gw_log_summary_t;

/* Counts one occurrence; returns 1 when a line is due, with *count the occurrences since the
 * last line (this one included) and *seconds the time since it (0: the first line). */
int gw_log_summary_due(gw_log_summary_t *s, uint64_t *count, uint64_t *seconds);
/* Writes a summarised line (see gw_log_summary_due for count and seconds). */
void gw_log_write_summary(gw_log_level_t level, const char *file, int line, uint64_t count, uint64_t seconds, const char *fmt,
                          ...) __attribute__((format(printf, 6, 7)));

#define GW_LOG_SUMMARISED(level, ...)                                                                                              \
    do {                                                                                                                           \
        static gw_log_summary_t gw_summary_;                                                                                       \
        uint64_t gw_count_, gw_seconds_;                                                                                           \
        if (gw_log_enabled(level) && gw_log_summary_due(&gw_summary_, &gw_count_, &gw_seconds_))                                   \
            gw_log_write_summary(level, __FILE__, __LINE__, gw_count_, gw_seconds_, __VA_ARGS__);                                  \
    } while (0)
#define gw_log_warn_summarised(...) GW_LOG_SUMMARISED(GW_LOG_WARN, __VA_ARGS__)

#define gw_log_error(...) GW_LOG(GW_LOG_ERROR, __VA_ARGS__)
#define gw_log_warn(...) GW_LOG(GW_LOG_WARN, __VA_ARGS__)
#define gw_log_info(...) GW_LOG(GW_LOG_INFO, __VA_ARGS__)
#define gw_log_debug(...) GW_LOG(GW_LOG_DEBUG, __VA_ARGS__)

#endif
