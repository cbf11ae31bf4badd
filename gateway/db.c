/*
 * db.c: one connection to PostgreSQL through libpq: what goes over it, sending and receiving
 * (db_socket.c: connecting, its socket in the event loop, failing). db.c and db_socket.c are
 * the only files that include libpq; db_pool.c holds the calls, the queue and the deadlines.
 *
 * A connection is in pipeline mode. A request is one Sync group: api.begin_request (the
 * request's deadline in the database's clock; sets app.user_id for this transaction and
 * checks revocation; claims the Idempotency-Key) then the route's statement, then Sync: one
 * round trip, one implicit transaction, and nothing set by one group is seen by the next.
 * Several groups are in flight on one connection at once (at most DB_PIPELINE_DEPTH);
 * results come back in order, so each connection keeps a FIFO of the calls it has sent.
 * Every PGresult is cleared before control leaves this file; what the caller needs is
 * copied into req->pool.
 */
#include "db_internal.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text.h"

#define RESULT_COLS 5

/* ---- sending ---- */

/* Sends a route's statement: by the name it was prepared under (the route's), or as text. */
static int send_stmt(conn_t *c, const gw_route_t *stmt, int nparams, const char *const *params)
{
    if (c->db->cfg->db_prepared)
        return PQsendQueryPrepared(c->pg, stmt->name, nparams, params, NULL, NULL, 0);
    return PQsendQueryParams(c->pg, stmt->sql, nparams, NULL, params, NULL, NULL, 0);
}

static void conn_push(conn_t *c, call_t *call)
{
    call->next = NULL;
    if (c->tail)
        c->tail->next = call;
    else
        c->head = call;
    c->tail = call;
    c->inflight++;
}

/* api.begin_request's arguments (routes.h, gw_routes_begin): the user, the token's iat, the
 * deadline in the database's clock (ms since the epoch), the Idempotency-Key, the request's
 * fingerprint and the status to store with the answer. */
static int send_begin(conn_t *c, const call_t *call)
{
    char deadline[24], status[8];
    const gw_db_call_t *spec = &call->spec;
    const char *begin[GW_BEGIN_PARAMS] = {spec->user_id, spec->issued_at, NULL, spec->idempotency_key, spec->fingerprint, NULL};
    if (call->deadline_wall_ms != 0) {
        snprintf(deadline, sizeof(deadline), "%lld", (long long)(call->deadline_wall_ms + c->clock_offset_ms));
        begin[2] = deadline;
    }
    if (spec->idempotency_key != NULL) {
        snprintf(status, sizeof(status), "%d", spec->route->status);
        begin[5] = status;
    }
    return send_stmt(c, &gw_routes_begin, GW_BEGIN_PARAMS, begin);
}

int db_conn_send(conn_t *c, call_t *call)
{
    call->nstmts = 2;
    call->stmts_done = 0;
    call->sent = 0;
    int ok = send_begin(c, call) && send_stmt(c, call->spec.route, call->spec.nparams, call->spec.params);
    ok = ok && PQpipelineSync(c->pg);
    call->sent_ns = gw_monotonic_ns(); /* Server-Timing: db counts from here to the Sync */
    conn_push(c, call);
    db_watch(c->db);
    if (!ok) {
        db_conn_fail(c, PQerrorMessage(c->pg));
        return -1;
    }
    db_conn_flush(c);
    return 0;
}

/* The set-up group of a new connection: statement_timeout; client_connection_check_interval,
 * so that a backend whose connection the gateway dropped (a request past its deadline) stops
 * its statement within a second; every statement prepared; and, last, the database's clock
 * (ms since the epoch), read to place requests' deadlines in it. */
