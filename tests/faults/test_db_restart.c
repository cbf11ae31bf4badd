/* test_db_restart: the database restarted under write load, three ways: pg_ctl stop -m fast
 * (sessions told, FATAL 57P01), -m immediate (no word, no checkpoint) and kill -9 of the
 * postmaster (a crash; its backends go when they notice). Writers keep POSTing throughout.
 * Counted on both sides: every write acknowledged with 2xx is a row (nothing lost), no write
 * answered 503 or 504 is (that status means "not run"), a 502 may be either (counted), every
 * row is a write that was sent; the gateway answers throughout (never no answer, never a
 * 500), and serves again within a second of the database's return. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "faults.h"
#include "pgadmin.h"

#define WRITERS 8
#define DOWN_AT_MS 1000 /* into the load */
#define DOWN_FOR_MS 500 /* stopped or killed, then started after this long */
#define AFTER_MS 1500   /* the load goes on this long after the database is back */
#define LOAD_MAX_MS 30000

typedef struct restart {
    const char *how; /* stop fast, stop immediate, kill */
    pid_t pid;       /* the cluster command running, or -1 */
    int phase;       /* 0 up, 1 going down, 2 down, 3 coming up, 4 up again */
    long down_at, up_at;
    int ok;
} restart_t;

/* Between the load's events: takes the database down at DOWN_AT_MS, up again DOWN_FOR_MS after
 * it went, without blocking the writers (the cluster commands run in the background); the load
 * is done AFTER_MS after the database is back. */
static int tick(long elapsed, void *arg)
{
    restart_t *r = arg;
    int ok = 1;
    if (r->phase == 0 && elapsed >= DOWN_AT_MS) {
        int kill = strcmp(r->how, "kill") == 0;
        r->pid = fault_cluster_spawn(kill ? "kill" : "stop", kill ? NULL : r->how);
        r->phase = 1;
    } else if ((r->phase == 1 || r->phase == 3) && fault_cluster_done(r->pid, &ok)) {
        r->ok &= ok;
        if (r->phase == 1)
            r->down_at = elapsed, r->phase = 2;
        else
            r->up_at = elapsed, r->phase = 4;
    } else if (r->phase == 2 && elapsed >= r->down_at + DOWN_FOR_MS) {
        r->pid = fault_cluster_spawn("start", NULL);
        r->phase = 3;
    }
    return r->phase == 4 && elapsed >= r->up_at + AFTER_MS;
}

static void scenario(gateway_t *g, const char *how)
{
    const char *user = h_uid("restart"), *tok = tok_user(user);
    restart_t r = {.how = how, .pid = -1, .ok = 1};
    shots_t s = {0};
    h_section("the database restarted (%s) under write load", how);
    CHECK(gateway_wait_db(g, 4, 10000), "the gateway's database connections are up before");
    fault_write_load(g, P_H1, user, tok, how, WRITERS, LOAD_MAX_MS, tick, &r, &s);
    CHECK(r.phase == 4 && r.ok, "the database went down and came back (%s; down at %ld ms, up at %ld ms)", how, r.down_at, r.up_at);
    long back = -1; /* the first write acknowledged after the database was back */
    for (size_t i = 0; i < s.n; i++)
        if (s.v[i].status == 201 && s.v[i].sent_at_ms + s.v[i].ms >= r.up_at && (back < 0 || s.v[i].sent_at_ms + s.v[i].ms < back))
            back = s.v[i].sent_at_ms + s.v[i].ms;
    CHECK(back >= 0 && back - r.up_at <= 1000, "%s: writes are acknowledged again within 1 s of the database's return (%ld ms)",
          how, back < 0 ? -1 : back - r.up_at);
    PGconn *db = pg_admin(); /* a new session: the old ones went with the server */
    if (db != NULL) {
        fault_check_writes(db, user, &s, 0, how);
        PQfinish(db);
    }
    h_diag("%s: down %ld ms after the load began, up again at %ld ms; first acknowledged write %ld ms after", how, r.down_at,
           r.up_at, back < 0 ? -1 : back - r.up_at);
    fault_shots_free(&s);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_db_restart");
    gateway_t g;
    const char *const env[] = {"GATEWAY_THREADS=2", "DB_POOL_SIZE=2", NULL};
    if (gateway_start(&g, env) != 0)
        return h_finish();
    scenario(&g, "fast");
    scenario(&g, "immediate");
    scenario(&g, "kill");
    gateway_stop(&g);
    return h_finish();
}
