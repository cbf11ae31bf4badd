/* test_config.c: gw_config_load against a table standing in for the environment. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

#define SECRET "a-secret-of-at-least-thirty-two-bytes!"

/* The fake environment: name/value pairs, reset before each case. */
static struct {
    const char *name, *value;
} env[64];
static size_t env_count;
static char err[256];

static const char *fake_getenv(const char *name)
{
    size_t i;
    for (i = 0; i < env_count; i++)
        if (strcmp(env[i].name, name) == 0)
            return env[i].value;
    return NULL;
}

static void env_set(const char *name, const char *value)
{
    size_t i;
    for (i = 0; i < env_count; i++) {
        if (strcmp(env[i].name, name) == 0) {
            env[i].value = value;
            return;
        }
    }
    env[env_count].name = name;
    env[env_count].value = value;
    env_count++;
}

/* A fresh environment holding only the required secret. */
static void env_reset(void)
{
    env_count = 0;
    env_set("BETTER_AUTH_SECRET", SECRET);
}

static int load(gw_config_t *cfg)
{
    memset(err, 'x', sizeof(err));
    return gw_config_load(cfg, fake_getenv, err, sizeof(err));
}

/* name=value alone (besides the secret) must fail with a message that starts with the name and quotes the value. */
static int rejects(const char *name, const char *value)
{
    gw_config_t cfg;
    char quoted[128];

    env_reset();
    env_set(name, value);
    if (load(&cfg) != -1) {
        check_diag("%s='%s' was accepted", name, value);
        return 0;
    }
    snprintf(quoted, sizeof(quoted), "'%s'", value);
    if (strncmp(err, name, strlen(name)) != 0 || err[strlen(name)] != ':' || strstr(err, quoted) == NULL) {
        check_diag("%s='%s': the message does not name the variable and the value: %s", name, value, err);
        return 0;
    }
    return 1;
}

/* name=value alone (besides the secret) must load; *cfg holds the result. */
static int accepts(gw_config_t *cfg, const char *name, const char *value)
{
    env_reset();
    env_set(name, value);
    return load(cfg) == 0;
}

static void test_defaults(void)
{
    gw_config_t cfg;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);

    env_reset();
    CHECK(load(&cfg) == 0);
    CHECK(err[0] == '\0');
    CHECK(strcmp(cfg.host, "127.0.0.1") == 0);
    CHECK_EQ(cfg.port, 8080);
    CHECK_EQ(cfg.tls_port, 8443);
    CHECK(cfg.tls_cert == NULL);
    CHECK(cfg.tls_key == NULL);
    CHECK_EQ(cfg.threads, cores < 1 ? 1 : cores > 256 ? 256 : cores);
    CHECK(strcmp(cfg.database_url, "") == 0);
    CHECK_EQ(cfg.db_pool_size, 2);
    CHECK_EQ(cfg.db_pipeline_depth, 32);
    CHECK_EQ(cfg.db_queue_max, 32768);
    CHECK_EQ(cfg.http2_max_concurrent_requests, 16);
    CHECK_EQ(cfg.jwt_cache_size, 16384);
    CHECK_EQ(cfg.db_statement_timeout, 5000);
    CHECK_EQ(cfg.db_prepared, 1);
    CHECK_EQ(cfg.max_body, 65536);
    CHECK(strcmp(cfg.cors_origins, "") == 0);
    CHECK_EQ(cfg.accounts, 1);
    CHECK_EQ(cfg.shutdown_timeout, 10);
    CHECK(cfg.jwt_secret != NULL && strcmp(cfg.jwt_secret, SECRET) == 0);
    CHECK_EQ(cfg.jwt_secret_len, strlen(SECRET));
    CHECK_EQ(cfg.jwt_leeway, 60);
    CHECK_EQ(cfg.jwt_ttl, 7 * 86400);
    CHECK(cfg.jwt_issuer == NULL);
    CHECK(cfg.jwt_audience == NULL);
    CHECK(cfg.jwks_file == NULL);
    CHECK(cfg.jwks_url == NULL);
    CHECK_EQ(cfg.rate_limit, 0); /* off */
    CHECK_EQ(cfg.log_level, GW_LOG_INFO);
}

