/*
 * keywait.c: the waiting room of an event-loop thread for requests whose token names a kid
 * the JWK Set lacks (handler.c's check_token parks them; jwks.c fetches).
 *
 * The fetch runs on jwks.c's thread. When it ends, that thread calls each room's listener,
 * which only writes to the room's eventfd; the room's loop reads it (an h2o socket) and
 * resumes every request waiting there, on the loop's own thread, where each verifies its
 * token again against whatever set is now current. A request that has waited GW_KEYWAIT_MS
 * is resumed by its timer all the same (one h2o_timeout_t: every wait has the same length).
 * Many requests waiting at once cost one fetch: jwks.c runs one at a time and all of them
 * wait for its end. A request whose client goes away while it waits leaves the room first
 * (gw_keywait_cancel, from its pool's dispose callback).
 *
 * Ownership: a room lives as long as the process (jwks.c keeps its listener until
 * gw_jwks_stop; h2o owns the eventfd through the socket). Entries belong to their requests.
 */
#include "keywait.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "jwks.h"
#include "log.h"

struct gw_keywait {
    gw_jwks_listener_t listener; /* first: the fetcher hands it back */
    int efd;                     /* written by the fetcher's thread, read by the loop's */
    h2o_socket_t *sock;
    h2o_loop_t *loop;
    h2o_timeout_t timeout;
    h2o_linklist_t waiting;
    size_t count;
};

/* The fetcher's thread: a fetch ended. Wakes the room's loop (eventfd adds up: one read). */
static void on_fetched(gw_jwks_listener_t *l)
{
    gw_keywait_t *room = (gw_keywait_t *)l;
    uint64_t one = 1;
    while (write(room->efd, &one, sizeof(one)) < 0 && errno == EINTR)
        ;
}

static void leave(gw_keywait_entry_t *e)
{
    h2o_linklist_unlink(&e->link);
    if (h2o_timeout_is_linked(&e->timer))
        h2o_timeout_unlink(&e->timer);
    e->room->count--;
    e->room = NULL;
}

/* The loop's thread: the fetch ended; everyone waiting goes on (one at a time from the head:
 * resuming one may end others' requests, which leave the list as they go). */
static void on_wake(h2o_socket_t *sock, const char *err)
{
    gw_keywait_t *room = sock->data;
    if (err != NULL) {
        gw_log_error("JWT_JWKS_URL: the waiting room's eventfd failed: %s", err);
        return;
    }
    h2o_buffer_consume(&sock->input, sock->input->size);
    while (!h2o_linklist_is_empty(&room->waiting)) {
        gw_keywait_entry_t *e = H2O_STRUCT_FROM_MEMBER(gw_keywait_entry_t, link, room->waiting.next);
        leave(e);
        e->resume(e);
    }
}

/* The loop's thread: GW_KEYWAIT_MS passed and the fetch has not ended. */
static void on_timeout(h2o_timeout_entry_t *timer)
{
    gw_keywait_entry_t *e = H2O_STRUCT_FROM_MEMBER(gw_keywait_entry_t, timer, timer);
    leave(e);
    e->resume(e);
}

static gw_keywait_t *room_create(h2o_loop_t *loop)
{
    gw_keywait_t *room = calloc(1, sizeof(*room));
    if (room == NULL)
        return NULL;
    if ((room->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
        gw_log_error("JWT_JWKS_URL: no eventfd for the waiting room: %s", strerror(errno));
        free(room);
        return NULL;
    }
    room->loop = loop;
    room->sock = h2o_evloop_socket_create(loop, room->efd, 0);
    room->sock->data = room;
    h2o_socket_read_start(room->sock, on_wake);
    h2o_timeout_init(loop, &room->timeout, GW_KEYWAIT_MS);
    h2o_linklist_init_anchor(&room->waiting);
    room->listener.on_fetched = on_fetched;
    gw_jwks_listen(&room->listener);
    return room;
}

int gw_keywait_park(gw_keywait_t **room, h2o_loop_t *loop, gw_keywait_entry_t *e)
{
    if (e->waited)
        return 0;
    if (*room == NULL && (*room = room_create(loop)) == NULL) /* listening before the fetch is asked for */
        return 0;
    if ((*room)->count >= GW_KEYWAIT_MAX || !gw_jwks_fetch_for_unknown_kid())
        return 0;
    e->waited = 1;
    e->room = *room;
    e->timer.cb = on_timeout;
    h2o_linklist_insert(&(*room)->waiting, &e->link);
    h2o_timeout_link(loop, &(*room)->timeout, &e->timer);
    (*room)->count++;
    return 1;
}

void gw_keywait_cancel(gw_keywait_entry_t *e)
{
    if (e->room != NULL)
        leave(e);
}
