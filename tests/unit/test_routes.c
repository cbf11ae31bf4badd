/* test_routes: the route table, path matching, 404 vs 405, Allow, ids. */
#include <string.h>

#include "check.h"
#include "metrics.h"
#include "routes.h"

static const gw_route_t *match(const char *path, unsigned method, int accounts, gw_match_t *m)
{
    gw_routes_match(path, strlen(path), method, accounts, m);
    return m->route;
}

static int str_is(gw_str_t s, const char *want)
{
    return s.base != NULL && s.len == strlen(want) && memcmp(s.base, want, s.len) == 0;
}

static void test_methods(void)
{
    CHECK_EQ(gw_routes_method("GET", 3), GW_GET);
    CHECK_EQ(gw_routes_method("PATCH", 5), GW_PATCH);
    CHECK_EQ(gw_routes_method("OPTIONS", 7), GW_OPTIONS);
    CHECK_EQ(gw_routes_method("get", 3), 0);       /* methods are case-sensitive */
    CHECK_EQ(gw_routes_method("HEAD", 4), GW_GET); /* HEAD is GET without the body */
    CHECK_EQ(gw_routes_method("GETX", 4), 0);
}

static void test_task_routes(void)
{
    gw_match_t m;
    const gw_route_t *r;

    r = match("/api/u_1/tasks", GW_GET, 1, &m);
    CHECK(r != NULL && strcmp(r->name, "list_tasks") == 0 && r->status == 200);
    CHECK(str_is(m.user, "u_1") && m.id.base == NULL);
    r = match("/api/u_1/tasks", GW_POST, 1, &m);
    CHECK(r != NULL && strcmp(r->name, "create_task") == 0 && r->status == 201 && (r->flags & GW_BODY_REQUIRED));
    r = match("/api/u_1/tasks/42", GW_GET, 1, &m);
    CHECK(r != NULL && strcmp(r->name, "get_task") == 0 && str_is(m.id, "42") && str_is(m.user, "u_1"));
    r = match("/api/u_1/tasks/42", GW_PUT, 1, &m);
    CHECK(r != NULL && strcmp(r->name, "update_task") == 0);
    r = match("/api/u_1/tasks/42", GW_PATCH, 1, &m);
    CHECK(r != NULL && strcmp(r->name, "patch_task") == 0);
    r = match("/api/u_1/tasks/42", GW_DELETE, 1, &m);
    CHECK(r != NULL && strcmp(r->name, "delete_task") == 0 && r->status == 204);
    r = match("/api/u_1/tasks/42/complete", GW_PATCH, 1, &m);
    CHECK(r != NULL && strcmp(r->name, "set_task_completion") == 0 && (r->flags & GW_BODY) && !(r->flags & GW_BODY_REQUIRED));
    /* every task route needs a token and the path's user */
    for (size_t i = 0; i < gw_routes_count; i++)
        if (strncmp(gw_routes[i].pattern, "/api/{user}", 11) == 0)
            CHECK((gw_routes[i].flags & (GW_TOKEN | GW_PATH_USER)) == (GW_TOKEN | GW_PATH_USER));
}

static void test_not_found_and_not_allowed(void)
{
    gw_match_t m;
    CHECK(match("/api/u_1/tasks/", GW_GET, 1, &m) == NULL && m.allowed == 0); /* trailing slash */
    CHECK(match("/api/u_1/tasks/42/", GW_GET, 1, &m) == NULL && m.allowed == 0);
    CHECK(match("/api//tasks", GW_GET, 1, &m) == NULL && m.allowed == 0); /* empty user */
    CHECK(match("/api/u_1/task", GW_GET, 1, &m) == NULL && m.allowed == 0);
    CHECK(match("/api/u_1/tasks/42/complete/x", GW_PATCH, 1, &m) == NULL && m.allowed == 0);
    CHECK(match("", GW_GET, 1, &m) == NULL && m.allowed == 0);
    CHECK(match("/", GW_GET, 1, &m) == NULL && m.allowed == 0);
    CHECK(match("/healthz/", GW_GET, 1, &m) == NULL && m.allowed == 0);
    /* known path, wrong method: 405 with the methods the path has */
    CHECK(match("/api/u_1/tasks", GW_DELETE, 1, &m) == NULL);
    CHECK_EQ(m.allowed, GW_GET | GW_POST | GW_OPTIONS);
    CHECK(match("/api/u_1/tasks/7", GW_POST, 1, &m) == NULL);
    CHECK_EQ(m.allowed, GW_GET | GW_PUT | GW_PATCH | GW_DELETE | GW_OPTIONS);
    CHECK(match("/api/u_1/tasks/7/complete", GW_GET, 1, &m) == NULL);
    CHECK_EQ(m.allowed, GW_PATCH | GW_OPTIONS);
    CHECK(match("/healthz", GW_POST, 1, &m) == NULL);
    CHECK_EQ(m.allowed, GW_GET | GW_OPTIONS);
    /* an unknown method on a known path is a 405 too */
    CHECK(match("/api/u_1/tasks", 0, 1, &m) == NULL && m.allowed != 0);
}

