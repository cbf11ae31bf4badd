/* test_lifecycle: the process. --version and --help; a missing or malformed setting stops
 * start-up with a message naming the variable; a port in use is an error, not a hang;
 * /healthz and /readyz once up; SIGTERM is a graceful shutdown (exit status 0) that lets
 * an in-flight request finish, and that SHUTDOWN_TIMEOUT bounds (the request cut there was
 * sent to the database: 502 outcome_unknown, it may have run). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pgadmin.h"

#ifndef EXPECTED_VERSION
#define EXPECTED_VERSION "0.0.0"
#endif

static void test_cli(void)
{
    gateway_t g;
    int st = 0;
    h_section("--version");
    const char *const v[] = {"--version", NULL};
    if (gateway_spawn(&g, NULL, v) == 0) {
        int ended = gateway_wait_exit(&g, 5000, &st);
        const char *out = gateway_output(&g);
        CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 0, "--version exits 0");
        CHECK(strcmp(out, "todo-gateway " EXPECTED_VERSION "\n") == 0, "--version prints \"todo-gateway %s\", got \"%s\"",
              EXPECTED_VERSION, out);
        gateway_kill(&g);
    }
    h_section("--help");
    const char *const hlp[] = {"--help", NULL};
    if (gateway_spawn(&g, NULL, hlp) == 0) {
        int ended = gateway_wait_exit(&g, 5000, &st);
        const char *out = gateway_output(&g);
        CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 0, "--help exits 0");
        static const char *const vars[] = {"BETTER_AUTH_SECRET", "DATABASE_URL", "PORT",    "TLS_CERT",
                                           "MAX_BODY",           "CORS_ORIGINS", "JWT_TTL", "DB_POOL_SIZE"};
        for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
            CHECK(strstr(out, vars[i]) != NULL, "--help describes %s", vars[i]);
        gateway_kill(&g);
    }
    h_section("an unknown option");
    const char *const bad[] = {"--frobnicate", NULL};
    if (gateway_spawn(&g, NULL, bad) == 0) {
        int ended = gateway_wait_exit(&g, 5000, &st);
        CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) != 0, "an unknown option exits non-zero (%s)",
              ended ? "ended" : "still running");
        gateway_kill(&g);
    }
}

static void test_bad_config(void)
{
    static const struct {
        const char *env[4];   /* NULL-terminated */
        const char *names[2]; /* the message names one of these */
    } cases[] = {
        {{"PORT=abc"}, {"PORT"}},
        {{"PORT=12abc"}, {"PORT"}},
        {{"PORT=70000"}, {"PORT"}},
        {{"PORT=-1"}, {"PORT"}},
        {{"BETTER_AUTH_SECRET"}, {"BETTER_AUTH_SECRET"}},
        {{"BETTER_AUTH_SECRET="}, {"BETTER_AUTH_SECRET"}},
        {{"GATEWAY_THREADS=abc"}, {"GATEWAY_THREADS"}},
        {{"GATEWAY_THREADS=-2"}, {"GATEWAY_THREADS"}},
        {{"DB_POOL_SIZE=0"}, {"DB_POOL_SIZE"}},
        {{"DB_POOL_SIZE=65"}, {"DB_POOL_SIZE"}},
        {{"DB_POOL_SIZE=two"}, {"DB_POOL_SIZE"}},
        {{"DB_QUEUE_MAX=-5"}, {"DB_QUEUE_MAX"}},
        {{"DB_STATEMENT_TIMEOUT=soon"}, {"DB_STATEMENT_TIMEOUT"}},
        {{"DB_PREPARED=maybe"}, {"DB_PREPARED"}},
        {{"MAX_BODY=lots"}, {"MAX_BODY"}},
        {{"MAX_BODY=-1"}, {"MAX_BODY"}},
        {{"ACCOUNTS=maybe"}, {"ACCOUNTS"}},
        {{"LOG_LEVEL=loud"}, {"LOG_LEVEL"}},
        {{"JWT_TTL=forever"}, {"JWT_TTL"}},
        {{"JWT_LEEWAY=x"}, {"JWT_LEEWAY"}},
        {{"SHUTDOWN_TIMEOUT=x"}, {"SHUTDOWN_TIMEOUT"}},
        {{"TLS_CERT=/nonexistent/cert.pem"}, {"TLS_KEY", "TLS_CERT"}},
        {{"TLS_KEY=/nonexistent/key.pem"}, {"TLS_CERT", "TLS_KEY"}},
        {{"TLS_CERT=/nonexistent/cert.pem", "TLS_KEY=/nonexistent/key.pem"}, {"TLS_CERT", "/nonexistent/cert.pem"}},
        {{"TLS_PORT=notaport", "TLS_CERT=/x", "TLS_KEY=/y"}, {"TLS_PORT", "TLS_CERT"}},
    };
    h_section("bad configuration stops start-up, naming the variable");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        gateway_t g;
        if (gateway_spawn(&g, cases[i].env, NULL) != 0)
            continue;
        int st = 0;
        int ended = gateway_wait_exit(&g, 5000, &st);
        const char *out = gateway_output(&g);
        const char *desc = h_fmt("%s%s%s", cases[i].env[0], cases[i].env[1] ? " " : "", cases[i].env[1] ? cases[i].env[1] : "");
        if (CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) != 0, "%s: start-up fails with a non-zero exit (%s)", desc,
                  !ended          ? "still running after 5 s"
                  : WIFEXITED(st) ? h_fmt("exit %d", WEXITSTATUS(st))
                                  : "killed by a signal"))
            CHECK(strstr(out, cases[i].names[0]) != NULL || (cases[i].names[1] && strstr(out, cases[i].names[1]) != NULL),
                  "%s: the message names %s: \"%.300s\"", desc, cases[i].names[0], out);
        gateway_kill(&g);
    }

    h_section("a port already in use");
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && listen(fd, 1) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &l) == 0) {
        gateway_t g;
        const char *const env[] = {h_fmt("PORT=%d", ntohs(a.sin_port)), NULL};
        if (gateway_spawn(&g, env, NULL) == 0) {
            int st = 0;
            int ended = gateway_wait_exit(&g, 5000, &st);
            CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) != 0, "a PORT in use makes start-up fail (%s): %.200s",
                  ended ? "ended" : "still running after 5 s", gateway_output(&g));
            gateway_kill(&g);
        }
    }
    if (fd >= 0)
        close(fd);

    /* With a stack limit so large that no thread's stack can be mapped (glibc sizes thread
     * stacks by RLIMIT_STACK), every pthread_create fails: start-up must say so and exit 1,
     * not run with no thread. The gateway inherits the limit; this process has it only while
     * it forks the gateway. */
    h_section("a thread that cannot start fails start-up");
    struct rlimit saved, huge;
    if (CHECK(getrlimit(RLIMIT_STACK, &saved) == 0, "getrlimit")) {
        huge = (struct rlimit){.rlim_cur = (rlim_t)1 << 46, .rlim_max = saved.rlim_max};
        if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < huge.rlim_cur)
            huge.rlim_cur = saved.rlim_max;
        gateway_t g;
        int spawned = setrlimit(RLIMIT_STACK, &huge) == 0 && gateway_spawn(&g, NULL, NULL) == 0;
        setrlimit(RLIMIT_STACK, &saved);
        if (CHECK(spawned, "the gateway is spawned with RLIMIT_STACK of 64 TiB")) {
            int st = 0;
            int ended = gateway_wait_exit(&g, 5000, &st);
            const char *out = gateway_output(&g);
            CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 1, "start-up fails with exit 1 (%s)",
                  !ended          ? "still running after 5 s"
                  : WIFEXITED(st) ? h_fmt("exit %d", WEXITSTATUS(st))
                                  : "killed by a signal");
            CHECK(h_match(out, "cannot start thread 1 of [0-9]+") && strstr(out, "start-up failed") != NULL,
                  "the log says which thread could not start: %.300s", out);
            gateway_kill(&g);
        }
    }
}

