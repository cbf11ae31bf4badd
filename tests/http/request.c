/* request.c: requests through libcurl (one at a time, or many at once), and what every answer must carry (see harness.h). */
#define _GNU_SOURCE
#include "harness_internal.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <errno.h>
#include <netinet/in.h>
#include <arpa/inet.h>

const char *const h_proto_name[P_COUNT] = {"HTTP/1.1", "h2c", "TLS h2", "TLS http/1.1", "h2c upgrade"};

/* --- requests ----------------------------------------------------------------------- */
static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
    resp_t *r = ud;
    size_t k = size * n;
    char *b = realloc(r->body, r->len + k + 1);
    if (b == NULL)
        return 0;
    memcpy(b + r->len, data, k);
    r->body = b;
    r->len += k;
    r->body[r->len] = '\0';
    return k;
}

static void free_headers(resp_t *r)
{
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdrs[i].name);
        free(r->hdrs[i].value);
    }
    free(r->hdrs);
    r->hdrs = NULL;
    r->nhdrs = 0;
}

static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
    resp_t *r = ud;
    size_t k = size * n;
    if (k >= 5 && strncmp(data, "HTTP/", 5) == 0) { /* a new response (after 1xx or an upgrade) */
        free_headers(r);
        return k;
    }
    const char *colon = memchr(data, ':', k);
    if (colon == NULL)
        return k;
    const char *v = colon + 1, *end = data + k;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    hdr_t *h = realloc(r->hdrs, (r->nhdrs + 1) * sizeof *h);
    if (h == NULL)
        return 0;
    r->hdrs = h;
    h[r->nhdrs].name = strndup(data, (size_t)(colon - data));
    h[r->nhdrs].value = strndup(v, (size_t)(end - v));
    r->nhdrs++;
    return k;
}

typedef struct upload {
    const char *p;
    size_t left;
} upload_t;

static size_t on_read(char *buf, size_t size, size_t n, void *ud)
{
    upload_t *u = ud;
    size_t k = size * n;
    if (k > 700) /* several chunks */
        k = 700;
    if (k > u->left)
        k = u->left;
    memcpy(buf, u->p, k);
    u->p += k;
    u->left -= k;
    return k;
}

const char *resp_header(const resp_t *r, const char *name)
{
    for (size_t i = 0; r != NULL && i < r->nhdrs; i++)
        if (strcasecmp(r->hdrs[i].name, name) == 0)
            return r->hdrs[i].value;
    return NULL;
}

void resp_free(resp_t *r)
{
    if (r == NULL)
        return;
    free(r->body);
    free_headers(r);
    json_decref(r->json);
    free(r);
}

/* resp_t and its upload state in one allocation: the upload lives as long as the answer. */
typedef struct resp_box {
    resp_t r;
    upload_t up;
} resp_box_t;

resp_t *h_resp_new(void)
{
    resp_box_t *b = calloc(1, sizeof *b);
    return &b->r;
}

struct curl_slist *h_setup_easy(CURL *h, gateway_t *gw, const req_t *rq, resp_t *r)
{
    int tls = rq->proto == P_H2TLS || rq->proto == P_H1TLS;
    const char *body = rq->body;
    if (rq->gw != NULL)
        gw = rq->gw;
    size_t blen = body == NULL ? 0 : rq->body_len > 0 ? (size_t)rq->body_len : strlen(body);
    const char *method = rq->method ? rq->method : body ? "POST" : "GET";
    char url[4096];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d%s", tls ? "https" : "http", tls ? gw->tls_port : gw->port, rq->path);
    snprintf(r->what, sizeof r->what, "%s %.200s%s%s (%s)", method, rq->path, rq->chunked ? " chunked" : "",
             body ? h_fmt(" [%zu-byte body]", blen) : "", h_proto_name[rq->proto]);

    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms > 0 ? rq->timeout_ms : 10000L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_PIPEWAIT, 1L);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, r->err);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
    long version = CURL_HTTP_VERSION_1_1;
    switch (rq->proto) {
    case P_H2C:
        version = CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE;
        break;
    case P_H2TLS:
        version = CURL_HTTP_VERSION_2TLS;
        break;
    case P_UPGRADE:
        version = CURL_HTTP_VERSION_2_0;
        break;
    default:
        break;
    }
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, version);

    struct curl_slist *hl = rq->expect100 ? NULL : curl_slist_append(NULL, "Expect:");
    if (body != NULL && rq->chunked) {
        upload_t *up = &((resp_box_t *)r)->up;
        up->p = body;
        up->left = blen;
        curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(h, CURLOPT_READDATA, up);
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (rq->proto == P_H1 || rq->proto == P_H1TLS)
            hl = curl_slist_append(hl, "Transfer-Encoding: chunked");
    } else if (body != NULL) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
        if (strcmp(method, "POST") != 0)
            curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    if (rq->ctype != NULL)
        hl = curl_slist_append(hl, rq->ctype[0] ? h_fmt("Content-Type: %s", rq->ctype) : "Content-Type:");
    else if (body != NULL)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    if (rq->token != NULL)
        hl = curl_slist_append(hl, h_fmt("Authorization: Bearer %s", rq->token));
    for (const char *const *x = rq->headers; x != NULL && *x != NULL; x++)
        hl = curl_slist_append(hl, *x);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    return hl;
}

