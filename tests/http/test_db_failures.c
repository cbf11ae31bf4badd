/* test_db_failures: when the database is down, slow or busy. A database that cannot be
 * reached: /healthz 200, /readyz 503, API requests 503 unavailable with Retry-After and
 * promptly, while what needs no database (401, 403, 404, 405, 415) is answered as usual. A
 * statement over DB_STATEMENT_TIMEOUT (a table held locked): 504 timeout, nothing stored.
 * A full queue (DB_QUEUE_MAX): 503 unavailable with Retry-After. Backends killed under the
 * gateway: it reconnects, answering 503 (never 500) meanwhile. A function raising a status
 * the gateway has no error body for (PT418 without a DETAIL): 500 internal_error and an
 * error in the log, never a client error the client would think its own. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "pgadmin.h"

static int retry_after_ok(const resp_t *r)
{
    const char *v = resp_header(r, "Retry-After");
    return v != NULL && h_match(v, "^[0-9]+$") && atoi(v) >= 1;
}

static void test_unreachable(void)
{
    gateway_t g;
    h_section("database unreachable (port 1)");
    const char *const env[] = {"DATABASE_URL=postgresql://todo_gateway@127.0.0.1:1/todo", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("down");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    for (proto_t p = P_H1; p <= P_H2C; p++) {
        resp_t *r = h_get(&g, p, "/healthz", NULL);
        EXPECT_STATUS(r, 200);
        resp_free(r);
        r = h_get(&g, p, "/readyz", NULL);
        EXPECT_ERROR(r, 503, "unavailable");
        resp_free(r);

        const struct {
            const char *method, *path, *body;
        } api[] = {
            {"GET", base, NULL},
            {"POST", base, "{\"title\": \"x\"}"},
            {"GET", h_fmt("%s/1", base), NULL},
            {"PATCH", h_fmt("%s/1/complete", base), NULL},
            {"DELETE", h_fmt("%s/1", base), NULL},
            {"POST", "/api/auth/register", "{\"email\": \"down@example.com\", \"password\": \"long enough\"}"},
            {"POST", "/api/auth/login", "{\"email\": \"down@example.com\", \"password\": \"long enough\"}"},
            {"GET", "/api/auth/me", NULL},
        };
        for (size_t i = 0; i < sizeof api / sizeof *api; i++) {
            struct timespec t0;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            r = h_send(&g, p, api[i].method, api[i].path, tok, api[i].body);
            long ms = h_ms_since(&t0);
            (void)(EXPECT_ERROR(r, 503, "unavailable") &&
                   CHECK(retry_after_ok(r), "Retry-After is a number of seconds: %s", resp_header(r, "Retry-After")));
            CHECK(ms < 5000, "%s is answered promptly (%ld ms)", r->what, ms);
            resp_free(r);
        }

        /* What needs no database is answered as usual. */
        const char *expired =
            tok_craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                      h_fmt("{\"sub\":\"%s\",\"exp\":%lld}", user, (long long)h_now() - 3600), "sha256", H_SECRET);
        r = h_get(&g, p, base, NULL);
        EXPECT_ERROR(r, 401, "unauthorized");
        resp_free(r);
        r = h_get(&g, p, base, expired);
        EXPECT_ERROR(r, 401, "unauthorized");
        resp_free(r);
        r = h_get(
            &g, p, base,
            tok_craft("{\"alg\":\"none\"}", h_fmt("{\"sub\":\"%s\",\"exp\":%lld}", user, (long long)h_now() + 60), NULL, NULL));
        EXPECT_ERROR(r, 401, "unauthorized");
        resp_free(r);
        r = h_get(&g, p, h_fmt("/api/%s-other/tasks", user), tok);
        EXPECT_ERROR(r, 403, "user_id_mismatch");
        resp_free(r);
        r = h_get(&g, p, "/nope", tok);
        EXPECT_ERROR(r, 404, "not_found");
        resp_free(r);
        r = h_send(&g, p, "DELETE", base, tok, NULL);
        EXPECT_ERROR(r, 405, "method_not_allowed");
        resp_free(r);
        req_t rq = {.method = "POST", .path = base, .token = tok, .body = "{\"title\": \"x\"}", .ctype = "text/plain", .proto = p};
        r = h_req(&g, &rq);
        EXPECT_ERROR(r, 415, "unsupported_media_type");
        resp_free(r);
    }
    gateway_stop(&g);
}