static void test_health(void)
{
    gateway_t g;
    h_section("start, /healthz, /readyz, stop");
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (gateway_start(&g, NULL) != 0)
        return;
    CHECK(h_ms_since(&t0) < 5000, "the gateway answers /healthz within 5 s of starting (%ld ms)", h_ms_since(&t0));
    for (proto_t p = P_H1; p <= P_H2C; p++) {
        resp_t *r = h_get(&g, p, "/healthz", NULL);
        EXPECT_STATUS(r, 200);
        resp_free(r);
        r = h_get(&g, p, "/readyz", NULL);
        EXPECT_STATUS(r, 200);
        resp_free(r);
    }
    /* A little traffic on both protocols, so that idle keep-alive connections are open at SIGTERM. */
    const char *user = h_uid("life");
    resp_t *r = h_send(&g, P_H2C, "POST", h_fmt("/api/%s/tasks", user), tok_user(user), "{\"title\": \"x\"}");
    EXPECT_STATUS(r, 201);
    resp_free(r);
    pid_t pid = g.pid;
    int port = g.port;
    gateway_stop(&g);
    CHECK(kill(pid, 0) != 0, "the process is gone after the stop");
    int fd = h_tcp_connect(port);
    CHECK(fd < 0, "nothing listens on the port any more");
    if (fd >= 0)
        close(fd);
}

