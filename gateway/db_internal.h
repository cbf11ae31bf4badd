/* db_internal.h: what the parts of the database layer share: db_pool.c (the calls, the wait
 * queue, the deadlines, the public functions of db.h), db.c (what goes over one connection)
 * and db_socket.c (one connection's life); db.c and db_socket.c are the only files that
 * include libpq. Not for other files. */
#ifndef GW_DB_INTERNAL_H
#define GW_DB_INTERNAL_H

#include <sys/types.h>

#include "db.h"

#define DB_BACKOFF_STEPS 4       /* reconnection delays: 100, 200, 400, then every 500 ms (db_pool.c) */
#define DB_WATCH_MS 100          /* the watchdog's period: queue deadlines and unanswered connections */
#define DB_FALLBACK_SLACK_MS 700 /* a connection that has not answered a call this long after its deadline is dropped */
#define DB_SETUP_MS 10000        /* a new connection's set-up group must be answered within this */

struct pg_conn;

typedef struct conn conn_t;

typedef struct call {
    struct call *next;
    h2o_req_t *req;      /* NULL once the request is gone */
    struct call **guard; /* in req->pool; points back here while both live */
    gw_db_cb cb;
    void *data;
    int is_init;              /* the connection's own set-up group, no request */
    int nstmts;               /* statements in the group; the last one's row is the reply */
    int stmts_done;           /* statements whose results have ended */
    int retried;              /* 40001/40P01 are retried once */
    int sent;                 /* libpq flushed the whole group to the socket */
    int server_error;         /* the server answered the group with an error: its transaction rolled back */
    int fatal;                /* ... and ended the session there (FATAL): nothing after it ran */
    uint64_t deadline_ms;     /* h2o_now() by which the request must be answered (queue: 503) */
    int64_t deadline_wall_ms; /* the same instant in CLOCK_REALTIME ms, for the database; 0: none */
    uint64_t sent_ns, db_ns;  /* when the group was last sent; its time in the database, retries summed */
    gw_db_call_t spec;
    gw_db_reply_t reply;
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
    int64_t clock_offset_ms;           /* the database's clock minus ours (CLOCK_REALTIME), measured at set-up */
    int64_t setup_sent_ms;             /* CLOCK_REALTIME when the set-up group was sent */
    int64_t setup_db_clock_ms;         /* the database's clock the set-up group read */
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
    h2o_timeout_t watch_timeout;
    h2o_timeout_entry_t watch_timer; /* linked while any call waits or is in flight */
    h2o_timeout_t backoff[DB_BACKOFF_STEPS];
    h2o_timeout_t connect_timeout;
    h2o_timeout_t zero_timeout;
    h2o_timeout_entry_t dispatch_timer; /* linked while submitted calls wait for this loop turn's end */
    char timeout_text[16];
};

/* db.c: what goes over one connection. */

/* Sends the set-up group of a connection just established (statement_timeout, the prepared
 * statements, the database's clock); the connection is ready when its Sync comes back. */
void db_conn_initialize(conn_t *c);
/* Sends a call as one Sync group on a ready connection with room. Returns 0, or -1 when the
 * connection broke (it has then been failed, and the call with it). */
int db_conn_send(conn_t *c, call_t *call);
/* Reads every result libpq has parsed, completing the calls whose Sync arrived. gone: the
 * connection is lost; read only what the server sent before (db_conn_fail follows). */
void db_conn_read(conn_t *c, int gone);
/* Takes the oldest call off c's FIFO (there is one). */
call_t *db_conn_pop(conn_t *c);

/* db_socket.c: one connection's life. */

/* Sets up c as db's connection and starts connecting it (asynchronously). */
void db_conn_start(gw_db_t *db, conn_t *c);
/* Flushes what libpq holds (asks for a write notification when the socket is full); when all
 * of it left, every call of c's FIFO is sent. A failure fails the connection. */
void db_conn_flush(conn_t *c);
/* The connection is lost, or dropped (it did not answer in time): closes it (never blocks: no
 * cancel request, the socket is closed; the backend notices within
 * client_connection_check_interval), answers its calls (db_answer_lost, re-queueing those
 * never sent) and reconnects, at once or after a growing delay. why: for the log. */
void db_conn_fail(conn_t *c, const char *why);
/* Closes c for good (state down, no reconnection): timers, socket, libpq; the calls it still
 * holds are dropped unanswered. */
void db_conn_close(conn_t *c);
/* CLOCK_REALTIME in milliseconds: deadlines as the database reads them. */
int64_t db_wall_ms(void);

/* db_pool.c: calls and the wait queue. */

/* Hands the reply to the request, if it is still there, and frees the call. */
void db_call_finish(call_t *call);
/* Finishes a call with a failure of the database layer (status, a message for the log). */
void db_call_fail(call_t *call, int status, const char *message);
/* Frees a call without a reply (shutting down); the request, if any, forgets it. */
void db_call_drop(call_t *call);
/* Queues a call at the back of the wait FIFO (kept in deadline order: a new call's is the latest). */
void db_wait_push(gw_db_t *db, call_t *call);
/* Queues a call at the front: one already sent once (a retry, or never flushed on a lost
 * connection), whose deadline is earlier than any waiting call's. */
void db_wait_push_front(gw_db_t *db, call_t *call);
/* Answers every call of a connection that is lost, abandoned or shutting down, honestly (see
 * gw_db_fail_all), and empties its FIFO. requeue: calls never sent go back to the front of the
 * wait queue (else 503). */
void db_answer_lost(conn_t *c, int requeue);
/* Links the watchdog unless it is: call when a call starts waiting or is sent. */
void db_watch(gw_db_t *db);
/* Sends waiting calls while a connection has room; with no connection alive, fails them. */
void db_dispatch(gw_db_t *db);

#endif
