/*
 * db_pool.c: the database layer's calls, queue and deadlines (db.h); db.c holds one connection.
 *
 * Each thread has DB_POOL_SIZE connections (db.c). A call goes to the least busy ready
 * connection with room (at most DB_PIPELINE_DEPTH in flight); when every connection is
 * full, calls wait in the thread's FIFO. DB_QUEUE_MAX bounds the calls waiting in the whole
 * process (every thread's FIFO, one atomic count): a bound on memory (README: each waiting
 * request holds its h2o request and pool), not a small count per thread that a burst of
 * HTTP/2 streams fills. One connection cannot take all of it: an HTTP/1.1 connection has one
 * request at a time, an HTTP/2 one at most HTTP2_MAX_CONCURRENT_REQUESTS (server.c).
 *
 * Deadlines: a call's deadline is its submission + DB_STATEMENT_TIMEOUT, wherever it waits.
 * In the queue, a watchdog (every DB_WATCH_MS while anything is pending) answers it 503 at
 * its deadline: never sent, safe to retry. Once sent, the database enforces it
 * (api.begin_request gets it in the database's clock, db.c). A connection that still has not
 * answered a call DB_FALLBACK_SLACK_MS after its deadline (network cut, backend hung) is
 * dropped by the watchdog and its calls answered honestly (db_answer_lost), so every request
 * is answered within DB_STATEMENT_TIMEOUT + 1 s. (With DB_STATEMENT_TIMEOUT=0 there is no
 * deadline: the queue waits at most 10 s, a sent call as long as its connection lives.)
 *
 * Ownership: a call is malloc'd here and freed here, when its Sync arrives (or its
 * connection dies, or it times out waiting). The request may go away first: a guard
 * allocated in req->pool points at the call, and the pool's disposal of the guard clears
 * call->req, so the reply is dropped instead of touching a dead request.
 */
#include "db_internal.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QUEUE_BOUND_WITHOUT_DEADLINE_MS 10000

static atomic_size_t process_waiting; /* calls in every thread's FIFO: DB_QUEUE_MAX's bound */

static const int backoff_ms[DB_BACKOFF_STEPS] = {100, 200, 400, 500};

/* ---- calls ---- */

static void on_guard_dispose(void *p)
{
    call_t **guard = p;
    if (*guard != NULL)
        (*guard)->req = NULL;
}

void db_call_drop(call_t *call)
{
    if (call->req != NULL)
        *call->guard = NULL;
    free(call);
}

void db_call_finish(call_t *call)
{
    if (call->req != NULL) {
        *call->guard = NULL;
        call->cb(call->req, &call->reply, call->data);
    }
    free(call);
}

void db_call_fail(call_t *call, int status, const char *message)
{
    call->reply = (gw_db_reply_t){.status = status, .message = message};
    db_call_finish(call);
}

/* ---- the wait queue ---- */

void db_wait_push(gw_db_t *db, call_t *call)
{
    call->next = NULL;
    if (db->wait_tail)
        db->wait_tail->next = call;
    else
        db->wait_head = call;
    db->wait_tail = call;
    db->waiting++;
    atomic_fetch_add_explicit(&process_waiting, 1, memory_order_relaxed);
    db_watch(db);
}

void db_wait_push_front(gw_db_t *db, call_t *call)
{
    call->next = db->wait_head;
    db->wait_head = call;
    if (db->wait_tail == NULL)
        db->wait_tail = call;
    db->waiting++;
    atomic_fetch_add_explicit(&process_waiting, 1, memory_order_relaxed);
    db_watch(db);
}

static call_t *wait_pop(gw_db_t *db)
{
    call_t *call = db->wait_head;
    db->wait_head = call->next;
    if (db->wait_head == NULL)
        db->wait_tail = NULL;
    db->waiting--;
    atomic_fetch_sub_explicit(&process_waiting, 1, memory_order_relaxed);
    return call;
}

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

/* ---- connections lost: each call's honest answer ---- */

void db_answer_lost(conn_t *c, int requeue)
{
    gw_db_t *db = c->db;
    call_t *unsent = NULL, *last = NULL; /* never sent, in order, for the front of the queue */
    size_t nunsent = 0;
    int after_fatal = 0; /* the server ended the session on an earlier call: nothing after it ran */

    while (c->head != NULL) {
        call_t *call = db_conn_pop(c);
        int fatal = call->fatal;
        if (call->is_init) {
            free(call);
        } else if (call->req == NULL) {
            db_call_drop(call);
        } else if (call->server_error) {
            db_call_finish(call); /* the error it got (its transaction rolled back), or the replay it got */
        } else if (!call->sent && requeue) {
            call->next = NULL;
            *(last ? &last->next : &unsent) = call;
            last = call, nunsent++;
        } else if (!call->sent || after_fatal) {
            db_call_fail(call, 503,
                         !call->sent ? "never sent: its database connection was lost"
                                     : "not run: the database ended the session before it");
        } else {
            db_call_fail(call, 502, "database connection lost after the request was sent: its outcome is unknown");
        }
        after_fatal |= fatal;
    }
    if (unsent != NULL) { /* certainly not run (the Sync never left), and older than anything waiting */
        last->next = db->wait_head;
        if (db->wait_head == NULL)
            db->wait_tail = last;
        db->wait_head = unsent;
        db->waiting += nunsent;
        atomic_fetch_add_explicit(&process_waiting, nunsent, memory_order_relaxed);
        db_watch(db);
    }
}

