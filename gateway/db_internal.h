/* db_internal.h: what the two halves of the database layer share: db_pool.c (the calls, the
 * wait queue, the public functions of db.h) and db.c (one connection through libpq, the
 * only file that includes it). Not for other files. */
#ifndef GW_DB_INTERNAL_H
#define GW_DB_INTERNAL_H

#include <sys/types.h>

#include "db.h"

#define DB_BACKOFF_STEPS 7 /* reconnection delays: 100 ms doubling up to 5 s (db_pool.c) */

struct pg_conn;

typedef struct conn conn_t;

typedef struct call {
    struct call *next;
    h2o_req_t *req;      /* NULL once the request is gone */
    struct call **guard; /* in req->pool; points back here while both live */
    gw_db_cb cb;
    void *data;
    int is_init;             /* the connection's own set-up group, no request */
    int nstmts;              /* statements in the group; the last one's row is the reply */
    int stmts_done;          /* statements whose results have ended */
    int retried;             /* 40001/40P01 are retried once */
    uint64_t sent_ns, db_ns; /* when the group was last sent; its time in the database, retries summed */
    gw_db_call_t spec;
    gw_db_reply_t reply;
    h2o_timeout_entry_t wait_timer; /* linked while the call waits in the queue */
    gw_db_t *db;
} call_t;

enum conn_state { CONN_DOWN, CONN_CONNECTING, CONN_INITIALIZING, CONN_READY };

struct conn {
    gw_db_t *db;
    struct pg_conn *pg; /* libpq's PGconn, used in db.c alone */
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
    h2o_timeout_t backoff[DB_BACKOFF_STEPS];
    h2o_timeout_t connect_timeout;
    h2o_timeout_t zero_timeout;
    h2o_timeout_entry_t dispatch_timer; /* linked while submitted calls wait for this loop turn's end */
    char timeout_text[16];
};

/* db.c: one connection. */

/* Sets up c as db's connection and starts connecting it (asynchronously). */
void db_conn_start(gw_db_t *db, conn_t *c);
/* Sends a call as one Sync group on a ready connection with room. Returns 0, or -1 when the
 * connection broke (it has then been failed, and the call with it). */
int db_conn_send(conn_t *c, call_t *call);
/* Closes c for good: timers, socket, libpq; the calls it holds are dropped unanswered. */
void db_conn_close(conn_t *c);

/* db_pool.c: calls and the wait queue. */

/* Hands the reply to the request, if it is still there, and frees the call. */
void db_call_finish(call_t *call);
/* Finishes a call with a failure of the database layer (status, a message for the log). */
void db_call_fail(call_t *call, int status, const char *message);
/* Frees a call without a reply (shutting down); the request, if any, forgets it. */
void db_call_drop(call_t *call);
/* Queues a call at the back of the wait FIFO, for at most the wait timeout. */
void db_wait_push(gw_db_t *db, call_t *call);
/* Sends waiting calls while a connection has room; with no connection alive, fails them. */
void db_dispatch(gw_db_t *db);

#endif
