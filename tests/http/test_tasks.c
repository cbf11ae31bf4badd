/* test_tasks: the task routes of the contract, over HTTP/1.1 and over h2c: create, read,
 * replace, patch, complete, delete; validation (422), bodies that are not JSON (400),
 * not JSON media (415) or too large (413); listing with filters, sorting, search and
 * paging (Link: rel="next"); unknown ids, routes and methods (404, 405). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgadmin.h"

static gateway_t gw;
static proto_t P;

/* POSTs body as the user; returns the new task's id, or 0 after a failure. */
static long long create(const char *tok, const char *base, const char *body)
{
    resp_t *r = h_send(&gw, P, "POST", base, tok, body);
    long long id = 0;
    if (EXPECT_STATUS(r, 201))
        id = json_integer_value(json_object_get(r->json, "id"));
    resp_free(r);
    return id;
}

static char *dump(const json_t *j)
{
    return h_keep(json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS));
}

/* Does the Allow header list method? */
static int allows(const resp_t *r, const char *method)
{
    const char *a = resp_header(r, "Allow");
    if (a == NULL)
        return 0;
    char *copy = strdup(a), *save = NULL;
    int found = 0;
    for (char *t = strtok_r(copy, ", ", &save); t != NULL && !found; t = strtok_r(NULL, ", ", &save))
        found = strcmp(t, method) == 0;
    free(copy);
    return found;
}

/* The titles of a list answer joined with "|", e.g. "d|c|b". */
static const char *titles(const resp_t *r)
{
    if (!json_is_array(r->json))
        return "(not a list)";
    char *s = h_fmt("%s", "");
    size_t i;
    json_t *t;
    json_array_foreach(r->json, i, t) s = h_fmt("%s%s%s", s, i ? "|" : "", h_jstr(t, "title") ? h_jstr(t, "title") : "?");
    return s;
}

static void expect_list(const char *tok, const char *path, const char *want, const char *user, int want_link)
{
    resp_t *r = h_get(&gw, P, path, tok);
    if (EXPECT_STATUS(r, 200)) {
        CHECK(strcmp(titles(r), want) == 0, "GET %s lists %s, got %s", path, want, titles(r));
        size_t i;
        json_t *t;
        int shapes = 1;
        json_array_foreach(r->json, i, t) shapes &= EXPECT_TASK(r, t, user);
        const char *link = resp_header(r, "Link");
        if (want_link)
            CHECK(link != NULL, "GET %s has a Link header (more rows exist): %s", path, resp_brief(r));
        else
            CHECK(link == NULL, "GET %s has no Link header (no more rows), got %s", path, link ? link : "");
    }
    resp_free(r);
}

/* --- create and read ------------------------------------------------------------------ */

static void test_create(void)
{
    h_section("%s: create and read", h_proto_name[P]);
    const char *user = h_uid("tasks");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);

    resp_t *r = h_send(&gw, P, "POST", base, tok, "{\"title\": \"\\t  Buy milk \\n\"}");
    if (EXPECT_STATUS(r, 201) && EXPECT_TASK(r, r->json, user)) {
        long long id = json_integer_value(json_object_get(r->json, "id"));
        EXPECT_JSTR(r, r->json, "title", "Buy milk");
        EXPECT_JSTR(r, r->json, "description", NULL);
        CHECK(json_is_false(json_object_get(r->json, "completed")), "a new task is pending: %s", resp_brief(r));
        CHECK(strcmp(h_jstr(r->json, "created_at"), h_jstr(r->json, "updated_at")) == 0,
              "a new task's updated_at is its created_at: %s", resp_brief(r));
        EXPECT_HEADER(r, "Location", h_fmt("%s/%lld", base, id));
        const char *created = dump(r->json);
        const char *loc = resp_header(r, "Location");
        if (loc != NULL) {
            resp_t *g = h_get(&gw, P, loc, tok);
            if (EXPECT_STATUS(g, 200))
                CHECK(strcmp(dump(g->json), created) == 0, "GET Location returns what POST did: %s vs %s", dump(g->json), created);
            resp_free(g);
        }
    }
    resp_free(r);

    r = h_send(&gw, P, "POST", base, tok, "{\"title\": \"With text\", \"description\": \"two\\nlines \\\"quoted\\\" é\"}");
    (void)(EXPECT_STATUS(r, 201) && EXPECT_JSTR(r, r->json, "description", "two\nlines \"quoted\" é"));
    resp_free(r);

    r = h_send(&gw, P, "POST", base, tok, "{\"title\": \"Null description\", \"description\": null}");
    (void)(EXPECT_STATUS(r, 201) && EXPECT_JSTR(r, r->json, "description", NULL));
    resp_free(r);

    /* 200 characters are fine whatever their byte length; 201 are not. */
    const char *const units[] = {"a", "\xc3\xa9" /* é */, "\xe6\xbc\xa2" /* 漢 */, "\xf0\x9f\x98\x80" /* 😀 */};
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        const char *t200 = h_repeat(units[i], 200);
        r = h_send(&gw, P, "POST", base, tok, h_fmt("{\"title\": \"  %s  \"}", t200));
        (void)(EXPECT_STATUS(r, 201) && EXPECT_JSTR(r, r->json, "title", t200));
        resp_free(r);
        r = h_send(&gw, P, "POST", base, tok, h_fmt("{\"title\": \"%s\"}", h_repeat(units[i], 201)));
        EXPECT_VALIDATION(r, "body", "title");
        resp_free(r);
    }
    r = h_send(&gw, P, "POST", base, tok, h_fmt("{\"title\": \"d\", \"description\": \"%s\"}", h_repeat("\xc3\xa9", 1000)));
    EXPECT_STATUS(r, 201);
    resp_free(r);
    r = h_send(&gw, P, "POST", base, tok, h_fmt("{\"title\": \"d\", \"description\": \"%s\"}", h_repeat("x", 1001)));
    EXPECT_VALIDATION(r, "body", "description");
    resp_free(r);
}