static void test_statement_timeout(PGconn *db)
{
    gateway_t g;
    h_section("DB_STATEMENT_TIMEOUT=300 with the table locked: 504");
    const char *const env[] = {"DB_STATEMENT_TIMEOUT=300", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("slow");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    if (pg_run(db, "begin", NULL, NULL) && pg_run(db, "lock table todo.tasks in access exclusive mode", NULL, NULL)) {
        for (proto_t p = P_H1; p <= P_H2C; p++) {
            struct timespec t0;
            clock_gettime(CLOCK_MONOTONIC, &t0);
            resp_t *r = h_get(&g, p, base, tok);
            EXPECT_ERROR(r, 504, "timeout");
            CHECK(h_ms_since(&t0) < 5000, "the 504 comes soon after the timeout (%ld ms)", h_ms_since(&t0));
            resp_free(r);
            r = h_send(&g, p, "POST", base, tok, "{\"title\": \"never stored\"}");
            EXPECT_ERROR(r, 504, "timeout");
            resp_free(r);
        }
        pg_run(db, "rollback", NULL, NULL);
    }
    resp_t *r = h_get(&g, P_H1, base, tok);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 0, "the timed-out creates stored nothing: %s", resp_brief(r)));
    resp_free(r);
    r = h_send(&g, P_H2C, "POST", base, tok, "{\"title\": \"stored\"}");
    EXPECT_STATUS(r, 201);
    resp_free(r);
    gateway_stop(&g);
}

