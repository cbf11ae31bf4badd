/* keywait.h: requests whose token names a kid the JWK Set lacks wait, without blocking their
 * event loop, for the fetch of JWT_JWKS_URL that may bring the key (Better Auth publishes a
 * new key only as it first signs with it), then go on. One waiting room per event-loop thread. */
#ifndef GW_KEYWAIT_H
#define GW_KEYWAIT_H

#include <h2o.h>

#define GW_KEYWAIT_MS 2000  /* the longest a request waits */
#define GW_KEYWAIT_MAX 1024 /* requests waiting at once per thread; beyond, the token is refused at once */

typedef struct gw_keywait gw_keywait_t;

/* A request's place in the waiting room, inside its context (zeroed: not waiting). */
typedef struct gw_keywait_entry {
    h2o_linklist_t link;                        /* in the room's list while waiting */
    h2o_timeout_entry_t timer;                  /* GW_KEYWAIT_MS */
    gw_keywait_t *room;                         /* while waiting */
    int waited;                                 /* 1 once it has waited: it never waits twice */
    void (*resume)(struct gw_keywait_entry *e); /* the owner's: called on the loop's thread */
} gw_keywait_entry_t;

/* Parks e in *room (made on first use, on loop's thread, for the life of the process) until
 * the next fetch of the JWK Set ends or GW_KEYWAIT_MS pass, then calls e->resume on the same
 * thread. Returns 1 when parked; 0 when waiting is pointless or not allowed: no fetch may run
 * now (gw_jwks_fetch_for_unknown_kid), e has waited already, GW_KEYWAIT_MAX wait, or the room
 * cannot be made. */
int gw_keywait_park(gw_keywait_t **room, h2o_loop_t *loop, gw_keywait_entry_t *e);

/* Takes e out of its room without resuming it (its request is going away). No-op when e is
 * not waiting. */
void gw_keywait_cancel(gw_keywait_entry_t *e);

#endif
