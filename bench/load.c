/*
 * todo-load: a closed-loop load generator for the todo API, sending a different user's
 * token on every request (h2load and wrk send one set of headers for the whole run).
 *
 * It keeps CONNECTIONS x STREAMS requests in flight: each connection is a libcurl multi
 * handle allowed exactly one connection, carrying STREAMS requests at once (HTTP/2
 * streams over h2c with prior knowledge, RFC 9113 3.3; 1 for HTTP/1.1). As soon as a
 * request completes, the next one goes on the same connection, for a user drawn at random
 * from the users file. It stops sending after --duration seconds or --requests requests,
 * whichever comes first, waits for what is in flight (at most --grace seconds more), then
 * prints one line of key=value pairs:
 *
 *   requests=N seconds=S rps=R p50_ms= p99_ms= max_ms= errors=E statuses=200:N,503:N
 *   transport_errors=N unfinished=N connects=N bytes_per_response=B cpu_s=C
 *
 * requests: completed, whatever their status; seconds: from the first request sent to the
 * last answer; p50/p99/max: latency of every completed request, from the moment it was
 * handed to libcurl to its last byte, nearest rank; errors: an unexpected status (200 for
 * reads and toggles, 201 for creates), a transport error, or a request still in flight at
 * the end of the grace period; connects: connections libcurl opened (CONNECTIONS when none
 * was lost); cpu_s: this process's user + system CPU time (getrusage).
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
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

enum kind { KIND_LIST50, KIND_LIST, KIND_GET, KIND_CREATE, KIND_TOGGLE, KIND_MIX };
static const char *const kind_names[] = {"list50", "list", "get", "create", "toggle", "mix"};

typedef struct user {
    char *id;
    struct curl_slist *headers;      /* Authorization */
    struct curl_slist *json_headers; /* Authorization, Content-Type: application/json */
    long long first_task, tasks;
} user_t;

typedef struct conn {
    CURLM *multi;
    double deadline; /* when libcurl wants its timeout action; 0: none */
} conn_t;

typedef struct xfer {
    CURL *easy;
    conn_t *conn;
    double started;
    size_t bytes;
    enum kind kind;
    char url[1024];
} xfer_t;

typedef struct sock {
    curl_socket_t fd; /* -1 once libcurl removed it; freed after the current batch */
    conn_t *conn;
    struct sock *next_dead;
} sock_t;

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
    conn_t *conns;
    xfer_t *xfers;
    sock_t *dead;
    double start, stop_at, last_done;
    long inflight;
    unsigned long long sent, done, transport_errors, unexpected, connects, bytes;
    unsigned long long status[600];
    uint32_t *latency_us;
    size_t nlatency, latency_cap;
    char first_error[CURL_ERROR_SIZE + 64];
} g;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
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
            if ((g.users = realloc(g.users, alloc * sizeof(*g.users))) == NULL)
                die("%s", "out of memory");
        }
        user_t *u = g.users + g.nusers++;
        char header[4096];
        snprintf(header, sizeof(header), "Authorization: Bearer %s", token);
        u->id = strdup(id);
        u->headers = curl_slist_append(NULL, header);
        u->json_headers = curl_slist_append(curl_slist_append(NULL, header), "Content-Type: application/json");
        u->first_task = strtoll(first, NULL, 10);
        u->tasks = strtoll(count, NULL, 10);
        if (u->id == NULL || u->headers == NULL || u->json_headers == NULL || u->tasks < 1)
            die("bad user line (no tasks, or out of memory) for %s", id);
    }
    free(line);
    fclose(f);
    if (g.nusers == 0)
        die("no users in %s", g.users_path);
}

static size_t on_body(char *data, size_t size, size_t n, void *userp)
{
    (void)data;
    ((xfer_t *)userp)->bytes += size * n;
    return size * n;
}

