#include "respond.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text.h"

static const struct {
    int status;
    const char *reason;
    const char *code;
    const char *message;
} statuses[] = {
    {200, "OK", NULL, NULL},
    {201, "Created", NULL, NULL},
    {204, "No Content", NULL, NULL},
    {304, "Not Modified", NULL, NULL},
    {400, "Bad Request", "invalid_json", "request body is not valid JSON"},
    {401, "Unauthorized", "unauthorized", "missing or invalid bearer token"},
    {403, "Forbidden", "forbidden", "forbidden"},
    {404, "Not Found", "not_found", "not found"},
    {405, "Method Not Allowed", "method_not_allowed", "method not allowed"},
    {409, "Conflict", "conflict", "conflict"},
    {412, "Precondition Failed", "precondition_failed", "a precondition of the request does not hold"},
    {413, "Payload Too Large", "payload_too_large", "request body is too large"},
    {415, "Unsupported Media Type", "unsupported_media_type", "request body must be application/json"},
    {417, "Expectation Failed", "expectation_failed", "the only expectation supported is 100-continue"},
    {422, "Unprocessable Entity", "validation_failed", "validation failed"},
    {429, "Too Many Requests", "too_many_requests", "too many requests"},
    {500, "Internal Server Error", "internal_error", "internal server error"},
    {502, "Bad Gateway", "outcome_unknown",
     "the request was sent to the database and its answer was lost: it may have been done; retry a write only with its "
     "Idempotency-Key"},
    {503, "Service Unavailable", "unavailable", "service unavailable, try again"},
    {504, "Gateway Timeout", "timeout", "the database took too long"},
};

static size_t status_index(int status)
{
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        if (statuses[i].status == status)
            return i;
    return (size_t)-1;
}

