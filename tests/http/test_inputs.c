/* test_inputs: the input kinds found from outside (issue 6.4), each checked as a kind, not
 * one example. A limit enforced at one entry holds at the other: a password registration
 * refuses (over 72 bytes, under 8 characters) never logs in, with the answer of a wrong
 * password. An error names its true source: a bad query value is 422 with loc ["query",
 * name], whatever Unicode space or digit it carries, never a 400 about a body the request
 * does not have; a body that does not parse is 400 invalid_json on every route that takes
 * one. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static const char *register_body(const char *email, const char *password)
{
    return h_fmt("{\"email\": \"%s\", \"password\": \"%s\"}", email, password);
}

static void test_password_limits(gateway_t *g)
{
    h_section("login refuses every password registration would refuse, as it refuses a wrong one");
    const char *email = h_fmt("%s@example.com", h_uid("pw"));
    const char *pw72 = h_repeat("p", 72);
    resp_t *r = h_send(g, P_H1, "POST", "/api/auth/register", NULL, register_body(email, pw72));
    EXPECT_STATUS(r, 201);
    resp_free(r);
    r = h_send(g, P_H1, "POST", "/api/auth/login", NULL, register_body(email, pw72));
    EXPECT_STATUS(r, 200); /* the control: the password as registered works */
    resp_free(r);
    r = h_send(g, P_H1, "POST", "/api/auth/login", NULL, register_body(email, "wrong password"));
    const char *wrong = EXPECT_ERROR(r, 401, "invalid_credentials") ? h_fmt("%s", r->body) : "";
    resp_free(r);

    const char *variants[] = {
        h_fmt("%sX", pw72),                      /* 73 bytes: bcrypt reads 72, it would match */
        h_fmt("%s%s", pw72, h_repeat("X", 100)), /* anything appended */
        h_fmt("%s\xc3\xa9", h_repeat("p", 71)),  /* 73 bytes, 72 characters */
    };
    for (size_t i = 0; i < sizeof variants / sizeof *variants; i++) {
        for (proto_t p = P_H1; p <= P_H2C; p++) {
            r = h_send(g, p, "POST", i % 2 ? "/api/auth/signin" : "/api/auth/login", NULL, register_body(email, variants[i]));
            (void)(EXPECT_ERROR(r, 401, "invalid_credentials") &&
                   CHECK(strcmp(r->body, wrong) == 0, "the same answer as a wrong password: %s", resp_brief(r)));
            resp_free(r);
        }
    }
    /* an unknown email with a password too long to register: 401 too, not 422 (no oracle) */
    r = h_send(g, P_H1, "POST", "/api/auth/login", NULL, register_body(h_fmt("%s@example.com", h_uid("nobody")), variants[0]));
    EXPECT_ERROR(r, 401, "invalid_credentials");
    resp_free(r);
    /* too short to register: never a login either */
    const char *email7 = h_fmt("%s@example.com", h_uid("short"));
    r = h_send(g, P_H1, "POST", "/api/auth/register", NULL, register_body(email7, "1234567"));
    EXPECT_VALIDATION(r, "body", "password");
    resp_free(r);
    r = h_send(g, P_H1, "POST", "/api/auth/login", NULL, register_body(email7, "1234567"));
    EXPECT_ERROR(r, 401, "invalid_credentials");
    resp_free(r);

    h_section("emails are stored trimmed at registration, and match trimmed and in any case at login");
    const char *name = h_uid("pad");
    r = h_send(g, P_H1, "POST", "/api/auth/register", NULL, register_body(h_fmt(" %s@example.com ", name), "long enough"));
    (void)(EXPECT_STATUS(r, 201) &&
           EXPECT_JSTR(r, json_object_get(r->json, "user"), "email", h_fmt("%s@example.com", name)));
    resp_free(r);
    char *upper = h_fmt("  %s@EXAMPLE.com ", name);
    r = h_send(g, P_H1, "POST", "/api/auth/login", NULL, register_body(upper, "long enough"));
    EXPECT_STATUS(r, 200);
    resp_free(r);
}

