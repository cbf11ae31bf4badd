/* test_idempotency: the Idempotency-Key header on the task writes, over HTTP/1.1 and h2c. A
 * retry with the same key replays the first answer (status, body, Location) with
 * Idempotent-Replayed: true and changes nothing (POST, PUT, PATCH, the completion toggle,
 * DELETE); the same key with another body or path is 422 idempotency_key_reused; a key is
 * one user's; a malformed key is 422 naming the header; a GET ignores it; a retry while the
 * first request still runs is 409 idempotency_key_in_flight at once, not a wait (two
 * requests with one key on a locked table: 409 and 504, where waiting would give two 504s);
 * an error is not stored (the 504 is retried and runs). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgadmin.h"
#include "routes.h"

static resp_t *keyed(gateway_t *g, proto_t p, const char *method, const char *path, const char *tok, const char *body,
                     const char *key)
{
    const char *const headers[] = {h_fmt("Idempotency-Key: %s", key), NULL};
    req_t rq = {.method = method, .path = path, .token = tok, .body = body, .headers = headers, .proto = p};
    return h_req(g, &rq);
}

static long long count_titled(PGconn *db, const char *user, const char *title)
{
    return pg_number(db, "select count(*) from todo.tasks where user_id = $1 and title = $2", user, title);
}

/* The first answer, then its retry: the same status, body and Location, marked replayed. */
static void check_replay(gateway_t *g, PGconn *db, proto_t p, const char *user, const char *tok)
{
    const char *base = h_fmt("/api/%s/tasks", user), *key = h_uid("create");
    const char *title = h_fmt("milk %s", h_proto_name[p]), *body = h_fmt("{\"title\": \"%s\"}", title);
    resp_t *first = keyed(g, p, "POST", base, tok, body, key);
    EXPECT_STATUS(first, 201);
    EXPECT_HEADER(first, "Idempotent-Replayed", NULL);
    resp_t *again = keyed(g, p, "POST", base, tok, body, key);
    EXPECT_STATUS(again, 201);
    EXPECT_HEADER(again, "Idempotent-Replayed", "true");
    CHECK(first->body && again->body && strcmp(first->body, again->body) == 0, "the retry's body is the first one: %s vs %s",
          resp_brief(first), resp_brief(again));
    EXPECT_HEADER(again, "Location", resp_header(first, "Location"));
    CHECK(count_titled(db, user, title) == 1, "the retry created nothing: one task titled %s", title);
    long long id = json_integer_value(json_object_get(first->json, "id"));
    resp_free(first), resp_free(again);

    resp_t *r = keyed(g, p, "POST", base, tok, "{\"title\": \"something else\"}", key);
    EXPECT_ERROR(r, 422, "idempotency_key_reused");
    resp_free(r);
    r = keyed(g, p, "PUT", h_fmt("%s/%lld", base, id), tok, body, key);
    EXPECT_ERROR(r, 422, "idempotency_key_reused"); /* another method and path */
    resp_free(r);

    /* the completion toggle: its retry does not toggle back */
    const char *done = h_fmt("%s/%lld/complete", base, id), *tkey = h_uid("toggle");
    r = keyed(g, p, "PATCH", done, tok, NULL, tkey);
    (void)(EXPECT_STATUS(r, 200) && CHECK(json_is_true(json_object_get(r->json, "completed")), "the toggle completes the task"));
    resp_free(r);
    r = keyed(g, p, "PATCH", done, tok, NULL, tkey);
    EXPECT_STATUS(r, 200);
    EXPECT_HEADER(r, "Idempotent-Replayed", "true");
    resp_free(r);
    CHECK(pg_number(db, "select count(*) from todo.tasks where user_id = $1 and completed and title = $2", user, title) == 1,
          "the replayed toggle left the task completed");

    /* PUT and PATCH replay too; DELETE replays its 204 where a second delete would be a 404 */
    const char *item = h_fmt("%s/%lld", base, id);
    for (int i = 0; i < 2; i++) {
        const char *method = i ? "PATCH" : "PUT", *k = h_uid(method);
        const char *b = h_fmt("{\"title\": \"%s\", \"description\": \"%s\"}", title, method);
        resp_t *a = keyed(g, p, method, item, tok, b, k), *c = keyed(g, p, method, item, tok, b, k);
        (void)(EXPECT_STATUS(a, 200) && EXPECT_STATUS(c, 200));
        EXPECT_HEADER(c, "Idempotent-Replayed", "true");
        CHECK(a->body && c->body && strcmp(a->body, c->body) == 0, "%s: the retry's body is the first one", method);
        resp_free(a), resp_free(c);
    }
    const char *dkey = h_uid("delete");
    r = keyed(g, p, "DELETE", item, tok, NULL, dkey);
    EXPECT_STATUS(r, 204);
    resp_free(r);
    r = keyed(g, p, "DELETE", item, tok, NULL, dkey);
    EXPECT_STATUS(r, 204);
    EXPECT_HEADER(r, "Idempotent-Replayed", "true");
    resp_free(r);
    r = h_send(g, p, "DELETE", item, tok, NULL);
    EXPECT_ERROR(r, 404, "not_found"); /* without the key it runs, and finds nothing */
    resp_free(r);
}