static const char *const sql_words[] = {"SELECT",   "ERROR:",   "api.", "todo.",     "PL/pgSQL",     "constraint",
                                        "SQLSTATE", "violates", "pg_",  "relation ", "syntax error", NULL};

static void check_invariants(const req_t *rq, resp_t *r)
{
    char why[600] = "";
    size_t w = 0;
#define WHY(...) (w += (size_t)snprintf(why + w, w < sizeof why ? sizeof why - w : 0, __VA_ARGS__))
    if (r->status == 0) {
        WHY("no answer (%s); ", r->err);
    } else {
        const char *rid = resp_header(r, "X-Request-Id");
        const char *ct = resp_header(r, "Content-Type");
        if (rid == NULL || rid[0] == '\0')
            WHY("no X-Request-Id; ");
        if (r->status >= 400) {
            if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
                WHY("Content-Type %s, not application/json; ", ct ? ct : "(none)");
            if (!json_is_object(r->json)) {
                WHY("the error body is not a JSON object; ");
            } else {
                const json_t *d = json_object_get(r->json, "detail");
                if (!json_is_string(json_object_get(r->json, "code")))
                    WHY("no string \"code\"; ");
                if (!json_is_string(json_object_get(r->json, "message")))
                    WHY("no string \"message\"; ");
                if (!json_is_string(d) && !json_is_array(d))
                    WHY("\"detail\" neither a string nor a list; ");
                const char *code = h_jstr(r->json, "code");
                if (r->status == 401 && code && strcmp(code, "unauthorized") == 0) {
                    const char *wa = resp_header(r, "WWW-Authenticate");
                    if (wa == NULL || strncmp(wa, "Bearer", 6) != 0)
                        WHY("401 unauthorized without WWW-Authenticate: Bearer; ");
                }
            }
            for (const char *const *s = sql_words; r->body && *s; s++)
                if (strstr(r->body, *s) != NULL)
                    WHY("the error body contains \"%s\"; ", *s);
            if (r->status == 405 && resp_header(r, "Allow") == NULL)
                WHY("405 without Allow; ");
            if (r->status == 503 && resp_header(r, "Retry-After") == NULL)
                WHY("503 without Retry-After; ");
            if (r->status == 502 && resp_header(r, "Retry-After") != NULL) /* it may have run: no blind retry */
                WHY("502 with Retry-After; ");
            if (r->status >= 500 && r->status != 502 && r->status != 503 && r->status != 504)
                WHY("a %ld error; ", r->status);
        } else if (r->status == 204) {
            if (r->len != 0)
                WHY("204 with a %zu-byte body; ", r->len);
        } else if (r->status >= 200 && r->status < 300 && strcmp(rq->path, "/metrics") != 0 &&
                   !(rq->method && strcmp(rq->method, "HEAD") == 0)) {
            if (ct == NULL || strncasecmp(ct, "application/json", 16) != 0)
                WHY("Content-Type %s, not application/json; ", ct ? ct : "(none)");
            if (r->json == NULL)
                WHY("the body is not JSON; ");
        }
    }
#undef WHY
    h_check_at(w == 0, "harness.c", 0, "what every answer carries: %s%s", w ? why : "ok ", resp_brief(r));
}

void h_complete(CURL *h, const req_t *rq, resp_t *r, CURLcode rc)
{
    if (rc != CURLE_OK) {
        r->status = 0;
        if (r->err[0] == '\0')
            snprintf(r->err, sizeof r->err, "%s", curl_easy_strerror(rc));
    } else {
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
    }
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &r->http_version);
    curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &r->new_connects);
    if (r->body == NULL)
        r->body = calloc(1, 1);
    if (r->len > 0)
        r->json = json_loadb(r->body, r->len, JSON_DECODE_ANY, NULL);
    if (!rq->raw)
        check_invariants(rq, r);
}

int h_h2c_reuse_works(void)
{
    return curl_version_info(CURLVERSION_NOW)->version_num >= 0x080000;
}

proto_t h_mux_proto(const gateway_t *gw)
{
    return h_h2c_reuse_works() ? P_H2C : gw->tls_port ? P_H2TLS : P_UPGRADE;
}

resp_t *h_req(gateway_t *gw, const req_t *rq)
{
    int fresh = rq->proto == P_H2C && !h_h2c_reuse_works();
    if (!fresh && gw->easy[rq->proto] == NULL)
        gw->easy[rq->proto] = curl_easy_init();
    CURL *h = fresh ? curl_easy_init() : gw->easy[rq->proto];
    curl_easy_reset(h);
    resp_t *r = h_resp_new();
    struct curl_slist *hl = h_setup_easy(h, gw, rq, r);
    CURLcode rc = curl_easy_perform(h);
    h_complete(h, rq, r, rc);
    curl_slist_free_all(hl);
    if (fresh)
        curl_easy_cleanup(h);
    return r;
}

