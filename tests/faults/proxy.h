/* proxy.h: a small TCP proxy on 127.0.0.1 in front of the cluster's Unix socket, for the faults
 * of the database's network: a connection cut after a request was sent, or one that passes
 * nothing more. The gateway connects to it as to a PostgreSQL server on TCP. One thread. */
#ifndef TEST_PROXY_H
#define TEST_PROXY_H

typedef struct proxy proxy_t;

/* Listens on a free port of 127.0.0.1 and passes each connection on to the Unix socket at
 * unix_path; NULL after recording a failure. Stopped and freed by proxy_stop. */
proxy_t *proxy_start(const char *unix_path);
int proxy_port(const proxy_t *p);
/* The next bytes the server sends, on any connection, are not passed on: both sides of that
 * connection are closed instead. The request they answer was sent and ran; its answer is lost. */
void proxy_cut_next_answer(proxy_t *p);
/* The connections open now pass nothing more, either way, and stay open (a network that drops
 * everything); connections made afterwards pass as usual. */
void proxy_stall(proxy_t *p);
/* How many connections proxy_cut_next_answer has cut so far. */
int proxy_cuts(proxy_t *p);
void proxy_stop(proxy_t *p);

#endif