static void check_other_user_and_syntax(gateway_t *g, proto_t p, const char *alice, const char *ta)
{
    const char *bob = h_uid("bob"), *tb = tok_user(bob), *key = h_uid("shared");
    const char *body = "{\"title\": \"same key\"}";
    resp_t *a = keyed(g, p, "POST", h_fmt("/api/%s/tasks", alice), ta, body, key);
    resp_t *b = keyed(g, p, "POST", h_fmt("/api/%s/tasks", bob), tb, body, key);
    (void)(EXPECT_STATUS(a, 201) && EXPECT_STATUS(b, 201));
    EXPECT_HEADER(b, "Idempotent-Replayed", NULL);
    EXPECT_JSTR(b, b->json, "user_id", bob);
    resp_free(a), resp_free(b);

    const char *base = h_fmt("/api/%s/tasks", alice);
    const char *bad[] = {h_repeat("k", 256), "caf\xc3\xa9"};
    for (size_t i = 0; i < 2; i++) {
        resp_t *r = keyed(g, p, "POST", base, ta, body, bad[i]);
        if (EXPECT_ERROR(r, 422, "validation_failed"))
            CHECK(h_match(r->body, "\"loc\":\\[\"header\",\"Idempotency-Key\"\\]"), "the 422 names the header: %s", r->body);
        resp_free(r);
    }
    const char *const two[] = {"Idempotency-Key: one", "Idempotency-Key: two", NULL};
    req_t rq = {.method = "POST", .path = base, .token = ta, .body = body, .headers = two, .proto = p};
    resp_t *r = h_req(g, &rq);
    EXPECT_ERROR(r, 422, "validation_failed");
    resp_free(r);
    r = keyed(g, p, "POST", base, ta, body, h_repeat("k", 255));
    EXPECT_STATUS(r, 201); /* 255 is the most */
    resp_free(r);
    r = keyed(g, p, "GET", base, ta, NULL, h_repeat("k", 300));
    (void)(EXPECT_STATUS(r, 200) && EXPECT_HEADER(r, "Idempotent-Replayed", NULL)); /* a GET ignores the header */
    resp_free(r);
}

/* Two requests with one key while todo.tasks is locked: one holds the key and times out (504),
 * the other is told at once that the key is in flight (409); a third with its own key waits
 * and times out like the first. Then the 504, which stored nothing, runs on retry. */
