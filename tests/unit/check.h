/* check.h: the unit tests' whole framework. Each check prints a line of TAP, as pg_prove reads
 * it ("ok 3 - description", or "not ok 3 - description" with "# " lines saying where and
 * what); check_report prints the plan ("1..N", after the checks) and gives main's status. */
#ifndef TEST_CHECK_H
#define TEST_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int check_count, check_failed;

/* A diagnostic line ("# ..."), for detail beside a check. */
static inline void check_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void check_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("#   ", stdout);
    vprintf(fmt, ap);
    putchar('\n');
    va_end(ap);
}

/* Prints one TAP line for a check described by what ('#' escaped: TAP would read "# TODO" as a
 * directive); returns ok. */
static inline int check_at(int ok, const char *file, int line, const char *what)
{
    const char *base = strrchr(file, '/');
    check_count++;
    check_failed += !ok;
    printf("%sok %d - ", ok ? "" : "not ", check_count);
    for (const char *p = what; *p != '\0'; p++) {
        if (*p == '#')
            putchar('\\');
        putchar(*p == '\n' ? ' ' : *p);
    }
    putchar('\n');
    if (!ok)
        check_diag("at %s line %d", base ? base + 1 : file, line);
    return ok;
}

/* Counts one check; an expression that is the check's outcome (1 or 0), so `if (!CHECK(x))` can add detail. */
#define CHECK(expr) check_at(!!(expr), __FILE__, __LINE__, #expr)

/* Like CHECK(got == want) for integers, printing both values when they differ. */
#define CHECK_EQ(got, want)                                                                                                        \
    do {                                                                                                                           \
        long long check_got_ = (long long)(got), check_want_ = (long long)(want);                                                  \
        if (!check_at(check_got_ == check_want_, __FILE__, __LINE__, #got " == " #want))                                           \
            check_diag("got %lld, want %lld", check_got_, check_want_);                                                            \
    } while (0)

/* Prints the plan and "# name: N passed, M failed"; returns 0 when checks ran and none failed, else 1. */
static inline int check_report(const char *name)
{
    printf("1..%d\n# %s: %d passed, %d failed\n", check_count, name, check_count - check_failed, check_failed);
    return check_failed == 0 && check_count > 0 ? 0 : 1;
}

#endif
