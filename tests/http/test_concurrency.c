/* test_concurrency: many requests at once. 120 streams multiplexed on one HTTP/2
 * connection all succeed and all land; on a gateway with one thread and one database
 * connection (every request pipelined on it), 400 interleaved requests of two users
 * (create, list, get, invalid create, get of the other's task) each get an answer that
 * belongs to the requester, and the counts are exact; clients that hang up mid-request,
 * mid-query (HTTP/1.1 sockets closed, HTTP/2 streams reset), or dribble partial requests
 * do not stop the gateway from serving, nor from shutting down cleanly. With
 * HTTP2_MAX_CONCURRENT_REQUESTS=3, of 20 streams opened at once on one connection only 3 are
 * served at once (the database queue never holds more of them), and all are answered. With
 * two threads, 8 keep-alive connections opened one after the other are served 4 by each
 * thread, whichever thread the kernel woke to accept them. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "h2raw.h"
#include "harness.h"
#include "pgadmin.h"

static int starts_with(const char *s, const char *prefix)
{
    return s != NULL && strncmp(s, prefix, strlen(prefix)) == 0;
}

static void test_many_streams(gateway_t *g, proto_t proto)
{
    enum { N = 120 };
    h_section("%d concurrent streams on one HTTP/2 connection (%s)", N, h_proto_name[proto]);
    const char *user = h_uid("streams");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    req_t rqs[N];
    for (int i = 0; i < N; i++)
        rqs[i] = (req_t){.method = "POST",
                         .path = base,
                         .token = tok,
                         .proto = proto,
                         .body = h_fmt("{\"title\": \"stream %d\"}", i),
                         .timeout_ms = 30000};
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    resp_t **rs = h_multi(g, rqs, N, 1, 0, 30000);
    long ms = h_ms_since(&t0);
    int created = 0, h2 = 0;
    long connects = 0;
    const resp_t *bad = NULL;
    for (int i = 0; i < N; i++) {
        if (rs[i]->status == 201 && json_is_object(rs[i]->json) && h_jstr(rs[i]->json, "title") &&
            strcmp(h_jstr(rs[i]->json, "title"), h_fmt("stream %d", i)) == 0 && h_jstr(rs[i]->json, "user_id") &&
            strcmp(h_jstr(rs[i]->json, "user_id"), user) == 0)
            created++;
        else if (bad == NULL)
            bad = rs[i];
        h2 += rs[i]->http_version == CURL_HTTP_VERSION_2_0;
        connects += rs[i]->new_connects;
    }
    CHECK(created == N, "all %d creates answered 201 with their own task (%d did, in %ld ms)%s%s", N, created, ms,
          bad ? "; e.g. " : "", bad ? resp_brief(bad) : "");
    CHECK(h2 == N, "all %d came over HTTP/2 (%d did)", N, h2);
    CHECK(connects == 1 || (proto == P_UPGRADE && connects == 0), "all %d shared one connection (%ld new connections made)", N,
          connects);
    for (int i = 0; i < N; i++)
        resp_free(rs[i]);
    free(rs);

    resp_t *r = h_get(g, P_H2C, base, tok);
    if (EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == N, "the list holds the %d tasks: %ld", N, h_jlen(r))) {
        char seen[N] = {0};
        size_t k;
        json_t *t;
        int ok = 1;
        json_array_foreach(r->json, k, t)
        {
            int n = -1;
            if (h_jstr(t, "title") && sscanf(h_jstr(t, "title"), "stream %d", &n) == 1 && n >= 0 && n < N && !seen[n])
                seen[n] = 1;
            else
                ok = 0;
        }
        CHECK(ok, "each of the %d titles is there once", N);
    }
    resp_free(r);
}

enum { K_CREATE, K_LIST, K_GET, K_INVALID, K_OTHERS, K_REVOKED, K_COUNT };
static const char *const kind_name[K_COUNT] = {"create",         "list", "get", "invalid create", "get of the other's task",
                                               "revoked token's"};

/* Checks one answer of the interleaved batch; returns NULL when right, else why. */
static const char *judge(int kind, const resp_t *r, const char *user, long long want_id)
{
    switch (kind) {
    case K_CREATE:
        if (r->status != 201 || !starts_with(h_jstr(r->json, "user_id"), user) || strcmp(h_jstr(r->json, "user_id"), user) != 0 ||
            !starts_with(h_jstr(r->json, "title"), user))
            return "a create must answer 201 with the requester's task";
        return NULL;
    case K_LIST: {
        if (r->status != 200 || !json_is_array(r->json))
            return "a list must answer 200 with an array";
        size_t i;
        json_t *t;
        json_array_foreach(r->json, i, t) if (h_jstr(t, "user_id") == NULL || strcmp(h_jstr(t, "user_id"), user) != 0 ||
                                              !starts_with(h_jstr(t, "title"), user)) return "a list holds another user's task";
        return NULL;
    }
    case K_GET:
        if (r->status != 200 || h_jstr(r->json, "user_id") == NULL || strcmp(h_jstr(r->json, "user_id"), user) != 0 ||
            json_integer_value(json_object_get(r->json, "id")) != want_id)
            return "a get must answer 200 with the requested task of the requester";
        return NULL;
    case K_INVALID:
        if (r->status != 422 || !h_jstr(r->json, "code") || strcmp(h_jstr(r->json, "code"), "validation_failed") != 0)
            return "an invalid create must answer 422 validation_failed";
        return NULL;
    case K_OTHERS:
        if (r->status != 404 || !h_jstr(r->json, "code") || strcmp(h_jstr(r->json, "code"), "not_found") != 0)
            return "a get of the other's task must answer 404 not_found";
        return NULL;
    default:
        if (r->status != 401 || !h_jstr(r->json, "code") || strcmp(h_jstr(r->json, "code"), "unauthorized") != 0)
            return "a request with a revoked token must answer 401 unauthorized";
        return NULL;
    }
}