static void test_queue_full(PGconn *db)
{
    gateway_t g;
    enum { N = 8 };
    h_section("DB_QUEUE_MAX=1 with one busy connection: 503 unavailable");
    const char *const env[] = {
        "GATEWAY_THREADS=1", "DB_POOL_SIZE=1", "DB_PIPELINE_DEPTH=1", "DB_QUEUE_MAX=1", "DB_STATEMENT_TIMEOUT=1500", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("queue");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    if (pg_run(db, "begin", NULL, NULL) && pg_run(db, "lock table todo.tasks in access exclusive mode", NULL, NULL)) {
        req_t rqs[N];
        for (int i = 0; i < N; i++)
            rqs[i] = (req_t){.method = "GET", .path = base, .token = tok, .proto = h_mux_proto(&g), .timeout_ms = 15000};
        resp_t **rs = h_multi(&g, rqs, N, 1, 0, 20000);
        int busy = 0, timeouts = 0, other = 0;
        const char *odd = NULL;
        for (int i = 0; i < N; i++) {
            const char *code = h_jstr(rs[i]->json, "code");
            if (rs[i]->status == 503 && code && strcmp(code, "unavailable") == 0 && retry_after_ok(rs[i]))
                busy++;
            else if (rs[i]->status == 504 && code && strcmp(code, "timeout") == 0)
                timeouts++;
            else if (other++ == 0)
                odd = resp_brief(rs[i]);
            resp_free(rs[i]);
        }
        free(rs);
        pg_run(db, "rollback", NULL, NULL);
        CHECK(busy >= 1, "with the queue full, requests get 503 unavailable with Retry-After (%d of %d)", busy, N);
        CHECK(timeouts >= 1, "the request on the connection times out with 504 (%d of %d)", timeouts, N);
        CHECK(other == 0, "every answer is 503 or 504 (%d others; e.g. %s)", other, odd ? odd : "");
        h_sleep_ms(200); /* the loop's turn ends: its buffered lines are written */
        int lines = 0;
        for (const char *p = gateway_output(&g); (p = strstr(p, "database queue full")) != NULL; p++)
            lines++;
        CHECK(busy >= 2 && lines == 1 && strstr(gateway_output(&g), "repeats of this line are summarised") != NULL,
              "%d identical warnings make one line saying repeats are summarised (%d lines)", busy, lines);
    }
    resp_t *r = h_get(&g, P_H1, base, tok);
    EXPECT_STATUS(r, 200);
    resp_free(r);
    gateway_stop(&g);
}

static void test_reconnect(PGconn *db)
{
    gateway_t g;
    h_section("backends terminated under the gateway: it reconnects");
    const char *url = getenv("TEST_DATABASE_URL");
    const char *app = h_fmt("gwtest-%d", (int)getpid());
    const char *const env[] = {h_fmt("DATABASE_URL=%s%sapplication_name=%s", url, strchr(url, '?') ? "&" : "?", app), NULL};
    if (gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("reconnect");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    for (int i = 0; i < 4; i++) {
        resp_t *r = h_send(&g, i % 2 ? P_H2C : P_H1, "POST", base, tok, h_fmt("{\"title\": \"before %d\"}", i));
        EXPECT_STATUS(r, 201);
        resp_free(r);
    }
    long long killed =
        pg_number(db, "select count(pg_terminate_backend(pid)) from pg_stat_activity where application_name = $1", app, NULL);
    if (killed <= 0)
        killed = pg_number(db, "select count(pg_terminate_backend(pid)) from pg_stat_activity where usename = 'todo_gateway'", NULL,
                           NULL);
    CHECK(killed >= 1, "the gateway's backends were terminated (%lld)", killed);

    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int in_a_row = 0, errors = 0, bad = 0;
    const char *first_bad = NULL;
    while (in_a_row < 6 && h_ms_since(&t0) < 10000) {
        req_t rq = {.method = "GET", .path = base, .token = tok, .proto = in_a_row % 2 ? P_H2C : P_H1, .raw = 1};
        resp_t *r = h_req(&g, &rq);
        if (r->status == 200 && h_jlen(r) == 4) {
            in_a_row++;
        } else {
            in_a_row = 0;
            errors++;
            const char *code = h_jstr(r->json, "code");
            if (!(r->status == 503 && code && strcmp(code, "unavailable") == 0 && retry_after_ok(r)) && bad++ == 0)
                first_bad = resp_brief(r);
            h_sleep_ms(100);
        }
        resp_free(r);
    }
    CHECK(in_a_row >= 6, "the gateway serves again within 10 s (%ld ms, %d failed answers first)", h_ms_since(&t0), errors);
    CHECK(bad == 0, "meanwhile every failure is 503 unavailable with Retry-After (%d were not; first: %s)", bad,
          first_bad ? first_bad : "");
    resp_t *r = h_get(&g, P_H1, "/readyz", NULL);
    EXPECT_STATUS(r, 200);
    resp_free(r);
    r = h_send(&g, P_H1, "POST", base, tok, "{\"title\": \"after\"}");
    EXPECT_STATUS(r, 201);
    resp_free(r);
    gateway_stop(&g);
}

static void test_unknown_status(PGconn *db)
{
    gateway_t g;
    h_section("a function raises PT418 with no body: 500 internal_error, logged");
    const char *user = h_uid("teapot");
    const char *tok = tok_user(user);
    /* a trigger for this test's user alone, so nothing else running against the database sees it */
    if (!CHECK(pg_run(db,
                      "create function public.test_teapot() returns trigger language plpgsql as "
                      "$$ begin raise sqlstate 'PT418' using message = 'I am a teapot'; end $$",
                      NULL, NULL) &&
                   pg_run(db,
                          h_fmt("create trigger test_teapot before insert on todo.tasks for each row "
                                "when (new.user_id = '%s') execute function public.test_teapot()",
                                user),
                          NULL, NULL),
               "the trigger is in place"))
        goto cleanup;
    if (gateway_start(&g, NULL) != 0)
        goto cleanup;
    for (proto_t p = P_H1; p <= P_H2C; p++) {
        req_t rq = {.method = "POST",
                    .path = h_fmt("/api/%s/tasks", user),
                    .token = tok,
                    .body = "{\"title\": \"tea\"}",
                    .proto = p,
                    .raw = 1}; /* raw: a 500 is what this test wants */
        resp_t *r = h_req(&g, &rq);
        EXPECT_ERROR(r, 500, "internal_error");
        CHECK(resp_header(r, "X-Request-Id") != NULL && r->body != NULL && strstr(r->body, "teapot") == NULL,
              "the 500 carries a request id and nothing of the database's message: %s", resp_brief(r));
        resp_free(r);
    }
    const char *out = gateway_output(&g); /* before the stop removes it */
    gateway_stop(&g);
    CHECK(h_match(out, "error .*no error body for status 418 \\(create_task\\)"), "the gateway logs an error naming the status: %s",
          out);
cleanup:
    pg_run(db, "drop trigger if exists test_teapot on todo.tasks", NULL, NULL);
    pg_run(db, "drop function if exists public.test_teapot()", NULL, NULL);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_db_failures");
    test_unreachable();
    PGconn *db = pg_admin();
    if (db != NULL) {
        test_statement_timeout(db);
        test_queue_full(db);
        test_reconnect(db);
        test_unknown_status(db);
        PQfinish(db);
    }
    return h_finish();
}