static void check_in_flight(PGconn *db)
{
    gateway_t g;
    h_section("a retry while the first still runs: 409 idempotency_key_in_flight");
    const char *const env[] = {"GATEWAY_THREADS=1", "DB_POOL_SIZE=3", "DB_STATEMENT_TIMEOUT=2000", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("inflight"), *tok = tok_user(user), *base = h_fmt("/api/%s/tasks", user);
    const char *key = h_uid("k"), *body = "{\"title\": \"in flight\"}";
    CHECK(gateway_wait_db(&g, 3, 10000), "the gateway's three database connections are up (each request gets its own)");
    const char *const same[] = {h_fmt("Idempotency-Key: %s", key), NULL}, *const other[] = {"Idempotency-Key: other", NULL};
    if (pg_run(db, "begin", NULL, NULL) && pg_run(db, "lock table todo.tasks in access exclusive mode", NULL, NULL)) {
        req_t rqs[3];
        for (int i = 0; i < 3; i++)
            rqs[i] = (req_t){.method = "POST",
                             .path = base,
                             .token = tok,
                             .body = body,
                             .headers = i < 2 ? same : other,
                             .proto = P_H1,
                             .timeout_ms = 15000};
        resp_t **rs = h_multi(&g, rqs, 3, 0, 0, 20000);
        int in_flight = 0, timeouts = 0;
        for (int i = 0; i < 2; i++) {
            const char *code = h_jstr(rs[i]->json, "code");
            in_flight += rs[i]->status == 409 && code && strcmp(code, "idempotency_key_in_flight") == 0;
            timeouts += rs[i]->status == 504;
        }
        CHECK(in_flight == 1 && timeouts == 1, "of two requests with one key, one is 409 in flight, the other 504 (%s; %s)",
              resp_brief(rs[0]), resp_brief(rs[1]));
        EXPECT_ERROR(rs[2], 504, "timeout"); /* another key is not in flight: it waits for the lock */
        for (int i = 0; i < 3; i++)
            resp_free(rs[i]);
        free(rs);
        pg_run(db, "rollback", NULL, NULL);
    }
    resp_t *r = keyed(&g, P_H1, "POST", base, tok, body, key);
    EXPECT_STATUS(r, 201);
    EXPECT_HEADER(r, "Idempotent-Replayed", NULL); /* the 504 stored nothing: this one ran */
    resp_free(r);
    r = keyed(&g, P_H1, "POST", base, tok, body, key);
    EXPECT_HEADER(r, "Idempotent-Replayed", "true");
    resp_free(r);
    CHECK(count_titled(db, user, "in flight") == 1, "one task in the end");
    gateway_stop(&g);
}

/* The OpenAPI document says it, driven by the route table: every route that reaches the
 * database may answer 502 outcome_unknown; every route that takes an Idempotency-Key documents
 * the header, 409 and 422, and its success carries Idempotent-Replayed; the codes are in the
 * error schema's enum. */
static void check_openapi(gateway_t *g)
{
    h_section("the OpenAPI document");
    resp_t *r = h_get(g, P_H1, "/openapi.json", NULL);
    json_t *paths = json_object_get(r->json, "paths");
    for (size_t i = 0; i < gw_routes_count; i++) {
        const gw_route_t *rt = &gw_routes[i];
        if (rt->sql == NULL)
            continue;
        char path[128];
        const char *user = strstr(rt->pattern, "{user}");
        snprintf(path, sizeof(path), "%.*s%s", user ? (int)(user - rt->pattern) : (int)strlen(rt->pattern), rt->pattern,
                 user ? h_fmt("{user_id}%s", user + 6) : "");
        const char *method = rt->method == GW_GET     ? "get"
                             : rt->method == GW_POST  ? "post"
                             : rt->method == GW_PUT   ? "put"
                             : rt->method == GW_PATCH ? "patch"
                                                      : "delete";
        json_t *op = json_object_get(json_object_get(paths, path), method), *res = json_object_get(op, "responses");
        CHECK(json_object_get(res, "502") != NULL, "%s %s documents 502 outcome_unknown", method, path);
        if (!gw_routes_takes_idempotency_key(rt))
            continue;
        char *params = json_dumps(json_object_get(op, "parameters"), JSON_COMPACT);
        CHECK(params && strstr(params, "#/components/parameters/IdempotencyKey"), "%s %s documents Idempotency-Key", method, path);
        free(params);
        CHECK(json_object_get(res, "409") && json_object_get(res, "422"), "%s %s documents 409 and 422", method, path);
        char *ok = json_dumps(json_object_get(res, h_fmt("%d", rt->status)), JSON_COMPACT);
        CHECK(ok && strstr(ok, "Idempotent-Replayed"), "%s %s: its %d documents Idempotent-Replayed", method, path, rt->status);
        free(ok);
    }
    char *codes = json_dumps(json_object_get(r->json, "components"), JSON_COMPACT);
    for (const char *const *c =
             (const char *const[]){"outcome_unknown", "idempotency_key_in_flight", "idempotency_key_reused", NULL};
         *c; c++)
        CHECK(codes && strstr(codes, h_fmt("\"%s\"", *c)), "the error codes include %s", *c);
    free(codes);
    resp_free(r);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_idempotency");
    PGconn *db = pg_admin();
    if (db == NULL)
        return h_finish();
    gateway_t g;
    if (gateway_start(&g, NULL) == 0) {
        const char *alice = h_uid("alice"), *ta = tok_user(alice);
        for (proto_t p = P_H1; p <= P_H2C; p++) {
            h_section("replay over %s", h_proto_name[p]);
            check_replay(&g, db, p, alice, ta);
            h_section("a key is one user's; its syntax, over %s", h_proto_name[p]);
            check_other_user_and_syntax(&g, p, alice, ta);
        }
        check_openapi(&g);
        gateway_stop(&g);
    }
    check_in_flight(db);
    PQfinish(db);
    return h_finish();
}
