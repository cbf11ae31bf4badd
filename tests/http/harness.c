/* harness.c: see harness.h. */
#define _GNU_SOURCE
#include "harness.h"

#include "config.h" /* the table of the gateway's variables, to clear them */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <regex.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

extern char **environ;

const char *const h_proto_name[P_COUNT] = {"HTTP/1.1", "h2c", "TLS h2", "TLS http/1.1", "h2c upgrade"};

static const char *test_name = "test";
static const char *gateway_bin;
static int passed, failed, verbose;
static char section[200] = "";

static char **kept;
static size_t nkept, capkept;
static char *cert_dir;

/* --- checks ------------------------------------------------------------------------- */

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

char *h_fmt(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return h_keep(s);
}

void h_init(int argc, char **argv, const char *name)
{
    test_name = name;
    verbose = getenv("HTTP_TEST_VERBOSE") != NULL;
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    curl_global_init(CURL_GLOBAL_ALL);
    if (argc < 2 || access(argv[1], X_OK) != 0) {
        CHECK(0, "usage: %s <path to todo-gateway> (got %s)", argv[0], argc < 2 ? "nothing" : argv[1]);
        exit(h_finish());
    }
    gateway_bin = argv[1];
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
    if (cert_dir != NULL) {
        char *p;
        if (asprintf(&p, "rm -rf '%s'", cert_dir) >= 0) {
            if (system(p) != 0)
                fprintf(stderr, "could not remove %s\n", cert_dir);
            free(p);
        }
        free(cert_dir);
        cert_dir = NULL;
    }
    curl_global_cleanup();
    printf("%s: %d passed, %d failed\n", test_name, passed, failed);
    return failed == 0 && passed > 0 ? 0 : 1;
}

void h_section(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(section, sizeof section, fmt, ap);
    va_end(ap);
    if (verbose)
        printf("-- %s\n", section);
}

