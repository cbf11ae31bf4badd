/*
 * db.c: one connection to PostgreSQL through libpq, asynchronously, inside the h2o event
 * loop; the only file that includes libpq. db_pool.c holds the calls and the queue.
 *
 * A connection is in pipeline mode. A request is one Sync group: api.begin_request (sets
 * app.user_id for this transaction, checks revocation) then the route's statement, then
 * Sync: one round trip, one implicit transaction, and nothing set by one group is seen by
 * the next. Several groups are in flight on one connection at once (at most
 * DB_PIPELINE_DEPTH); results come back in order, so each connection keeps a FIFO of the
 * calls it has sent. Every PGresult is cleared before control leaves this file; what the
 * caller needs is copied into req->pool.
 */
#include "db_internal.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define RESULT_COLS 5

static void conn_connect(conn_t *c);
static void conn_fail(conn_t *c, const char *why);
static void on_socket_event(h2o_socket_t *sock, const char *err);
static void on_socket_writable(h2o_socket_t *sock, const char *err);

/* ---- sending ---- */

static void conn_flush(conn_t *c)
{
    int r = PQflush(c->pg);
    if (r < 0) {
        conn_fail(c, PQerrorMessage(c->pg));
    } else if (r > 0 && !c->write_pending) {
        c->write_pending = 1;
        h2o_socket_notify_write(c->sock, on_socket_writable);
    }
}

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

int db_conn_send(conn_t *c, call_t *call)
{
    int ok = 1;
    call->nstmts = 1;
    call->stmts_done = 0;
    if (call->spec.user_id != NULL) {
        const char *begin[2] = {call->spec.user_id, call->spec.issued_at};
        ok = send_stmt(c, &gw_routes_begin, 2, begin);
        call->nstmts = 2;
    }
    ok = ok && send_stmt(c, call->spec.route, call->spec.nparams, call->spec.params);
    ok = ok && PQpipelineSync(c->pg);
    conn_push(c, call);
    if (!ok) {
        conn_fail(c, PQerrorMessage(c->pg));
        return -1;
    }
    conn_flush(c);
    return 0;
}

/* The set-up group of a new connection: statement_timeout, then every statement prepared. */
static void conn_initialize(conn_t *c)
{
    gw_db_t *db = c->db;
    call_t *init = calloc(1, sizeof(*init));
    const char *timeout[1] = {db->timeout_text};
    int ok;

    if (init == NULL) {
        conn_fail(c, "out of memory");
        return;
    }
    init->is_init = 1;
    init->db = db;
    ok = PQenterPipelineMode(c->pg);
    ok = ok && PQsendQueryParams(c->pg, "select set_config('statement_timeout', $1, false)", 1, NULL, timeout, NULL, NULL, 0);
    init->nstmts = 1;
    for (size_t i = 0; ok && db->cfg->db_prepared && i <= gw_routes_count; i++) {
        const gw_route_t *stmt = i == 0 ? &gw_routes_begin : &gw_routes[i - 1];
        if (stmt->sql == NULL)
            continue;
        ok = PQsendPrepare(c->pg, stmt->name, stmt->sql, 0, NULL); /* named after its route */
        init->nstmts++;
    }
    ok = ok && PQpipelineSync(c->pg);
    c->state = CONN_INITIALIZING;
    conn_push(c, init);
    if (!ok) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    conn_flush(c);
}

/* ---- receiving ---- */

static void record_error(call_t *call, const PGresult *res)
{
    if (call->reply.status != 0)
        return; /* the first error of a group is the one that counts */
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
    const char *message = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);

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

