/* check.h: the unit tests' whole framework. CHECK counts; check_report prints the tally and gives main's status. */
#ifndef GW_CHECK_H
#define GW_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

/* Counts one check; an expression that is the check's outcome (1 or 0), so `if (!CHECK(x))` can add detail. */
#define CHECK(expr) check_at(!!(expr), __FILE__, __LINE__, #expr)

static inline int check_at(int ok, const char *file, int line, const char *what)
{
    if (ok)
        check_passed++;
    else {
        check_failed++;
        fprintf(stderr, "%s:%d: CHECK failed: %s\n", file, line, what);
    }
    return ok;
}

/* Like CHECK(got == want) for integers, printing both values when they differ. */
#define CHECK_EQ(got, want)                                                                                                        \
    do {                                                                                                                           \
        long long check_got_ = (long long)(got), check_want_ = (long long)(want);                                                  \
        if (check_got_ == check_want_) {                                                                                           \
            check_passed++;                                                                                                        \
        } else {                                                                                                                   \
            check_failed++;                                                                                                        \
            fprintf(stderr, "%s:%d: CHECK failed: %s == %s (got %lld, want %lld)\n", __FILE__, __LINE__, #got, #want, check_got_,  \
                    check_want_);                                                                                                  \
        }                                                                                                                          \
    } while (0)

/* Prints "name: N passed, M failed"; returns 0 when nothing failed, else 1. */
static inline int check_report(const char *name)
{
    printf("%s: %d passed, %d failed\n", name, check_passed, check_failed);
    return check_failed == 0 ? 0 : 1;
}

#endif