/* --- validation ------------------------------------------------------------------------ */

static void test_validation(void)
{
    h_section("%s: validation (422)", h_proto_name[P]);
    const char *user = h_uid("valid");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    static const char *const bad_titles[] = {"{\"title\": \"\"}",
                                             "{\"title\": \"   \"}",
                                             "{\"title\": \" \\t\\n \"}",
                                             "{\"title\": 5}",
                                             "{\"title\": null}",
                                             "{\"title\": true}",
                                             "{\"title\": [\"a\"]}",
                                             "{\"title\": {\"x\": 1}}",
                                             "{}",
                                             "{\"title\": \"\\u00a0\\u3000\\u2003\"}" /* Unicode spaces only */,
                                             "{\"description\": \"no title\"}"};
    for (size_t i = 0; i < sizeof bad_titles / sizeof *bad_titles; i++) {
        resp_t *r = h_send(&gw, P, "POST", base, tok, bad_titles[i]);
        if (EXPECT_VALIDATION(r, "body", "title"))
            CHECK(h_jstr(r->json, "message") && strncmp(h_jstr(r->json, "message"), "title", 5) == 0,
                  "the message names the field: %s", resp_brief(r));
        resp_free(r);
    }
    static const char *const bad_desc[] = {"{\"title\": \"t\", \"description\": 5}", "{\"title\": \"t\", \"description\": false}",
                                           "{\"title\": \"t\", \"description\": [\"x\"]}"};
    for (size_t i = 0; i < sizeof bad_desc / sizeof *bad_desc; i++) {
        resp_t *r = h_send(&gw, P, "POST", base, tok, bad_desc[i]);
        EXPECT_VALIDATION(r, "body", "description");
        resp_free(r);
    }
    static const char *const bad_completed[] = {"{\"title\": \"t\", \"completed\": \"yes\"}",
                                                "{\"title\": \"t\", \"completed\": 1}", "{\"title\": \"t\", \"completed\": null}"};
    for (size_t i = 0; i < sizeof bad_completed / sizeof *bad_completed; i++) {
        resp_t *r = h_send(&gw, P, "POST", base, tok, bad_completed[i]);
        EXPECT_VALIDATION(r, "body", "completed");
        resp_free(r);
    }
    /* Every problem is listed, not just the first. */
    resp_t *r = h_send(&gw, P, "POST", base, tok,
                       h_fmt("{\"title\": \"\", \"description\": \"%s\", \"completed\": \"no\"}", h_repeat("x", 1001)));
    if (EXPECT_VALIDATION(r, "body", "title", "description", "completed")) {
        const char *m = h_jstr(r->json, "message");
        CHECK(m && strstr(m, "title") && strstr(m, "description") && strstr(m, "completed"),
              "the message sums up the three problems: %s", resp_brief(r));
    }
    resp_free(r);

    /* Nothing was stored by the rejected requests. */
    r = h_get(&gw, P, base, tok);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 0, "no rejected task was stored: %s", resp_brief(r)));
    resp_free(r);
}

/* --- bodies that are not JSON objects, not JSON media, or empty ---------------------- */

