/*
 * todo-load: a closed-loop load generator for the todo API, sending a different user's
 * token on every request (h2load and wrk send one set of headers for the whole run).
 *
 * It keeps CONNECTIONS x STREAMS requests in flight, STREAMS on each connection (HTTP/2
 * streams over h2c; 1 for HTTP/1.1). As soon as a request completes, the next one goes on
 * the same connection, for a user drawn at random from the users file (and a random task
 * of theirs). It stops sending after --duration seconds or --requests requests, whichever
 * comes first, waits for what is in flight (at most --grace seconds more), then prints one
 * line of key=value pairs:
 *
 *   requests=N seconds=S rps=R ok_rps=R p50_ms= p99_ms= max_ms= first_p99_ms= errors=E statuses=200:N,503:N
 *   transport_errors=N unfinished=N connects=N bytes_per_response=B cpu_s=C
 *
 * requests: completed, whatever their status; seconds: from the first request sent to the
 * last answer; rps: requests / seconds; ok_rps: the same for answers with the expected
 * status; p50/p99/max: latency from the moment a request was sent to its last byte,
 * nearest rank, of every completed request but the first CONNECTIONS x STREAMS (each
 * stream's first, sent all at once at the start: their latency includes connecting, and
 * with 1,000 connections the queue of the whole first wave), whose p99 is first_p99_ms
 * (p50/p99/max fall back to them in a run too short for more); errors: an unexpected status (200 for reads and
 * toggles, 201 for creates), a transport error (a failed or reset request, a lost
 * connection), or a request still in flight at the end of the grace period; connects:
 * connections opened (CONNECTIONS when none was lost); cpu_s: this process's user + system
 * CPU time from the first request sent to the last answer (start-up excluded).
 *
 * Transports, one event loop (epoll) for all connections:
 *   HTTP/1.1  libcurl: one multi handle per connection, allowed exactly one connection.
 *   h2c       nghttp2: HTTP/2 with prior knowledge (RFC 9113 3.3), one session per
 *             connection, 16 MiB flow-control windows so the client never throttles.
 *             (libcurl 7.88.1, Debian 12's, breaks every request that reuses an h2c
 *             prior-knowledge connection, curl issue #10634, and its event-driven HTTP/2
 *             stalls now and then until the server's idle timeout.)
 *
 * The users file has one line per user, tab-separated: user id (URL-safe: letters,
 * digits, '-', '_'), bearer token, the id of the user's first task, the number of tasks
 * (the user's tasks are ids first .. first + count - 1).
 *
 * Workloads (URLs under --url):
 *   list50  GET   /api/{user}/tasks?{--list50-query}
 *   list    GET   /api/{user}/tasks?{--list-query}         (the default page)
 *   get     GET   /api/{user}/tasks/{id}
 *   create  POST  /api/{user}/tasks                        body --create-body
 *   toggle  PATCH /api/{user}/tasks/{id}/complete          body --toggle-body (none if "")
 *   mix     35 % list50, 35 % get, 15 % create, 15 % toggle: 70 % reads, 30 % writes
 *
 * Exit status: 0 when the run completed (errors or not), 1 on a setup failure, 2 on bad
 * usage.
 */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum kind { KIND_LIST50, KIND_LIST, KIND_GET, KIND_CREATE, KIND_TOGGLE, KIND_MIX };
static const char *const kind_names[] = {"list50", "list", "get", "create", "toggle", "mix"};

typedef struct user {
    char *id;
    char *authorization;             /* "Bearer <token>" */
    struct curl_slist *headers;      /* Authorization */
    struct curl_slist *json_headers; /* Authorization, Content-Type: application/json */
    long long first_task, tasks;
} user_t;

/* One request: what to send, and what came back so far. */
typedef struct request {
    enum kind kind;
    const user_t *user;
    const char *method, *body; /* body: NULL for none */
    char path[512];
    double started;
    int first; /* one of the first CONNECTIONS x STREAMS sent: its latency includes connecting */
    size_t bytes;
    int status;
    size_t body_sent; /* h2c: bytes of the body handed to nghttp2 */
} request_t;

