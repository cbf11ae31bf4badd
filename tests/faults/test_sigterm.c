/* test_sigterm: SIGTERM under load, seen from raw HTTP/1.1 keep-alive connections (libcurl
 * would retry a reset request on a new connection and hide it). Writers POST in a loop on
 * their own connections, others sit idle after one request; the gateway gets SIGTERM in the
 * middle. No client sees a reset; an idle connection is closed with a FIN; every answer is
 * consistent with the database (2xx: the row is there; 503: it is not; a request the server
 * closed the connection on without answering was never run); once the listening socket is
 * closed, new connections are refused; the process exits 0. Then with a request stuck on a
 * locked table: new connections are refused at once while it finishes, and it gets its 201
 * with Connection: close. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "faults.h"
#include "h2raw.h"
#include "pgadmin.h"

#define WRITERS 12
#define IDLE 4
#define SIGTERM_AT_MS 800

enum { R_SEND, R_WAIT, R_CLOSING, R_DONE };

/* One raw connection: a writer's, or an idle one. */
typedef struct rconn {
    int fd, state, writer, seq;
    long shot; /* index of the request awaiting its answer, -1 when none */
    struct timespec sent;
    char buf[16384];
    size_t len;
} rconn_t;

typedef struct tally {
    long resets, refused, closed_idle, fin_unanswered;
} tally_t;

