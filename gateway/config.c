/* config.c: the environment -> one gw_config_t, or a message naming the variable that is wrong.
 *
 * Every variable is a row of gw_config_vars: adding one is a row here and a field in
 * gw_config_t. Loading, --help, the tests' list of variables (tests/http) and the check that
 * README.md, the Dockerfile, docker-compose.yml and openapi.json name the same variables
 * (tests/unit/test_config_docs.c) all read this table. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define KIB ((long long)1024)
#define MIB (KIB * 1024)
#define DAY 86400LL
#define THREADS_LIMIT 256

/* One loader run: where values come from and where the first error goes. */
struct gw_config_loader {
    const char *(*getenv_fn)(const char *name);
    char *err;
    size_t errlen;
};

static int fail(struct gw_config_loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct gw_config_loader *ld, const char *fmt, ...)
{
    if (ld->err != NULL && ld->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ld->err, ld->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* ---- rules the table's rows cannot say alone ---- */

/* GATEWAY_THREADS: by default, the number of online cores. */
static int default_threads(const gw_config_var_t *var, const char *value, gw_config_t *cfg, struct gw_config_loader *ld)
{
    (void)var, (void)ld;
    if (value == NULL) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->threads = n < 1 ? 1 : n > THREADS_LIMIT ? THREADS_LIMIT : (int)n;
    }
    return 0;
}

/* TLS_CERT and TLS_KEY: both or neither; both readable now, not at the first handshake. */
static int check_tls(const gw_config_var_t *var, const char *value, gw_config_t *cfg, struct gw_config_loader *ld)
{
    (void)var, (void)value;
    if (cfg->tls_cert != NULL && cfg->tls_key == NULL)
        return fail(ld, "TLS_KEY: must be set when TLS_CERT is set (set both or neither)");
    if (cfg->tls_key != NULL && cfg->tls_cert == NULL)
        return fail(ld, "TLS_CERT: must be set when TLS_KEY is set (set both or neither)");
    if (cfg->tls_cert != NULL && access(cfg->tls_cert, R_OK) != 0)
        return fail(ld, "TLS_CERT: cannot read '%s': %s", cfg->tls_cert, strerror(errno));
    if (cfg->tls_key != NULL && access(cfg->tls_key, R_OK) != 0)
        return fail(ld, "TLS_KEY: cannot read '%s': %s", cfg->tls_key, strerror(errno));
    return 0;
}

/* RATE_LIMIT_BURST: by default, twice the rate. */
static int default_burst(const gw_config_var_t *var, const char *value, gw_config_t *cfg, struct gw_config_loader *ld)
{
    (void)var, (void)ld;
    if (value == NULL)
        cfg->rate_limit_burst = cfg->rate_limit * 2;
    return 0;
}

/* BETTER_AUTH_SECRET: required; libjwt takes the key length as an int. */
static int check_secret(const gw_config_var_t *var, const char *value, gw_config_t *cfg, struct gw_config_loader *ld)
{
    (void)var;
    if (value == NULL)
        return fail(ld, "BETTER_AUTH_SECRET: required and must not be empty (the secret Better Auth signs HS256 tokens with)");
    cfg->jwt_secret_len = strlen(value);
    if (cfg->jwt_secret_len > INT_MAX)
        return fail(ld, "BETTER_AUTH_SECRET: longer than %d bytes", INT_MAX);
    return 0;
}

/* DB_PREPARED=off means a transaction-mode pooler in front (PgBouncer, Supavisor, Neon's):
 * DB_PIPELINE_DEPTH then defaults to 1. Such a pooler hands the server connection to another
 * client at the first ReadyForQuery, while the results of this connection's next pipelined
 * transactions are still to come: they would reach that other client (PgBouncer 1.18 does so;
 * tests/http/test_pooler catches it). One transaction in flight per connection is safe. */
static int default_pooler_depth(const gw_config_var_t *var, const char *value, gw_config_t *cfg, struct gw_config_loader *ld)
{
    (void)var, (void)value;
    const char *depth = ld->getenv_fn("DB_PIPELINE_DEPTH");
    if (!cfg->db_prepared && (depth == NULL || depth[0] == '\0'))
        cfg->db_pipeline_depth = 1;
    return 0;
}

/* JWT_JWKS_URL: http or https only (libcurl would take file:// and more). */
static int check_jwks_url(const gw_config_var_t *var, const char *value, gw_config_t *cfg, struct gw_config_loader *ld)
{
    (void)var, (void)cfg;
    if (value != NULL && strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
        return fail(ld, "JWT_JWKS_URL: must be an http:// or https:// URL, got '%s'", value);
    return 0;
}

/* BETTER_AUTH_URL: Better Auth's base URL (http or https), as the FastAPI backends it replaces
 * took it. Set, it is the default of JWT_ISSUER and JWT_AUDIENCE (without trailing slashes:
 * Better Auth's JWT plugin stamps its base URL as iss and aud) and of JWT_JWKS_URL (its JWT
 * plugin's set, <URL>/api/auth/jwks); those rows come later and replace a default when set. */
static int derive_better_auth(const gw_config_var_t *var, const char *value, gw_config_t *cfg, struct gw_config_loader *ld)
{
    static const char jwks_path[] = "/api/auth/jwks";
    (void)var;
    if (value == NULL)
        return 0;
    if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0)
        return fail(ld, "BETTER_AUTH_URL: must be an http:// or https:// URL (Better Auth's base URL), got '%s'", value);
    size_t n = strlen(value);
    while (n > 0 && value[n - 1] == '/')
        n--;
    if (n + sizeof(jwks_path) > sizeof(cfg->better_auth_jwks_url))
        return fail(ld, "BETTER_AUTH_URL: longer than %zu bytes", sizeof(cfg->better_auth_jwks_url) - sizeof(jwks_path));
    snprintf(cfg->better_auth_base, sizeof(cfg->better_auth_base), "%.*s", (int)n, value);
    snprintf(cfg->better_auth_jwks_url, sizeof(cfg->better_auth_jwks_url), "%.*s%s", (int)n, value, jwks_path);
    cfg->jwt_issuer = cfg->jwt_audience = cfg->better_auth_base;
    cfg->jwks_url = cfg->better_auth_jwks_url;
    return 0;
}

/* DATABASE_LISTEN_URL: by default the database of DATABASE_URL (a transaction-mode pooler
 * in between would lose LISTEN: then point it at the database itself). */
static int default_listen_url(const gw_config_var_t *var, const char *value, gw_config_t *cfg, struct gw_config_loader *ld)
{
    (void)var, (void)ld;
    if (value == NULL)
        cfg->database_listen_url = cfg->database_url;
    return 0;
}

static const char *const log_levels[] = {"error", "warn", "info", "debug", NULL};
static const char *const log_formats[] = {"plain", "json", NULL};
static const char *const docs_assets[] = {"local", "cdn", "off", NULL};

#ifndef GW_DOCS_DIR
#define GW_DOCS_DIR "/usr/share/todo-gateway/docs"
#endif

/* DOCS_ASSETS_DIR: by default the folder the build put swagger-ui-dist's files in
 * (GW_DOCS_DIR); with DOCS_ASSETS=local the viewer must be readable there now. */
static int check_docs_dir(const gw_config_var_t *var, const char *value, gw_config_t *cfg, struct gw_config_loader *ld)
{
    (void)var;
    char file[4096];
    if (value == NULL)
        cfg->docs_assets_dir = GW_DOCS_DIR;
    snprintf(file, sizeof(file), "%s/swagger-ui-bundle.js", cfg->docs_assets_dir);
    if (cfg->docs_assets == GW_DOCS_LOCAL && access(file, R_OK) != 0)
        return fail(ld,
                    "DOCS_ASSETS_DIR: cannot read '%s': %s (DOCS_ASSETS=local serves swagger-ui-dist from there: build with npm, "
                    "point DOCS_ASSETS_DIR at its files, or set DOCS_ASSETS=cdn or off)",
                    file, strerror(errno));
    return 0;
}

/* ---- the table ---- */

// clang-format off
/* The field of a row, checked against the type its loader writes (a compile error otherwise). */
#define FIELD(f, T) _Generic(((gw_config_t *)0)->f, T: offsetof(gw_config_t, f))
/* An enum field of any enum type: the loader stores an int, so its size must be an int's. */
#define ENUM_FIELD(f) (offsetof(gw_config_t, f) + 0 * sizeof(char[sizeof(((gw_config_t *)0)->f) == sizeof(int) ? 1 : -1]))
#define STRING(n, f, d)          .name = n, .type = GW_CONF_STRING, .offset = FIELD(f, const char *), .def = d
#define INT(n, f, d, lo, hi)     .name = n, .type = GW_CONF_INT, .offset = FIELD(f, int), .def = d, .min = lo, .max = hi
#define BOOL(n, f, d)            .name = n, .type = GW_CONF_BOOL, .offset = FIELD(f, int), .def = d
#define SIZE(n, f, d, lo, hi)    .name = n, .type = GW_CONF_SIZE, .offset = FIELD(f, size_t), .def = d, .min = lo, .max = hi
#define DURATION(n, f, d, lo, hi) .name = n, .type = GW_CONF_DURATION, .offset = FIELD(f, int64_t), .def = d, .min = lo, .max = hi
#define ENUM(n, f, d, names)     .name = n, .type = GW_CONF_ENUM, .offset = ENUM_FIELD(f), .def = d, .choices = names

const gw_config_var_t gw_config_vars[] = {
    {STRING  ("HOST",                 host,                 "127.0.0.1"),               .section = "Listeners", .help = "address both listeners bind"},
    {INT     ("PORT",                 port,                 "8080", 0, 65535),          .section = "Listeners", .help = "cleartext HTTP/1.1 and h2c port (0 picks a free port)"},
    {INT     ("TLS_PORT",             tls_port,             "8443", 0, 65535),          .section = "Listeners", .help = "TLS port (h2 and http/1.1 by ALPN), used with TLS_CERT and TLS_KEY"},
    {STRING  ("TLS_CERT",             tls_cert,             NULL),                      .section = "Listeners", .help = "PEM certificate chain; set together with TLS_KEY"},
    {STRING  ("TLS_KEY",              tls_key,              NULL),                      .section = "Listeners", .help = "PEM private key; set together with TLS_CERT", .check = check_tls},
    {INT     ("GATEWAY_THREADS",      threads,              NULL, 1, THREADS_LIMIT),    .section = "Listeners", .help = "event-loop threads, 1 to 256", .shown = "default: cores", .check = default_threads},
    {STRING  ("DATABASE_URL",         database_url,         ""),                        .section = "Database",  .help = "libpq connection string or URI (empty: PG* variables decide)"},
    {INT     ("DB_POOL_SIZE",         db_pool_size,         "2", 1, 64),                .section = "Database",  .help = "connections per thread, 1 to 64"},
    {INT     ("DB_PIPELINE_DEPTH",    db_pipeline_depth,    "32", 1, 1024),             .section = "Database",  .help = "requests in flight per connection, 1 to 1024 (default 1 with\nDB_PREPARED=off: a transaction-mode pooler must see one at a time)"},
    {INT     ("DB_QUEUE_MAX",         db_queue_max,         "32768", 0, 1048576),       .section = "Database",  .help = "requests waiting for a database connection, per process (all threads);\nbeyond: 503 with Retry-After (README: memory)"},
    {INT     ("DB_STATEMENT_TIMEOUT", db_statement_timeout, "5000", 0, INT_MAX),        .section = "Database",  .help = "statement timeout in milliseconds (0 disables)"},
    {BOOL    ("DB_PREPARED",          db_prepared,          "on"),                      .section = "Database",  .help = "prepared statements (off for transaction-mode poolers)", .check = default_pooler_depth},
    {STRING  ("DATABASE_LISTEN_URL",  database_listen_url,  NULL),                      .section = "Database",  .help = "the event streams' LISTEN connection (one per process); never through\na transaction-mode pooler", .shown = "default: DATABASE_URL", .check = default_listen_url},
    {SIZE    ("MAX_BODY",             max_body,             "65536", 1, 64 * MIB),      .section = "HTTP",      .help = "largest request body; bytes or suffix k/K/KiB, m/M/MiB, up to 64MiB", .shown = "default 64KiB"},
    {STRING  ("CORS_ORIGINS",         cors_origins,         ""),                        .section = "HTTP",      .help = "comma-separated origins allowed by CORS; \"*\" allows any"},
    {BOOL    ("ACCOUNTS",             accounts,             "on"),                      .section = "HTTP",      .help = "serve the /api/auth/ routes (register, login, logout, me)"},
    {INT     ("SHUTDOWN_TIMEOUT",     shutdown_timeout,     "10", 0, 3600),             .section = "HTTP",      .help = "seconds in-flight requests get to finish on shutdown"},
    {INT     ("RATE_LIMIT",           rate_limit,           "0", 0, 1000000),           .section = "HTTP",      .help = "requests per second per client address (all but /healthz); beyond: 429", .shown = "default 0 (off)"},
    {INT     ("RATE_LIMIT_BURST",     rate_limit_burst,     NULL, 0, 2000000),          .section = "HTTP",      .help = "requests a client may send at once before the rate applies", .shown = "default 2x rate", .check = default_burst},
    {INT     ("MAX_CONNECTIONS",      max_connections,      "2048", 1, 1000000),        .section = "HTTP",      .help = "client connections open at once, per process; beyond: closed at accept"},
    {INT     ("HTTP2_MAX_CONCURRENT_REQUESTS", http2_max_concurrent_requests, "16", 1, 100), .section = "HTTP", .help = "requests of one HTTP/2 connection served at once, 1 to 100 (its other\nopen streams wait in order; h2o refuses a 101st open stream)"},
    {ENUM    ("DOCS_ASSETS",          docs_assets,          "local", docs_assets),      .section = "HTTP",      .help = "GET /docs loads Swagger UI from DOCS_ASSETS_DIR (local), a public CDN (cdn),\nor is 404 (off)"},
    {STRING  ("DOCS_ASSETS_DIR",      docs_assets_dir,      NULL),                      .section = "HTTP",      .help = "folder of swagger-ui-dist's files, served at /docs/assets/", .shown = "default: built-in", .check = check_docs_dir},
    {INT     ("EVENTS_MAX_STREAMS",   events_max_streams,   "10000", 0, 1000000),       .section = "HTTP",      .help = "event streams (GET /api/{user_id}/events) open at once per process; beyond: 503"},
    {INT     ("EVENTS_MAX_PER_USER",  events_max_per_user,  "16", 1, 1000000),          .section = "HTTP",      .help = "event streams open at once per user and process; beyond: 503"},
    {INT     ("EVENTS_HEARTBEAT",     events_heartbeat,     "15", 1, 3600),             .section = "HTTP",      .help = "seconds between heartbeat comments on an idle event stream"},
    {STRING  ("BETTER_AUTH_SECRET",   jwt_secret,           NULL),                      .section = "Tokens",    .help = "HS256 secret shared with Better Auth", .shown = "required", .check = check_secret, .secret = 1},
    {STRING  ("BETTER_AUTH_URL",      better_auth_url,      NULL),                      .section = "Tokens",    .help = "Better Auth's base URL: the default of JWT_ISSUER and JWT_AUDIENCE,\nand of JWT_JWKS_URL (<it>/api/auth/jwks)", .check = derive_better_auth},
    {INT     ("JWT_LEEWAY",           jwt_leeway,           "60", 0, 3600),             .section = "Tokens",    .help = "clock skew allowed on exp, nbf and iat, 0 to 3600 seconds"},
    {INT     ("JWT_CACHE_SIZE",       jwt_cache_size,       "16384", 0, 1048576),       .section = "Tokens",    .help = "verified tokens remembered per thread (~150 bytes each), 0 to 1048576;\n0 verifies every request's token"},
    {DURATION("JWT_TTL",              jwt_ttl,              "7d", 1, 3650 * DAY),       .section = "Tokens",    .help = "lifetime of issued tokens; seconds or suffix s, m, h, d"},
    {STRING  ("JWT_ISSUER",           jwt_issuer,           NULL),                      .section = "Tokens",    .help = "when set, tokens must carry this iss (and issued ones do)"},
    {STRING  ("JWT_AUDIENCE",         jwt_audience,         NULL),                      .section = "Tokens",    .help = "when set, tokens' aud must name it (and issued ones do)"},
    {STRING  ("JWT_JWKS_FILE",        jwks_file,            NULL),                      .section = "Tokens",    .help = "JWK Set file: also accept EdDSA, ES256, RS256, PS256 tokens by kid"},
    {STRING  ("JWT_JWKS_URL",         jwks_url,             NULL),                      .section = "Tokens",    .help = "JWK Set URL (Better Auth: <origin>/api/auth/jwks); an unknown kid\nwaits up to 2 s for a fetch (at most one a minute)", .check = check_jwks_url},
    {DURATION("JWT_JWKS_REFRESH",     jwks_refresh,         "10m", 1, DAY),             .section = "Tokens",    .help = "JWT_JWKS_URL is fetched again this often (a removed key stops\nbeing accepted then); seconds or suffix s, m, h, d"},
    {ENUM    ("LOG_LEVEL",            log_level,            "info", log_levels),        .section = "Logging",   .help = "error, warn, info or debug"},
    {ENUM    ("LOG_FORMAT",           log_format,           "plain", log_formats),      .section = "Logging",   .help = "access-log lines as plain text or one JSON object each"},
};
// clang-format on

const size_t gw_config_vars_count = sizeof(gw_config_vars) / sizeof(gw_config_vars[0]);

/* ---- parsing a value by its type ---- */

/* Parses a run of decimal digits (nothing else, not even a sign or a space) into *out.
 * Returns a pointer to the first non-digit, or NULL when there is no digit or the value exceeds limit. */
static const char *parse_digits(const char *s, unsigned long long limit, unsigned long long *out)
{
    unsigned long long v = 0;
    const char *p = s;

    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > limit / 10 || (v == limit / 10 && d > limit % 10))
            return NULL;
        v = v * 10 + d;
    }
    if (p == s)
        return NULL;
    *out = v;
    return p;
}

