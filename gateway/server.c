/*
 * server.c: h2o set-up and the one request handler.
 *
 * A request flows one way: route table -> checks (rate limit, body size, token, path user,
 * task id, media type, body) -> one database call -> the bytes PostgreSQL returned ->
 * response. The order of the checks is the order of the answers (README, "Decisions").
 * Nothing here knows a business rule; everything a route needs is a row in routes.c.
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
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <h2o.h>

#include "auth.h"
#include "db.h"
#include "log.h"
#include "metrics.h"
#include "ratelimit.h"
#include "respond.h"
#include "routes.h"
#include "text.h"

typedef struct gw_thread {
    h2o_context_t ctx; /* first: the handler finds its thread from req->conn->ctx */
    h2o_evloop_t *loop;
    h2o_accept_ctx_t accept_plain, accept_tls;
    h2o_socket_t *listeners[2];
    gw_db_t *db;
    pthread_t tid;
    size_t index;
    size_t active; /* requests received and not yet disposed */
    gw_metrics_t metrics;
    uint64_t id_prefix; /* random, for generated request ids */
    uint64_t id_counter;
} gw_thread_t;

typedef struct gw_handler {
    h2o_handler_t super;
    const gw_config_t *cfg;
} gw_handler_t;

static h2o_globalconf_t globalconf;
static const gw_config_t *config;
static SSL_CTX *ssl_ctx;
static int listen_fds[2] = {-1, -1};
static atomic_int stopping;
static gw_thread_t *threads;
static int nthreads;
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;
static int threads_done;

extern const unsigned char gw_openapi_json[];
extern const size_t gw_openapi_json_len;

/* ---- small helpers ---- */

static h2o_iovec_t find_header(h2o_req_t *req, const h2o_token_t *token)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

static h2o_iovec_t find_header_str(h2o_req_t *req, const char *name)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);
    return i < 0 ? h2o_iovec_init(NULL, 0) : req->headers.entries[i].value;
}

/* A client's X-Request-Id is kept when it is 1 to 128 of [A-Za-z0-9._:-]. */
static int sane_request_id(h2o_iovec_t id)
{
    if (id.len == 0 || id.len > 128)
        return 0;
    for (size_t i = 0; i < id.len; i++) {
        char c = id.base[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
              c == '-'))
            return 0;
    }
    return 1;
}

/* Whether CORS_ORIGINS (comma separated, exact, or "*") allows this Origin. */
static int origin_allowed(const char *list, h2o_iovec_t origin)
{
    const char *p = list;
    if (origin.base == NULL || list == NULL)
        return 0;
    while (*p != '\0') {
        while (*p == ' ' || *p == ',')
            p++;
        const char *end = p;
        while (*end != '\0' && *end != ',')
            end++;
        const char *trim = end;
        while (trim > p && trim[-1] == ' ')
            trim--;
        size_t len = (size_t)(trim - p);
        if ((len == 1 && *p == '*') || (len == origin.len && len > 0 && memcmp(p, origin.base, len) == 0))
            return 1;
        p = end;
    }
    return 0;
}

/* application/json, any case, optionally followed by parameters (charset=utf-8). */
static int is_json_media_type(h2o_iovec_t ct)
{
    static const char json[] = "application/json";
    size_t n = sizeof(json) - 1;
    if (ct.len < n || !h2o_lcstris(ct.base, n, json, n))
        return 0;
    for (size_t i = n; i < ct.len; i++) {
        if (ct.base[i] == ';')
            return 1;
        if (ct.base[i] != ' ' && ct.base[i] != '\t')
            return 0;
    }
    return 1;
}

/* ---- replies from the database ---- */

