/* log.h: one line per event on stderr, stamped with time, level, thread and source line. */
#ifndef GW_LOG_H
#define GW_LOG_H

#include <stddef.h>

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

/* Writes one line; use the macros below. */
void gw_log_write(gw_log_level_t level, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define GW_LOG(level, ...)                                                                                                         \
    do {                                                                                                                           \
        if (gw_log_enabled(level))                                                                                                 \
            gw_log_write(level, __FILE__, __LINE__, __VA_ARGS__);                                                                  \
    } while (0)
#define gw_log_error(...) GW_LOG(GW_LOG_ERROR, __VA_ARGS__)
#define gw_log_warn(...) GW_LOG(GW_LOG_WARN, __VA_ARGS__)
#define gw_log_info(...) GW_LOG(GW_LOG_INFO, __VA_ARGS__)
#define gw_log_debug(...) GW_LOG(GW_LOG_DEBUG, __VA_ARGS__)

#endif