int h_check_at(int ok, const char *file, int line, const char *fmt, ...)
{
    va_list ap;
    if (ok) {
        passed++;
        if (!verbose)
            return 1;
    } else {
        failed++;
    }
    const char *base = strrchr(file, '/');
    printf("%s [%s] %s:%d: ", ok ? "ok  " : "FAIL", section, base ? base + 1 : file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
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

int h_expect_task_at(const resp_t *r, const json_t *t, const char *user_id, const char *file, int line)
{
    static const char *ts = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$";
    const char *why = NULL;
    if (!json_is_object(t))
        why = "not an object";
    else if (json_object_size(t) != 7)
        why = "not exactly the 7 members";
    else if (!json_is_integer(json_object_get(t, "id")) || json_integer_value(json_object_get(t, "id")) <= 0)
        why = "id is not a positive integer";
    else if (!json_is_string(json_object_get(t, "user_id")))
        why = "user_id is not a string";
    else if (user_id != NULL && strcmp(h_jstr(t, "user_id"), user_id) != 0)
        why = h_fmt("user_id is not %s", user_id);
    else if (!json_is_string(json_object_get(t, "title")))
        why = "title is not a string";
    else if (!json_is_string(json_object_get(t, "description")) && !json_is_null(json_object_get(t, "description")))
        why = "description is neither a string nor null";
    else if (!json_is_boolean(json_object_get(t, "completed")))
        why = "completed is not a boolean";
    else if (!json_is_string(json_object_get(t, "created_at")) || !h_match(h_jstr(t, "created_at"), ts))
        why = "created_at is not an RFC 3339 UTC timestamp";
    else if (!json_is_string(json_object_get(t, "updated_at")) || !h_match(h_jstr(t, "updated_at"), ts))
        why = "updated_at is not an RFC 3339 UTC timestamp";
    char *dump = t ? json_dumps(t, JSON_COMPACT) : NULL;
    int ok =
        h_check_at(why == NULL, file, line, "task shape: %s: %s (%s)", why ? why : "ok", dump ? dump : "null", r ? r->what : "");
    free(dump);
    return ok;
}

/* --- helpers ------------------------------------------------------------------------ */

char *h_uid(const char *prefix)
{
    unsigned char b[8];
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b)
        abort();
    close(fd);
    return h_fmt("%s-%02x%02x%02x%02x%02x%02x%02x%02x", prefix, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

char *h_repeat(const char *s, int n)
{
    size_t l = strlen(s);
    char *p = malloc(l * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(p + l * (size_t)i, s, l);
    p[l * (size_t)n] = '\0';
    return h_keep(p);
}

int64_t h_now(void)
{
    return (int64_t)time(NULL);
}

void h_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

long h_ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int h_match(const char *s, const char *re)
{
    regex_t rx;
    if (s == NULL || regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    int ok = regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

const char *h_jstr(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long h_jlen(const resp_t *r)
{
    return r && json_is_array(r->json) ? (long)json_array_size(r->json) : -1;
}

int h_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &l) != 0)
        abort();
    close(fd);
    return ntohs(a.sin_port);
}

const char *h_make_cert(void)
{
    if (cert_dir != NULL)
        return cert_dir;
    char tmpl[] = "/tmp/gw-http-cert.XXXXXX";
    if (mkdtemp(tmpl) == NULL) {
        CHECK(0, "mkdtemp: %s", strerror(errno));
        return NULL;
    }
    char *cmd = h_fmt("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s/key.pem "
                      "-out %s/cert.pem -days 1 -subj /CN=localhost >/dev/null 2>&1",
                      tmpl, tmpl);
    cert_dir = strdup(tmpl);
    if (!CHECK(system(cmd) == 0, "openssl made a self-signed certificate in %s", tmpl))
        return NULL;
    return cert_dir;
}

/* --- the gateway process ------------------------------------------------------------ */

typedef struct envlist {
    char **v;
    size_t n, cap;
} envlist_t;

static size_t name_len(const char *s)
{
    const char *eq = strchr(s, '=');
    return eq ? (size_t)(eq - s) : strlen(s);
}

static int env_find(envlist_t *e, const char *name, size_t nl)
{
    for (size_t i = 0; i < e->n; i++)
        if (name_len(e->v[i]) == nl && strncmp(e->v[i], name, nl) == 0)
            return (int)i;
    return -1;
}

static void env_set(envlist_t *e, const char *entry)
{
    size_t nl = name_len(entry);
    int i = env_find(e, entry, nl);
    if (strchr(entry, '=') == NULL) { /* unset */
        if (i >= 0) {
            free(e->v[i]);
            e->v[i] = e->v[--e->n];
        }
        return;
    }
    if (i >= 0) {
        free(e->v[i]);
        e->v[i] = strdup(entry);
        return;
    }
    if (e->n + 2 > e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = realloc(e->v, e->cap * sizeof *e->v);
    }
    e->v[e->n++] = strdup(entry);
    e->v[e->n] = NULL;
}

static const char *env_get(envlist_t *e, const char *name)
{
    int i = env_find(e, name, strlen(name));
    return i < 0 ? NULL : e->v[i] + strlen(name) + 1;
}

static void env_free(envlist_t *e)
{
    for (size_t i = 0; i < e->n; i++)
        free(e->v[i]);
    free(e->v);
}

int gw_spawn(gw_t *gw, const char *const *overrides, const char *const *argv_extra)
{
    memset(gw, 0, sizeof *gw);
    envlist_t env = {0};
    for (char **p = environ; *p != NULL; p++) {
        int ours = 0; /* a variable the gateway reads (gateway/config.c's table): not inherited */
        for (size_t i = 0; i < gw_config_vars_count && !ours; i++)
            ours = name_len(*p) == strlen(gw_config_vars[i].name) && strncmp(*p, gw_config_vars[i].name, name_len(*p)) == 0;
        if (!ours)
            env_set(&env, *p);
    }
    char buf[600];
    env_set(&env, "HOST=127.0.0.1");
    snprintf(buf, sizeof buf, "PORT=%d", h_free_port());
    env_set(&env, buf);
    snprintf(buf, sizeof buf, "DATABASE_URL=%s", getenv("TEST_DATABASE_URL"));
    env_set(&env, buf);
    env_set(&env, "BETTER_AUTH_SECRET=" H_SECRET);
    env_set(&env, "GATEWAY_THREADS=2");
    env_set(&env, "DB_POOL_SIZE=2");
    env_set(&env, "LOG_LEVEL=warn");
    size_t desc_len = 0;
    char desc[1024] = "";
    for (const char *const *o = overrides; o != NULL && *o != NULL; o++) {
        env_set(&env, *o);
        desc_len +=
            (size_t)snprintf(desc + desc_len, desc_len < sizeof desc ? sizeof desc - desc_len : 0, "%s%s", desc_len ? " " : "", *o);
        if (desc_len >= sizeof desc)
            desc_len = sizeof desc - 1;
    }
    if (env_get(&env, "TLS_CERT") != NULL && env_get(&env, "TLS_PORT") == NULL) {
        snprintf(buf, sizeof buf, "TLS_PORT=%d", h_free_port());
        env_set(&env, buf);
    }
    gw->port = atoi(env_get(&env, "PORT") ? env_get(&env, "PORT") : "0");
    gw->tls_port = env_get(&env, "TLS_CERT") && env_get(&env, "TLS_PORT") ? atoi(env_get(&env, "TLS_PORT")) : 0;
    gw->overrides_desc = h_keep(strdup(desc_len ? desc : "(defaults)"));

    strcpy(gw->log_path, "/tmp/gw-http-log.XXXXXX");
    int logfd = mkstemp(gw->log_path);
    if (logfd < 0) {
        env_free(&env);
        return CHECK(0, "mkstemp: %s", strerror(errno)), -1;
    }
    const char *args[16] = {gateway_bin};
    size_t na = 1;
    for (const char *const *a = argv_extra; a != NULL && *a != NULL && na < 15; a++)
        args[na++] = *a;
    args[na] = NULL;

    pid_t pid = fork();
    if (pid < 0) {
        close(logfd);
        env_free(&env);
        return CHECK(0, "fork: %s", strerror(errno)), -1;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        dup2(logfd, 1);
        dup2(logfd, 2);
        int nul = open("/dev/null", O_RDONLY);
        dup2(nul, 0);
        execve(gateway_bin, (char *const *)args, env.v);
        fprintf(stderr, "execve %s: %s\n", gateway_bin, strerror(errno));
        _exit(127);
    }
    close(logfd);
    env_free(&env);
    gw->pid = pid;
    gw->running = 1;
    return 0;
}

const char *gw_output(gw_t *gw)
{
    FILE *f = fopen(gw->log_path, "r");
    if (f == NULL)
        return "";
    char *s = NULL;
    size_t n = 0;
    FILE *m = open_memstream(&s, &n);
    char buf[4096];
    size_t k;
    while ((k = fread(buf, 1, sizeof buf, f)) > 0)
        fwrite(buf, 1, k, m);
    fclose(f);
    fclose(m);
    return h_keep(s);
}

static const char *output_tail(gw_t *gw)
{
    const char *o = gw_output(gw);
    size_t n = strlen(o);
    return n > 3000 ? o + n - 3000 : o;
}

int gw_wait_exit(gw_t *gw, long timeout_ms, int *status)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (!gw->running)
        return 1;
    for (;;) {
        int st;
        pid_t p = waitpid(gw->pid, &st, WNOHANG);
        if (p == gw->pid) {
            gw->running = 0;
            if (status)
                *status = st;
            return 1;
        }
        if (h_ms_since(&t0) >= timeout_ms)
            return 0;
        h_sleep_ms(10);
    }
}

static void close_handles(gw_t *gw)
{
    for (int i = 0; i < P_COUNT; i++) {
        if (gw->easy[i] != NULL)
            curl_easy_cleanup(gw->easy[i]);
        gw->easy[i] = NULL;
    }
}

static size_t discard(char *data, size_t size, size_t n, void *ud)
{
    (void)data, (void)ud;
    return size * n;
}

/* GET /healthz on one listener until it answers 200 or the time is up. */
static int wait_healthy(gw_t *gw, proto_t p, const struct timespec *t0)
{
    CURL *h = curl_easy_init();
    char url[100];
    int ok = 0;
    snprintf(url, sizeof url, "%s://127.0.0.1:%d/healthz", p == P_H2TLS ? "https" : "http", p == P_H2TLS ? gw->tls_port : gw->port);
    while (!ok && h_ms_since(t0) < 10000) {
        int st;
        if (waitpid(gw->pid, &st, WNOHANG) == gw->pid) {
            gw->running = 0;
            CHECK(0, "the gateway (%s) exited during start-up (status %d); its output:\n%s", gw->overrides_desc,
                  WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st), output_tail(gw));
            break;
        }
        curl_easy_reset(h);
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 1000L);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
        long code = 0;
        if (curl_easy_perform(h) == CURLE_OK && curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code) == CURLE_OK && code == 200)
            ok = 1;
        if (!ok)
            h_sleep_ms(50);
    }
    curl_easy_cleanup(h);
    return ok;
}

