/* faults.h: what the fault tests share (tests/faults, ctest label faults). Each runs against a
 * private cluster (tests/faults/cluster) it may stop, kill, restart or lock; sends requests
 * whose every outcome it keeps (status, code, time to the answer); and checks those outcomes
 * against the rows the database holds, printing the figures as TAP comments ("# ...").
 * The HTTP harness (tests/http/harness.h) starts the gateway and makes the requests.
 *
 * Ownership: a shots_t owns its array (fault_shots_free); strings in it are kept by the
 * harness (h_fmt). */
#ifndef TEST_FAULTS_H
#define TEST_FAULTS_H

#include <libpq-fe.h>
#include <sys/types.h>

#include "harness.h"

/* Runs `cluster ACTION [MODE]` (tests/faults/cluster, from FAULT_CLUSTER) and waits for it;
 * returns 1 when it exited 0. */
int fault_cluster(const char *action, const char *mode);
/* Starts it without waiting; fault_cluster_done tells when it ended (0: not yet; 1: with *ok
 * set to whether it exited 0). */
pid_t fault_cluster_spawn(const char *action, const char *mode);
int fault_cluster_done(pid_t pid, int *ok);

/* One request and its outcome. */
typedef struct shot {
    req_t rq;          /* what was sent (rq.raw is set: the checks are the tests') */
    const char *title; /* the task title it writes, NULL when it writes none */
    long status;       /* the answer's status; 0 when there was none (err says why) */
    const char *code;  /* an error answer's JSON code, or NULL */
    const char *body;  /* the answer's body */
    int retry_after;   /* it carried Retry-After */
    int replayed;      /* it carried Idempotent-Replayed: true */
    long ms;           /* from the request's bytes going out (its connection made) to its answer */
    long sent_at_ms;   /* when it started, in ms since the load or burst began */
    char err[CURL_ERROR_SIZE];
} shot_t;

typedef struct shots {
    shot_t *v;
    size_t n, cap;
} shots_t;

void fault_shots_free(shots_t *s);

/* writers concurrent writers POST tasks titled "<prefix> w<i> #<n>" to user's list, each
 * waiting for its answer before the next (and 50 ms after a failure), over protocol p
 * (keep-alive), until done(elapsed_ms, arg) returns 1 between events (done NULL: for ms), and
 * for ms at the most. Every outcome goes into out. */
void fault_write_load(gateway_t *g, proto_t p, const char *user, const char *token, const char *prefix, int writers, long ms,
                      int (*done)(long elapsed_ms, void *arg), void *arg, shots_t *out);

/* Sends every request of s at once (at most max_active at a time, 0: all, over their own
 * connections for HTTP/1.1) and waits for every answer, at most timeout_ms. */
void fault_burst(gateway_t *g, shots_t *s, size_t max_active, long timeout_ms);

/* Counts what the shots got: answers by status (printed), and checks them against the rows of
 * user: every 2xx write is a row (nothing acknowledged is lost), no 503 or 504 write is
 * (certainly not run), a 502 may be either (counted), every row is a write that was sent; a
 * 503 carries Retry-After, a 502 does not; no other status; no request without an answer, or,
 * with allow_no_answer, none that ran. what names the scenario in the figures. */
void fault_check_writes(PGconn *db, const char *user, const shots_t *s, int allow_no_answer, const char *what);

/* "201 x 1200, 502 x 3, 503 x 41" for the shots, kept. */
const char *fault_by_status(const shots_t *s);
/* The slowest answer's time. */
long fault_slowest_ms(const shots_t *s);

#endif
