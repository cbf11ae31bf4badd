/* test_auth: bearer tokens. Only HS256 with BETTER_AUTH_SECRET is accepted; every other
 * alg (none, HS384, HS512, RS256/ES256/PS256 headers with an HMAC signature), a wrong
 * secret, a tampered payload or signature, a missing/expired exp, a future nbf/iat, and a
 * missing/empty/overlong/non-string user id are 401 with WWW-Authenticate: Bearer. The
 * user id comes from sub, else id, else user.id; 60 s leeway (JWT_LEEWAY); iss/aud
 * checked when JWT_ISSUER/JWT_AUDIENCE are set; 403 user_id_mismatch for another path. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "harness.h"

static gateway_t gw;
static const char *HS = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";

static const char *payload(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *payload(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        abort();
    va_end(ap);
    return h_keep(s);
}

/* GET path with "Authorization: <authorization>" (NULL: no header); expects status. */
static void try_auth(gateway_t *g, const char *what, const char *authorization, const char *path, long status)
{
    const char *hdr[] = {authorization ? h_fmt("Authorization: %s", authorization) : NULL, NULL};
    req_t rq = {.method = "GET", .path = path, .headers = hdr, .proto = P_H1};
    resp_t *r = h_req(g, &rq);
    if (status == 401) {
        if (CHECK(r->status == 401 && h_jstr(r->json, "code") && strcmp(h_jstr(r->json, "code"), "unauthorized") == 0,
                  "%s: 401 unauthorized: %s", what, resp_brief(r))) {
            /* RFC 6750 3.1: a request without a bearer token (no header, another scheme, a bare
             * "Bearer ") gets no error code; error="invalid_token" only for a token refused. */
            const char *after = authorization && strncasecmp(authorization, "Bearer ", 7) == 0 ? authorization + 7 : NULL;
            int presented = after != NULL && after[strspn(after, " ")] != '\0';
            const char *want = presented ? "Bearer error=\"invalid_token\"" : "Bearer";
            const char *wa = resp_header(r, "WWW-Authenticate");
            CHECK(wa && strcmp(wa, want) == 0, "%s: WWW-Authenticate: %s, got %s", what, want, wa ? wa : "(none)");
            /* The answer does not echo the token back. */
            const char *dot = authorization ? strchr(authorization, '.') : NULL;
            if (dot != NULL && strlen(dot) > 16)
                CHECK(strstr(r->body, h_fmt("%.16s", dot + 1)) == NULL, "%s: the error does not echo the token: %s", what,
                      resp_brief(r));
        }
    } else {
        CHECK(r->status == status, "%s: %ld: %s", what, status, resp_brief(r));
    }
    resp_free(r);
}

static void try_token(gateway_t *g, const char *what, const char *token, const char *path, long status)
{
    try_auth(g, what, h_fmt("Bearer %s", token), path, status);
}

