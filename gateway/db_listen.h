/* db_listen.h: the process's one LISTEN connection (channel todo_events), for the event
 * streams (events.h). */
#ifndef GW_DB_LISTEN_H
#define GW_DB_LISTEN_H

#include "config.h"

/* Starts the thread that holds the LISTEN connection to DATABASE_LISTEN_URL (blocking libpq on
 * a thread of its own, never an event loop's): it reconnects after a loss (100 ms, then up to
 * every 2 s) and, each time it is listening again, tells every stream to catch up from its last
 * event (gw_events_catch_up), so nothing committed while it was away is missed. Each
 * notification, {"user_id": ..., "id": n}, goes to gw_events_notify. Returns 0, or -1 when the
 * thread cannot be started (logged). cfg outlives the thread. */
int gw_listen_start(const gw_config_t *cfg);

/* Stops the thread (waits at most 2 s for it: a connection attempt in progress is abandoned). */
void gw_listen_stop(void);

#endif
