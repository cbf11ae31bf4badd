/*
 * server.c: h2o set-up: the listeners (cleartext, and TLS with ALPN), one event loop per
 * thread (accepted connections balanced between them: balance.c), signals and the graceful
 * shutdown. What happens to a request is handler.c's.
 */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include "balance.h"
#include "conns.h"
#include "db.h"
#include "db_listen.h"
#include "docs.h"
#include "events.h"
#include "fallback.h"
#include "handler.h"
#include "log.h"
#include "ratelimit.h"
#include "text.h"

typedef struct gw_thread {
    gw_worker_t w; /* first: the handler finds it from req->conn->ctx, w.ctx being first too */
    h2o_evloop_t *loop;
    h2o_accept_ctx_t accept_plain, accept_tls;
    h2o_socket_t *listeners[2];
    pthread_t tid;
    size_t index;
} gw_thread_t;

static h2o_globalconf_t globalconf;
static const gw_config_t *config;
static SSL_CTX *ssl_ctx;
static int listen_fds[2] = {-1, -1};
static atomic_int stopping;
static gw_thread_t *threads;
static gw_metrics_t **metrics;                                 /* each thread's, for /metrics */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER; /* guards the three counters */
static pthread_cond_t state_cond = PTHREAD_COND_INITIALIZER;
static int threads_ready, threads_failed, threads_done; /* set up, could not be, finished */
static pthread_cond_t release_cond = PTHREAD_COND_INITIALIZER; /* threads_released became 1 */
static int threads_released; /* every thread was set up (or one failed): they may accept (or stop) */

/* ---- listeners and threads ---- */

/* Serves a client connection on this thread (unless MAX_CONNECTIONS are open: closed at once, counted). */
static void serve(h2o_accept_ctx_t *actx, h2o_socket_t *sock)
{
    gw_worker_t *w = (gw_worker_t *)actx->ctx;
    if (gw_conns_admit(sock, actx->ctx, &w->metrics.conns) != 0)
        h2o_socket_close(sock);
    else
        h2o_accept(actx, sock);
}

/* A connection another thread accepted and handed to this one (balance.c). */
static void adopt(void *data, h2o_socket_t *sock, size_t listener)
{
    gw_thread_t *t = data;
    serve(listener == 1 ? &t->accept_tls : &t->accept_plain, sock);
}

/* Accepts one connection waiting on listener, and serves it here or hands it to a thread
 * serving fewer; returns 0 when none was waiting. */
static int accept_one(h2o_socket_t *listener)
{
    h2o_accept_ctx_t *actx = listener->data;
    gw_thread_t *t = (gw_thread_t *)actx->ctx; /* w first in gw_thread_t, ctx first in w */
    h2o_socket_t *sock = h2o_evloop_socket_accept(listener);
    if (sock == NULL)
        return 0;
    if (!gw_balance_hand_off(t->index, sock, actx == &t->accept_tls))
        serve(actx, sock);
    return 1;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
    if (err == NULL)
        accept_one(listener);
}

static int bind_listener(const char *host, int port, int *actual_port)
{
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd, on = 1;
    socklen_t len = sizeof(addr);

    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        gw_log_error("HOST: '%s' is not an IPv4 address", host);
        return -1;
    }
    /* SO_REUSEPORT: several gateway processes (of the same OS user: Linux allows no other) may
     * listen on one port, the kernel spreading connections among them (docs/scaling.md); a
     * port held by a socket without it still makes bind fail. */
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) != 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
        listen(fd, SOMAXCONN) != 0 || getsockname(fd, (struct sockaddr *)&addr, &len) != 0) {
        gw_log_error("cannot listen on %s:%d: %s", host, port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *actual_port = ntohs(addr.sin_port);
    return fd;
}

static SSL_CTX *make_ssl_ctx(const gw_config_t *cfg)
{
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(ctx) != 1) {
        char buf[256];
        ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
        gw_log_error("TLS_CERT/TLS_KEY: cannot load the certificate or key: %s", buf);
        SSL_CTX_free(ctx);
        return NULL;
    }
    h2o_ssl_register_alpn_protocols(ctx, h2o_alpn_protocols);
    return ctx;
}