/* Link: <path?query-without-offset&offset=N>; rel="next" */
static h2o_iovec_t next_link(h2o_req_t *req, h2o_iovec_t offset)
{
    gw_str_t path = gw_text_target_path(req->input.path.base, req->input.path.len);
    gw_str_t rest = gw_text_target_query(req->input.path.base, req->input.path.len), pair, name, value;
    char *buf = h2o_mem_alloc_pool(&req->pool, path.len + rest.len + offset.len + 32);
    size_t n = 0;

    buf[n++] = '<';
    memcpy(buf + n, path.base, path.len), n += path.len;
    buf[n++] = '?';
    while (gw_text_query_next(&rest, &pair, &name, &value)) {
        if (pair.len > 0 && !(name.len == 6 && memcmp(name.base, "offset", 6) == 0)) {
            memcpy(buf + n, pair.base, pair.len), n += pair.len;
            buf[n++] = '&';
        }
    }
    memcpy(buf + n, "offset=", 7), n += 7;
    memcpy(buf + n, offset.base, offset.len), n += offset.len;
    memcpy(buf + n, ">; rel=\"next\"", 13), n += 13;
    return h2o_iovec_init(buf, n);
}

/* Per-request state that outlives the handler: the exchange and the route. */
typedef struct pending {
    gw_exchange_t x;
    const gw_route_t *route;
    const gw_config_t *cfg;
} pending_t;

static void on_db_reply(h2o_req_t *req, const gw_db_reply_t *reply, void *data)
{
    pending_t *p = data;
    gw_exchange_t *x = &p->x;
    const gw_route_t *route = p->route;
    gw_thread_t *t = (gw_thread_t *)req->conn->ctx;

    if (reply->status >= 500)
        atomic_fetch_add_explicit(&t->metrics.db_errors, 1, memory_order_relaxed);

    if (reply->status != 0) {
        if (reply->status == 503 || reply->status == 504)
            gw_log_warn("%s: %d, %s id=%.*s", route->name, reply->status, reply->message ? reply->message : "",
                        (int)x->request_id.len, x->request_id.base);
        else if (reply->status >= 500)
            gw_log_error("%s failed: %s (sqlstate %s) id=%.*s", route->name, reply->message ? reply->message : "",
                         reply->sqlstate[0] ? reply->sqlstate : "-", (int)x->request_id.len, x->request_id.base);
        else
            gw_log_debug("%s: %d (sqlstate %s)", route->name, reply->status, reply->sqlstate);
        gw_respond_error(x, reply->status, reply->body);
        return;
    }
    if (route->kind == GW_ROUTE_SESSION) {
        /* the database checked the password; the gateway signs: {"token": ..., "user": ...} */
        const h2o_iovec_t *c = reply->cols;
        char *end = NULL;
        long long iat = c[2].base ? strtoll(c[2].base, &end, 10) : 0;
        char *token = c[0].base && c[1].base && end && *end == '\0' ? gw_auth_sign(p->cfg, c[1].base, iat) : NULL;
        if (token == NULL) {
            gw_log_error("%s: cannot sign a token id=%.*s", route->name, (int)x->request_id.len, x->request_id.base);
            gw_respond_error(x, 500, h2o_iovec_init(NULL, 0));
            return;
        }
        h2o_iovec_t body =
            h2o_concat(&x->req->pool, h2o_iovec_init(H2O_STRLIT("{\"token\":\"")), h2o_iovec_init(token, strlen(token)),
                       h2o_iovec_init(H2O_STRLIT("\",\"user\":")), c[0], h2o_iovec_init(H2O_STRLIT("}")));
        free(token);
        gw_respond_json(x, route->status, body);
        return;
    }
    if (route->status == 204) {
        gw_respond_empty(x, 204);
        return;
    }
    if (reply->cols[1].len > 0)
        gw_respond_header(x, "location", reply->cols[1]);
    if (reply->cols[2].len > 0)
        gw_respond_header(x, "link", next_link(x->req, reply->cols[2]));
    gw_respond_json(x, route->status, reply->cols[0].base ? reply->cols[0] : h2o_iovec_init(H2O_STRLIT("null")));
}

/* ---- the handler ---- */

static void on_exchange_dispose(void *p)
{
    gw_thread_t *t = *(gw_thread_t **)p;
    t->active--;
}

