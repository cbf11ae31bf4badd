/* conns.h: what the gateway keeps per client connection: admission (MAX_CONNECTIONS) and
 * the budget of cancelled HTTP/2 streams that defends against Rapid Reset
 * (CVE-2023-44487), which Debian's h2o 2.2.5 does not bound. */
#ifndef GW_CONNS_H
#define GW_CONNS_H

#include <h2o.h>
#include <stdint.h>

typedef struct gw_conn gw_conn_t;

/* A connection whose client cancelled more than GW_CONNS_CANCEL_BUDGET streams within
 * GW_CONNS_CANCEL_WINDOW_MS, and more streams than it let be answered in that window, gets
 * GOAWAY ENHANCE_YOUR_CALM and is closed once its open streams are answered. */
#define GW_CONNS_CANCEL_BUDGET 100
#define GW_CONNS_CANCEL_WINDOW_MS 10000

/* Counters of one thread, for /metrics (relaxed atomics; the owning thread writes). */
typedef struct gw_conns_stats {
    _Atomic uint64_t refused;   /* connections closed at accept: MAX_CONNECTIONS were open */
    _Atomic uint64_t calmed;    /* connections sent GOAWAY ENHANCE_YOUR_CALM for cancelling too much */
    _Atomic uint64_t cancelled; /* requests whose client went away before an answer was started */
    _Atomic uint64_t open;      /* client connections the thread serves now (balance.c's load) */
} gw_conns_stats_t;

/* Sets the process-wide limit of open client connections (MAX_CONNECTIONS). Once, before
 * any thread accepts. */
void gw_conns_init(int max_connections);

/* Admits a socket just accepted on the loop of ctx: returns 0 with the accounting attached
 * to the socket (freed when h2o closes it), or -1 when MAX_CONNECTIONS connections are open
 * or memory is short; the caller then closes the socket. stats: the thread's counters. */
int gw_conns_admit(h2o_socket_t *sock, h2o_context_t *ctx, gw_conns_stats_t *stats);

/* The accounting of the connection req came on, counting req as one of its requests in
 * progress (until gw_conns_request_done); NULL when it has none. */
gw_conn_t *gw_conns_request_start(h2o_req_t *req);

/* Called as a request's pool goes: answered says whether a response was started for it.
 * A request that was not answered counts against its connection's cancel budget. */
void gw_conns_request_done(gw_conn_t *c, h2o_req_t *req, int answered);

/* 1 when c (NULL: none) was cut for cancelling too much: h2o still parses what it had read
 * from the socket (up to its receive buffer, megabytes), and each stream in it is a request
 * that must cost nothing more. After the cut nothing is counted for c. */
int gw_conns_calmed(const gw_conn_t *c);

/* The address of req's client as a key for per-client limits (ratelimit.c): its 4 (IPv4) or
 * 16 (IPv6) bytes written to key; returns their count, or 1 (key "?": one bucket shared by
 * all such) when the address is unknown (the client already left). */
size_t gw_conns_peer_key(h2o_req_t *req, unsigned char key[16]);

/* Shutting down: closes, gracefully, this thread's idle HTTP/1.1 keep-alive connections (an
 * HTTP/1.x request was answered on them, none is in progress): FIN (shutdown for writing), and
 * h2o reads nothing more from them, so a request that crosses the FIN is never run (the client
 * sees the connection closed before an answer: safe to retry). HTTP/2 connections get h2o's
 * GOAWAY instead (h2o_context_request_shutdown); an HTTP/1.1 one with a request in progress
 * answers it with Connection: close (respond.c); one with no request yet is served as usual
 * until the process exits. Call after h2o_context_request_shutdown. */
void gw_conns_close_idle(void);

/* Reads and discards what clients sent on the connections gw_conns_close_idle closed (a
 * socket closed with unread data would send a reset). Returns how many of this thread's
 * client connections are still open on the client's side. */
size_t gw_conns_drain(void);

/* Client connections open in the process now. */
uint64_t gw_conns_open(void);

#endif
