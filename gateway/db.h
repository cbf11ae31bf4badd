/* db.h: the only interface to PostgreSQL. Per-thread connections in libpq pipeline mode
 * inside the h2o event loop; each request is one Sync group (one implicit transaction). */
#ifndef GW_DB_H
#define GW_DB_H

#include <h2o.h>

#include "config.h"
#include "routes.h"

typedef struct gw_db gw_db_t;

/* What a request asks of the database: api.begin_request(user_id, issued_at) when user_id
 * is set, then the route's statement with `params` (text, NUL-terminated, NULL for SQL
 * NULL). The strings must live in req->pool (they are read when the call is sent). */
typedef struct gw_db_call {
    const char *user_id;
    const char *issued_at;
    const gw_route_t *route; /* of gw_routes, with a statement */
    int nparams;
    const char *params[GW_ROUTE_MAX_PARAMS];
} gw_db_call_t;

typedef struct gw_db_reply {
    int status;          /* 0: success; otherwise the HTTP status of the failure */
    h2o_iovec_t cols[5]; /* success: the row's five text columns in req->pool (base NULL for NULL) */
    h2o_iovec_t body;    /* failure: the JSON error body the database gave (PTnnn DETAIL), or base NULL */
    char sqlstate[6];    /* failure: the SQLSTATE, "" when the failure was not the database's */
    const char *message; /* failure: for the log only (in req->pool or static); never sent */
} gw_db_reply_t;

/* Called once per submitted call while the request is alive, on the loop's thread. */
typedef void (*gw_db_cb)(h2o_req_t *req, const gw_db_reply_t *reply, void *data);

/* Creates the thread's pool and starts connecting (asynchronously); NULL when out of memory.
 * Owned by the caller (gw_db_destroy). */
gw_db_t *gw_db_create(h2o_loop_t *loop, const gw_config_t *cfg);

/* Sends, or queues, a call for req; cb(req, reply, data) runs later with the reply (or right away with a
 * 503 when no connection can be had or the queue is full). If the client goes away first
 * the reply is dropped and cb never runs. */
void gw_db_submit(gw_db_t *db, h2o_req_t *req, const gw_db_call_t *call, gw_db_cb cb, void *data);

/* Answers every call in flight or waiting with status (shutting down: 503); their results,
 * when they come, are dropped. */
void gw_db_fail_all(gw_db_t *db, int status, const char *message);

/* Calls in flight or waiting whose request still waits for them. */
size_t gw_db_pending(const gw_db_t *db);

/* Connections in use (with a call in flight) and calls waiting, for /metrics. */
void gw_db_stats(const gw_db_t *db, size_t *in_use, size_t *waiting, size_t *connections_up);

/* Closes every connection and frees the pool; calls still in flight are dropped. */
void gw_db_destroy(gw_db_t *db);

/* The single SQLSTATE -> HTTP status mapping (PTnnn -> nnn; see db/README.md). */
int gw_db_status_for_sqlstate(const char *sqlstate);

#endif
