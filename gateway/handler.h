/* handler.h: the request handler. A request goes through the README's order of checks, a
 * chain of named steps (handler.c), to the answer of its route's kind. */
#ifndef GW_HANDLER_H
#define GW_HANDLER_H

#include <h2o.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "metrics.h"

/* What the handler keeps per event-loop thread. server.c owns it, one per thread, with the
 * h2o context first so that a request finds its worker from req->conn->ctx. */
typedef struct gw_worker {
    h2o_context_t ctx; /* first */
    gw_db_t *db;
    struct gw_keywait *keywait; /* requests waiting for the JWK Set (keywait.c), made on first use */
    struct gw_events *events;   /* the thread's event streams (events.c) */
    gw_metrics_t metrics;
    size_t active;       /* requests received and not yet disposed: shutdown waits for these */
    uint64_t id_prefix;  /* random, for generated request ids */
    uint64_t id_counter; /* ditto */
} gw_worker_t;

/* Registers the handler on path (h2o owns it from then on). cfg, and the n workers' metrics
 * that /metrics sums, must live as long as the server. */
void gw_handler_register(h2o_pathconf_t *path, const gw_config_t *cfg, gw_metrics_t *const *metrics, size_t n);

#endif
