/* pgadmin.c: see pgadmin.h. */
#include "pgadmin.h"

#include <stdlib.h>
#include <string.h>

#include "harness.h"

PGconn *pg_admin(void)
{
    const char *url = getenv("TEST_ADMIN_DATABASE_URL");
    if (!CHECK(url != NULL && url[0] != '\0', "TEST_ADMIN_DATABASE_URL is set (scripts/test sets it)"))
        return NULL;
    PGconn *c = PQconnectdb(url);
    if (!CHECK(PQstatus(c) == CONNECTION_OK, "connect to TEST_ADMIN_DATABASE_URL: %s", PQerrorMessage(c))) {
        PQfinish(c);
        return NULL;
    }
    return c;
}

static PGresult *run(PGconn *c, const char *sql, const char *p1, const char *p2)
{
    const char *params[2] = {p1, p2};
    int n = p2 ? 2 : p1 ? 1 : 0;
    return PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
}

int pg_run(PGconn *c, const char *sql, const char *p1, const char *p2)
{
    if (c == NULL)
        return 0;
    PGresult *r = run(c, sql, p1, p2);
    int ok = PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK;
    if (!ok)
        CHECK(0, "admin SQL %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return ok;
}

const char *pg_text(PGconn *c, const char *sql, const char *p1, const char *p2)
{
    if (c == NULL)
        return NULL;
    PGresult *r = run(c, sql, p1, p2);
    const char *v = NULL;
    if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0 && !PQgetisnull(r, 0, 0))
        v = h_keep(strdup(PQgetvalue(r, 0, 0)));
    else if (PQresultStatus(r) != PGRES_TUPLES_OK)
        CHECK(0, "admin SQL %s: %s", sql, PQresultErrorMessage(r));
    PQclear(r);
    return v;
}

long long pg_number(PGconn *c, const char *sql, const char *p1, const char *p2)
{
    const char *v = pg_text(c, sql, p1, p2);
    return v ? atoll(v) : -1;
}

void pg_expect_own_tasks(PGconn *c, const char *user, long long n)
{
    long long got = pg_number(c, "select count(*) from todo.tasks where user_id = $1", user, NULL);
    CHECK(got == n, "the database holds exactly %lld tasks of %s (%lld)", n, user, got);
    CHECK(pg_number(c, "select count(*) from todo.tasks where user_id = $1 and title not like $1 || '%'", user, NULL) == 0,
          "no task of %s carries another user's title", user);
}