/* Latencies, in microseconds. */
typedef struct series {
    uint32_t *us;
    size_t n, cap;
} series_t;

static struct {
    /* options */
    const char *url, *users_path, *create_body, *toggle_body, *list50_query, *list_query;
    enum kind workload;
    int h2c, connections, streams;
    double duration, grace, timeout;
    unsigned long long max_requests;
    uint64_t rng;
    /* state */
    int epfd;
    user_t *users;
    size_t nusers;
    double start, stop_at, last_done, cpu_at_start;
    long inflight;
    unsigned long long sent, done, transport_errors, unexpected, connects, bytes;
    unsigned long long status[600];
    series_t steady, first; /* latencies (µs) of the requests after each stream's first, and of those firsts */
    char first_error[256];
} g;

/* ------------------------------------------------------------------ common */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* This process's user + system CPU time, in seconds. */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* xorshift64*: a fast generator; the draw needs no cryptographic quality. */
static uint64_t next_random(void)
{
    g.rng ^= g.rng >> 12;
    g.rng ^= g.rng << 25;
    g.rng ^= g.rng >> 27;
    return g.rng * 0x2545F4914F6CDD1DULL;
}

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "todo-load: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static void *must(void *p)
{
    if (p == NULL)
        die("%s", "out of memory");
    return p;
}

static int url_safe(const char *s)
{
    if (*s == '\0')
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_'))
            return 0;
    return 1;
}

/* Reads the users file into g.users; exits with a message on any malformed line. */
static void read_users(void)
{
    FILE *f = fopen(g.users_path, "r");
    if (f == NULL)
        die("cannot open the users file %s", g.users_path);
    char *line = NULL;
    size_t cap = 0, alloc = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) > 0) {
        if (line[len - 1] == '\n')
            line[--len] = '\0';
        if (len == 0)
            continue;
        char *save = NULL, *id = strtok_r(line, "\t", &save), *token = strtok_r(NULL, "\t", &save);
        char *first = strtok_r(NULL, "\t", &save), *count = strtok_r(NULL, "\t", &save);
        if (id == NULL || token == NULL || first == NULL || count == NULL || !url_safe(id))
            die("malformed line in the users file: %s", line);
        if (g.nusers == alloc) {
            alloc = alloc ? alloc * 2 : 1024;
            g.users = must(realloc(g.users, alloc * sizeof(*g.users)));
        }
        user_t *u = g.users + g.nusers++;
        char header[4096];
        snprintf(header, sizeof(header), "Authorization: Bearer %s", token);
        u->id = must(strdup(id));
        u->authorization = must(strdup(header + strlen("Authorization: ")));
        u->headers = must(curl_slist_append(NULL, header));
        u->json_headers = must(curl_slist_append(curl_slist_append(NULL, header), "Content-Type: application/json"));
        u->first_task = strtoll(first, NULL, 10);
        u->tasks = strtoll(count, NULL, 10);
        if (u->tasks < 1)
            die("no tasks for user %s", id);
    }
    free(line);
    fclose(f);
    if (g.nusers == 0)
        die("no users in %s", g.users_path);
}

static int may_send(void)
{
    return g.sent < g.max_requests && now() < g.stop_at;
}

