/*
 * db_socket.c: one connection's life (db.c says what goes over it): connecting
 * asynchronously, its socket in the h2o event loop, flushing what libpq holds, failing and
 * reconnecting after a growing delay. With db.c, the only files that include libpq.
 */
#include "db_internal.h"

#include <errno.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static void conn_connect(conn_t *c);
static void on_socket_event(h2o_socket_t *sock, const char *err);
static void on_socket_writable(h2o_socket_t *sock, const char *err);

/* ---- the clock and flushing ---- */

int64_t db_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sends what libpq holds; when all of it left, every call of the FIFO is sent (its Sync with it). */
void db_conn_flush(conn_t *c)
{
    int r = PQflush(c->pg);
    if (r < 0) {
        db_conn_fail(c, PQerrorMessage(c->pg));
    } else if (r == 0) {
        for (call_t *call = c->head; call != NULL; call = call->next)
            call->sent = 1;
    } else if (!c->write_pending) {
        c->write_pending = 1;
        h2o_socket_notify_write(c->sock, on_socket_writable);
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
        db_conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    if (st == PGRES_POLLING_OK) {
        h2o_timeout_unlink(&c->connect_timer);
        db_conn_initialize(c);
    } else if (st == PGRES_POLLING_WRITING && !c->write_pending) {
        c->write_pending = 1;
        h2o_socket_notify_write(c->sock, on_socket_writable);
    }
}

static void on_socket_io(conn_t *c, const char *err)
{
    gw_db_t *db = c->db;

    if (c->state == CONN_CONNECTING) {
        conn_poll_connect(c);
    } else if (!PQconsumeInput(c->pg) || err != NULL) {
        /* Gone. What libpq read before it went still counts: a FATAL error saying why (the
         * server shutting down) ends the call it came with and tells that those behind it
         * never ran (db_answer_lost). */
        db_conn_read(c, 1);
        db_conn_fail(c, err != NULL ? err : PQerrorMessage(c->pg));
    } else {
        db_conn_read(c, 0);
        if (c->state >= CONN_INITIALIZING)
            db_conn_flush(c);
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
    db_conn_fail(c, "timed out connecting");
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
        db_conn_fail(c, "out of memory");
        return;
    }
    if (PQstatus(c->pg) == CONNECTION_BAD || PQsetnonblocking(c->pg, 1) != 0) {
        db_conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    PQsetNoticeProcessor(c->pg, on_notice, NULL);
    if (conn_watch_socket(c) != 0) {
        db_conn_fail(c, PQerrorMessage(c->pg));
        return;
    }
    c->write_pending = 1;
    h2o_socket_notify_write(c->sock, on_socket_writable);
}

/* The connection is lost: every call in flight gets its honest answer (db_answer_lost: 502
 * when it was sent and may have committed, never retried), calls never sent go back to the
 * queue, and a new connection is tried after a growing delay. */
void db_conn_fail(conn_t *c, const char *why)
{
    gw_db_t *db = c->db;
    char reason[256];
    snprintf(reason, sizeof(reason), "%s", why ? why : "");
    reason[strcspn(reason, "\n")] = '\0';

    if (c->state == CONN_DOWN)
        return;
    int was_up = c->state >= CONN_INITIALIZING;
    gw_log_warn_summarised("database connection %zu lost: %s", (size_t)(c - db->conns), reason);
    if (h2o_timeout_is_linked(&c->connect_timer))
        h2o_timeout_unlink(&c->connect_timer);
    conn_close_socket(c);
    if (c->pg != NULL) {
        PQfinish(c->pg);
        c->pg = NULL;
    }
    c->state = CONN_DOWN;
    db_answer_lost(c, 1);
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
    c->state = CONN_DOWN;
    if (h2o_timeout_is_linked(&c->retry_timer))
        h2o_timeout_unlink(&c->retry_timer);
    if (h2o_timeout_is_linked(&c->connect_timer))
        h2o_timeout_unlink(&c->connect_timer);
    conn_close_socket(c);
    if (c->pg != NULL)
        PQfinish(c->pg);
    c->pg = NULL;
    while (c->head != NULL)
        db_call_drop(db_conn_pop(c));
}