static void test_no_user_leak(gateway_t *g, PGconn *db)
{
    enum { N = 400, SEED = 3 };
    h_section("one thread, one database connection: %d interleaved requests of two users", N);
    const char *users[2] = {h_uid("leak-a"), h_uid("leak-b")};
    const char *toks[2] = {tok_user(users[0]), tok_user(users[1])};
    const char *bases[2] = {h_fmt("/api/%s/tasks", users[0]), h_fmt("/api/%s/tasks", users[1])};
    long long ids[2][SEED] = {{0}};
    for (int u = 0; u < 2; u++)
        for (int k = 0; k < SEED; k++) {
            resp_t *r = h_send(g, P_H1, "POST", bases[u], toks[u], h_fmt("{\"title\": \"%s seed %d\"}", users[u], k));
            if (EXPECT_STATUS(r, 201))
                ids[u][k] = json_integer_value(json_object_get(r->json, "id"));
            resp_free(r);
        }
    /* A third user whose tokens were all revoked (as by a logout): api.begin_request refuses them. */
    const char *revoked = h_uid("leak-revoked");
    pg_run(db, "insert into todo.revocations (user_id, tokens_valid_after) values ($1, now())", revoked, NULL);
    const char *revoked_tok =
        tok_craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", h_fmt("{\"sub\":\"%s\",\"exp\":%lld}", revoked, (long long)h_now() + 3600),
                  "sha256", H_SECRET);
    req_t *rqs = calloc(N, sizeof *rqs);
    int *kinds = calloc(N, sizeof *kinds);
    long long *want = calloc(N, sizeof *want);
    for (int i = 0; i < N; i++) {
        int u = i % 2, kind = (i / 2) % K_COUNT;
        kinds[i] = kind;
        rqs[i] = (req_t){.token = toks[u], .proto = i < 300 ? h_mux_proto(g) : P_H1, .timeout_ms = 30000, .raw = 1};
        switch (kind) {
        case K_CREATE:
            rqs[i].method = "POST";
            rqs[i].path = bases[u];
            rqs[i].body = h_fmt("{\"title\": \"%s req %d\", \"description\": \"for %s\"}", users[u], i, users[u]);
            break;
        case K_LIST:
            rqs[i].method = "GET";
            rqs[i].path = bases[u];
            break;
        case K_GET:
            want[i] = ids[u][(i / 10) % SEED];
            rqs[i].method = "GET";
            rqs[i].path = h_fmt("%s/%lld", bases[u], want[i]);
            break;
        case K_INVALID:
            rqs[i].method = "POST";
            rqs[i].path = bases[u];
            rqs[i].body = "{\"title\": \"   \"}";
            break;
        case K_OTHERS:
            rqs[i].method = "GET";
            rqs[i].path = h_fmt("%s/%lld", bases[u], ids[1 - u][(i / 10) % SEED]);
            break;
        default:
            rqs[i].token = revoked_tok;
            rqs[i].method = i % 4 < 2 ? "GET" : "POST";
            rqs[i].path = h_fmt("/api/%s/tasks", revoked);
            rqs[i].body = i % 4 < 2 ? NULL : "{\"title\": \"revoked\"}";
            break;
        }
    }
    /* 300 streams on one HTTP/2 connection, then 100 over several HTTP/1.1 connections at once. */
    resp_t **h2 = h_multi(g, rqs, 300, 1, 100, 30000);
    resp_t **h1 = h_multi(g, rqs + 300, N - 300, 0, 8, 30000);
    int wrong[K_COUNT] = {0}, total[K_COUNT] = {0}, creates[2] = {0};
    const char *first_wrong[K_COUNT] = {0};
    for (int i = 0; i < N; i++) {
        resp_t *r = i < 300 ? h2[i] : h1[i - 300];
        int u = i % 2;
        const char *why = judge(kinds[i], r, kinds[i] == K_REVOKED ? revoked : users[u], want[i]);
        total[kinds[i]]++;
        if (why) {
            wrong[kinds[i]]++;
            if (!first_wrong[kinds[i]])
                first_wrong[kinds[i]] = h_fmt("%s: %s (as %s)", why, resp_brief(r), users[u]);
        } else if (kinds[i] == K_CREATE) {
            creates[u]++;
        }
        resp_free(r);
    }
    free(h2);
    free(h1);
    for (int k = 0; k < K_COUNT; k++)
        CHECK(wrong[k] == 0, "every %s answer belongs to the requester and is right (%d of %d wrong)%s%s", kind_name[k], wrong[k],
              total[k], first_wrong[k] ? "; first: " : "", first_wrong[k] ? first_wrong[k] : "");
    for (int u = 0; u < 2; u++) {
        resp_t *r = h_get(g, P_H1, bases[u], toks[u]);
        long want_n = SEED + creates[u];
        (void)(EXPECT_STATUS(r, 200) &&
               CHECK(h_jlen(r) == want_n, "%s ends with exactly %ld tasks (%ld)", users[u], want_n, h_jlen(r)));
        resp_free(r);
        pg_expect_own_tasks(db, users[u], want_n);
    }
    CHECK(pg_number(db, "select count(*) from todo.tasks where user_id = $1", revoked, NULL) == 0,
          "the revoked user's POSTs stored nothing");
    free(rqs);
    free(kinds);
    free(want);
}