static void preflight(gw_exchange_t *x, const gw_match_t *m)
{
    char allow[64];
    h2o_iovec_t methods = h2o_strdup(&x->req->pool, allow, gw_routes_allow(m->allowed, allow, sizeof(allow)));
    gw_respond_header(x, "allow", methods);
    if (x->cors_origin.base != NULL) {
        gw_respond_header(x, "access-control-allow-methods", methods);
        gw_respond_header(x, "access-control-allow-headers",
                          h2o_iovec_init(H2O_STRLIT("Authorization, Content-Type, X-Request-Id")));
        gw_respond_header(x, "access-control-max-age", h2o_iovec_init(H2O_STRLIT("600")));
    }
    gw_respond_empty(x, 204);
}

/* Decodes one query parameter into a NUL-terminated string in the pool; NULL when absent.
 * Returns -1 when it is not valid percent-encoded UTF-8. */
static int query_param(h2o_req_t *req, const char *name, const char **out)
{
    gw_str_t query = gw_text_target_query(req->input.path.base, req->input.path.len), raw;
    *out = NULL;
    if (!gw_text_query_param(query, name, &raw))
        return 0;
    char *buf = h2o_mem_alloc_pool(&req->pool, raw.len + 1);
    long n = gw_text_unescape(raw.base, raw.len, buf, 1);
    if (n < 0 || gw_text_utf8_length(buf, (size_t)n, 0) < 0)
        return -1;
    buf[n] = '\0';
    *out = buf;
    return 0;
}