/* Starts one request on a multi handle and drives it for ms milliseconds. */
typedef struct inflight {
    CURLM *m;
    CURL *h;
    struct curl_slist *hl;
    resp_t *r;
    req_t rq;
    int done;
    CURLcode rc;
} inflight_t;

static void drive(inflight_t *f, long ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!f->done && h_ms_since(&t0) < ms) {
        int running;
        curl_multi_perform(f->m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(f->m, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE) {
                f->done = 1;
                f->rc = msg->data.result;
            }
        if (!f->done)
            curl_multi_poll(f->m, NULL, 0, 20, NULL);
    }
}

static void inflight_start(inflight_t *f, gateway_t *g, const char *path, const char *token)
{
    memset(f, 0, sizeof *f);
    f->rq = (req_t){.method = "GET", .path = path, .token = token, .proto = P_H1, .timeout_ms = 20000, .raw = 1};
    f->m = curl_multi_init();
    f->h = curl_easy_init();
    f->r = h_resp_new();
    f->hl = h_setup_easy(f->h, g, &f->rq, f->r);
    curl_multi_add_handle(f->m, f->h);
    drive(f, 300);
}

static resp_t *inflight_end(inflight_t *f)
{
    curl_multi_remove_handle(f->m, f->h);
    h_complete(f->h, &f->rq, f->r, f->done ? f->rc : CURLE_OPERATION_TIMEDOUT);
    curl_easy_cleanup(f->h);
    curl_slist_free_all(f->hl);
    curl_multi_cleanup(f->m);
    return f->r;
}

static void test_graceful(void)
{
    PGconn *db = pg_admin();
    if (db == NULL)
        return;
    gateway_t g;
    h_section("SIGTERM lets an in-flight request finish");
    if (gateway_start(&g, NULL) == 0) {
        const char *user = h_uid("graceful");
        const char *tok = tok_user(user);
        const char *path = h_fmt("/api/%s/tasks", user);
        pg_run(db, "begin", NULL, NULL);
        pg_run(db, "lock table todo.tasks in access exclusive mode", NULL, NULL);
        inflight_t f;
        inflight_start(&f, &g, path, tok);
        CHECK(!f.done, "the request waits on the locked table");
        kill(g.pid, SIGTERM);
        drive(&f, 500);
        CHECK(!f.done, "the in-flight request is not cut off by SIGTERM");
        pg_run(db, "rollback", NULL, NULL);
        drive(&f, 10000);
        resp_t *r = inflight_end(&f);
        CHECK(r->status == 200 && h_jlen(r) == 0, "the in-flight request completes with 200 after SIGTERM: %s", resp_brief(r));
        resp_free(r);
        int st = 0;
        int ended = gateway_wait_exit(&g, 15000, &st);
        CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 0, "then the gateway exits 0 (%s): %s",
              ended ? (WIFEXITED(st) ? h_fmt("exit %d", WEXITSTATUS(st)) : "signal") : "still running", gateway_output(&g));
        gateway_kill(&g);
    }

    h_section("SHUTDOWN_TIMEOUT=1 bounds the wait for a stuck request");
    const char *const env[] = {"SHUTDOWN_TIMEOUT=1", "DB_STATEMENT_TIMEOUT=0", NULL};
    if (gateway_start(&g, env) == 0) {
        const char *user = h_uid("stuck");
        pg_run(db, "begin", NULL, NULL);
        pg_run(db, "lock table todo.tasks in access exclusive mode", NULL, NULL);
        inflight_t f;
        inflight_start(&f, &g, h_fmt("/api/%s/tasks", user), tok_user(user));
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        kill(g.pid, SIGTERM);
        int st = 0;
        int ended = 0;
        while (!ended && h_ms_since(&t0) < 15000) {
            drive(&f, 50);
            ended = gateway_wait_exit(&g, 0, &st);
        }
        long ms = h_ms_since(&t0);
        CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 0 && ms < 6000,
              "with a request stuck, the gateway still exits 0 soon after SHUTDOWN_TIMEOUT (%s after %ld ms)",
              ended ? (WIFEXITED(st) ? h_fmt("exit %d", WEXITSTATUS(st)) : "signal") : "still running", ms);
        pg_run(db, "rollback", NULL, NULL);
        drive(&f, 2000);
        resp_t *r = inflight_end(&f);
        const char *code = h_jstr(r->json, "code");
        CHECK(r->status == 502 && code && strcmp(code, "outcome_unknown") == 0 && resp_header(r, "Retry-After") == NULL,
              "the stuck request, sent to the database, gets 502 outcome_unknown without Retry-After: %s", resp_brief(r));
        resp_free(r);
        gateway_kill(&g);
    }
    PQfinish(db);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_lifecycle");
    test_cli();
    test_bad_config();
    test_health();
    test_graceful();
    return h_finish();
}