static void test_toggles(gateway_t *g, proto_t proto)
{
    enum { N = 50 };
    h_section("%d concurrent toggles of one task (%s)", N, h_proto_name[proto]);
    const char *user = h_uid("toggle");
    const char *tok = tok_user(user);
    resp_t *r = h_send(g, P_H1, "POST", h_fmt("/api/%s/tasks", user), tok, "{\"title\": \"flip\"}");
    long long id = EXPECT_STATUS(r, 201) ? json_integer_value(json_object_get(r->json, "id")) : 0;
    resp_free(r);
    if (id == 0)
        return;
    const char *path = h_fmt("/api/%s/tasks/%lld/complete", user, id);
    req_t rqs[N];
    for (int i = 0; i < N; i++)
        rqs[i] = (req_t){.method = "PATCH", .path = path, .token = tok, .proto = proto, .timeout_ms = 20000};
    resp_t **rs = h_multi(g, rqs, N, 1, 0, 30000);
    int ok = 0, trues = 0;
    for (int i = 0; i < N; i++) {
        ok += rs[i]->status == 200;
        trues += json_is_true(json_object_get(rs[i]->json, "completed"));
        resp_free(rs[i]);
    }
    free(rs);
    CHECK(ok == N && trues == N / 2, "%d toggles all answer 200, half of them true (%d ok, %d true): each toggle is atomic", N, ok,
          trues);
    r = h_get(g, P_H1, h_fmt("/api/%s/tasks/%lld", user, id), tok);
    (void)(EXPECT_STATUS(r, 200) && CHECK(json_is_false(json_object_get(r->json, "completed")),
                                          "after an even number of toggles the task is pending: %s", resp_brief(r)));
    resp_free(r);
}