/* RATE_LIMIT_BURST defaults to twice the rate; JWT_JWKS_URL must be http(s). */
static void test_later_variables(void)
{
    gw_config_t cfg;
    CHECK(accepts(&cfg, "RATE_LIMIT", "5") && cfg.rate_limit == 5 && cfg.rate_limit_burst == 10);
    env_reset();
    env_set("RATE_LIMIT", "5");
    env_set("RATE_LIMIT_BURST", "7");
    CHECK(load(&cfg) == 0 && cfg.rate_limit_burst == 7);
    CHECK(accepts(&cfg, "JWT_JWKS_URL", "https://app.example/api/auth/jwks") &&
          strcmp(cfg.jwks_url, "https://app.example/api/auth/jwks") == 0);
    CHECK(rejects("JWT_JWKS_URL", "ftp://app.example/jwks"));
    CHECK(strncmp(err, "JWT_JWKS_URL:", 13) == 0);
    CHECK(rejects("JWT_JWKS_URL", "/etc/jwks.json"));
}

static void test_values_pass_through(void)
{
    gw_config_t cfg;
    static const char url[] = "postgresql://gw@localhost/todo";

    env_reset();
    env_set("HOST", "0.0.0.0");
    env_set("PORT", "0");
    env_set("TLS_PORT", "65535");
    env_set("GATEWAY_THREADS", "3");
    env_set("DATABASE_URL", url);
    env_set("DB_POOL_SIZE", "64");
    env_set("DB_PIPELINE_DEPTH", "1024");
    env_set("DB_QUEUE_MAX", "0");
    env_set("DB_STATEMENT_TIMEOUT", "0");
    env_set("DB_PREPARED", "off");
    env_set("MAX_BODY", "1");
    env_set("CORS_ORIGINS", "https://a.example,https://b.example");
    env_set("ACCOUNTS", "no");
    env_set("SHUTDOWN_TIMEOUT", "0");
    env_set("JWT_LEEWAY", "0");
    env_set("JWT_TTL", "1");
    env_set("JWT_ISSUER", "https://auth.example");
    env_set("JWT_AUDIENCE", "todo-api");
    env_set("LOG_LEVEL", "debug");
    CHECK(load(&cfg) == 0);
    CHECK(strcmp(cfg.host, "0.0.0.0") == 0);
    CHECK_EQ(cfg.port, 0);
    CHECK_EQ(cfg.tls_port, 65535);
    CHECK_EQ(cfg.threads, 3);
    CHECK(cfg.database_url == fake_getenv("DATABASE_URL")); /* not copied */
    CHECK_EQ(cfg.db_pool_size, 64);
    CHECK_EQ(cfg.db_pipeline_depth, 1024);
    CHECK_EQ(cfg.db_queue_max, 0);
    CHECK_EQ(cfg.db_statement_timeout, 0);
    CHECK_EQ(cfg.db_prepared, 0);
    CHECK_EQ(cfg.max_body, 1);
    CHECK(strcmp(cfg.cors_origins, "https://a.example,https://b.example") == 0);
    CHECK_EQ(cfg.accounts, 0);
    CHECK_EQ(cfg.shutdown_timeout, 0);
    CHECK_EQ(cfg.jwt_leeway, 0);
    CHECK_EQ(cfg.jwt_ttl, 1);
    CHECK(cfg.jwt_issuer != NULL && strcmp(cfg.jwt_issuer, "https://auth.example") == 0);
    CHECK(cfg.jwt_audience != NULL && strcmp(cfg.jwt_audience, "todo-api") == 0);
    CHECK_EQ(cfg.log_level, GW_LOG_DEBUG);
}

static void test_secret(void)
{
    gw_config_t cfg;

    env_count = 0;
    CHECK(load(&cfg) == -1);
    CHECK(strncmp(err, "BETTER_AUTH_SECRET:", 19) == 0);
    env_set("BETTER_AUTH_SECRET", "");
    CHECK(load(&cfg) == -1);
    CHECK(strncmp(err, "BETTER_AUTH_SECRET:", 19) == 0);
    env_set("BETTER_AUTH_SECRET", "x");
    CHECK(load(&cfg) == 0);
    CHECK_EQ(cfg.jwt_secret_len, 1);
}

/* DB_PREPARED=off (a transaction-mode pooler) makes DB_PIPELINE_DEPTH default to 1; set, it stays. */
static void test_pooler_depth(void)
{
    gw_config_t cfg;

    env_reset();
    CHECK(load(&cfg) == 0 && cfg.db_prepared == 1 && cfg.db_pipeline_depth == 32);
    env_set("DB_PREPARED", "off");
    CHECK(load(&cfg) == 0 && cfg.db_prepared == 0 && cfg.db_pipeline_depth == 1);
    env_set("DB_PIPELINE_DEPTH", "");
    CHECK(load(&cfg) == 0 && cfg.db_pipeline_depth == 1);
    env_set("DB_PIPELINE_DEPTH", "8");
    CHECK(load(&cfg) == 0 && cfg.db_pipeline_depth == 8);
    env_set("DB_PREPARED", "on");
    CHECK(load(&cfg) == 0 && cfg.db_pipeline_depth == 8);
}

