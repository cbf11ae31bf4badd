/* routes.c: the route table, and matching a request against it. */
#include "routes.h"

#include <stdio.h>
#include <string.h>

const gw_route_t gw_routes_begin = {
    .name = "begin_request",
    .sql = "select api.begin_request($1, $2::bigint, to_timestamp($3::double precision / 1000), $4, $5, $6::integer)"};

// clang-format off
/* What a statement returns, one row of five text columns (routes.h): for GW_ROUTE_SQL, the JSON body, then the Location,
 * the next page's offset, the ETag and the status the function may have set; for GW_ROUTE_SESSION, an account and the
 * claims of the token the gateway signs for it. When api.begin_request claimed an Idempotency-Key, the body goes through
 * todo.keep_answer, which stores the answer in this same transaction (db/functions/_idempotency.sql). */
#define REPLY(call)   "select case when current_setting('idempotency.key', true) > '' " \
                          "then todo.keep_answer(b::text, current_setting('response.location', true), " \
                                                "current_setting('response.etag', true)) else b::text end, " \
                      "current_setting('response.location', true), current_setting('response.next_offset', true), " \
                      "current_setting('response.etag', true), current_setting('response.status', true) from " call " b"
#define SESSION(call) "select b->'user', b->'user'->>'id', b->>'iat', null, null from " call " b"
#define EVENTS(call)  "select todo.event_stream_text(b->'events'), b->>'last_event_id', b->>'more', null, null from " call " b"
/* The flag sets routes share. */
#define OWNER    (GW_TOKEN | GW_PATH_USER) /* a token, and the path's {user} is its user */
#define TOKEN    GW_TOKEN
#define STREAM   (OWNER | GW_QUERY_TOKEN) /* ... and a browser's EventSource, which cannot send Authorization, may use ?access_token= */
#define JSON     (GW_BODY | GW_BODY_REQUIRED)
#define JSON_OPT GW_BODY
#define ACCOUNT  GW_ACCOUNTS
/* query parameters */
#define LISTING  {"status", "sort", "order", "q", "limit", "offset", "priority", "tag[]", "due_before", "due_after"}
#define NO_QUERY {NULL}
/* request header fields: conditional requests (RFC 9110 13) */
#define READ     {"if-none-match"}
#define WRITE    {"if-match", "if-none-match"}
#define NONE     {NULL}
#define RESUME   {"last-event-id"} /* WHATWG HTML 9.2: the last event the client had */

const gw_route_t gw_routes[] = {
/*   name                   method     pattern                            kind              flags             status statement                                                                      query     headers */
    {"list_tasks",          GW_GET,    "/api/{user}/tasks",               GW_ROUTE_SQL,     OWNER,            200,   REPLY("api.list_tasks($1, $2, $3, $4, $5, $6, $7, $8::text[], $9, $10, $11)"), LISTING,  READ},
    {"create_task",         GW_POST,   "/api/{user}/tasks",               GW_ROUTE_SQL,     OWNER | JSON,     201,   REPLY("api.create_task($1)"),                                                  NO_QUERY, NONE},
    {"get_task",            GW_GET,    "/api/{user}/tasks/{id}",          GW_ROUTE_SQL,     OWNER,            200,   REPLY("api.get_task($1::bigint, $2)"),                                         NO_QUERY, READ},
    {"update_task",         GW_PUT,    "/api/{user}/tasks/{id}",          GW_ROUTE_SQL,     OWNER | JSON,     200,   REPLY("api.update_task($1::bigint, $2, $3, $4)"),                              NO_QUERY, WRITE},
    {"patch_task",          GW_PATCH,  "/api/{user}/tasks/{id}",          GW_ROUTE_SQL,     OWNER | JSON,     200,   REPLY("api.patch_task($1::bigint, $2, $3, $4)"),                               NO_QUERY, WRITE},
    {"delete_task",         GW_DELETE, "/api/{user}/tasks/{id}",          GW_ROUTE_SQL,     OWNER,            204,   REPLY("api.delete_task($1::bigint, $2, $3)"),                                  NO_QUERY, WRITE},
    {"set_task_completion", GW_PATCH,  "/api/{user}/tasks/{id}/complete", GW_ROUTE_SQL,     OWNER | JSON_OPT, 200,   REPLY("api.set_task_completion($1::bigint, $2, $3, $4)"),                      NO_QUERY, WRITE},
    {"events",              GW_GET,    "/api/{user}/events",              GW_ROUTE_EVENTS,  STREAM,           200,   EVENTS("api.events_since($1::bigint)"),                                        NO_QUERY, RESUME},
    {"register",            GW_POST,   "/api/auth/register",              GW_ROUTE_SESSION, ACCOUNT | JSON,   201,   SESSION("api.register($1)"),                                                   NO_QUERY, NONE},
    {"signup",              GW_POST,   "/api/auth/signup",                GW_ROUTE_SESSION, ACCOUNT | JSON,   201,   SESSION("api.register($1)"),                                                   NO_QUERY, NONE},
    {"login",               GW_POST,   "/api/auth/login",                 GW_ROUTE_SESSION, ACCOUNT | JSON,   200,   SESSION("api.login($1)"),                                                      NO_QUERY, NONE},
    {"signin",              GW_POST,   "/api/auth/signin",                GW_ROUTE_SESSION, ACCOUNT | JSON,   200,   SESSION("api.login($1)"),                                                      NO_QUERY, NONE},
    {"logout",              GW_POST,   "/api/auth/logout",                GW_ROUTE_SQL,     ACCOUNT | TOKEN,  204,   REPLY("api.logout()"),                                                         NO_QUERY, NONE},
    {"me",                  GW_GET,    "/api/auth/me",                    GW_ROUTE_SQL,     ACCOUNT | TOKEN,  200,   REPLY("api.me()"),                                                             NO_QUERY, NONE},
    {"healthz",             GW_GET,    "/healthz",                        GW_ROUTE_HEALTH,  0,                200,   NULL,                                                                          NO_QUERY, NONE},
    {"readyz",              GW_GET,    "/readyz",                         GW_ROUTE_SQL,     0,                200,   "select '{\"status\":\"ready\"}', null, null, null, null",                     NO_QUERY, NONE},
    {"openapi",             GW_GET,    "/openapi.json",                   GW_ROUTE_OPENAPI, 0,                200,   NULL,                                                                          NO_QUERY, NONE},
    {"metrics",             GW_GET,    "/metrics",                        GW_ROUTE_METRICS, 0,                200,   NULL,                                                                          NO_QUERY, NONE},
    {"docs",                GW_GET,    "/docs",                           GW_ROUTE_DOCS,    0,                200,   NULL,                                                                          NO_QUERY, NONE},
};
#undef OWNER
#undef TOKEN
#undef STREAM
#undef JSON
#undef JSON_OPT
#undef ACCOUNT
#undef LISTING
#undef NO_QUERY
#undef READ
#undef WRITE
#undef NONE
#undef RESUME
#undef EVENTS
#undef REPLY
#undef SESSION
// clang-format on

