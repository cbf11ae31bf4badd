/* config.h: everything the gateway reads from the environment, in one struct. */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { GW_LOG_ERROR = 0, GW_LOG_WARN, GW_LOG_INFO, GW_LOG_DEBUG } gw_log_level_t;

typedef struct gw_config {
    /* listeners */
    const char *host;     /* HOST, default "127.0.0.1": the address both listeners bind */
    int port;             /* PORT, default 8080; 0 picks a free port */
    int tls_port;         /* TLS_PORT, default 8443; used only with tls_cert and tls_key */
    const char *tls_cert; /* TLS_CERT, PEM file, NULL when unset; TLS_CERT and TLS_KEY go together */
    const char *tls_key;  /* TLS_KEY, PEM file, NULL when unset */
    int threads;          /* GATEWAY_THREADS, default: the number of online cores */

    /* database */
    const char *database_url; /* DATABASE_URL, default "" (libpq's PG* environment decides) */
    int db_pool_size;         /* DB_POOL_SIZE, connections per thread, default 2, 1..64 */
    int db_pipeline_depth;    /* DB_PIPELINE_DEPTH, requests in flight per connection, default 32, 1..1024 */
    int db_queue_max;         /* DB_QUEUE_MAX, requests waiting per thread when all are busy, default 1024 */
    int db_statement_timeout; /* DB_STATEMENT_TIMEOUT, milliseconds, default 5000; 0 disables */
    int db_prepared;          /* DB_PREPARED on|off, default on (off for transaction-mode poolers) */

    /* HTTP */
    size_t max_body;          /* MAX_BODY, bytes, default 65536 (suffixes k/K/KiB, m/M/MiB accepted) */
    const char *cors_origins; /* CORS_ORIGINS, comma separated exact origins, "" when unset; "*" allows any */
    int accounts;             /* ACCOUNTS on|off, default on: the /api/auth/ routes */
    int shutdown_timeout;     /* SHUTDOWN_TIMEOUT, seconds to let in-flight requests finish, default 10 */
    int rate_limit;           /* RATE_LIMIT, /api/ requests per second per client address, default 0 (off) */
    int rate_limit_burst;     /* RATE_LIMIT_BURST, bucket depth, default 2 x RATE_LIMIT */
    int max_connections;      /* MAX_CONNECTIONS, client connections open at once per process, default 2048 */

    /* tokens */
    const char *jwt_secret; /* BETTER_AUTH_SECRET, required, non-empty */
    size_t jwt_secret_len;
    int64_t jwt_leeway;       /* JWT_LEEWAY, seconds, default 60 */
    int64_t jwt_ttl;          /* JWT_TTL, seconds (suffixes s, m, h, d accepted), default 7 days */
    const char *jwt_issuer;   /* JWT_ISSUER, NULL when unset: then iss is not checked nor stamped */
    const char *jwt_audience; /* JWT_AUDIENCE, NULL when unset: then aud is not checked nor stamped */
    const char *jwks_file;    /* JWT_JWKS_FILE, a JWK Set for key-pair tokens, NULL when unset */
    const char *jwks_url;     /* JWT_JWKS_URL, where to fetch it (Better Auth: .../api/auth/jwks), NULL when unset */

    gw_log_level_t log_level; /* LOG_LEVEL error|warn|info|debug, default info */
} gw_config_t;

/* Reads the configuration through getenv_fn (getenv in production, a table in tests).
 * Returns 0, or -1 with a message naming the variable written to err (errlen bytes).
 * The strings in cfg point into what getenv_fn returned; they are not copied. */
int gw_config_load(gw_config_t *cfg, const char *(*getenv_fn)(const char *name), char *err, size_t errlen);

/* The text of `todo-gateway --help`: every variable, its default and meaning. Static. */
const char *gw_config_help(void);

#endif
