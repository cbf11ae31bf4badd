#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sys/uio.h>
#include <unistd.h>

static gw_log_level_t max_level = GW_LOG_INFO;
static gw_log_format_t log_format = GW_LOG_FORMAT_PLAIN;
static _Thread_local char thread_name[16] = "main";

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
    struct iovec iov[2] = {{(void *)text, len}, {"\n", 1}};
    if (writev(STDERR_FILENO, iov, 2) < 0) {
        /* nowhere left to report it */
    }
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

void gw_log_write(gw_log_level_t level, const char *file, int line, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warn", "info", "debug"};
    char buf[2048];
    const char *base = strrchr(file, '/');
    size_t n;
    va_list ap;

    gw_log_time(buf, 32);
    n = strlen(buf);
    n += snprintf(buf + n, sizeof(buf) - n, " %s [%s] %s:%d ", names[level], thread_name, base ? base + 1 : file, line);
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
