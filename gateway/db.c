/*
 * db.c: PostgreSQL through libpq, asynchronously, inside the h2o event loop.
 *
 * Each thread has DB_POOL_SIZE connections in pipeline mode. A request is one Sync group:
 * api.begin_request (sets app.user_id for this transaction, checks revocation) then the
 * route's statement, then Sync: one round trip, one implicit transaction, and nothing set
 * by one group is seen by the next. Several groups are in flight on one connection at
 * once (at most DB_PIPELINE_DEPTH); results come back in order, so each connection keeps
 * a FIFO of the calls it has sent. When every connection is full, calls wait in a bounded
 * FIFO (DB_QUEUE_MAX) for at most the statement timeout.
 *
 * Ownership: a call is malloc'd here and freed here, when its Sync arrives (or its
 * connection dies, or it times out waiting). The request may go away first: a guard
 * allocated in req->pool points at the call, and the pool's disposal of the guard clears
 * call->req, so the reply is dropped instead of touching a dead request. Every PGresult is
 * cleared before control leaves this file; what the caller needs is copied into req->pool.
 */
#include "db.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

#define RESULT_COLS 3
static const int backoff_ms[] = {100, 200, 400, 800, 1600, 3200, 5000};
#define BACKOFF_STEPS (sizeof(backoff_ms) / sizeof(backoff_ms[0]))

typedef struct conn conn_t;

typedef struct call {
    struct call *next;
    h2o_req_t *req;      /* NULL once the request is gone */
    struct call **guard; /* in req->pool; points back here while both live */
    gw_db_cb cb;
    void *data;
    int is_init;    /* the connection's own set-up group, no request */
    int nstmts;     /* statements in the group; the last one's row is the reply */
    int stmts_done; /* statements whose results have ended */
    int retried;    /* 40001/40P01 are retried once */
    gw_db_call_t spec;
    gw_db_reply_t reply;
    h2o_timeout_entry_t wait_timer; /* linked while the call waits in the queue */
    gw_db_t *db;
} call_t;

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_INITIALIZING, CONN_READY };

struct conn {
    gw_db_t *db;
    PGconn *pg;
    h2o_socket_t *sock;
    ino_t sock_ino; /* identifies the socket libpq uses, to notice when it opens another */
    enum conn_state state;
    call_t *head, *tail; /* sent, awaiting their Sync, oldest first */
    size_t inflight;
    int write_pending;
    unsigned fails;
    h2o_timeout_entry_t retry_timer;   /* linked while waiting to reconnect */
    h2o_timeout_entry_t connect_timer; /* linked while connecting: libpq's connect_timeout is for blocking connects */
};

struct gw_db {
    h2o_loop_t *loop;
    const gw_config_t *cfg;
    conn_t *conns;
    size_t nconns;
    call_t *wait_head, *wait_tail;
    size_t waiting;
    h2o_timeout_t wait_timeout;
    h2o_timeout_t backoff[BACKOFF_STEPS];
    h2o_timeout_t connect_timeout;
    char timeout_text[16];
};

static void conn_connect(conn_t *c);
static void conn_fail(conn_t *c, const char *why);
static void dispatch(gw_db_t *db);
static void on_socket_event(h2o_socket_t *sock, const char *err);
static void on_socket_writable(h2o_socket_t *sock, const char *err);

/* ---- the SQLSTATE -> HTTP mapping ---- */

int gw_db_status_for_sqlstate(const char *s)
{
    if (s == NULL || strlen(s) != 5)
        return 500;
    if (s[0] == 'P' && s[1] == 'T') {
        int status = (s[2] - '0') * 100 + (s[3] - '0') * 10 + (s[4] - '0');
        if (s[2] >= '1' && s[2] <= '5' && s[3] >= '0' && s[3] <= '9' && s[4] >= '0' && s[4] <= '9')
            return status;
        return 500;
    }
    static const struct {
        const char *prefix;
        int status;
    } map[] = {
        {"22P02", 400}, /* invalid_text_representation: a body that is not JSON */
        {"22P05", 400}, /* untranslatable_character: \u0000 in JSON text */
        {"22021", 400}, /* character_not_in_repertoire: invalid UTF-8 */
        {"54001", 400}, /* stack_depth_limit_exceeded: JSON nested too deeply to parse */
        {"23505", 409}, /* unique_violation */
        {"23514", 422}, /* check_violation: the title/description rules */
        {"23502", 422}, /* not_null_violation */
        {"42501", 403}, /* insufficient_privilege, row-level security */
        {"57014", 504}, /* query_canceled: statement_timeout */
        {"40001", 503}, /* serialization_failure, after one retry */
        {"40P01", 503}, /* deadlock_detected, after one retry */
        {"08", 503},    /* connection exceptions */
        {"53", 503},    /* insufficient resources (too many connections, ...) */
        {"57P", 503},   /* admin/crash shutdown, cannot connect now */
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strncmp(s, map[i].prefix, strlen(map[i].prefix)) == 0)
            return map[i].status;
    return 500;
}