typedef struct unit {
    const char *suffix;
    long long scale;
} unit_t;

static const unit_t size_units[] = {{"", 1}, {"k", KIB}, {"K", KIB}, {"KiB", KIB}, {"m", MIB}, {"M", MIB}, {"MiB", MIB}, {NULL, 0}};
static const unit_t duration_units[] = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", DAY}, {NULL, 0}};

/* A number with an optional unit suffix, from min to max once scaled; returns 0 or -1. */
static int parse_scaled(const char *v, const unit_t *units, long long min, long long max, long long *out)
{
    unsigned long long n;
    const char *end = parse_digits(v, (unsigned long long)max, &n);
    if (end == NULL)
        return -1;
    for (const unit_t *u = units; u->suffix != NULL; u++)
        if (strcmp(end, u->suffix) == 0)
            return n <= (unsigned long long)(max / u->scale) && n * (unsigned long long)u->scale >= (unsigned long long)min
                       ? (*out = (long long)n * u->scale, 0)
                       : -1;
    return -1;
}

static int parse_bool(const char *v, int *out)
{
    static const char *const yes[] = {"on", "true", "1", "yes"};
    static const char *const no[] = {"off", "false", "0", "no"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0)
            return *out = 1, 0;
        if (strcasecmp(v, no[i]) == 0)
            return *out = 0, 0;
    }
    return -1;
}

