/*
 * conns.c: per-connection accounting, attached to h2o's socket (socket->on_close), so it
 * lives exactly as long as the client connection, whatever protocol runs on it (HTTP/1.1,
 * h2c by prior knowledge or by Upgrade, TLS).
 *
 * Rapid Reset (CVE-2023-44487): a client opens a stream and cancels it at once, over and
 * over; each costs the server a request while the client pays nothing. h2o 2.2.5 has no
 * limit, so the gateway counts, per connection, requests that went away unanswered, and
 * past the budget (more than GW_CONNS_CANCEL_BUDGET within GW_CONNS_CANCEL_WINDOW_MS, and
 * more cancelled than answered: a browser that navigates away cancels a few, never
 * mostly) ends the connection. h2o 2.2.5 offers no call to end one HTTP/2 connection: its
 * connection state is in http2_internal.h, which needs headers Debian does not package
 * (khash.h). So on cleartext the gateway writes a GOAWAY ENHANCE_YOUR_CALM (RFC 9113
 * 5.4.1, encoded by h2o's own h2o_http2_encode_goaway_frame) to the socket when h2o has
 * no write in flight (frames are whole then), and shuts the socket down both ways: h2o
 * reads the end of the stream and closes the connection as if the client had left; on
 * TLS the socket is only shut down (a close without GOAWAY).
 */
#include "conns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "log.h"

/* Exported by libh2o-evloop; declared in h2o/http2_internal.h, which cannot be included. */
void h2o_http2_encode_goaway_frame(h2o_buffer_t **buf, uint32_t last_stream_id, int errnum, h2o_iovec_t additional_data);

struct gw_conn {
    struct gw_conn *prev, *next; /* the thread's connections (thread_conns) */
    h2o_socket_t *sock;
    h2o_context_t *ctx;
    gw_conns_stats_t *stats;
    unsigned active; /* requests received and not yet disposed */
    int is_h2;       /* an HTTP/2 request was seen on it */
    int is_h1;       /* an HTTP/1.x request was seen on it */
    int closing;     /* shut down for writing by gw_conns_close_idle; h2o reads it no more */
    int peer_closed; /* ... and the client closed its side too */
    uint64_t window_start_ms;
    uint32_t cancelled, answered; /* in the current window */
    int calmed;
    char peer[INET6_ADDRSTRLEN + 8];
};

static atomic_uint_fast64_t open_count;
static uint64_t max_open = UINT64_MAX;
static __thread gw_conn_t *thread_conns; /* a connection lives and dies on its loop's thread */

void gw_conns_init(int max_connections)
{
    max_open = max_connections > 0 ? (uint64_t)max_connections : UINT64_MAX;
}

size_t gw_conns_peer_key(h2o_req_t *req, unsigned char key[16])
{
    struct sockaddr_storage peer = {0};
    socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&peer);
    if (len > 0 && peer.ss_family == AF_INET)
        return memcpy(key, &((struct sockaddr_in *)&peer)->sin_addr, 4), 4;
    if (len > 0 && peer.ss_family == AF_INET6)
        return memcpy(key, &((struct sockaddr_in6 *)&peer)->sin6_addr, 16), 16;
    key[0] = '?';
    return 1;
}

uint64_t gw_conns_open(void)
{
    return atomic_load_explicit(&open_count, memory_order_relaxed);
}

static void on_socket_close(void *data)
{
    gw_conn_t *c = data;
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        thread_conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    atomic_fetch_sub_explicit(&open_count, 1, memory_order_relaxed);
    atomic_fetch_sub_explicit(&c->stats->open, 1, memory_order_relaxed);
    free(c);
}

static void peer_text(h2o_socket_t *sock, char *buf, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = h2o_socket_getpeername(sock, (struct sockaddr *)&ss);
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (len > 0 && ss.ss_family == AF_INET) {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, host, sizeof(host));
        port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
    } else if (len > 0 && ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, host, sizeof(host));
        port = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    }
    snprintf(buf, cap, "%s:%d", host, port);
}