/* ---- the watchdog ---- */

/* Whether c holds a call its database should have answered by now: DB_FALLBACK_SLACK_MS past a
 * request's deadline, or DB_SETUP_MS past the set-up group's. */
static int connection_overdue(const conn_t *c, uint64_t now)
{
    for (const call_t *call = c->head; call != NULL; call = call->next) {
        if (call->is_init && now >= call->deadline_ms)
            return 1;
        if (!call->is_init && call->deadline_wall_ms != 0 && now >= call->deadline_ms + DB_FALLBACK_SLACK_MS)
            return 1;
    }
    return 0;
}

static int anything_pending(const gw_db_t *db)
{
    if (db->wait_head != NULL)
        return 1;
    for (size_t i = 0; i < db->nconns; i++)
        if (db->conns[i].head != NULL)
            return 1;
    return 0;
}

static void on_watch(h2o_timeout_entry_t *entry)
{
    gw_db_t *db = H2O_STRUCT_FROM_MEMBER(gw_db_t, watch_timer, entry);
    uint64_t now = h2o_now(db->loop);

    /* the queue is in deadline order: the expired ones are at its head */
    while (db->wait_head != NULL && now >= db->wait_head->deadline_ms)
        db_call_fail(wait_pop(db), 503, "waited too long for a database connection");
    for (size_t i = 0; i < db->nconns; i++)
        if (db->conns[i].state >= CONN_INITIALIZING && connection_overdue(db->conns + i, now))
            db_conn_fail(db->conns + i, "no answer by the request's deadline: connection dropped");
    db_dispatch(db);
    db_watch(db);
}

void db_watch(gw_db_t *db)
{
    if (!h2o_timeout_is_linked(&db->watch_timer) && anything_pending(db))
        h2o_timeout_link(db->loop, &db->watch_timeout, &db->watch_timer);
}

/* ---- submitting ---- */

static void on_dispatch_timer(h2o_timeout_entry_t *entry)
{
    db_dispatch(H2O_STRUCT_FROM_MEMBER(gw_db_t, dispatch_timer, entry));
}

void gw_db_submit(gw_db_t *db, h2o_req_t *req, const gw_db_call_t *spec, gw_db_cb cb, void *data)
{
    call_t *call = calloc(1, sizeof(*call));
    int timeout = db->cfg->db_statement_timeout;
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
    call->deadline_ms = h2o_now(db->loop) + (uint64_t)(timeout > 0 ? timeout : QUEUE_BOUND_WITHOUT_DEADLINE_MS);
    call->deadline_wall_ms = timeout > 0 ? db_wall_ms() + timeout : 0;
    call->guard = h2o_mem_alloc_shared(&req->pool, sizeof(*call->guard), on_guard_dispose);
    *call->guard = call;

    if (!any_connection_alive(db)) {
        db_call_fail(call, 503, "database unavailable");
        return;
    }
    if (atomic_load_explicit(&process_waiting, memory_order_relaxed) >= (size_t)db->cfg->db_queue_max) {
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
    h2o_timeout_init(loop, &db->watch_timeout, DB_WATCH_MS);
    db->watch_timer.cb = on_watch;
    for (size_t i = 0; i < DB_BACKOFF_STEPS; i++)
        h2o_timeout_init(loop, &db->backoff[i], backoff_ms[i]);
    h2o_timeout_init(loop, &db->connect_timeout, 10000);
    h2o_timeout_init(loop, &db->zero_timeout, 0);
    db->dispatch_timer.cb = on_dispatch_timer;
    for (size_t i = 0; i < db->nconns; i++)
        db_conn_start(db, db->conns + i);
    return db;
}

void gw_db_fail_all(gw_db_t *db, const char *message)
{
    while (db->wait_head != NULL)
        db_call_fail(wait_pop(db), 503, message);
    for (size_t i = 0; i < db->nconns; i++) {
        db_answer_lost(db->conns + i, 0);
        db_conn_close(db->conns + i); /* down for good: results still to come would match nothing */
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
    if (h2o_timeout_is_linked(&db->watch_timer))
        h2o_timeout_unlink(&db->watch_timer);
    h2o_timeout_dispose(db->loop, &db->watch_timeout);
    if (h2o_timeout_is_linked(&db->dispatch_timer))
        h2o_timeout_unlink(&db->dispatch_timer);
    h2o_timeout_dispose(db->loop, &db->connect_timeout);
    h2o_timeout_dispose(db->loop, &db->zero_timeout);
    for (size_t i = 0; i < DB_BACKOFF_STEPS; i++)
        h2o_timeout_dispose(db->loop, &db->backoff[i]);
    free(db->conns);
    free(db);
}
