/* test_ops: what operators and API readers get around the routes. GET /docs (Swagger UI) with
 * DOCS_ASSETS=local, cdn and off: the page, its Content-Security-Policy (whose script hash is
 * the page's inline script's), its assets, CORS on it; Server-Timing on the answers that asked
 * the database and only on those; the access log as JSON (LOG_FORMAT=json) and the protocol
 * in the plain line; todo-gateway --check-config. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

static resp_t *get_raw(gateway_t *g, proto_t p, const char *path, const char *header)
{
    const char *hdr[] = {header, NULL};
    req_t rq = {.method = "GET", .path = path, .headers = hdr, .proto = p, .raw = 1};
    return h_req(g, &rq);
}

/* 'sha256-<base64>' of the page's inline script (the <script> without src). */
static char *inline_script_hash(const char *page)
{
    const char *open = strstr(page, "<script>"), *close = open ? strstr(open, "</script>") : NULL;
    unsigned char digest[EVP_MAX_MD_SIZE], b64[128];
    unsigned n = 0;
    if (close == NULL || !EVP_Digest(open + 8, (size_t)(close - open - 8), digest, &n, EVP_sha256(), NULL))
        return NULL;
    EVP_EncodeBlock(b64, digest, (int)n);
    return h_fmt("'sha256-%s'", b64);
}

static void test_docs_local(void)
{
    gateway_t g;
    h_section("GET /docs, DOCS_ASSETS=local (the default)");
    const char *const env[] = {"CORS_ORIGINS=http://app.example", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    for (proto_t p = P_H1; p <= P_H2C; p++) {
        resp_t *r = get_raw(&g, p, "/docs", "Origin: http://app.example");
        EXPECT_STATUS(r, 200);
        EXPECT_HEADER(r, "Content-Type", "text/html; charset=utf-8");
        EXPECT_HEADER(r, "X-Content-Type-Options", "nosniff");
        CHECK(resp_header(r, "X-Request-Id") != NULL, "%s: X-Request-Id", h_proto_name[p]);
        EXPECT_HEADER(r, "Access-Control-Allow-Origin", "http://app.example"); /* CORS keeps working */
        const char *csp = resp_header(r, "Content-Security-Policy"), *hash = inline_script_hash(r->body);
        CHECK(csp && strncmp(csp, "default-src 'none'; ", 20) == 0, "%s: a CSP that allows nothing by default: %s", h_proto_name[p],
              csp ? csp : "(none)");
        CHECK(csp && hash && strstr(csp, h_fmt("script-src 'self' %s;", hash)) != NULL,
              "%s: scripts from this origin and the page's inline script by its hash (%s)", h_proto_name[p], hash ? hash : "?");
        CHECK(csp && strstr(csp, "connect-src 'self'") && strstr(csp, "frame-ancestors 'none'") && !strstr(csp, "http"),
              "%s: \"Try it out\" may call this origin, nothing else is named", h_proto_name[p]);
        CHECK(strstr(r->body, "src=\"/docs/assets/swagger-ui-bundle.js\"") &&
                  strstr(r->body, "href=\"/docs/assets/swagger-ui.css\"") && strstr(r->body, "url: \"/openapi.json\""),
              "%s: the page loads Swagger UI from /docs/assets/ over /openapi.json", h_proto_name[p]);
        resp_free(r);
        r = get_raw(&g, p, "/docs/assets/swagger-ui-bundle.js", NULL);
        EXPECT_STATUS(r, 200);
        CHECK(r->len > 100000 && resp_header(r, "ETag") != NULL, "%s: the viewer's script is served (%zu bytes, with an ETag)",
              h_proto_name[p], r->len);
        resp_free(r);
        r = get_raw(&g, p, "/docs/assets/../../CMakeCache.txt", NULL);
        CHECK(r->status == 404 || r->status == 400, "%s: nothing outside DOCS_ASSETS_DIR (%ld)", h_proto_name[p], r->status);
        resp_free(r);
        r = h_get(&g, p, "/openapi.json", NULL);
        EXPECT_HEADER(r, "Content-Security-Policy", NULL); /* the page's policy is the page's */
        resp_free(r);
    }
    resp_t *r = h_send(&g, P_H1, "POST", "/docs", NULL, "{}");
    EXPECT_ERROR(r, 405, "method_not_allowed");
    resp_free(r);
    gateway_stop(&g);
}

static void test_docs_cdn_off(void)
{
    gateway_t g;
    h_section("GET /docs, DOCS_ASSETS=cdn");
    const char *const cdn[] = {"DOCS_ASSETS=cdn", "DOCS_ASSETS_DIR=/nonexistent", NULL}; /* nothing local is needed */
    if (gateway_start(&g, cdn) == 0) {
        resp_t *r = get_raw(&g, P_H1, "/docs", NULL);
        EXPECT_STATUS(r, 200);
        const char *csp = resp_header(r, "Content-Security-Policy");
        CHECK(h_match(r->body,
                      "src=\"https://cdn\\.jsdelivr\\.net/npm/swagger-ui-dist@[0-9]+\\.[0-9]+\\.[0-9]+/swagger-ui-bundle\\.js\""),
              "the page loads the pinned version from the CDN");
        CHECK(csp && strstr(csp, "script-src 'self' https://cdn.jsdelivr.net 'sha256-"), "the CSP allows that CDN: %s",
              csp ? csp : "(none)");
        resp_free(r);
        r = get_raw(&g, P_H1, "/docs/assets/swagger-ui-bundle.js", NULL);
        EXPECT_STATUS(r, 404);
        resp_free(r);
        gateway_stop(&g);
    }
    h_section("GET /docs, DOCS_ASSETS=off");
    const char *const off[] = {"DOCS_ASSETS=off", NULL};
    if (gateway_start(&g, off) == 0) {
        resp_t *r = h_get(&g, P_H1, "/docs", NULL);
        EXPECT_ERROR(r, 404, "not_found");
        resp_free(r);
        gateway_stop(&g);
    }
    h_section("DOCS_ASSETS=local without its files stops start-up, naming the variable");
    const char *const missing[] = {"DOCS_ASSETS_DIR=/nonexistent", NULL};
    int st = 0;
    if (gateway_spawn(&g, missing, NULL) == 0) {
        int ended = gateway_wait_exit(&g, 5000, &st);
        CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 2 && strstr(gateway_output(&g), "DOCS_ASSETS_DIR: cannot read"),
              "exits 2 naming DOCS_ASSETS_DIR: %s", gateway_output(&g));
        if (!ended)
            gateway_kill(&g);
    }
}