static int handle(gw_thread_t *t, const gw_config_t *cfg, h2o_req_t *req, gw_exchange_t *x)
{
    gw_str_t path = gw_text_target_path(req->input.path.base, req->input.path.len);
    unsigned method = gw_routes_method(req->input.method.base, req->input.method.len);
    gw_match_t m;

    gw_routes_match(path.base, path.len, method, cfg->accounts, &m);
    if (m.allowed == 0) {
        gw_respond_error(x, 404, h2o_iovec_init(NULL, 0));
        return 0;
    }
    if (method == GW_OPTIONS && m.route == NULL) {
        preflight(x, &m);
        return 0;
    }
    if (m.route == NULL) {
        char allow[64];
        gw_respond_header(x, "allow", h2o_strdup(&req->pool, allow, gw_routes_allow(m.allowed, allow, sizeof(allow))));
        gw_respond_error(x, 405, h2o_iovec_init(NULL, 0));
        return 0;
    }
    const gw_route_t *route = m.route;
    x->route = route;
    /* the rate limit, per client address, before any work for the request (RATE_LIMIT > 0);
     * every route but /healthz, which does nothing */
    if (cfg->rate_limit > 0 && route->kind != GW_ROUTE_HEALTH) {
        struct sockaddr_storage peer = {0};
        socklen_t len = req->conn->callbacks->get_peername(req->conn, (struct sockaddr *)&peer);
        const void *key = "?"; /* address unknown (the client already left): one shared bucket */
        size_t key_len = 1;
        if (len > 0 && peer.ss_family == AF_INET)
            key = &((struct sockaddr_in *)&peer)->sin_addr, key_len = 4;
        else if (len > 0 && peer.ss_family == AF_INET6)
            key = &((struct sockaddr_in6 *)&peer)->sin6_addr, key_len = 16;
        int wait = gw_ratelimit_take(key, key_len, gw_monotonic_ns() / 1000000);
        if (wait > 0) {
            char buf[16];
            int n = snprintf(buf, sizeof(buf), "%d", wait);
            gw_respond_header(x, "retry-after", h2o_strdup(&req->pool, buf, (size_t)n));
            gw_respond_error(x, 429, h2o_iovec_init(NULL, 0));
            return 0;
        }
    }

    switch (route->kind) {
    case GW_ROUTE_HEALTH:
        gw_respond_json(x, 200, h2o_iovec_init(H2O_STRLIT("{\"status\":\"ok\"}")));
        return 0;
    case GW_ROUTE_OPENAPI:
        gw_respond_json(x, 200, h2o_iovec_init((const char *)gw_openapi_json, gw_openapi_json_len));
        return 0;
    case GW_ROUTE_METRICS: {
        gw_metrics_t **all = h2o_mem_alloc_pool(&req->pool, sizeof(*all) * (size_t)nthreads);
        for (int i = 0; i < nthreads; i++)
            all[i] = &threads[i].metrics;
        gw_respond_body(x, 200, "text/plain; version=0.0.4; charset=utf-8", gw_metrics_render(&req->pool, all, (size_t)nthreads));
        return 0;
    }
    default:
        break;
    }

    /* the body: size first, before anything else is looked at */
    if (req->entity.len > cfg->max_body) {
        gw_respond_error(x, 413, h2o_iovec_init(NULL, 0));
        return 0;
    }

    pending_t *p = h2o_mem_alloc_pool(&req->pool, sizeof(*p));
    gw_db_call_t call = {.route = route};
    p->x = *x;
    p->route = route;
    p->cfg = cfg;
    x = &p->x;

    /* the token: 401 before any database work, 403 when the path names another user */
    if (route->flags & GW_TOKEN) {
        h2o_iovec_t authz = find_header(req, H2O_TOKEN_AUTHORIZATION);
        gw_identity_t id;
        x->token_present = authz.base != NULL;
        gw_auth_status_t st = gw_auth_verify_cached(cfg, authz.base, authz.len, (int64_t)time(NULL), &id);
        if (st != GW_AUTH_OK) {
            gw_log_debug("token refused: %s id=%.*s", gw_auth_reason(st), (int)x->request_id.len, x->request_id.base);
            gw_respond_error_literal(x, 401, "unauthorized", st == GW_AUTH_MISSING ? "missing bearer token" : "invalid token");
            return 0;
        }
        if (route->flags & GW_PATH_USER) {
            char *user = h2o_mem_alloc_pool(&req->pool, m.user.len + 1);
            long n = gw_text_unescape(m.user.base, m.user.len, user, 0);
            if (n < 0 || (size_t)n != strlen(id.user_id) || memcmp(user, id.user_id, (size_t)n) != 0) {
                gw_respond_error_literal(x, 403, "user_id_mismatch", "the path's user_id is not the token's user");
                return 0;
            }
        }
        call.user_id = h2o_strdup(&req->pool, id.user_id, SIZE_MAX).base;
        if (id.has_issued_at) {
            char iat[24];
            int n = snprintf(iat, sizeof(iat), "%lld", (long long)id.issued_at);
            call.issued_at = h2o_strdup(&req->pool, iat, (size_t)n).base;
        }
    }

    /* arguments, in the statement's order: {id}, body, query parameters */
    if (m.id.base != NULL) {
        if (!gw_routes_valid_id(m.id)) {
            gw_respond_error_literal(x, 404, "not_found", "task not found");
            return 0;
        }
        call.params[call.nparams++] = h2o_strdup(&req->pool, m.id.base, m.id.len).base;
    }
    if (route->flags & GW_BODY) {
        const char *body = NULL;
        if (req->entity.len > 0) {
            if (!is_json_media_type(find_header(req, H2O_TOKEN_CONTENT_TYPE))) {
                gw_respond_error(x, 415, h2o_iovec_init(NULL, 0));
                return 0;
            }
            if (memchr(req->entity.base, '\0', req->entity.len) != NULL || gw_text_utf8_length(req->entity.base, req->entity.len, 0) < 0) {
                gw_respond_error_literal(x, 400, "invalid_json", "request body is not valid UTF-8 JSON");
                return 0;
            }
            body = h2o_strdup(&req->pool, req->entity.base, req->entity.len).base;
        } else if (route->flags & GW_BODY_REQUIRED) {
            gw_respond_error_literal(x, 400, "invalid_json", "request body is required");
            return 0;
        }
        call.params[call.nparams++] = body;
    }
    for (size_t i = 0; i < GW_ROUTE_MAX_QUERY && route->query[i] != NULL; i++) {
        const char *value;
        if (query_param(req, route->query[i], &value) != 0) {
            gw_respond_error_literal(x, 422, "validation_failed", "query parameters must be valid percent-encoded UTF-8");
            return 0;
        }
        call.params[call.nparams++] = value;
    }
    gw_db_submit(t->db, req, &call, on_db_reply, p);
    return 0;
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
    gw_handler_t *h = (gw_handler_t *)self;
    gw_thread_t *t = (gw_thread_t *)req->conn->ctx;
    gw_exchange_t x = {.req = req, .metrics = &t->metrics, .started_ns = gw_monotonic_ns()};

    /* counted until the request's pool goes: shutdown waits for these */
    gw_thread_t **tracker = h2o_mem_alloc_shared(&req->pool, sizeof(*tracker), on_exchange_dispose);
    *tracker = t;
    t->active++;

    h2o_iovec_t rid = find_header_str(req, "x-request-id");
    if (sane_request_id(rid)) {
        x.request_id = rid;
    } else {
        char buf[33];
        int n = snprintf(buf, sizeof(buf), "%016llx%016llx", (unsigned long long)t->id_prefix, (unsigned long long)++t->id_counter);
        x.request_id = h2o_strdup(&req->pool, buf, (size_t)n);
    }
    h2o_iovec_t origin = find_header_str(req, "origin");
    if (origin_allowed(h->cfg->cors_origins, origin))
        x.cors_origin = origin;
    x.cors_configured = h->cfg->cors_origins != NULL && h->cfg->cors_origins[0] != '\0';
    return handle(t, h->cfg, req, &x);
}

