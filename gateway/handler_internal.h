/* handler_internal.h: what handler.c (the steps of a request) and kinds.c (how each kind of
 * route is answered) share: one request's context. Not for other files. */
#ifndef GW_HANDLER_INTERNAL_H
#define GW_HANDLER_INTERNAL_H

#include <h2o.h>

#include "conns.h"
#include "db.h"
#include "handler.h"
#include "keywait.h"
#include "respond.h"
#include "routes.h"

typedef struct handler {
    h2o_handler_t super;
    const gw_config_t *cfg;
    gw_metrics_t *const *metrics; /* every worker's, for /metrics */
    size_t nworkers;
} handler_t;

/* One request's context, in req->pool. */
typedef struct request {
    gw_exchange_t x; /* what respond.c needs: the request, its id, CORS, the route once known */
    const handler_t *h;
    gw_worker_t *w;
    gw_match_t m;            /* the route, and the {user} and {id} segments as they came */
    gw_db_call_t call;       /* what the database will run: the steps add the user and the arguments */
    gw_conn_t *conn;         /* the client connection's accounting (conns.c), NULL when it has none */
    size_t step;             /* the step running: a parked request resumes there */
    gw_keywait_entry_t wait; /* check_token parks the request here while the JWK Set is fetched */
    int64_t token_expires_at; /* the token's exp + JWT_LEEWAY, seconds since the epoch: an event stream ends then */
} request_t;

enum { NEXT = 0, ANSWERED = 1 }; /* what a step returns */

/* How each kind of route (routes.h) is served (kinds.c). A new kind is a function and a row there. */
typedef struct gw_kind {
    int (*serve)(request_t *r);                              /* the last step */
    void (*reply)(request_t *r, const gw_db_reply_t *reply); /* the database's successful reply, for those that query it */
    int early;                                               /* served right after the rate limit: no body, token or database */
    int rate_limited;                                        /* counts against RATE_LIMIT */
} gw_kind_t;

extern const gw_kind_t gw_kinds[GW_ROUTE_KINDS];

#endif
