/*
 * db_pool.c: the database layer's calls and queue (db.h); db.c holds one connection.
 *
 * Each thread has DB_POOL_SIZE connections (db.c). A call goes to the least busy ready
 * connection with room (at most DB_PIPELINE_DEPTH in flight); when every connection is
 * full, calls wait in a bounded FIFO (DB_QUEUE_MAX) for at most the statement timeout.
 *
 * Ownership: a call is malloc'd here and freed here, when its Sync arrives (or its
 * connection dies, or it times out waiting). The request may go away first: a guard
 * allocated in req->pool points at the call, and the pool's disposal of the guard clears
 * call->req, so the reply is dropped instead of touching a dead request.
 */
#include "db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int backoff_ms[DB_BACKOFF_STEPS] = {100, 200, 400, 800, 1600, 3200, 5000};

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

void db_call_drop(call_t *call)
{
    wait_unlink(call);
    if (call->req != NULL)
        *call->guard = NULL;
    free(call);
}

void db_call_finish(call_t *call)
{
    wait_unlink(call);
    if (call->req != NULL) {
        *call->guard = NULL;
        call->cb(call->req, &call->reply, call->data);
    }
    free(call);
}

void db_call_fail(call_t *call, int status, const char *message)
{
    call->reply.status = status;
    call->reply.sqlstate[0] = '\0';
    call->reply.body = h2o_iovec_init(NULL, 0);
    call->reply.message = message;
    db_call_finish(call);
}

static void on_wait_timeout(h2o_timeout_entry_t *entry);

void db_wait_push(gw_db_t *db, call_t *call)
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

void db_dispatch(gw_db_t *db)
{
    while (db->wait_head != NULL) {
        if (db->wait_head->req == NULL) {
            db_call_drop(wait_pop(db)); /* its client is gone: nothing to send */
            continue;
        }
        if (!any_connection_alive(db)) {
            db_call_fail(wait_pop(db), 503, "database unavailable");
            continue;
        }
        conn_t *c = least_busy(db);
        if (c == NULL)
            return;
        db_conn_send(c, wait_pop(db));
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
        db_call_fail(call, 503, "waited too long for a database connection");
}

static void on_dispatch_timer(h2o_timeout_entry_t *entry)
{
    db_dispatch(H2O_STRUCT_FROM_MEMBER(gw_db_t, dispatch_timer, entry));
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
        db_call_fail(call, 503, "database unavailable");
        return;
    }
    if (db->waiting >= (size_t)db->cfg->db_queue_max) {
        db_call_fail(call, 503, "database queue full");
        return;
    }
    /* Sent at the end of this turn of the loop, after h2o has read everything that arrived
     * with it: a request whose HTTP/2 stream was reset in the same read (Rapid Reset) is
     * dropped from the queue unsent, never run by the database. */
    db_wait_push(db, call);
    if (!h2o_timeout_is_linked(&db->dispatch_timer))
        h2o_timeout_link(db->loop, &db->zero_timeout, &db->dispatch_timer);
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
    for (size_t i = 0; i < DB_BACKOFF_STEPS; i++)
        h2o_timeout_init(loop, &db->backoff[i], backoff_ms[i]);
    h2o_timeout_init(loop, &db->connect_timeout, 10000);
    h2o_timeout_init(loop, &db->zero_timeout, 0);
    db->dispatch_timer.cb = on_dispatch_timer;
    for (size_t i = 0; i < db->nconns; i++)
        db_conn_start(db, db->conns + i);
    return db;
}

void gw_db_fail_all(gw_db_t *db, int status, const char *message)
{
    while (db->wait_head != NULL)
        db_call_fail(wait_pop(db), status, message);
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
    for (size_t i = 0; i < db->nconns; i++)
        db_conn_close(db->conns + i);
    while (db->wait_head != NULL)
        db_call_drop(wait_pop(db));
    h2o_timeout_dispose(db->loop, &db->wait_timeout);
    if (h2o_timeout_is_linked(&db->dispatch_timer))
        h2o_timeout_unlink(&db->dispatch_timer);
    h2o_timeout_dispose(db->loop, &db->connect_timeout);
    h2o_timeout_dispose(db->loop, &db->zero_timeout);
    for (size_t i = 0; i < DB_BACKOFF_STEPS; i++)
        h2o_timeout_dispose(db->loop, &db->backoff[i]);
    free(db->conns);
    free(db);
}