/* Starts n HTTP/2 streams on one connection, drives them for ms, then drops them all
 * (each stream reset, then the connection closed). */
static void reset_streams(gateway_t *g, int n, const char *path, const char *token, long ms)
{
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
    CURL **hs = calloc((size_t)n, sizeof *hs);
    resp_t **rs = calloc((size_t)n, sizeof *rs);
    struct curl_slist **hl = calloc((size_t)n, sizeof *hl);
    req_t rq = {.method = "GET", .path = path, .token = token, .proto = h_mux_proto(g), .raw = 1};
    for (int i = 0; i < n; i++) {
        hs[i] = curl_easy_init();
        rs[i] = h_resp_new();
        hl[i] = h_setup_easy(hs[i], g, &rq, rs[i]);
        curl_multi_add_handle(m, hs[i]);
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (h_ms_since(&t0) < ms) {
        int running;
        curl_multi_perform(m, &running);
        curl_multi_poll(m, NULL, 0, 10, NULL);
    }
    for (int i = 0; i < n; i++) {
        curl_multi_remove_handle(m, hs[i]);
        curl_easy_cleanup(hs[i]);
        curl_slist_free_all(hl[i]);
        resp_free(rs[i]);
    }
    curl_multi_cleanup(m);
    free(hs);
    free(rs);
    free(hl);
}

static void test_disconnects(gateway_t *g, PGconn *db)
{
    const char *user = h_uid("gone");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    const char *body = "{\"title\": \"abandoned\"}";
    const char *post = h_fmt("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                             "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                             base, tok, strlen(body), body);
    const char *partial = h_fmt("POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                                "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"title\": ",
                                base, tok);
    const char *get = h_fmt("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n\r\n", base, tok);
    const char *h2_preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

    h_section("clients hanging up mid-request (HTTP/1.1 sockets)");
    const char *const sends[] = {post, partial, get, h2_preface, "GET /heal"};
    for (int i = 0; i < 200; i++) {
        const char *s = sends[i % 5];
        int fd = h_tcp_connect(g->port);
        if (fd < 0)
            continue;
        size_t len = strlen(s);
        if (i % 7 == 3)
            len /= 2;                             /* hang up in the middle of the headers */
        if (send(fd, s, len, MSG_NOSIGNAL) < 0) { /* nothing: the point is hanging up */
        }
        close(fd);
    }
    resp_t *r = h_get(g, P_H1, "/healthz", NULL);
    EXPECT_STATUS(r, 200);
    resp_free(r);
    r = h_get(g, P_H2C, base, tok);
    EXPECT_STATUS(r, 200);
    resp_free(r);

    h_section("clients hanging up while their query is in flight");
    if (db != NULL && pg_run(db, "begin", NULL, NULL) && pg_run(db, "lock table todo.tasks in access exclusive mode", NULL, NULL)) {
        int fds[40];
        for (int i = 0; i < 40; i++) {
            fds[i] = h_tcp_connect(g->port);
            const char *s = i % 2 ? get : post;
            if (fds[i] >= 0 && send(fds[i], s, strlen(s), MSG_NOSIGNAL) < 0) {
            }
        }
        h_sleep_ms(200); /* the requests reach the gateway and wait on the lock */
        for (int i = 0; i < 40; i++)
            if (fds[i] >= 0)
                close(fds[i]);
        reset_streams(g, 40, base, tok, 300); /* HTTP/2 streams reset while their queries wait */
        h_sleep_ms(100);
        pg_run(db, "rollback", NULL, NULL);
    }
    r = h_get(g, P_H2C, base, tok);
    EXPECT_STATUS(r, 200);
    resp_free(r);
    r = h_send(g, P_H1, "POST", base, tok, "{\"title\": \"after the hang-ups\"}");
    (void)(EXPECT_STATUS(r, 201) && EXPECT_JSTR(r, r->json, "user_id", user));
    resp_free(r);

    h_section("HTTP/2 streams opened and reset in bursts");
    for (int round = 0; round < 3; round++)
        reset_streams(g, 100, base, tok, 20);
    r = h_get(g, P_H2C, "/healthz", NULL);
    EXPECT_STATUS(r, 200);
    resp_free(r);

    h_section("slow clients do not block the event loop");
    int slow[20];
    for (int i = 0; i < 20; i++) {
        slow[i] = h_tcp_connect(g->port);
        const char *s = i % 2 ? "GET /healthz HTTP/1.1\r\nHo" : partial;
        if (slow[i] >= 0 && send(slow[i], s, strlen(s), MSG_NOSIGNAL) < 0) {
        }
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    req_t rq = {.method = "GET", .path = base, .token = tok, .proto = P_H1, .timeout_ms = 3000};
    r = h_req(g, &rq);
    CHECK(r->status == 200 && h_ms_since(&t0) < 3000, "a request is served while 20 clients dribble (%ld ms): %s", h_ms_since(&t0),
          resp_brief(r));
    resp_free(r);
    for (int i = 0; i < 20; i++)
        if (slow[i] >= 0)
            close(slow[i]);

    h_section("both users still get only their own after the disconnects");
    const char *other = h_uid("after");
    const char *otok = tok_user(other);
    r = h_send(g, P_H2C, "POST", h_fmt("/api/%s/tasks", other), otok, "{\"title\": \"after\"}");
    (void)(EXPECT_STATUS(r, 201) && EXPECT_JSTR(r, r->json, "user_id", other));
    resp_free(r);
    r = h_get(g, P_H2C, h_fmt("/api/%s/tasks", other), otok);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 1, "the new user sees exactly one task: %s", resp_brief(r)));
    resp_free(r);
}

