/* test_around: what surrounds the API. CORS for the origins in CORS_ORIGINS (preflight
 * without a token; nothing for other origins), X-Request-Id on every answer (a sane one
 * echoed, an insane one replaced), /healthz and /readyz, /openapi.json (OpenAPI 3.1 with
 * every route), /metrics (Prometheus text). */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "harness.h"

/* Does a comma-separated header value list item (case-insensitive)? */
static int lists_star(const char *value, const char *item, int star)
{
    if (value == NULL)
        return 0;
    char *copy = strdup(value), *save = NULL;
    int found = 0;
    for (char *t = strtok_r(copy, ", ", &save); t != NULL && !found; t = strtok_r(NULL, ", ", &save))
        found = strcasecmp(t, item) == 0 || (star && strcmp(t, "*") == 0);
    free(copy);
    return found;
}

/* A "*" covers methods, and headers other than Authorization (Fetch standard). */
static int lists(const char *value, const char *item)
{
    return lists_star(value, item, strcasecmp(item, "Authorization") != 0);
}

static resp_t *with_headers(gateway_t *g, proto_t p, const char *method, const char *path, const char *token, const char *body,
                            const char *h1, const char *h2, const char *h3)
{
    const char *hdr[] = {h1, h2, h3, NULL};
    req_t rq = {.method = method, .path = path, .token = token, .body = body, .headers = hdr, .proto = p};
    return h_req(g, &rq);
}