/* BETTER_AUTH_URL alone configures key-pair tokens: JWT_JWKS_URL, JWT_ISSUER and JWT_AUDIENCE
 * default to it (trailing slashes dropped), each may still be set; JWT_JWKS_REFRESH is 10 min. */
static void test_better_auth_url(void)
{
    gw_config_t cfg;

    env_reset();
    CHECK(load(&cfg) == 0 && cfg.jwks_url == NULL && cfg.jwt_issuer == NULL && cfg.jwt_audience == NULL);
    CHECK_EQ(cfg.jwks_refresh, 600);
    env_set("BETTER_AUTH_URL", "https://app.example.com/");
    CHECK(load(&cfg) == 0);
    CHECK(cfg.jwks_url != NULL && strcmp(cfg.jwks_url, "https://app.example.com/api/auth/jwks") == 0);
    CHECK(cfg.jwt_issuer != NULL && strcmp(cfg.jwt_issuer, "https://app.example.com") == 0);
    CHECK(cfg.jwt_audience != NULL && strcmp(cfg.jwt_audience, "https://app.example.com") == 0);
    env_set("JWT_ISSUER", "https://issuer.example");
    env_set("JWT_AUDIENCE", "todo-api");
    env_set("JWT_JWKS_URL", "https://keys.example/jwks.json");
    env_set("JWT_JWKS_REFRESH", "90s");
    CHECK(load(&cfg) == 0);
    CHECK(strcmp(cfg.jwt_issuer, "https://issuer.example") == 0 && strcmp(cfg.jwt_audience, "todo-api") == 0);
    CHECK(strcmp(cfg.jwks_url, "https://keys.example/jwks.json") == 0);
    CHECK_EQ(cfg.jwks_refresh, 90);
    CHECK(rejects("BETTER_AUTH_URL", "app.example.com"));
    CHECK(rejects("BETTER_AUTH_URL", "file:///etc/passwd"));
    CHECK(rejects("JWT_JWKS_REFRESH", "0"));
    CHECK(rejects("JWT_JWKS_REFRESH", "2d"));
    static char long_url[GW_CONFIG_URL_MAX + 16];
    memset(long_url, 'a', sizeof(long_url) - 1);
    memcpy(long_url, "https://", 8);
    env_reset();
    env_set("BETTER_AUTH_URL", long_url);
    CHECK(load(&cfg) == -1 && strncmp(err, "BETTER_AUTH_URL:", 16) == 0);
}

/* Every integer variable of the table: its bounds are accepted, one beyond them refused, and junk refused. */
static void test_integers(void)
{
    static const char *const junk[] = {"abc", "12x", "1 ", " 1", "+1", "-1", "0x10", "1.0", "1e3", "99999999999999999999999"};
    gw_config_t cfg;
    size_t i, j, n = 0;
    char min[24], max[24], below[24], above[24];

    for (i = 0; i < gw_config_vars_count; i++) {
        const gw_config_var_t *var = &gw_config_vars[i];
        if (var->type != GW_CONF_INT)
            continue;
        n++;
        snprintf(min, sizeof(min), "%lld", var->min);
        snprintf(max, sizeof(max), "%lld", var->max);
        snprintf(below, sizeof(below), "%lld", var->min - 1);
        snprintf(above, sizeof(above), "%lld", var->max + 1);
        CHECK(var->min >= 0 && var->min <= var->max && var->max <= INT_MAX);
        CHECK(accepts(&cfg, var->name, min) && *(int *)((char *)&cfg + var->offset) == var->min);
        CHECK(accepts(&cfg, var->name, max) && *(int *)((char *)&cfg + var->offset) == var->max);
        CHECK(rejects(var->name, above));
        if (var->min > 0)
            CHECK(rejects(var->name, below));
        for (j = 0; j < sizeof(junk) / sizeof(junk[0]); j++)
            CHECK(rejects(var->name, junk[j]));
    }
    CHECK(n >= 11); /* PORT, TLS_PORT, GATEWAY_THREADS, DB_POOL_SIZE, DB_PIPELINE_DEPTH, DB_QUEUE_MAX,
                       DB_STATEMENT_TIMEOUT, SHUTDOWN_TIMEOUT, JWT_LEEWAY, RATE_LIMIT, RATE_LIMIT_BURST, and more to come */
    /* the ranges the README and --help promise, pinned here as well */
    CHECK(accepts(&cfg, "PORT", "65535") && rejects("PORT", "65536"));
    CHECK(accepts(&cfg, "GATEWAY_THREADS", "256") && rejects("GATEWAY_THREADS", "0") && rejects("GATEWAY_THREADS", "257"));
    CHECK(accepts(&cfg, "DB_POOL_SIZE", "64") && rejects("DB_POOL_SIZE", "65"));
    CHECK(accepts(&cfg, "JWT_LEEWAY", "3600") && rejects("JWT_LEEWAY", "3601"));
    CHECK(accepts(&cfg, "PORT", "443") && cfg.port == 443);
    CHECK(accepts(&cfg, "PORT", "00080") && cfg.port == 80);
    CHECK(accepts(&cfg, "JWT_LEEWAY", "3600") && cfg.jwt_leeway == 3600);
    CHECK(accepts(&cfg, "DB_STATEMENT_TIMEOUT", "2147483647") && cfg.db_statement_timeout == 2147483647);
    CHECK(rejects("PORT", "abc"));
    CHECK(strcmp(err, "PORT: must be an integer from 0 to 65535, got 'abc'") == 0);
}