static int add_listener(gw_thread_t *t, size_t i, h2o_accept_ctx_t *actx)
{
    int fd = dup(listen_fds[i]); /* h2o closes the fd it holds */
    if (fd < 0)
        return -1;
    h2o_socket_t *sock = h2o_evloop_socket_create(t->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = actx; /* accepting starts in await_start */
    t->listeners[i] = sock;
    return 0;
}

/* The pool gauges /metrics shows, published by the thread that owns the pool. */
static void refresh_gauges(gw_thread_t *t)
{
    size_t in_use, waiting, up;
    gw_db_stats(t->w.db, &in_use, &waiting, &up);
    atomic_store_explicit(&t->w.metrics.pool_in_use, in_use, memory_order_relaxed);
    atomic_store_explicit(&t->w.metrics.pool_waiting, waiting, memory_order_relaxed);
    atomic_store_explicit(&t->w.metrics.pool_connections, up, memory_order_relaxed);
}

/* A thread tells the main one how its start went (ok) or that it has finished (parked). */
static void report(int *counter)
{
    pthread_mutex_lock(&state_lock);
    (*counter)++;
    pthread_cond_signal(&state_cond);
    pthread_mutex_unlock(&state_lock);
}

/* The thread's loop, its database pool and its listeners; 0, or -1 (logged). */
static int thread_setup(gw_thread_t *t)
{
    char name[16];
    snprintf(name, sizeof(name), "w%zu", t->index);
    gw_log_set_thread(name);
    gw_log_buffer(); /* the access log: one write per turn of the loop (log.c) */
    RAND_bytes((unsigned char *)&t->w.id_prefix, sizeof(t->w.id_prefix));
    t->loop = h2o_evloop_create();
    h2o_context_init(&t->w.ctx, t->loop, &globalconf);
    if ((t->w.db = gw_db_create(t->loop, config)) == NULL ||
        (t->w.events = gw_events_create(t->loop, t->w.db, config, &t->w.metrics)) == NULL) {
        gw_log_error("cannot create the database pool: out of memory");
        return -1;
    }
    t->accept_plain = (h2o_accept_ctx_t){.ctx = &t->w.ctx, .hosts = globalconf.hosts};
    t->accept_tls = (h2o_accept_ctx_t){.ctx = &t->w.ctx, .hosts = globalconf.hosts, .ssl_ctx = ssl_ctx};
    gw_balance_register(t->index, &t->w.ctx, &t->w.metrics.conns, adopt, t);
    if (add_listener(t, 0, &t->accept_plain) != 0 || (listen_fds[1] >= 0 && add_listener(t, 1, &t->accept_tls) != 0)) {
        gw_log_error("cannot watch the listening socket: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* Waits until the main thread has seen every thread set up (or one fail), then accepts
 * (unless the start failed): no thread takes a connection before each can take its share
 * (balance.c hands a connection only to a thread that is set up). */
static void await_start(gw_thread_t *t)
{
    pthread_mutex_lock(&state_lock);
    while (!threads_released)
        pthread_cond_wait(&release_cond, &state_lock);
    pthread_mutex_unlock(&state_lock);
    for (size_t i = 0; i < 2 && !atomic_load(&stopping); i++)
        if (t->listeners[i] != NULL)
            h2o_socket_read_start(t->listeners[i], on_accept);
}

/* Shutting down, in this order: HTTP/2 clients get GOAWAY and HTTP/1.1 answers say
 * Connection: close (h2o_context_request_shutdown, respond.c); idle HTTP/1.1 connections are
 * closed gracefully (gw_conns_close_idle); connections already in the listening socket's
 * backlog are accepted and served, then this thread's copy of the socket is closed (the main
 * thread closed its own at the signal: once every copy is closed, new connections are refused);
 * in-flight requests finish, for at most SHUTDOWN_TIMEOUT, after which each gets its honest
 * answer (gw_db_fail_all: 502 when it may have run); and the loop runs on while clients still
 * hold connections, until LINGER_MS after the signal (and at least a little after the last
 * answers), reading what crosses the FIN or the GOAWAY (a request sent before the client saw
 * them arrives within a round trip), so that no client sees a reset for a request the server
 * never read. Then the database connections are closed. */
#define LINGER_MS 500

/* One turn of the thread's loop (at most ms when nothing happens), then its buffered log lines leave. */
static void run_turn(gw_thread_t *t, int ms)
{
    h2o_evloop_run(t->loop, ms);
    gw_log_flush();
}

static void thread_shutdown(gw_thread_t *t)
{
    uint64_t start = gw_monotonic_ns(), deadline = start + (uint64_t)config->shutdown_timeout * 1000000000u;
    uint64_t linger_end = start + (uint64_t)LINGER_MS * 1000000u;
    h2o_context_request_shutdown(&t->w.ctx);
    gw_events_shutdown(t->w.events); /* event streams end gracefully; their clients resume elsewhere */
    gw_conns_close_idle();
    for (size_t i = 0; i < 2; i++) {
        while (t->listeners[i] != NULL && accept_one(t->listeners[i]))
            ;
        if (t->listeners[i] != NULL)
            h2o_socket_close(t->listeners[i]), t->listeners[i] = NULL;
    }
    while ((t->w.active > 0 || gw_db_pending(t->w.db) > 0) && gw_monotonic_ns() < deadline)
        run_turn(t, 50);
    if (t->w.active > 0 || gw_db_pending(t->w.db) > 0) {
        gw_log_warn("SHUTDOWN_TIMEOUT: answering %zu unfinished requests (502 if sent to the database, else 503)",
                    gw_db_pending(t->w.db));
        gw_db_fail_all(t->w.db, "shutting down");
    }
    for (int i = 0; i < 3; i++) /* let the last responses leave */
        run_turn(t, 10);
    if (linger_end < gw_monotonic_ns() + 100000000u)
        linger_end = gw_monotonic_ns() + 100000000u;
    while (gw_conns_drain() > 0 && gw_monotonic_ns() < linger_end)
        run_turn(t, 20);
    gw_db_destroy(t->w.db);
    t->w.db = NULL;
}

static void *thread_main(void *arg)
{
    gw_thread_t *t = arg;

    if (thread_setup(t) != 0) {
        report(&threads_failed); /* the main thread ends the process */
        return NULL;
    }
    report(&threads_ready);
    await_start(t);
    while (!atomic_load(&stopping)) {
        run_turn(t, 100); /* returns on a signal (EINTR) too; loop on */
        refresh_gauges(t);
    }
    thread_shutdown(t);

    /* Done. h2o 2.2.5 cannot dispose a context while clients still hold keep-alive
     * connections (it asserts), and has no way to close them; so the thread reports and
     * parks, and the process exits with its state intact and reachable. */
    gw_log_unbuffer();
    report(&threads_done);
    for (;;)
        pause(); /* SIGTERM and SIGINT are blocked here: only the process's exit ends this */
    return NULL;
}

/* h2o's global configuration, the handler, the listeners (and TLS); 0, or -1 (logged). */
static int configure(const gw_config_t *cfg, int *port, int *tls_port)
{
    h2o_config_init(&globalconf);
    globalconf.server_name = h2o_iovec_init(H2O_STRLIT("todo-gateway"));
    /* h2o's own 413 only beyond this (made JSON by fallback.c); up to it the handler answers */
    globalconf.max_request_entity_size = cfg->max_body + 1024 * 1024;
    /* HTTP/2: h2o 2.2.5 advertises SETTINGS_MAX_CONCURRENT_STREAMS 100 (a constant of its
     * SETTINGS frame) and refuses a 101st open stream (RST_STREAM REFUSED_STREAM); of those
     * 100, at most HTTP2_MAX_CONCURRENT_REQUESTS run at once, the others waiting in h2o in
     * arrival order: one connection holds at most that many places in the database queue. */
    globalconf.http2.max_concurrent_requests_per_connection = (size_t)cfg->http2_max_concurrent_requests;
    h2o_hostconf_t *host = h2o_config_register_host(&globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    if (gw_docs_register(host, cfg) != 0) /* /docs/assets/ first: h2o takes the first path that matches */
        return -1;
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);

    threads = calloc((size_t)cfg->threads, sizeof(*threads));
    metrics = calloc((size_t)cfg->threads, sizeof(*metrics));
    if (threads == NULL || metrics == NULL || gw_balance_init((size_t)cfg->threads) != 0) {
        gw_log_error("cannot allocate %d threads: out of memory", cfg->threads);
        return -1;
    }
    for (int i = 0; i < cfg->threads; i++)
        metrics[i] = &threads[i].w.metrics;
    gw_handler_register(path, cfg, metrics, (size_t)cfg->threads);
    gw_fallback_register(host, cfg);

    if ((listen_fds[0] = bind_listener(cfg->host, cfg->port, port)) < 0)
        return -1;
    if (cfg->tls_cert != NULL &&
        ((ssl_ctx = make_ssl_ctx(cfg)) == NULL || (listen_fds[1] = bind_listener(cfg->host, cfg->tls_port, tls_port)) < 0))
        return -1;
    return 0;
}

/* Starts the threads and waits for each to report its start; 0 when all are serving, or -1
 * after stopping those that started (a thread that could not be created, or could not set up). */
static int start_threads(const gw_config_t *cfg)
{
    int created = 0, err = 0;
    for (; created < cfg->threads; created++) {
        threads[created].index = (size_t)created;
        if ((err = pthread_create(&threads[created].tid, NULL, thread_main, threads + created)) != 0) {
            gw_log_error("cannot start thread %d of %d: %s", created + 1, cfg->threads, strerror(err));
            break;
        }
    }
    pthread_mutex_lock(&state_lock);
    while (threads_ready + threads_failed < created)
        pthread_cond_wait(&state_cond, &state_lock);
    int ok = created == cfg->threads && threads_failed == 0;
    if (!ok) /* the threads that did start stop before the process exits */
        atomic_store(&stopping, 1);
    threads_released = 1;
    pthread_cond_broadcast(&release_cond);
    if (!ok) {
        while (threads_done < threads_ready)
            pthread_cond_wait(&state_cond, &state_lock);
    }
    pthread_mutex_unlock(&state_lock);
    return ok ? 0 : -1;
}

static void close_listeners(void)
{
    for (size_t i = 0; i < 2; i++)
        if (listen_fds[i] >= 0)
            close(listen_fds[i]), listen_fds[i] = -1;
}

/* Each client connection is a file descriptor: lift the soft limit to the hard one, and
 * warn when MAX_CONNECTIONS cannot be reached (accept would fail with EMFILE first). */
static void raise_fd_limit(const gw_config_t *cfg)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    rlim_t needed = (rlim_t)cfg->max_connections + (rlim_t)cfg->threads * (rlim_t)cfg->db_pool_size * 2 + 64;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < needed)
        gw_log_warn("MAX_CONNECTIONS=%d needs about %llu file descriptors; the limit is %llu (raise it with ulimit -n)",
                    cfg->max_connections, (unsigned long long)needed, (unsigned long long)rl.rlim_cur);
}

int gw_server_run(const gw_config_t *cfg)
{
    int port = 0, tls_port = 0;
    sigset_t sigs;
    int sig;

    config = cfg;
    signal(SIGPIPE, SIG_IGN);
    gw_ratelimit_init(cfg->rate_limit, cfg->rate_limit_burst);
    gw_conns_init(cfg->max_connections);
    raise_fd_limit(cfg);
    if (configure(cfg, &port, &tls_port) != 0) {
        close_listeners();
        return 1;
    }

    /* signals are taken by this thread alone, with sigwait */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    if (start_threads(cfg) != 0 || gw_listen_start(cfg) != 0) {
        gw_log_error("start-up failed");
        close_listeners();
        return 1;
    }
    if (tls_port)
        gw_log_info("todo-gateway %s listening on http://%s:%d and https://%s:%d (%d threads)", GW_VERSION, cfg->host, port,
                    cfg->host, tls_port, cfg->threads);
    else
        gw_log_info("todo-gateway %s listening on http://%s:%d (%d threads)", GW_VERSION, cfg->host, port, cfg->threads);

    sigwait(&sigs, &sig);
    gw_log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    close_listeners(); /* this copy at once; each thread closes its own at its next wake-up (within 100 ms) */
    gw_balance_stop(); /* from now on each thread serves what it accepts */
    gw_listen_stop();
    atomic_store(&stopping, 1);
    pthread_mutex_lock(&state_lock);
    while (threads_done < cfg->threads)
        pthread_cond_wait(&state_cond, &state_lock);
    pthread_mutex_unlock(&state_lock);
    gw_log_info("stopped");
    return 0; /* exit(): the parked threads and their h2o state go with the process */
}
