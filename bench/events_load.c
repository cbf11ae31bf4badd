/*
 * todo-events-load: the event streams' benchmark client (bench/events). Opens CONNECTIONS h2c
 * connections (HTTP/2 with prior knowledge, nghttp2) x STREAMS streams of
 * GET /api/{user}/events, the users taken in turn from USERS_FILE (so each user has
 * CONNECTIONS x STREAMS / users streams, spread over connections), one connection's streams
 * after the other's first bytes came, reads the gateway's RSS (/proc/PID/status), then makes WRITES task
 * creations one after the other on another h2c connection, each for the next user, and times
 * each one's delivery on every stream of that user: from the moment the POST was handed to the
 * socket to the moment its event arrived (an upper bound of the gateway's part: the write's
 * own time is in it). Bounded: 60 s to open, 5 s per write.
 *
 *   todo-events-load PORT USERS_FILE CONNECTIONS STREAMS WRITES GATEWAY_PID
 *
 * USERS_FILE: "user_id<TAB>token..." lines (bench/tokens.py's). Prints a few "name value"
 * lines for bench/events.
 */
#define _GNU_SOURCE /* memmem */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

typedef struct user {
    char *id, *token;
    int nstreams, delivered, writing;
    double write_sent;
} user_t;

typedef struct conn {
    int fd;
    nghttp2_session *s;
    uint8_t *out;
    size_t out_len;
} conn_t;

typedef struct stream {
    user_t *u; /* NULL: the writer's POST */
    int got_first, closed;
} stream_t;

static user_t *users;
static size_t nusers;
static int epfd, port, opened, failed, closed_early, write_done;
static double *samples;
static size_t nsamples;

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void die(const char *what)
{
    fprintf(stderr, "todo-events-load: %s: %s\n", what, strerror(errno));
    exit(1);
}

static long rss_kib(const char *pid)
{
    char path[64], line[256];
    long kib = -1;
    snprintf(path, sizeof(path), "/proc/%s/status", pid);
    FILE *f = fopen(path, "r");
    while (f != NULL && fgets(line, sizeof(line), f) != NULL)
        if (strncmp(line, "VmRSS:", 6) == 0)
            kib = atol(line + 6);
    if (f != NULL)
        fclose(f);
    return kib;
}

static void read_users(const char *file)
{
    FILE *f = fopen(file, "r");
    char line[4096];
    if (f == NULL)
        die(file);
    while (fgets(line, sizeof(line), f) != NULL) {
        char *tab = strchr(line, '\t'), *end;
        if (tab == NULL)
            continue;
        *tab = '\0';
        end = strpbrk(tab + 1, "\t\n");
        if (end != NULL)
            *end = '\0';
        users = realloc(users, (nusers + 1) * sizeof(*users));
        users[nusers++] = (user_t){.id = strdup(line), .token = strdup(tab + 1)};
    }
    fclose(f);
}

/* ---- nghttp2 ---- */

static int on_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *data, size_t len, void *ud)
{
    stream_t *st = nghttp2_session_get_stream_user_data(s, id);
    (void)flags, (void)ud;
    if (st == NULL || st->u == NULL)
        return 0;
    if (!st->got_first)
        st->got_first = 1, opened++;
    if (st->u->writing && memmem(data, len, "event: task.created", 19) != NULL) {
        samples[nsamples++] = (now() - st->u->write_sent) * 1000;
        st->u->delivered++;
    }
    return 0;
}

static int on_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    stream_t *st = nghttp2_session_get_stream_user_data(s, id);
    (void)code, (void)ud;
    if (st == NULL)
        return 0;
    if (st->u == NULL) {
        write_done = 1;
        free(st);
        return 0;
    }
    st->closed = 1;
    if (!st->got_first)
        failed++;
    else
        closed_early++;
    return 0;
}

static void flush(conn_t *c)
{
    for (;;) {
        if (c->out_len == 0) {
            const uint8_t *data;
            ssize_t n = nghttp2_session_mem_send(c->s, &data);
            if (n <= 0)
                return;
            c->out = realloc(c->out, (size_t)n);
            memcpy(c->out, data, (size_t)n);
            c->out_len = (size_t)n;
        }
        ssize_t w = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
        if (w < 0) {
            struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.ptr = c};
            epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev); /* EAGAIN: the rest when writable */
            return;
        }
        memmove(c->out, c->out + w, c->out_len - (size_t)w);
        c->out_len -= (size_t)w;
    }
}

static void connect_one(conn_t *c)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1;
    inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
    if ((c->fd = socket(AF_INET, SOCK_STREAM, 0)) < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof(a)) != 0)
        die("connect");
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    fcntl(c->fd, F_SETFL, O_NONBLOCK);
    nghttp2_session_callbacks *cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_client_new(&c->s, cb, c);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry set[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 1000}};
    nghttp2_submit_settings(c->s, NGHTTP2_FLAG_NONE, set, 1);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}