/* The choices of an enum, "a, b, c or d", for its error message. */
static const char *choices_text(const char *const *choices, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; choices[i] != NULL && n < cap; i++)
        n += (size_t)snprintf(buf + n, cap - n, "%s%s", i == 0 ? "" : choices[i + 1] == NULL ? " or " : ", ", choices[i]);
    return buf;
}

/* Stores v, the variable's text, in its field; returns 0, or -1 after reporting the error. */
static int parse_value(const gw_config_var_t *var, const char *v, gw_config_t *cfg, struct gw_config_loader *ld)
{
    void *field = (char *)cfg + var->offset;
    unsigned long long n;
    long long scaled;
    const char *end;
    char buf[128];

    switch (var->type) {
    case GW_CONF_STRING:
        *(const char **)field = v;
        return 0;
    case GW_CONF_INT:
        if ((end = parse_digits(v, (unsigned long long)var->max, &n)) == NULL || *end != '\0' || n < (unsigned long long)var->min)
            return fail(ld, "%s: must be an integer from %lld to %lld, got '%s'", var->name, var->min, var->max, v);
        *(int *)field = (int)n;
        return 0;
    case GW_CONF_BOOL:
        if (parse_bool(v, (int *)field) != 0)
            return fail(ld, "%s: must be on or off (or true/false, yes/no, 1/0), got '%s'", var->name, v);
        return 0;
    case GW_CONF_SIZE:
        if (parse_scaled(v, size_units, var->min, var->max, &scaled) != 0)
            return fail(ld, "%s: must be a size from 1 byte to %lldMiB (bytes, or with suffix k, K, KiB, m, M, MiB), got '%s'",
                        var->name, var->max / MIB, v);
        *(size_t *)field = (size_t)scaled;
        return 0;
    case GW_CONF_DURATION:
        if (parse_scaled(v, duration_units, var->min, var->max, &scaled) != 0)
            return fail(ld, "%s: must be a positive duration of at most %lldd (seconds, or with suffix s, m, h, d), got '%s'",
                        var->name, var->max / DAY, v);
        *(int64_t *)field = scaled;
        return 0;
    case GW_CONF_ENUM:
        for (int i = 0; var->choices[i] != NULL; i++)
            if (strcasecmp(v, var->choices[i]) == 0)
                return *(int *)field = i, 0;
        return fail(ld, "%s: must be %s, got '%s'", var->name, choices_text(var->choices, buf, sizeof(buf)), v);
    }
    return fail(ld, "%s: unknown type", var->name);
}

/* Reads every variable of the table through getenv_fn; returns 0, or -1 with err naming the variable. */
int gw_config_load(gw_config_t *cfg, const char *(*getenv_fn)(const char *name), char *err, size_t errlen)
{
    struct gw_config_loader ld = {getenv_fn, err, errlen};

    memset(cfg, 0, sizeof(*cfg));
    if (err != NULL && errlen > 0)
        err[0] = '\0';
    for (size_t i = 0; i < gw_config_vars_count; i++) {
        const gw_config_var_t *var = &gw_config_vars[i];
        const char *value = getenv_fn(var->name);
        if (value != NULL && value[0] == '\0')
            value = NULL; /* empty is unset */
        if (value != NULL || var->def != NULL) {
            if (parse_value(var, value != NULL ? value : var->def, cfg, &ld) != 0)
                return -1;
        }
        if (var->check != NULL && var->check(var, value, cfg, &ld) != 0)
            return -1;
    }
    return 0;
}