int gw_start(gw_t *gw, const char *const *overrides)
{
    if (gw_spawn(gw, overrides, NULL) != 0)
        return -1;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int ok = wait_healthy(gw, P_H1, &t0);
    if (ok && gw->tls_port)
        ok = wait_healthy(gw, P_H2TLS, &t0);
    if (!ok) {
        if (gw->running) {
            CHECK(0, "the gateway (%s) did not answer 200 on GET /healthz within 10 s; its output:\n%s", gw->overrides_desc,
                  output_tail(gw));
            gw_kill(gw);
        }
        return -1;
    }
    if (verbose)
        printf("   gateway pid %d on port %d (%s)\n", (int)gw->pid, gw->port, gw->overrides_desc);
    return 0;
}

void gw_kill(gw_t *gw)
{
    close_handles(gw);
    if (gw->running) {
        kill(gw->pid, SIGKILL);
        gw_wait_exit(gw, 5000, NULL);
    }
    unlink(gw->log_path);
}

int gw_stop(gw_t *gw)
{
    if (!gw->running) {
        close_handles(gw);
        unlink(gw->log_path);
        return -1;
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    /* Idle keep-alive connections stay open while it shuts down, as real clients' do. */
    kill(gw->pid, SIGTERM);
    int st = 0;
    int ended = gw_wait_exit(gw, 15000, &st);
    long ms = h_ms_since(&t0);
    int ok = CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                   "the gateway (%s) exits with status 0 within 15 s of SIGTERM (%s after %ld ms)%s%s", gw->overrides_desc,
                   !ended          ? "still running"
                   : WIFEXITED(st) ? h_fmt("exit status %d", WEXITSTATUS(st))
                                   : h_fmt("killed by signal %d", WTERMSIG(st)),
                   ms, ended && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "" : "; its output:\n",
                   ended && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "" : output_tail(gw));
    if (ok && ms > 3000)
        printf("NOTE [%s] the gateway (%s) took %ld ms to exit after SIGTERM\n", section, gw->overrides_desc, ms);
    if (!ended)
        gw_kill(gw);
    close_handles(gw);
    unlink(gw->log_path);
    return ok ? 0 : -1;
}