static void test_tokens(void)
{
    const char *U = h_uid("auth");
    const char *path = h_fmt("/api/%s/tasks", U);
    const long long now = h_now(), exp = now + 3600;
    const char *good = payload("{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld}", U, now, exp);
    const char *valid = tok_craft(HS, good, "sha256", H_SECRET);

    h_section("accepted tokens");
    try_token(&gw, "an HS256 token made by libjwt", tok_user(U), path, 200);
    try_token(&gw, "a hand-made HS256 token", valid, path, 200);
    try_token(&gw, "HS256 without typ", tok_craft("{\"alg\":\"HS256\"}", good, "sha256", H_SECRET), path, 200);
    try_token(&gw, "no iat", tok_craft(HS, payload("{\"sub\":\"%s\",\"exp\":%lld}", U, exp), "sha256", H_SECRET), path, 200);
    /* NumericDate (RFC 7519 section 2) is any JSON number: JavaScript's Date.now() / 1000 makes fractions */
    try_token(&gw, "a fractional exp, iat and nbf (NumericDate)",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"iat\":%lld.25,\"nbf\":%lld.25,\"exp\":%lld.731}", U, now, now, exp),
                        "sha256", H_SECRET),
              path, 200);
    try_token(&gw, "a fractional exp in the past",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"exp\":%lld.5}", U, now - 3600), "sha256", H_SECRET), path, 401);
    try_token(&gw, "the user id in id", tok_craft(HS, payload("{\"id\":\"%s\",\"exp\":%lld}", U, exp), "sha256", H_SECRET), path,
              200);
    try_token(&gw, "the user id in user.id (Better Auth cookie cache)",
              tok_craft(HS, payload("{\"user\":{\"id\":\"%s\",\"email\":\"a@b.example\"},\"session\":{},\"exp\":%lld}", U, exp),
                        "sha256", H_SECRET),
              path, 200);
    const char *both =
        tok_craft(HS, payload("{\"sub\":\"%s\",\"id\":\"%s-id\",\"user\":{\"id\":\"%s-user\"},\"exp\":%lld}", U, U, U, exp),
                  "sha256", H_SECRET);
    try_token(&gw, "sub comes before id and user.id", both, path, 200);
    try_token(&gw, "sub comes before id", both, h_fmt("/api/%s-id/tasks", U), 403);
    try_token(&gw, "id comes before user.id",
              tok_craft(HS, payload("{\"id\":\"%s\",\"user\":{\"id\":\"%s-user\"},\"exp\":%lld}", U, U, exp), "sha256", H_SECRET),
              path, 200);
    try_token(&gw, "exp 30 s ago (within the 60 s leeway)",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"exp\":%lld}", U, now - 30), "sha256", H_SECRET), path, 200);
    try_token(&gw, "nbf 30 s ahead (within the leeway)",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"nbf\":%lld,\"exp\":%lld}", U, now + 30, exp), "sha256", H_SECRET), path,
              200);
    try_token(&gw, "iat 30 s ahead (within the leeway)",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld}", U, now + 30, exp), "sha256", H_SECRET), path,
              200);
    try_token(&gw, "nbf in the past",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"nbf\":%lld,\"exp\":%lld}", U, now - 600, exp), "sha256", H_SECRET), path,
              200);
    try_token(
        &gw, "iss and aud are not checked when not configured",
        tok_craft(HS, payload("{\"sub\":\"%s\",\"iss\":\"anyone\",\"aud\":\"anything\",\"exp\":%lld}", U, exp), "sha256", H_SECRET),
        path, 200);
    const char *long_id = h_repeat("a", 255);
    try_token(&gw, "a 255-character user id", tok_user(long_id), h_fmt("/api/%s/tasks", long_id), 200);
    const char *odd = h_fmt("%s_A-9.x~", U);
    try_token(&gw, "a user id with URL-safe punctuation", tok_user(odd), h_fmt("/api/%s/tasks", odd), 200);
    try_auth(&gw, "the scheme in lower case (auth schemes are case-insensitive)", h_fmt("bearer %s", valid), path, 200);
    try_auth(&gw, "the scheme in upper case", h_fmt("BEARER %s", valid), path, 200);

    h_section("malformed Authorization headers");
    try_auth(&gw, "no Authorization header", NULL, path, 401);
    try_auth(&gw, "Bearer with nothing", "Bearer", path, 401);
    try_auth(&gw, "Bearer and a space", "Bearer ", path, 401);
    try_auth(&gw, "Basic credentials", "Basic dXNlcjpwYXNzd29yZA==", path, 401);
    try_auth(&gw, "a token without a scheme", valid, path, 401);
    try_auth(&gw, "another scheme", h_fmt("Token %s", valid), path, 401);
    try_auth(&gw, "a token with trailing garbage", h_fmt("Bearer %s extra", valid), path, 401);
    try_token(&gw, "one part", "abc", path, 401);
    try_token(&gw, "two parts", "abc.def", path, 401);
    try_token(&gw, "four parts", h_fmt("%s.abc", valid), path, 401);
    try_token(&gw, "three empty parts", "..", path, 401);
    try_token(&gw, "not base64url", "!!!.???.***", path, 401);
    try_token(&gw, "a header that is not JSON", tok_craft("nope", good, "sha256", H_SECRET), path, 401);
    try_token(&gw, "a payload that is not JSON", tok_craft(HS, "not json", "sha256", H_SECRET), path, 401);
    try_token(&gw, "a payload that is a JSON array", tok_craft(HS, "[1,2]", "sha256", H_SECRET), path, 401);
    try_token(&gw, "a header that is a JSON string", tok_craft("\"HS256\"", good, "sha256", H_SECRET), path, 401);

    h_section("algorithms other than HS256");
    try_token(&gw, "alg none, no signature", tok_craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", good, NULL, NULL), path, 401);
    try_token(&gw, "alg None, no signature", tok_craft("{\"alg\":\"None\",\"typ\":\"JWT\"}", good, NULL, NULL), path, 401);
    try_token(&gw, "alg NONE, no signature", tok_craft("{\"alg\":\"NONE\",\"typ\":\"JWT\"}", good, NULL, NULL), path, 401);
    try_token(&gw, "alg none with an HS256 signature", tok_craft("{\"alg\":\"none\",\"typ\":\"JWT\"}", good, "sha256", H_SECRET),
              path, 401);
    try_token(&gw, "no alg, HS256 signature", tok_craft("{\"typ\":\"JWT\"}", good, "sha256", H_SECRET), path, 401);
    try_token(&gw, "alg HS384 with the secret", tok_craft("{\"alg\":\"HS384\",\"typ\":\"JWT\"}", good, "sha384", H_SECRET), path,
              401);
    try_token(&gw, "alg HS512 with the secret", tok_craft("{\"alg\":\"HS512\",\"typ\":\"JWT\"}", good, "sha512", H_SECRET), path,
              401);
    try_token(&gw, "alg RS256 with an HMAC-SHA256 signature (key confusion)",
              tok_craft("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", good, "sha256", H_SECRET), path, 401);
    try_token(&gw, "alg ES256 with an HMAC-SHA256 signature",
              tok_craft("{\"alg\":\"ES256\",\"typ\":\"JWT\"}", good, "sha256", H_SECRET), path, 401);
    try_token(&gw, "alg PS256 with an HMAC-SHA256 signature",
              tok_craft("{\"alg\":\"PS256\",\"typ\":\"JWT\"}", good, "sha256", H_SECRET), path, 401);
    try_token(&gw, "alg EdDSA with an HMAC-SHA256 signature",
              tok_craft("{\"alg\":\"EdDSA\",\"typ\":\"JWT\"}", good, "sha256", H_SECRET), path, 401);
    try_token(&gw, "HS256 with no signature", tok_craft(HS, good, NULL, NULL), path, 401);

    h_section("bad signatures");
    try_token(&gw, "HS256 with a wrong secret", tok_craft(HS, good, "sha256", "another-secret-0123456789abcdef-0123456789"), path,
              401);
    try_token(&gw, "HS256 with a secret that is a prefix of the real one", tok_craft(HS, good, "sha256", h_fmt("%.31s", H_SECRET)),
              path, 401);
    {
        /* A valid token whose payload is swapped for another user's, signature kept. */
        const char *other = h_uid("victim");
        const char *forged =
            tok_craft(HS, payload("{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld}", other, now, exp), "sha256", H_SECRET);
        const char *sig = strrchr(valid, '.');
        const char *tampered = h_fmt("%.*s%s", (int)(strrchr(forged, '.') - forged), forged, sig);
        try_token(&gw, "a tampered payload (another sub, the original signature)", tampered, h_fmt("/api/%s/tasks", other), 401);
        const char *longer_exp =
            tok_craft(HS, payload("{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld}", U, now, exp + 999999), "sha256", H_SECRET);
        try_token(&gw, "a tampered exp, the original signature",
                  h_fmt("%.*s%s", (int)(strrchr(longer_exp, '.') - longer_exp), longer_exp, sig), path, 401);
        char *flipped = h_fmt("%s", valid);
        size_t n = strlen(flipped);
        flipped[n - 2] = flipped[n - 2] == 'A' ? 'B' : 'A';
        try_token(&gw, "a flipped signature character", flipped, path, 401);
        try_token(&gw, "a truncated signature", h_fmt("%.*s", (int)n - 4, valid), path, 401);
    }

    h_section("time claims");
    try_token(&gw, "expired an hour ago",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld}", U, now - 7200, now - 3600), "sha256", H_SECRET),
              path, 401);
    try_token(&gw, "expired 120 s ago (beyond the leeway)",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"exp\":%lld}", U, now - 120), "sha256", H_SECRET), path, 401);
    try_token(&gw, "no exp", tok_craft(HS, payload("{\"sub\":\"%s\",\"iat\":%lld}", U, now), "sha256", H_SECRET), path, 401);
    try_token(&gw, "exp a string", tok_craft(HS, payload("{\"sub\":\"%s\",\"exp\":\"%lld\"}", U, exp), "sha256", H_SECRET), path,
              401);
    try_token(&gw, "exp null", tok_craft(HS, payload("{\"sub\":\"%s\",\"exp\":null}", U), "sha256", H_SECRET), path, 401);
    try_token(&gw, "exp 0", tok_craft(HS, payload("{\"sub\":\"%s\",\"exp\":0}", U), "sha256", H_SECRET), path, 401);
    try_token(&gw, "nbf an hour ahead",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"nbf\":%lld,\"exp\":%lld}", U, now + 3600, exp + 3600), "sha256", H_SECRET),
              path, 401);
    try_token(&gw, "nbf 120 s ahead",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"nbf\":%lld,\"exp\":%lld}", U, now + 120, exp), "sha256", H_SECRET), path,
              401);
    try_token(&gw, "iat an hour ahead",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld}", U, now + 3600, exp + 3600), "sha256", H_SECRET),
              path, 401);

    h_section("user id claims");
    try_token(&gw, "no sub, id or user", tok_craft(HS, payload("{\"exp\":%lld,\"name\":\"%s\"}", exp, U), "sha256", H_SECRET), path,
              401);
    try_token(&gw, "an empty sub", tok_craft(HS, payload("{\"sub\":\"\",\"exp\":%lld}", exp), "sha256", H_SECRET), path, 401);
    {
        /* The empty user's path: no route (404) or no user (401), never served. */
        const char *t = tok_craft(HS, payload("{\"sub\":\"\",\"exp\":%lld}", exp), "sha256", H_SECRET);
        req_t rq = {.method = "GET", .path = "/api//tasks", .token = t, .proto = P_H1};
        resp_t *r = h_req(&gw, &rq);
        CHECK(r->status == 401 || r->status == 404, "an empty sub on the empty user's path is 401 or 404: %s", resp_brief(r));
        resp_free(r);
    }
    const char *long256 = h_repeat("b", 256);
    try_token(&gw, "a 256-character sub", tok_user(long256), h_fmt("/api/%s/tasks", long256), 401);
    try_token(&gw, "a numeric sub", tok_craft(HS, payload("{\"sub\":123,\"exp\":%lld}", exp), "sha256", H_SECRET), "/api/123/tasks",
              401);
    try_token(&gw, "a null sub", tok_craft(HS, payload("{\"sub\":null,\"exp\":%lld}", exp), "sha256", H_SECRET), path, 401);
    try_token(&gw, "an object sub", tok_craft(HS, payload("{\"sub\":{\"id\":\"%s\"},\"exp\":%lld}", U, exp), "sha256", H_SECRET),
              path, 401);
    try_token(&gw, "a sub with a NUL inside (no truncation to the part before it)",
              tok_craft(HS, payload("{\"sub\":\"%s\\u0000evil\",\"exp\":%lld}", U, exp), "sha256", H_SECRET), path, 401);
    try_token(&gw, "an empty id", tok_craft(HS, payload("{\"id\":\"\",\"exp\":%lld}", exp), "sha256", H_SECRET), path, 401);
    try_token(&gw, "an empty user.id", tok_craft(HS, payload("{\"user\":{\"id\":\"\"},\"exp\":%lld}", exp), "sha256", H_SECRET),
              path, 401);
    try_token(&gw, "a numeric user.id", tok_craft(HS, payload("{\"user\":{\"id\":7},\"exp\":%lld}", exp), "sha256", H_SECRET),
              "/api/7/tasks", 401);
    try_token(&gw, "a 256-character id", tok_craft(HS, payload("{\"id\":\"%s\",\"exp\":%lld}", long256, exp), "sha256", H_SECRET),
              h_fmt("/api/%s/tasks", long256), 401);

    h_section("401 on every task route");
    const char *routes[][2] = {{"GET", ""},     {"POST", ""},     {"GET", "/1"},           {"PUT", "/1"},
                               {"PATCH", "/1"}, {"DELETE", "/1"}, {"PATCH", "/1/complete"}};
    const char *expired = tok_craft(HS, payload("{\"sub\":\"%s\",\"exp\":%lld}", U, now - 3600), "sha256", H_SECRET);
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        const char *body = strcmp(routes[i][0], "GET") && strcmp(routes[i][0], "DELETE") ? "{\"title\": \"x\"}" : NULL;
        const char *p = h_fmt("%s%s", path, routes[i][1]);
        resp_t *r = h_send(&gw, P_H1, routes[i][0], p, NULL, body);
        EXPECT_ERROR(r, 401, "unauthorized");
        resp_free(r);
        r = h_send(&gw, P_H2C, routes[i][0], p, expired, body);
        EXPECT_ERROR(r, 401, "unauthorized");
        resp_free(r);
        r = h_send(&gw, P_H1, routes[i][0], p, tok_craft("{\"alg\":\"none\"}", good, NULL, NULL), body);
        EXPECT_ERROR(r, 401, "unauthorized");
        resp_free(r);
    }
    /* Nothing was created by the refused POSTs. */
    resp_t *r = h_get(&gw, P_H1, path, valid);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 0, "refused requests stored nothing: %s", resp_brief(r)));
    resp_free(r);
}