static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
    conn_t *c = userp;
    sock_t *s = socketp;
    (void)easy;
    if (what == CURL_POLL_REMOVE) {
        if (s != NULL) {
            epoll_ctl(g.epfd, EPOLL_CTL_DEL, fd, NULL);
            s->fd = -1;
            s->next_dead = g.dead;
            g.dead = s;
        }
        return 0;
    }
    struct epoll_event ev = {.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0)};
    if (s == NULL) {
        if ((s = calloc(1, sizeof(*s))) == NULL)
            die("%s", "out of memory");
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

static int on_timer(CURLM *multi, long timeout_ms, void *userp)
{
    conn_t *c = userp;
    (void)multi;
    c->deadline = timeout_ms < 0 ? 0 : now() + timeout_ms / 1000.0;
    return 0;
}

static int may_send(void)
{
    return g.sent < g.max_requests && now() < g.stop_at;
}

/* Sends the next request on x's connection: a random user, a random task of theirs. */
static void send_request(xfer_t *x)
{
    user_t *u = g.users + next_random() % g.nusers;
    long long task = u->first_task + (long long)(next_random() % (uint64_t)u->tasks);
    enum kind k = g.workload;
    if (k == KIND_MIX) {
        unsigned r = next_random() % 100;
        k = r < 35 ? KIND_LIST50 : r < 70 ? KIND_GET : r < 85 ? KIND_CREATE : KIND_TOGGLE;
    }
    CURL *e = x->easy;
    const char *body = NULL;
    switch (k) {
    case KIND_LIST50:
    case KIND_LIST: {
        const char *q = k == KIND_LIST50 ? g.list50_query : g.list_query;
        snprintf(x->url, sizeof(x->url), "%s/api/%s/tasks%s%s", g.url, u->id, *q ? "?" : "", q);
        break;
    }
    case KIND_GET:
        snprintf(x->url, sizeof(x->url), "%s/api/%s/tasks/%lld", g.url, u->id, task);
        break;
    case KIND_CREATE:
        snprintf(x->url, sizeof(x->url), "%s/api/%s/tasks", g.url, u->id);
        body = g.create_body;
        break;
    case KIND_TOGGLE:
        snprintf(x->url, sizeof(x->url), "%s/api/%s/tasks/%lld/complete", g.url, u->id, task);
        body = g.toggle_body;
        break;
    case KIND_MIX:
        break;
    }
    curl_easy_setopt(e, CURLOPT_URL, x->url);
    curl_easy_setopt(e, CURLOPT_HTTPGET, 1L); /* back to a bodiless GET, then adjust */
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, k == KIND_TOGGLE ? "PATCH" : NULL);
    if (body != NULL && *body != '\0') {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, u->json_headers);
    } else {
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, u->headers);
    }
    x->kind = k;
    x->bytes = 0;
    x->started = now();
    g.sent++;
    g.inflight++;
    CURLMcode rc = curl_multi_add_handle(x->conn->multi, e);
    if (rc != CURLM_OK)
        die("curl_multi_add_handle: %s", curl_multi_strerror(rc));
}

static void record(xfer_t *x, CURLcode result, double done_at)
{
    double us = (done_at - x->started) * 1e6;
    if (g.nlatency == g.latency_cap) {
        g.latency_cap = g.latency_cap ? g.latency_cap * 2 : 1 << 16;
        if ((g.latency_us = realloc(g.latency_us, g.latency_cap * sizeof(*g.latency_us))) == NULL)
            die("%s", "out of memory");
    }
    g.latency_us[g.nlatency++] = us > UINT32_MAX ? UINT32_MAX : (uint32_t)us;
    g.done++;
    g.last_done = done_at;
    g.bytes += x->bytes;
    long connects = 0;
    curl_easy_getinfo(x->easy, CURLINFO_NUM_CONNECTS, &connects);
    g.connects += connects;
    if (result != CURLE_OK) {
        if (g.transport_errors++ == 0)
            snprintf(g.first_error, sizeof(g.first_error), "%s", curl_easy_strerror(result));
        return;
    }
    long code = 0;
    curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &code);
    g.status[code >= 0 && code < 600 ? code : 0]++;
    if (code != (x->kind == KIND_CREATE ? 201 : 200))
        g.unexpected++;
}

