#define _GNU_SOURCE /* pipe2, pthread_timedjoin_np */
/*
 * db_listen.c: the LISTEN connection (db_listen.h). One per process, on a thread of its own
 * (blocking libpq calls are fine there, and a notification costs this thread a parse and a
 * message to each event-loop thread with streams). Never through a transaction-mode pooler:
 * LISTEN is a session's state (DATABASE_LISTEN_URL then names the database itself).
 *
 * The notification carries only the user's id and the event's id (the trigger's pg_notify,
 * db/migrations/0005_events.sql): the events themselves are fetched by each stream, as its user.
 */
#include "db_listen.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "log.h"

#define IDLE_POLL_MS 30000 /* the thread wakes this often when nothing happens (the socket's keepalives notice a dead peer) */
#define RETRY_FIRST_MS 100
#define RETRY_MAX_MS 2000

static const gw_config_t *config;
static pthread_t thread;
static int started;
static atomic_int stopping;
static int wake[2] = {-1, -1}; /* gw_listen_stop writes a byte: poll returns */
static PGconn *conn;           /* the thread's; static so that it stays reachable until it is finished */

/* Waits up to ms for fd to be readable (fd -1: just waits); returns 1 when stopping. */
static int wait_readable(int fd, int ms)
{
    struct pollfd p[2] = {{.fd = wake[0], .events = POLLIN}, {.fd = fd, .events = POLLIN}};
    while (poll(p, fd >= 0 ? 2 : 1, ms) < 0 && errno == EINTR)
        ;
    return atomic_load(&stopping);
}

/* A notification's payload, {"user_id": "...", "id": n} (parsed by jansson), to the streams. */
static void deliver(const char *payload)
{
    json_t *j = json_loads(payload, 0, NULL);
    json_t *user = json_object_get(j, "user_id"), *id = json_object_get(j, "id");
    if (json_is_string(user) && json_is_integer(id))
        gw_events_notify(json_string_value(user), (int64_t)json_integer_value(id));
    else
        gw_log_warn("listen: a notification on todo_events that is not {\"user_id\", \"id\"}: ignored");
    json_decref(j);
}

/* Connects and listens; NULL (logged once per outage: *reported) when the database cannot be had. */
static PGconn *connect_and_listen(int *reported)
{
    /* keywords before dbname are overridden by the URL's own */
    const char *keys[] = {"application_name", "connect_timeout", "keepalives_idle", "keepalives_interval", "keepalives_count",
                          "dbname", NULL};
    const char *values[] = {"todo-gateway listen", "5", "10", "5", "3",
                            config->database_listen_url[0] ? config->database_listen_url : NULL, NULL};
    PGconn *c = PQconnectdbParams(keys, values, 1);
    PGresult *res = PQstatus(c) == CONNECTION_OK ? PQexec(c, "listen todo_events") : NULL;
    if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK) {
        PQclear(res);
        return c;
    }
    if (!*reported)
        gw_log_warn("listen: cannot listen for events (retrying): %s", c ? PQerrorMessage(c) : "out of memory");
    *reported = 1;
    PQclear(res);
    PQfinish(c);
    return NULL;
}

static void *listen_main(void *arg)
{
    int retry_ms = RETRY_FIRST_MS, reported = 0;
    (void)arg;
    gw_log_set_thread("listen");
    while (!atomic_load(&stopping)) {
        if ((conn = connect_and_listen(&reported)) == NULL) {
            wait_readable(-1, retry_ms);
            retry_ms = retry_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : retry_ms * 2;
            continue;
        }
        if (reported)
            gw_log_info("listen: listening for events again; every stream catches up");
        reported = 0, retry_ms = RETRY_FIRST_MS;
        gw_events_catch_up(); /* what was committed before this LISTEN took effect */
        while (!wait_readable(PQsocket(conn), IDLE_POLL_MS)) {
            if (!PQconsumeInput(conn)) {
                gw_log_warn("listen: the LISTEN connection was lost (reconnecting): %s", PQerrorMessage(conn));
                reported = 1;
                break;
            }
            PGnotify *n;
            while ((n = PQnotifies(conn)) != NULL) {
                deliver(n->extra);
                PQfreemem(n);
            }
        }
        PQfinish(conn);
        conn = NULL;
    }
    return NULL;
}

int gw_listen_start(const gw_config_t *cfg)
{
    int err;
    config = cfg;
    if (pipe2(wake, O_CLOEXEC | O_NONBLOCK) != 0) {
        gw_log_error("listen: cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    if ((err = pthread_create(&thread, NULL, listen_main, NULL)) != 0) {
        gw_log_error("listen: cannot start its thread: %s", strerror(err));
        return -1;
    }
    started = 1;
    return 0;
}

void gw_listen_stop(void)
{
    if (!started)
        return;
    atomic_store(&stopping, 1);
    if (write(wake[1], "x", 1) < 0)
        gw_log_warn("listen: cannot wake its thread: %s", strerror(errno));
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 2;
    if (pthread_timedjoin_np(thread, NULL, &until) == 0)
        started = 0;
}