/* --- requests ----------------------------------------------------------------------- */

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    resp_t *r = ud;
    size_t k = size * n;
    char *b = realloc(r->body, r->len + k + 1);
    if (b == NULL)
        return 0;
    memcpy(b + r->len, data, k);
    r->body = b;
    r->len += k;
    r->body[r->len] = '\0';
    return k;
}

static void free_headers(resp_t *r)
{
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    r->hdrs = NULL;
    r->nhdrs = 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    resp_t *r = ud;
    size_t k = size * n;
    if (k >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response (after 1xx or an upgrade) */
        free_headers(r);
        return k;
    }
    const char *colon = memchr(data, ':', k);
    if (colon == NULL)
        return k;
    const char *v = colon + 1, *end = data + k;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    hdr_t *h = realloc(r->hdrs, (r->nhdrs + 1) * sizeof *h);
    if (h == NULL)
        return 0;
    r->hdrs = h;
    h[r->nhdrs].name = strndup(data, (size_t)(colon - data));
    h[r->nhdrs].value = strndup(v, (size_t)(end - v));
    r->nhdrs++;
    return k;
}

typedef struct upload {
    const char *p;
    size_t left;
} upload_t;

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    upload_t *u = ud;
    size_t k = size * n;
    if (k > 700) /* several chunks */
        k = 700;
    if (k > u->left)
        k = u->left;
    memcpy(buf, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

const char *resp_header(const resp_t *r, const char *name)
{
    for (size_t i = 0; r != NULL && i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0)
            return r->hdrs[i].value;
    return NULL;
}

void resp_free(resp_t *r)
{
    if (r == NULL)
        return;
    free(r->body);
    free_headers(r);
    json_decref(r->json);
    free(r);
}

/* resp_t and its upload state in one allocation: the upload lives as long as the answer. */
typedef struct resp_box {
    resp_t r;
    upload_t up;
} resp_box_t;

resp_t *h_resp_new(void)
{
    resp_box_t *b = calloc(1, sizeof *b);
    return &b->r;
}

struct curl_slist *h_setup_easy(CURL *h, gw_t *gw, const req_t *rq, resp_t *r)
{
    int tls = rq->proto == P_H2TLS || rq->proto == P_H1TLS;
    const char *body = rq->body;
    size_t blen = body == NULL ? 0 : rq->body_len > 0 ? (size_t)rq->body_len : strlen(body);
    const char *method = rq->method ? rq->method : body ? "POST" : "GET";
    char url[4096];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", tls ? "https" : "http", tls ? gw->tls_port : gw->port, rq->path);
    snprintf(r->what, sizeof r->what, "%s %.200s%s%s (%s)", method, rq->path, rq->chunked ? " chunked" : "",
             body ? h_fmt(" [%zu-byte body]", blen) : "", h_proto_name[rq->proto]);

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms > 0 ? rq->timeout_ms : 10000L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    long version = CURL_HTTP_VERSION_1_1;
    switch (rq->proto) {
    case P_H2C:
        version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
        break;
    case P_H2TLS:
        version = CURL_HTTP_VERSION_2TLS;
        break;
    case P_UPGRADE:
        version = CURL_HTTP_VERSION_2_0;
        break;
    default:
        break;
    }
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, version);

    struct curl_slist *hl = rq->expect100 ? NULL : curl_slist_append(NULL, "Expect:");
    if (body != NULL && rq->chunked) {
        upload_t *up = &((resp_box_t *)r)->up;
        up->p = body;
        up->left = blen;
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, up);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (rq->proto == P_H1 || rq->proto == P_H1TLS)
            hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
    } else if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (rq->ctype != NULL)
        hl = curl_slist_append(hl, rq->ctype[0] ? h_fmt("Content-Type: %s", rq->ctype) : "Content-Type:");
    else if (body != NULL)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    if (rq->token != NULL)
        hl = curl_slist_append(hl, h_fmt("Authorization: Bearer %s", rq->token));
    for (const char *const *x = rq->headers; x != NULL && *x != NULL; x++)
        hl = curl_slist_append(hl, *x);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    return hl;
}

