/* routes.h: the route table (method, path pattern, SQL, success status) and path matching.
 * Pure: no event loop, no database; unit-tested in tests/unit/test_routes.c. */
#ifndef GW_ROUTES_H
#define GW_ROUTES_H

#include <stddef.h>

#include "text.h"

typedef enum {
    GW_GET = 1 << 0,
    GW_POST = 1 << 1,
    GW_PUT = 1 << 2,
    GW_PATCH = 1 << 3,
    GW_DELETE = 1 << 4,
    GW_OPTIONS = 1 << 5,
} gw_method_t;

/* What a route does; handler.c keeps, for each kind, how it is served. */
typedef enum {
    GW_ROUTE_SQL,     /* run the statement, send the JSON it returned */
    GW_ROUTE_SESSION, /* run the statement, then sign a token for the account it returned */
    GW_ROUTE_HEALTH,  /* 200 while the process runs, no database */
    GW_ROUTE_OPENAPI, /* the OpenAPI document (gateway/openapi.json, built in) */
    GW_ROUTE_METRICS, /* Prometheus text */
    GW_ROUTE_DOCS,    /* the API reference page (docs.c), built on the OpenAPI document */
    GW_ROUTE_EVENTS,  /* a stream of Server-Sent Events (events.c): the statement runs once per fetch */
    GW_ROUTE_KINDS    /* how many kinds there are; not one */
} gw_route_kind_t;

/* Route flags. */
#define GW_TOKEN 0x01         /* needs a bearer token, whose user api.begin_request sets */
#define GW_PATH_USER 0x02     /* the path's {user} must be the token's user (else 403) */
#define GW_BODY 0x04          /* takes a JSON body: bound as a parameter (NULL when empty) */
#define GW_BODY_REQUIRED 0x08 /* ... and an empty body is a 400 invalid_json */
#define GW_ACCOUNTS 0x10      /* exists only with ACCOUNTS=on */
#define GW_QUERY_TOKEN 0x20   /* without an Authorization header, the access_token query parameter (RFC 6750 2.3) */

#define GW_ROUTE_MAX_QUERY 10
#define GW_ROUTE_MAX_HEADERS 2
#define GW_ROUTE_MAX_PARAMS 14

/*
 * One route. The statement's parameters are, in order: the path's {id} (when the
 * pattern has one), the body (GW_BODY), each named query parameter (NULL when absent; a
 * name ending in "[]" is repeatable: `tag[]` binds every value of tag, in order, as one
 * text[]), then each named request header field (lower case; NULL when absent): params.h.
 * Every statement returns one row of five text columns:
 *   GW_ROUTE_SQL:     body, Location, next page offset, ETag, status (each '' / NULL when
 *                     the function did not set it; a status replaces the route's: 304)
 *   GW_ROUTE_SESSION: the "user" object, the token's sub, the token's iat, NULL, NULL
 *   GW_ROUTE_EVENTS:  the events as text/event-stream, the last one's id, whether more follow
 *                     ("true"), NULL, NULL
 * The database layer prepares each statement under the route's name.
 */
typedef struct gw_route {
    const char *name; /* unique; names the prepared statement, and the route in logs and metrics */
    unsigned method;
    const char *pattern; /* literal segments, {user} and {id} */
    gw_route_kind_t kind;
    unsigned flags;
    int status;                                /* on success */
    const char *sql;                           /* NULL: the gateway answers alone */
    const char *query[GW_ROUTE_MAX_QUERY];     /* query parameter names, NULL-terminated */
    const char *headers[GW_ROUTE_MAX_HEADERS]; /* request header field names, NULL-terminated */
} gw_route_t;

typedef struct gw_match {
    const gw_route_t *route; /* NULL when the path is unknown or the method not allowed */
    unsigned allowed;        /* methods the path accepts, OPTIONS included; 0: unknown path */
    gw_str_t user;           /* the raw {user} segment, percent-encoded as it came */
    gw_str_t id;             /* the raw {id} segment */
} gw_match_t;

/* The statement every route with a statement runs first, api.begin_request($1 user or NULL,
 * $2 iat, $3 the deadline in ms since the epoch in the database's clock, $4 the
 * Idempotency-Key, $5 the request's fingerprint, $6 the status stored with its answer): not a
 * route of the table (nothing matches it), but prepared and named like one. */
extern const gw_route_t gw_routes_begin;
#define GW_BEGIN_PARAMS 6

/* The table, and its length. */
extern const gw_route_t gw_routes[];
extern const size_t gw_routes_count;

/* Parses an HTTP method name; returns its gw_method_t bit, or 0 for any other method. */
unsigned gw_routes_method(const char *name, size_t len);

/* Matches a path (without the query string) and a method. accounts: whether
 * GW_ACCOUNTS routes exist. Returns 1 when a route was found (m->route set), 0 otherwise
 * (m->allowed tells 404 from 405). */
int gw_routes_match(const char *path, size_t len, unsigned method, int accounts, gw_match_t *m);

/* Writes the Allow header's value for a method set ("GET, POST, OPTIONS") into buf.
 * Returns its length. */
size_t gw_routes_allow(unsigned allowed, char *buf, size_t cap);

/* Whether a route takes an Idempotency-Key: the writes of a user's tasks (POST, PUT, PATCH
 * and DELETE under /api/{user}/tasks). */
int gw_routes_takes_idempotency_key(const gw_route_t *r);

/* Whether an {id} segment names a possible task id: 1 to 18 ASCII digits. */
int gw_routes_valid_id(gw_str_t id);

#endif