void db_conn_initialize(conn_t *c)
{
    gw_db_t *db = c->db;
    call_t *init = calloc(1, sizeof(*init));
    const char *timeout[1] = {db->timeout_text};
    int ok;

    if (init == NULL) {
        db_conn_fail(c, "out of memory");
        return;
    }
    init->is_init = 1;
    init->db = db;
    init->deadline_ms = h2o_now(db->loop) + DB_SETUP_MS;
    ok = PQenterPipelineMode(c->pg);
    ok = ok && PQsendQueryParams(c->pg,
                                 "select set_config('statement_timeout', $1, false), "
                                 "set_config('client_connection_check_interval', '1000', false)",
                                 1, NULL, timeout, NULL, NULL, 0);
    init->nstmts = 1;
    for (size_t i = 0; ok && db->cfg->db_prepared && i <= gw_routes_count; i++) {
        const gw_route_t *stmt = i == 0 ? &gw_routes_begin : &gw_routes[i - 1];
        if (stmt->sql == NULL)
            continue;
        ok = PQsendPrepare(c->pg, stmt->name, stmt->sql, 0, NULL); /* named after its route */
        init->nstmts++;
    }
    ok = ok &&
         PQsendQueryParams(c->pg, "select (extract(epoch from clock_timestamp()) * 1000)::bigint", 0, NULL, NULL, NULL, NULL, 0);
    init->nstmts++;
    ok = ok && PQpipelineSync(c->pg);
    c->state = CONN_INITIALIZING;
    c->setup_sent_ms = db_wall_ms();
    conn_push(c, init);
    db_watch(db);
    if (!ok) {
        db_conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    db_conn_flush(c);
}

/* ---- receiving ---- */

static void record_error(call_t *call, const PGresult *res)
{
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
    const char *severity = PQresultErrorField(res, PG_DIAG_SEVERITY_NONLOCALIZED);

    /* the server's own error (libpq's, e.g. for a lost connection, carries neither field) */
    if (state != NULL && severity != NULL) {
        call->fatal |= strcmp(severity, "FATAL") == 0 || strcmp(severity, "PANIC") == 0;
        if (call->reply.status == 0 && !call->server_error && call->req != NULL && strcmp(state, GW_DB_SQLSTATE_REPLAY) == 0 &&
            gw_db_replay_decode(detail, &call->req->pool, &call->reply) == 0) {
            call->server_error = 1; /* the transaction ended there; the answer is the stored one */
            return;
        }
        call->server_error = 1;
    }
    if (call->reply.status != 0 || call->reply.replayed != 0)
        return; /* the first error of a group is the one that counts */

    snprintf(call->reply.sqlstate, sizeof(call->reply.sqlstate), "%s", state ? state : "");
    call->reply.status = gw_db_status_for_sqlstate(state);
    call->reply.message = "database error";
    if (call->req == NULL)
        return;
    if (message != NULL)
        call->reply.message = h2o_strdup(&call->req->pool, message, SIZE_MAX).base;
    /* A PTnnn error's DETAIL is the JSON body the function built for the client. */
    if (state != NULL && state[0] == 'P' && state[1] == 'T' && detail != NULL && detail[0] == '{')
        call->reply.body = h2o_strdup(&call->req->pool, detail, SIZE_MAX);
}

static void record_row(conn_t *c, call_t *call, const PGresult *res)
{
    if (call->is_init && call->stmts_done == call->nstmts - 1 && PQntuples(res) == 1) {
        c->setup_db_clock_ms = strtoll(PQgetvalue(res, 0, 0), NULL, 10); /* the clock statement */
        return;
    }
    if (call->req == NULL || call->stmts_done != call->nstmts - 1 || call->reply.status != 0)
        return;
    if (PQntuples(res) != 1 || PQnfields(res) < RESULT_COLS) {
        call->reply.status = 500;
        call->reply.message = "statement did not return one row of five columns";
        return;
    }
    for (int i = 0; i < RESULT_COLS; i++)
        call->reply.cols[i] = PQgetisnull(res, 0, i) ? h2o_iovec_init(NULL, 0)
                                                     : h2o_strdup(&call->req->pool, PQgetvalue(res, 0, i), PQgetlength(res, 0, i));
}

call_t *db_conn_pop(conn_t *c)
{
    call_t *call = c->head;
    c->head = call->next;
    if (c->head == NULL)
        c->tail = NULL;
    c->inflight--;
    return call;
}

/* One Sync arrived: the head call is complete. */
static void sync_done(conn_t *c)
{
    call_t *call = db_conn_pop(c);
    gw_db_t *db = c->db;

    if (call->is_init) {
        int failed = call->reply.status != 0;
        free(call);
        if (failed) {
            db_conn_fail(c, "setting up the connection failed (are the migrations applied?)");
            return;
        }
        /* the database read its clock about halfway between our sending and the answer */
        c->clock_offset_ms = c->setup_db_clock_ms - (c->setup_sent_ms + db_wall_ms()) / 2;
        c->state = CONN_READY;
        c->fails = 0;
        gw_log_info("database connection %zu ready (its clock %+lld ms from ours)", (size_t)(c - db->conns),
                    (long long)c->clock_offset_ms);
        return;
    }
    call->db_ns += gw_monotonic_ns() - call->sent_ns;
    if (call->reply.status == 503 && call->reply.sqlstate[0] == '4' && !call->retried && call->req != NULL) {
        /* Class 40, transaction rollback: the only SQLSTATEs of class 4 the mapping turns into 503
         * are 40001 (serialization_failure) and 40P01 (deadlock_detected). The whole Sync group
         * was one transaction and PostgreSQL rolled all of it back, so nothing was written and
         * sending it again is safe; the conflict was with another transaction that has usually
         * finished by now, so a second try mostly succeeds. Once only: a second failure means
         * real contention, which more retries would feed; the client gets 503 and Retry-After.
         * (A lost connection is never retried: whether the group committed is unknown.) */
        call->retried = 1;
        call->server_error = call->fatal = 0;
        memset(&call->reply, 0, sizeof(call->reply));
        db_wait_push_front(db, call); /* with its first deadline, the earliest of the queue */
        return;
    }
    call->reply.db_ns = call->db_ns;
    db_call_finish(call);
}

void db_conn_read(conn_t *c, int gone)
{
    int nulls = 0;
    while (c->state >= CONN_INITIALIZING && c->head != NULL && !PQisBusy(c->pg)) {
        PGresult *res = PQgetResult(c->pg);
        call_t *call = c->head;
        /* gone: only what the server sent before it went; libpq's own error, or nothing more
         * (a statement's results end with one NULL, so two in a row), ends it */
        if (gone && (res == NULL ? ++nulls > 1
                                 : PQresultErrorField(res, PG_DIAG_SQLSTATE) == NULL && PQresultStatus(res) == PGRES_FATAL_ERROR)) {
            PQclear(res);
            return;
        }
        if (res == NULL) {
            call->stmts_done++;
            continue;
        }
        nulls = 0;
        switch (PQresultStatus(res)) {
        case PGRES_PIPELINE_SYNC:
            PQclear(res);
            sync_done(c);
            continue;
        case PGRES_TUPLES_OK:
            record_row(c, call, res);
            break;
        case PGRES_COMMAND_OK:
        case PGRES_PIPELINE_ABORTED:
            break;
        default:
            record_error(call, res);
            break;
        }
        PQclear(res);
    }
}