static const char *reason_of(int status)
{
    size_t i = status_index(status);
    return i != (size_t)-1 ? statuses[i].reason : (status < 500 ? "Client Error" : "Server Error");
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

void gw_respond_start(gw_exchange_t *x, h2o_req_t *req, gw_metrics_t *metrics, const char *cors_origins, uint64_t id_prefix,
                      uint64_t *id_counter)
{
    x->req = req;
    x->metrics = metrics;
    x->started_ns = gw_monotonic_ns();
    h2o_iovec_t rid = find_header_str(req, "x-request-id");
    if (sane_request_id(rid)) {
        x->request_id = rid;
    } else {
        char buf[33];
        int n = snprintf(buf, sizeof(buf), "%016llx%016llx", (unsigned long long)id_prefix, (unsigned long long)++*id_counter);
        x->request_id = h2o_strdup(&req->pool, buf, (size_t)n);
    }
    h2o_iovec_t origin = find_header_str(req, "origin");
    if (origin_allowed(cors_origins, origin))
        x->cors_origin = origin;
    x->cors_configured = cors_origins != NULL && cors_origins[0] != '\0';
}

void gw_respond_header(gw_exchange_t *x, const char *name, h2o_iovec_t value)
{
    h2o_add_header_by_str(&x->req->pool, &x->req->res.headers, name, strlen(name), 1, NULL, value.base, value.len);
}

/* The access-log line: method, path without the query (it may carry search text), status,
 * duration, route, request id, protocol (h1, h2) and the database's time. Never a header, a
 * token or a body. LOG_FORMAT=json: one JSON object, encoded by jansson (the path's bytes
 * are the client's: JSON escapes them, and bytes that are not UTF-8 become '?'). */
static void access_log(gw_exchange_t *x, int status, uint64_t ns)
{
    h2o_req_t *req = x->req;
    gw_str_t target = gw_text_target_path(req->input.path.base, req->input.path.len);
    const char *proto = req->version >= 0x200 ? "h2" : "h1";
    char path[256], db[32] = "-";
    size_t n = target.len < sizeof(path) - 1 ? target.len : sizeof(path) - 1;

    if (!gw_log_enabled(GW_LOG_INFO))
        return;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)target.base[i];
        path[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    path[n] = '\0';
    if (gw_log_format() == GW_LOG_FORMAT_JSON) {
        char stamp[32];
        json_t *line = json_pack("{s:s, s:s, s:s#, s:s, s:i, s:f, s:s, s:s#, s:s}", "time", gw_log_time(stamp, sizeof(stamp)),
                                 "level", "info", "method", req->method.base, (int)req->method.len, "path", path, "status", status,
                                 "duration_ms", ns / 1e6, "route", x->route ? x->route->name : "-", "request_id",
                                 x->request_id.base, (int)x->request_id.len, "protocol", proto);
        json_object_set_new(line, "db_ms", x->db_ns ? json_real(x->db_ns / 1e6) : json_null());
        char *text = line ? json_dumps(line, JSON_COMPACT | JSON_ENSURE_ASCII | JSON_REAL_PRECISION(9)) : NULL;
        if (text != NULL)
            gw_log_write_line(text, strlen(text));
        free(text);
        json_decref(line);
        return;
    }
    if (x->db_ns)
        snprintf(db, sizeof(db), "%.3fms", x->db_ns / 1e6);
    gw_log_info("%.*s %s %d %.3fms %s id=%.*s %s db=%s", (int)req->method.len, req->method.base, path, status, ns / 1e6,
                x->route ? x->route->name : "-", (int)x->request_id.len, x->request_id.base, proto, db);
}

static void common_headers(gw_exchange_t *x, int status)
{
    h2o_req_t *req = x->req;
    req->res.status = status;
    req->res.reason = reason_of(status);
    if (req->conn->ctx->shutdown_requested)
        req->http1_is_persistent = 0; /* shutting down: HTTP/1.1 answers say Connection: close (HTTP/2 got GOAWAY) */
    gw_respond_header(x, "x-request-id", x->request_id);
    gw_respond_header(x, "cache-control", h2o_iovec_init(H2O_STRLIT("no-store")));
    if (status == 503) /* every 503, whoever answers it (h2o's own too, fallback.c): certainly not run, retry in a second */
        gw_respond_header(x, "retry-after", h2o_iovec_init(H2O_STRLIT("1")));
    if (x->cors_origin.base != NULL) {
        /* the origin itself, never "*": then credentialed requests (cookies, fetch's
         * credentials: "include") work too */
        gw_respond_header(x, "access-control-allow-origin", x->cors_origin);
        gw_respond_header(x, "access-control-allow-credentials", h2o_iovec_init(H2O_STRLIT("true")));
        gw_respond_header(x, "access-control-expose-headers",
                          h2o_iovec_init(H2O_STRLIT("Location, Link, ETag, X-Request-Id, Retry-After, Idempotent-Replayed")));
    }
    if (x->cors_configured)
        gw_respond_header(x, "vary", h2o_iovec_init(H2O_STRLIT("Origin")));
    if (x->db_ns) { /* W3C Server Timing: the database's part of this answer, in milliseconds */
        char timing[48];
        int n = snprintf(timing, sizeof(timing), "db;dur=%.3f", x->db_ns / 1e6);
        gw_respond_header(x, "server-timing", h2o_strdup(&req->pool, timing, (size_t)n));
    }
    uint64_t ns = gw_monotonic_ns() - x->started_ns;
    gw_metrics_record(x->metrics, x->route, status, ns);
    access_log(x, status, ns);
}

void gw_respond_json(gw_exchange_t *x, int status, h2o_iovec_t body)
{
    gw_respond_body(x, status, "application/json", body);
}

void gw_respond_body(gw_exchange_t *x, int status, const char *media_type, h2o_iovec_t body)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_req_t *req = x->req;

    common_headers(x, status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, media_type, strlen(media_type));
    req->res.content_length = body.len;
    h2o_start_response(req, &generator);
    if (h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL); /* the headers only, Content-Length included */
    else
        h2o_send(req, &body, 1, H2O_SEND_STATE_FINAL);
}

void gw_respond_stream(gw_exchange_t *x, int status, const char *media_type, h2o_generator_t *generator)
{
    h2o_req_t *req = x->req;
    common_headers(x, status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, media_type, strlen(media_type));
    req->res.content_length = SIZE_MAX; /* HTTP/1.1: chunked; HTTP/2: DATA frames until END_STREAM */
    h2o_start_response(req, generator);
}

