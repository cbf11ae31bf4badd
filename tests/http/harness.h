/* harness.h: what every black-box HTTP test shares: checks that print TAP (check.c), small
 * helpers (helpers.c), starting and stopping the gateway (gateway.c), making requests over
 * HTTP/1.1, h2c and TLS (request.c), making tokens (token.c), the core flow (flow.c).
 *
 * Ownership: a resp_t belongs to the caller (resp_free). Strings from h_fmt, h_uid and
 * the tok_* makers are kept by the harness and freed by h_finish; never free them. */
#ifndef TEST_HARNESS_H
#define TEST_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <curl/curl.h>
#include <jansson.h>

/* The secret every test gateway signs and verifies with (BETTER_AUTH_SECRET). */
#define H_SECRET "http-test-secret-0123456789abcdef-0123456789ABCDEF"

typedef enum {
    P_H1 = 0,  /* HTTP/1.1 over cleartext */
    P_H2C,     /* HTTP/2 over cleartext, prior knowledge */
    P_H2TLS,   /* TLS, ALPN h2 */
    P_H1TLS,   /* TLS, ALPN http/1.1 only */
    P_UPGRADE, /* HTTP/1.1 with Upgrade: h2c */
    P_COUNT
} proto_t;

extern const char *const h_proto_name[P_COUNT];

typedef struct hdr {
    char *name, *value;
} hdr_t;

typedef struct resp {
    long status; /* 0 when the transfer failed (err says why) */
    char *body;  /* NUL-terminated */
    size_t len;
    hdr_t *hdrs; /* of the final response */
    size_t nhdrs;
    json_t *json;      /* the parsed body, NULL when it is not JSON */
    long http_version; /* CURL_HTTP_VERSION_1_1, CURL_HTTP_VERSION_2_0, ... */
    long new_connects; /* CURLINFO_NUM_CONNECTS */
    char err[CURL_ERROR_SIZE];
    char what[320]; /* "METHOD path (proto)", for messages */
} resp_t;

typedef struct req {
    const char *method;         /* default GET (POST when body is set) */
    const char *path;           /* "/api/..." */
    const char *token;          /* sent as "Authorization: Bearer <token>" when set */
    const char *body;           /* NULL: no body */
    long body_len;              /* -1 (or 0 with a non-empty body): strlen(body) */
    const char *ctype;          /* NULL: application/json when there is a body; "": no Content-Type */
    const char *const *headers; /* extra request headers, NULL-terminated */
    proto_t proto;
    int chunked;     /* send the body with Transfer-Encoding: chunked (HTTP/1.1) / no length (h2) */
    int raw;         /* 1: skip the invariants every answer must meet */
    int expect100;   /* 1: leave Expect: to the headers (default: no Expect: 100-continue) */
    long timeout_ms; /* 0: 10 s */
    struct gateway *gw; /* the gateway to send it to; NULL: the one h_req or h_multi is given */
} req_t;

typedef struct gateway {
    pid_t pid;
    int port, tls_port;
    int running;
    char log_path[256];
    char *overrides_desc;
    CURL *easy[P_COUNT]; /* one handle per protocol, so connections are reused */
} gateway_t;

/* --- checks ------------------------------------------------------------------------- */

/* Starts a test program: argv[1] is the gateway binary; TEST_DATABASE_URL must be set
 * unless needs_db is 0 (a missing one is a failure, not a skip). */
void h_init(int argc, char **argv, const char *test_name);
/* Prints the TAP plan ("1..N", after the checks) and "# test_name: N passed, M failed", frees
 * what the harness kept; returns the exit status (1 when a check failed or none ran). */