static void test_bodies(void)
{
    h_section("%s: bodies (400 invalid_json, 415)", h_proto_name[P]);
    const char *user = h_uid("bodies");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    long long id = create(tok, base, "{\"title\": \"target\"}");
    const char *item = h_fmt("%s/%lld", base, id);

    static const char *const not_objects[] = {"not json",
                                              "[]",
                                              "[{\"title\": \"a\"}]",
                                              "\"x\"",
                                              "1",
                                              "null",
                                              "true",
                                              "{",
                                              "{\"title\": \"a\"",
                                              "{\"title\": \"a\"} trailing",
                                              "{'title': 'a'}",
                                              "{\"title\": \"\xff\xfe\"}" /* not UTF-8 */};
    for (size_t i = 0; i < sizeof not_objects / sizeof *not_objects; i++) {
        resp_t *r = h_send(&gw, P, "POST", base, tok, not_objects[i]);
        EXPECT_ERROR(r, 400, "invalid_json");
        resp_free(r);
    }
    static const char *const methods[] = {"PUT", "PATCH"};
    for (size_t i = 0; i < 2; i++) {
        resp_t *r = h_send(&gw, P, methods[i], item, tok, "[1, 2]");
        EXPECT_ERROR(r, 400, "invalid_json");
        resp_free(r);
        r = h_send(&gw, P, methods[i], item, tok, "{nope");
        EXPECT_ERROR(r, 400, "invalid_json");
        resp_free(r);
    }
    resp_t *r = h_send(&gw, P, "PATCH", h_fmt("%s/complete", item), tok, "{nope");
    EXPECT_ERROR(r, 400, "invalid_json");
    resp_free(r);
    r = h_send(&gw, P, "PATCH", h_fmt("%s/complete", item), tok, "[true]");
    EXPECT_ERROR(r, 400, "invalid_json");
    resp_free(r);

    /* An empty body where a task is expected: Content-Length 0, and no body at all. */
    const char *const empty_methods[] = {"POST", "PUT", "PATCH"};
    for (size_t i = 0; i < 3; i++) {
        const char *path = i == 0 ? base : item;
        req_t rq = {.method = empty_methods[i], .path = path, .token = tok, .body = "", .proto = P};
        r = h_req(&gw, &rq);
        EXPECT_ERROR(r, 400, "invalid_json");
        resp_free(r);
        r = h_send(&gw, P, empty_methods[i], path, tok, NULL);
        EXPECT_ERROR(r, 400, "invalid_json");
        resp_free(r);
    }

    /* Deeply nested JSON is a client error, never a 500 (nor a crash). */
    r = h_send(&gw, P, "POST", base, tok, h_fmt("{\"title\": %s1%s}", h_repeat("[", 20000), h_repeat("]", 20000)));
    CHECK(r->status == 400 || r->status == 422, "a title nested 20000 arrays deep is a 400 or 422: %s", resp_brief(r));
    resp_free(r);
    r = h_send(&gw, P, "POST", base, tok, h_fmt("%s%s", h_repeat("[", 30000), h_repeat("]", 30000)));
    EXPECT_ERROR(r, 400, "invalid_json");
    resp_free(r);

    /* A lone surrogate escape is a client error, never a 500. */
    r = h_send(&gw, P, "POST", base, tok, "{\"title\": \"a\\ud800b\"}");
    CHECK(r->status == 400 || r->status == 422, "a lone \\ud800 in a title is a 400 or 422: %s", resp_brief(r));
    resp_free(r);

    /* A NUL character inside a string is a client error, never a 500. */
    r = h_send(&gw, P, "POST", base, tok, "{\"title\": \"a\\u0000b\"}");
    CHECK(r->status == 400 || r->status == 422, "a \\u0000 in a title is a 400 or 422: %s", resp_brief(r));
    resp_free(r);

    /* Media types. */
    static const char *const bad_types[] = {"text/plain",        "",          "application/x-www-form-urlencoded",
                                            "application/jsonx", "text/json", "multipart/form-data; boundary=x"};
    for (size_t i = 0; i < sizeof bad_types / sizeof *bad_types; i++) {
        req_t rq = {
            .method = "POST", .path = base, .token = tok, .body = "{\"title\": \"typed\"}", .ctype = bad_types[i], .proto = P};
        r = h_req(&gw, &rq);
        CHECK(r->status == 415 && h_jstr(r->json, "code") && strcmp(h_jstr(r->json, "code"), "unsupported_media_type") == 0,
              "Content-Type \"%s\" is 415 unsupported_media_type: %s", bad_types[i], resp_brief(r));
        resp_free(r);
    }
    static const char *const good_types[] = {"application/json; charset=utf-8", "application/json;charset=UTF-8",
                                             "APPLICATION/JSON"};
    for (size_t i = 0; i < sizeof good_types / sizeof *good_types; i++) {
        req_t rq = {
            .method = "POST", .path = base, .token = tok, .body = "{\"title\": \"typed\"}", .ctype = good_types[i], .proto = P};
        r = h_req(&gw, &rq);
        CHECK(r->status == 201, "Content-Type \"%s\" is accepted: %s", good_types[i], resp_brief(r));
        resp_free(r);
    }
    const char *const typed_methods[] = {"PUT", "PATCH"};
    for (size_t i = 0; i < 2; i++) {
        req_t rq = {.method = typed_methods[i],
                    .path = item,
                    .token = tok,
                    .body = "{\"title\": \"x\"}",
                    .ctype = "text/plain",
                    .proto = P};
        r = h_req(&gw, &rq);
        EXPECT_ERROR(r, 415, "unsupported_media_type");
        resp_free(r);
    }
    req_t rq = {.method = "PATCH",
                .path = h_fmt("%s/complete", item),
                .token = tok,
                .body = "{\"completed\": true}",
                .ctype = "text/plain",
                .proto = P};
    r = h_req(&gw, &rq);
    EXPECT_ERROR(r, 415, "unsupported_media_type");
    resp_free(r);

    /* The task is untouched by all of that. */
    r = h_get(&gw, P, item, tok);
    (void)(EXPECT_STATUS(r, 200) && EXPECT_JSTR(r, r->json, "title", "target") &&
           CHECK(json_is_false(json_object_get(r->json, "completed")), "the task is untouched: %s", resp_brief(r)));
    resp_free(r);

    /* A client that asks Expect: 100-continue (curl does for bodies over 1 KiB) is served. */
    {
        const char *hdr[] = {"Expect: 100-continue", NULL};
        req_t rq = {.method = "POST",
                    .path = base,
                    .token = tok,
                    .proto = P,
                    .headers = hdr,
                    .expect100 = 1,
                    .body = h_fmt("{\"title\": \"expect\", \"description\": \"%s\"}", h_repeat("\xc3\xa9", 1000))};
        r = h_req(&gw, &rq);
        EXPECT_STATUS(r, 201);
        resp_free(r);
    }

    /* The default MAX_BODY is 64 KiB: a body of exactly 65536 bytes (JSON padded with spaces; over
     * HTTP/2 more than the initial flow-control window) is served, one byte more is 413. */
    {
        const char *head = "{\"title\": \"padded\"}";
        const char *exact = h_fmt("%s%s", head, h_repeat(" ", 65536 - (int)strlen(head)));
        const char *over = h_fmt("%s%s", head, h_repeat(" ", 65537 - (int)strlen(head)));
        r = h_send(&gw, P, "POST", base, tok, exact);
        CHECK(r->status == 201, "a 65536-byte body (the default MAX_BODY) is served: %s", resp_brief(r));
        resp_free(r);
        r = h_send(&gw, P, "POST", base, tok, over);
        EXPECT_ERROR(r, 413, "payload_too_large");
        resp_free(r);
    }

    /* Over the default MAX_BODY (64 KiB). */
    const char *big = h_fmt("{\"title\": \"big\", \"description\": \"%s\"}", h_repeat("x", 100 * 1024));
    r = h_send(&gw, P, "POST", base, tok, big);
    EXPECT_ERROR(r, 413, "payload_too_large");
    resp_free(r);
}