static void record_row(call_t *call, const PGresult *res)
{
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

static call_t *conn_pop(conn_t *c)
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
    call_t *call = conn_pop(c);
    gw_db_t *db = c->db;

    if (call->is_init) {
        int failed = call->reply.status != 0;
        free(call);
        if (failed) {
            conn_fail(c, "setting up the connection failed (are the migrations applied?)");
            return;
        }
        c->state = CONN_READY;
        c->fails = 0;
        gw_log_info("database connection %zu ready", (size_t)(c - db->conns));
        return;
    }
    if (call->reply.status == 503 && call->reply.sqlstate[0] == '4' && !call->retried && call->req != NULL) {
        /* Class 40, transaction rollback: the only SQLSTATEs of class 4 the mapping turns into 503
         * are 40001 (serialization_failure) and 40P01 (deadlock_detected). The whole Sync group
         * was one transaction and PostgreSQL rolled all of it back, so nothing was written and
         * sending it again is safe; the conflict was with another transaction that has usually
         * finished by now, so a second try mostly succeeds. Once only: a second failure means
         * real contention, which more retries would feed; the client gets 503 and Retry-After.
         * (A lost connection is never retried: whether the group committed is unknown.) */
        call->retried = 1;
        memset(&call->reply, 0, sizeof(call->reply));
        db_wait_push(db, call);
        return;
    }
    db_call_finish(call);
}

static void conn_read_results(conn_t *c)
{
    while (c->state >= CONN_INITIALIZING && c->head != NULL && !PQisBusy(c->pg)) {
        PGresult *res = PQgetResult(c->pg);
        call_t *call = c->head;
        if (res == NULL) {
            call->stmts_done++;
            continue;
        }
        switch (PQresultStatus(res)) {
        case PGRES_PIPELINE_SYNC:
            PQclear(res);
            sync_done(c);
            continue;
        case PGRES_TUPLES_OK:
            record_row(call, res);
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

/* ---- the connection's socket ---- */

static ino_t socket_ino(int fd)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? st.st_ino : 0;
}

static void conn_close_socket(conn_t *c)
{
    if (c->sock != NULL) {
        h2o_socket_close(c->sock);
        c->sock = NULL;
    }
    c->write_pending = 0;
}

/* (Re-)registers libpq's current socket with the loop: a dup, as h2o closes what it holds. */
static int conn_watch_socket(conn_t *c)
{
    int fd = PQsocket(c->pg);
    if (fd < 0)
        return -1;
    if (c->sock != NULL && socket_ino(fd) == c->sock_ino)
        return 0;
    conn_close_socket(c);
    int copy = dup(fd);
    if (copy < 0)
        return -1;
    c->sock = h2o_evloop_socket_create(c->db->loop, copy, H2O_SOCKET_FLAG_DONT_READ);
    c->sock->data = c;
    c->sock_ino = socket_ino(copy);
    h2o_socket_read_start(c->sock, on_socket_event);
    return 0;
}

static void conn_poll_connect(conn_t *c)
{
    PostgresPollingStatusType st = PQconnectPoll(c->pg);
    if (st == PGRES_POLLING_FAILED || conn_watch_socket(c) != 0) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    if (st == PGRES_POLLING_OK) {
        h2o_timeout_unlink(&c->connect_timer);
        conn_initialize(c);
    } else if (st == PGRES_POLLING_WRITING && !c->write_pending) {
        c->write_pending = 1;
        h2o_socket_notify_write(c->sock, on_socket_writable);
    }
}

static void on_socket_io(conn_t *c, const char *err)
{
    gw_db_t *db = c->db;

    if (err != NULL && c->state != CONN_CONNECTING) {
        conn_fail(c, err);
    } else if (c->state == CONN_CONNECTING) {
        conn_poll_connect(c);
    } else if (!PQconsumeInput(c->pg)) {
        conn_fail(c, PQerrorMessage(c->pg));
    } else {
        conn_read_results(c);
        if (c->state >= CONN_INITIALIZING)
            conn_flush(c);
    }
    db_dispatch(db);
}

/* Readable (h2o keeps calling this while the socket is registered for reading). */
static void on_socket_event(h2o_socket_t *sock, const char *err)
{
    on_socket_io(sock->data, err);
}

/* Writable, once per h2o_socket_notify_write: only here may a new notification be asked for
 * (h2o asserts on a second while one is pending), so only here is write_pending cleared. */
static void on_socket_writable(h2o_socket_t *sock, const char *err)
{
    conn_t *c = sock->data;
    c->write_pending = 0;
    on_socket_io(c, err);
}

/* ---- connecting, failing, backing off ---- */

static void on_notice(void *arg, const char *message)
{
    (void)arg;
    gw_log_debug("database notice: %s", message);
}

static void on_retry(h2o_timeout_entry_t *entry)
{
    conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, retry_timer, entry);
    conn_connect(c);
    db_dispatch(c->db);
}

static void on_connect_timeout(h2o_timeout_entry_t *entry)
{
    conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, connect_timer, entry);
    conn_fail(c, "timed out connecting");
    db_dispatch(c->db);
}

