/* test_abuse: what attackers send, replayed from public reports against servers like ours.
 * HTTP/1.1 request smuggling (h2o#3396, h2o#3342: two Content-Length, Content-Length with
 * chunked, a bad Content-Length with chunked, chunked in HTTP/1.0, two Transfer-Encoding,
 * obs-fold) is answered 400 bad_request with Connection: close, the connection is closed,
 * and the request smuggled behind it never reaches the database (rows counted, access log
 * read), while the same pipelined pair with clean framing runs both (the control). An
 * HTTP/2 Rapid Reset flood (CVE-2023-44487) gets GOAWAY ENHANCE_YOUR_CALM and a closed
 * connection long before it ends, almost none of its requests run, and another client is
 * served meanwhile. Beyond MAX_CONNECTIONS a new connection is closed at once and counted.
 * What h2o answers by itself is the contract's JSON error with X-Request-Id. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "h2raw.h"
#include "harness.h"
#include "pgadmin.h"

/* HTTP/1.x answers in what a connection received: status lines at the start of a line. */
static int http1_answers(const char *out)
{
    int n = strncmp(out, "HTTP/1.", 7) == 0;
    for (const char *p = out; (p = strstr(p, "\nHTTP/1.")) != NULL; p++)
        n++;
    return n;
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

/* The request smuggled behind the first: a create that must never run. */
static const char *smuggled(const char *user, const char *tok, const char *title)
{
    const char *body = h_fmt("{\"title\": \"%s\"}", title);
    return h_fmt("POST /api/%s/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                 user, tok, strlen(body), body);
}

static void test_smuggling(gateway_t *g, PGconn *db)
{
    const char *user = h_uid("smuggle");
    const char *tok = tok_user(user);
    const char *path = h_fmt("/api/%s/tasks", user);
    const char *auth = h_fmt("Host: 127.0.0.1\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\n", tok);
    const char *created = h_fmt("POST %s 201", path);

    h_section("HTTP/1.1 pipelining with clean framing (the control: both requests run)");
    {
        const char *second = smuggled(user, tok, "control");
        const char *raw = h_fmt("GET %s HTTP/1.1\r\n%s\r\n%s", path, auth, second);
        const char *out = h_raw_exchange(g->port, raw, strlen(raw), 2000);
        CHECK(count(out, "HTTP/1.1 200") == 1 && count(out, "HTTP/1.1 201") == 1, "both pipelined requests are answered: %.200s",
              out);
        CHECK(pg_number(db, "select count(*) from todo.tasks where user_id = $1 and title = 'control'", user, NULL) == 1,
              "the pipelined create ran (so the cases below would see a smuggled one)");
    }

    const struct {
        const char *name, *first; /* first: the request line and framing headers, before the blank line */
        const char *body;         /* what the first request's own framing covers */
        int smuggle_in_length;    /* the smuggled request's length is the second Content-Length */
    } cases[] = {
        {"two Content-Length (0 and the smuggled length)", "POST %s HTTP/1.1\r\n%sContent-Length: 0\r\nContent-Length: %zu\r\n", "",
         1},
        {"two equal Content-Length", "POST %s HTTP/1.1\r\n%sContent-Length: 2\r\nContent-Length: 2\r\n", "{}", 0},
        {"Content-Length with Transfer-Encoding: chunked",
         "POST %s HTTP/1.1\r\n%sContent-Length: 7\r\nTransfer-Encoding: chunked\r\n", "0\r\n\r\n", 0},
        {"Transfer-Encoding: chunked, then Content-Length",
         "POST %s HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\nContent-Length: 7\r\n", "0\r\n\r\n", 0},
        {"Content-Length: blah with chunked", "POST %s HTTP/1.1\r\n%sContent-Length: blah\r\nTransfer-Encoding: chunked\r\n",
         "0\r\n\r\n", 0},
        {"chunked in HTTP/1.0 (keep-alive)", "POST %s HTTP/1.0\r\n%sConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n",
         "0\r\n\r\n", 0},
        {"two Transfer-Encoding: chunked", "POST %s HTTP/1.1\r\n%sTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
         "0\r\n\r\n", 0},
        {"obs-fold (a header continued on the next line)", "GET %s HTTP/1.1\r\n%sX-Note: a\r\n folded\r\n", "", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        h_section("HTTP/1.1 request smuggling: %s", cases[i].name);
        const char *title = h_fmt("smuggled %zu", i);
        const char *second = smuggled(user, tok, title);
        const char *head =
            cases[i].smuggle_in_length ? h_fmt(cases[i].first, path, auth, strlen(second)) : h_fmt(cases[i].first, path, auth);
        const char *raw = h_fmt("%s\r\n%s%s", head, cases[i].body, second);
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        const char *out = h_raw_exchange(g->port, raw, strlen(raw), 5000);
        long ms = h_ms_since(&t0);
        CHECK(strncmp(out, "HTTP/1.1 400 ", 13) == 0 && strstr(out, "\"code\":\"bad_request\"") != NULL,
              "answered 400 bad_request: %.300s", out);
        CHECK(h_match(out, "\r\n[Xx]-[Rr]equest-[Ii]d: [0-9a-f]{32}\r\n"), "the answer carries X-Request-Id");
        CHECK(h_match(out, "\r\n[Cc]onnection: close\r\n"), "the answer says Connection: close");
        CHECK(http1_answers(out) == 1, "exactly one answer on the connection (%d)", http1_answers(out));
        CHECK(ms < 4000, "the gateway closed the connection after the answer (%ld ms)", ms);
        CHECK(pg_number(db, "select count(*) from todo.tasks where user_id = $1 and title = $2", user, title) == 0,
              "the smuggled create never reached the database");
    }
    h_sleep_ms(100);
    CHECK(count(gateway_output(g), created) == 1, "the access log shows only the control's create (%d)",
          count(gateway_output(g), created));
}

/* What h2o answers by itself, before any handler (a body over MAX_BODY + 1 MiB, a broken
 * chunked body, an unknown Expect), is the contract's JSON error with X-Request-Id and CORS,
 * not h2o's plain text. */
static void test_h2o_own_answers(gateway_t *g)
{
    const struct {
        const char *name, *raw;
        const char *status, *code;
    } cases[] = {
        {"a body over MAX_BODY + 1 MiB",
         "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: big-1\r\n"
         "Origin: https://app.example\r\nContent-Length: 9000000\r\n\r\n",
         "413", "payload_too_large"},
        {"a broken chunked body",
         "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: big-1\r\n"
         "Origin: https://app.example\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n",
         "400", "bad_request"},
        {"an Expect other than 100-continue",
         "POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: big-1\r\n"
         "Origin: https://app.example\r\nExpect: 100-later\r\nContent-Length: 2\r\n\r\n{}",
         "417", "expectation_failed"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        h_section("h2o's own answer to %s is the JSON error with X-Request-Id and CORS", cases[i].name);
        const char *out = h_raw_exchange(g->port, cases[i].raw, strlen(cases[i].raw), 3000);
        const char *body = strstr(out, "\r\n\r\n");
        json_t *j = body ? json_loads(body + 4, 0, NULL) : NULL;
        CHECK(strncmp(out, h_fmt("HTTP/1.1 %s ", cases[i].status), 13) == 0, "status %s: %.80s", cases[i].status, out);
        CHECK(h_match(out, "\r\n[Cc]ontent-[Tt]ype: application/json\r\n"), "JSON: %.300s", out);
        CHECK(j != NULL && h_jstr(j, "code") && strcmp(h_jstr(j, "code"), cases[i].code) == 0 && h_jstr(j, "detail") &&
                  h_jstr(j, "message"),
              "the contract's error body, code %s: %s", cases[i].code, body ? body + 4 : "(none)");
        CHECK(h_match(out, "\r\n[Xx]-[Rr]equest-[Ii]d: big-1\r\n"), "the client's X-Request-Id comes back");
        CHECK(h_match(out, "\r\n[Aa]ccess-[Cc]ontrol-[Aa]llow-[Oo]rigin: https://app.example\r\n"), "CORS headers too");
        json_decref(j);
    }
}

/* Opens an h2c connection and checks that one request on it is answered. Returns the fd or -1. */
static int h2_open(gateway_t *g, const unsigned char *block, size_t bl)
{
    unsigned char buf[4096];
    int fd = h_tcp_connect(g->port);
    if (!CHECK(fd >= 0, "connect: %s", strerror(errno)))
        return -1;
    size_t n = h2_preface(buf);
    n += h2_frame(buf + n, H2_HEADERS, H2_END_STREAM | H2_END_HEADERS, 1, block, bl);
    int closed = 0, answers = 0;
    long goaway = -1;
    if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n || (h2_drain(fd, 1000, &closed, &goaway, &answers), answers < 1)) {
        CHECK(0, "a hand-made h2c request is answered (the flood's frames are well formed)");
        close(fd);
        return -1;
    }
    return fd;
}

static void test_rapid_reset(gateway_t *g, PGconn *db)
{
    enum { STREAMS = 200000, BATCH = 50 };
    h_section("HTTP/2 Rapid Reset: up to %d streams opened (POST with a body) and reset at once, on one connection", STREAMS);
    const char *user = h_uid("flood");
    const char *tok = tok_user(user);
    const char *path = h_fmt("/api/%s/tasks", user);
    static const char body[] = "{\"title\": \"flood\"}";
    unsigned char get_block[2048], post_block[2048];
    size_t gl = h2_request_block(get_block, 0, path, tok), pl = h2_request_block(post_block, 1, path, tok);
    long long cancelled_before = h_metric(g, "todo_gateway_requests_cancelled_total");
    int fd = h2_open(g, get_block, gl);
    if (fd < 0)
        return;
    int closed = 0, answers = 0;
    long goaway = -1;
    unsigned char *buf = malloc(BATCH * (pl + sizeof body + 64));
    unsigned stream = 3;
    int sent = 0, cut = 0, served_meanwhile = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (sent < STREAMS && !cut && h_ms_since(&t0) < 20000) {
        size_t n = 0;
        for (int i = 0; i < BATCH; i++, stream += 2) {
            static const unsigned char cancel[4] = {0, 0, 0, 8};
            n += h2_frame(buf + n, H2_HEADERS, H2_END_HEADERS, stream, post_block, pl);
            n += h2_frame(buf + n, H2_DATA, H2_END_STREAM, stream, (const unsigned char *)body, sizeof body - 1);
            n += h2_frame(buf + n, H2_RST_STREAM, 0, stream, cancel, 4);
        }
        if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
            cut = 1;
        else
            sent += BATCH;
        if (sent == BATCH) { /* another client, on another connection, while the flood runs */
            resp_t *r = h_get(g, P_H1, path, tok);
            served_meanwhile = r->status == 200;
            resp_free(r);
        }
        h2_drain(fd, 0, &closed, &goaway, &answers);
        cut |= closed;
    }
    long ms = h_ms_since(&t0);
    h2_drain(fd, 3000, &closed, &goaway, &answers);
    close(fd);
    free(buf);
    h_sleep_ms(200);
    long long cancelled = h_metric(g, "todo_gateway_requests_cancelled_total") - cancelled_before;
    printf("# rapid reset: %d streams written in %ld ms before the gateway %s; it processed %lld cancellations\n", sent, ms,
           cut || closed ? "closed the connection" : "(did not close it)", cancelled);
    CHECK(served_meanwhile, "another client was served while the flood ran");
    CHECK(cut || closed, "the gateway closed the flooding connection (%d of %d streams written)", sent, STREAMS);
    /* after the cut, the streams h2o still parses from what it had read (up to its receive
     * buffer: thousands) cost nothing and are not counted */
    CHECK(cancelled > 100 && cancelled <= 110, "... after the budget of 100 cancellations, and nothing counted after the cut (%lld)",
          cancelled);
    CHECK(goaway == 11, "GOAWAY ENHANCE_YOUR_CALM (0xb) came first (cleartext): %ld", goaway);
    long long rows = pg_number(db, "select count(*) from todo.tasks where user_id = $1", user, NULL);
    CHECK(rows >= 0 && rows * 50 <= cancelled, "almost no cancelled create reached the database: %lld rows for %lld cancelled",
          rows, cancelled);
    const char *log = gateway_output(g);
    CHECK(strstr(log, "ENHANCE_YOUR_CALM") != NULL && strstr(log, "HTTP/2 client 127.0.0.1:") != NULL,
          "the log names the peer whose connection was cut");
    CHECK(h_metric(g, "todo_gateway_connections_calmed_total") >= 1, "/metrics counts the connection");
    resp_t *r = h_get(g, P_H1, path, tok);
    CHECK(r->status == 200, "the gateway serves again after the flood: %s", resp_brief(r));
    resp_free(r);
}

/* A browser-like client that cancels a few streams and lets most be answered keeps its
 * connection: the budget is for floods, not for navigation. */
static void test_few_resets(gateway_t *g)
{
    h_section("HTTP/2: a client cancelling fewer streams than it lets be answered keeps its connection");
    const char *user = h_uid("browser");
    const char *tok = tok_user(user);
    unsigned char block[2048];
    size_t bl = h2_request_block(block, 0, h_fmt("/api/%s/tasks", user), tok);
    int fd = h2_open(g, block, bl);
    if (fd < 0)
        return;
    unsigned char buf[8192];
    unsigned stream = 3;
    int answers_total = 0, closed = 0;
    long goaway = -1;
    for (int round = 0; round < 40 && !closed; round++) { /* 160 answered, 120 cancelled over 40 rounds */
        size_t n = 0;
        for (int i = 0; i < 4; i++, stream += 2)
            n += h2_frame(buf + n, H2_HEADERS, H2_END_STREAM | H2_END_HEADERS, stream, block, bl);
        int before = answers_total;
        if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
            break;
        for (int w = 0; w < 20 && answers_total < before + 4 && !closed; w++)
            h2_drain(fd, 100, &closed, &goaway, &answers_total);
        n = 0;
        for (int i = 0; i < 3; i++, stream += 2) {
            static const unsigned char cancel[4] = {0, 0, 0, 8};
            n += h2_frame(buf + n, H2_HEADERS, H2_END_STREAM | H2_END_HEADERS, stream, block, bl);
            n += h2_frame(buf + n, H2_RST_STREAM, 0, stream, cancel, 4);
        }
        if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
            break;
    }
    CHECK(!closed && goaway == -1 && answers_total >= 150, "the connection stayed open (%d answers, goaway %ld)", answers_total,
          goaway);
    close(fd);
}

static void test_max_connections(void)
{
    enum { MAX = 4 };
    gateway_t g;
    h_section("MAX_CONNECTIONS=%d: the next connection is closed at once, and counted", MAX);
    const char *const env[] = {"MAX_CONNECTIONS=4", "GATEWAY_THREADS=1", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    CHECK(gateway_wait_idle(&g, 5000), "before the test, no other client connection is open");
    int fds[MAX];
    for (int i = 0; i < MAX; i++)
        fds[i] = h_tcp_connect(g.port);
    h_sleep_ms(200);
    static const char get[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    const char *out = h_raw_exchange(g.port, get, sizeof get - 1, 3000);
    CHECK(out[0] == '\0', "connection %d gets no answer, it is closed: '%.60s'", MAX + 1, out);
    for (int i = 0; i < MAX; i++) { /* the ones admitted are served */
        char in[256] = "";
        ssize_t k = -1;
        if (send(fds[i], get, sizeof get - 1, MSG_NOSIGNAL) == (ssize_t)sizeof get - 1) {
            struct pollfd p = {.fd = fds[i], .events = POLLIN};
            if (poll(&p, 1, 3000) == 1)
                k = recv(fds[i], in, sizeof in - 1, 0);
        }
        CHECK(k > 12 && strncmp(in, "HTTP/1.1 200", 12) == 0, "admitted connection %d is served", i + 1);
        close(fds[i]);
    }
    CHECK(gateway_wait_idle(&g, 5000), "the closed connections are noticed");
    resp_t *r = h_get(&g, P_H1, "/metrics", NULL);
    CHECK(r->status == 200 && h_match(r->body, "\ntodo_gateway_connections_refused_total [1-9]"),
          "once connections closed, new ones are served, and /metrics counts the refused one: %s", resp_brief(r));
    resp_free(r);
    CHECK(strstr(gateway_output(&g), "MAX_CONNECTIONS (4) open") != NULL, "the refusal is logged");
    gateway_stop(&g);
}

/* Location and Link are built from data (a token's sub, the query): percent-encoded URI
 * references that, followed as they are, reach the same resource (RFC 3986, RFC 8288). */
static void test_header_encoding(gateway_t *g)
{
    const struct {
        const char *sub, *segment; /* the token's sub, and how a client puts it in a path */
    } users[] = {
        {"a?x=1#y", "a%3Fx%3D1%23y"},
        {"with space", "with%20space"},
        {"jos\xc3\xa9", "jos%C3%A9"},
        {"slash/inside", "slash%2Finside"},
        {"<angle>\"quote\"", "%3Cangle%3E%22quote%22"},
    };
    for (size_t i = 0; i < sizeof users / sizeof *users; i++) {
        h_section("Location and Link for a user whose id is '%s'", users[i].sub);
        const char *uid = h_uid("u");
        const char *sub = h_fmt("%s-%s", users[i].sub, uid), *segment = h_fmt("%s-%s", users[i].segment, uid);
        const char *tok = tok_user(sub);
        const char *base = h_fmt("/api/%s/tasks", segment);
        resp_t *r = h_send(g, P_H1, "POST", base, tok, "{\"title\": \"first caf\xc3\xa9\"}");
        const char *id = r->json ? h_fmt("%lld", (long long)json_integer_value(json_object_get(r->json, "id"))) : "?";
        (void)(EXPECT_STATUS(r, 201) && EXPECT_HEADER(r, "Location", h_fmt("%s/%s", base, id)));
        const char *location = h_fmt("%s", resp_header(r, "Location") ? resp_header(r, "Location") : "");
        resp_free(r);
        r = h_get(g, P_H2C, location, tok);
        (void)(EXPECT_STATUS(r, 200) && EXPECT_JSTR(r, r->json, "title", "first caf\xc3\xa9") &&
               EXPECT_JSTR(r, r->json, "user_id", sub));
        resp_free(r);
        resp_free(h_send(g, P_H1, "POST", base, tok, "{\"title\": \"second caf\xc3\xa9\"}"));
        const char *link;
        const char *query = "q=caf%C3%A9&limit=1&note=%3C%3E+%22";
        r = h_get(g, P_H1, h_fmt("%s?%s", base, query), tok);
        link = resp_header(r, "Link");
        CHECK(r->status == 200 && link != NULL && strcmp(link, h_fmt("<%s?%s&offset=1>; rel=\"next\"", base, query)) == 0,
              "Link keeps the query's escapes: %s", link ? link : "(none)");
        resp_free(r);
        r = h_get(g, P_H1, h_fmt("%s?limit=1&sort=title", base), tok);
        link = resp_header(r, "Link");
        CHECK(link != NULL && strcmp(link, h_fmt("<%s?limit=1&sort=title&offset=1>; rel=\"next\"", base)) == 0, "Link: %s",
              link ? link : "(none)");
        resp_free(r);
        r = h_get(g, P_H1, h_fmt("%s?sort=title&limit=1&offset=1", base), tok);
        (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 1, "the next page holds the second task"));
        resp_free(r);
    }
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_abuse");
    PGconn *db = pg_admin();
    gateway_t g;
    const char *const one[] = {"GATEWAY_THREADS=1", "LOG_LEVEL=info", /* info: the access log */
                               "CORS_ORIGINS=https://app.example", NULL};
    if (db != NULL && gateway_start(&g, one) == 0) {
        test_smuggling(&g, db);
        test_h2o_own_answers(&g);
        test_header_encoding(&g);
        test_few_resets(&g);
        test_rapid_reset(&g, db);
        h_section("shutdown");
        gateway_stop(&g);
    }
    test_max_connections();
    if (db)
        PQfinish(db);
    return h_finish();
}
