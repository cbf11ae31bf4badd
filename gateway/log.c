#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static gw_log_level_t max_level = GW_LOG_INFO;
static _Thread_local char thread_name[16] = "main";

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

void gw_log_write(gw_log_level_t level, const char *file, int line, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char buf[2048];
    struct timespec ts;
    struct tm tm;
    const char *base = strrchr(file, '/');
    size_t n;
    va_list ap;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
    n += snprintf(buf + n, sizeof(buf) - n, ".%03ldZ %s [%s] %s:%d ", ts.tv_nsec / 1000000, names[level], thread_name,
                  base ? base + 1 : file, line);
    va_start(ap, fmt);
    if (n < sizeof(buf))
        n += vsnprintf(buf + n, sizeof(buf) - n, fmt, ap);
    va_end(ap);
    if (n > sizeof(buf) - 2)
        n = sizeof(buf) - 2;
    buf[n++] = '\n';
    /* one write(2) per line, so lines of several threads never interleave */
    if (write(STDERR_FILENO, buf, n) < 0) {
        /* nowhere left to report it */
    }
}
