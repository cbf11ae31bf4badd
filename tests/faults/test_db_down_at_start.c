/* test_db_down_at_start: the gateway starts while the database is down (a deploy that brings
 * both up at once). It starts anyway: /healthz 200, /readyz 503, a write 503 unavailable with
 * Retry-After (certainly not run). Once the database is back the gateway is ready within 2 s
 * (it retries at most every 500 ms), and the write goes through. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faults.h"
#include "pgadmin.h"

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_db_down_at_start");
    h_section("the gateway starts before the database");
    if (!fault_cluster("stop", "fast"))
        return h_finish();
    gateway_t g;
    if (gateway_start(&g, NULL) != 0)
        return h_finish();
    const char *user = h_uid("early"), *tok = tok_user(user), *path = h_fmt("/api/%s/tasks", user);
    resp_t *r = h_get(&g, P_H1, "/healthz", NULL);
    EXPECT_STATUS(r, 200);
    resp_free(r);
    r = h_get(&g, P_H1, "/readyz", NULL);
    EXPECT_ERROR(r, 503, "unavailable");
    resp_free(r);
    r = h_send(&g, P_H1, "POST", path, tok, "{\"title\": \"too early\"}");
    EXPECT_ERROR(r, 503, "unavailable");
    resp_free(r);
    h_sleep_ms(2500); /* long enough for the reconnection delays to reach their longest */

    h_section("the database comes back");
    if (fault_cluster("start", NULL)) {
        struct timespec t0;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        long ready_ms = -1;
        while (ready_ms < 0 && h_ms_since(&t0) < 10000) {
            req_t rq = {.path = "/readyz", .proto = P_H1, .raw = 1};
            r = h_req(&g, &rq);
            if (r->status == 200)
                ready_ms = h_ms_since(&t0);
            else
                h_sleep_ms(20);
            resp_free(r);
        }
        CHECK(ready_ms >= 0 && ready_ms <= 2000, "ready within 2 s of the database's return (%ld ms)", ready_ms);
        r = h_send(&g, P_H1, "POST", path, tok, "{\"title\": \"on time\"}");
        EXPECT_STATUS(r, 201);
        resp_free(r);
        PGconn *db = pg_admin();
        if (db != NULL) {
            CHECK(pg_number(db, "select count(*) from todo.tasks where user_id = $1", user, NULL) == 1,
                  "one row: the 503 wrote nothing, the 201 did");
            PQfinish(db);
        }
        h_diag("database down at start: /readyz 503 meanwhile; ready %ld ms after the database's return", ready_ms);
    }
    gateway_stop(&g);
    return h_finish();
}
