/* fallback.h: the answers h2o 2.2.5 sends by itself (a malformed HTTP/1.1 body framing, a
 * body over MAX_BODY + 1 MiB, an unknown Expect, HTTP/2 headers it refuses) get the
 * contract's JSON error body and the headers every answer carries (X-Request-Id, CORS),
 * instead of h2o's plain text. */
#ifndef GW_FALLBACK_H
#define GW_FALLBACK_H

#include <h2o.h>

#include "config.h"

/* Registers the filter on a host's fallback path, the path h2o binds its own error answers
 * to (h2o_send_error_generic). cfg must live as long as the server. */
void gw_fallback_register(h2o_hostconf_t *host, const gw_config_t *cfg);

#endif
