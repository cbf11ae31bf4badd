/*
 * handler.c: one request, from h2o to its answer.
 *
 * A request flows one way: route table -> checks -> one database call -> the bytes
 * PostgreSQL returned -> response. The checks are a chain of named steps in the order the
 * README documents ("Decisions"), each of which answers and stops the chain, or lets the
 * request go on; the order of the steps is the order of the answers. Nothing here knows a
 * business rule: what a route needs is a row in routes.c, and how a kind of route is served
 * is a row of `gw_kinds` in kinds.c. A step that passes something more to the database (a request
 * header, say) adds it to r->call, as the next parameter of the route's statement.
 *
 * Ownership: the request's context (request_t) is allocated once, in req->pool, and lives
 * as long as the request; h2o frees it. The database layer holds a pointer to it only while
 * the request lives (db_pool.c's guard).
 */
#include "handler.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "conns.h"
#include "framing.h"
#include "keywait.h"
#include "idempotency.h"
#include "log.h"
#include "params.h"
#include "ratelimit.h"
#include "respond.h"
#include "routes.h"
#include "text.h"

#include "handler_internal.h"

static h2o_iovec_t find_header(h2o_req_t *req, const h2o_token_t *token)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

/* The Allow header's value for a path's methods, in req->pool. */
static h2o_iovec_t allow_header(request_t *r)
{
    char allow[64];
    return h2o_strdup(&r->x.req->pool, allow, gw_routes_allow(r->m.allowed, allow, sizeof(allow)));
}

/* RFC 6750 2.3: the access_token query parameter as an Authorization header's value, "Bearer
 * <token>" (base NULL when absent or not percent-encoded), on the routes that take it
 * (GW_QUERY_TOKEN: the event stream, for a browser's EventSource). The access log never
 * shows a query string. */
static h2o_iovec_t query_token(h2o_req_t *req)
{
    gw_str_t query = gw_text_target_query(req->input.path.base, req->input.path.len), raw;
    if (query.base == NULL || !gw_text_query_param(query, "access_token", &raw))
        return h2o_iovec_init(NULL, 0);
    char *buf = h2o_mem_alloc_pool(&req->pool, sizeof("Bearer ") + raw.len);
    memcpy(buf, "Bearer ", 7);
    long n = gw_text_unescape(raw.base, raw.len, buf + 7, 0);
    return n < 0 ? h2o_iovec_init(NULL, 0) : h2o_iovec_init(buf, 7 + (size_t)n);
}

/* ---- the steps, in order ---- */

/* HTTP/1.x framing that h2o 2.2.5 accepts but RFC 9112 calls unrecoverable (framing.h):
 * 400 with Connection: close, and h2o closes the connection after the answer, so nothing
 * pipelined or smuggled behind it is ever read. */
static int refuse_ambiguous_framing(request_t *r)
{
    const char *why = gw_framing_check_request(r->x.req);
    if (why == NULL)
        return NEXT;
    gw_log_warn_summarised("ambiguous HTTP/1.1 framing or Host (%s): answered 400 and closing id=%.*s", why, (int)r->x.request_id.len,
                r->x.request_id.base);
    r->x.req->http1_is_persistent = 0; /* h2o: "Connection: close", then closes after the answer */
    gw_respond_error_literal(&r->x, 400, "bad_request",
                             "ambiguous HTTP/1.1 message framing or Host (RFC 9112); the connection is closed");
    return ANSWERED;
}

/* 404 for an unknown path, 405 for a method it does not take; OPTIONS on a known path is a
 * CORS preflight, answered here. */
