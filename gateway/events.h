/* events.h: GET /api/{user_id}/events, a user's live updates as Server-Sent Events (WHATWG HTML
 * 9.2, text/event-stream). Each event-loop thread keeps its own streams (gw_events_t); the
 * process's LISTEN connection (db_listen.c) hands each notification of a user's new event to
 * every thread with open streams, and each stream then fetches its events through its thread's
 * pool **as its user** (api.begin_request with the stream's token, then api.events_since), so an
 * event of another user can never be delivered even if a notification were routed wrongly. */
#ifndef GW_EVENTS_H
#define GW_EVENTS_H

#include <h2o.h>
#include <stdint.h>

#include "config.h"
#include "db.h"
#include "metrics.h"
#include "respond.h"

typedef struct gw_events gw_events_t;

/* Creates a thread's streams on its loop (and registers the thread to receive notifications);
 * NULL when out of memory. db, cfg and metrics are the thread's and outlive it. Never freed: the
 * threads park at shutdown with their state (server.c). */
gw_events_t *gw_events_create(h2o_loop_t *loop, gw_db_t *db, const gw_config_t *cfg, gw_metrics_t *metrics);

/* Opens a stream for the request x, whose token check_token and check_path_user let through:
 * call holds the token's user, its iat, and as its one parameter the Last-Event-ID header
 * field (NULL when absent); expires_at: when the stream ends (the token's exp plus JWT_LEEWAY,
 * seconds since the epoch). Answers 503 beyond EVENTS_MAX_STREAMS or EVENTS_MAX_PER_USER;
 * otherwise the first fetch's failure (401 for a revoked token, 503...), or 200 and the stream. */
void gw_events_open(gw_events_t *ev, gw_exchange_t *x, const gw_db_call_t *call, int64_t expires_at);

/* Ends every stream of the thread gracefully (what is buffered is sent, then the end of the
 * response): shutting down. */
void gw_events_shutdown(gw_events_t *ev);

/* From any thread (db_listen.c): user_id has a new event, id. Every thread with streams open
 * gets a copy; those of the user fetch what they have not had. */
void gw_events_notify(const char *user_id, int64_t id);

/* From any thread (db_listen.c): notifications may have been missed (the LISTEN connection was
 * (re)established): every stream fetches from its last event. */
void gw_events_catch_up(void);

#endif
