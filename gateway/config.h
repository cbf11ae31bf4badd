/* config.h: everything the gateway reads from the environment, in one struct, and the table
 * that declares each variable once (config.c): its name, type, default, range and help. The
 * table drives loading, --help, the tests' list of variables and the check of the README. */
#ifndef GW_CONFIG_H
#define GW_CONFIG_H

#include <stddef.h>
#include <stdint.h>

typedef enum { GW_LOG_ERROR = 0, GW_LOG_WARN, GW_LOG_INFO, GW_LOG_DEBUG } gw_log_level_t;
typedef enum { GW_LOG_FORMAT_PLAIN = 0, GW_LOG_FORMAT_JSON } gw_log_format_t;
typedef enum { GW_DOCS_LOCAL = 0, GW_DOCS_CDN, GW_DOCS_OFF } gw_docs_assets_t;

#define GW_CONFIG_URL_MAX 1024 /* bytes of a URL the configuration derives (BETTER_AUTH_URL's) */

/* Each field says its variable; defaults, ranges and meanings are in the table (config.c). */
typedef struct gw_config {
    /* listeners */
    const char *host;     /* HOST: the address both listeners bind */
    int port;             /* PORT; 0 picks a free port */
    int tls_port;         /* TLS_PORT; used only with tls_cert and tls_key */
    const char *tls_cert; /* TLS_CERT, PEM file, NULL when unset; TLS_CERT and TLS_KEY go together */
    const char *tls_key;  /* TLS_KEY, PEM file, NULL when unset */
    int threads;          /* GATEWAY_THREADS, default: the number of online cores */

    /* database */
    const char *database_url; /* DATABASE_URL, "" when unset (libpq's PG* environment decides) */
    int db_pool_size;         /* DB_POOL_SIZE, connections per thread */
    int db_pipeline_depth;    /* DB_PIPELINE_DEPTH, requests in flight per connection */
    int db_queue_max;         /* DB_QUEUE_MAX, requests waiting per process when all connections are busy */
    int db_statement_timeout; /* DB_STATEMENT_TIMEOUT, milliseconds; 0 disables */
    int db_prepared;          /* DB_PREPARED on|off (off for transaction-mode poolers) */
    const char *database_listen_url; /* DATABASE_LISTEN_URL: the LISTEN connection's, default database_url */

    /* HTTP */
    size_t max_body;              /* MAX_BODY, bytes */
    const char *cors_origins;     /* CORS_ORIGINS, comma separated exact origins, "" when unset; "*" allows any */
    int accounts;                 /* ACCOUNTS on|off: the /api/auth/ routes */
    int shutdown_timeout;         /* SHUTDOWN_TIMEOUT, seconds to let in-flight requests finish */
    int rate_limit;               /* RATE_LIMIT, requests per second per client address, 0: off */
    int rate_limit_burst;         /* RATE_LIMIT_BURST, bucket depth, default 2 x RATE_LIMIT */
    int max_connections;          /* MAX_CONNECTIONS, client connections open at once per process, default 2048 */
    int http2_max_concurrent_requests; /* HTTP2_MAX_CONCURRENT_REQUESTS, requests of one HTTP/2 connection served at once */
    gw_docs_assets_t docs_assets; /* DOCS_ASSETS local|cdn|off: where GET /docs loads its viewer from */
    const char *docs_assets_dir;  /* DOCS_ASSETS_DIR, default the build's docs-assets folder (GW_DOCS_DIR) */
    int events_max_streams;       /* EVENTS_MAX_STREAMS, event streams open at once per process */
    int events_max_per_user;      /* EVENTS_MAX_PER_USER, event streams open at once per user and process */
    int events_heartbeat;         /* EVENTS_HEARTBEAT, seconds between heartbeat comments on an idle stream */

    /* tokens */
    const char *jwt_secret; /* BETTER_AUTH_SECRET, required, non-empty */
    size_t jwt_secret_len;
    int jwt_leeway;              /* JWT_LEEWAY, seconds */
    int jwt_cache_size;          /* JWT_CACHE_SIZE, verified tokens remembered per thread, 0: none */
    int64_t jwt_ttl;             /* JWT_TTL, seconds */
    const char *jwt_issuer;      /* JWT_ISSUER, NULL when unset: then iss is not checked nor stamped */
    const char *jwt_audience;    /* JWT_AUDIENCE, NULL when unset: then aud is not checked nor stamped */
    const char *jwks_file;       /* JWT_JWKS_FILE, a JWK Set for key-pair tokens, NULL when unset */
    const char *jwks_url;        /* JWT_JWKS_URL, where to fetch it (Better Auth: .../api/auth/jwks), NULL when unset */
    int64_t jwks_refresh;        /* JWT_JWKS_REFRESH, seconds between fetches of jwks_url */
    const char *better_auth_url; /* BETTER_AUTH_URL as given, NULL when unset: the defaults of the next two and of
                                    jwt_issuer, jwt_audience (better_auth_base) and jwks_url (better_auth_jwks_url) */
    char better_auth_base[GW_CONFIG_URL_MAX];     /* BETTER_AUTH_URL without trailing slashes */
    char better_auth_jwks_url[GW_CONFIG_URL_MAX]; /* better_auth_base + "/api/auth/jwks" */

    gw_log_level_t log_level;   /* LOG_LEVEL error|warn|info|debug */
    gw_log_format_t log_format; /* LOG_FORMAT plain|json: the access log's lines */
} gw_config_t;