static void test_mismatch(void)
{
    h_section("403 user_id_mismatch");
    const char *alice = h_uid("alice"), *bob = h_uid("bob");
    const char *ta = tok_user(alice), *tb = tok_user(bob);
    const char *bob_base = h_fmt("/api/%s/tasks", bob);
    long long bob_task = 0;
    resp_t *r = h_send(&gw, P_H1, "POST", bob_base, tb, "{\"title\": \"bob's\"}");
    if (EXPECT_STATUS(r, 201))
        bob_task = json_integer_value(json_object_get(r->json, "id"));
    resp_free(r);
    const char *item = h_fmt("%s/%lld", bob_base, bob_task);
    const char *routes[][3] = {
        {"GET", "", NULL},
        {"POST", "", "{\"title\": \"planted by alice\"}"},
        {"GET", "/ID", NULL},
        {"PUT", "/ID", "{\"title\": \"changed by alice\"}"},
        {"PATCH", "/ID", "{\"title\": \"changed by alice\"}"},
        {"PATCH", "/ID/complete", NULL},
        {"DELETE", "/ID", NULL},
    };
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        const char *p = routes[i][1][0] ? h_fmt("%s%s", item, routes[i][1] + 3) : bob_base;
        for (proto_t pr = P_H1; pr <= P_H2C; pr++) {
            r = h_send(&gw, pr, routes[i][0], p, ta, routes[i][2]);
            EXPECT_ERROR(r, 403, "user_id_mismatch");
            CHECK(strstr(r->body, "bob's") == NULL, "the 403 shows none of bob's data: %s", resp_brief(r));
            resp_free(r);
        }
    }
    /* The path compares exactly: case matters. */
    char *upper = h_fmt("%s", alice);
    upper[0] = 'A';
    r = h_get(&gw, P_H1, h_fmt("/api/%s/tasks", upper), ta);
    EXPECT_ERROR(r, 403, "user_id_mismatch");
    resp_free(r);
    /* A prefix or an extension of the user id is another user. */
    r = h_get(&gw, P_H1, h_fmt("/api/%.*s/tasks", (int)strlen(alice) - 1, alice), ta);
    EXPECT_ERROR(r, 403, "user_id_mismatch");
    resp_free(r);
    r = h_get(&gw, P_H1, h_fmt("/api/%sx/tasks", alice), ta);
    EXPECT_ERROR(r, 403, "user_id_mismatch");
    resp_free(r);

    /* Two Authorization fields are one too many, whichever comes first (RFC 6750 3.1): a proxy
     * that read the other would see another user. */
    for (int order = 0; order < 2; order++) {
        const char *raw = h_fmt("GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\nAuthorization: Bearer "
                                "%s\r\nConnection: close\r\n\r\n",
                                order ? bob_base : h_fmt("/api/%s/tasks", alice), order ? tb : ta, order ? ta : tb);
        const char *out = h_raw_exchange(gw.port, raw, strlen(raw), 3000);
        CHECK(strncmp(out, "HTTP/1.1 400", 12) == 0 && strstr(out, "\"code\":\"bad_request\"") != NULL &&
                  strstr(out, "bob's") == NULL,
              "two Authorization fields: 400 bad_request, nobody's data: %.300s", out);
    }

    /* Bob's task is as it was, and nothing was planted in his list. */
    r = h_get(&gw, P_H1, bob_base, tb);
    if (EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 1, "bob still has exactly one task: %s", resp_brief(r))) {
        json_t *t = json_array_get(r->json, 0);
        EXPECT_JSTR(r, t, "title", "bob's");
        CHECK(json_is_false(json_object_get(t, "completed")), "bob's task was not completed by alice: %s", resp_brief(r));
    }
    resp_free(r);
}