static const char *const sql_words[] = {"SELECT",   "ERROR:",   "api.", "todo.",     "PL/pgSQL",     "constraint",
                                        "SQLSTATE", "violates", "pg_",  "relation ", "syntax error", NULL};

static void check_invariants(const req_t *rq, resp_t *r)
{
    char why[600] = "";
    size_t w = 0;
#define WHY(...) (w += (size_t)snprintf(why + w, w < sizeof why ? sizeof why - w : 0, __VA_ARGS__))
    if (r->status == 0) {
        WHY("no answer (%s); ", r->err);
    } else {
        const char *rid = resp_header(r, "X-Request-Id");
        const char *ct = resp_header(r, "Content-Type");
        if (rid == NULL || rid[0] == '\0')
            WHY("no X-Request-Id; ");
        if (r->status >= 400) {
            if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
                WHY("Content-Type %s, not application/json; ", ct ? ct : "(none)");
            if (!json_is_object(r->json)) {
                WHY("the error body is not a JSON object; ");
            } else {
                const json_t *d = json_object_get(r->json, "detail");
                if (!json_is_string(json_object_get(r->json, "code")))
                    WHY("no string \"code\"; ");
                if (!json_is_string(json_object_get(r->json, "message")))
                    WHY("no string \"message\"; ");
                if (!json_is_string(d) && !json_is_array(d))
                    WHY("\"detail\" neither a string nor a list; ");
                const char *code = h_jstr(r->json, "code");
                if (r->status == 401 && code && strcmp(code, "unauthorized") == 0) {
                    const char *wa = resp_header(r, "WWW-Authenticate");
                    if (wa == NULL || strncmp(wa, "Bearer", 6) != 0)
                        WHY("401 unauthorized without WWW-Authenticate: Bearer; ");
                }
            }
            for (const char *const *s = sql_words; r->body && *s; s++)
                if (strstr(r->body, *s) != NULL)
                    WHY("the error body contains \"%s\"; ", *s);
            if (r->status == 405 && resp_header(r, "Allow") == NULL)
                WHY("405 without Allow; ");
            if (r->status == 503 && resp_header(r, "Retry-After") == NULL)
                WHY("503 without Retry-After; ");
            if (r->status >= 500 && r->status != 503 && r->status != 504)
                WHY("a %ld error; ", r->status);
        } else if (r->status == 204) {
            if (r->len != 0)
                WHY("204 with a %zu-byte body; ", r->len);
        } else if (r->status >= 200 && r->status < 300 && strcmp(rq->path, "/metrics") != 0 &&
                   !(rq->method && strcmp(rq->method, "HEAD") == 0)) {
            if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
                WHY("Content-Type %s, not application/json; ", ct ? ct : "(none)");
            if (r->json == NULL)
                WHY("the body is not JSON; ");
        }
    }
#undef WHY
    h_check_at(w == 0, "harness.c", 0, "what every answer carries: %s%s", w ? why : "ok ", resp_brief(r));
}