int h_finish(void);
/* The part of the program running now, printed with each failure. */
void h_section(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A figure for the reader, printed as TAP comment lines ("# ..."), one per line of the text. */
void h_diag(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One check, printed as TAP: "ok N - [section] message", or "not ok N - ..." followed by
 * "#   at file line L" and the message's further lines as "# " comments. Returns ok. */
int h_check_at(int ok, const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
#define CHECK(cond, ...) h_check_at(!!(cond), __FILE__, __LINE__, __VA_ARGS__)

/* status is what was expected; prints the request and the answer when it differs. */
int h_expect_status_at(const resp_t *r, long status, const char *file, int line);
#define EXPECT_STATUS(r, st) h_expect_status_at((r), (st), __FILE__, __LINE__)
/* An error answer: status, JSON code, and the error shape of the contract. */
int h_expect_error_at(const resp_t *r, long status, const char *code, const char *file, int line);
#define EXPECT_ERROR(r, st, code) h_expect_error_at((r), (st), (code), __FILE__, __LINE__)
/* A 422 validation_failed whose detail lists exactly the fields named (loc ["body"|"query", f]). */
int h_expect_validation_at(const resp_t *r, const char *place, const char *const *fields, const char *file, int line);
#define EXPECT_VALIDATION(r, place, ...)                                                                                           \
    h_expect_validation_at((r), (place), (const char *const[]){__VA_ARGS__, NULL}, __FILE__, __LINE__)
/* A string member of a JSON object equals expected (expected NULL: the member is JSON null). */
int h_expect_jstr_at(const resp_t *r, const json_t *obj, const char *key, const char *expected, const char *file, int line);
#define EXPECT_JSTR(r, obj, key, exp) h_expect_jstr_at((r), (obj), (key), (exp), __FILE__, __LINE__)
/* A header equals expected (expected NULL: the header is absent). */
int h_expect_header_at(const resp_t *r, const char *name, const char *expected, const char *file, int line);
#define EXPECT_HEADER(r, name, exp) h_expect_header_at((r), (name), (exp), __FILE__, __LINE__)

/* --- the gateway process ------------------------------------------------------------ */

/* Starts the gateway with the base environment plus overrides ("NAME=value" sets,
 * "NAME" alone unsets; NULL-terminated or NULL), and waits for GET /healthz to answer
 * 200 (10 s). With TLS_CERT among the overrides a free TLS_PORT is picked too.
 * Returns 0, or -1 after recording a failure. */
int gateway_start(gateway_t *gw, const char *const *overrides);
/* Waits up to timeout_ms until /metrics says `connections` database connections are up
 * (todo_gateway_db_connections). Returns 1 when they are, 0 otherwise (nothing recorded). */
int gateway_wait_db(gateway_t *gw, int connections, long timeout_ms);
/* Waits up to timeout_ms until no client connection but the asking one is open
 * (todo_gateway_connections 1, asked with Connection: close, which the gateway closes
 * itself): the start-up probe's close is noticed a moment after gateway_start returns, and
 * a test that counts connections starts from none. Returns 1 when settled, 0 otherwise. */
int gateway_wait_idle(gateway_t *gw, long timeout_ms);
/* Starts it without waiting (for start-up failures). Returns 0 or -1. */
int gateway_spawn(gateway_t *gw, const char *const *overrides, const char *const *argv_extra);
/* Waits up to timeout_ms for the process to end; returns 1 and sets *status when it did. */
int gateway_wait_exit(gateway_t *gw, long timeout_ms, int *status);
/* SIGTERM, then checks it exits with status 0 within 15 s (graceful shutdown). Returns 0 when so. */
int gateway_stop(gateway_t *gw);
/* Kills a gateway that is still running (after a failed test), without checks. */
void gateway_kill(gateway_t *gw);
/* What the gateway wrote on stdout and stderr so far; kept by the harness. */
const char *gateway_output(gateway_t *gw);
/* A free TCP port on 127.0.0.1. */
int h_free_port(void);

/* --- requests ----------------------------------------------------------------------- */

/* Makes the request; the caller frees the answer with resp_free. Unless rq->raw, also
 * checks what every answer must carry (X-Request-Id; for errors the JSON error shape and
 * no SQL text; WWW-Authenticate on 401 unauthorized; Allow on 405; Retry-After on 503, none on 502;
 * no body on 204; JSON on other successes). */
resp_t *h_req(gateway_t *gw, const req_t *rq);
resp_t *h_get(gateway_t *gw, proto_t p, const char *path, const char *token);
/* body NULL: no body; otherwise JSON with Content-Type: application/json. */
resp_t *h_send(gateway_t *gw, proto_t p, const char *method, const char *path, const char *token, const char *body);
/* A new, empty answer for h_setup_easy (freed with resp_free). */
resp_t *h_resp_new(void);
void resp_free(resp_t *r);
/* The first header of that name (case-insensitive), or NULL. */
const char *resp_header(const resp_t *r, const char *name);
/* A one-line summary of the answer for messages: status, first bytes of the body. Kept. */
const char *resp_brief(const resp_t *r);

/* Prepares an easy handle for rq (shared by h_req and the multi-interface tests); r
 * receives the answer; the returned header list is freed by the caller after the transfer. */
struct curl_slist *h_setup_easy(CURL *h, gateway_t *gw, const req_t *rq, resp_t *r);
/* Completes r after its transfer: status, version, JSON; checks invariants unless raw. */
void h_complete(CURL *h, const req_t *rq, resp_t *r, CURLcode rc);

/* Runs n requests concurrently through one multi handle: with one_connection, all
 * HTTP/2 streams multiplexed on one connection (CURLPIPE_MULTIPLEX, one connection per
 * host); at most max_active at once (0: all). Returns n answers (caller frees each, and
 * the array with free). Bounded by timeout_ms overall. */
resp_t **h_multi(gateway_t *gw, const req_t *reqs, size_t n, int one_connection, size_t max_active, long timeout_ms);

/* libcurl before 8.0.0 (Debian 12 has 7.88.1) breaks every request that reuses an h2c
 * prior-knowledge connection ("Error in the HTTP2 framing layer", curl issue #10634, fixed
 * by curl PR #10643): there h_req opens a fresh connection for each P_H2C request, and
 * multiplexed batches must use another HTTP/2 transport. The HTTP/2 protocol to multiplex
 * on with this libcurl: P_H2C when it works, else TLS h2 when the gateway has a TLS port,
 * else h2c by Upgrade (h_multi then upgrades the connection with one GET first). */
int h_h2c_reuse_works(void);
proto_t h_mux_proto(const gateway_t *gw);

/* --- small helpers ------------------------------------------------------------------ */

char *h_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* kept */
char *h_keep(char *p);                                                   /* frees p at the end */
char *h_uid(const char *prefix);                                         /* prefix-<16 random hex>; kept */
char *h_repeat(const char *s, int n);                                    /* s repeated n times; kept */
int64_t h_now(void);
void h_sleep_ms(long ms);
long h_ms_since(const struct timespec *t0);
/* true when s matches the extended regular expression re. */
int h_match(const char *s, const char *re);
/* A JSON string member, or NULL. */
const char *h_jstr(const json_t *obj, const char *key);
/* The array length of a JSON array answer, -1 when it is not an array. */
long h_jlen(const resp_t *r);
/* Makes a self-signed P-256 certificate (cert.pem, key.pem) in a new temp folder; returns
 * the folder (kept), or NULL after recording a failure. */
const char *h_make_cert(void);

/* A TCP connection to 127.0.0.1:port (blocking), or -1. */
int h_tcp_connect(int port);
/* A counter's or gauge's value in the gateway's /metrics (an unlabelled series), or -1. */
long long h_metric(gateway_t *gw, const char *name);
/* Sends len bytes on a new connection, then reads until the server closes it or
 * timeout_ms pass; returns what was read (kept), NUL-terminated. */
const char *h_raw_exchange(int port, const char *data, size_t len, long timeout_ms);

/* --- tokens ------------------------------------------------------------------------- */

/* An HS256 token made with libjwt: sub, iat = now, exp = now + 3600. Kept. */
char *tok_user(const char *sub);
/* A token assembled by hand: header and payload JSON texts as they are, signed with
 * HMAC(hmac = "sha256"|"sha384"|"sha512") over "b64(header).b64(payload)" with key, or
 * with an empty signature when hmac is NULL. Kept. */
char *tok_craft(const char *header_json, const char *payload_json, const char *hmac, const char *key);
/* The payload of a token, decoded (caller json_decref's), or NULL. */
json_t *tok_payload(const char *token);
json_t *tok_header(const char *token);
char *b64url_encode(const unsigned char *data, size_t len); /* kept */

/* --- the core flow ------------------------------------------------------------------ */

/* Creates, reads, lists, replaces, patches, completes and deletes a task of a fresh user
 * over protocol p, checking each answer and that it came over want_version
 * (CURL_HTTP_VERSION_1_1 or CURL_HTTP_VERSION_2_0). */
void h_flow_crud(gateway_t *gw, proto_t p, long want_version);

/* Checks a task object: the eleven members and their types, timestamps in RFC 3339 UTC. */
int h_expect_task_at(const resp_t *r, const json_t *task, const char *user_id, const char *file, int line);
#define EXPECT_TASK(r, task, user) h_expect_task_at((r), (task), (user), __FILE__, __LINE__)

#endif