/* --- PUT, PATCH, complete ---------------------------------------------------------------- */

static void test_update(void)
{
    h_section("%s: PUT, PATCH and complete", h_proto_name[P]);
    const char *user = h_uid("update");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    resp_t *r = h_send(&gw, P, "POST", base, tok, "{\"title\": \"T\", \"description\": \"D\"}");
    long long id = 0;
    const char *created_at = NULL, *updated_at = NULL;
    if (EXPECT_STATUS(r, 201)) {
        id = json_integer_value(json_object_get(r->json, "id"));
        created_at = h_fmt("%s", h_jstr(r->json, "created_at"));
        updated_at = h_fmt("%s", h_jstr(r->json, "updated_at"));
    }
    resp_free(r);
    if (id == 0)
        return;
    const char *item = h_fmt("%s/%lld", base, id), *complete = h_fmt("%s/%lld/complete", base, id);

    r = h_send(&gw, P, "PATCH", complete, tok, NULL);
    (void)(EXPECT_STATUS(r, 200) &&
           CHECK(json_is_true(json_object_get(r->json, "completed")), "no body toggles to true: %s", resp_brief(r)));
    resp_free(r);

    /* PUT: description left out becomes null; completed left out is kept. */
    r = h_send(&gw, P, "PUT", item, tok, "{\"title\": \"  T2 \"}");
    if (EXPECT_STATUS(r, 200) && EXPECT_TASK(r, r->json, user)) {
        EXPECT_JSTR(r, r->json, "title", "T2");
        EXPECT_JSTR(r, r->json, "description", NULL);
        CHECK(json_is_true(json_object_get(r->json, "completed")), "PUT without completed keeps it: %s", resp_brief(r));
        CHECK(json_integer_value(json_object_get(r->json, "id")) == id, "PUT keeps the id: %s", resp_brief(r));
        EXPECT_JSTR(r, r->json, "created_at", created_at);
        CHECK(strcmp(h_jstr(r->json, "updated_at"), updated_at) > 0, "PUT moves updated_at past %s: %s", updated_at, resp_brief(r));
    }
    resp_free(r);

    r = h_send(&gw, P, "PUT", item, tok, "{\"title\": \"T3\", \"description\": \"D3\", \"completed\": false}");
    if (EXPECT_STATUS(r, 200)) {
        EXPECT_JSTR(r, r->json, "title", "T3");
        EXPECT_JSTR(r, r->json, "description", "D3");
        CHECK(json_is_false(json_object_get(r->json, "completed")), "PUT sets completed: %s", resp_brief(r));
    }
    resp_free(r);

    r = h_send(&gw, P, "PUT", item, tok, "{\"description\": \"no title\"}");
    EXPECT_VALIDATION(r, "body", "title");
    resp_free(r);

    /* PATCH changes only what it names. */
    r = h_send(&gw, P, "PATCH", item, tok, "{}");
    if (EXPECT_STATUS(r, 200)) {
        EXPECT_JSTR(r, r->json, "title", "T3");
        EXPECT_JSTR(r, r->json, "description", "D3");
    }
    resp_free(r);
    r = h_send(&gw, P, "PATCH", item, tok, "{\"title\": \"  P  \"}");
    if (EXPECT_STATUS(r, 200)) {
        EXPECT_JSTR(r, r->json, "title", "P");
        EXPECT_JSTR(r, r->json, "description", "D3");
        CHECK(json_is_false(json_object_get(r->json, "completed")), "PATCH title keeps completed: %s", resp_brief(r));
    }
    resp_free(r);
    r = h_send(&gw, P, "PATCH", item, tok, "{\"description\": null}");
    if (EXPECT_STATUS(r, 200)) {
        EXPECT_JSTR(r, r->json, "title", "P");
        EXPECT_JSTR(r, r->json, "description", NULL);
    }
    resp_free(r);
    r = h_send(&gw, P, "PATCH", item, tok, "{\"completed\": true, \"description\": \"back\"}");
    if (EXPECT_STATUS(r, 200)) {
        EXPECT_JSTR(r, r->json, "title", "P");
        EXPECT_JSTR(r, r->json, "description", "back");
        CHECK(json_is_true(json_object_get(r->json, "completed")), "PATCH sets completed: %s", resp_brief(r));
    }
    const char *before = r->status == 200 ? dump(r->json) : "";
    resp_free(r);

    static const char *const bad[] = {"{\"title\": \"\"}", "{\"completed\": \"true\"}", "{\"description\": 7}",
                                      "{\"title\": null}"};
    static const char *const field[] = {"title", "completed", "description", "title"};
    for (size_t i = 0; i < 4; i++) {
        r = h_send(&gw, P, "PATCH", item, tok, bad[i]);
        EXPECT_VALIDATION(r, "body", field[i]);
        resp_free(r);
    }
    r = h_get(&gw, P, item, tok);
    (void)(EXPECT_STATUS(r, 200) &&
           CHECK(strcmp(dump(r->json), before) == 0, "rejected PATCHes changed nothing: %s vs %s", dump(r->json), before));
    resp_free(r);

    /* complete: no body toggles, a body sets. */
    static const struct {
        const char *body;
        int want;
    } steps[] = {{NULL, 0}, {NULL, 1}, {"{\"completed\": true}", 1}, {"{\"completed\": true}", 1}, {"{\"completed\": false}", 0},
                 {"", 1} /* Content-Length: 0 is no body */};
    for (size_t i = 0; i < sizeof steps / sizeof *steps; i++) {
        req_t rq = {.method = "PATCH", .path = complete, .token = tok, .body = steps[i].body, .proto = P};
        r = h_req(&gw, &rq);
        (void)(EXPECT_STATUS(r, 200) && CHECK(json_is_boolean(json_object_get(r->json, "completed")) &&
                                                  json_is_true(json_object_get(r->json, "completed")) == steps[i].want,
                                              "complete step %zu (%s) leaves completed %s: %s", i,
                                              steps[i].body ? (steps[i].body[0] ? steps[i].body : "empty body") : "no body",
                                              steps[i].want ? "true" : "false", resp_brief(r)));
        resp_free(r);
    }
    r = h_send(&gw, P, "PATCH", complete, tok, "{\"completed\": \"yes\"}");
    EXPECT_VALIDATION(r, "body", "completed");
    resp_free(r);
}