static void test_issuer_audience(void)
{
    gateway_t g;
    const char *const env[] = {"JWT_ISSUER=https://issuer.example", "JWT_AUDIENCE=todo-api", NULL};
    h_section("JWT_ISSUER and JWT_AUDIENCE");
    if (gateway_start(&g, env) != 0)
        return;
    const char *U = h_uid("issaud");
    const char *path = h_fmt("/api/%s/tasks", U);
    const long long exp = h_now() + 3600;
#define T(...) tok_craft(HS, payload(__VA_ARGS__), "sha256", H_SECRET)
    try_token(&g, "the right iss and aud",
              T("{\"sub\":\"%s\",\"iss\":\"https://issuer.example\",\"aud\":\"todo-api\",\"exp\":%lld}", U, exp), path, 200);
    try_token(&g, "aud an array naming it",
              T("{\"sub\":\"%s\",\"iss\":\"https://issuer.example\",\"aud\":[\"other\",\"todo-api\"],\"exp\":%lld}", U, exp), path,
              200);
    try_token(&g, "no iss", T("{\"sub\":\"%s\",\"aud\":\"todo-api\",\"exp\":%lld}", U, exp), path, 401);
    try_token(&g, "another iss", T("{\"sub\":\"%s\",\"iss\":\"https://evil.example\",\"aud\":\"todo-api\",\"exp\":%lld}", U, exp),
              path, 401);
    try_token(&g, "an iss with a trailing slash",
              T("{\"sub\":\"%s\",\"iss\":\"https://issuer.example/\",\"aud\":\"todo-api\",\"exp\":%lld}", U, exp), path, 401);
    try_token(&g, "no aud", T("{\"sub\":\"%s\",\"iss\":\"https://issuer.example\",\"exp\":%lld}", U, exp), path, 401);
    try_token(&g, "another aud",
              T("{\"sub\":\"%s\",\"iss\":\"https://issuer.example\",\"aud\":\"todo-apix\",\"exp\":%lld}", U, exp), path, 401);
    try_token(&g, "an aud array without it",
              T("{\"sub\":\"%s\",\"iss\":\"https://issuer.example\",\"aud\":[\"a\",\"b\"],\"exp\":%lld}", U, exp), path, 401);
    try_token(&g, "a plain token without iss or aud", tok_user(U), path, 401);
#undef T
    gateway_stop(&g);
}