/* Draws the next request: a random user, a random task of theirs, the workload's route. */
static void draw(request_t *r)
{
    const user_t *u = g.users + next_random() % g.nusers;
    long long task = u->first_task + (long long)(next_random() % (uint64_t)u->tasks);
    enum kind k = g.workload;
    if (k == KIND_MIX) {
        unsigned n = next_random() % 100;
        k = n < 35 ? KIND_LIST50 : n < 70 ? KIND_GET : n < 85 ? KIND_CREATE : KIND_TOGGLE;
    }
    r->kind = k;
    r->user = u;
    r->method = "GET";
    r->body = NULL;
    switch (k) {
    case KIND_LIST50:
    case KIND_LIST: {
        const char *q = k == KIND_LIST50 ? g.list50_query : g.list_query;
        snprintf(r->path, sizeof(r->path), "/api/%s/tasks%s%s", u->id, *q ? "?" : "", q);
        break;
    }
    case KIND_GET:
        snprintf(r->path, sizeof(r->path), "/api/%s/tasks/%lld", u->id, task);
        break;
    case KIND_CREATE:
        snprintf(r->path, sizeof(r->path), "/api/%s/tasks", u->id);
        r->method = "POST";
        r->body = g.create_body;
        break;
    case KIND_TOGGLE:
        snprintf(r->path, sizeof(r->path), "/api/%s/tasks/%lld/complete", u->id, task);
        r->method = "PATCH";
        r->body = *g.toggle_body ? g.toggle_body : NULL;
        break;
    case KIND_MIX:
        break;
    }
    r->bytes = 0;
    r->status = 0;
    r->body_sent = 0;
    r->started = now();
    r->first = g.sent < (unsigned long long)g.connections * (unsigned long long)g.streams;
    g.sent++;
    g.inflight++;
}

/* Records a finished request: status > 0, or a transport error described by error. */
static void record(request_t *r, const char *error)
{
    double done_at = now(), us = (done_at - r->started) * 1e6;
    series_t *l = r->first ? &g.first : &g.steady;
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 1 << 16;
        l->us = must(realloc(l->us, l->cap * sizeof(*l->us)));
    }
    l->us[l->n++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    g.inflight--;
    g.done++;
    g.last_done = done_at;
    g.bytes += r->bytes;
    if (error != NULL || r->status <= 0 || r->status >= 600) {
        if (g.transport_errors++ == 0)
            snprintf(g.first_error, sizeof(g.first_error), "%s", error ? error : "no status");
        return;
    }
    g.status[r->status]++;
    if (r->status != (r->kind == KIND_CREATE ? 201 : 200))
        g.unexpected++;
}

/* ------------------------------------------------------------------ HTTP/1.1: libcurl */

typedef struct h1conn {
    CURLM *multi;
    CURL *easy;
    double deadline; /* when libcurl wants its timeout action; 0: none */
    request_t req;
    char url[1024];
} h1conn_t;

typedef struct h1sock {
    curl_socket_t fd; /* -1 once libcurl removed it; freed after the current batch */
    h1conn_t *conn;
    struct h1sock *next_dead;
} h1sock_t;

static h1conn_t *h1conns;
static h1sock_t *h1dead;

static size_t h1_on_body(char *data, size_t size, size_t n, void *userp)
{
    (void)data;
    ((h1conn_t *)userp)->req.bytes += size * n;
    return size * n;
}

static int h1_on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    h1conn_t *c = userp;
    h1sock_t *s = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            epoll_ctl(g.epfd, EPOLL_CTL_DEL, fd, NULL);
            s->fd = -1;
            s->next_dead = h1dead;
            h1dead = s;
        }
        return 0;
    }
    struct epoll_event ev = {.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0)};
    if (s == NULL) {
        s = must(calloc(1, sizeof(*s)));
        s->fd = fd;
        s->conn = c;
        ev.data.ptr = s;
        curl_multi_assign(c->multi, fd, s);
        if (epoll_ctl(g.epfd, EPOLL_CTL_ADD, fd, &ev) != 0 && errno == EEXIST)
            epoll_ctl(g.epfd, EPOLL_CTL_MOD, fd, &ev);
    } else {
        ev.data.ptr = s;
        epoll_ctl(g.epfd, EPOLL_CTL_MOD, fd, &ev);
    }
    return 0;
}

static int h1_on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    h1conn_t *c = userp;
    (void)multi;
    c->deadline = timeout_ms < 0 ? 0 : now() + timeout_ms / 1000.0;
    return 0;
}