/* --- DELETE and unknown ids ------------------------------------------------------------ */

static void test_delete_and_unknown(void)
{
    h_section("%s: DELETE and unknown ids", h_proto_name[P]);
    const char *user = h_uid("delete");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    long long keep = create(tok, base, "{\"title\": \"keep\"}");
    long long gone = create(tok, base, "{\"title\": \"gone\"}");
    const char *item = h_fmt("%s/%lld", base, gone);

    resp_t *r = h_send(&gw, P, "DELETE", item, tok, NULL);
    (void)(EXPECT_STATUS(r, 204) && CHECK(r->len == 0, "204 has no body"));
    resp_free(r);
    r = h_send(&gw, P, "DELETE", item, tok, NULL);
    EXPECT_ERROR(r, 404, "not_found");
    resp_free(r);

    r = h_get(&gw, P, base, tok);
    (void)(EXPECT_STATUS(r, 200) &&
           CHECK(h_jlen(r) == 1 && json_integer_value(json_object_get(json_array_get(r->json, 0), "id")) == keep,
                 "only the other task is left: %s", resp_brief(r)));
    resp_free(r);

    /* A deleted id, an id never issued, and ids that are not ids at all: the same 404. */
    static const char *const ids[] = {NULL, "999999999999", "0", "-1", "abc", "1abc", "1.5", "99999999999999999999", "%20", "1%00"};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        const char *id = ids[i] ? ids[i] : h_fmt("%lld", gone);
        const char *p = h_fmt("%s/%s", base, id);
        r = h_get(&gw, P, p, tok);
        EXPECT_ERROR(r, 404, "not_found");
        resp_free(r);
        r = h_send(&gw, P, "PUT", p, tok, "{\"title\": \"x\"}");
        EXPECT_ERROR(r, 404, "not_found");
        resp_free(r);
        r = h_send(&gw, P, "PATCH", p, tok, "{\"title\": \"x\"}");
        EXPECT_ERROR(r, 404, "not_found");
        resp_free(r);
        r = h_send(&gw, P, "DELETE", p, tok, NULL);
        EXPECT_ERROR(r, 404, "not_found");
        resp_free(r);
        r = h_send(&gw, P, "PATCH", h_fmt("%s/complete", p), tok, NULL);
        EXPECT_ERROR(r, 404, "not_found");
        resp_free(r);
    }
}

/* --- routing: unknown paths, trailing slashes, wrong methods --------------------------- */

