/* server.h: the h2o side: listeners, one event loop per thread, the request handler. */
#ifndef GW_SERVER_H
#define GW_SERVER_H

#include "config.h"

/* Binds the listeners, runs GATEWAY_THREADS event loops until SIGTERM or SIGINT, lets
 * in-flight requests finish (at most SHUTDOWN_TIMEOUT seconds) and returns 0; returns 1
 * when start-up fails (the reason is logged). */
int gw_server_run(const gw_config_t *cfg);

#endif