/* ---- calls ---- */

static void on_guard_dispose(void *p)
{
    call_t **guard = p;
    if (*guard != NULL)
        (*guard)->req = NULL;
}

static void wait_unlink(call_t *call)
{
    if (h2o_timeout_is_linked(&call->wait_timer))
        h2o_timeout_unlink(&call->wait_timer);
}

/* Frees a call without a reply (shutting down); the request, if any, forgets it. */
static void call_drop(call_t *call)
{
    wait_unlink(call);
    if (call->req != NULL)
        *call->guard = NULL;
    free(call);
}

/* Hands the reply to the request, if it is still there, and frees the call. */
static void call_finish(call_t *call)
{
    wait_unlink(call);
    if (call->req != NULL) {
        *call->guard = NULL;
        call->cb(call->req, &call->reply, call->data);
    }
    free(call);
}

static void call_fail(call_t *call, int status, const char *message)
{
    call->reply.status = status;
    call->reply.sqlstate[0] = '\0';
    call->reply.body = h2o_iovec_init(NULL, 0);
    call->reply.message = message;
    call_finish(call);
}

static void on_wait_timeout(h2o_timeout_entry_t *entry);

/* Queues a call at the back of the wait FIFO, for at most the wait timeout. */
static void wait_push(gw_db_t *db, call_t *call)
{
    call->next = NULL;
    if (db->wait_tail)
        db->wait_tail->next = call;
    else
        db->wait_head = call;
    db->wait_tail = call;
    db->waiting++;
    call->wait_timer.cb = on_wait_timeout;
    h2o_timeout_link(db->loop, &db->wait_timeout, &call->wait_timer);
}

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

/* Sends one call as one Sync group. Returns 0, or -1 when the connection broke (it has
 * then been failed, and the call with it). */
static int conn_send(conn_t *c, call_t *call)
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
        call->reply.message = "statement did not return one row of three columns";
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
        wait_push(db, call);
        return;
    }
    call_finish(call);
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
    dispatch(db);
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
    dispatch(c->db);
}

static void on_connect_timeout(h2o_timeout_entry_t *entry)
{
    conn_t *c = H2O_STRUCT_FROM_MEMBER(conn_t, connect_timer, entry);
    conn_fail(c, "timed out connecting");
    dispatch(c->db);
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
            call_fail(call, 503, "database connection lost");
    }
    if (was_up && c->fails == 0) {
        /* a healthy connection was lost (server restart, idle kill): try again at once */
        c->fails = 1;
        conn_connect(c);
        return;
    }
    size_t step = c->fails < BACKOFF_STEPS ? c->fails : BACKOFF_STEPS - 1;
    c->fails++;
    h2o_timeout_link(db->loop, &db->backoff[step], &c->retry_timer);
}

/* ---- the wait queue ---- */

static int any_connection_alive(const gw_db_t *db)
{
    for (size_t i = 0; i < db->nconns; i++)
        if (db->conns[i].state != CONN_DOWN)
            return 1;
    return 0;
}

static conn_t *least_busy(gw_db_t *db)
{
    conn_t *best = NULL;
    for (size_t i = 0; i < db->nconns; i++) {
        conn_t *c = db->conns + i;
        if (c->state == CONN_READY && c->inflight < (size_t)db->cfg->db_pipeline_depth &&
            (best == NULL || c->inflight < best->inflight))
            best = c;
    }
    return best;
}

static call_t *wait_pop(gw_db_t *db)
{
    call_t *call = db->wait_head;
    db->wait_head = call->next;
    if (db->wait_head == NULL)
        db->wait_tail = NULL;
    db->waiting--;
    wait_unlink(call);
    return call;
}

/* Sends waiting calls while a connection has room; with no connection alive, fails them. */
static void dispatch(gw_db_t *db)
{
    while (db->wait_head != NULL) {
        if (db->wait_head->req == NULL) {
            call_drop(wait_pop(db)); /* its client is gone: nothing to send */
            continue;
        }
        if (!any_connection_alive(db)) {
            call_fail(wait_pop(db), 503, "database unavailable");
            continue;
        }
        conn_t *c = least_busy(db);
        if (c == NULL)
            return;
        conn_send(c, wait_pop(db));
    }
}

static void on_wait_timeout(h2o_timeout_entry_t *entry)
{
    call_t *call = H2O_STRUCT_FROM_MEMBER(call_t, wait_timer, entry);
    gw_db_t *db = call->db;
    /* unlink from the queue; it is somewhere in the FIFO, usually at the head */
    call_t **p = &db->wait_head, *prev = NULL;
    while (*p != call)
        prev = *p, p = &(*p)->next;
    *p = call->next;
    if (db->wait_tail == call)
        db->wait_tail = prev;
    db->waiting--;
    if (call->req == NULL)
        free(call);
    else
        call_fail(call, 503, "waited too long for a database connection");
}

