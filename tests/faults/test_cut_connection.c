/* test_cut_connection: the gateway's database connection goes through a TCP proxy (proxy.c)
 * that breaks it. Cut after the request was sent (the answer dropped, both sides closed): the
 * write committed, so the client gets 502 outcome_unknown without Retry-After, never a 503
 * that invites a blind retry; the retry that carries the same Idempotency-Key ends with
 * exactly one row and gets the first answer's body, replayed. A connection that passes
 * nothing more (a network that drops everything): the request is answered 502 within
 * DB_STATEMENT_TIMEOUT + 1 s, the gateway drops that connection, and serves again on a new
 * one. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faults.h"
#include "pgadmin.h"
#include "proxy.h"

#define TIMEOUT_MS 2000

/* POSTs a task titled title, with an Idempotency-Key when key is set; *ms (when ms is set): how long the answer took. */
static resp_t *post(gateway_t *g, const char *user, const char *tok, const char *title, const char *key, long *ms)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    const char *const headers[] = {key ? h_fmt("Idempotency-Key: %s", key) : "X-Test: no key", NULL};
    req_t rq = {.method = "POST",
                .path = h_fmt("/api/%s/tasks", user),
                .token = tok,
                .headers = headers,
                .proto = P_H1,
                .body = h_fmt("{\"title\": \"%s\"}", title),
                .timeout_ms = 15000};
    resp_t *r = h_req(g, &rq);
    if (ms != NULL)
        *ms = h_ms_since(&t0);
    return r;
}

static long long rows_titled(PGconn *db, const char *user, const char *title)
{
    return pg_number(db, "select count(*) from todo.tasks where user_id = $1 and title = $2", user, title);
}

static void cut_after_send(gateway_t *g, PGconn *db, proxy_t *px)
{
    const char *user = h_uid("cut"), *tok = tok_user(user), *key = h_uid("key");
    h_section("a connection cut after the request was sent");
    CHECK(gateway_wait_db(g, 1, 10000), "the gateway's connection (through the proxy) is up");
    proxy_cut_next_answer(px);
    long first_ms;
    resp_t *r = post(g, user, tok, "cut once", key, &first_ms);
    long first_status = r->status;
    EXPECT_ERROR(r, 502, "outcome_unknown");
    EXPECT_HEADER(r, "Retry-After", NULL);
    CHECK(proxy_cuts(px) == 1, "the proxy cut the connection once (%d)", proxy_cuts(px));
    long long after_cut = rows_titled(db, user, "cut once");
    CHECK(after_cut == 1, "the write behind the 502 did commit (%lld rows): a 503 would have been a lie", after_cut);
    resp_free(r);

    CHECK(gateway_wait_db(g, 1, 5000), "the gateway connects again");
    r = post(g, user, tok, "cut once", key, NULL);
    EXPECT_STATUS(r, 201);
    EXPECT_HEADER(r, "Idempotent-Replayed", "true");
    const char *stored = pg_text(db, "select body from todo.idempotency_keys where user_id = $1 and key = $2", user, key);
    CHECK(stored != NULL && r->body != NULL && strcmp(stored, r->body) == 0,
          "the retry gets the first answer's body, stored with the write: %s vs %s", r->body, stored ? stored : "(none)");
    long long id = json_integer_value(json_object_get(r->json, "id"));
    long long row_id = pg_number(db, "select id from todo.tasks where user_id = $1 and title = 'cut once'", user, NULL);
    CHECK(id == row_id, "the replayed task is the row that exists (%lld, %lld)", id, row_id);
    long long rows = rows_titled(db, user, "cut once");
    CHECK(rows == 1, "exactly one row after the retry (%lld)", rows);
    h_diag("cut after send: first answer %ld in %ld ms; retry with the key %ld, Idempotent-Replayed: %s; rows %lld", first_status,
           first_ms, r->status, resp_header(r, "Idempotent-Replayed") ? resp_header(r, "Idempotent-Replayed") : "-", rows);
    resp_free(r);

    /* the same without a key: the 502 is honest, and a blind retry makes a second row */
    proxy_cut_next_answer(px);
    r = post(g, user, tok, "cut without key", NULL, NULL);
    EXPECT_ERROR(r, 502, "outcome_unknown");
    resp_free(r);
    CHECK(gateway_wait_db(g, 1, 5000), "the gateway connects again");
    r = post(g, user, tok, "cut without key", NULL, NULL);
    EXPECT_STATUS(r, 201);
    resp_free(r);
    h_diag("cut without a key: the same, and a retry without the key makes %lld rows (why the key matters)",
           rows_titled(db, user, "cut without key"));
}

static void stalled(gateway_t *g, PGconn *db, proxy_t *px)
{
    const char *user = h_uid("stall"), *tok = tok_user(user);
    h_section("a connection that passes nothing more");
    CHECK(gateway_wait_db(g, 1, 10000), "the gateway's connection is up");
    proxy_stall(px);
    long ms, again_ms;
    resp_t *r = post(g, user, tok, "into the void", NULL, &ms);
    EXPECT_ERROR(r, 502, "outcome_unknown");
    CHECK(ms <= TIMEOUT_MS + 1000, "answered within DB_STATEMENT_TIMEOUT + 1 s (%ld ms)", ms);
    resp_free(r);
    CHECK(rows_titled(db, user, "into the void") == 0, "(nothing reached the database)");
    r = post(g, user, tok, "after the stall", NULL, &again_ms);
    EXPECT_STATUS(r, 201);
    resp_free(r);
    h_diag("stalled connection: 502 after %ld ms (deadline %d ms); the next request 201 after %ld ms on a new connection", ms,
           TIMEOUT_MS, again_ms);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_cut_connection");
    PGconn *db = pg_admin();
    proxy_t *px = proxy_start(getenv("FAULT_SOCKET"));
    gateway_t g;
    if (db != NULL && px != NULL) {
        const char *const env[] = {
            h_fmt("DATABASE_URL=postgresql://todo_gateway@127.0.0.1:%d/todo?sslmode=disable", proxy_port(px)), "GATEWAY_THREADS=1",
            "DB_POOL_SIZE=1", h_fmt("DB_STATEMENT_TIMEOUT=%d", TIMEOUT_MS),
            /* the event streams' LISTEN connection straight to the database: the proxy's cuts are the pool's */
            h_fmt("DATABASE_LISTEN_URL=%s", getenv("TEST_DATABASE_URL")), NULL};
        if (gateway_start(&g, env) == 0) {
            cut_after_send(&g, db, px);
            stalled(&g, db, px);
            gateway_stop(&g);
        }
    }
    proxy_stop(px);
    if (db != NULL)
        PQfinish(db);
    return h_finish();
}
