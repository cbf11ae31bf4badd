/* config.c: the environment -> one gw_config_t, or a message naming the variable that is wrong. */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define KIB ((uint64_t)1024)
#define MIB (KIB * 1024)
#define MAX_BODY_LIMIT (64 * MIB)
#define JWT_TTL_DEFAULT (7 * 86400)
#define JWT_TTL_LIMIT ((int64_t)3650 * 86400) /* ten years: keeps iat + ttl far from overflow */
#define THREADS_LIMIT 256

/* One loader run: where values come from and where the first error goes. */
struct loader {
    const char *(*getenv_fn)(const char *name);
    char *err;
    size_t errlen;
};

static int fail(struct loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct loader *ld, const char *fmt, ...)
{
    if (ld->err != NULL && ld->errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ld->err, ld->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

/* The value of an optional variable, NULL when unset or empty. */
static const char *lookup(struct loader *ld, const char *name)
{
    const char *v = ld->getenv_fn(name);
    return v != NULL && v[0] != '\0' ? v : NULL;
}

/* Parses a run of decimal digits (nothing else, not even a sign or a space) into *out.
 * Returns a pointer to the first non-digit, or NULL when there is no digit or the value exceeds limit. */
static const char *parse_digits(const char *s, uint64_t limit, uint64_t *out)
{
    uint64_t v = 0;
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

static int load_int(struct loader *ld, const char *name, int def, int min, int max, int *out)
{
    const char *v = lookup(ld, name);
    const char *end;
    uint64_t n;

    if (v == NULL) {
        *out = def;
        return 0;
    }
    end = parse_digits(v, (uint64_t)max, &n);
    if (end == NULL || *end != '\0' || n < (uint64_t)min)
        return fail(ld, "%s: must be an integer from %d to %d, got '%s'", name, min, max, v);
    *out = (int)n;
    return 0;
}

static int load_bool(struct loader *ld, const char *name, int def, int *out)
{
    static const char *const yes[] = {"on", "true", "1", "yes"};
    static const char *const no[] = {"off", "false", "0", "no"};
    const char *v = lookup(ld, name);
    size_t i;

    if (v == NULL) {
        *out = def;
        return 0;
    }
    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = 1;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = 0;
            return 0;
        }
    }
    return fail(ld, "%s: must be on or off (or true/false, yes/no, 1/0), got '%s'", name, v);
}

static void load_string(struct loader *ld, const char *name, const char *def, const char **out)
{
    const char *v = lookup(ld, name);
    *out = v != NULL ? v : def;
}

/* MAX_BODY: bytes, or a number with k, K, KiB (1024) or m, M, MiB (1024 * 1024). */
static int load_size(struct loader *ld, const char *name, size_t def, size_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t unit;
    } units[] = {{"", 1}, {"k", KIB}, {"K", KIB}, {"KiB", KIB}, {"m", MIB}, {"M", MIB}, {"MiB", MIB}};
    const char *v = lookup(ld, name);
    const char *end;
    uint64_t n;
    size_t i;

    if (v == NULL) {
        *out = def;
        return 0;
    }
    if ((end = parse_digits(v, MAX_BODY_LIMIT, &n)) != NULL) {
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            if (strcmp(end, units[i].suffix) == 0) {
                if (n >= 1 && n <= MAX_BODY_LIMIT / units[i].unit) {
                    *out = (size_t)(n * units[i].unit);
                    return 0;
                }
                break;
            }
        }
    }
    return fail(ld, "%s: must be a size from 1 byte to 64MiB (bytes, or with suffix k, K, KiB, m, M, MiB), got '%s'", name, v);
}

/* JWT_TTL: seconds, or a number with s, m, h or d. */
static int load_duration(struct loader *ld, const char *name, int64_t def, int64_t *out)
{
    static const struct {
        const char *suffix;
        uint64_t unit;
    } units[] = {{"", 1}, {"s", 1}, {"m", 60}, {"h", 3600}, {"d", 86400}};
    const char *v = lookup(ld, name);
    const char *end;
    uint64_t n;
    size_t i;

    if (v == NULL) {
        *out = def;
        return 0;
    }
    if ((end = parse_digits(v, (uint64_t)JWT_TTL_LIMIT, &n)) != NULL) {
        for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            if (strcmp(end, units[i].suffix) == 0) {
                if (n >= 1 && n <= (uint64_t)JWT_TTL_LIMIT / units[i].unit) {
                    *out = (int64_t)(n * units[i].unit);
                    return 0;
                }
                break;
            }
        }
    }
    return fail(ld, "%s: must be a positive duration of at most 3650d (seconds, or with suffix s, m, h, d), got '%s'", name, v);
}