static void conn_connect(conn_t *c)
{
    const gw_config_t *cfg = c->db->cfg;
    /* keywords before dbname are overridden by the URL's own; none come after it */
    const char *keys[] = {"application_name", "client_encoding", "dbname", NULL};
    const char *values[] = {"todo-gateway", "UTF8", cfg->database_url[0] ? cfg->database_url : NULL, NULL};

    c->state = CONN_CONNECTING; /* from here on a failure goes through conn_fail */
    h2o_timeout_link(c->db->loop, &c->db->connect_timeout, &c->connect_timer);
    c->pg = PQconnectStartParams(keys, values, 1);
    if (c->pg == NULL) {
        conn_fail(c, "out of memory");
        return;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD || PQsetnonblocking(c->pg, 1) != 0) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    PQsetNoticeProcessor(c->pg, on_notice, NULL);
    if (conn_watch_socket(c) != 0) {
        conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    c->write_pending = 1;
    h2o_socket_notify_write(c->sock, on_socket_writable);
}

/* The connection is lost: every call in flight gets a 503 (never retried: it may have
 * written), and a new connection is tried after a growing delay. */
static void conn_fail(conn_t *c, const char *why)
{
    gw_db_t *db = c->db;
    char reason[256];
    snprintf(reason, sizeof(reason), "%s", why ? why : "");
    reason[strcspn(reason, "\n")] = '\0';

    if (c->state == CONN_DOWN)
        return;
    int was_up = c->state >= CONN_INITIALIZING;
    gw_log_warn("database connection %zu lost: %s", (size_t)(c - db->conns), reason);
    if (h2o_timeout_is_linked(&c->connect_timer))
        h2o_timeout_unlink(&c->connect_timer);
    conn_close_socket(c);
    if (c->pg != NULL) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->state = CONN_DOWN;
    while (c->head != NULL) {
        call_t *call = conn_pop(c);
        if (call->is_init)
            free(call);
        else
            db_call_fail(call, 503, "database connection lost");
    }
    if (was_up && c->fails == 0) {
        /* a healthy connection was lost (server restart, idle kill): try again at once */
        c->fails = 1;
        conn_connect(c);
        return;
    }
    size_t step = c->fails < DB_BACKOFF_STEPS ? c->fails : DB_BACKOFF_STEPS - 1;
    c->fails++;
    h2o_timeout_link(db->loop, &db->backoff[step], &c->retry_timer);
}

/* ---- starting and closing ---- */

void db_conn_start(gw_db_t *db, conn_t *c)
{
    c->db = db;
    c->state = CONN_DOWN;
    c->retry_timer.cb = on_retry;
    c->connect_timer.cb = on_connect_timeout;
    conn_connect(c);
}

void db_conn_close(conn_t *c)
{
    if (h2o_timeout_is_linked(&c->retry_timer))
        h2o_timeout_unlink(&c->retry_timer);
    if (h2o_timeout_is_linked(&c->connect_timer))
        h2o_timeout_unlink(&c->connect_timer);
    conn_close_socket(c);
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->pg = NULL;
    while (c->head != NULL)
        db_call_drop(conn_pop(c));
}