/* Takes the finished requests of one connection and sends the next ones. */
static void collect(conn_t *c)
{
    CURLMsg *m;
    int left;
    while ((m = curl_multi_info_read(c->multi, &left)) != NULL) {
        if (m->msg != CURLMSG_DONE)
            continue;
        CURL *e = m->easy_handle;
        CURLcode result = m->data.result;
        xfer_t *x = NULL;
        curl_easy_getinfo(e, CURLINFO_PRIVATE, (char **)&x);
        record(x, result, now());
        curl_multi_remove_handle(c->multi, e);
        g.inflight--;
        if (may_send())
            send_request(x);
    }
}

static void setup(void)
{
    size_t n = (size_t)g.connections * g.streams;
    if ((g.epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
        die("epoll_create1: %s", strerror(errno));
    g.conns = calloc(g.connections, sizeof(*g.conns));
    g.xfers = calloc(n, sizeof(*g.xfers));
    if (g.conns == NULL || g.xfers == NULL)
        die("%s", "out of memory");
    for (int i = 0; i < g.connections; i++) {
        conn_t *c = g.conns + i;
        if ((c->multi = curl_multi_init()) == NULL)
            die("%s", "curl_multi_init failed");
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
        curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timer);
        curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
        curl_multi_setopt(c->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, 1L);
        curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
        curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, 1L);
        curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, g.h2c ? CURLPIPE_MULTIPLEX : CURLPIPE_NOTHING);
        curl_multi_setopt(c->multi, CURLMOPT_MAX_CONCURRENT_STREAMS, (long)g.streams);
    }
    for (size_t i = 0; i < n; i++) {
        xfer_t *x = g.xfers + i;
        x->conn = g.conns + i / g.streams;
        if ((x->easy = curl_easy_init()) == NULL)
            die("%s", "curl_easy_init failed");
        curl_easy_setopt(x->easy, CURLOPT_PRIVATE, x);
        curl_easy_setopt(x->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(x->easy, CURLOPT_WRITEDATA, x);
        curl_easy_setopt(x->easy, CURLOPT_HTTP_VERSION,
                         g.h2c ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE : (long)CURL_HTTP_VERSION_1_1);
        curl_easy_setopt(x->easy, CURLOPT_PIPEWAIT, (long)g.h2c);
        curl_easy_setopt(x->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(x->easy, CURLOPT_TIMEOUT_MS, (long)(g.timeout * 1000));
        curl_easy_setopt(x->easy, CURLOPT_TCP_NODELAY, 1L);
    }
}

static void run(void)
{
    struct epoll_event events[512];
    size_t n = (size_t)g.connections * g.streams;
    int running;

    g.start = g.last_done = now();
    g.stop_at = g.start + g.duration;
    for (size_t i = 0; i < n && may_send(); i++)
        send_request(g.xfers + i);
    while (g.inflight > 0) {
        double t = now(), next = t + 0.05;
        if (t > g.stop_at + g.grace)
            break;
        for (int i = 0; i < g.connections; i++)
            if (g.conns[i].deadline != 0 && g.conns[i].deadline < next)
                next = g.conns[i].deadline;
        int wait_ms = next > t ? (int)ceil((next - t) * 1000) : 0;
        int ready = epoll_wait(g.epfd, events, sizeof(events) / sizeof(events[0]), wait_ms);
        if (ready < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < ready; i++) {
            sock_t *s = events[i].data.ptr;
            if (s->fd < 0)
                continue; /* removed while handling an earlier event of this batch */
            conn_t *c = s->conn;
            int flags = ((events[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
                        ((events[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
                        ((events[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);
            curl_multi_socket_action(c->multi, s->fd, flags, &running);
            collect(c);
        }
        t = now();
        for (int i = 0; i < g.connections; i++) {
            conn_t *c = g.conns + i;
            if (c->deadline != 0 && c->deadline <= t) {
                c->deadline = 0;
                curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
                collect(c);
            }
        }
        while (g.dead != NULL) {
            sock_t *s = g.dead;
            g.dead = s->next_dead;
            free(s);
        }
    }
}

static int by_value(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted latencies, in milliseconds. */
static double percentile_ms(double p)
{
    if (g.nlatency == 0)
        return 0;
    size_t rank = (size_t)ceil(p * g.nlatency);
    return g.latency_us[(rank ? rank : 1) - 1] / 1000.0;
}

static void report(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
    double secs = g.last_done - g.start;
    unsigned long long unfinished = (unsigned long long)g.inflight;
    qsort(g.latency_us, g.nlatency, sizeof(*g.latency_us), by_value);
    printf("requests=%llu seconds=%.3f rps=%.1f p50_ms=%.3f p99_ms=%.3f max_ms=%.3f errors=%llu statuses=", g.done, secs,
           secs > 0 ? g.done / secs : 0, percentile_ms(0.50), percentile_ms(0.99), percentile_ms(1.0),
           g.unexpected + g.transport_errors + unfinished);
    int first = 1;
    for (int code = 0; code < 600; code++)
        if (g.status[code] != 0)
            printf("%s%d:%llu", first ? "" : ",", code, g.status[code]), first = 0;
    printf("%s transport_errors=%llu unfinished=%llu connects=%llu bytes_per_response=%.0f cpu_s=%.3f\n", first ? "-" : "",
           g.transport_errors, unfinished, g.connects, g.done ? (double)g.bytes / g.done : 0, cpu);
    if (g.transport_errors != 0)
        fprintf(stderr, "todo-load: first transport error: %s\n", g.first_error);
}

static void cleanup(void)
{
    size_t n = (size_t)g.connections * g.streams;
    for (size_t i = 0; i < n; i++) {
        curl_multi_remove_handle(g.xfers[i].conn->multi, g.xfers[i].easy);
        curl_easy_cleanup(g.xfers[i].easy);
    }
    for (int i = 0; i < g.connections; i++)
        curl_multi_cleanup(g.conns[i].multi);
    while (g.dead != NULL) {
        sock_t *s = g.dead;
        g.dead = s->next_dead;
        free(s);
    }
    for (size_t i = 0; i < g.nusers; i++) {
        free(g.users[i].id);
        curl_slist_free_all(g.users[i].headers);
        curl_slist_free_all(g.users[i].json_headers);
    }
    free(g.users);
    free(g.xfers);
    free(g.conns);
    free(g.latency_us);
    close(g.epfd);
}

static void usage(const char *argv0, int status)
{
    fprintf(status ? stderr : stdout,
            "usage: %s --url http://127.0.0.1:PORT --users FILE --workload list50|list|get|create|toggle|mix\n"
            "          [--http 1.1|h2c] [--connections N] [--streams S] [--duration SECONDS]\n"
            "          [--requests COUNT] [--grace SECONDS] [--timeout SECONDS] [--seed N]\n"
            "          [--list50-query Q] [--list-query Q] [--create-body JSON] [--toggle-body JSON]\n"
            "defaults: --http 1.1 --connections 8 --streams 1 --duration 10 --requests 1000000\n"
            "          --grace 30 --timeout 30 --list50-query limit=50 --list-query ''\n"
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
        {"url", required_argument, NULL, 'u'},          {"users", required_argument, NULL, 'U'},
        {"workload", required_argument, NULL, 'w'},     {"http", required_argument, NULL, 'H'},
        {"connections", required_argument, NULL, 'c'},  {"streams", required_argument, NULL, 'm'},
        {"duration", required_argument, NULL, 'd'},     {"requests", required_argument, NULL, 'n'},
        {"grace", required_argument, NULL, 'g'},        {"timeout", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 's'},         {"list50-query", required_argument, NULL, 'L'},
        {"list-query", required_argument, NULL, 'l'},   {"create-body", required_argument, NULL, 'b'},
        {"toggle-body", required_argument, NULL, 'B'},  {"help", no_argument, NULL, 'h'},
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
    read_users();
    setup();
    run();
    report();
    cleanup();
    curl_global_cleanup();
    return 0;
}