resp_t *h_get(gateway_t *gw, proto_t p, const char *path, const char *token)
{
    req_t rq = {.method = "GET", .path = path, .token = token, .proto = p};
    return h_req(gw, &rq);
}

resp_t *h_send(gateway_t *gw, proto_t p, const char *method, const char *path, const char *token, const char *body)
{
    req_t rq = {.method = method, .path = path, .token = token, .body = body, .proto = p};
    return h_req(gw, &rq);
}

resp_t **h_multi(gateway_t *gw, const req_t *reqs, size_t n, int one_connection, size_t max_active, long timeout_ms)
{
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    if (one_connection) {
        curl_multi_setopt(m, CURLMOPT_MAX_HOST_CONNECTIONS, 1L);
        curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS, 1L);
    }
    resp_t **rs = calloc(n, sizeof *rs);
    CURL **hs = calloc(n, sizeof *hs);
    struct curl_slist **hls = calloc(n, sizeof *hls);
    int *done = calloc(n, sizeof *done);
    CURLcode *codes = calloc(n, sizeof *codes);
    size_t next = 0, active = 0, finished = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (max_active == 0)
        max_active = n;
    if (one_connection && n > 0 && reqs[0].proto == P_UPGRADE) {
        /* Upgrade the one connection to h2c first: requests with a body are not upgraded. */
        CURL *w = curl_easy_init();
        resp_t *wr = h_resp_new();
        req_t wq = {.method = "GET", .path = "/healthz", .proto = P_UPGRADE, .raw = 1};
        struct curl_slist *wl = h_setup_easy(w, gw, &wq, wr);
        curl_multi_add_handle(m, w);
        int running = 1;
        while (running && h_ms_since(&t0) < timeout_ms) {
            curl_multi_perform(m, &running);
            if (running)
                curl_multi_poll(m, NULL, 0, 50, NULL);
        }
        curl_multi_remove_handle(m, w);
        curl_easy_cleanup(w);
        curl_slist_free_all(wl);
        resp_free(wr);
    }
    while (finished < n && h_ms_since(&t0) < timeout_ms) {
        while (next < n && active < max_active) {
            rs[next] = h_resp_new();
            hs[next] = curl_easy_init();
            hls[next] = h_setup_easy(hs[next], gw, &reqs[next], rs[next]);
            curl_easy_setopt(hs[next], CURLOPT_PRIVATE, (void *)(uintptr_t)next);
            curl_multi_add_handle(m, hs[next]);
            next++;
            active++;
        }
        int running;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            void *priv;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
            size_t i = (size_t)(uintptr_t)priv;
            done[i] = 1;
            codes[i] = msg->data.result;
            curl_multi_remove_handle(m, msg->easy_handle);
            active--;
            finished++;
        }
        if (finished < n)
            curl_multi_poll(m, NULL, 0, 50, NULL);
    }
    for (size_t i = 0; i < n; i++) {
        if (rs[i] == NULL) { /* never started: out of time */
            rs[i] = h_resp_new();
            snprintf(rs[i]->what, sizeof rs[i]->what, "%s %.200s (%s)", reqs[i].method ? reqs[i].method : "GET", reqs[i].path,
                     h_proto_name[reqs[i].proto]);
            snprintf(rs[i]->err, sizeof rs[i]->err, "not started within %ld ms", timeout_ms);
            rs[i]->body = calloc(1, 1);
            if (!reqs[i].raw)
                check_invariants(&reqs[i], rs[i]);
            continue;
        }
        if (!done[i]) {
            curl_multi_remove_handle(m, hs[i]);
            snprintf(rs[i]->err, sizeof rs[i]->err, "not finished within %ld ms", timeout_ms);
            codes[i] = CURLE_OPERATION_TIMEDOUT;
        }
        h_complete(hs[i], &reqs[i], rs[i], codes[i]);
        curl_easy_cleanup(hs[i]);
        curl_slist_free_all(hls[i]);
    }
    curl_multi_cleanup(m);
    free(hs);
    free(hls);
    free(done);
    free(codes);
    return rs;
}

long long h_metric(gateway_t *gw, const char *name)
{
    resp_t *r = h_get(gw, P_H1, "/metrics", NULL);
    const char *p = r->status == 200 && r->body ? strstr(r->body, h_fmt("\n%s ", name)) : NULL;
    long long v = p ? atoll(p + strlen(name) + 2) : -1;
    resp_free(r);
    return v;
}

int h_tcp_connect(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (fd < 0)
        return -1;
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

const char *h_raw_exchange(int port, const char *data, size_t len, long timeout_ms)
{
    int fd = h_tcp_connect(port);
    if (fd < 0)
        return h_fmt("(connect failed: %s)", strerror(errno));
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t off = 0;
    while (off < len) {
        ssize_t k = send(fd, data + off, len - off, MSG_NOSIGNAL);
        if (k <= 0)
            break;
        off += (size_t)k;
    }
    char *buf = malloc(65536 + 1);
    size_t n = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (n < 65536 && h_ms_since(&t0) < timeout_ms) {
        ssize_t k = recv(fd, buf + n, 65536 - n, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
    }
    buf[n] = '\0';
    close(fd);
    return h_keep(buf);
}