/* ---- listeners and threads ---- */

static void on_accept(h2o_socket_t *listener, const char *err)
{
    h2o_accept_ctx_t *actx = listener->data;
    h2o_socket_t *sock;
    if (err != NULL)
        return;
    if ((sock = h2o_evloop_socket_accept(listener)) == NULL)
        return;
    h2o_accept(actx, sock);
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
    if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) != 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 ||
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

static void add_listener(gw_thread_t *t, size_t i, h2o_accept_ctx_t *actx)
{
    int fd = dup(listen_fds[i]); /* h2o closes the fd it holds */
    h2o_socket_t *sock = h2o_evloop_socket_create(t->loop, fd, H2O_SOCKET_FLAG_DONT_READ);
    sock->data = actx;
    h2o_socket_read_start(sock, on_accept);
    t->listeners[i] = sock;
}

/* The pool gauges /metrics shows, published by the thread that owns the pool. */
static void refresh_gauges(gw_thread_t *t)
{
    size_t in_use, waiting, up;
    gw_db_stats(t->db, &in_use, &waiting, &up);
    atomic_store_explicit(&t->metrics.pool_in_use, in_use, memory_order_relaxed);
    atomic_store_explicit(&t->metrics.pool_waiting, waiting, memory_order_relaxed);
    atomic_store_explicit(&t->metrics.pool_connections, up, memory_order_relaxed);
}

