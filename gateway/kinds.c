/*
 * kinds.c: how each kind of route (routes.h) is answered, once handler.c's steps let a
 * request through: the gateway's own routes (health, the OpenAPI document, metrics, docs),
 * and the database's reply to the others, turned into the response (body, Location, Link,
 * ETag, a status the function set, an Idempotency-Key's replay, a failure's status).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "docs.h"
#include "events.h"
#include "handler_internal.h"
#include "log.h"
#include "uri.h"

extern const unsigned char gw_openapi_json[];
extern const size_t gw_openapi_json_len;

/* ---- the database's answers, by kind ---- */

/* GW_ROUTE_SQL: the JSON the statement returned, with its Location, Link and ETag when it set
 * them, and its status (304) when it set one; or the answer stored for the request's
 * Idempotency-Key, replayed with its own status. */
static void reply_json(request_t *r, const gw_db_reply_t *reply)
{
    gw_exchange_t *x = &r->x;
    int status = reply->cols[4].len == 3 ? atoi(reply->cols[4].base) : 0; /* response.status, when set */
    status = reply->replayed ? reply->replayed : status >= 200 && status <= 599 ? status : x->route->status;
    if (reply->replayed)
        gw_respond_header(x, "idempotent-replayed", h2o_iovec_init(H2O_STRLIT("true")));
    if (reply->cols[3].len > 0)
        gw_respond_header(x, "etag", reply->cols[3]);
    if (status == 204 || status == 304) {
        gw_respond_empty(x, status);
        return;
    }
    h2o_iovec_t location, link; /* for the id of what was created under the path; the next page */
    gw_uri_answer_headers(x->req, reply->cols[1], reply->cols[2], &location, &link);
    if (location.base != NULL)
        gw_respond_header(x, "location", location);
    if (link.base != NULL)
        gw_respond_header(x, "link", link);
    gw_respond_json(x, status, reply->cols[0].base ? reply->cols[0] : h2o_iovec_init(H2O_STRLIT("null")));
}

/* GW_ROUTE_SESSION: the database checked the password; the gateway signs: {"token": ..., "user": ...} */
static void reply_session(request_t *r, const gw_db_reply_t *reply)
{
    gw_exchange_t *x = &r->x;
    const h2o_iovec_t *c = reply->cols;
    char *end = NULL;
    long long iat = c[2].base ? strtoll(c[2].base, &end, 10) : 0;
    char *token = c[0].base && c[1].base && end && *end == '\0' ? gw_auth_sign(r->h->cfg, c[1].base, iat) : NULL;
    if (token == NULL) {
        gw_log_error("%s: cannot sign a token id=%.*s", x->route->name, (int)x->request_id.len, x->request_id.base);
        gw_respond_error(x, 500, h2o_iovec_init(NULL, 0));
        return;
    }
    h2o_iovec_t body = h2o_concat(&x->req->pool, h2o_iovec_init(H2O_STRLIT("{\"token\":\"")), h2o_iovec_init(token, strlen(token)),
                                  h2o_iovec_init(H2O_STRLIT("\",\"user\":")), c[0], h2o_iovec_init(H2O_STRLIT("}")));
    free(token);
    gw_respond_json(x, x->route->status, body);
}

/* A failure the database layer reported: logged by its weight, answered with its status. */
static void reply_failure(request_t *r, const gw_db_reply_t *reply)
{
    gw_exchange_t *x = &r->x;
    const char *name = x->route->name, *message = reply->message ? reply->message : "";
    if (reply->status >= 500)
        atomic_fetch_add_explicit(&r->w->metrics.db_errors, 1, memory_order_relaxed);
    if (reply->status == 502 || reply->status == 503 || reply->status == 504)
        gw_log_warn_summarised("%s: %d, %s id=%.*s", name, reply->status, message, (int)x->request_id.len, x->request_id.base);
    else if (reply->status >= 500)
        gw_log_error("%s failed: %s (sqlstate %s) id=%.*s", name, message, reply->sqlstate[0] ? reply->sqlstate : "-",
                     (int)x->request_id.len, x->request_id.base);
    else
        gw_log_debug("%s: %d (sqlstate %s)", name, reply->status, reply->sqlstate);
    gw_respond_error(x, reply->status, reply->body);
}

/* ---- serving each kind of route ---- */

static int serve_health(request_t *r)
{
    gw_respond_json(&r->x, 200, h2o_iovec_init(H2O_STRLIT("{\"status\":\"ok\"}")));
    return ANSWERED;
}

static int serve_openapi(request_t *r)
{
    gw_respond_json(&r->x, 200, h2o_iovec_init((const char *)gw_openapi_json, gw_openapi_json_len));
    return ANSWERED;
}

static int serve_metrics(request_t *r)
{
    h2o_iovec_t text = gw_metrics_render(&r->x.req->pool, r->h->metrics, r->h->nworkers);
    gw_respond_body(&r->x, 200, "text/plain; version=0.0.4; charset=utf-8", text);
    return ANSWERED;
}

static int serve_docs(request_t *r)
{
    gw_docs_serve(&r->x, r->h->cfg);
    return ANSWERED;
}

/* The event stream (events.c): its fetches are its own. */
static int serve_events(request_t *r)
{
    gw_events_open(r->w->events, &r->x, &r->call, r->token_expires_at);
    return ANSWERED;
}

static void on_db_reply(h2o_req_t *req, const gw_db_reply_t *reply, void *data);

/* Hands the call to the database; on_db_reply answers when its reply comes. */
static int query_database(request_t *r)
{
    r->call.route = r->x.route;
    gw_db_submit(r->w->db, r->x.req, &r->call, on_db_reply, r);
    return ANSWERED;
}

/* How each kind of route (routes.h) is served. A new kind is a function and a row here. */
// clang-format off
const gw_kind_t gw_kinds[] = {
    [GW_ROUTE_SQL]     = {query_database, reply_json,    0, 1},
    [GW_ROUTE_SESSION] = {query_database, reply_session, 0, 1},
    [GW_ROUTE_HEALTH]  = {serve_health,   NULL,          1, 0}, /* /healthz does nothing: never limited */
    [GW_ROUTE_OPENAPI] = {serve_openapi,  NULL,          1, 1},
    [GW_ROUTE_METRICS] = {serve_metrics,  NULL,          1, 1},
    [GW_ROUTE_DOCS]    = {serve_docs,     NULL,          1, 1},
    [GW_ROUTE_EVENTS]  = {serve_events,   NULL,          0, 1},
};
// clang-format on

static void on_db_reply(h2o_req_t *req, const gw_db_reply_t *reply, void *data)
{
    request_t *r = data;
    (void)req;
    r->x.db_ns = reply->db_ns; /* Server-Timing and the access log */
    if (reply->status != 0)
        reply_failure(r, reply);
    else
        gw_kinds[r->x.route->kind].reply(r, reply);
}

_Static_assert(sizeof(gw_kinds) / sizeof(gw_kinds[0]) == GW_ROUTE_KINDS, "every kind of route (routes.h) has a row in gw_kinds");