static void test_routing(void)
{
    h_section("%s: routing (404, 405)", h_proto_name[P]);
    const char *user = h_uid("routes");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    long long id = create(tok, base, "{\"title\": \"routed\"}");

    const char *const unknown[] = {"/",
                                   "/nope",
                                   "/api",
                                   "/api/",
                                   h_fmt("/api/%s", user),
                                   h_fmt("/api/%s/", user),
                                   h_fmt("/api/%s/nope", user),
                                   h_fmt("%s/", base),
                                   h_fmt("%s/%lld/", base, id),
                                   h_fmt("%s/%lld/complete/", base, id),
                                   h_fmt("%s/%lld/complete/x", base, id),
                                   h_fmt("%s/%lld/x", base, id),
                                   h_fmt("/API/%s/tasks", user),
                                   "/api/auth",
                                   "/api/auth/nope",
                                   "/healthz/x"};
    for (size_t i = 0; i < sizeof unknown / sizeof *unknown; i++) {
        resp_t *r = h_get(&gw, P, unknown[i], tok);
        EXPECT_ERROR(r, 404, "not_found");
        resp_free(r);
        if (strncmp(unknown[i], "/api/", 5) == 0 && strlen(unknown[i]) > 5 && strncmp(unknown[i], "/api/auth", 9) != 0)
            continue; /* under /api/{user_id}/ a missing token may be refused first */
        r = h_get(&gw, P, unknown[i], NULL);
        EXPECT_ERROR(r, 404, "not_found");
        resp_free(r);
    }
    resp_t *r = h_send(&gw, P, "POST", h_fmt("%s/", base), tok, "{\"title\": \"slash\"}");
    EXPECT_ERROR(r, 404, "not_found");
    resp_free(r);

    static const struct {
        const char *method, *path, *allow[4];
    } wrong[] = {
        {"DELETE", "", {"GET", "POST"}},       {"PUT", "", {"GET", "POST"}},
        {"PATCH", "", {"GET", "POST"}},        {"POST", "/ID", {"GET", "PUT", "PATCH", "DELETE"}},
        {"GET", "/ID/complete", {"PATCH"}},    {"POST", "/ID/complete", {"PATCH"}},
        {"DELETE", "/ID/complete", {"PATCH"}},
    };
    for (size_t i = 0; i < sizeof wrong / sizeof *wrong; i++) {
        char *p = strdup(wrong[i].path), *at = strstr(p, "ID");
        const char *path = at ? h_fmt("%s%.*s%lld%s", base, (int)(at - p), p, id, at + 2) : h_fmt("%s%s", base, p);
        free(p);
        req_t rq = {.method = wrong[i].method, .path = path, .token = tok, .proto = P};
        r = h_req(&gw, &rq);
        if (EXPECT_ERROR(r, 405, "method_not_allowed"))
            for (size_t k = 0; k < 4 && wrong[i].allow[k]; k++)
                CHECK(allows(r, wrong[i].allow[k]), "Allow lists %s: %s", wrong[i].allow[k],
                      resp_header(r, "Allow") ? resp_header(r, "Allow") : "(none)");
        resp_free(r);
    }
    static const struct {
        const char *method, *path, *allow;
    } wrong_auth[] = {{"GET", "/api/auth/login", "POST"},  {"GET", "/api/auth/register", "POST"},
                      {"GET", "/api/auth/logout", "POST"}, {"POST", "/api/auth/me", "GET"},
                      {"DELETE", "/api/auth/me", "GET"},   {"POST", "/healthz", "GET"},
                      {"DELETE", "/readyz", "GET"}};
    for (size_t i = 0; i < sizeof wrong_auth / sizeof *wrong_auth; i++) {
        req_t rq = {.method = wrong_auth[i].method, .path = wrong_auth[i].path, .token = tok, .proto = P};
        r = h_req(&gw, &rq);
        (void)(EXPECT_ERROR(r, 405, "method_not_allowed") &&
               CHECK(allows(r, wrong_auth[i].allow), "Allow lists %s: %s", wrong_auth[i].allow,
                     resp_header(r, "Allow") ? resp_header(r, "Allow") : "(none)"));
        resp_free(r);
    }

    /* A query string does not change the route. */
    r = h_get(&gw, P, h_fmt("%s/%lld?x=1", base, id), tok);
    EXPECT_STATUS(r, 200);
    resp_free(r);
}

/* --- listing ------------------------------------------------------------------------------- */