static void *thread_main(void *arg)
{
    gw_thread_t *t = arg;
    const gw_config_t *cfg = config;
    char name[16];

    snprintf(name, sizeof(name), "w%zu", t->index);
    gw_log_set_thread(name);
    RAND_bytes((unsigned char *)&t->id_prefix, sizeof(t->id_prefix));
    t->loop = h2o_evloop_create();
    h2o_context_init(&t->ctx, t->loop, &globalconf);
    t->db = gw_db_create(t->loop, cfg);
    t->accept_plain = (h2o_accept_ctx_t){.ctx = &t->ctx, .hosts = globalconf.hosts};
    add_listener(t, 0, &t->accept_plain);
    if (listen_fds[1] >= 0) {
        t->accept_tls = (h2o_accept_ctx_t){.ctx = &t->ctx, .hosts = globalconf.hosts, .ssl_ctx = ssl_ctx};
        add_listener(t, 1, &t->accept_tls);
    }

    while (!atomic_load(&stopping)) {
        h2o_evloop_run(t->loop, 100); /* returns on a signal (EINTR) too; loop on */
        refresh_gauges(t);
    }

    /* stop accepting, tell HTTP/2 clients (GOAWAY), let in-flight requests finish */
    for (size_t i = 0; i < 2; i++)
        if (t->listeners[i] != NULL)
            h2o_socket_close(t->listeners[i]), t->listeners[i] = NULL;
    h2o_context_request_shutdown(&t->ctx);
    uint64_t deadline = gw_monotonic_ns() + (uint64_t)cfg->shutdown_timeout * 1000000000u;
    while ((t->active > 0 || gw_db_pending(t->db) > 0) && gw_monotonic_ns() < deadline)
        h2o_evloop_run(t->loop, 50);
    if (t->active > 0 || gw_db_pending(t->db) > 0) {
        gw_log_warn("SHUTDOWN_TIMEOUT: answering %zu unfinished requests with 503", gw_db_pending(t->db));
        gw_db_fail_all(t->db, 503, "shutting down");
    }
    for (int i = 0; i < 3; i++) /* let the last responses leave */
        h2o_evloop_run(t->loop, 10);
    gw_db_destroy(t->db); /* closes the database connections */
    t->db = NULL;

    /* Done. h2o 2.2.5 cannot dispose a context while clients still hold keep-alive
     * connections (it asserts), and has no way to close them; so the thread reports and
     * parks, and the process exits with its state intact and reachable. */
    pthread_mutex_lock(&done_lock);
    threads_done++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_lock);
    for (;;)
        pause(); /* SIGTERM and SIGINT are blocked here: only the process's exit ends this */
    return NULL;
}

int gw_server_run(const gw_config_t *cfg)
{
    int port = 0, tls_port = 0;
    sigset_t sigs;
    int sig;

    config = cfg;
    signal(SIGPIPE, SIG_IGN);
    gw_ratelimit_init(cfg->rate_limit, cfg->rate_limit_burst);
    h2o_config_init(&globalconf);
    globalconf.server_name = h2o_iovec_init(H2O_STRLIT("todo-gateway"));
    /* h2o's own 413 (plain text) only beyond this; up to it the handler answers in JSON */
    globalconf.max_request_entity_size = cfg->max_body + 1024 * 1024;
    h2o_hostconf_t *host = h2o_config_register_host(&globalconf, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
    gw_handler_t *handler = (gw_handler_t *)h2o_create_handler(path, sizeof(*handler));
    handler->super.on_req = on_req;
    handler->cfg = cfg;

    if ((listen_fds[0] = bind_listener(cfg->host, cfg->port, &port)) < 0)
        return 1;
    if (cfg->tls_cert != NULL) {
        if ((ssl_ctx = make_ssl_ctx(cfg)) == NULL || (listen_fds[1] = bind_listener(cfg->host, cfg->tls_port, &tls_port)) < 0)
            return 1;
    }

    /* signals are taken by this thread alone, with sigwait */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGINT);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);

    threads = calloc((size_t)cfg->threads, sizeof(*threads));
    nthreads = cfg->threads;
    for (int i = 0; i < cfg->threads; i++) {
        threads[i].index = (size_t)i;
        pthread_create(&threads[i].tid, NULL, thread_main, threads + i);
    }
    if (tls_port)
        gw_log_info("todo-gateway %s listening on http://%s:%d and https://%s:%d (%d threads)", GW_VERSION, cfg->host, port,
                    cfg->host, tls_port, cfg->threads);
    else
        gw_log_info("todo-gateway %s listening on http://%s:%d (%d threads)", GW_VERSION, cfg->host, port, cfg->threads);

    sigwait(&sigs, &sig);
    gw_log_info("%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    atomic_store(&stopping, 1);
    pthread_mutex_lock(&done_lock);
    while (threads_done < cfg->threads)
        pthread_cond_wait(&done_cond, &done_lock);
    pthread_mutex_unlock(&done_lock);
    for (size_t i = 0; i < 2; i++)
        if (listen_fds[i] >= 0)
            close(listen_fds[i]);
    gw_log_info("stopped");
    return 0; /* exit(): the parked threads and their h2o state go with the process */
}