static void test_booleans(void)
{
    static const char *const names[] = {"DB_PREPARED", "ACCOUNTS"};
    static const char *const on[] = {"on", "ON", "true", "True", "1", "yes", "YES"};
    static const char *const off[] = {"off", "Off", "false", "FALSE", "0", "no", "nO"};
    static const char *const junk[] = {"maybe", "2", "onn", "y", "n", " on", "on ", "enabled"};
    gw_config_t cfg;
    size_t i, j;

    for (i = 0; i < 2; i++) {
        int *field = i == 0 ? &cfg.db_prepared : &cfg.accounts;
        for (j = 0; j < sizeof(on) / sizeof(on[0]); j++)
            CHECK(accepts(&cfg, names[i], on[j]) && *field == 1);
        for (j = 0; j < sizeof(off) / sizeof(off[0]); j++)
            CHECK(accepts(&cfg, names[i], off[j]) && *field == 0);
        for (j = 0; j < sizeof(junk) / sizeof(junk[0]); j++)
            CHECK(rejects(names[i], junk[j]));
    }
}

static void test_max_body(void)
{
    static const struct {
        const char *value;
        size_t bytes;
    } good[] = {{"1", 1},          {"65536", 65536},       {"64k", 65536},       {"64K", 65536},
                {"64KiB", 65536},  {"1m", 1048576},        {"1M", 1048576},      {"1MiB", 1048576},
                {"64M", 67108864}, {"67108864", 67108864}, {"65536K", 67108864}, {"0001k", 1024}};
    static const char *const bad[] = {
        "0",   "0k", "65M", "67108865", "65537K", "1kb", "1 k", "k",   "1.5M",  "1Ki",
        "1MB", "1G", "-1",  "1mib",     "1KIB",   "1kk", "M1",  "1e6", "1_000", "99999999999999999999k"};
    gw_config_t cfg;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(accepts(&cfg, "MAX_BODY", good[i].value) && cfg.max_body == good[i].bytes);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(rejects("MAX_BODY", bad[i]));
}

static void test_jwt_ttl(void)
{
    static const struct {
        const char *value;
        int64_t seconds;
    } good[] = {{"3600", 3600}, {"30s", 30}, {"15m", 900}, {"2h", 7200}, {"7d", 604800}, {"1", 1}, {"3650d", 315360000}};
    static const char *const bad[] = {"0",   "0d", "-5", "1w",    "10x",       "h",   "1.5h",
                                      "1 h", "1H", "1D", "3651d", "315360001", "1hm", "99999999999999999999999d"};
    gw_config_t cfg;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        CHECK(accepts(&cfg, "JWT_TTL", good[i].value) && cfg.jwt_ttl == good[i].seconds);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        CHECK(rejects("JWT_TTL", bad[i]));
}