/* Ends a connection that cancelled too much; see the comment at the top. */
static void calm_down(gw_conn_t *c)
{
    int fd = h2o_socket_get_fd(c->sock);
    if (c->sock->ssl == NULL && !h2o_socket_is_writing(c->sock)) {
        h2o_buffer_t *buf;
        h2o_buffer_init(&buf, &h2o_socket_buffer_prototype);
        h2o_http2_encode_goaway_frame(&buf, INT32_MAX, H2O_HTTP2_ERROR_ENHANCE_YOUR_CALM,
                                      h2o_iovec_init(H2O_STRLIT("too many cancelled streams")));
        ssize_t ignored = send(fd, buf->bytes, buf->size, MSG_DONTWAIT | MSG_NOSIGNAL);
        (void)ignored; /* best effort: the connection ends either way */
        h2o_buffer_dispose(&buf);
    }
    shutdown(fd, SHUT_RDWR);
}

int gw_conns_admit(h2o_socket_t *sock, h2o_context_t *ctx, gw_conns_stats_t *stats)
{
    if (atomic_fetch_add_explicit(&open_count, 1, memory_order_relaxed) >= max_open) {
        atomic_fetch_sub_explicit(&open_count, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&stats->refused, 1, memory_order_relaxed);
        gw_log_warn_summarised("MAX_CONNECTIONS (%llu) open: a connection refused at accept", (unsigned long long)max_open);
        return -1;
    }
    gw_conn_t *c = calloc(1, sizeof(*c));
    if (c == NULL) {
        atomic_fetch_sub_explicit(&open_count, 1, memory_order_relaxed);
        return -1;
    }
    c->sock = sock;
    c->ctx = ctx;
    c->stats = stats;
    atomic_fetch_add_explicit(&stats->open, 1, memory_order_relaxed);
    peer_text(sock, c->peer, sizeof(c->peer));
    sock->on_close.cb = on_socket_close;
    sock->on_close.data = c;
    c->next = thread_conns;
    if (thread_conns != NULL)
        thread_conns->prev = c;
    thread_conns = c;
    return 0;
}

gw_conn_t *gw_conns_request_start(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket != NULL ? req->conn->callbacks->get_socket(req->conn) : NULL;
    gw_conn_t *c = sock != NULL && sock->on_close.cb == on_socket_close ? sock->on_close.data : NULL;
    if (c != NULL) {
        c->active++;
        c->is_h1 |= req->version < 0x200;
    }
    return c;
}

void gw_conns_request_done(gw_conn_t *c, h2o_req_t *req, int answered)
{
    if (c == NULL)
        return;
    c->active--;
    if (req->version >= 0x200)
        c->is_h2 = 1;
    if (c->calmed)
        return;
    if (answered) {
        c->answered++;
        return;
    }
    atomic_fetch_add_explicit(&c->stats->cancelled, 1, memory_order_relaxed);
    uint64_t now = h2o_now(c->ctx->loop);
    if (now - c->window_start_ms > GW_CONNS_CANCEL_WINDOW_MS) {
        c->window_start_ms = now;
        c->cancelled = c->answered = 0;
    }
    c->cancelled++;
    if (!c->is_h2 || c->cancelled <= GW_CONNS_CANCEL_BUDGET || c->cancelled <= c->answered)
        return;
    c->calmed = 1;
    atomic_fetch_add_explicit(&c->stats->calmed, 1, memory_order_relaxed);
    gw_log_warn_summarised("HTTP/2 client %s cancelled %u streams in %d s (%u answered): GOAWAY ENHANCE_YOUR_CALM", c->peer, c->cancelled,
                GW_CONNS_CANCEL_WINDOW_MS / 1000, c->answered);
    calm_down(c);
}

int gw_conns_calmed(const gw_conn_t *c)
{
    return c != NULL && c->calmed;
}

void gw_conns_close_idle(void)
{
    for (gw_conn_t *c = thread_conns; c != NULL; c = c->next) {
        if (!c->is_h1 || c->is_h2 || c->active > 0 || c->closing)
            continue;
        c->closing = 1;
        h2o_socket_read_stop(c->sock);
        shutdown(h2o_socket_get_fd(c->sock), SHUT_WR);
    }
}

size_t gw_conns_drain(void)
{
    size_t open = 0;
    char sink[4096];
    for (gw_conn_t *c = thread_conns; c != NULL; c = c->next) {
        ssize_t n = 1;
        while (c->closing && !c->peer_closed && (n = recv(h2o_socket_get_fd(c->sock), sink, sizeof(sink), MSG_DONTWAIT)) > 0)
            ; /* a request that crossed our FIN: never read by h2o, never run; read so that closing sends no reset */
        c->peer_closed |= c->closing && (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK));
        open += !c->peer_closed;
    }
    return open;
}