static void h1_send(h1conn_t *c)
{
    CURL *e = c->easy;
    draw(&c->req);
    snprintf(c->url, sizeof(c->url), "%s%s", g.url, c->req.path);
    curl_easy_setopt(e, CURLOPT_URL, c->url);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L); /* back to a bodiless GET, then adjust */
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, strcmp(c->req.method, "PATCH") == 0 ? "PATCH" : NULL);
    if (c->req.body != NULL) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(c->req.body));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, c->req.body);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->req.user->json_headers);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, c->req.user->headers);
    }
    CURLMcode rc = curl_multi_add_handle(c->multi, e);
    if (rc != CURLM_OK)
        die("curl_multi_add_handle: %s", curl_multi_strerror(rc));
}

/* Takes the finished request of one connection and sends the next one. */
static void h1_collect(h1conn_t *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURLcode result = m->data.result;
        long code = 0, version = 0, connects = 0;
        curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(c->easy, CURLINFO_HTTP_VERSION, &version);
        curl_easy_getinfo(c->easy, CURLINFO_NUM_CONNECTS, &connects);
        g.connects += connects;
        c->req.status = (int)code;
        record(&c->req, result != CURLE_OK             ? curl_easy_strerror(result)
                        : version != CURL_HTTP_VERSION_1_1 ? "answered in another HTTP version"
                                                           : NULL);
        curl_multi_remove_handle(c->multi, c->easy);
        if (may_send())
            h1_send(c);
    }
}

static void h1_setup(void)
{
    h1conns = must(calloc(g.connections, sizeof(*h1conns)));
    for (int i = 0; i < g.connections; i++) {
        h1conn_t *c = h1conns + i;
        if ((c->multi = curl_multi_init()) == NULL || (c->easy = curl_easy_init()) == NULL)
            die("%s", "libcurl initialisation failed");
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, h1_on_socket);
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, h1_on_timer);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 1L);
        curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 1L);
        curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, h1_on_body);
        curl_easy_setopt(c->easy, CURLOPT_WRITEDATA, c);
        curl_easy_setopt(c->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c->easy, CURLOPT_TIMEOUT_MS, (long)(g.timeout * 1000));
        curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
    }
}