static void test_cors(void)
{
    gateway_t g;
    h_section("CORS_ORIGINS=http://app.example,http://other.example:3000");
    const char *const env[] = {"CORS_ORIGINS=http://app.example,http://other.example:3000", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("cors");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    for (proto_t p = P_H1; p <= P_H2C; p++) {
        h_section("%s: CORS", h_proto_name[p]);
        resp_t *r = with_headers(&g, p, "GET", base, tok, NULL, "Origin: http://app.example", NULL, NULL);
        EXPECT_STATUS(r, 200);
        EXPECT_HEADER(r, "Access-Control-Allow-Origin", "http://app.example");
        EXPECT_HEADER(r, "Access-Control-Allow-Credentials", "true"); /* fetch(..., {credentials: "include"}) */
        EXPECT_HEADER(r, "Vary", "Origin");
        resp_free(r);
        r = with_headers(&g, p, "GET", base, tok, NULL, "Origin: http://evil.example", NULL, NULL);
        EXPECT_STATUS(r, 200);
        CHECK(resp_header(r, "Access-Control-Allow-Credentials") == NULL, "no credentials grant for an origin not listed");
        EXPECT_HEADER(r, "Vary", "Origin"); /* caches must still key on Origin */
        resp_free(r);
        r = with_headers(&g, p, "POST", base, tok, "{\"title\": \"cors\"}", "Origin: http://other.example:3000", NULL, NULL);
        EXPECT_STATUS(r, 201);
        EXPECT_HEADER(r, "Access-Control-Allow-Origin", "http://other.example:3000");
        resp_free(r);
        /* Errors carry it too, so the browser lets the page read them. */
        r = with_headers(&g, p, "GET", base, NULL, NULL, "Origin: http://app.example", NULL, NULL);
        EXPECT_ERROR(r, 401, "unauthorized");
        EXPECT_HEADER(r, "Access-Control-Allow-Origin", "http://app.example");
        resp_free(r);

        /* Preflight: no token needed. */
        const char *const paths[] = {base, h_fmt("%s/1", base), h_fmt("%s/1/complete", base), "/api/auth/login"};
        const char *const methods[] = {"POST", "DELETE", "PATCH", "POST"};
        for (size_t i = 0; i < 4; i++) {
            r = with_headers(&g, p, "OPTIONS", paths[i], NULL, NULL, "Origin: http://app.example",
                             h_fmt("Access-Control-Request-Method: %s", methods[i]),
                             "Access-Control-Request-Headers: authorization,content-type");
            if (CHECK(r->status == 204 || r->status == 200, "preflight OPTIONS %s is 204: %s", paths[i], resp_brief(r))) {
                CHECK(r->status == 204, "preflight OPTIONS %s answers 204 exactly: %s", paths[i], resp_brief(r));
                EXPECT_HEADER(r, "Access-Control-Allow-Origin", "http://app.example");
                const char *m = resp_header(r, "Access-Control-Allow-Methods");
                const char *h = resp_header(r, "Access-Control-Allow-Headers");
                CHECK(lists(m, methods[i]), "Access-Control-Allow-Methods lists %s: %s", methods[i], m ? m : "(none)");
                CHECK(lists(h, "Authorization") && lists(h, "Content-Type"),
                      "Access-Control-Allow-Headers lists Authorization and Content-Type: %s", h ? h : "(none)");
            }
            resp_free(r);
        }

        /* Other origins get nothing. */
        const char *const evil[] = {"http://evil.example", "http://app.example.evil.example", "https://app.example", "null",
                                    "http://app.example:8080"};
        for (size_t i = 0; i < sizeof evil / sizeof *evil; i++) {
            r = with_headers(&g, p, "GET", base, tok, NULL, h_fmt("Origin: %s", evil[i]), NULL, NULL);
            EXPECT_STATUS(r, 200);
            EXPECT_HEADER(r, "Access-Control-Allow-Origin", NULL);
            resp_free(r);
            r = with_headers(&g, p, "OPTIONS", base, NULL, NULL, h_fmt("Origin: %s", evil[i]),
                             "Access-Control-Request-Method: POST", "Access-Control-Request-Headers: authorization");
            CHECK(r->status > 0 && r->status < 500, "a preflight from %s is answered without a 5xx: %s", evil[i], resp_brief(r));
            EXPECT_HEADER(r, "Access-Control-Allow-Origin", NULL);
            resp_free(r);
        }
        r = h_get(&g, p, base, tok);
        EXPECT_HEADER(r, "Access-Control-Allow-Origin", NULL);
        resp_free(r);
    }
    h_section("CORS shutdown");
    gateway_stop(&g);
}

static void test_no_cors(gateway_t *g)
{
    h_section("no CORS_ORIGINS: no CORS headers");
    const char *user = h_uid("nocors");
    resp_t *r =
        with_headers(g, P_H1, "GET", h_fmt("/api/%s/tasks", user), tok_user(user), NULL, "Origin: http://app.example", NULL, NULL);
    EXPECT_STATUS(r, 200);
    EXPECT_HEADER(r, "Access-Control-Allow-Origin", NULL);
    resp_free(r);
}

static int sane_id(const char *s)
{
    if (s == NULL || s[0] == '\0' || strlen(s) > 200)
        return 0;
    for (const char *c = s; *c; c++)
        if (!isgraph((unsigned char)*c))
            return 0;
    return 1;
}

static void test_request_ids(gateway_t *g)
{
    const char *user = h_uid("rid");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    for (proto_t p = P_H1; p <= P_H2C; p++) {
        h_section("%s: X-Request-Id", h_proto_name[p]);
        /* Every kind of answer carries one (the harness checks each answer; these are the kinds). */
        const struct {
            const char *method, *path, *token, *body;
            long status;
        } kinds[] = {
            {"GET", "/healthz", NULL, NULL, 200}, {"GET", "/readyz", NULL, NULL, 200},
            {"GET", base, tok, NULL, 200},        {"POST", base, tok, "{\"title\": \"rid\"}", 201},
            {"GET", "/nope", NULL, NULL, 404},    {"GET", base, NULL, NULL, 401},
            {"DELETE", base, tok, NULL, 405},     {"POST", base, tok, "{\"title\": \"\"}", 422},
            {"POST", base, tok, "nope", 400},
        };
        const char *seen = NULL;
        int distinct = 1;
        for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
            resp_t *r = h_send(g, p, kinds[i].method, kinds[i].path, kinds[i].token, kinds[i].body);
            const char *id = resp_header(r, "X-Request-Id");
            CHECK(r->status == kinds[i].status && sane_id(id), "%s carries a generated X-Request-Id: %s (%s)", r->what,
                  id ? id : "(none)", resp_brief(r));
            if (seen && id && strcmp(seen, id) == 0)
                distinct = 0;
            seen = id ? h_fmt("%s", id) : seen;
            resp_free(r);
        }
        CHECK(distinct, "generated request ids differ from one request to the next");
        resp_t *r = h_send(g, p, "DELETE", h_fmt("%s/1", base), tok, NULL);
        CHECK(r->status == 404 && sane_id(resp_header(r, "X-Request-Id")), "a 404 for a task carries a request id: %s",
              resp_brief(r));
        resp_free(r);

        static const char *const sane[] = {"abc-123", "4bf92f3577b34da6a3ce929d0e0e4736", "req_1.2:3"};
        for (size_t i = 0; i < sizeof sane / sizeof *sane; i++) {
            r = with_headers(g, p, "GET", base, tok, NULL, h_fmt("X-Request-Id: %s", sane[i]), NULL, NULL);
            EXPECT_HEADER(r, "X-Request-Id", sane[i]);
            resp_free(r);
        }
        r = with_headers(g, p, "GET", "/nope", NULL, NULL, "X-Request-Id: abc-123", NULL, NULL);
        EXPECT_HEADER(r, "X-Request-Id", "abc-123");
        resp_free(r);
        r = with_headers(g, p, "GET", base, NULL, NULL, "X-Request-Id: abc-123", NULL, NULL);
        EXPECT_HEADER(r, "X-Request-Id", "abc-123");
        resp_free(r);

        const char *const insane[] = {h_repeat("a", 300), "has space", "semi;colon\"quote", "<script>", "caf\xc3\xa9"};
        for (size_t i = 0; i < sizeof insane / sizeof *insane; i++) {
            r = with_headers(g, p, "GET", base, tok, NULL, h_fmt("X-Request-Id: %s", insane[i]), NULL, NULL);
            const char *id = resp_header(r, "X-Request-Id");
            CHECK(r->status == 200 && id && strcmp(id, insane[i]) != 0 && sane_id(id),
                  "an X-Request-Id of \"%.40s%s\" is replaced by a generated one, got \"%.60s\"", insane[i],
                  strlen(insane[i]) > 40 ? "..." : "", id ? id : "(none)");
            resp_free(r);
        }
        if (p == P_H1) { /* a control character: only HTTP/1.1 lets curl send it as is */
            r = with_headers(g, p, "GET", base, tok, NULL, "X-Request-Id: tab\there", NULL, NULL);
            const char *id = resp_header(r, "X-Request-Id");
            CHECK(r->status == 200 && id && strchr(id, '\t') == NULL && sane_id(id),
                  "an X-Request-Id with a tab is replaced, got \"%s\"", id ? id : "(none)");
            resp_free(r);
        }
    }
}