const size_t gw_routes_count = sizeof(gw_routes) / sizeof(gw_routes[0]);

unsigned gw_routes_method(const char *name, size_t len)
{
    static const struct {
        const char *name;
        unsigned bit;
    } methods[] = {{"GET", GW_GET},     {"POST", GW_POST},     {"PUT", GW_PUT},
                   {"PATCH", GW_PATCH}, {"DELETE", GW_DELETE}, {"OPTIONS", GW_OPTIONS}};
    for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
        if (strlen(methods[i].name) == len && memcmp(methods[i].name, name, len) == 0)
            return methods[i].bit;
    if (len == 4 && memcmp(name, "HEAD", 4) == 0)
        return GW_GET; /* HEAD is GET without the body (RFC 9110 9.3.2); h2o drops the body */
    return 0;
}

/* Matches one pattern against a path; fills user and id. Segments are never empty. */
static int match_pattern(const char *pattern, const char *path, size_t len, gw_str_t *user, gw_str_t *id)
{
    const char *p = pattern, *s = path, *end = path + len;

    while (*p != '\0') {
        if (s == end || *p != '/' || *s != '/')
            return 0;
        p++, s++;
        const char *pseg_end = strchr(p, '/');
        size_t plen = pseg_end ? (size_t)(pseg_end - p) : strlen(p);
        const char *sseg_end = memchr(s, '/', end - s);
        size_t slen = sseg_end ? (size_t)(sseg_end - s) : (size_t)(end - s);
        if (slen == 0)
            return 0;
        if (plen == 6 && memcmp(p, "{user}", 6) == 0) {
            *user = (gw_str_t){s, slen};
        } else if (plen == 4 && memcmp(p, "{id}", 4) == 0) {
            *id = (gw_str_t){s, slen};
        } else if (plen != slen || memcmp(p, s, slen) != 0) {
            return 0;
        }
        p += plen, s += slen;
    }
    return s == end;
}

int gw_routes_match(const char *path, size_t len, unsigned method, int accounts, gw_match_t *m)
{
    memset(m, 0, sizeof(*m));
    for (size_t i = 0; i < gw_routes_count; i++) {
        const gw_route_t *r = gw_routes + i;
        gw_str_t user = {NULL, 0}, id = {NULL, 0};
        if ((r->flags & GW_ACCOUNTS) && !accounts)
            continue;
        if (!match_pattern(r->pattern, path, len, &user, &id))
            continue;
        m->allowed |= r->method | GW_OPTIONS;
        if (r->method == method && m->route == NULL) {
            m->route = r;
            m->user = user;
            m->id = id;
        }
    }
    return m->route != NULL;
}

size_t gw_routes_allow(unsigned allowed, char *buf, size_t cap)
{
    /* HEAD goes wherever GET does */
    static const struct {
        unsigned bit;
        const char *name;
    } names[] = {{GW_GET, "GET"},     {GW_GET, "HEAD"},      {GW_POST, "POST"},      {GW_PUT, "PUT"},
                 {GW_PATCH, "PATCH"}, {GW_DELETE, "DELETE"}, {GW_OPTIONS, "OPTIONS"}};
    size_t n = 0;
    if (cap == 0)
        return 0;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!(allowed & names[i].bit))
            continue;
        int w = snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", names[i].name);
        if (w < 0 || (size_t)w >= cap - n)
            break;
        n += w;
    }
    return n;
}

int gw_routes_takes_idempotency_key(const gw_route_t *r)
{
    return (r->flags & GW_PATH_USER) && r->method != GW_GET;
}

int gw_routes_valid_id(gw_str_t id)
{
    if (id.len == 0 || id.len > 18)
        return 0;
    for (size_t i = 0; i < id.len; i++)
        if (id.base[i] < '0' || id.base[i] > '9')
            return 0;
    return 1;
}