static void submit(conn_t *c, const char *method, const char *path, const char *token, stream_t *st, nghttp2_data_provider *body)
{
    char authority[32], auth[4200];
    snprintf(authority, sizeof(authority), "127.0.0.1:%d", port);
    snprintf(auth, sizeof(auth), "Bearer %s", token);
    nghttp2_nv h[] = {NV(":method", method), NV(":scheme", "http"), NV(":authority", authority), NV(":path", path),
                      NV("authorization", auth), NV("content-type", "application/json")};
    if (nghttp2_submit_request(c->s, NULL, h, body ? 6 : 5, body, st) < 0)
        die("nghttp2_submit_request");
}

static ssize_t read_body(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags, nghttp2_data_source *src, void *ud)
{
    static const char body[] = "{\"title\": \"bench event\"}";
    (void)s, (void)id, (void)src, (void)ud, (void)len;
    memcpy(buf, body, sizeof(body) - 1);
    *flags |= NGHTTP2_DATA_FLAG_EOF;
    return sizeof(body) - 1;
}

/* Reads and writes whatever is ready, for up to ms. */
static void pump(int ms)
{
    struct epoll_event evs[64];
    int n = epoll_wait(epfd, evs, 64, ms);
    for (int i = 0; i < n; i++) {
        conn_t *c = evs[i].data.ptr;
        uint8_t buf[65536];
        ssize_t r;
        while ((r = recv(c->fd, buf, sizeof(buf), 0)) > 0)
            if (nghttp2_session_mem_recv(c->s, buf, (size_t)r) < 0)
                break;
        if (r == 0) {
            epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
            continue;
        }
        struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
        epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
        flush(c);
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(double *v, size_t n, double p)
{
    if (n == 0)
        return -1;
    qsort(v, n, sizeof(*v), cmp);
    return v[(size_t)(p * (double)(n - 1) + 0.5)];
}

int main(int argc, char **argv)
{
    if (argc != 7) {
        fprintf(stderr, "usage: todo-events-load PORT USERS_FILE CONNECTIONS STREAMS WRITES GATEWAY_PID\n");
        return 2;
    }
    port = atoi(argv[1]);
    read_users(argv[2]);
    int nconns = atoi(argv[3]), per = atoi(argv[4]), writes = atoi(argv[5]), total = nconns * per;
    if (nusers == 0 || nconns < 1 || per < 1 || writes < 0)
        return 2;
    long rss_before = rss_kib(argv[6]);
    epfd = epoll_create1(0);
    conn_t *conns = calloc((size_t)nconns + 1, sizeof(*conns));
    size_t k = 0;
    double t0 = now();
    for (int i = 0; i < nconns; i++) { /* a connection's streams open before the next connection's: clients arrive over time */
        connect_one(&conns[i]);
        for (int j = 0; j < per; j++, k++) {
            stream_t *st = calloc(1, sizeof(*st));
            st->u = &users[k % nusers];
            st->u->nstreams++;
            char path[300];
            snprintf(path, sizeof(path), "/api/%s/events", st->u->id);
            submit(&conns[i], "GET", path, st->u->token, st, NULL);
        }
        flush(&conns[i]);
        while (opened + failed < (i + 1) * per && now() - t0 < 60)
            pump(50);
    }
    double open_s = now() - t0;
    long rss_open = rss_kib(argv[6]);

    samples = calloc((size_t)writes * (total / nusers + 1) + 1, sizeof(*samples));
    conn_t *w = &conns[nconns];
    connect_one(w);
    int missing = 0;
    for (int i = 0; i < writes; i++) {
        user_t *u = &users[(size_t)i % nusers];
        char path[300];
        snprintf(path, sizeof(path), "/api/%s/tasks", u->id);
        stream_t *st = calloc(1, sizeof(*st));
        nghttp2_data_provider body = {.read_callback = read_body};
        u->delivered = 0, u->writing = 1, write_done = 0;
        submit(w, "POST", path, u->token, st, &body);
        u->write_sent = now();
        flush(w);
        while ((u->delivered < u->nstreams || !write_done) && now() - u->write_sent < 5)
            pump(5);
        missing += u->nstreams - u->delivered;
        u->writing = 0;
        double pause = now();
        while (now() - pause < 0.01)
            pump(2);
    }
    long rss_after = rss_kib(argv[6]);
    printf("streams %d\nopened %d\nfailed %d\nclosed_early %d\nopen_seconds %.2f\n", total, opened, failed, closed_early, open_s);
    printf("rss_before_kib %ld\nrss_open_kib %ld\nrss_after_kib %ld\n", rss_before, rss_open, rss_after);
    printf("writes %d\ndeliveries %zu\nmissing %d\n", writes, nsamples, missing);
    printf("delivery_p50_ms %.2f\ndelivery_p99_ms %.2f\ndelivery_max_ms %.2f\n", pct(samples, nsamples, 0.5),
           pct(samples, nsamples, 0.99), pct(samples, nsamples, 1));
    return failed > 0 || missing > 0 ? 1 : 0;
}