/* A PEM file given by TLS_CERT or TLS_KEY must exist and be readable now, not at the first handshake. */
static int check_readable(struct loader *ld, const char *name, const char *path)
{
    if (access(path, R_OK) != 0)
        return fail(ld, "%s: cannot read '%s': %s", name, path, strerror(errno));
    return 0;
}

static int default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > THREADS_LIMIT ? THREADS_LIMIT : (int)n;
}

/* Reads every variable of config.h through getenv_fn; returns 0, or -1 with err naming the variable. */
int gw_config_load(gw_config_t *cfg, const char *(*getenv_fn)(const char *name), char *err, size_t errlen)
{
    struct loader ld = {getenv_fn, err, errlen};
    const char *level;
    int leeway;

    memset(cfg, 0, sizeof(*cfg));
    if (err != NULL && errlen > 0)
        err[0] = '\0';

    load_string(&ld, "HOST", "127.0.0.1", &cfg->host);
    if (load_int(&ld, "PORT", 8080, 0, 65535, &cfg->port) != 0 || load_int(&ld, "TLS_PORT", 8443, 0, 65535, &cfg->tls_port) != 0 ||
        load_int(&ld, "GATEWAY_THREADS", default_threads(), 1, THREADS_LIMIT, &cfg->threads) != 0)
        return -1;
    cfg->tls_cert = lookup(&ld, "TLS_CERT");
    cfg->tls_key = lookup(&ld, "TLS_KEY");
    if (cfg->tls_cert != NULL && cfg->tls_key == NULL)
        return fail(&ld, "TLS_KEY: must be set when TLS_CERT is set (set both or neither)");
    if (cfg->tls_key != NULL && cfg->tls_cert == NULL)
        return fail(&ld, "TLS_CERT: must be set when TLS_KEY is set (set both or neither)");
    if (cfg->tls_cert != NULL &&
        (check_readable(&ld, "TLS_CERT", cfg->tls_cert) != 0 || check_readable(&ld, "TLS_KEY", cfg->tls_key) != 0))
        return -1;

    load_string(&ld, "DATABASE_URL", "", &cfg->database_url);
    if (load_int(&ld, "DB_POOL_SIZE", 2, 1, 64, &cfg->db_pool_size) != 0 ||
        load_int(&ld, "DB_PIPELINE_DEPTH", 32, 1, 1024, &cfg->db_pipeline_depth) != 0 ||
        load_int(&ld, "DB_QUEUE_MAX", 1024, 0, 1048576, &cfg->db_queue_max) != 0 ||
        load_int(&ld, "DB_STATEMENT_TIMEOUT", 5000, 0, INT_MAX, &cfg->db_statement_timeout) != 0 ||
        load_bool(&ld, "DB_PREPARED", 1, &cfg->db_prepared) != 0)
        return -1;

    if (load_size(&ld, "MAX_BODY", 64 * KIB, &cfg->max_body) != 0)
        return -1;
    load_string(&ld, "CORS_ORIGINS", "", &cfg->cors_origins);
    if (load_bool(&ld, "ACCOUNTS", 1, &cfg->accounts) != 0 ||
        load_int(&ld, "SHUTDOWN_TIMEOUT", 10, 0, 3600, &cfg->shutdown_timeout) != 0 ||
        load_int(&ld, "RATE_LIMIT", 0, 0, 1000000, &cfg->rate_limit) != 0 ||
        load_int(&ld, "RATE_LIMIT_BURST", cfg->rate_limit * 2, 0, 2000000, &cfg->rate_limit_burst) != 0 ||
        load_int(&ld, "MAX_CONNECTIONS", 2048, 1, 1000000, &cfg->max_connections) != 0)
        return -1;

    cfg->jwt_secret = lookup(&ld, "BETTER_AUTH_SECRET");
    if (cfg->jwt_secret == NULL)
        return fail(&ld, "BETTER_AUTH_SECRET: required and must not be empty (the secret Better Auth signs HS256 tokens with)");
    cfg->jwt_secret_len = strlen(cfg->jwt_secret);
    if (cfg->jwt_secret_len > INT_MAX) /* libjwt takes the key length as an int */
        return fail(&ld, "BETTER_AUTH_SECRET: longer than %d bytes", INT_MAX);
    if (load_int(&ld, "JWT_LEEWAY", 60, 0, 3600, &leeway) != 0 ||
        load_duration(&ld, "JWT_TTL", JWT_TTL_DEFAULT, &cfg->jwt_ttl) != 0)
        return -1;
    cfg->jwt_leeway = leeway;
    cfg->jwt_issuer = lookup(&ld, "JWT_ISSUER");
    cfg->jwt_audience = lookup(&ld, "JWT_AUDIENCE");
    cfg->jwks_file = lookup(&ld, "JWT_JWKS_FILE");
    cfg->jwks_url = lookup(&ld, "JWT_JWKS_URL");
    if (cfg->jwks_url != NULL && strncmp(cfg->jwks_url, "http://", 7) != 0 && strncmp(cfg->jwks_url, "https://", 8) != 0)
        return fail(&ld, "JWT_JWKS_URL: must be an http:// or https:// URL, got '%s'", cfg->jwks_url);

    cfg->log_level = GW_LOG_INFO;
    if ((level = lookup(&ld, "LOG_LEVEL")) != NULL) {
        static const char *const names[] = {"error", "warn", "info", "debug"};
        size_t i;
        for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
            if (strcasecmp(level, names[i]) == 0)
                break;
        if (i == sizeof(names) / sizeof(names[0]))
            return fail(&ld, "LOG_LEVEL: must be error, warn, info or debug, got '%s'", level);
        cfg->log_level = (gw_log_level_t)i;
    }
    return 0;
}

