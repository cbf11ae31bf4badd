/* gateway.c: the gateway process: its environment, start, readiness, output and stop (see harness.h). */
#define _GNU_SOURCE
#include "harness_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "config.h" /* the table of the gateway's variables, to clear them */

extern char **environ;

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

int gateway_spawn(gateway_t *gw, const char *const *overrides, const char *const *argv_extra)
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
    /* TEST_GATEWAY_ENV: NAME=value settings for every gateway of the run, space-separated
     * (tests/http/via-pgbouncer sets DB_PREPARED=off); the test's own overrides come after. */
    const char *extra = getenv("TEST_GATEWAY_ENV");
    for (const char *p = extra; p != NULL && *p != '\0';) {
        size_t n = strcspn(p, " ");
        if (n > 0 && n < sizeof buf) {
            snprintf(buf, sizeof buf, "%.*s", (int)n, p);
            env_set(&env, buf);
        }
        p += n + strspn(p + n, " ");
    }
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
    const char *args[16] = {h_gateway_bin};
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
        execve(h_gateway_bin, (char *const *)args, env.v);
        fprintf(stderr, "execve %s: %s\n", h_gateway_bin, strerror(errno));
        _exit(127);
    }
    close(logfd);
    env_free(&env);
    gw->pid = pid;
    gw->running = 1;
    return 0;
}

const char *gateway_output(gateway_t *gw)
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

static const char *output_tail(gateway_t *gw)
{
    const char *o = gateway_output(gw);
    size_t n = strlen(o);
    return n > 3000 ? o + n - 3000 : o;
}

int gateway_wait_exit(gateway_t *gw, long timeout_ms, int *status)
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

static void close_handles(gateway_t *gw)
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
static int wait_healthy(gateway_t *gw, proto_t p, const struct timespec *t0)
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

int gateway_start(gateway_t *gw, const char *const *overrides)
{
    if (gateway_spawn(gw, overrides, NULL) != 0)
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
            gateway_kill(gw);
        }
        return -1;
    }
    if (h_verbose)
        printf("# gateway pid %d on port %d (%s)\n", (int)gw->pid, gw->port, gw->overrides_desc);
    return 0;
}

void gateway_kill(gateway_t *gw)
{
    close_handles(gw);
    if (gw->running) {
        kill(gw->pid, SIGKILL);
        gateway_wait_exit(gw, 5000, NULL);
    }
    unlink(gw->log_path);
}

int gateway_stop(gateway_t *gw)
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
    int ended = gateway_wait_exit(gw, 15000, &st);
    long ms = h_ms_since(&t0);
    int ok = CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 0,
                   "the gateway (%s) exits with status 0 within 15 s of SIGTERM (%s after %ld ms)%s%s", gw->overrides_desc,
                   !ended          ? "still running"
                   : WIFEXITED(st) ? h_fmt("exit status %d", WEXITSTATUS(st))
                                   : h_fmt("killed by signal %d", WTERMSIG(st)),
                   ms, ended && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "" : "; its output:\n",
                   ended && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "" : output_tail(gw));
    if (ok && ms > 3000)
        printf("# NOTE [%s] the gateway (%s) took %ld ms to exit after SIGTERM\n", h_section_name(), gw->overrides_desc, ms);
    if (!ended)
        gateway_kill(gw);
    close_handles(gw);
    unlink(gw->log_path);
    return ok ? 0 : -1;
}

int gateway_wait_db(gateway_t *gw, int connections, long timeout_ms)
{
    struct timespec t0;
    const char *want = h_fmt("\ntodo_gateway_db_connections %d\n", connections);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        req_t rq = {.path = "/metrics", .proto = P_H1, .raw = 1};
        resp_t *r = h_req(gw, &rq);
        int up = r->status == 200 && r->body != NULL && strstr(r->body, want) != NULL;
        resp_free(r);
        if (up)
            return 1;
        if (h_ms_since(&t0) >= timeout_ms)
            return 0;
        h_sleep_ms(50);
    }
}

int gateway_wait_idle(gateway_t *gw, long timeout_ms)
{
    static const char ask[] = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        const char *m = h_raw_exchange(gw->port, ask, sizeof ask - 1, 5000);
        if (m != NULL && strstr(m, "\ntodo_gateway_connections 1\n") != NULL)
            return 1;
        if (h_ms_since(&t0) >= timeout_ms)
            return 0;
        h_sleep_ms(50);
    }
}