static void test_list(void)
{
    h_section("%s: list (filters, sorting, search, paging)", h_proto_name[P]);
    const char *user = h_uid("list");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    long long b = create(tok, base, "{\"title\": \"b apple\", \"description\": \"fruit one\"}");
    long long a = create(tok, base, "{\"title\": \"A banana\"}");
    create(tok, base, "{\"title\": \"c Cherry\", \"description\": \"has BANANA flavour\"}");
    long long d = create(tok, base, "{\"title\": \"d date\"}");
    resp_t *r;
    r = h_send(&gw, P, "PATCH", h_fmt("%s/%lld/complete", base, a), tok, NULL);
    EXPECT_STATUS(r, 200);
    resp_free(r);
    r = h_send(&gw, P, "PATCH", h_fmt("%s/%lld/complete", base, d), tok, NULL);
    EXPECT_STATUS(r, 200);
    resp_free(r);
    r = h_send(&gw, P, "PATCH", h_fmt("%s/%lld", base, b), tok, "{\"title\": \"b apple!\"}");
    EXPECT_STATUS(r, 200);
    resp_free(r);

    static const struct {
        const char *query, *want;
    } cases[] = {
        {"", "d date|c Cherry|A banana|b apple!"},
        {"?status=all", "d date|c Cherry|A banana|b apple!"},
        {"?status=pending", "c Cherry|b apple!"},
        {"?status=completed", "d date|A banana"},
        {"?sort=created", "d date|c Cherry|A banana|b apple!"},
        {"?sort=created&order=asc", "b apple!|A banana|c Cherry|d date"},
        {"?sort=created_at&order=asc", "b apple!|A banana|c Cherry|d date"},
        {"?order=asc", "b apple!|A banana|c Cherry|d date"},
        {"?sort=title", "A banana|b apple!|c Cherry|d date"},
        {"?sort=title&order=asc", "A banana|b apple!|c Cherry|d date"},
        {"?sort=title&order=desc", "d date|c Cherry|b apple!|A banana"},
        {"?sort=updated", "b apple!|d date|A banana|c Cherry"},
        {"?sort=updated_at", "b apple!|d date|A banana|c Cherry"},
        {"?sort=updated&order=asc", "c Cherry|A banana|d date|b apple!"},
        {"?q=banana", "c Cherry|A banana"},
        {"?q=BaNaNa", "c Cherry|A banana"},
        {"?q=fruit", "b apple!"},
        {"?q=banana&status=completed", "A banana"},
        {"?q=banana&sort=title", "A banana|c Cherry"},
        {"?q=zzz", ""},
        {"?q=", "d date|c Cherry|A banana|b apple!"},
        {"?q=%25", ""}, /* a literal %, not a wildcard */
        {"?q=_", ""},   /* a literal _, not a wildcard */
        {"?q=b%20apple", "b apple!"},
        {"?q=b+apple", "b apple!"}, /* + is a space in a query string (URLSearchParams writes it so) */
        {"?status=pending&sort=title&order=desc", "c Cherry|b apple!"},
        {"?limit=1000", "d date|c Cherry|A banana|b apple!"},
        {"?limit=1&offset=3", "b apple!"},
        {"?offset=10", ""},
        {"?limit=4", "d date|c Cherry|A banana|b apple!"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        expect_list(tok, h_fmt("%s%s", base, cases[i].query), cases[i].want, user, 0);

    /* Search in UTF-8, percent-encoded, case-insensitive beyond ASCII. */
    {
        const char *u2 = h_uid("list-utf8");
        const char *t2 = tok_user(u2);
        const char *b2 = h_fmt("/api/%s/tasks", u2);
        create(t2, b2, "{\"title\": \"Caf\u00e9 au lait\"}");
        create(t2, b2, "{\"title\": \"cafe noir\", \"description\": \"\u00c9CLAIR\"}");
        expect_list(t2, h_fmt("%s?q=caf%%C3%%A9", b2), "Caf\xc3\xa9 au lait", u2, 0);
        expect_list(t2, h_fmt("%s?q=CAF%%C3%%89", b2), "Caf\xc3\xa9 au lait", u2, 0);
        expect_list(t2, h_fmt("%s?q=%%C3%%A9clair", b2), "cafe noir", u2, 0);
        expect_list(t2, h_fmt("%s?q=caf", b2), "cafe noir|Caf\xc3\xa9 au lait", u2, 0);
    }

    /* Paging: Link: <...>; rel="next" keeps the other parameters and moves offset. */
    static const struct {
        const char *query, *page1, *page2, *keep[3];
    } pages[] = {
        {"?limit=2", "d date|c Cherry", "A banana|b apple!", {"limit=2"}},
        {"?sort=title&limit=3&status=all", "A banana|b apple!|c Cherry", "d date", {"sort=title", "limit=3", "status=all"}},
        {"?q=a&limit=1&offset=1&order=asc", "A banana", "c Cherry", {"q=a", "limit=1", "order=asc"}},
    };
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        const char *path = h_fmt("%s%s", base, pages[i].query);
        r = h_get(&gw, P, path, tok);
        const char *next = NULL;
        if (EXPECT_STATUS(r, 200)) {
            CHECK(strcmp(titles(r), pages[i].page1) == 0, "GET %s lists %s, got %s", path, pages[i].page1, titles(r));
            const char *link = resp_header(r, "Link");
            if (CHECK(link && h_match(link, "^<[^>]+>; *rel=\"?next\"?$"), "GET %s has Link: <...>; rel=\"next\", got %s", path,
                      link ? link : "(none)")) {
                const char *end = strchr(link, '>');
                next = h_fmt("%.*s", (int)(end - link - 1), link + 1);
                CHECK(strncmp(next, h_fmt("%s?", base), strlen(base) + 1) == 0, "the next link %s is on %s", next, base);
                for (size_t k = 0; k < 3 && pages[i].keep[k]; k++)
                    CHECK(strstr(next, pages[i].keep[k]) != NULL, "the next link %s keeps %s", next, pages[i].keep[k]);
                int want_offset = i == 0 ? 2 : i == 1 ? 3 : 2;
                CHECK(strstr(next, h_fmt("offset=%d", want_offset)) != NULL && strstr(next, "offset=1&") == NULL &&
                          !h_match(next, "offset=1$"),
                      "the next link %s has offset=%d (and only that offset)", next, want_offset);
            }
        }
        resp_free(r);
        if (next != NULL && strncmp(next, "/api/", 5) == 0)
            expect_list(tok, next, pages[i].page2, user, i == 2);
    }

    /* Unknown values for known parameters: 422 naming each. */
    static const struct {
        const char *query, *fields[4]; /* NULL-terminated */
    } bad[] = {
        {"?status=done", {"status"}},
        {"?sort=importance", {"sort"}},
        {"?order=up", {"order"}},
        {"?limit=0", {"limit"}},
        {"?limit=1001", {"limit"}},
        {"?limit=abc", {"limit"}},
        {"?limit=-1", {"limit"}},
        {"?limit=1.5", {"limit"}},
        {"?offset=-1", {"offset"}},
        {"?offset=x", {"offset"}},
        {"?status=done&sort=importance", {"status", "sort"}},
        {"?order=sideways&limit=0&offset=no", {"order", "limit", "offset"}},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = h_get(&gw, P, h_fmt("%s%s", base, bad[i].query), tok);
        h_expect_validation_at(r, "query", (const char *const *)bad[i].fields, __FILE__, __LINE__);
        resp_free(r);
    }
}

/* --- large lists (rows put in by the database superuser) -------------------------------- */

static void test_large_list(PGconn *db)
{
    h_section("%s: 1001 tasks: the default limit, Link, paging through all", h_proto_name[P]);
    const char *user = h_uid("large");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    /* All in one statement: one created_at for all, so only the id orders them. */
    if (!pg_run(db,
                "insert into todo.tasks (user_id, title, description) select $1, 'bulk ' || g, repeat('d', 1000) "
                "from generate_series(1, 1001) g",
                user, NULL))
        return;
    resp_t *r = h_get(&gw, P, base, tok);
    const char *next = NULL;
    if (EXPECT_STATUS(r, 200)) {
        CHECK(h_jlen(r) == 1000, "the default limit is 1000 (%ld tasks, %zu bytes)", h_jlen(r), r->len);
        const char *link = resp_header(r, "Link");
        if (CHECK(link && h_match(link, "^</api/[^>]*offset=1000[^>]*>; *rel=\"?next\"?$"), "Link to offset=1000: %s",
                  link ? link : "(none)"))
            next = h_fmt("%.*s", (int)(strchr(link, '>') - link - 1), link + 1);
    }
    resp_free(r);
    if (next) {
        r = h_get(&gw, P, next, tok);
        (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 1 && resp_header(r, "Link") == NULL,
                                              "the second page holds the last task and no Link: %s", resp_brief(r)));
        resp_free(r);
    }
    /* Following the links with limit=100 visits every task exactly once. */
    char *seen = calloc(1002, 1);
    int pages = 0, dupes = 0, total = 0;
    const char *path = h_fmt("%s?limit=100&sort=title&order=desc", base);
    while (path != NULL && pages < 20) {
        r = h_get(&gw, P, path, tok);
        pages++;
        path = NULL;
        if (!EXPECT_STATUS(r, 200)) {
            resp_free(r);
            break;
        }
        size_t i;
        json_t *t;
        json_array_foreach(r->json, i, t)
        {
            int n = 0;
            if (h_jstr(t, "title") && sscanf(h_jstr(t, "title"), "bulk %d", &n) == 1 && n >= 1 && n <= 1001) {
                dupes += seen[n];
                seen[n] = 1;
                total++;
            }
        }
        const char *link = resp_header(r, "Link");
        if (link && link[0] == '<' && strchr(link, '>'))
            path = h_fmt("%.*s", (int)(strchr(link, '>') - link - 1), link + 1);
        resp_free(r);
    }
    int missing = 0;
    for (int n = 1; n <= 1001; n++)
        missing += !seen[n];
    free(seen);
    CHECK(pages == 11 && total == 1001 && dupes == 0 && missing == 0,
          "11 pages of limit=100 hold each of the 1001 tasks once (%d pages, %d tasks, %d twice, %d missing)", pages, total, dupes,
          missing);
}