static void test_accounts(void)
{
    gw_match_t m;
    const gw_route_t *r;
    const char *session[] = {"/api/auth/register", "/api/auth/signup", "/api/auth/login", "/api/auth/signin"};
    for (size_t i = 0; i < 4; i++) {
        r = match(session[i], GW_POST, 1, &m);
        CHECK(r != NULL && r->kind == GW_ROUTE_SESSION && !(r->flags & GW_TOKEN));
        CHECK(match(session[i], GW_POST, 0, &m) == NULL && m.allowed == 0); /* ACCOUNTS=off: gone */
    }
    CHECK_EQ(match("/api/auth/register", GW_POST, 1, &m)->status, 201);
    CHECK_EQ(match("/api/auth/login", GW_POST, 1, &m)->status, 200);
    r = match("/api/auth/logout", GW_POST, 1, &m);
    CHECK(r != NULL && r->status == 204 && (r->flags & GW_TOKEN) && !(r->flags & GW_PATH_USER));
    r = match("/api/auth/me", GW_GET, 1, &m);
    CHECK(r != NULL && r->status == 200 && (r->flags & GW_TOKEN));
    CHECK(match("/api/auth/me", GW_GET, 0, &m) == NULL && m.allowed == 0);
    /* "auth" as a user id still reaches the task routes, where the token must say "auth" */
    r = match("/api/auth/tasks", GW_GET, 1, &m);
    CHECK(r != NULL && strcmp(r->name, "list_tasks") == 0 && str_is(m.user, "auth"));
}

static void test_health(void)
{
    gw_match_t m;
    CHECK(match("/healthz", GW_GET, 0, &m) != NULL && m.route->kind == GW_ROUTE_HEALTH && m.route->flags == 0);
    /* /readyz is an ordinary statement with no token: 200 when the database answers */
    CHECK(match("/readyz", GW_GET, 0, &m) != NULL && m.route->kind == GW_ROUTE_SQL && m.route->sql != NULL && m.route->flags == 0);
    CHECK(match("/openapi.json", GW_GET, 0, &m) != NULL && m.route->kind == GW_ROUTE_OPENAPI);
    CHECK(match("/metrics", GW_GET, 0, &m) != NULL && m.route->kind == GW_ROUTE_METRICS);
    CHECK(match("/docs", GW_GET, 0, &m) != NULL && m.route->kind == GW_ROUTE_DOCS && m.route->flags == 0);
    CHECK(match("/metrics", GW_POST, 0, &m) == NULL && m.allowed == (GW_GET | GW_OPTIONS));
}

static void test_table(void)
{
    /* every SQL route binds its arguments, never builds SQL; every statement has its three columns */
    for (size_t i = 0; i < gw_routes_count; i++) {
        const gw_route_t *r = gw_routes + i;
        if (r->kind == GW_ROUTE_HEALTH || r->kind == GW_ROUTE_OPENAPI || r->kind == GW_ROUTE_METRICS || r->kind == GW_ROUTE_DOCS) {
            CHECK(r->sql == NULL && r->flags == 0); /* served by the gateway alone, no token */
            continue;
        }
        CHECK(r->sql != NULL && strncmp(r->sql, "select ", 7) == 0);
        int params = (strstr(r->pattern, "{id}") != NULL) + ((r->flags & GW_BODY) != 0);
        for (size_t q = 0; q < GW_ROUTE_MAX_QUERY && r->query[q] != NULL; q++)
            params++;
        for (size_t h = 0; h < GW_ROUTE_MAX_HEADERS && r->headers[h] != NULL; h++) {
            params++;
            CHECK(strspn(r->headers[h], "abcdefghijklmnopqrstuvwxyz-") == strlen(r->headers[h])); /* h2o's lower case */
        }
        CHECK(params <= GW_ROUTE_MAX_PARAMS);
        for (int p = 1; p <= params; p++) {
            char ref[16];
            snprintf(ref, sizeof(ref), "$%d", p);
            CHECK(strstr(r->sql, ref) != NULL);
        }
        char beyond[16];
        snprintf(beyond, sizeof(beyond), "$%d", params + 1);
        CHECK(strstr(r->sql, beyond) == NULL);
    }
    CHECK(strstr(gw_routes_begin.sql, "api.begin_request($1") != NULL);
    /* every GW_ROUTE_SQL statement returns the five columns of a reply, ETag and status among them */
    for (size_t i = 0; i < gw_routes_count; i++)
        if (gw_routes[i].kind == GW_ROUTE_SQL && gw_routes[i].sql[7] != '\'')
            CHECK(strstr(gw_routes[i].sql, "current_setting('response.etag', true), current_setting('response.status', true)"));
    CHECK(strstr(gw_routes_begin.sql, "$6") != NULL && GW_BEGIN_PARAMS == 6);
    CHECK(strstr(gw_routes_begin.sql, "$7") == NULL);
    CHECK(gw_routes_count <= GW_METRICS_ROUTES); /* every route has its own metrics row */
    /* names label metrics and name prepared statements: unique (the begin statement's too), short,
     * and free of characters a label value would need escaped */
    for (size_t i = 0; i < gw_routes_count; i++) {
        CHECK(strspn(gw_routes[i].name, "abcdefghijklmnopqrstuvwxyz_") == strlen(gw_routes[i].name));
        CHECK(strlen(gw_routes[i].name) > 0 && strlen(gw_routes[i].name) < 64); /* NAMEDATALEN */
        CHECK(strcmp(gw_routes[i].name, gw_routes_begin.name) != 0);
        for (size_t j = i + 1; j < gw_routes_count; j++)
            CHECK(strcmp(gw_routes[i].name, gw_routes[j].name) != 0);
    }
}

