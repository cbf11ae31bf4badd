/* pgadmin.h: a superuser connection for the tests that look at or poke the database
 * directly (TEST_ADMIN_DATABASE_URL): counting rows, holding a lock, killing backends. */
#ifndef TEST_PGADMIN_H
#define TEST_PGADMIN_H

#include <libpq-fe.h>

/* Connects to TEST_ADMIN_DATABASE_URL; NULL after recording a failure. Caller PQfinish'es. */
PGconn *pg_admin(void);
/* Runs sql (with up to two text parameters, NULL for none); returns 1 when it succeeded. */
int pg_run(PGconn *c, const char *sql, const char *p1, const char *p2);
/* The first column of the first row as a number, or -1 on error / no row. */
long long pg_number(PGconn *c, const char *sql, const char *p1, const char *p2);
/* The first column of the first row as text (kept by the harness), or NULL. */
const char *pg_text(PGconn *c, const char *sql, const char *p1, const char *p2);

/* Checks that the database holds exactly n tasks of user, and none whose title does not start
 * with user's id (the tests title every task after its owner). */
void pg_expect_own_tasks(PGconn *c, const char *user, long long n);

#endif
