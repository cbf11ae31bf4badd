/* docs.h: GET /docs, the API reference page: Swagger UI (swagger-ui-dist, from the npm
 * registry) over the built-in /openapi.json, its files local or from a CDN (DOCS_ASSETS). */
#ifndef GW_DOCS_H
#define GW_DOCS_H

#include <h2o.h>

#include "config.h"
#include "respond.h"

/* Builds the page and its Content-Security-Policy for cfg->docs_assets, and with
 * DOCS_ASSETS=local registers h2o's file handler for /docs/assets/ on host (cfg->docs_assets_dir:
 * static files, served with h2o's ETag and Last-Modified). Call once, before the handler's
 * "/" path is registered. Returns 0, or -1 (logged). */
int gw_docs_register(h2o_hostconf_t *host, const gw_config_t *cfg);

/* Answers GET /docs: 200 text/html with the page and its CSP, or 404 with DOCS_ASSETS=off. */
void gw_docs_serve(gw_exchange_t *x, const gw_config_t *cfg);

#endif
