/* balance.h: accepted client connections spread over the event-loop threads by load. Every
 * thread accepts on the shared listening sockets (whichever the kernel wakes); the thread
 * that accepted serves the connection when no thread serves fewer, and otherwise hands it
 * to the least loaded thread (h2o_socket_export, a message on that thread's h2o queue,
 * h2o_socket_import there). Each thread's database connections serve its own client
 * connections: so that no pool idles while another queues, the connections are balanced. */
#ifndef GW_BALANCE_H
#define GW_BALANCE_H

#include <h2o.h>
#include <stddef.h>

#include "conns.h"

/* Serves a connection handed to this thread: sock is on this thread's loop, listener the
 * index of the listener it was accepted on (0 cleartext, 1 TLS). data: gw_balance_register's. */
typedef void (*gw_balance_adopt_cb)(void *data, h2o_socket_t *sock, size_t listener);

/* Prepares for n threads (before they start); 0, or -1 when out of memory. */
int gw_balance_init(size_t n);

/* Thread i, on itself, at set-up: its context (whose loop and queue receive the connections
 * handed to it), its connection counters (stats->open is its load) and how it serves one. */
void gw_balance_register(size_t i, h2o_context_t *ctx, gw_conns_stats_t *stats, gw_balance_adopt_cb cb, void *data);

/* Called by thread self with a socket it just accepted on listener: returns 1 when it handed
 * the socket to a thread serving fewer connections (sock is then gone), 0 when self should
 * serve it (no thread serves fewer, or the hand-over failed). */
int gw_balance_hand_off(size_t self, h2o_socket_t *sock, size_t listener);

/* Stops hand-overs (shutting down): every thread serves what it accepts from now on. */
void gw_balance_stop(void);

#endif