void gw_db_submit(gw_db_t *db, h2o_req_t *req, const gw_db_call_t *spec, gw_db_cb cb, void *data)
{
    call_t *call = calloc(1, sizeof(*call));
    if (call == NULL) {
        gw_db_reply_t reply = {.status = 503, .message = "out of memory"};
        cb(req, &reply, data);
        return;
    }
    call->req = req;
    call->cb = cb;
    call->data = data;
    call->spec = *spec;
    call->db = db;
    call->guard = h2o_mem_alloc_shared(&req->pool, sizeof(*call->guard), on_guard_dispose);
    *call->guard = call;

    if (!any_connection_alive(db)) {
        call_fail(call, 503, "database unavailable");
        return;
    }
    if (db->waiting >= (size_t)db->cfg->db_queue_max) {
        call_fail(call, 503, "database queue full");
        return;
    }
    wait_push(db, call);
    dispatch(db);
}

/* ---- life cycle ---- */

gw_db_t *gw_db_create(h2o_loop_t *loop, const gw_config_t *cfg)
{
    gw_db_t *db = calloc(1, sizeof(*db));
    if (db == NULL)
        return NULL;
    db->loop = loop;
    db->cfg = cfg;
    db->nconns = (size_t)cfg->db_pool_size;
    db->conns = calloc(db->nconns, sizeof(*db->conns));
    if (db->conns == NULL) {
        free(db);
        return NULL;
    }
    snprintf(db->timeout_text, sizeof(db->timeout_text), "%d", cfg->db_statement_timeout);
    h2o_timeout_init(loop, &db->wait_timeout, cfg->db_statement_timeout > 0 ? (uint64_t)cfg->db_statement_timeout : 10000);
    for (size_t i = 0; i < BACKOFF_STEPS; i++)
        h2o_timeout_init(loop, &db->backoff[i], backoff_ms[i]);
    h2o_timeout_init(loop, &db->connect_timeout, 10000);
    for (size_t i = 0; i < db->nconns; i++) {
        conn_t *c = db->conns + i;
        c->db = db;
        c->state = CONN_DOWN;
        c->retry_timer.cb = on_retry;
        c->connect_timer.cb = on_connect_timeout;
        conn_connect(c);
    }
    return db;
}

void gw_db_fail_all(gw_db_t *db, int status, const char *message)
{
    while (db->wait_head != NULL)
        call_fail(wait_pop(db), status, message);
    for (size_t i = 0; i < db->nconns; i++) {
        conn_t *c = db->conns + i;
        for (call_t *call = c->head; call != NULL; call = call->next) {
            if (call->is_init || call->req == NULL)
                continue;
            /* answered now; the Sync still to come finds a call with no request */
            call->reply = (gw_db_reply_t){.status = status, .message = message};
            *call->guard = NULL;
            call->cb(call->req, &call->reply, call->data);
            call->req = NULL;
        }
    }
}

size_t gw_db_pending(const gw_db_t *db)
{
    size_t n = db->waiting;
    for (size_t i = 0; i < db->nconns; i++)
        for (call_t *call = db->conns[i].head; call != NULL; call = call->next)
            n += !call->is_init && call->req != NULL;
    return n;
}

void gw_db_stats(const gw_db_t *db, size_t *in_use, size_t *waiting, size_t *connections_up)
{
    *in_use = 0, *connections_up = 0;
    for (size_t i = 0; i < db->nconns; i++) {
        *in_use += db->conns[i].inflight > 0;
        *connections_up += db->conns[i].state == CONN_READY;
    }
    *waiting = db->waiting;
}

void gw_db_destroy(gw_db_t *db)
{
    if (db == NULL)
        return;
    for (size_t i = 0; i < db->nconns; i++) {
        conn_t *c = db->conns + i;
        if (h2o_timeout_is_linked(&c->retry_timer))
            h2o_timeout_unlink(&c->retry_timer);
        if (h2o_timeout_is_linked(&c->connect_timer))
            h2o_timeout_unlink(&c->connect_timer);
        conn_close_socket(c);
        if (c->pg != NULL)
            PQfinish(c->pg);
        while (c->head != NULL)
            call_drop(conn_pop(c));
    }
    while (db->wait_head != NULL)
        call_drop(wait_pop(db));
    h2o_timeout_dispose(db->loop, &db->wait_timeout);
    h2o_timeout_dispose(db->loop, &db->connect_timeout);
    for (size_t i = 0; i < BACKOFF_STEPS; i++)
        h2o_timeout_dispose(db->loop, &db->backoff[i]);
    free(db->conns);
    free(db);
}
