/* test_locked_table: todo.tasks held locked in psql (ACCESS EXCLUSIVE) while a burst of POSTs
 * arrives at once, more than the pipelines hold. Every request is answered within
 * DB_STATEMENT_TIMEOUT + 1 s wherever it waited (the gateway's queue: 503 at its deadline; a
 * pipeline behind the statement that holds the lock: its own deadline, in the database: 503
 * when it never started, 504 when it timed out), only with 503 or 504, and none of them wrote
 * anything. (Before the deadline reached the database, requests pipelined behind a slow
 * statement each waited a whole statement_timeout of their own: 84 of 2,000 got 201 after
 * 59.7 s.) After the unlock, the service is back within a second. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faults.h"
#include "pgadmin.h"

#define TIMEOUT_MS 1000
#define BURST 600

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_locked_table");
    PGconn *db = pg_admin(), *locker = pg_admin();
    gateway_t g;
    const char *const env[] = {h_fmt("DB_STATEMENT_TIMEOUT=%d", TIMEOUT_MS), "GATEWAY_THREADS=2", "DB_POOL_SIZE=2", NULL};
    if (db == NULL || locker == NULL || gateway_start(&g, env) != 0)
        return h_finish();
    CHECK(gateway_wait_db(&g, 4, 10000), "the gateway's four database connections are up");
    const char *user = h_uid("locked"), *tok = tok_user(user), *path = h_fmt("/api/%s/tasks", user);

    h_section("%d POSTs at once on a locked table", BURST);
    shots_t s = {0};
    s.v = calloc(BURST, sizeof(*s.v));
    s.n = s.cap = BURST;
    for (int i = 0; i < BURST; i++) {
        s.v[i].title = h_fmt("locked #%d", i);
        s.v[i].rq = (req_t){.method = "POST",
                            .path = path,
                            .token = tok,
                            .proto = P_H1,
                            .timeout_ms = 60000,
                            .body = h_fmt("{\"title\": \"%s\"}", s.v[i].title)};
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (pg_run(locker, "begin", NULL, NULL) && pg_run(locker, "lock table todo.tasks in access exclusive mode", NULL, NULL)) {
        fault_burst(&g, &s, 0, 90000);
        long late = 0, other = 0;
        for (size_t i = 0; i < s.n; i++) {
            late += s.v[i].ms > TIMEOUT_MS + 1000;
            other += s.v[i].status != 503 && s.v[i].status != 504;
        }
        CHECK(late == 0, "every answer came within DB_STATEMENT_TIMEOUT + 1 s (%ld later; slowest %ld ms)", late,
              fault_slowest_ms(&s));
        CHECK(other == 0, "every answer is 503 or 504 while the table is locked (%ld others: %s)", other, fault_by_status(&s));
        pg_run(locker, "rollback", NULL, NULL); /* before the rows are counted: the lock would hold that back too */
        clock_gettime(CLOCK_MONOTONIC, &t0);
        fault_check_writes(db, user, &s, 0, "locked table");
    }

    h_section("after the unlock");
    long back_ms = -1;
    for (int i = 0; back_ms < 0 && h_ms_since(&t0) < 5000; i++) {
        req_t rq = {
            .method = "POST", .path = path, .token = tok, .proto = P_H1, .raw = 1, .body = h_fmt("{\"title\": \"after %d\"}", i)};
        resp_t *r = h_req(&g, &rq);
        if (r->status == 201)
            back_ms = h_ms_since(&t0);
        resp_free(r);
    }
    CHECK(back_ms >= 0 && back_ms <= 1000, "a write succeeds within 1 s of the unlock (%ld ms)", back_ms);
    shots_t after = {0};
    fault_write_load(&g, P_H1, user, tok, "unlocked", 4, 500, NULL, NULL, &after);
    long ok = 0;
    for (size_t i = 0; i < after.n; i++)
        ok += after.v[i].status == 201;
    CHECK(after.n > 0 && (size_t)ok == after.n, "then every write succeeds (%s)", fault_by_status(&after));
    h_diag("locked table: %d POSTs: %s; slowest %ld ms (bound %d ms); service back %ld ms after the unlock", BURST,
           fault_by_status(&s), fault_slowest_ms(&s), TIMEOUT_MS + 1000, back_ms);
    fault_shots_free(&s);
    fault_shots_free(&after);
    gateway_stop(&g);
    PQfinish(db);
    PQfinish(locker);
    return h_finish();
}