/* Bodies near MAX_BODY, many at once over several connections: libpq's flush of each
 * pipeline goes partial and waits for the socket to drain while reads keep arriving. (A
 * read event once cleared the pending-write flag and the next flush asked h2o for a second
 * write notification: h2o aborted the process.) Every answer must be a JSON 422 or a 503. */
static void test_big_bodies(gateway_t *g)
{
    enum { N = 400 };
    h_section("%d concurrent requests with 60 KB bodies on a one-connection pool", N);
    const char *user = h_uid("bigbody");
    const char *tok = tok_user(user);
    char *pad = malloc(60001);
    memset(pad, 'x', 60000);
    pad[60000] = '\0';
    const char *body = h_fmt("{\"title\": \"big\", \"description\": \"%s\"}", pad); /* description over 1000: a 422 */
    free(pad);
    req_t *rqs = calloc(N, sizeof(*rqs));
    for (int i = 0; i < N; i++)
        rqs[i] = (req_t){
            .method = "POST", .path = h_fmt("/api/%s/tasks", user), .token = tok, .proto = P_H1, .body = body, .timeout_ms = 60000};
    resp_t **rs = h_multi(g, rqs, N, 0, 32, 60000);
    int ok = 0;
    const resp_t *bad = NULL;
    for (int i = 0; i < N; i++) {
        const char *code = rs[i]->json ? h_jstr(rs[i]->json, "code") : NULL;
        if ((rs[i]->status == 422 && code && strcmp(code, "validation_failed") == 0) || rs[i]->status == 503)
            ok++;
        else if (bad == NULL)
            bad = rs[i];
        resp_free(rs[i]);
    }
    free(rs);
    free(rqs);
    CHECK(ok == N, "all %d answered 422 (or 503 when the queue was full): %d did%s%s", N, ok, bad ? "; e.g. " : "",
          bad ? resp_brief(bad) : "");
    resp_t *r = h_get(g, P_H1, "/healthz", NULL);
    EXPECT_STATUS(r, 200); /* still up */
    resp_free(r);
}