static void test_health(gateway_t *g)
{
    for (proto_t p = P_H1; p <= P_H2C; p++) {
        h_section("%s: /healthz, /readyz", h_proto_name[p]);
        resp_t *r = h_get(g, p, "/healthz", NULL);
        (void)(EXPECT_STATUS(r, 200) && CHECK(json_is_object(r->json), "/healthz is a JSON object: %s", resp_brief(r)));
        resp_free(r);
        r = h_get(g, p, "/readyz", NULL);
        (void)(EXPECT_STATUS(r, 200) && CHECK(json_is_object(r->json), "/readyz is a JSON object: %s", resp_brief(r)));
        resp_free(r);
        r = h_get(g, p, "/healthz?verbose=1", NULL);
        EXPECT_STATUS(r, 200);
        resp_free(r);
    }
}

/* "/api/{user_id}/tasks/{id}" -> "/api/{}/tasks/{}" */
static const char *norm(const char *path)
{
    char *out = h_fmt("%s", path), *o = out;
    for (const char *c = path; *c; c++) {
        *o++ = *c;
        if (*c == '{') {
            while (*c && *c != '}')
                c++;
            if (*c == '}')
                *o++ = '}';
            else
                break;
        }
    }
    *o = '\0';
    return out;
}

static void test_openapi(gateway_t *g)
{
    h_section("/openapi.json");
    resp_t *r = h_get(g, P_H1, "/openapi.json", NULL);
    if (EXPECT_STATUS(r, 200) && CHECK(json_is_object(r->json), "an object: %s", resp_brief(r))) {
        const char *v = h_jstr(r->json, "openapi");
        CHECK(v && strncmp(v, "3.1", 3) == 0, "openapi is 3.1.x: %s", v ? v : "(none)");
        json_t *info = json_object_get(r->json, "info");
        CHECK(json_is_object(info) && h_jstr(info, "title") && h_jstr(info, "version"), "info has a title and a version");
        json_t *paths = json_object_get(r->json, "paths");
        static const struct {
            const char *path, *methods[5];
        } want[] = {
            {"/api/{}/tasks", {"get", "post"}},
            {"/api/{}/tasks/{}", {"get", "put", "patch", "delete"}},
            {"/api/{}/tasks/{}/complete", {"patch"}},
            {"/api/auth/register", {"post"}},
            {"/api/auth/login", {"post"}},
            {"/api/auth/logout", {"post"}},
            {"/api/auth/me", {"get"}},
            {"/healthz", {"get"}},
            {"/readyz", {"get"}},
        };
        for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
            const char *key;
            json_t *item, *found = NULL;
            json_object_foreach(paths, key, item) if (strcmp(norm(key), want[i].path) == 0) found = item;
            if (!CHECK(json_is_object(found), "paths documents %s", want[i].path))
                continue;
            for (size_t k = 0; k < 5 && want[i].methods[k]; k++)
                CHECK(json_is_object(json_object_get(found, want[i].methods[k])), "paths[%s] documents %s", want[i].path,
                      want[i].methods[k]);
        }
        /* The error codes of the contract are written down somewhere in it. */
        static const char *const codes[] = {"invalid_json",      "unauthorized",           "user_id_mismatch",
                                            "not_found",         "validation_failed",      "email_taken",
                                            "payload_too_large", "unsupported_media_type", "invalid_credentials"};
        for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
            CHECK(strstr(r->body, codes[i]) != NULL, "the document mentions the error code %s", codes[i]);
    }
    resp_free(r);
}

