/* db.h: the only interface to PostgreSQL. Per-thread connections in libpq pipeline mode
 * inside the h2o event loop; each request is one Sync group (one implicit transaction). */
#ifndef GW_DB_H
#define GW_DB_H

#include <h2o.h>

#include "config.h"
#include "routes.h"

typedef struct gw_db gw_db_t;

/* What a request asks of the database: api.begin_request (the user when user_id is set,
 * else none; the request's deadline; its Idempotency-Key when set), then the route's
 * statement with `params` (text, NUL-terminated, NULL for SQL NULL). The strings must live
 * in req->pool (they are read when the call is sent). */
typedef struct gw_db_call {
    const char *user_id;         /* the token's user, NULL for the routes without a token */
    const char *issued_at;       /* the token's iat, decimal, or NULL */
    const char *idempotency_key; /* the Idempotency-Key header, NULL when the request has none */
    const char *fingerprint;     /* with a key: SHA-256 of the method, target and body, hex */
    const gw_route_t *route;     /* of gw_routes, with a statement */
    int nparams;
    const char *params[GW_ROUTE_MAX_PARAMS];
} gw_db_call_t;

typedef struct gw_db_reply {
    int status;          /* 0: success; otherwise the HTTP status of the failure */
    int replayed;        /* success: the answer stored for the request's Idempotency-Key, whose status this is */
    h2o_iovec_t cols[5]; /* success: the row's five text columns in req->pool (base NULL for NULL) */
    h2o_iovec_t body;    /* failure: the JSON error body the database gave (PTnnn DETAIL), or base NULL */
    char sqlstate[6];    /* failure: the SQLSTATE, "" when the failure was not the database's */
    const char *message; /* failure: for the log only (in req->pool or static); never sent */
    uint64_t db_ns;      /* from sending the call to its Sync coming back, retries summed; 0: never sent */
} gw_db_reply_t;

/* Called once per submitted call while the request is alive, on the loop's thread. */
typedef void (*gw_db_cb)(h2o_req_t *req, const gw_db_reply_t *reply, void *data);

/* Creates the thread's pool and starts connecting (asynchronously); NULL when out of memory.
 * Owned by the caller (gw_db_destroy). */
gw_db_t *gw_db_create(h2o_loop_t *loop, const gw_config_t *cfg);

/* Sends, or queues, a call for req; cb(req, reply, data) runs later with the reply (or right away with a
 * 503 when no connection can be had or the queue is full). If the client goes away first
 * the reply is dropped and cb never runs. The call's deadline is now + DB_STATEMENT_TIMEOUT:
 * waiting in the queue past it is a 503; the database enforces it once the call is sent
 * (api.begin_request); a call its connection has not answered DB_FALLBACK_SLACK_MS after it
 * is answered by dropping the connection (see gw_db_fail_all for what each call then gets). */
void gw_db_submit(gw_db_t *db, h2o_req_t *req, const gw_db_call_t *call, gw_db_cb cb, void *data);

/* Answers every call in flight or waiting (shutting down), honestly: a call never sent, or one
 * that came after a call the database ended its session on, is 503 (certainly not executed);
 * one the database answered with an error is that error (its transaction rolled back); one
 * sent and not answered is 502 outcome_unknown (it may have committed). Their results, when
 * they come, are dropped. message: for the log. */
void gw_db_fail_all(gw_db_t *db, const char *message);

/* Calls in flight or waiting whose request still waits for them. */
size_t gw_db_pending(const gw_db_t *db);

/* Connections in use (with a call in flight) and calls waiting, for /metrics. */
void gw_db_stats(const gw_db_t *db, size_t *in_use, size_t *waiting, size_t *connections_up);

/* Closes every connection and frees the pool; calls still in flight are dropped. */
void gw_db_destroy(gw_db_t *db);

/* The single SQLSTATE -> HTTP status mapping (PTnnn -> nnn; see db/README.md). The replay
 * of an Idempotency-Key (GW_DB_SQLSTATE_REPLAY) is not a failure: see gw_db_replay_decode. */
int gw_db_status_for_sqlstate(const char *sqlstate);

/* The SQLSTATE api.begin_request raises to replay the answer stored for an Idempotency-Key:
 * its DETAIL is {"status": n, "body": "<JSON text>", "location": "<id>" or null}. */
#define GW_DB_SQLSTATE_REPLAY "IDRPL"

/* Decodes a replay's DETAIL into reply (a success: replayed = the stored status, cols[0] the
 * body, cols[1] the location, copied into pool). Returns 0, or -1 when the DETAIL is not
 * that shape (reply untouched). */
int gw_db_replay_decode(const char *detail, h2o_mem_pool_t *pool, gw_db_reply_t *reply);

#endif