void gw_respond_empty(gw_exchange_t *x, int status)
{
    static h2o_generator_t generator = {NULL, NULL};
    h2o_req_t *req = x->req;

    common_headers(x, status);
    req->res.content_length = SIZE_MAX; /* a 204 or 304 carries no Content-Length here (RFC 9110 8.6); h2o sends none */
    h2o_start_response(req, &generator);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
}

void gw_respond_preflight(gw_exchange_t *x, h2o_iovec_t methods)
{
    gw_respond_header(x, "allow", methods);
    if (x->cors_origin.base != NULL) {
        gw_respond_header(x, "access-control-allow-methods", methods);
        gw_respond_header(x, "access-control-allow-headers",
                          h2o_iovec_init(H2O_STRLIT("Authorization, Content-Type, If-Match, If-None-Match, X-Request-Id, Idempotency-Key, "
                                                     "Last-Event-ID")));
        gw_respond_header(x, "access-control-max-age", h2o_iovec_init(H2O_STRLIT("600")));
    }
    gw_respond_empty(x, 204);
}

/* {"detail": message, "code": code, "message": message}, in pool; code and message are
 * literals with no quote, backslash or control character. */
static h2o_iovec_t error_body(h2o_mem_pool_t *pool, const char *code, const char *message)
{
    return h2o_concat(pool, h2o_iovec_init(H2O_STRLIT("{\"detail\":\"")), h2o_iovec_init(message, strlen(message)),
                      h2o_iovec_init(H2O_STRLIT("\",\"code\":\"")), h2o_iovec_init(code, strlen(code)),
                      h2o_iovec_init(H2O_STRLIT("\",\"message\":\"")), h2o_iovec_init(message, strlen(message)),
                      h2o_iovec_init(H2O_STRLIT("\"}")));
}

void gw_respond_error_literal(gw_exchange_t *x, int status, const char *code, const char *message)
{
    gw_respond_error(x, status, error_body(&x->req->pool, code, message));
}

h2o_iovec_t gw_respond_adopt_error(gw_exchange_t *x, int status, const char *code, const char *message)
{
    h2o_req_t *req = x->req;
    ssize_t ct;
    while ((ct = h2o_find_header(&req->res.headers, H2O_TOKEN_CONTENT_TYPE, -1)) != -1)
        h2o_delete_header(&req->res.headers, ct);
    common_headers(x, status);
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
    h2o_iovec_t body = error_body(&req->pool, code, message);
    req->res.content_length = body.len;
    return body;
}

void gw_respond_error(gw_exchange_t *x, int status, h2o_iovec_t body)
{
    if (body.base == NULL && status == 422) /* a table's rule (23514, 23502) no function named: still a list */
        body = h2o_iovec_init(H2O_STRLIT("{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"a rule of the stored data does not hold\","
                                         "\"type\":\"value_error\"}],\"code\":\"validation_failed\",\"message\":\"validation failed\"}"));
    if (body.base == NULL) {
        size_t i = status_index(status);
        if (i == (size_t)-1 || statuses[i].code == NULL) {
            /* No error body for this status: a bug (a route, or a function raising PTnnn without a
             * DETAIL body, asked for a status the gateway does not know). Said loudly, answered as
             * one: a client must never read it as its own mistake. */
            gw_log_error("no error body for status %d (%s): answering 500 id=%.*s", status, x->route ? x->route->name : "-",
                         (int)x->request_id.len, x->request_id.base);
            i = status_index(500), status = 500;
        }
        gw_respond_error_literal(x, status, statuses[i].code, statuses[i].message);
        return;
    }
    if (status == 401)
        gw_respond_header(x, "www-authenticate",
                          x->token_present ? h2o_iovec_init(H2O_STRLIT("Bearer error=\"invalid_token\""))
                                           : h2o_iovec_init(H2O_STRLIT("Bearer")));
    gw_respond_json(x, status, body);
}
