/* respond.h: every response the gateway sends, with the headers every response carries
 * (Content-Type, X-Request-Id, CORS), and the access-log line. */
#ifndef GW_RESPOND_H
#define GW_RESPOND_H

#include <h2o.h>
#include <stdint.h>

#include "metrics.h"
#include "routes.h"

/* One request's context, in req->pool. */
typedef struct gw_exchange {
    h2o_req_t *req;
    const gw_route_t *route; /* NULL until one matched */
    gw_metrics_t *metrics;   /* the thread's */
    h2o_iovec_t request_id;  /* the client's when sane, else generated */
    h2o_iovec_t cors_origin; /* the request's Origin when CORS_ORIGINS allows it, else base NULL */
    int cors_configured;     /* CORS_ORIGINS is set: answers vary by Origin */
    int token_present;       /* a bearer token came: a 401 then says error="invalid_token" */
    uint64_t started_ns;     /* CLOCK_MONOTONIC at arrival */
    uint64_t db_ns;          /* the database's time (sent to Sync), 0 when it was not asked: Server-Timing */
} gw_exchange_t;

/* Starts the exchange of req (x: its context, in req->pool): the clock for its duration, the
 * metrics it counts in, the request id every response carries (the client's X-Request-Id
 * when it is 1 to 128 of [A-Za-z0-9._:-], else id_prefix and ++*id_counter in hex) and the
 * Origin CORS allows (when cors_origins, CORS_ORIGINS, names it or is "*"). */
void gw_respond_start(gw_exchange_t *x, h2o_req_t *req, gw_metrics_t *metrics, const char *cors_origins, uint64_t id_prefix,
                      uint64_t *id_counter);

/* Sends status with a JSON body already in req->pool (copied by nobody). */
void gw_respond_json(gw_exchange_t *x, int status, h2o_iovec_t body);

/* Sends status with a body of the given media type, already in req->pool or static. */
void gw_respond_body(gw_exchange_t *x, int status, const char *media_type, h2o_iovec_t body);

/* Starts a response of unknown length that generator goes on sending (h2o_send; events.c):
 * status, the media type, and the headers every response carries. */
void gw_respond_stream(gw_exchange_t *x, int status, const char *media_type, h2o_generator_t *generator);

/* Sends status with no body (204, 304). */
void gw_respond_empty(gw_exchange_t *x, int status);

/* Sends an error. body: a JSON error body from the database, or base NULL for the fixed
 * body of `status` ({"detail", "code", "message"}); a status with no fixed body is logged
 * as an error and answered 500 internal_error. Adds WWW-Authenticate for 401, Retry-After
 * for 503 (certainly not executed: safe to retry), none for 502 (outcome unknown). */
void gw_respond_error(gw_exchange_t *x, int status, h2o_iovec_t body);

/* Sends a fixed error body of a code and message that are string literals free of
 * characters JSON would escape. */
void gw_respond_error_literal(gw_exchange_t *x, int status, const char *code, const char *message);

/* Answers a CORS preflight (OPTIONS on a known path): 204 with Allow: methods and, for an
 * allowed Origin, the Access-Control-Allow-Methods/Headers and Max-Age headers. */
void gw_respond_preflight(gw_exchange_t *x, h2o_iovec_t methods);

/* For an error answer h2o itself started (fallback.c): gives it the headers every answer
 * carries (X-Request-Id, Cache-Control, CORS), counts and logs it like the others, and
 * returns the contract's error body for code and message (literals free of characters JSON
 * would escape), in req->pool, with Content-Type and Content-Length set for it. */
h2o_iovec_t gw_respond_adopt_error(gw_exchange_t *x, int status, const char *code, const char *message);

/* Adds a response header; value is copied into req->pool by nobody: it must live there. */
void gw_respond_header(gw_exchange_t *x, const char *name, h2o_iovec_t value);

#endif