static int find_route(request_t *r)
{
    h2o_req_t *req = r->x.req;
    gw_str_t path = gw_text_target_path(req->input.path.base, req->input.path.len);
    unsigned method = gw_routes_method(req->input.method.base, req->input.method.len);

    gw_routes_match(path.base, path.len, method, r->h->cfg->accounts, &r->m);
    if (r->m.allowed == 0) {
        gw_respond_error(&r->x, 404, h2o_iovec_init(NULL, 0));
        return ANSWERED;
    }
    if (r->m.route == NULL && method == GW_OPTIONS) {
        gw_respond_preflight(&r->x, allow_header(r));
        return ANSWERED;
    }
    if (r->m.route == NULL) {
        gw_respond_header(&r->x, "allow", allow_header(r));
        gw_respond_error(&r->x, 405, h2o_iovec_init(NULL, 0));
        return ANSWERED;
    }
    r->x.route = r->m.route;
    return NEXT;
}

/* 429 when the client's address has used up its bucket (RATE_LIMIT > 0), before any work. */
static int take_rate_limit(request_t *r)
{
    h2o_req_t *req = r->x.req;
    if (r->h->cfg->rate_limit <= 0 || !gw_kinds[r->x.route->kind].rate_limited)
        return NEXT;
    unsigned char key[16];
    int wait = gw_ratelimit_take(key, gw_conns_peer_key(req, key), gw_monotonic_ns() / 1000000);
    if (wait == 0)
        return NEXT;
    char buf[16];
    int n = snprintf(buf, sizeof(buf), "%d", wait);
    gw_respond_header(&r->x, "retry-after", h2o_strdup(&req->pool, buf, (size_t)n));
    gw_respond_error(&r->x, 429, h2o_iovec_init(NULL, 0));
    return ANSWERED;
}

/* The routes the gateway answers alone (health, the OpenAPI document, metrics, docs) go no further. */
static int answer_early(request_t *r)
{
    const gw_kind_t *k = &gw_kinds[r->x.route->kind];
    return k->early ? k->serve(r) : NEXT;
}

/* 413 beyond MAX_BODY: the size first, before anything else of the body is looked at. */
static int check_body_size(request_t *r)
{
    if (r->x.req->entity.len <= r->h->cfg->max_body)
        return NEXT;
    gw_respond_error(&r->x, 413, h2o_iovec_init(NULL, 0));
    return ANSWERED;
}

/* 401 without a valid bearer token, before any database work (a kid the JWK Set lacks first waits,
 * once, for the set's next fetch: keywait.c); the token's user goes to api.begin_request. */
static int check_token(request_t *r)
{
    h2o_req_t *req = r->x.req;
    if (!(r->x.route->flags & GW_TOKEN))
        return NEXT;
    ssize_t first = h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, -1);
    if (first != -1 && h2o_find_header(&req->headers, H2O_TOKEN_AUTHORIZATION, first) != -1) {
        /* RFC 9110 11.6.2: one credential; RFC 6750 3.1: invalid_request, 400. A proxy in front
         * that read the other field would see another user than we do. */
        gw_respond_error_literal(&r->x, 400, "bad_request", "more than one Authorization header field");
        return ANSWERED;
    }
    h2o_iovec_t authz = first != -1 ? req->headers.entries[first].value : h2o_iovec_init(NULL, 0);
    if (authz.base == NULL && (r->x.route->flags & GW_QUERY_TOKEN))
        authz = query_token(req);
    gw_identity_t id;
    gw_auth_status_t st = gw_auth_verify_cached(r->h->cfg, authz.base, authz.len, (int64_t)time(NULL), &id);
    if (st == GW_AUTH_UNKNOWN_KEY && gw_keywait_park(&r->w->keywait, r->w->ctx.loop, &r->wait))
        return ANSWERED;                        /* later: keywait.c resumes the steps here */
    r->x.token_present = st != GW_AUTH_MISSING; /* RFC 6750 3.1: no error code without a bearer token */
    if (st != GW_AUTH_OK) {
        GW_LOG(st == GW_AUTH_SESSION_CACHE ? GW_LOG_INFO : GW_LOG_DEBUG, "token refused: %s id=%.*s", gw_auth_reason(st),
               (int)r->x.request_id.len, r->x.request_id.base); /* a frontend's mistake (README) is worth an info line */
        gw_respond_error_literal(&r->x, 401, "unauthorized", st == GW_AUTH_MISSING ? "missing bearer token" : "invalid token");
        return ANSWERED;
    }
    r->call.user_id = h2o_strdup(&req->pool, id.user_id, SIZE_MAX).base;
    r->token_expires_at = id.expires_at + r->h->cfg->jwt_leeway; /* when the token stops being accepted */
    if (id.has_issued_at) {
        char iat[24];
        int n = snprintf(iat, sizeof(iat), "%lld", (long long)id.issued_at);
        r->call.issued_at = h2o_strdup(&req->pool, iat, (size_t)n).base;
    }
    return NEXT;
}