static void test_log_level(void)
{
    gw_config_t cfg;

    CHECK(accepts(&cfg, "LOG_LEVEL", "error") && cfg.log_level == GW_LOG_ERROR);
    CHECK(accepts(&cfg, "LOG_LEVEL", "warn") && cfg.log_level == GW_LOG_WARN);
    CHECK(accepts(&cfg, "LOG_LEVEL", "info") && cfg.log_level == GW_LOG_INFO);
    CHECK(accepts(&cfg, "LOG_LEVEL", "DEBUG") && cfg.log_level == GW_LOG_DEBUG);
    CHECK(rejects("LOG_LEVEL", "trace"));
    CHECK(rejects("LOG_LEVEL", "warning"));
    CHECK(rejects("LOG_LEVEL", "3"));
}

static void test_tls(void)
{
    char cert[] = "/tmp/gw-test-cert-XXXXXX", key[] = "/tmp/gw-test-key-XXXXXX";
    int fd_cert = mkstemp(cert), fd_key = mkstemp(key);
    gw_config_t cfg;

    CHECK(fd_cert >= 0 && fd_key >= 0);

    env_reset();
    env_set("TLS_CERT", cert);
    CHECK(load(&cfg) == -1);
    CHECK(strncmp(err, "TLS_KEY:", 8) == 0 && strstr(err, "TLS_CERT") != NULL);

    env_reset();
    env_set("TLS_KEY", key);
    CHECK(load(&cfg) == -1);
    CHECK(strncmp(err, "TLS_CERT:", 9) == 0 && strstr(err, "TLS_KEY") != NULL);

    env_set("TLS_CERT", ""); /* empty is unset */
    CHECK(load(&cfg) == -1);
    CHECK(strncmp(err, "TLS_CERT:", 9) == 0);

    env_set("TLS_CERT", cert);
    CHECK(load(&cfg) == 0);
    CHECK(cfg.tls_cert != NULL && strcmp(cfg.tls_cert, cert) == 0);
    CHECK(cfg.tls_key != NULL && strcmp(cfg.tls_key, key) == 0);

    env_set("TLS_CERT", "/nonexistent/cert.pem");
    CHECK(load(&cfg) == -1);
    CHECK(strncmp(err, "TLS_CERT:", 9) == 0 && strstr(err, "/nonexistent/cert.pem") != NULL);

    env_set("TLS_CERT", cert);
    env_set("TLS_KEY", "/nonexistent/key.pem");
    CHECK(load(&cfg) == -1);
    CHECK(strncmp(err, "TLS_KEY:", 8) == 0 && strstr(err, "/nonexistent/key.pem") != NULL);

    env_set("TLS_CERT", "");
    env_set("TLS_KEY", "");
    CHECK(load(&cfg) == 0);
    CHECK(cfg.tls_cert == NULL && cfg.tls_key == NULL);

    if (fd_cert >= 0) {
        close(fd_cert);
        unlink(cert);
    }
    if (fd_key >= 0) {
        close(fd_key);
        unlink(key);
    }
}

/* Every variable of the table, set empty, is unset: the defaults come back. */
static void test_empty_is_unset(void)
{
    gw_config_t cfg;
    size_t i;

    env_reset();
    for (i = 0; i < gw_config_vars_count; i++)
        if (strcmp(gw_config_vars[i].name, "BETTER_AUTH_SECRET") != 0)
            env_set(gw_config_vars[i].name, "");
    CHECK(env_count == gw_config_vars_count);
    CHECK(load(&cfg) == 0);
    CHECK(strcmp(cfg.host, "127.0.0.1") == 0);
    CHECK_EQ(cfg.port, 8080);
    CHECK_EQ(cfg.tls_port, 8443);
    CHECK(cfg.tls_cert == NULL && cfg.tls_key == NULL);
    CHECK(cfg.threads >= 1);
    CHECK(strcmp(cfg.database_url, "") == 0);
    CHECK_EQ(cfg.db_pool_size, 2);
    CHECK_EQ(cfg.db_prepared, 1);
    CHECK_EQ(cfg.max_body, 65536);
    CHECK_EQ(cfg.accounts, 1);
    CHECK_EQ(cfg.jwt_leeway, 60);
    CHECK_EQ(cfg.jwt_ttl, 604800);
    CHECK(cfg.jwt_issuer == NULL && cfg.jwt_audience == NULL);
    CHECK_EQ(cfg.log_level, GW_LOG_INFO);
}

static void test_error_buffer(void)
{
    gw_config_t cfg;
    char small[8];

    env_reset();
    env_set("PORT", "abc");
    memset(small, 'x', sizeof(small));
    CHECK(gw_config_load(&cfg, fake_getenv, small, sizeof(small)) == -1);
    CHECK(small[sizeof(small) - 1] == '\0' && strncmp(small, "PORT:", 5) == 0);
    CHECK(gw_config_load(&cfg, fake_getenv, NULL, 0) == -1);
}

