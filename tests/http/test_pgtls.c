/* test_pgtls: the gateway reaches PostgreSQL over TLS, as Neon requires: DATABASE_URL with
 * sslmode=verify-full and the CA that signed the server's certificate (scripts/lib-pooler.sh
 * makes both with openssl; the server takes TCP with TLS only). The core flow works, and every
 * connection of todo_gateway the server holds is TLS. With another CA the gateway does not
 * connect: /readyz is 503, API requests 503, and the log says why (the certificate could not be
 * verified); without TLS the server refuses it, and the log says that too.
 * Label pgtls; scripts/test sets TEST_PGTLS_DATABASE_URL, TEST_PGTLS_WRONG_CA_DATABASE_URL and
 * TEST_POOLER_ADMIN_DATABASE_URL (the superuser on that cluster). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgadmin.h"

/* Waits (10 s at most) for the gateway's log to contain what; returns 1 when it does. */
static int log_says(gateway_t *g, const char *what)
{
    for (int i = 0; i < 200; i++) {
        if (strstr(gateway_output(g), what) != NULL)
            return 1;
        h_sleep_ms(50);
    }
    return 0;
}

/* A gateway whose database connection fails: /healthz 200, /readyz and the API 503, and the
 * log names the reason. */
static void expect_refused(const char *label, const char *url, const char *reason)
{
    gateway_t g;
    const char *const env[] = {h_fmt("DATABASE_URL=%s", url), "GATEWAY_THREADS=1", "DB_POOL_SIZE=1", NULL};
    h_section("%s", label);
    if (gateway_start(&g, env) != 0)
        return;
    int says = log_says(&g, reason);
    CHECK(says, "the log says why: \"%s\"%s%.600s", reason, says ? "" : ": ", says ? "" : gateway_output(&g));
    resp_t *r = h_get(&g, P_H1, "/readyz", NULL);
    EXPECT_ERROR(r, 503, "unavailable");
    resp_free(r);
    const char *user = h_uid("tls");
    r = h_get(&g, P_H1, h_fmt("/api/%s/tasks", user), tok_user(user));
    EXPECT_ERROR(r, 503, "unavailable");
    resp_free(r);
    gateway_stop(&g);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_pgtls");
    const char *url = getenv("TEST_PGTLS_DATABASE_URL"), *wrong_ca = getenv("TEST_PGTLS_WRONG_CA_DATABASE_URL");
    const char *admin = getenv("TEST_POOLER_ADMIN_DATABASE_URL");
    if (!CHECK(url && wrong_ca && admin && strstr(url, "sslmode=verify-full") != NULL,
               "TEST_PGTLS_DATABASE_URL (with sslmode=verify-full), TEST_PGTLS_WRONG_CA_DATABASE_URL and "
               "TEST_POOLER_ADMIN_DATABASE_URL are set (scripts/test sets them)"))
        return h_finish();
    setenv("TEST_ADMIN_DATABASE_URL", admin, 1); /* pg_admin: the cluster behind the TLS listener */
    PGconn *db = pg_admin();
    gateway_t g;
    const char *const env[] = {h_fmt("DATABASE_URL=%s", url), NULL};

    h_section("sslmode=verify-full with the server's CA");
    if (db != NULL && gateway_start(&g, env) == 0) {
        resp_t *r = h_get(&g, P_H1, "/readyz", NULL);
        EXPECT_STATUS(r, 200);
        resp_free(r);
        h_flow_crud(&g, P_H1, CURL_HTTP_VERSION_1_1);
        const char *pids = "select pid from pg_stat_activity where usename = 'todo_gateway' and application_name = 'todo-gateway'";
        long long tls = pg_number(db, h_fmt("select count(*) from pg_stat_ssl where ssl and pid in (%s)", pids), NULL, NULL);
        long long plain = pg_number(db, h_fmt("select count(*) from pg_stat_ssl where not ssl and pid in (%s)", pids), NULL, NULL);
        CHECK(tls >= 1 && plain == 0, "the gateway's connections are TLS (%lld with TLS, %lld without)", tls, plain);
        CHECK(pg_number(db,
                        h_fmt("select count(*) from pg_stat_ssl where version not in ('TLSv1.2', 'TLSv1.3') and pid in (%s)", pids),
                        NULL, NULL) == 0,
              "every one is TLS 1.2 or 1.3");
        gateway_stop(&g);
    }

    expect_refused("sslmode=verify-full with another CA", wrong_ca, "certificate verify failed");
    const char *mode = strstr(url, "sslmode=verify-full");
    expect_refused("without TLS", h_fmt("%.*ssslmode=disable%s", (int)(mode - url), url, mode + strlen("sslmode=verify-full")),
                   "no encryption");
    if (db != NULL)
        PQfinish(db);
    return h_finish();
}