/* 403 when the path's {user} (percent-decoded) is not the token's user. */
static int check_path_user(request_t *r)
{
    if (!(r->x.route->flags & GW_PATH_USER))
        return NEXT;
    char *user = h2o_mem_alloc_pool(&r->x.req->pool, r->m.user.len + 1);
    long n = gw_text_unescape(r->m.user.base, r->m.user.len, user, 0);
    const char *token_user = r->call.user_id; /* set by check_token: GW_PATH_USER routes take a token */
    if (n >= 0 && token_user != NULL && (size_t)n == strlen(token_user) && memcmp(user, token_user, (size_t)n) == 0)
        return NEXT;
    gw_respond_error_literal(&r->x, 403, "user_id_mismatch", "the path's user_id is not the token's user");
    return ANSWERED;
}

/* 404 for an {id} that cannot be a task id; else it is the statement's first argument. */
static int check_task_id(request_t *r)
{
    if (r->m.id.base == NULL)
        return NEXT;
    if (!gw_routes_valid_id(r->m.id)) {
        gw_respond_error_literal(&r->x, 404, "not_found", "task not found");
        return ANSWERED;
    }
    r->call.params[r->call.nparams++] = h2o_strdup(&r->x.req->pool, r->m.id.base, r->m.id.len).base;
    return NEXT;
}

/* 415 for a body that is not application/json, on a route that takes one. */
static int check_media_type(request_t *r)
{
    h2o_req_t *req = r->x.req;
    h2o_iovec_t type = find_header(req, H2O_TOKEN_CONTENT_TYPE);
    if (!(r->x.route->flags & GW_BODY) || req->entity.len == 0 || gw_text_is_json_media_type(type.base, type.len))
        return NEXT;
    gw_respond_error(&r->x, 415, h2o_iovec_init(NULL, 0));
    return ANSWERED;
}

/* 400 for a body that is not UTF-8 text, or missing where required; else it is the next
 * argument (NULL when empty). A body on a route that takes none is ignored. */
static int check_body(request_t *r)
{
    h2o_req_t *req = r->x.req;
    const char *body = NULL;
    if (!(r->x.route->flags & GW_BODY))
        return NEXT;
    if (req->entity.len > 0) {
        if (memchr(req->entity.base, '\0', req->entity.len) != NULL ||
            gw_text_utf8_length(req->entity.base, req->entity.len, 0) < 0) {
            gw_respond_error_literal(&r->x, 400, "invalid_json", "request body is not valid UTF-8 JSON");
            return ANSWERED;
        }
        body = h2o_strdup(&req->pool, req->entity.base, req->entity.len).base;
    } else if (r->x.route->flags & GW_BODY_REQUIRED) {
        gw_respond_error_literal(&r->x, 400, "invalid_json", "request body is required");
        return ANSWERED;
    }
    r->call.params[r->call.nparams++] = body;
    return NEXT;
}

/* 422 for a query parameter of the route that is not percent-encoded UTF-8, 400 for a request
 * header field it reads (If-Match, If-None-Match) that is not UTF-8 text; else each is the
 * next argument, decoded (NULL when absent; a repeatable parameter as a text[]: params.h). */