/* The sum of the counter samples (names ending _total) whose labels contain label. */
static double counter_sum(const char *body, const char *label)
{
    double sum = 0;
    char *copy = strdup(body), *save = NULL;
    for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *brace = strchr(line, '{'), *close = brace ? strchr(brace, '}') : NULL;
        if (line[0] == '#' || !brace || !close || brace - line < 6 || strncmp(brace - 6, "_total", 6) != 0)
            continue;
        *close = '\0';
        if (strstr(brace, label) != NULL)
            sum += atof(close + 1);
    }
    free(copy);
    return sum;
}

static void test_metrics(gateway_t *g)
{
    h_section("/metrics");
    const char *user = h_uid("metrics");
    resp_t *r = h_send(g, P_H1, "POST", h_fmt("/api/%s/tasks", user), tok_user(user), "{\"title\": \"counted\"}");
    EXPECT_STATUS(r, 201);
    resp_free(r);
    r = h_get(g, P_H1, "/metrics", NULL);
    if (EXPECT_STATUS(r, 200)) {
        const char *ct = resp_header(r, "Content-Type");
        CHECK(ct && strncmp(ct, "text/plain", 10) == 0, "Content-Type is text/plain: %s", ct ? ct : "(none)");
        CHECK(strstr(r->body, "# TYPE ") != NULL, "it has # TYPE lines");
        CHECK(strstr(r->body, " histogram") != NULL && strstr(r->body, "_bucket{") != NULL &&
                  strstr(r->body, "le=\"+Inf\"") != NULL,
              "it has a latency histogram");
        CHECK(strstr(r->body, "\"201\"") != NULL, "requests are counted by status (a label value \"201\")");
        CHECK(strstr(r->body, "waiting") != NULL, "the pool's waiting requests are exported");
        CHECK(strstr(r->body, "in_use") != NULL || strstr(r->body, "inuse") != NULL || strstr(r->body, "busy") != NULL,
              "the pool's connections in use are exported");
        CHECK(strstr(r->body, "error") != NULL, "database errors are exported");
        /* One more 201 and one more 404: the counters move by exactly one each. */
        double c201 = counter_sum(r->body, "\"201\""), c404 = counter_sum(r->body, "\"404\"");
        resp_t *p = h_send(g, P_H1, "POST", h_fmt("/api/%s/tasks", user), tok_user(user), "{\"title\": \"counted too\"}");
        EXPECT_STATUS(p, 201);
        resp_free(p);
        p = h_get(g, P_H1, h_fmt("/api/%s/tasks/999999999", user), tok_user(user));
        EXPECT_STATUS(p, 404);
        resp_free(p);
        p = h_get(g, P_H2C, "/metrics", NULL);
        if (EXPECT_STATUS(p, 200)) {
            CHECK(counter_sum(p->body, "\"201\"") == c201 + 1, "the 201 counters grew by one (%g -> %g)", c201,
                  counter_sum(p->body, "\"201\""));
            CHECK(counter_sum(p->body, "\"404\"") == c404 + 1, "the 404 counters grew by one (%g -> %g)", c404,
                  counter_sum(p->body, "\"404\""));
        }
        resp_free(p);
        /* Every non-comment line is "name{labels} value" or "name value". */
        int lines_ok = 1;
        char *copy = strdup(r->body), *save = NULL;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
            if (line[0] != '#' && !h_match(line, "^[a-zA-Z_:][a-zA-Z0-9_:]*(\\{[^}]*\\})? ([-+0-9.eE]+|[-+]?Inf|NaN)( [0-9]+)?$")) {
                lines_ok = CHECK(0, "a Prometheus sample line: %s", line);
                break;
            }
        free(copy);
        CHECK(lines_ok, "every sample line is well formed");
    }
    resp_free(r);
}