void h_complete(CURL *h, const req_t *rq, resp_t *r, CURLcode rc)
{
    if (rc != CURLE_OK) {
        r->status = 0;
        if (r->err[0] == '\0')
            snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    }
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &r->http_version);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->new_connects);
    if (r->body == NULL)
        r->body = calloc(1, 1);
    if (r->len > 0)
        r->json = json_loadb(r->body, r->len, JSON_DECODE_ANY, NULL);
    if (!rq->raw)
        check_invariants(rq, r);
}

int h_h2c_reuse_works(void)
{
    return curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000;
}

proto_t h_mux_proto(const gw_t *gw)
{
    return h_h2c_reuse_works() ? P_H2C : gw->tls_port ? P_H2TLS : P_UPGRADE;
}

resp_t *h_req(gw_t *gw, const req_t *rq)
{
    int fresh = rq->proto == P_H2C && !h_h2c_reuse_works();
    if (!fresh && gw->easy[rq->proto] == NULL)
        gw->easy[rq->proto] = curl_easy_init();
    CURL *h = fresh ? curl_easy_init() : gw->easy[rq->proto];
    curl_easy_reset(h);
    resp_t *r = h_resp_new();
    struct curl_slist *hl = h_setup_easy(h, gw, rq, r);
    CURLcode rc = curl_easy_perform(h);
    h_complete(h, rq, r, rc);
    curl_slist_free_all(hl);
    if (fresh)
        curl_easy_cleanup(h);
    return r;
}

resp_t *h_get(gw_t *gw, proto_t p, const char *path, const char *token)
{
    req_t rq = {.method = "GET", .path = path, .token = token, .proto = p};
    return h_req(gw, &rq);
}

resp_t *h_send(gw_t *gw, proto_t p, const char *method, const char *path, const char *token, const char *body)
{
    req_t rq = {.method = method, .path = path, .token = token, .body = body, .proto = p};
    return h_req(gw, &rq);
}

resp_t **h_multi(gw_t *gw, const req_t *reqs, size_t n, int one_connection, size_t max_active, long timeout_ms)
{
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if (one_connection) {
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
        curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 1L);
    }
    resp_t **rs = calloc(n, sizeof *rs);
    CURL **hs = calloc(n, sizeof *hs);
    struct curl_slist **hls = calloc(n, sizeof *hls);
    int *done = calloc(n, sizeof *done);
    CURLcode *codes = calloc(n, sizeof *codes);
    size_t next = 0, active = 0, finished = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (max_active == 0)
        max_active = n;
    if (one_connection && n > 0 && reqs[0].proto == P_UPGRADE) {
        /* Upgrade the one connection to h2c first: requests with a body are not upgraded. */
        CURL *w = curl_easy_init();
        resp_t *wr = h_resp_new();
        req_t wq = {.method = "GET", .path = "/healthz", .proto = P_UPGRADE, .raw = 1};
        struct curl_slist *wl = h_setup_easy(w, gw, &wq, wr);
        curl_multi_add_handle(m, w);
        int running = 1;
        while (running && h_ms_since(&t0) < timeout_ms) {
            curl_multi_perform(m, &running);
            if (running)
                curl_multi_poll(m, NULL, 0, 50, NULL);
        }
        curl_multi_remove_handle(m, w);
        curl_easy_cleanup(w);
        curl_slist_free_all(wl);
        resp_free(wr);
    }
    while (finished < n && h_ms_since(&t0) < timeout_ms) {
        while (next < n && active < max_active) {
            rs[next] = h_resp_new();
            hs[next] = curl_easy_init();
            hls[next] = h_setup_easy(hs[next], gw, &reqs[next], rs[next]);
            curl_easy_setopt(hs[next], CURLOPT_PRIVATE, (void *)(uintptr_t)next);
            curl_multi_add_handle(m, hs[next]);
            next++;
            active++;
        }
        int running;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            void *priv;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            size_t i = (size_t)(uintptr_t)priv;
            done[i] = 1;
            codes[i] = msg->data.result;
            curl_multi_remove_handle(m, msg->easy_handle);
            active--;
            finished++;
        }
        if (finished < n)
            curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (rs[i] == NULL) { /* never started: out of time */
            rs[i] = h_resp_new();
            snprintf(rs[i]->what, sizeof rs[i]->what, "%s %.200s (%s)", reqs[i].method ? reqs[i].method : "GET", reqs[i].path,
                     h_proto_name[reqs[i].proto]);
            snprintf(rs[i]->err, sizeof rs[i]->err, "not started within %ld ms", timeout_ms);
            rs[i]->body = calloc(1, 1);
            if (!reqs[i].raw)
                check_invariants(&reqs[i], rs[i]);
            continue;
        }
        if (!done[i]) {
            curl_multi_remove_handle(m, hs[i]);
            snprintf(rs[i]->err, sizeof rs[i]->err, "not finished within %ld ms", timeout_ms);
            codes[i] = CURLE_OPERATION_TIMEDOUT;
        }
        h_complete(hs[i], &reqs[i], rs[i], codes[i]);
        curl_easy_cleanup(hs[i]);
        curl_slist_free_all(hls[i]);
    }
    curl_multi_cleanup(m);
    free(hs);
    free(hls);
    free(done);
    free(codes);
    return rs;
}