static void test_leeway(void)
{
    gateway_t g;
    const char *const env[] = {"JWT_LEEWAY=5", NULL};
    h_section("JWT_LEEWAY=5");
    if (gateway_start(&g, env) != 0)
        return;
    const char *U = h_uid("leeway");
    const char *path = h_fmt("/api/%s/tasks", U);
    const long long now = h_now();
    try_token(&g, "exp 30 s ago", tok_craft(HS, payload("{\"sub\":\"%s\",\"exp\":%lld}", U, now - 30), "sha256", H_SECRET), path,
              401);
    try_token(&g, "nbf 30 s ahead",
              tok_craft(HS, payload("{\"sub\":\"%s\",\"nbf\":%lld,\"exp\":%lld}", U, now + 30, now + 3600), "sha256", H_SECRET),
              path, 401);
    try_token(&g, "exp 30 s ahead", tok_craft(HS, payload("{\"sub\":\"%s\",\"exp\":%lld}", U, now + 30), "sha256", H_SECRET), path,
              200);
    gateway_stop(&g);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_auth");
    if (gateway_start(&gw, NULL) == 0) {
        test_tokens();
        test_mismatch();
        h_section("shutdown");
        gateway_stop(&gw);
    }
    test_issuer_audience();
    test_leeway();
    return h_finish();
}