/* HEAD is GET without a body wherever GET is served (RFC 9110 9.3.2); a 204 has no Content-Length. */
static void test_head_and_204(gateway_t *g)
{
    h_section("HEAD, and 204 without Content-Length");
    const char *user = h_uid("head");
    for (int p = P_H1; p <= P_H2C; p++) {
        req_t rq = {.method = "HEAD", .path = "/healthz", .proto = (proto_t)p};
        resp_t *r = h_req(g, &rq);
        if (EXPECT_STATUS(r, 200))
            CHECK(r->len == 0, "HEAD /healthz has no body (%zu bytes)", r->len);
        resp_free(r);
        req_t lq = {.method = "HEAD", .path = h_fmt("/api/%s/tasks", user), .token = tok_user(user), .proto = (proto_t)p};
        r = h_req(g, &lq);
        if (EXPECT_STATUS(r, 200))
            CHECK(r->len == 0, "HEAD on the task list has no body (%zu bytes)", r->len);
        resp_free(r);
    }
    resp_t *r = h_send(g, P_H1, "DELETE", "/healthz", NULL, NULL);
    if (EXPECT_STATUS(r, 405)) {
        const char *allow = resp_header(r, "Allow");
        CHECK(allow && strstr(allow, "GET") && strstr(allow, "HEAD"), "Allow lists GET and HEAD: %s", allow ? allow : "(none)");
    }
    resp_free(r);
    r = h_send(g, P_H1, "POST", h_fmt("/api/%s/tasks", user), tok_user(user), "{\"title\": \"to delete\"}");
    json_int_t id = EXPECT_STATUS(r, 201) ? json_integer_value(json_object_get(r->json, "id")) : 0;
    resp_free(r);
    r = h_send(g, P_H1, "DELETE", h_fmt("/api/%s/tasks/%lld", user, (long long)id), tok_user(user), NULL);
    if (EXPECT_STATUS(r, 204))
        CHECK(resp_header(r, "Content-Length") == NULL, "a 204 carries no Content-Length: %s",
              resp_header(r, "Content-Length") ? resp_header(r, "Content-Length") : "");
    resp_free(r);
}

/* RATE_LIMIT: a token bucket per client address on /api/; beyond it 429 with Retry-After.
 * Off by default (every other test runs without it and would see no 429). */
static void test_rate_limit(void)
{
    gateway_t g;
    const char *const env[] = {"RATE_LIMIT=1", "RATE_LIMIT_BURST=3", NULL};
    h_section("RATE_LIMIT=1 RATE_LIMIT_BURST=3");
    if (gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("limited");
    const char *path = h_fmt("/api/%s/tasks", user);
    for (int i = 0; i < 3; i++) {
        resp_t *r = h_get(&g, P_H1, path, tok_user(user));
        EXPECT_STATUS(r, 200); /* the burst goes through */
        resp_free(r);
    }
    /* the bucket refills at one a second: on a slow machine (valgrind) a request or two more may pass */
    resp_t *r = NULL;
    for (int i = 0; i < 20; i++) {
        resp_free(r);
        r = h_get(&g, i % 2 ? P_H2C : P_H1, path, tok_user(user));
        if (r->status != 200)
            break;
    }
    if (EXPECT_STATUS(r, 429)) {
        const char *code = h_jstr(r->json, "code"), *retry = resp_header(r, "Retry-After");
        CHECK(code && strcmp(code, "too_many_requests") == 0, "code too_many_requests: %s", code ? code : "(none)");
        CHECK(retry && atoi(retry) >= 1, "Retry-After is a number of seconds: %s", retry ? retry : "(none)");
    }
    resp_free(r);
    r = h_get(&g, P_H1, "/healthz", NULL); /* not an /api/ route: never limited */
    EXPECT_STATUS(r, 200);
    resp_free(r);
    r = NULL;
    for (int i = 0; i < 20; i++) { /* limited before the token is even looked at: no 401 once the bucket is dry */
        resp_free(r);
        r = h_get(&g, P_H1, path, NULL);
        if (r->status != 401)
            break;
    }
    EXPECT_STATUS(r, 429);
    resp_free(r);
    usleep(1100 * 1000); /* one token a second */
    r = h_get(&g, P_H1, path, tok_user(user));
    EXPECT_STATUS(r, 200);
    resp_free(r);
    gateway_stop(&g);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_around");
    gateway_t g;
    if (gateway_start(&g, NULL) == 0) {
        test_health(&g);
        test_request_ids(&g);
        test_no_cors(&g);
        test_openapi(&g);
        test_metrics(&g);
        test_head_and_204(&g);
        h_section("shutdown");
        gateway_stop(&g);
    }
    test_cors();
    test_rate_limit();
    return h_finish();
}