int h_tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

const char *h_raw_exchange(int port, const char *data, size_t len, long timeout_ms)
{
    int fd = h_tcp_connect(port);
    if (fd < 0)
        return h_fmt("(connect failed: %s)", strerror(errno));
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t off = 0;
    while (off < len) {
        ssize_t k = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    char *buf = malloc(65536 + 1);
    size_t n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (n < 65536 && h_ms_since(&t0) < timeout_ms) {
        ssize_t k = recv(fd, buf + n, 65536 - n, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    buf[n] = '\0';
    close(fd);
    return h_keep(buf);
}

/* --- tokens ------------------------------------------------------------------------- */

char *b64url_encode(const unsigned char *data, size_t len)
{
    static const char al[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = malloc(len * 4 / 3 + 4), *o = out;
    size_t i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8 | data[i + 2];
        *o++ = al[v >> 18 & 63];
        *o++ = al[v >> 12 & 63];
        *o++ = al[v >> 6 & 63];
        *o++ = al[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)data[i] << 16;
        *o++ = al[v >> 18 & 63];
        *o++ = al[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)data[i] << 16 | (unsigned)data[i + 1] << 8;
        *o++ = al[v >> 18 & 63];
        *o++ = al[v >> 12 & 63];
        *o++ = al[v >> 6 & 63];
    }
    *o = '\0';
    return h_keep(out);
}

static unsigned char *b64url_decode(const char *s, size_t len, size_t *outlen)
{
    unsigned char *out = malloc(len * 3 / 4 + 3);
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int c = (unsigned char)s[i], v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '-' || c == '+')
            v = 62;
        else if (c == '_' || c == '/')
            v = 63;
        else if (c == '=')
            break;
        else {
            free(out);
            return NULL;
        }
        acc = acc << 6 | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = (unsigned char)(acc >> bits & 0xff);
        }
    }
    *outlen = n;
    return out;
}

static json_t *tok_part(const char *token, int part)
{
    if (token == NULL)
        return NULL;
    const char *a = token, *b;
    for (int i = 0; i < part; i++) {
        a = strchr(a, '.');
        if (a == NULL)
            return NULL;
        a++;
    }
    b = strchr(a, '.');
    if (b == NULL)
        b = a + strlen(a);
    size_t n;
    unsigned char *raw = b64url_decode(a, (size_t)(b - a), &n);
    if (raw == NULL)
        return NULL;
    json_t *j = json_loadb((const char *)raw, n, 0, NULL);
    free(raw);
    return j;
}

json_t *tok_payload(const char *token)
{
    return tok_part(token, 1);
}

json_t *tok_header(const char *token)
{
    return tok_part(token, 0);
}

char *tok_craft(const char *header_json, const char *payload_json, const char *hmac, const char *key)
{
    char *h = b64url_encode((const unsigned char *)header_json, strlen(header_json));
    char *p = b64url_encode((const unsigned char *)payload_json, strlen(payload_json));
    char *input = h_fmt("%s.%s", h, p);
    const char *sig = "";
    if (hmac != NULL) {
        const EVP_MD *md = strcmp(hmac, "sha384") == 0 ? EVP_sha384() : strcmp(hmac, "sha512") == 0 ? EVP_sha512() : EVP_sha256();
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        HMAC(md, key, (int)strlen(key), (const unsigned char *)input, strlen(input), mac, &maclen);
        sig = b64url_encode(mac, maclen);
    }
    return h_fmt("%s.%s", input, sig);
}

char *tok_user(const char *sub)
{
    jwt_t *j = NULL;
    if (jwt_new(&j) != 0)
        abort();
    int64_t now = h_now();
    jwt_add_grant(j, "sub", sub);
    jwt_add_grant_int(j, "iat", (long)now);
    jwt_add_grant_int(j, "exp", (long)(now + 3600));
    jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)H_SECRET, (int)strlen(H_SECRET));
    char *s = jwt_encode_str(j);
    jwt_free(j);
    if (s == NULL)
        abort();
    return h_keep(s);
}