/* --- MAX_BODY ---------------------------------------------------------------------------- */

static void test_max_body(gateway_t *small)
{
    h_section("%s: MAX_BODY=1024 (413)", h_proto_name[P]);
    const char *user = h_uid("maxbody");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    const char *skeleton = "{\"title\": \"x\", \"description\": \"\"}";
    int fill = 1024 - (int)strlen(skeleton);
    const char *exact = h_fmt("{\"title\": \"x\", \"description\": \"%s\"}", h_repeat("a", fill));
    const char *over = h_fmt("{\"title\": \"x\", \"description\": \"%s\"}", h_repeat("a", fill + 1));
    const char *big = h_fmt("{\"title\": \"x\", \"description\": \"%s\"}", h_repeat("a", 2048));
    CHECK(strlen(exact) == 1024, "the 1024-byte body is 1024 bytes (%zu)", strlen(exact));

    for (int chunked = 0; chunked < 2; chunked++) {
        req_t rq = {.method = "POST", .path = base, .token = tok, .body = exact, .proto = P, .chunked = chunked};
        resp_t *r = h_req(small, &rq);
        CHECK(r->status == 201, "a body of exactly MAX_BODY bytes%s is accepted: %s", chunked ? " (chunked)" : "", resp_brief(r));
        resp_free(r);
        rq.body = over;
        r = h_req(small, &rq);
        EXPECT_ERROR(r, 413, "payload_too_large");
        resp_free(r);
        rq.body = big;
        r = h_req(small, &rq);
        EXPECT_ERROR(r, 413, "payload_too_large");
        resp_free(r);
        rq.method = "PUT";
        rq.path = h_fmt("%s/1", base);
        r = h_req(small, &rq);
        EXPECT_ERROR(r, 413, "payload_too_large");
        resp_free(r);
        if (!chunked && P == P_H1) { /* a client that waits for 100 Continue gets the 413 instead */
            const char *hdr[] = {"Expect: 100-continue", NULL};
            req_t eq = {.method = "POST", .path = base, .token = tok, .body = big, .proto = P, .headers = hdr, .expect100 = 1};
            r = h_req(small, &eq);
            EXPECT_ERROR(r, 413, "payload_too_large");
            resp_free(r);
        }
    }
    /* The gateway still serves, on this connection or a new one. */
    resp_t *r = h_get(small, P, base, tok);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 2, "only the two MAX_BODY-sized tasks were stored: %s", resp_brief(r)));
    resp_free(r);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_tasks");
    PGconn *db = pg_admin();
    if (gateway_start(&gw, NULL) == 0) {
        static const proto_t protos[] = {P_H1, P_H2C};
        for (size_t i = 0; i < 2; i++) {
            P = protos[i];
            test_create();
            test_validation();
            test_bodies();
            test_update();
            test_delete_and_unknown();
            test_routing();
            test_list();
            if (db != NULL)
                test_large_list(db);
        }
        h_section("shutdown");
        gateway_stop(&gw);
    }
    gateway_t small;
    const char *const env[] = {"MAX_BODY=1024", NULL};
    if (gateway_start(&small, env) == 0) {
        P = P_H1;
        test_max_body(&small);
        P = P_H2C;
        test_max_body(&small);
        h_section("shutdown MAX_BODY=1024");
        gateway_stop(&small);
    }
    if (db != NULL)
        PQfinish(db);
    return h_finish();
}