/* A connected socket to 127.0.0.1:port, or -1 with errno set. */
static int connect_to(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
    for (size_t off = 0; off < len;) {
        ssize_t n = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

/* A complete answer in c->buf: its status, whether it says Connection: close and carries
 * Retry-After, and its body; 0 when incomplete. (A test's reader: the product never parses HTTP.) */
static long parse_answer(rconn_t *c, int *close_after, int *retry_after, const char **body)
{
    c->buf[c->len] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    if (end == NULL || strncmp(c->buf, "HTTP/1.1 ", 9) != 0)
        return 0;
    *end = '\0';
    const char *cl = strcasestr(c->buf, "\r\ncontent-length:");
    size_t need = (size_t)(end + 4 - c->buf) + (cl ? strtoul(cl + 17, NULL, 10) : 0);
    *close_after = strcasestr(c->buf, "\r\nconnection: close") != NULL;
    *retry_after = strcasestr(c->buf, "\r\nretry-after:") != NULL;
    long status = strtol(c->buf + 9, NULL, 10);
    *end = '\r';
    if (c->len < need)
        return 0;
    *body = h_fmt("%.*s", (int)(need - (size_t)(end + 4 - c->buf)), end + 4);
    memmove(c->buf, c->buf + need, c->len - need);
    c->len -= need;
    return status;
}

static void conn_drop(rconn_t *c, int state)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    c->state = state;
    c->len = 0;
}

/* The read side of one connection: an answer, the server's FIN or a reset. */
static void on_readable(rconn_t *c, shots_t *s, tally_t *t)
{
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return;
    if (n <= 0) {
        int reset = n < 0 && (errno == ECONNRESET || errno == EPIPE);
        t->resets += reset;
        if (c->shot >= 0) {
            snprintf(s->v[c->shot].err, sizeof(s->v[c->shot].err), "%s", reset ? "reset" : "closed without an answer");
            t->fin_unanswered += !reset;
        } else if (c->writer < 0) {
            t->closed_idle += !reset;
        }
        c->shot = -1;
        conn_drop(c, R_SEND);
        return;
    }
    c->len += (size_t)n;
    int close_after = 0, retry_after = 0;
    const char *body = NULL;
    long status = c->shot >= 0 ? parse_answer(c, &close_after, &retry_after, &body) : 0;
    if (status > 0) {
        shot_t *x = &s->v[c->shot];
        x->status = status;
        x->body = body;
        json_t *j = json_loads(body, 0, NULL);
        x->code = h_jstr(j, "code") ? h_fmt("%s", h_jstr(j, "code")) : NULL;
        json_decref(j);
        x->retry_after = retry_after;
        x->ms = h_ms_since(&c->sent);
        c->shot = -1;
        c->state = close_after ? R_CLOSING : R_SEND;
    }
}

/* A writer with nothing in flight sends its next POST (connecting first when it has no connection). */
static void writer_send(rconn_t *c, gateway_t *g, const char *user, const char *tok, shots_t *s, tally_t *t)
{
    if (c->fd < 0 && (c->fd = connect_to(g->port)) < 0) {
        t->refused += errno == ECONNREFUSED;
        c->state = R_DONE;
        return;
    }
    shot_t *x = &s->v[s->n];
    memset(x, 0, sizeof(*x));
    x->title = h_fmt("sigterm w%d #%d", c->writer, c->seq++);
    const char *body = h_fmt("{\"title\": \"%s\"}", x->title);
    const char *req = h_fmt("POST /api/%s/tasks HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
                            "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
                            user, tok, strlen(body), body);
    c->shot = (long)s->n++;
    clock_gettime(CLOCK_MONOTONIC, &c->sent);
    if (send_all(c->fd, req, strlen(req)) != 0) {
        t->resets += errno == ECONNRESET || errno == EPIPE;
        snprintf(x->err, sizeof(x->err), "send: %s", strerror(errno));
        c->shot = -1;
        conn_drop(c, R_SEND);
        return;
    }
    c->state = R_WAIT;
}

static void under_load(gateway_t *g, PGconn *db)
{
    const char *user = h_uid("sigterm"), *tok = tok_user(user);
    rconn_t conns[WRITERS + IDLE];
    tally_t t = {0};
    shots_t s = {.v = calloc(100000, sizeof(shot_t)), .cap = 100000};
    h_section("SIGTERM under load");
    for (int i = 0; i < WRITERS + IDLE; i++) {
        conns[i] = (rconn_t){.fd = connect_to(g->port), .state = R_SEND, .writer = i < WRITERS ? i : -1, .shot = -1};
        if (i >= WRITERS && conns[i].fd >= 0) /* idle: one request, then nothing */
            send_all(conns[i].fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 42);
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    int signalled = 0, busy = 1;
    while (busy && h_ms_since(&t0) < 15000) {
        if (!signalled && h_ms_since(&t0) >= SIGTERM_AT_MS)
            signalled = kill(g->pid, SIGTERM) == 0;
        struct pollfd fds[WRITERS + IDLE];
        busy = 0;
        for (int i = 0; i < WRITERS + IDLE; i++) {
            rconn_t *c = &conns[i];
            if (c->writer >= 0 && c->state == R_SEND && s.n < s.cap)
                writer_send(c, g, user, tok, &s, &t);
            busy |= c->fd >= 0 || (c->writer >= 0 && c->state != R_DONE);
            fds[i] = (struct pollfd){.fd = c->fd, .events = POLLIN};
        }
        if (poll(fds, WRITERS + IDLE, 10) <= 0)
            continue;
        for (int i = 0; i < WRITERS + IDLE; i++) {
            if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR)) || conns[i].fd < 0)
                continue;
            on_readable(&conns[i], &s, &t);
            if (conns[i].writer < 0)
                conns[i].len = 0, conns[i].shot = -1; /* an idle connection's one answer is not counted */
        }
    }
    int st = 0;
    int ended = gateway_wait_exit(g, 15000, &st);
    CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 0, "the gateway exits 0 after SIGTERM (%s)", ended ? "ended" : "running");
    CHECK(!busy, "every connection ended: the writers' new connections are refused, the idle ones closed");
    CHECK(t.resets == 0, "no client saw a reset (%ld)", t.resets);
    CHECK(t.closed_idle == IDLE, "every idle keep-alive connection was closed with a FIN (%ld of %d)", t.closed_idle, IDLE);
    CHECK(t.refused >= 1, "new connections are refused once the gateway stopped listening (%ld writers refused)", t.refused);
    fault_check_writes(db, user, &s, 1, "SIGTERM under load");
    h_diag("SIGTERM under load: %zu requests on %d keep-alive connections: %s; resets %ld; closed unanswered %ld; idle closed "
           "with FIN %ld of %d; writers refused %ld",
           s.n, WRITERS, fault_by_status(&s), t.resets, t.fin_unanswered, t.closed_idle, IDLE, t.refused);
    fault_shots_free(&s);
}

/* Reads an HTTP/2 connection, frame by frame, for up to ms or until it ends: sets *goaway when
 * a GOAWAY with NO_ERROR came; returns 0 when the server closed it (FIN), -1 on a reset, 1 when
 * it is still open. */