/* --- the core flow ------------------------------------------------------------------ */

void h_flow_crud(gw_t *gw, proto_t p, long want)
{
    const char *user = h_uid("flow");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    resp_t *r;
    long n_version_ok = 0, n = 0;
#define SEEN(r) (n++, n_version_ok += (r)->http_version == want)

    r = h_get(gw, p, base, tok);
    SEEN(r);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 0, "a new user's list is []: %s", resp_brief(r)));
    resp_free(r);

    r = h_send(gw, p, "POST", base, tok, "{\"title\": \"  Flow task  \", \"description\": \"first\"}");
    SEEN(r);
    long long id = 0;
    char *created = NULL;
    if (EXPECT_STATUS(r, 201) && EXPECT_TASK(r, r->json, user)) {
        id = json_integer_value(json_object_get(r->json, "id"));
        EXPECT_JSTR(r, r->json, "title", "Flow task");
        EXPECT_JSTR(r, r->json, "description", "first");
        CHECK(json_is_false(json_object_get(r->json, "completed")), "a new task is not completed: %s", resp_brief(r));
        EXPECT_HEADER(r, "Location", h_fmt("%s/%lld", base, id));
        created = json_dumps(r->json, JSON_COMPACT | JSON_SORT_KEYS);
    }
    resp_free(r);
    if (id == 0)
        return;
    const char *item = h_fmt("%s/%lld", base, id);

    r = h_get(gw, p, item, tok);
    SEEN(r);
    if (EXPECT_STATUS(r, 200)) {
        char *got = json_dumps(r->json, JSON_COMPACT | JSON_SORT_KEYS);
        CHECK(got && created && strcmp(got, created) == 0, "GET returns the task POST returned: %s vs %s", got, created);
        free(got);
    }
    free(created);
    resp_free(r);

    r = h_send(gw, p, "PUT", item, tok, "{\"title\": \"Flow task 2\"}");
    SEEN(r);
    if (EXPECT_STATUS(r, 200) && EXPECT_TASK(r, r->json, user)) {
        EXPECT_JSTR(r, r->json, "title", "Flow task 2");
        EXPECT_JSTR(r, r->json, "description", NULL);
    }
    resp_free(r);

    r = h_send(gw, p, "PATCH", item, tok, "{\"description\": \"patched\"}");
    SEEN(r);
    if (EXPECT_STATUS(r, 200)) {
        EXPECT_JSTR(r, r->json, "title", "Flow task 2");
        EXPECT_JSTR(r, r->json, "description", "patched");
    }
    resp_free(r);

    r = h_send(gw, p, "PATCH", h_fmt("%s/complete", item), tok, NULL);
    SEEN(r);
    (void)(EXPECT_STATUS(r, 200) &&
           CHECK(json_is_true(json_object_get(r->json, "completed")), "complete with no body toggles to true: %s", resp_brief(r)));
    resp_free(r);

    r = h_send(gw, p, "PATCH", h_fmt("%s/complete", item), tok, "{\"completed\": false}");
    SEEN(r);
    (void)(EXPECT_STATUS(r, 200) && CHECK(json_is_false(json_object_get(r->json, "completed")),
                                          "complete with {\"completed\": false} sets false: %s", resp_brief(r)));
    resp_free(r);

    r = h_get(gw, p, base, tok);
    SEEN(r);
    (void)(EXPECT_STATUS(r, 200) &&
           CHECK(h_jlen(r) == 1 && json_integer_value(json_object_get(json_array_get(r->json, 0), "id")) == id,
                 "the list holds the one task: %s", resp_brief(r)));
    resp_free(r);

    r = h_send(gw, p, "DELETE", item, tok, NULL);
    SEEN(r);
    EXPECT_STATUS(r, 204);
    resp_free(r);

    r = h_get(gw, p, item, tok);
    SEEN(r);
    EXPECT_ERROR(r, 404, "not_found");
    resp_free(r);

    r = h_get(gw, p, base, tok);
    SEEN(r);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 0, "the list is empty after DELETE: %s", resp_brief(r)));
    resp_free(r);
#undef SEEN
    CHECK(n_version_ok == n, "all %ld answers of the flow came over HTTP version %s (%ld did)", n,
          want == CURL_HTTP_VERSION_2_0 ? "2" : "1.1", n_version_ok);
}