/* How a variable's text becomes its field. */
typedef enum {
    GW_CONF_STRING,   /* const char *: the text as it is (not copied) */
    GW_CONF_INT,      /* int: decimal digits only, from min to max */
    GW_CONF_BOOL,     /* int 1 or 0: on/off, true/false, yes/no, 1/0, any case */
    GW_CONF_SIZE,     /* size_t bytes: digits, or with k, K, KiB, m, M, MiB; from min to max */
    GW_CONF_DURATION, /* int64_t seconds: digits, or with s, m, h, d; from min to max */
    GW_CONF_ENUM,     /* an enum: the index of one of choices, any case */
} gw_config_type_t;

struct gw_config_loader;

/* One variable. An empty value counts as unset. */
typedef struct gw_config_var {
    const char *name; /* in the environment */
    gw_config_type_t type;
    size_t offset;              /* of its field in gw_config_t */
    const char *def;            /* the default, spelled as in the environment; NULL: unset (or set by check) */
    long long min, max;         /* the range of GW_CONF_INT, SIZE and DURATION */
    const char *const *choices; /* GW_CONF_ENUM's names, NULL-terminated */
    const char *section;        /* its heading in --help */
    const char *help;           /* for --help: one line, "\n" goes on to another */
    const char *shown;          /* --help's default column when "default <def>" would not say it */
    int secret;                 /* --check-config masks its value */
    int (*check)(const struct gw_config_var *var, const char *value, gw_config_t *cfg, struct gw_config_loader *ld);
    /* check: runs once the variable is loaded (value NULL when unset): derived defaults and
     * rules across variables; returns 0, or -1 after reporting the error */
} gw_config_var_t;

/* Every variable, in --help's order. */
extern const gw_config_var_t gw_config_vars[];
extern const size_t gw_config_vars_count;

/* Reads the configuration through getenv_fn (getenv in production, a table in tests).
 * Returns 0, or -1 with a message naming the variable written to err (errlen bytes).
 * The strings in cfg point into what getenv_fn returned; they are not copied. */
int gw_config_load(gw_config_t *cfg, const char *(*getenv_fn)(const char *name), char *err, size_t errlen);

/* The text of `todo-gateway --check-config`: every variable's effective value in cfg (as
 * loaded), one "NAME=value" line each, in the table's order; secrets (BETTER_AUTH_SECRET,
 * a password in DATABASE_URL) masked as "****". Written to buf (cap bytes, NUL-terminated);
 * returns buf. */
const char *gw_config_describe(const gw_config_t *cfg, char *buf, size_t cap);

/* The text of `todo-gateway --help`: every variable, its default and meaning, made from the
 * table on the first call. Static; call it first from one thread. */
const char *gw_config_help(void);

#endif