static int check_params(request_t *r)
{
    h2o_req_t *req = r->x.req;
    gw_str_t query = gw_text_target_query(req->input.path.base, req->input.path.len);
    if (gw_params_query(&req->pool, query, r->x.route, &r->call) != NULL)
        gw_respond_error_literal(&r->x, 422, "validation_failed", "query parameters must be valid percent-encoded UTF-8");
    else if (gw_params_headers(&req->pool, &req->headers, r->x.route, &r->call) != NULL)
        gw_respond_error_literal(&r->x, 400, "bad_request", "a conditional request header field is not UTF-8 text");
    else
        return NEXT;
    return ANSWERED;
}

/* 422 for a malformed Idempotency-Key on a write of a user's tasks (idempotency.h; elsewhere the
 * header is ignored); a sane one goes to api.begin_request with the request's fingerprint. */
static int check_idempotency_key(request_t *r)
{
    return gw_routes_takes_idempotency_key(r->x.route) && gw_idempotency_check(&r->x, &r->call) ? ANSWERED : NEXT;
}

/* The route's kind serves it: for most, the database. */
static int serve(request_t *r)
{
    return gw_kinds[r->x.route->kind].serve(r);
}

/* The order of checks (README, "Decisions"): each step answers and stops the chain, or lets
 * the request go on. A new check is a function and a line here. */
static int (*const steps[])(request_t *r) = {
    refuse_ambiguous_framing, /* 400 bad_request, and the connection closed */
    find_route,               /* 404, 405; an OPTIONS preflight is answered here */
    take_rate_limit,          /* 429 */
    answer_early,             /* /healthz, /openapi.json, /metrics, /docs */
    check_body_size,          /* 413 */
    check_token,              /* 401 */
    check_path_user,          /* 403 */
    check_task_id,            /* 404 */
    check_media_type,         /* 415 */
    check_body,               /* 400 */
    check_params,             /* 422 query, 400 header field */
    check_idempotency_key,    /* 422 */
    serve,                    /* the database's answer (422, 404, ... or success) */
};

/* Runs the steps from r->step on until one answers; a request check_token parked comes back
 * here (keywait.c) and goes on from that step. */
static void run_steps(gw_keywait_entry_t *wait)
{
    request_t *r = H2O_STRUCT_FROM_MEMBER(request_t, wait, wait);
    for (; r->step < sizeof(steps) / sizeof(steps[0]) && steps[r->step](r) == NEXT; r->step++)
        ;
}

/* ---- h2o's entry point ---- */

static void on_request_dispose(void *p)
{
    request_t *r = p;
    gw_keywait_cancel(&r->wait); /* its client went away while it waited */
    r->w->active--;
    /* a request whose pool goes before any answer was started: its client cancelled it */
    gw_conns_request_done(r->conn, r->x.req, r->x.req->res.status != 0);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    const handler_t *h = (const handler_t *)self;
    gw_worker_t *w = (gw_worker_t *)req->conn->ctx;
    /* the context, once; counted until the request's pool goes (shutdown waits for these) */
    request_t *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), on_request_dispose);

    memset(r, 0, sizeof(*r));
    r->h = h;
    r->w = w;
    r->conn = gw_conns_request_start(req);
    w->active++;
    gw_respond_start(&r->x, req, &w->metrics, h->cfg->cors_origins, w->id_prefix, &w->id_counter);
    if (gw_conns_calmed(r->conn))
        return 0; /* a flood already cut: no work, no answer; the request goes as h2o closes the connection */

    r->wait.resume = run_steps;
    run_steps(&r->wait);
    return 0;
}

void gw_handler_register(h2o_pathconf_t *path, const gw_config_t *cfg, gw_metrics_t *const *metrics, size_t n)
{
    handler_t *h = (handler_t *)h2o_create_handler(path, sizeof(*h));
    h->super.on_req = on_req;
    h->cfg = cfg;
    h->metrics = metrics;
    h->nworkers = n;
}