/* The --help text: static, never freed. */
const char *gw_config_help(void)
{
    return "Usage: todo-gateway [--help] [--version]\n"
           "\n"
           "An HTTP/1.1 and HTTP/2 gateway for the todo API: it checks bearer tokens and hands each request\n"
           "to PostgreSQL as one pipelined transaction. Configured only through the environment;\n"
           "an empty variable counts as unset.\n"
           "\n"
           "Listeners:\n"
           "  HOST                  default 127.0.0.1  address both listeners bind\n"
           "  PORT                  default 8080       cleartext HTTP/1.1 and h2c port (0 picks a free port)\n"
           "  TLS_PORT              default 8443       TLS port (h2 and http/1.1 by ALPN), used with TLS_CERT and TLS_KEY\n"
           "  TLS_CERT              default unset      PEM certificate chain; set together with TLS_KEY\n"
           "  TLS_KEY               default unset      PEM private key; set together with TLS_CERT\n"
           "  GATEWAY_THREADS       default: cores     event-loop threads, 1 to 256\n"
           "\n"
           "Database:\n"
           "  DATABASE_URL          default \"\"         libpq connection string or URI (empty: PG* variables decide)\n"
           "  DB_POOL_SIZE          default 2          connections per thread, 1 to 64\n"
           "  DB_PIPELINE_DEPTH     default 32         requests in flight per connection, 1 to 1024\n"
           "  DB_QUEUE_MAX          default 1024       requests waiting per thread when all connections are busy\n"
           "  DB_STATEMENT_TIMEOUT  default 5000       statement timeout in milliseconds (0 disables)\n"
           "  DB_PREPARED           default on         prepared statements (off for transaction-mode poolers)\n"
           "\n"
           "HTTP:\n"
           "  MAX_BODY              default 64KiB      largest request body; bytes or suffix k/K/KiB, m/M/MiB, up to 64MiB\n"
           "  CORS_ORIGINS          default \"\"         comma-separated origins allowed by CORS; \"*\" allows any\n"
           "  ACCOUNTS              default on         serve the /api/auth/ routes (register, login, logout, me)\n"
           "  SHUTDOWN_TIMEOUT      default 10         seconds in-flight requests get to finish on shutdown\n"
           "  RATE_LIMIT            default 0 (off)    requests per second per client address (all but /healthz); beyond: 429\n"
           "  RATE_LIMIT_BURST      default 2x rate    requests a client may send at once before the rate applies\n"
           "  MAX_CONNECTIONS       default 2048       client connections open at once, per process; beyond: closed at accept\n"
           "\n"
           "Tokens:\n"
           "  BETTER_AUTH_SECRET    required           HS256 secret shared with Better Auth\n"
           "  JWT_LEEWAY            default 60         clock skew allowed on exp, nbf and iat, 0 to 3600 seconds\n"
           "  JWT_TTL               default 7d         lifetime of issued tokens; seconds or suffix s, m, h, d\n"
           "  JWT_ISSUER            default unset      when set, tokens must carry this iss (and issued ones do)\n"
           "  JWT_AUDIENCE          default unset      when set, tokens' aud must name it (and issued ones do)\n"
           "  JWT_JWKS_FILE         default unset      JWK Set file: also accept EdDSA, ES256, RS256, PS256 tokens by kid\n"
           "  JWT_JWKS_URL          default unset      JWK Set URL (Better Auth: <origin>/api/auth/jwks), fetched again\n"
           "                                           on an unknown kid, at most once a minute\n"
           "\n"
           "Logging:\n"
           "  LOG_LEVEL             default info       error, warn, info or debug\n"
           "\n"
           "On/off values also accept true/false, yes/no and 1/0.\n";
}
