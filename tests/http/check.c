/* check.c: the checks and their TAP output, the program's start and end, kept strings (see harness.h). */
#define _GNU_SOURCE
#include "harness_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <unistd.h>

static const char *test_name = "test";
static int count, failed;
static char section[200] = "";

static char **kept;
static size_t nkept, capkept;

const char *h_gateway_bin;
int h_verbose;

char *h_keep(char *p)
{
    if (p == NULL)
        return NULL;
    if (nkept == capkept) {
        capkept = capkept ? capkept * 2 : 64;
        kept = realloc(kept, capkept * sizeof *kept);
    }
    kept[nkept++] = p;
    return p;
}

/* A malloc'd string of fmt and ap (out of memory: abort, a test has nothing better to do). */
static char *vfmt(const char *fmt, va_list ap)
{
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    return s;
}

char *h_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = vfmt(fmt, ap);
    va_end(ap);
    return h_keep(s);
}

void h_init(int argc, char **argv, const char *name)
{
    test_name = name;
    h_verbose = getenv("HTTP_TEST_VERBOSE") != NULL;
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    curl_global_init(CURL_GLOBAL_ALL);
    if (argc < 2 || access(argv[1], X_OK) != 0) {
        CHECK(0, "usage: %s <path to todo-gateway> (got %s)", argv[0], argc < 2 ? "nothing" : argv[1]);
        exit(h_finish());
    }
    h_gateway_bin = argv[1];
    if (getenv("TEST_DATABASE_URL") == NULL || getenv("TEST_DATABASE_URL")[0] == '\0') {
        CHECK(0, "TEST_DATABASE_URL is not set: run the suite with scripts/test (it starts PostgreSQL)");
        exit(h_finish());
    }
}

int h_finish(void)
{
    for (size_t i = 0; i < nkept; i++)
        free(kept[i]);
    free(kept);
    kept = NULL;
    nkept = capkept = 0;
    h_remove_cert();
    curl_global_cleanup();
    printf("1..%d\n# %s: %d passed, %d failed\n", count, test_name, count - failed, failed);
    return failed == 0 && count > 0 ? 0 : 1;
}

void h_section(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(section, sizeof section, fmt, ap);
    va_end(ap);
    if (h_verbose)
        printf("# -- %s\n", section);
}

void h_diag(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = vfmt(fmt, ap);
    va_end(ap);
    for (char *line = msg, *next; line != NULL; line = next) {
        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        printf("# %s\n", line);
    }
    free(msg);
    fflush(stdout);
}

const char *h_section_name(void)
{
    return section;
}

/* TAP, as pg_prove reads it: "ok N - [section] message" or "not ok N - ...", then, for a failure,
 * where it was and the message's further lines as "# " comments. A '#' in the description is
 * escaped (TAP would take "# TODO" for a directive). */
int h_check_at(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = vfmt(fmt, ap);
    va_end(ap);
    count++;
    failed += !ok;
    printf("%sok %d - ", ok ? "" : "not ", count);
    if (section[0] != '\0')
        printf("[%s] ", section);
    size_t first = strcspn(msg, "\n");
    for (size_t i = 0; i < first; i++) {
        if (msg[i] == '#')
            putchar('\\');
        putchar(msg[i]);
    }
    putchar('\n');
    if (!ok) {
        const char *base = strrchr(file, '/');
        printf("#   at %s line %d\n", base ? base + 1 : file, line);
        for (const char *p = msg + first; *p != '\0';) {
            p++; /* the newline */
            size_t n = strcspn(p, "\n");
            printf("#   %.*s\n", (int)n, p);
            p += n;
        }
    }
    free(msg);
    return ok;
}

const char *resp_brief(const resp_t *r)
{
    if (r == NULL)
        return "(no response)";
    if (r->status == 0)
        return h_fmt("%s -> no answer (%s)", r->what, r->err);
    size_t n = r->len > 400 ? 400 : r->len;
    return h_fmt("%s -> %ld %.*s%s", r->what, r->status, (int)n, r->body ? r->body : "", r->len > n ? "..." : "");
}

int h_expect_status_at(const resp_t *r, long status, const char *file, int line)
{
    return h_check_at(r != NULL && r->status == status, file, line, "expected status %ld: %s", status, resp_brief(r));
}

int h_expect_error_at(const resp_t *r, long status, const char *code, const char *file, int line)
{
    const char *got = r && json_is_object(r->json) ? h_jstr(r->json, "code") : NULL;
    return h_check_at(r != NULL && r->status == status && got != NULL && strcmp(got, code) == 0, file, line, "expected %ld %s: %s",
                      status, code, resp_brief(r));
}

int h_expect_validation_at(const resp_t *r, const char *place, const char *const *fields, const char *file, int line)
{
    if (!h_expect_error_at(r, 422, "validation_failed", file, line))
        return 0;
    const json_t *detail = json_object_get(r->json, "detail");
    size_t want = 0;
    while (fields[want] != NULL)
        want++;
    int ok = json_is_array(detail) && json_array_size(detail) == want;
    for (size_t i = 0; ok && i < want; i++) {
        int found = 0;
        size_t j;
        json_t *p;
        json_array_foreach(detail, j, p)
        {
            json_t *loc = json_object_get(p, "loc");
            if (json_is_array(loc) && json_array_size(loc) == 2 && json_is_string(json_array_get(loc, 0)) &&
                strcmp(json_string_value(json_array_get(loc, 0)), place) == 0 && json_is_string(json_array_get(loc, 1)) &&
                strcmp(json_string_value(json_array_get(loc, 1)), fields[i]) == 0 && json_is_string(json_object_get(p, "msg")) &&
                json_is_string(json_object_get(p, "type")))
                found = 1;
        }
        ok = found;
    }
    return h_check_at(ok, file, line, "expected a validation list naming exactly %s %s%s%s: %s", place, fields[0],
                      want > 1 ? ", " : "", want > 1 ? fields[1] : "", resp_brief(r));
}

int h_expect_jstr_at(const resp_t *r, const json_t *obj, const char *key, const char *expected, const char *file, int line)
{
    const json_t *v = obj ? json_object_get(obj, key) : NULL;
    int ok;
    if (expected == NULL)
        ok = json_is_null(v);
    else
        ok = json_is_string(v) && strcmp(json_string_value(v), expected) == 0;
    return h_check_at(ok, file, line, "expected %s = %s%s%s: %s", key, expected ? "\"" : "", expected ? expected : "null",
                      expected ? "\"" : "", resp_brief(r));
}

int h_expect_header_at(const resp_t *r, const char *name, const char *expected, const char *file, int line)
{
    const char *v = r ? resp_header(r, name) : NULL;
    int ok = expected == NULL ? v == NULL : v != NULL && strcmp(v, expected) == 0;
    return h_check_at(ok, file, line, "expected header %s: %s, got %s: %s", name, expected ? expected : "(absent)",
                      v ? v : "(absent)", resp_brief(r));
}