static int h2_read(int fd, long ms, int *goaway)
{
    static unsigned char in[1 << 16];
    static size_t have;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        long left = ms - h_ms_since(&t0);
        if (poll(&p, 1, left > 0 ? (int)left : 0) <= 0)
            return 1;
        ssize_t k = recv(fd, in + have, sizeof(in) - have, MSG_DONTWAIT);
        if (k == 0)
            return 0;
        if (k < 0)
            return errno == EAGAIN ? 1 : -1;
        have += (size_t)k;
        size_t off = 0;
        while (off + 9 <= have && off + 9 + ((size_t)in[off] << 16 | (size_t)in[off + 1] << 8 | in[off + 2]) <= have) {
            size_t len = (size_t)in[off] << 16 | (size_t)in[off + 1] << 8 | in[off + 2];
            *goaway |= in[off + 3] == H2_GOAWAY && len >= 8 && (in[off + 13] | in[off + 14] | in[off + 15] | in[off + 16]) == 0;
            off += 9 + len;
        }
        memmove(in, in + off, have - off);
        have -= off;
    }
}

static void stuck_request(PGconn *db)
{
    gateway_t g;
    h_section("SIGTERM with a request stuck on a locked table");
    if (gateway_start(&g, NULL) != 0)
        return;
    const char *user = h_uid("stuck"), *tok = tok_user(user);
    rconn_t stuck = {.fd = connect_to(g.port), .writer = 0, .shot = -1},
            idle = {.fd = connect_to(g.port), .writer = -1, .shot = -1};
    shots_t s = {.v = calloc(4, sizeof(shot_t)), .cap = 4};
    tally_t t = {0};
    send_all(idle.fd, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 42);
    int h2 = connect_to(g.port), goaway = 0; /* an idle HTTP/2 connection: the preface, the server's SETTINGS */
    unsigned char preface[64];
    send_all(h2, (const char *)preface, h2_preface(preface));
    h2_read(h2, 100, &goaway);
    h_sleep_ms(100);
    on_readable(&idle, &s, &t); /* its answer, then it is idle */
    idle.len = 0;
    if (pg_run(db, "begin", NULL, NULL) && pg_run(db, "lock table todo.tasks in access exclusive mode", NULL, NULL)) {
        writer_send(&stuck, &g, user, tok, &s, &t);
        h_sleep_ms(200);
        kill(g.pid, SIGTERM);
        h_sleep_ms(300);
        int fd = connect_to(g.port);
        CHECK(fd < 0 && errno == ECONNREFUSED, "300 ms after SIGTERM, with a request still running, new connections are refused");
        if (fd >= 0)
            close(fd);
        struct pollfd p = {.fd = idle.fd, .events = POLLIN};
        CHECK(poll(&p, 1, 1000) == 1, "the idle keep-alive connection is closed at once");
        on_readable(&idle, &s, &t);
        CHECK(t.closed_idle == 1 && t.resets == 0, "... with a FIN, not a reset");
        int h2_state = h2_read(h2, 1500, &goaway);
        CHECK(goaway, "the idle HTTP/2 connection gets GOAWAY (NO_ERROR)");
        CHECK(h2_state >= 0, "... and no reset");
        pg_run(db, "rollback", NULL, NULL);
        p = (struct pollfd){.fd = stuck.fd, .events = POLLIN};
        for (int i = 0; i < 100 && stuck.shot >= 0 && poll(&p, 1, 100) >= 0; i++)
            if (p.revents)
                on_readable(&stuck, &s, &t);
        CHECK(s.n == 1 && s.v[0].status == 201 && stuck.state == R_CLOSING,
              "the stuck request finishes with 201 and Connection: close (%ld)", s.n ? s.v[0].status : 0);
    }
    int st = 0;
    int ended = gateway_wait_exit(&g, 15000, &st);
    CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 0, "then the gateway exits 0");
    CHECK(h2_read(h2, 1000, &goaway) == 0, "the HTTP/2 connection ends with a FIN, not a reset");
    close(h2);
    conn_drop(&stuck, R_DONE), conn_drop(&idle, R_DONE);
    fault_shots_free(&s);
    gateway_kill(&g);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_sigterm");
    PGconn *db = pg_admin();
    gateway_t g;
    if (db != NULL && gateway_start(&g, NULL) == 0) {
        under_load(&g, db);
        gateway_kill(&g);
        stuck_request(db);
    }
    if (db != NULL)
        PQfinish(db);
    return h_finish();
}