/* Server-Timing: db;dur=<ms> on the answers that asked the database (errors included), and
 * the plain access line names the protocol and the database's time. */
static void test_server_timing(void)
{
    gateway_t g;
    h_section("Server-Timing and the plain access log");
    const char *const env[] = {"LOG_LEVEL=info", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("timing");
    const char *tok = tok_user(user);
    for (proto_t p = P_H1; p <= P_H2C; p++) {
        resp_t *r = h_get(&g, p, h_fmt("/api/%s/tasks", user), tok);
        const char *st = resp_header(r, "Server-Timing");
        CHECK(st && h_match(st, "^db;dur=[0-9]+\\.[0-9]{3}$"), "%s: a list answer says the database's time: %s", h_proto_name[p],
              st ? st : "(none)");
        resp_free(r);
        r = h_get(&g, p, h_fmt("/api/%s/tasks/999999999", user), tok);
        EXPECT_ERROR(r, 404, "not_found");
        CHECK(resp_header(r, "Server-Timing") != NULL, "%s: so does the database's 404", h_proto_name[p]);
        resp_free(r);
        r = h_get(&g, p, "/readyz", NULL);
        CHECK(resp_header(r, "Server-Timing") != NULL, "%s: and /readyz", h_proto_name[p]);
        resp_free(r);
        r = h_get(&g, p, "/healthz", NULL);
        EXPECT_HEADER(r, "Server-Timing", NULL); /* no database: no timing */
        resp_free(r);
        r = h_get(&g, p, h_fmt("/api/%s/tasks", user), NULL);
        EXPECT_HEADER(r, "Server-Timing", NULL); /* refused before the database */
        resp_free(r);
    }
    h_sleep_ms(100);
    const char *out = gateway_output(&g);
    CHECK(h_match(out, "GET /api/[^ ]+/tasks 200 [0-9.]+ms list_tasks id=[0-9a-f]+ h1 db=[0-9]+\\.[0-9]{3}ms\n"),
          "the plain line of an HTTP/1.1 list: protocol h1 and the database's time");
    CHECK(h_match(out, "GET /api/[^ ]+/tasks 200 [0-9.]+ms list_tasks id=[0-9a-f]+ h2 db=[0-9]+\\.[0-9]{3}ms\n"),
          "the plain line of an h2c list: protocol h2");
    CHECK(h_match(out, "GET /healthz 200 [0-9.]+ms healthz id=[0-9a-f]+ h[12] db=-\n"), "no database: db=-");
    gateway_stop(&g);
}

/* LOG_FORMAT=json: each access-log line is one JSON object with the documented fields. */
static void test_json_log(void)
{
    gateway_t g;
    h_section("LOG_FORMAT=json");
    const char *const env[] = {"LOG_LEVEL=info", "LOG_FORMAT=json", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("jsonlog");
    resp_t *r = h_get(&g, P_H2C, h_fmt("/api/%s/tasks?q=%%22quote%%22%%5C", user), tok_user(user));
    EXPECT_STATUS(r, 200);
    resp_free(r);
    const char *hdr[] = {"X-Request-Id: json-log-1", NULL};
    req_t rq = {.method = "GET", .path = "/api/\"odd\\path/tasks", .headers = hdr, .proto = P_H1, .raw = 1};
    resp_free(h_req(&g, &rq));
    h_sleep_ms(100);
    int lines = 0, list = 0, odd = 0;
    char *copy = h_keep(strdup(gateway_output(&g)));
    for (char *line = strtok(copy, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        if (line[0] != '{')
            continue;
        json_error_t err;
        json_t *o = json_loads(line, 0, &err);
        lines++;
        if (!CHECK(json_is_object(o) && json_is_string(json_object_get(o, "time")) &&
                       json_is_string(json_object_get(o, "method")) && json_is_string(json_object_get(o, "path")) &&
                       json_is_integer(json_object_get(o, "status")) && json_is_number(json_object_get(o, "duration_ms")) &&
                       json_is_string(json_object_get(o, "request_id")) && json_is_string(json_object_get(o, "protocol")) &&
                       json_object_get(o, "db_ms") != NULL,
                   "a JSON access line with every field: %s", line)) {
            json_decref(o);
            continue;
        }
        const char *path = h_jstr(o, "path"), *proto = h_jstr(o, "protocol");
        if (strcmp(h_jstr(o, "route"), "list_tasks") == 0 && strcmp(h_jstr(o, "request_id"), "json-log-1") != 0) {
            list++;
            CHECK(strchr(path, '?') == NULL && strcmp(proto, "h2") == 0 && json_is_number(json_object_get(o, "db_ms")),
                  "the list's line: the path without its query, h2, the database's time: %s", line);
        }
        if (strcmp(h_jstr(o, "request_id"), "json-log-1") == 0) {
            odd++;
            CHECK(strcmp(proto, "h1") == 0 && json_is_null(json_object_get(o, "db_ms")) &&
                      strcmp(path, "/api/\"odd\\path/tasks") == 0,
                  "a path with quotes and a backslash stays one valid JSON line, the path intact: %s", line);
        }
        json_decref(o);
    }
    CHECK(lines >= 3 && list == 1 && odd == 1, "one JSON line per request (%d lines, %d list, %d odd)", lines, list, odd);
    gateway_stop(&g);
}

/* --check-config: the effective configuration, secrets masked, exit 0; or the bad variable, exit 2. */
static void test_check_config(void)
{
    gateway_t g;
    int st = 0;
    h_section("--check-config");
    const char *const argv_check[] = {"--check-config", NULL};
    const char *const env[] = {"DATABASE_URL=postgresql://todo_gateway:hunter2@db.example:5432/todo", "MAX_BODY=1k", NULL};
    if (gateway_spawn(&g, env, argv_check) == 0) {
        int ended = gateway_wait_exit(&g, 5000, &st);
        const char *out = gateway_output(&g);
        CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 0, "exits 0");
        CHECK(strstr(out, "\nMAX_BODY=1024\n") && strstr(out, "\nDOCS_ASSETS=local\n") && strstr(out, "\nLOG_FORMAT=plain\n"),
              "prints the effective values: %s", out);
        CHECK(strstr(out, "BETTER_AUTH_SECRET=****\n") && strstr(out, "todo_gateway:****@db.example") && !strstr(out, "hunter2") &&
                  !strstr(out, H_SECRET),
              "secrets masked");
        if (!ended)
            gateway_kill(&g);
    }
    const char *const bad[] = {"JWT_TTL=forever", NULL};
    if (gateway_spawn(&g, bad, argv_check) == 0) {
        int ended = gateway_wait_exit(&g, 5000, &st);
        CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) == 2 && strstr(gateway_output(&g), "JWT_TTL"),
              "a bad variable: exits 2 naming it: %s", gateway_output(&g));
        if (!ended)
            gateway_kill(&g);
    }
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_ops");
    test_docs_local();
    test_docs_cdn_off();
    test_server_timing();
    test_json_log();
    test_check_config();
    return h_finish();
}