/* 20 streams opened at once on one h2c connection, while todo.tasks is locked, on a gateway
 * with one database connection of depth 1 and HTTP2_MAX_CONCURRENT_REQUESTS=3: one request is
 * at the database, two wait in its queue, and the 17 others wait in h2o; once the lock goes
 * every stream is answered. (Without the limit, 19 would wait in the queue.) */
static void test_h2_request_limit(PGconn *db)
{
    enum { STREAMS = 20, LIMIT = 3 };
    gateway_t g;
    h_section("HTTP2_MAX_CONCURRENT_REQUESTS=%d: %d streams opened at once on one connection", LIMIT, STREAMS);
    const char *const env[] = {"GATEWAY_THREADS=1", "DB_POOL_SIZE=1", "DB_PIPELINE_DEPTH=1", "HTTP2_MAX_CONCURRENT_REQUESTS=3",
                               "DB_STATEMENT_TIMEOUT=30000", NULL};
    if (db == NULL || gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("h2limit");
    const char *tok = tok_user(user);
    unsigned char block[2048], *buf = malloc(64 + STREAMS * (9 + sizeof block));
    size_t bl = h2_request_block(block, 0, h_fmt("/api/%s/tasks", user), tok), n = h2_preface(buf);
    for (unsigned i = 0; i < STREAMS; i++)
        n += h2_frame(buf + n, H2_HEADERS, H2_END_STREAM | H2_END_HEADERS, 1 + 2 * i, block, bl);
    int fd = -1, closed = 0, answers = 0;
    long goaway = -1, waiting = -1;
    if (pg_run(db, "begin", NULL, NULL) && pg_run(db, "lock table todo.tasks in access exclusive mode", NULL, NULL)) {
        fd = h_tcp_connect(g.port);
        if (CHECK(fd >= 0 && send(fd, buf, n, MSG_NOSIGNAL) == (ssize_t)n, "%d streams sent", STREAMS)) {
            for (int i = 0; i < 100 && waiting < LIMIT - 1; i++) /* until the gateway has read them */
                h_sleep_ms(50), waiting = h_metric(&g, "todo_gateway_db_pool_waiting");
            h_sleep_ms(300); /* had more been let through, they would be in the queue by now */
            waiting = h_metric(&g, "todo_gateway_db_pool_waiting");
        }
        pg_run(db, "rollback", NULL, NULL);
    }
    CHECK(waiting == LIMIT - 1, "the database queue holds %d of the connection's requests (one is at the database): %ld",
          LIMIT - 1, waiting);
    for (int i = 0; fd >= 0 && i < 100 && answers < STREAMS && !closed; i++)
        h2_drain(fd, 100, &closed, &goaway, &answers);
    CHECK(answers == STREAMS, "every stream is answered (%d of %d)", answers, STREAMS);
    if (fd >= 0)
        close(fd);
    free(buf);
    gateway_stop(&g);
}

/* GATEWAY_THREADS=2: 8 HTTP/1.1 keep-alive connections, opened one after the other and kept
 * open, each answered once; the access log's thread tags ([w0], [w1]) say who served each. */
static void test_balanced_threads(void)
{
    enum { CONNS = 8 };
    gateway_t g;
    int fds[CONNS], served[2] = {0, 0}, answered = 0;
    h_section("GATEWAY_THREADS=2: %d keep-alive connections opened one after the other", CONNS);
    const char *const env[] = {"GATEWAY_THREADS=2", "LOG_LEVEL=info", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    CHECK(gateway_wait_idle(&g, 5000), "before the test, no other client connection is open");
    for (int i = 0; i < CONNS; i++) {
        char buf[4096];
        const char *rq = h_fmt("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: balance-%d\r\n\r\n", i);
        ssize_t n = -1;
        fds[i] = h_tcp_connect(g.port);
        if (fds[i] >= 0 && send(fds[i], rq, strlen(rq), MSG_NOSIGNAL) == (ssize_t)strlen(rq)) {
            struct timeval tv = {.tv_sec = 10};
            setsockopt(fds[i], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
            n = recv(fds[i], buf, sizeof(buf) - 1, 0); /* the answer: the connection is the thread's now */
        }
        answered += n > 12 && strncmp(buf, "HTTP/1.1 200", 12) == 0;
    }
    h_sleep_ms(200); /* the loop's turn ends: its buffered access-log lines are written */
    const char *log = gateway_output(&g);
    for (int i = 0; i < CONNS; i++) {
        const char *line = strstr(log, h_fmt("id=balance-%d ", i));
        const char *start = line;
        while (start != NULL && start > log && start[-1] != '\n')
            start--;
        if (start != NULL && strstr(start, " [w0] ") != NULL && strstr(start, " [w0] ") < line)
            served[0]++;
        else if (start != NULL && strstr(start, " [w1] ") != NULL && strstr(start, " [w1] ") < line)
            served[1]++;
    }
    CHECK(answered == CONNS, "every connection is answered (%d of %d)", answered, CONNS);
    CHECK(served[0] == CONNS / 2 && served[1] == CONNS / 2, "each thread serves %d of them (w0 %d, w1 %d)", CONNS / 2, served[0],
          served[1]);
    for (int i = 0; i < CONNS; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    gateway_stop(&g);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_concurrency");
    gateway_t g;
    const char *dir = h_make_cert();
    const char *tls_cert = dir ? h_fmt("TLS_CERT=%s/cert.pem", dir) : "TLS_CERT";
    const char *tls_key = dir ? h_fmt("TLS_KEY=%s/key.pem", dir) : "TLS_KEY";
    const char *const tls[] = {tls_cert, tls_key, NULL};
    if (gateway_start(&g, tls) == 0) {
        test_many_streams(&g, h_mux_proto(&g));
        if (h_mux_proto(&g) != P_UPGRADE)
            test_many_streams(&g, P_UPGRADE);
        test_toggles(&g, h_mux_proto(&g));
        h_section("shutdown");
        gateway_stop(&g);
    }
    PGconn *db = pg_admin();
    const char *const one[] = {"GATEWAY_THREADS=1", "DB_POOL_SIZE=1", tls_cert, tls_key, NULL};
    if (gateway_start(&g, one) == 0) {
        test_no_user_leak(&g, db);
        test_big_bodies(&g);
        test_disconnects(&g, db);
        h_section("shutdown (one thread, one connection)");
        gateway_stop(&g);
    }
    test_h2_request_limit(db);
    test_balanced_threads();
    if (db)
        PQfinish(db);
    return h_finish();
}