static void test_query_values(gateway_t *g)
{
    const char *user = h_uid("query");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    for (int i = 0; i < 8; i++)
        resp_free(h_send(g, P_H1, "POST", base, tok, h_fmt("{\"title\": \"t%d\"}", i)));

    h_section("a bad limit or offset is 422 naming it, whatever space or digit it carries");
    /* U+3000, U+2003, U+1680, U+2028, U+00A0 spaces; U+0665 an Arabic-Indic five; ASCII space, sign */
    const char *bad[] = {"5%E3%80%80", "5%E2%80%83", "%E1%9A%805", "5%E2%80%A8", "5%C2%A0", "%D9%A5", "%205", "+5", "5.0", "-1",
                         "1e3",        "0x10",       "",           "abc",        "1001",       "0"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        for (int which = 0; which < 2; which++) {
            const char *name = which ? "offset" : "limit";
            if (which && (strcmp(bad[i], "1001") == 0 || strcmp(bad[i], "0") == 0))
                continue; /* a large offset, or 0, is fine */
            resp_t *r = h_get(g, P_H1, h_fmt("%s?%s=%s", base, name, bad[i]), tok);
            EXPECT_VALIDATION(r, "query", name);
            resp_free(r);
        }
    }
    h_section("several bad query values: one 422 naming each");
    resp_t *r = h_get(g, P_H2C, h_fmt("%s?limit=5%%E3%%80%%80&offset=1%%E2%%80%%83&sort=nope", base), tok);
    EXPECT_VALIDATION(r, "query", "sort", "limit", "offset");
    resp_free(r);
    h_section("good values with leading zeros");
    r = h_get(g, P_H1, h_fmt("%s?limit=007&offset=0", base), tok);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 7, "limit=007 gives 7 tasks (%ld)", h_jlen(r)));
    resp_free(r);
}

static void test_bodies(gateway_t *g)
{
    const char *user = h_uid("body");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    resp_t *r = h_send(g, P_H1, "POST", base, tok, "{\"title\": \"mine\"}");
    const char *task = r->json ? h_fmt("%s/%lld", base, (long long)json_integer_value(json_object_get(r->json, "id"))) : base;
    resp_free(r);
    const struct {
        const char *method, *path, *token;
    } routes[] = {
        {"POST", base, tok},
        {"PUT", task, tok},
        {"PATCH", task, tok},
        {"PATCH", h_fmt("%s/complete", task), tok},
        {"POST", "/api/auth/register", NULL},
        {"POST", "/api/auth/login", NULL},
    };
    const char *deep = h_fmt("%s%s", h_repeat("[", 100000), h_repeat("]", 100000));
    const char *bodies[] = {"{\"title\": \"a\"", "{\"title\": \"a\\u0000b\"}", deep, "[1, 2]", "\"text\"", "nul"};
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        h_section("a body that does not parse, on %s %s: 400 invalid_json", routes[i].method, routes[i].path);
        for (size_t b = 0; b < sizeof bodies / sizeof *bodies; b++) {
            r = h_send(g, b % 2 ? P_H2C : P_H1, routes[i].method, routes[i].path, routes[i].token, bodies[b]);
            EXPECT_ERROR(r, 400, "invalid_json");
            resp_free(r);
        }
    }
    r = h_get(g, P_H1, task, tok);
    (void)(EXPECT_STATUS(r, 200) && EXPECT_JSTR(r, r->json, "title", "mine")); /* nothing was written */
    resp_free(r);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_inputs");
    gateway_t g;
    const char *const env[] = {"MAX_BODY=1MiB", NULL}; /* room for a body nested 100,000 deep */
    if (gateway_start(&g, env) == 0) {
        test_password_limits(&g);
        test_query_values(&g);
        test_bodies(&g);
        h_section("shutdown");
        gateway_stop(&g);
    }
    return h_finish();
}
