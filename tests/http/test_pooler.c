/* test_pooler: app.user_id never leaks between clients of PgBouncer sharing one server
 * connection. Two gateways (one connection each, many requests at once) go through PgBouncer's
 * pool of one server connection (transaction mode, DB_PREPARED=off; TEST_PGBOUNCER_ONE_DATABASE_URL):
 * alice and bob, alternating, each through both gateways, list, read, create, read each
 * other's task and send a revoked token, 64 at a time; every answer is checked, PgBouncer's
 * console shows the one server connection shared by the two clients, and the rows end as
 * they should. With DB_PIPELINE_DEPTH=32 (the default before DB_PREPARED=off lowered it to 1)
 * answers went to the wrong request, another user's included, in about a third of the runs
 * on a busy machine (none on an idle one): PgBouncer 1.18 may hand the server connection to
 * the other client after a ReadyForQuery while this client's next transaction runs on it.
 * Run by tests/http/via-pgbouncer (label pgbouncer), which points TEST_ADMIN_DATABASE_URL at
 * the cluster behind PgBouncer. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgadmin.h"

enum { N = 400, SEED = 3 };
enum { K_LIST, K_GET, K_CREATE, K_OTHERS, K_REVOKED, K_COUNT };
static const char *const kind_name[K_COUNT] = {"list", "read", "create", "read of the other's task", "revoked token"};

/* Counts the rows of a SHOW command of PgBouncer's console whose column col equals want. */
static long console_rows(PGconn *c, const char *show, const char *col, const char *want)
{
    PGresult *res = PQexec(c, show); /* the console speaks the simple query protocol only */
    long n = -1;
    if (PQresultStatus(res) == PGRES_TUPLES_OK) {
        int f = PQfnumber(res, col);
        n = 0;
        for (int i = 0; f >= 0 && i < PQntuples(res); i++)
            n += strcmp(PQgetvalue(res, i, f), want) == 0;
    } else {
        CHECK(0, "%s on PgBouncer's console: %s", show, PQerrorMessage(c));
    }
    PQclear(res);
    return n;
}