static void h1_event(struct epoll_event *ev)
{
    h1sock_t *s = ev->data.ptr;
    int running;
    if (s->fd < 0)
        return; /* removed while handling an earlier event of this batch */
    h1conn_t *c = s->conn;
    int flags = ((ev->events & EPOLLIN) ? CURL_CSELECT_IN : 0) | ((ev->events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                ((ev->events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
    curl_multi_socket_action(c->multi, s->fd, flags, &running);
    h1_collect(c);
}

/* The earliest libcurl timer, or limit. */
static double h1_next_deadline(double limit)
{
    for (int i = 0; i < g.connections; i++)
        if (h1conns[i].deadline != 0 && h1conns[i].deadline < limit)
            limit = h1conns[i].deadline;
    return limit;
}

static void h1_timers(void)
{
    double t = now();
    int running;
    for (int i = 0; i < g.connections; i++) {
        h1conn_t *c = h1conns + i;
        if (c->deadline != 0 && c->deadline <= t) {
            c->deadline = 0;
            curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
            h1_collect(c);
        }
    }
    while (h1dead != NULL) {
        h1sock_t *s = h1dead;
        h1dead = s->next_dead;
        free(s);
    }
}

static void h1_cleanup(void)
{
    for (int i = 0; i < g.connections; i++) {
        curl_multi_remove_handle(h1conns[i].multi, h1conns[i].easy);
        curl_easy_cleanup(h1conns[i].easy);
        curl_multi_cleanup(h1conns[i].multi);
    }
    h1_timers(); /* frees the sockets libcurl removed */
    free(h1conns);
}

/* ------------------------------------------------------------------ h2c: nghttp2 */

typedef struct h2conn {
    int fd; /* -1: not connected */
    nghttp2_session *session;
    uint32_t events;   /* registered with epoll */
    uint8_t *out;      /* bytes nghttp2 produced that the socket did not take yet */
    size_t out_len, out_cap;
    request_t *slots;  /* g.streams of them */
    int *slot_in_use;
} h2conn_t;

static h2conn_t *h2conns;
static struct sockaddr_storage h2addr;
static socklen_t h2addr_len;
static char h2authority[300];
static const size_t H2_WINDOW = 16 << 20;

static int h2_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t namelen,
                        const uint8_t *value, size_t valuelen, uint8_t flags, void *user_data)
{
    (void)flags, (void)user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || namelen != 7 || memcmp(name, ":status", 7) != 0)
        return 0;
    request_t *r = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (r != NULL && valuelen == 3)
        r->status = (value[0] - '0') * 100 + (value[1] - '0') * 10 + (value[2] - '0');
    return 0;
}

static int h2_on_data(nghttp2_session *session, uint8_t flags, int32_t stream_id, const uint8_t *data, size_t len,
                      void *user_data)
{
    (void)flags, (void)data, (void)user_data;
    request_t *r = nghttp2_session_get_stream_user_data(session, stream_id);
    if (r != NULL)
        r->bytes += len;
    return 0;
}

static ssize_t h2_read_body(nghttp2_session *session, int32_t stream_id, uint8_t *buf, size_t length,
                            uint32_t *data_flags, nghttp2_data_source *source, void *user_data)
{
    (void)session, (void)stream_id, (void)user_data;
    request_t *r = source->ptr;
    size_t left = strlen(r->body) - r->body_sent, n = left < length ? left : length;
    memcpy(buf, r->body + r->body_sent, n);
    r->body_sent += n;
    if (r->body_sent == strlen(r->body))
        *data_flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static void h2_send(h2conn_t *c, int slot);

static int h2_on_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code, void *user_data)
{
    h2conn_t *c = user_data;
    request_t *r = nghttp2_session_get_stream_user_data(session, stream_id);
    if (r == NULL)
        return 0;
    int slot = (int)(r - c->slots);
    c->slot_in_use[slot] = 0;
    record(r, error_code != NGHTTP2_NO_ERROR ? nghttp2_http2_strerror(error_code) : NULL);
    if (may_send())
        h2_send(c, slot);
    return 0;
}

static void h2_watch(h2conn_t *c, uint32_t events)
{
    if (events == c->events)
        return;
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(g.epfd, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = events;
}

/* Writes what nghttp2 has to send; keeps what the socket does not take. Returns -1 when the
 * connection failed. */
static int h2_flush(h2conn_t *c)
{
    for (;;) {
        while (c->out_len > 0) {
            ssize_t n = send(c->fd, c->out, c->out_len, MSG_NOSIGNAL);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                h2_watch(c, EPOLLIN | EPOLLOUT);
                return 0;
            }
            if (n < 0)
                return -1;
            memmove(c->out, c->out + n, c->out_len - n);
            c->out_len -= n;
        }
        const uint8_t *data;
        ssize_t n = nghttp2_session_mem_send(c->session, &data);
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        if (c->out_cap < (size_t)n) {
            c->out_cap = (size_t)n * 2;
            c->out = must(realloc(c->out, c->out_cap));
        }
        memcpy(c->out, data, n);
        c->out_len = n;
    }
    h2_watch(c, EPOLLIN);
    return 0;
}

/* Sends the next request on stream slot `slot` of c. */
static void h2_send(h2conn_t *c, int slot)
{
    request_t *r = c->slots + slot;
    draw(r);
#define NV(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE}
    char length[24];
    nghttp2_nv headers[7] = {
        NV(":method", r->method), NV(":scheme", "http"), NV(":authority", h2authority), NV(":path", r->path),
        NV("authorization", r->user->authorization),
    };
    size_t n = 5;
    nghttp2_data_provider body = {.source.ptr = r, .read_callback = h2_read_body};
    if (r->body != NULL) {
        snprintf(length, sizeof(length), "%zu", strlen(r->body));
        headers[n++] = (nghttp2_nv)NV("content-type", "application/json");
        headers[n++] = (nghttp2_nv)NV("content-length", length);
    }
#undef NV
    if (nghttp2_submit_request(c->session, NULL, headers, n, r->body ? &body : NULL, r) < 0)
        die("%s", "nghttp2_submit_request failed");
    c->slot_in_use[slot] = 1;
}

static void h2_connect(h2conn_t *c)
{
    static nghttp2_session_callbacks *callbacks;
    if (callbacks == NULL) {
        if (nghttp2_session_callbacks_new(&callbacks) != 0)
            die("%s", "out of memory");
        nghttp2_session_callbacks_set_on_header_callback(callbacks, h2_on_header);
        nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, h2_on_data);
        nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, h2_on_close);
    }
    c->fd = socket(h2addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (c->fd < 0 || setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
        die("socket: %s", strerror(errno));
    if (connect(c->fd, (struct sockaddr *)&h2addr, h2addr_len) != 0 && errno != EINPROGRESS)
        die("connect: %s", strerror(errno));
    g.connects++;
    c->events = EPOLLIN | EPOLLOUT;
    struct epoll_event ev = {.events = c->events, .data.ptr = c};
    epoll_ctl(g.epfd, EPOLL_CTL_ADD, c->fd, &ev);
    nghttp2_settings_entry settings[] = {
        {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, H2_WINDOW},
    };
    if (nghttp2_session_client_new(&c->session, callbacks, c) != 0 ||
        nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, settings, 2) != 0 ||
        nghttp2_session_set_local_window_size(c->session, NGHTTP2_FLAG_NONE, 0, H2_WINDOW) != 0)
        die("%s", "nghttp2 session set-up failed");
    c->out_len = 0;
}

/* A lost connection: its requests are transport errors; a new connection takes its place. */
static void h2_lost(h2conn_t *c, const char *why)
{
    epoll_ctl(g.epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    for (int i = 0; i < g.streams; i++)
        if (c->slot_in_use[i]) {
            c->slot_in_use[i] = 0;
            record(c->slots + i, why);
        }
    nghttp2_session_del(c->session);
    c->session = NULL;
    if (!may_send())
        return;
    h2_connect(c);
    for (int i = 0; i < g.streams && may_send(); i++)
        h2_send(c, i);
}

static void h2_setup(void)
{
    CURLU *u = curl_url();
    char *host = NULL, *port = NULL;
    if (u == NULL || curl_url_set(u, CURLUPART_URL, g.url, 0) != CURLUE_OK || curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) != CURLUE_OK)
        die("cannot parse --url %s", g.url);
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *ai;
    if (getaddrinfo(host, port, &hints, &ai) != 0)
        die("cannot resolve %s", host);
    memcpy(&h2addr, ai->ai_addr, ai->ai_addrlen);
    h2addr_len = ai->ai_addrlen;
    freeaddrinfo(ai);
    snprintf(h2authority, sizeof(h2authority), "%s:%s", host, port);
    curl_free(host);
    curl_free(port);
    curl_url_cleanup(u);
    h2conns = must(calloc(g.connections, sizeof(*h2conns)));
    for (int i = 0; i < g.connections; i++) {
        h2conns[i].fd = -1;
        h2conns[i].slots = must(calloc(g.streams, sizeof(request_t)));
        h2conns[i].slot_in_use = must(calloc(g.streams, sizeof(int)));
    }
}

static void h2_event(struct epoll_event *ev)
{
    h2conn_t *c = ev->data.ptr;
    if (c->fd < 0)
        return;
    if (ev->events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
        uint8_t buf[65536];
        for (;;) {
            ssize_t n = recv(c->fd, buf, sizeof(buf), 0);
            if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                break;
            if (n <= 0) {
                h2_lost(c, n == 0 ? "connection closed by the server" : strerror(errno));
                return;
            }
            if (nghttp2_session_mem_recv(c->session, buf, n) < 0) {
                h2_lost(c, "HTTP/2 protocol error");
                return;
            }
        }
    }
    if (h2_flush(c) != 0)
        h2_lost(c, strerror(errno));
    else if (!nghttp2_session_want_read(c->session) && !nghttp2_session_want_write(c->session))
        h2_lost(c, "the server ended the HTTP/2 session (GOAWAY)");
}

static void h2_cleanup(void)
{
    for (int i = 0; i < g.connections; i++) {
        h2conn_t *c = h2conns + i;
        if (c->fd >= 0)
            close(c->fd);
        nghttp2_session_del(c->session);
        free(c->out);
        free(c->slots);
        free(c->slot_in_use);
    }
    free(h2conns);
}

/* ------------------------------------------------------------------ the run */

static void run(void)
{
    struct epoll_event events[512];
    g.cpu_at_start = cpu_seconds();
    g.start = g.last_done = now();
    g.stop_at = g.start + g.duration;
    for (int i = 0; i < g.connections && may_send(); i++) {
        if (g.h2c) {
            h2_connect(h2conns + i);
            for (int s = 0; s < g.streams && may_send(); s++)
                h2_send(h2conns + i, s);
        } else {
            h1_send(h1conns + i);
        }
    }
    while (g.inflight > 0 && now() <= g.stop_at + g.grace) {
        double t = now(), next = g.h2c ? t + 0.05 : h1_next_deadline(t + 0.05);
        int wait_ms = next > t ? (int)ceil((next - t) * 1000) : 0;
        int ready = epoll_wait(g.epfd, events, sizeof(events) / sizeof(events[0]), wait_ms);
        if (ready < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < ready; i++) {
            if (g.h2c)
                h2_event(events + i);
            else
                h1_event(events + i);
        }
        if (!g.h2c)
            h1_timers();
    }
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted latencies, in milliseconds (0 when there are none). */
static double percentile_ms(const series_t *l, double p)
{
    if (l->n == 0)
        return 0;
    size_t rank = (size_t)ceil(p * l->n);
    return l->us[(rank ? rank : 1) - 1] / 1000.0;
}

static void report(void)
{
    double cpu = cpu_seconds() - g.cpu_at_start;
    double secs = g.last_done - g.start;
    unsigned long long unfinished = (unsigned long long)g.inflight;
    qsort(g.steady.us, g.steady.n, sizeof(*g.steady.us), by_value);
    qsort(g.first.us, g.first.n, sizeof(*g.first.us), by_value);
    const series_t *l = g.steady.n > 0 ? &g.steady : &g.first; /* a run too short for more than the firsts */
    unsigned long long ok = g.done - g.unexpected - g.transport_errors;
    printf("requests=%llu seconds=%.3f rps=%.1f ok_rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f first_p99_ms=%.3f errors=%llu "
           "statuses=",
           g.done, secs, secs > 0 ? g.done / secs : 0, secs > 0 ? ok / secs : 0, percentile_ms(l, 0.50), percentile_ms(l, 0.99),
           percentile_ms(l, 1.0), percentile_ms(&g.first, 0.99), g.unexpected + g.transport_errors + unfinished);
    int first = 1;
    for (int code = 0; code < 600; code++)
        if (g.status[code] != 0)
            printf("%s%d:%llu", first ? "" : ",", code, g.status[code]), first = 0;
    printf("%s transport_errors=%llu unfinished=%llu connects=%llu bytes_per_response=%.0f cpu_s=%.3f\n", first ? "-" : "",
           g.transport_errors, unfinished, g.connects, g.done ? (double)g.bytes / g.done : 0, cpu);
    fflush(stdout);
    if (g.transport_errors != 0)
        fprintf(stderr, "todo-load: first transport error: %s\n", g.first_error);
}

static void usage(const char *argv0, int status)
{
    fprintf(status ? stderr : stdout,
            "usage: %s --url http://127.0.0.1:PORT --users FILE --workload list50|list|get|create|toggle|mix\n"
            "          [--http 1.1|h2c] [--connections N] [--streams S] [--duration SECONDS]\n"
            "          [--requests COUNT] [--grace SECONDS] [--timeout SECONDS] [--seed N]\n"
            "          [--list50-query Q] [--list-query Q] [--create-body JSON] [--toggle-body JSON]\n"
            "defaults: --http 1.1 --connections 8 --streams 1 --duration 10 --requests 1000000\n"
            "          --grace 30 --timeout 30 (HTTP/1.1 only) --list50-query limit=50 --list-query ''\n"
            "          --create-body '{\"title\":\"Buy milk\"}' --toggle-body '' (no body)\n",
            argv0);
    exit(status);
}

static double parse_number(const char *name, const char *s, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max)) {
        fprintf(stderr, "todo-load: --%s: expected a number from %g to %g, got '%s'\n", name, min, max, s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"url", required_argument, NULL, 'u'},         {"users", required_argument, NULL, 'U'},
        {"workload", required_argument, NULL, 'w'},    {"http", required_argument, NULL, 'H'},
        {"connections", required_argument, NULL, 'c'}, {"streams", required_argument, NULL, 'm'},
        {"duration", required_argument, NULL, 'd'},    {"requests", required_argument, NULL, 'n'},
        {"grace", required_argument, NULL, 'g'},       {"timeout", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},        {"list50-query", required_argument, NULL, 'L'},
        {"list-query", required_argument, NULL, 'l'},  {"create-body", required_argument, NULL, 'b'},
        {"toggle-body", required_argument, NULL, 'B'}, {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int opt, workload = -1;
    g.connections = 8, g.streams = 1, g.duration = 10, g.max_requests = 1000000, g.grace = 30, g.timeout = 30;
    g.list50_query = "limit=50", g.list_query = "", g.create_body = "{\"title\":\"Buy milk\"}", g.toggle_body = "";
    g.rng = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (opt) {
        case 'u': g.url = optarg; break;
        case 'U': g.users_path = optarg; break;
        case 'w':
            for (int k = 0; k <= KIND_MIX; k++)
                if (strcmp(optarg, kind_names[k]) == 0)
                    workload = k;
            if (workload < 0)
                usage(argv[0], 2);
            break;
        case 'H':
            if (strcmp(optarg, "h2c") != 0 && strcmp(optarg, "1.1") != 0)
                usage(argv[0], 2);
            g.h2c = strcmp(optarg, "h2c") == 0;
            break;
        case 'c': g.connections = (int)parse_number("connections", optarg, 1, 100000); break;
        case 'm': g.streams = (int)parse_number("streams", optarg, 1, 10000); break;
        case 'd': g.duration = parse_number("duration", optarg, 0.001, 86400); break;
        case 'n': g.max_requests = (unsigned long long)parse_number("requests", optarg, 1, 1e12); break;
        case 'g': g.grace = parse_number("grace", optarg, 0, 3600); break;
        case 't': g.timeout = parse_number("timeout", optarg, 0.001, 3600); break;
        case 's': g.rng = (uint64_t)parse_number("seed", optarg, 1, 1e18); break;
        case 'L': g.list50_query = optarg; break;
        case 'l': g.list_query = optarg; break;
        case 'b': g.create_body = optarg; break;
        case 'B': g.toggle_body = optarg; break;
        case 'h': usage(argv[0], 0); break;
        default: usage(argv[0], 2);
        }
    }
    if (g.url == NULL || g.users_path == NULL || workload < 0 || optind != argc)
        usage(argv[0], 2);
    if (!g.h2c && g.streams != 1) {
        fprintf(stderr, "todo-load: HTTP/1.1 carries one request at a time per connection: --streams must be 1\n");
        return 2;
    }
    if (g.rng == 0)
        g.rng = 1;
    g.workload = workload;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("%s", "curl_global_init failed");
    if ((g.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1: %s", strerror(errno));
    read_users();
    if (g.h2c)
        h2_setup();
    else
        h1_setup();
    run();
    report();
    if (g.h2c)
        h2_cleanup();
    else
        h1_cleanup();
    for (size_t i = 0; i < g.nusers; i++) {
        free(g.users[i].id);
        free(g.users[i].authorization);
        curl_slist_free_all(g.users[i].headers);
        curl_slist_free_all(g.users[i].json_headers);
    }
    free(g.users);
    free(g.steady.us);
    free(g.first.us);
    close(g.epfd);
    curl_global_cleanup();
    return 0;
}