/* --help lists every variable of the table, each on a line of its own. */
static void test_help(void)
{
    const char *help = gw_config_help();
    size_t i;

    CHECK(help != NULL && strncmp(help, "Usage: todo-gateway [--help] [--version] [--check-config]\n", 58) == 0);
    CHECK(help == gw_config_help());
    for (i = 0; i < gw_config_vars_count; i++) {
        char line[64];
        snprintf(line, sizeof(line), "\n  %s ", gw_config_vars[i].name);
        if (strstr(help, line) == NULL) {
            check_diag("--help does not list %s", gw_config_vars[i].name);
            CHECK(0);
        }
    }
    CHECK(strstr(help, "\n  BETTER_AUTH_SECRET    required ") != NULL);
    CHECK(strstr(help, "\n  PORT                  default 8080 ") != NULL);
}

/* --check-config: every variable's effective value, secrets masked (the HS256 secret, and a
 * password in DATABASE_URL as a URI's user:password@ or a password=... key or parameter). */
static void test_describe(void)
{
    gw_config_t cfg;
    char err[512], text[16384];

    env_reset();
    env_set("BETTER_AUTH_SECRET", "topsecret-hs256");
    env_set("DATABASE_URL", "postgresql://todo_gateway:hunter2@db:5432/todo?sslmode=require&password=hunter3");
    env_set("MAX_BODY", "1k");
    env_set("DOCS_ASSETS", "off");
    env_set("LOG_FORMAT", "JSON");
    if (!CHECK(gw_config_load(&cfg, fake_getenv, err, sizeof(err)) == 0))
        check_diag("%s", err);
    gw_config_describe(&cfg, text, sizeof(text));
    CHECK(strstr(text, "topsecret") == NULL && strstr(text, "\nBETTER_AUTH_SECRET=****\n") != NULL);
    CHECK(strstr(text, "hunter") == NULL);
    CHECK(strstr(text, "\nDATABASE_URL=postgresql://todo_gateway:****@db:5432/todo?sslmode=require&password=****\n") != NULL);
    CHECK(strstr(text, "\nMAX_BODY=1024\n") != NULL && strstr(text, "\nLOG_FORMAT=json\n") != NULL);
    CHECK(strstr(text, "\nDOCS_ASSETS=off\n") != NULL && strstr(text, "\nJWT_ISSUER=(unset)\n") != NULL);
    env_set("DATABASE_URL", "host=/run/pg user=todo_gateway password=s3cr3t dbname=todo");
    CHECK(gw_config_load(&cfg, fake_getenv, err, sizeof(err)) == 0);
    gw_config_describe(&cfg, text, sizeof(text));
    CHECK(strstr(text, "\nDATABASE_URL=host=/run/pg user=todo_gateway password=**** dbname=todo\n") != NULL);
    for (size_t i = 0; i < gw_config_vars_count; i++) { /* one line per variable, in the table's order */
        char line[64];
        snprintf(line, sizeof(line), "%s=", gw_config_vars[i].name);
        CHECK(strstr(text, line) != NULL);
    }
}

/* The table itself: names unique and upper case, each row documented, each enum's default one of its names. */
static void test_table(void)
{
    for (size_t i = 0; i < gw_config_vars_count; i++) {
        const gw_config_var_t *var = &gw_config_vars[i];
        CHECK(strspn(var->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == strlen(var->name));
        CHECK(var->section != NULL && var->help != NULL && var->help[0] != '\0');
        CHECK(var->offset < sizeof(gw_config_t));
        for (size_t j = i + 1; j < gw_config_vars_count; j++)
            CHECK(strcmp(var->name, gw_config_vars[j].name) != 0);
        if (var->type == GW_CONF_ENUM)
            CHECK(var->choices != NULL && var->choices[0] != NULL);
    }
    CHECK(gw_config_vars_count > 0);
}

int main(void)
{
    test_table();
    test_defaults();
    test_values_pass_through();
    test_secret();
    test_pooler_depth();
    test_better_auth_url();
    test_integers();
    test_booleans();
    test_max_body();
    test_jwt_ttl();
    test_log_level();
    test_tls();
    test_empty_is_unset();
    test_error_buffer();
    test_help();
    test_describe();
    test_later_variables();
    return check_report("test_config");
}