/* NULL when the answer is right for a request of kind k made as user (own task id want). */
static const char *judge(int k, const resp_t *r, const char *user, long long want)
{
    switch (k) {
    case K_LIST:
        if (r->status != 200 || h_jlen(r) < SEED)
            return "a list is 200 with at least the seeded tasks";
        for (size_t j = 0; j < json_array_size(r->json); j++) {
            const char *owner = h_jstr(json_array_get(r->json, j), "user_id");
            if (owner == NULL || strcmp(owner, user) != 0)
                return "a list holds only the requester's tasks";
        }
        return NULL;
    case K_GET:
        return r->status == 200 && json_integer_value(json_object_get(r->json, "id")) == want && h_jstr(r->json, "user_id") &&
                       strcmp(h_jstr(r->json, "user_id"), user) == 0
                   ? NULL
                   : "a read of one's own task is 200 with that task";
    case K_CREATE:
        return r->status == 201 && h_jstr(r->json, "user_id") && strcmp(h_jstr(r->json, "user_id"), user) == 0 &&
                       strncmp(h_jstr(r->json, "title"), user, strlen(user)) == 0
                   ? NULL
                   : "a create is 201 and belongs to the requester";
    case K_OTHERS:
        return r->status == 404 ? NULL : "the other user's task is 404";
    default:
        return r->status == 401 ? NULL : "a revoked token is 401";
    }
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_pooler");
    const char *one = getenv("TEST_PGBOUNCER_ONE_DATABASE_URL"), *stats = getenv("TEST_PGBOUNCER_STATS_URL");
    if (!CHECK(one && stats, "TEST_PGBOUNCER_ONE_DATABASE_URL and TEST_PGBOUNCER_STATS_URL are set (scripts/test sets them)"))
        return h_finish();
    PGconn *db = pg_admin(), *console = PQconnectdb(stats);
    CHECK(PQstatus(console) == CONNECTION_OK, "PgBouncer's console answers: %s", PQerrorMessage(console));
    const char *const env[] = {h_fmt("DATABASE_URL=%s", one), "GATEWAY_THREADS=1", "DB_POOL_SIZE=1", "LOG_LEVEL=info", NULL};
    gateway_t gws[2];
    if (db == NULL || gateway_start(&gws[0], env) != 0 || gateway_start(&gws[1], env) != 0) {
        if (gws[0].running)
            gateway_kill(&gws[0]);
        PQfinish(console);
        return h_finish();
    }

    h_section("setup: alice and bob, each with %d + 300 tasks; carol, whose tokens are revoked", SEED);
    const char *users[2] = {h_uid("pool-alice"), h_uid("pool-bob")}, *carol = h_uid("pool-carol");
    const char *toks[2] = {tok_user(users[0]), tok_user(users[1])}, *carol_tok = tok_user(carol);
    long long ids[2][SEED] = {{0}};
    for (int u = 0; u < 2; u++)
        for (int k = 0; k < SEED; k++) {
            resp_t *r = h_send(&gws[u], P_H1, "POST", h_fmt("/api/%s/tasks", users[u]), toks[u],
                               h_fmt("{\"title\": \"%s seed %d\"}", users[u], k));
            if (EXPECT_STATUS(r, 201))
                ids[u][k] = json_integer_value(json_object_get(r->json, "id"));
            resp_free(r);
        }
    for (int u = 0; u < 2; u++) /* long lists: the next transactions reach PgBouncer while one runs */
        pg_run(db, "insert into todo.tasks (user_id, title) select $1, $1 || ' bulk ' || g from generate_series(1, 300) g",
               users[u], NULL);
    pg_run(db, "insert into todo.revocations (user_id, tokens_valid_after) values ($1, now())", carol, NULL);

    h_section("%d requests at once: users alternating, each through both gateways", N);
    req_t *rqs = calloc(N, sizeof *rqs);
    int *kinds = calloc(N, sizeof *kinds);
    long long *want = calloc(N, sizeof *want);
    for (int i = 0; i < N; i++) {
        int u = i % 2, k = (i / 4) % K_COUNT;
        const char *base = h_fmt("/api/%s/tasks", k == K_REVOKED ? carol : users[u]);
        kinds[i] = k;
        rqs[i] = (req_t){.path = base,
                         .token = k == K_REVOKED ? carol_tok : toks[u],
                         .proto = P_H1,
                         .gw = &gws[(i / 2) % 2],
                         .timeout_ms = 30000,
                         .raw = 1};
        if (k == K_GET || k == K_OTHERS)
            want[i] = ids[k == K_GET ? u : 1 - u][(i / 8) % SEED], rqs[i].path = h_fmt("%s/%lld", base, want[i]);
        else if (k == K_CREATE)
            rqs[i].body = h_fmt("{\"title\": \"%s req %d\"}", users[u], i);
    }
    resp_t **rs = h_multi(&gws[0], rqs, N, 0, 64, 60000);
    int wrong[K_COUNT] = {0}, total[K_COUNT] = {0}, creates[2] = {0};
    const char *first[K_COUNT] = {0};
    for (int i = 0; i < N; i++) {
        const char *why = judge(kinds[i], rs[i], users[i % 2], want[i]);
        total[kinds[i]]++;
        if (why != NULL && wrong[kinds[i]]++ == 0)
            first[kinds[i]] = h_fmt("%s: %s (as %s)", why, resp_brief(rs[i]), users[i % 2]);
        creates[i % 2] += why == NULL && kinds[i] == K_CREATE;
        resp_free(rs[i]);
    }
    free(rs);
    for (int k = 0; k < K_COUNT; k++)
        CHECK(wrong[k] == 0, "every %s is right (%d of %d wrong)%s%s", kind_name[k], wrong[k], total[k],
              first[k] ? "; first: " : "", first[k] ? first[k] : "");

    h_section("one server connection, shared");
    CHECK(console_rows(console, "SHOW SERVERS", "database", "todo_one") == 1, "PgBouncer holds one server connection for todo_one");
    long clients = console_rows(console, "SHOW CLIENTS", "database", "todo_one");
    CHECK(clients >= 2, "the two gateways' connections are its clients (%ld)", clients);

    h_section("the rows");
    for (int u = 0; u < 2; u++)
        pg_expect_own_tasks(db, users[u], SEED + 300 + creates[u]);
    CHECK(pg_number(db, "select count(*) from todo.tasks where user_id = $1", carol, NULL) == 0,
          "carol's revoked token stored nothing");

    h_section("shutdown");
    gateway_stop(&gws[0]);
    gateway_stop(&gws[1]);
    free(rqs);
    free(kinds);
    free(want);
    PQfinish(console);
    PQfinish(db);
    return h_finish();
}