/* Idempotency-Key: taken by the writes of a user's tasks, and by no other route */
static void test_idempotency_key_routes(void)
{
    static const char *const takers[] = {"create_task", "update_task", "patch_task", "delete_task", "set_task_completion"};
    size_t taking = 0;
    for (size_t i = 0; i < gw_routes_count; i++) {
        int expected = 0;
        for (size_t j = 0; j < sizeof(takers) / sizeof(takers[0]); j++)
            expected |= strcmp(gw_routes[i].name, takers[j]) == 0;
        CHECK_EQ(gw_routes_takes_idempotency_key(gw_routes + i), expected);
        taking += expected;
    }
    CHECK_EQ(taking, sizeof(takers) / sizeof(takers[0]));
}

/* The conditional request header fields each task route reads (RFC 9110 13): If-None-Match on a
 * GET, If-Match and If-None-Match on a write; and the list's repeatable tag. */
static void test_conditional_and_repeatable(void)
{
    gw_match_t m;
    const gw_route_t *r = match("/api/u/tasks/1", GW_GET, 1, &m);
    CHECK(r && strcmp(r->headers[0], "if-none-match") == 0 && r->headers[1] == NULL);
    r = match("/api/u/tasks", GW_GET, 1, &m);
    CHECK(r && strcmp(r->headers[0], "if-none-match") == 0);
    static const unsigned writes[] = {GW_PUT, GW_PATCH, GW_DELETE};
    for (size_t i = 0; i < 3; i++) {
        r = match("/api/u/tasks/1", writes[i], 1, &m);
        CHECK(r && strcmp(r->headers[0], "if-match") == 0 && strcmp(r->headers[1], "if-none-match") == 0);
    }
    r = match("/api/u/tasks/1/complete", GW_PATCH, 1, &m);
    CHECK(r && strcmp(r->headers[0], "if-match") == 0 && strcmp(r->headers[1], "if-none-match") == 0);
    CHECK(match("/api/u/tasks", GW_POST, 1, &m)->headers[0] == NULL); /* a new task has no version to compare */
    r = match("/api/u/tasks", GW_GET, 1, &m);
    int tag = -1;
    for (int q = 0; q < GW_ROUTE_MAX_QUERY && r->query[q] != NULL; q++)
        if (strcmp(r->query[q], "tag[]") == 0)
            tag = q;
    CHECK(tag >= 0 && strstr(r->sql, "$8::text[]") != NULL && tag + 1 == 8); /* no {id}, no body: the 8th argument */
}

static void test_allow(void)
{
    char buf[64];
    CHECK_EQ(gw_routes_allow(GW_GET | GW_POST | GW_OPTIONS, buf, sizeof(buf)), strlen("GET, HEAD, POST, OPTIONS"));
    CHECK(strcmp(buf, "GET, HEAD, POST, OPTIONS") == 0);
    gw_routes_allow(GW_PATCH, buf, sizeof(buf));
    CHECK(strcmp(buf, "PATCH") == 0);
    CHECK_EQ(gw_routes_allow(0, buf, sizeof(buf)), 0);
    CHECK(gw_routes_allow(GW_GET | GW_PUT | GW_PATCH | GW_DELETE | GW_OPTIONS, buf, 8) < 8); /* truncates, stays terminated */
}

static void test_ids(void)
{
    CHECK(gw_routes_valid_id((gw_str_t){"42", 2}));
    CHECK(gw_routes_valid_id((gw_str_t){"0", 1}));
    CHECK(gw_routes_valid_id((gw_str_t){"999999999999999999", 18}));
    CHECK(!gw_routes_valid_id((gw_str_t){"9999999999999999999", 19})); /* past bigint */
    CHECK(!gw_routes_valid_id((gw_str_t){"abc", 3}));
    CHECK(!gw_routes_valid_id((gw_str_t){"-1", 2}));
    CHECK(!gw_routes_valid_id((gw_str_t){"1e3", 3}));
    CHECK(!gw_routes_valid_id((gw_str_t){"", 0}));
    CHECK(!gw_routes_valid_id((gw_str_t){"%31", 3}));
}

int main(void)
{
    test_methods();
    test_task_routes();
    test_not_found_and_not_allowed();
    test_accounts();
    test_health();
    test_table();
    test_conditional_and_repeatable();
    test_allow();
    test_idempotency_key_routes();
    test_ids();
    return check_report("test_routes");
}
