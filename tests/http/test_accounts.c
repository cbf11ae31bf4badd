/* test_accounts: standalone accounts. register/signup (201), login/signin (200), me,
 * logout (204, revokes every earlier token; a new login works at once), 409 email_taken
 * in any case, 401 invalid_credentials alike for a wrong password and an unknown email,
 * 422 for short passwords and bad fields; the tokens issued (HS256, sub = user id, exp =
 * iat + JWT_TTL, iss/aud when configured); passwords hashed with bcrypt and never
 * logged; ACCOUNTS=off removes the routes. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgadmin.h"

static gateway_t gw;

typedef struct account {
    const char *id, *email, *name, *token, *password;
    long long iat, exp;
} account_t;

/* Checks a {"token", "user"} answer and reads it into a; returns 1 when it is well formed. */
static int read_session(gateway_t *g, const resp_t *r, const char *email, const char *name, account_t *a, long long ttl)
{
    json_t *user = json_object_get(r->json, "user");
    const char *token = h_jstr(r->json, "token");
    if (!CHECK(json_is_object(user) && token && token[0], "the answer has a token and a user: %s", resp_brief(r)))
        return 0;
    CHECK(json_object_size(user) == 3 && json_is_string(json_object_get(user, "id")) && json_object_get(user, "email") &&
              json_object_get(user, "name"),
          "user is exactly {\"id\", \"email\", \"name\"}: %s", resp_brief(r));
    CHECK(strstr(r->body, "password") == NULL && strstr(r->body, "$2") == NULL, "no password or hash in the answer: %s",
          resp_brief(r));
    const char *id = h_jstr(user, "id");
    if (!CHECK(id && h_match(id, "^[A-Za-z0-9_-]{1,255}$"), "the user id is URL-safe ASCII: %s", resp_brief(r)))
        return 0;
    if (email)
        EXPECT_JSTR(r, user, "email", email);
    EXPECT_JSTR(r, user, "name", name);

    json_t *hdr = tok_header(token), *pl = tok_payload(token);
    CHECK(hdr && h_jstr(hdr, "alg") && strcmp(h_jstr(hdr, "alg"), "HS256") == 0, "the token is HS256: %s", token);
    long long iat = pl ? json_integer_value(json_object_get(pl, "iat")) : 0;
    long long exp = pl ? json_integer_value(json_object_get(pl, "exp")) : 0;
    CHECK(pl && h_jstr(pl, "sub") && strcmp(h_jstr(pl, "sub"), id) == 0, "the token's sub is the user id %s", id);
    CHECK(json_is_integer(json_object_get(pl, "iat")) && iat >= h_now() - 10 && iat <= h_now() + 10,
          "the token's iat is now (%lld vs %lld)", iat, (long long)h_now());
    CHECK(json_is_integer(json_object_get(pl, "exp")) && exp == iat + ttl, "the token's exp is iat + %lld (iat %lld, exp %lld)",
          ttl, iat, exp);
    json_decref(hdr);
    json_decref(pl);
    a->id = h_fmt("%s", id);
    a->email = h_fmt("%s", h_jstr(user, "email") ? h_jstr(user, "email") : "");
    a->name = name;
    a->token = h_fmt("%s", token);
    a->iat = iat;
    a->exp = exp;
    (void)g;
    return 1;
}

static int do_register(gateway_t *g, const char *path, const char *email, const char *password, const char *name, account_t *a,
                       long long ttl)
{
    const char *body = name ? h_fmt("{\"email\": \"%s\", \"password\": \"%s\", \"name\": \"%s\"}", email, password, name)
                            : h_fmt("{\"email\": \"%s\", \"password\": \"%s\"}", email, password);
    resp_t *r = h_send(g, P_H1, "POST", path, NULL, body);
    int ok = EXPECT_STATUS(r, 201) && read_session(g, r, email, name, a, ttl);
    a->password = password;
    resp_free(r);
    return ok;
}

static int do_login(gateway_t *g, const char *path, const char *email, const char *password, account_t *a, long long ttl)
{
    resp_t *r = h_send(g, P_H1, "POST", path, NULL, h_fmt("{\"email\": \"%s\", \"password\": \"%s\"}", email, password));
    int ok = EXPECT_STATUS(r, 200) && read_session(g, r, NULL, a->name, a, ttl);
    resp_free(r);
    return ok;
}

/* Sends method path with token (no body) and checks the status (401s: unauthorized). */
static int status_is(gateway_t *g, const char *method, const char *path, const char *token, long want, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int status_is(gateway_t *g, const char *method, const char *path, const char *token, long want, const char *fmt, ...)
{
    resp_t *r = h_send(g, P_H1, method, path, token, NULL);
    va_list ap;
    char *what = NULL;
    va_start(ap, fmt);
    if (vasprintf(&what, fmt, ap) < 0)
        abort();
    va_end(ap);
    const char *code = h_jstr(r->json, "code");
    int ok =
        CHECK(r->status == want && (want != 401 || (code && strcmp(code, "unauthorized") == 0)), "%s: %s", what, resp_brief(r));
    free(what);
    resp_free(r);
    return ok;
}

static void test_register_login(void)
{
    h_section("register, me, login");
    const char *tag = h_uid("acct") + 5;
    const char *email = h_fmt("Alice.%s@Example.com", tag);
    account_t a = {0}, b = {0};
    if (!do_register(&gw, "/api/auth/register", email, "correct horse", "Alice", &a, 604800))
        return;

    resp_t *r = h_get(&gw, P_H1, "/api/auth/me", a.token);
    if (EXPECT_STATUS(r, 200)) {
        CHECK(json_is_object(r->json) && json_object_size(r->json) == 3, "me is {\"id\", \"email\", \"name\"}: %s", resp_brief(r));
        EXPECT_JSTR(r, r->json, "id", a.id);
        EXPECT_JSTR(r, r->json, "email", email);
        EXPECT_JSTR(r, r->json, "name", "Alice");
    }
    resp_free(r);
    r = h_get(&gw, P_H2C, h_fmt("/api/%s/tasks", a.id), a.token);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 0, "the new user's list is empty: %s", resp_brief(r)));
    resp_free(r);
    r = h_send(&gw, P_H1, "POST", h_fmt("/api/%s/tasks", a.id), a.token, "{\"title\": \"mine\"}");
    EXPECT_STATUS(r, 201);
    resp_free(r);

    /* The same email in another case is taken. */
    const char *const dupes[] = {email, h_fmt("alice.%s@example.com", tag), h_fmt("ALICE.%s@EXAMPLE.COM", tag)};
    for (size_t i = 0; i < 3; i++) {
        r = h_send(&gw, P_H1, "POST", i == 2 ? "/api/auth/signup" : "/api/auth/register", NULL,
                   h_fmt("{\"email\": \"%s\", \"password\": \"another password\"}", dupes[i]));
        EXPECT_ERROR(r, 409, "email_taken");
        resp_free(r);
    }

    /* Login, in any case of the email, and through the alias. */
    account_t l = {.name = "Alice"};
    if (do_login(&gw, "/api/auth/login", h_fmt("ALICE.%s@example.COM", tag), "correct horse", &l, 604800))
        CHECK(strcmp(l.id, a.id) == 0 && strcmp(l.email, email) == 0, "login returns the registered user (%s %s)", l.id, l.email);
    account_t l2 = {.name = "Alice"};
    if (do_login(&gw, "/api/auth/signin", email, "correct horse", &l2, 604800)) {
        r = h_get(&gw, P_H1, h_fmt("/api/%s/tasks", a.id), l2.token);
        (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 1, "the login token reaches the user's tasks: %s", resp_brief(r)));
        resp_free(r);
    }

    /* Wrong password and unknown email: the same 401 invalid_credentials. */
    resp_t *wrong =
        h_send(&gw, P_H1, "POST", "/api/auth/login", NULL, h_fmt("{\"email\": \"%s\", \"password\": \"correct horsE\"}", email));
    resp_t *unknown = h_send(&gw, P_H1, "POST", "/api/auth/login", NULL,
                             h_fmt("{\"email\": \"nobody.%s@example.com\", \"password\": \"correct horse\"}", tag));
    EXPECT_ERROR(wrong, 401, "invalid_credentials");
    EXPECT_ERROR(unknown, 401, "invalid_credentials");
    CHECK(wrong->body && unknown->body && strcmp(wrong->body, unknown->body) == 0,
          "a wrong password and an unknown email answer the same body: %s / %s", wrong->body, unknown->body);
    resp_free(wrong);
    resp_free(unknown);
    r = h_send(&gw, P_H1, "POST", "/api/auth/signin", NULL, h_fmt("{\"email\": \"%s\", \"password\": \"\"}", email));
    CHECK(r->status == 401 || r->status == 422, "an empty password does not log in: %s", resp_brief(r));
    resp_free(r);

    /* signup without a name: name is null. Unicode passwords count characters. */
    if (do_register(&gw, "/api/auth/signup", h_fmt("bob.%s@example.com", tag), "p\xc3\xa4ssw\xc3\xb6rd", NULL, &b, 604800)) {
        account_t bl = {0};
        do_login(&gw, "/api/auth/login", h_fmt("bob.%s@example.com", tag), "p\xc3\xa4ssw\xc3\xb6rd", &bl, 604800);
    }
    account_t c = {0};
    do_register(&gw, "/api/auth/register", h_fmt("carol.%s@example.com", tag), "12345678", "Carol", &c, 604800);

    h_section("register and login validation");
    static const struct {
        const char *path, *body, *field;
    } bad[] = {
        {"/api/auth/register", "{\"email\": \"short.TAG@example.com\", \"password\": \"1234567\"}", "password"},
        {"/api/auth/register", "{\"email\": \"short2.TAG@example.com\", \"password\": \"\\u00e9\\u00e9\\u00e9\\u00e9\"}",
         "password"},
        {"/api/auth/register", "{\"email\": \"nopass.TAG@example.com\"}", "password"},
        {"/api/auth/register", "{\"email\": \"numpass.TAG@example.com\", \"password\": 12345678}", "password"},
        {"/api/auth/register", "{\"password\": \"long enough\"}", "email"},
        {"/api/auth/register", "{\"email\": \"not-an-email-TAG\", \"password\": \"long enough\"}", "email"},
        {"/api/auth/register", "{\"email\": 5, \"password\": \"long enough\"}", "email"},
        {"/api/auth/register", "{\"email\": \"name.TAG@example.com\", \"password\": \"long enough\", \"name\": 5}", "name"},
        {"/api/auth/login", "{\"email\": \"x.TAG@example.com\"}", "password"},
        {"/api/auth/login", "{\"password\": \"long enough\"}", "email"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char *body = strdup(bad[i].body), *at;
        while ((at = strstr(body, "TAG")) != NULL) {
            char *nb = h_fmt("%.*s%s%s", (int)(at - body), body, tag, at + 3);
            free(body);
            body = strdup(nb);
        }
        r = h_send(&gw, P_H1, "POST", bad[i].path, NULL, body);
        free(body);
        EXPECT_VALIDATION(r, "body", bad[i].field);
        resp_free(r);
    }
    static const char *const not_objects[] = {"", "[]", "not json", "\"x\""};
    for (size_t i = 0; i < sizeof not_objects / sizeof *not_objects; i++) {
        req_t rq = {
            .method = "POST", .path = i % 2 ? "/api/auth/login" : "/api/auth/register", .body = not_objects[i], .proto = P_H1};
        r = h_req(&gw, &rq);
        EXPECT_ERROR(r, 400, "invalid_json");
        resp_free(r);
    }
    req_t rq = {.method = "POST",
                .path = "/api/auth/register",
                .ctype = "text/plain",
                .body = h_fmt("{\"email\": \"typed.%s@example.com\", \"password\": \"long enough\"}", tag),
                .proto = P_H1};
    r = h_req(&gw, &rq);
    EXPECT_ERROR(r, 415, "unsupported_media_type");
    resp_free(r);
    rq.path = "/api/auth/login";
    r = h_req(&gw, &rq);
    EXPECT_ERROR(r, 415, "unsupported_media_type");
    resp_free(r);

    h_section("passwords are stored as bcrypt hashes");
    PGconn *db = pg_admin();
    if (db != NULL) {
        const char *hash = pg_text(db, "select password_hash from todo.users where id = $1", a.id, NULL);
        CHECK(hash && h_match(hash, "^\\$2[abxy]\\$[0-9]{2}\\$") && strstr(hash, "correct horse") == NULL,
              "alice's password is a bcrypt hash: %s", hash ? hash : "(no row)");
        CHECK(pg_number(
                  db, "select count(*) from todo.users where password_hash like '%correct horse%' or email like '%correct horse%'",
                  NULL, NULL) == 0,
              "the plain password is nowhere in todo.users");
        PQfinish(db);
    }
}

static void test_concurrent_register(void)
{
    h_section("concurrent registrations of one email");
    const char *email = h_fmt("race.%s@example.com", h_uid("r") + 2);
    req_t rqs[4];
    for (int i = 0; i < 4; i++)
        rqs[i] =
            (req_t){.method = "POST",
                    .path = "/api/auth/register",
                    .proto = h_mux_proto(&gw),
                    .body = h_fmt("{\"email\": \"%s\", \"password\": \"password %d\"}", i % 2 ? email : h_fmt("%s", email), i)};
    resp_t **rs = h_multi(&gw, rqs, 4, 1, 0, 20000);
    int created = 0, taken = 0;
    for (int i = 0; i < 4; i++) {
        created += rs[i]->status == 201;
        taken += rs[i]->status == 409 && h_jstr(rs[i]->json, "code") && strcmp(h_jstr(rs[i]->json, "code"), "email_taken") == 0;
        if (rs[i]->status != 201 && rs[i]->status != 409)
            CHECK(0, "a concurrent registration is 201 or 409: %s", resp_brief(rs[i]));
        resp_free(rs[i]);
    }
    free(rs);
    CHECK(created == 1 && taken == 3, "4 concurrent registrations of one email: one 201, three 409 email_taken (%d, %d)", created,
          taken);
}

static void test_logout(void)
{
    h_section("logout revokes earlier tokens");
    const char *tag = h_uid("out") + 4;
    account_t a = {0}, bob = {0};
    if (!do_register(&gw, "/api/auth/register", h_fmt("logout.%s@example.com", tag), "logout password", "L", &a, 604800) ||
        !do_register(&gw, "/api/auth/register", h_fmt("bystander.%s@example.com", tag), "bystander password", "B", &bob, 604800))
        return;
    const char *tasks = h_fmt("/api/%s/tasks", a.id);
    resp_t *r = h_send(&gw, P_H1, "POST", tasks, a.token, "{\"title\": \"before logout\"}");
    EXPECT_STATUS(r, 201);
    resp_free(r);
    /* Our own tokens for that user: one issued a minute ago, one with no iat. */
    const char *older =
        tok_craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                  h_fmt("{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld}", a.id, (long long)h_now() - 60, (long long)h_now() + 3600),
                  "sha256", H_SECRET);
    const char *no_iat = tok_craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}",
                                   h_fmt("{\"sub\":\"%s\",\"exp\":%lld}", a.id, (long long)h_now() + 3600), "sha256", H_SECRET);
    status_is(&gw, "GET", "/api/auth/me", older, 200, "a token issued a minute ago works before logout");

    status_is(&gw, "POST", "/api/auth/logout", NULL, 401, "logout without a token is 401");
    r = h_send(&gw, P_H1, "POST", "/api/auth/logout", a.token, NULL);
    EXPECT_STATUS(r, 204);
    resp_free(r);

    status_is(&gw, "GET", "/api/auth/me", a.token, 401, "after logout the token is 401 on /api/auth/me");
    status_is(&gw, "GET", tasks, a.token, 401, "after logout the token is 401 on the task routes");
    r = h_send(&gw, P_H2C, "POST", tasks, a.token, "{\"title\": \"after logout\"}");
    EXPECT_ERROR(r, 401, "unauthorized");
    resp_free(r);
    status_is(&gw, "GET", "/api/auth/me", older, 401, "a token issued before logout is revoked too");
    status_is(&gw, "GET", tasks, no_iat, 401, "a token without iat is revoked after logout");
    status_is(&gw, "POST", "/api/auth/logout", a.token, 401, "logging out again with the revoked token is 401");
    status_is(&gw, "GET", "/api/auth/me", bob.token, 200, "another user's token is not revoked");

    /* A new login works at once, in the same second as the logout. */
    account_t again = {.name = "L"};
    if (do_login(&gw, "/api/auth/login", h_fmt("logout.%s@example.com", tag), "logout password", &again, 604800)) {
        status_is(&gw, "GET", "/api/auth/me", again.token, 200, "a login right after logout gives a working token");
        r = h_get(&gw, P_H1, tasks, again.token);
        (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 1, "the tasks made before logout are still there: %s", resp_brief(r)));
        resp_free(r);
        status_is(&gw, "GET", tasks, a.token, 401, "the old token stays revoked after the new login");
        /* Twice more in quick succession. */
        for (int i = 0; i < 2; i++) {
            r = h_send(&gw, P_H1, "POST", "/api/auth/logout", again.token, NULL);
            EXPECT_STATUS(r, 204);
            resp_free(r);
            status_is(&gw, "GET", "/api/auth/me", again.token, 401, "round %d: the token is revoked", i);
            account_t next = {.name = "L"};
            if (!do_login(&gw, "/api/auth/login", h_fmt("logout.%s@example.com", tag), "logout password", &next, 604800))
                break;
            status_is(&gw, "GET", "/api/auth/me", next.token, 200, "round %d: the new login works at once", i);
            again = next;
        }
    }

    h_section("me without an account");
    status_is(&gw, "GET", "/api/auth/me", NULL, 401, "me without a token is 401");
    status_is(&gw, "GET", "/api/auth/me", tok_user(h_uid("noaccount")), 401,
              "me with a valid token of a user without an account is 401");
}

/* JWT_TTL with a suffix, iss/aud stamped, and nothing of the password in the log. */
static void test_ttl(void)
{
    gateway_t g;
    h_section("JWT_TTL=1h, JWT_ISSUER, JWT_AUDIENCE, LOG_LEVEL=debug");
    const char *const env[] = {"JWT_TTL=1h", "JWT_ISSUER=https://todo.example", "JWT_AUDIENCE=todo", "LOG_LEVEL=debug", NULL};
    if (gateway_start(&g, env) == 0) {
        const char *tag = h_uid("ttl") + 4;
        const char *secret_pw = h_fmt("pw-%s-never-logged", tag);
        const char *token_sig = NULL;
        account_t a = {0};
        if (do_register(&g, "/api/auth/register", h_fmt("ttl.%s@example.com", tag), secret_pw, "T", &a, 3600)) {
            token_sig = strrchr(a.token, '.') + 1;
            json_t *pl = tok_payload(a.token);
            EXPECT_JSTR(NULL, pl, "iss", "https://todo.example");
            json_t *aud = json_object_get(pl, "aud");
            CHECK((json_is_string(aud) && strcmp(json_string_value(aud), "todo") == 0) ||
                      (json_is_array(aud) && json_array_size(aud) == 1 && json_is_string(json_array_get(aud, 0)) &&
                       strcmp(json_string_value(json_array_get(aud, 0)), "todo") == 0),
                  "the token's aud is todo");
            json_decref(pl);
            status_is(&g, "GET", "/api/auth/me", a.token, 200, "the gateway accepts the token it issued (iss, aud)");
            account_t l = {.name = "T"};
            do_login(&g, "/api/auth/login", h_fmt("ttl.%s@example.com", tag), secret_pw, &l, 3600);
            resp_t *r = h_send(&g, P_H1, "POST", "/api/auth/login", NULL,
                               h_fmt("{\"email\": \"ttl.%s@example.com\", \"password\": \"%s-wrong\"}", tag, secret_pw));
            EXPECT_ERROR(r, 401, "invalid_credentials");
            resp_free(r);
        }
        gateway_stop(&g);
        const char *out = gateway_output(&g);
        CHECK(strstr(out, secret_pw) == NULL, "the password is not in the gateway's output (LOG_LEVEL=debug)");
        CHECK(token_sig == NULL || strstr(out, token_sig) == NULL, "the token is not in the gateway's output (LOG_LEVEL=debug)");
    }

    h_section("JWT_TTL=2 JWT_LEEWAY=0: issued tokens expire");
    const char *const env2[] = {"JWT_TTL=2", "JWT_LEEWAY=0", NULL};
    if (gateway_start(&g, env2) == 0) {
        account_t a = {0};
        if (do_register(&g, "/api/auth/register", h_fmt("short.%s@example.com", h_uid("t") + 2), "short lived", "S", &a, 2)) {
            status_is(&g, "GET", "/api/auth/me", a.token, 200, "the token works while fresh");
            h_sleep_ms(3500);
            status_is(&g, "GET", "/api/auth/me", a.token, 401, "the token is 401 once past exp");
        }
        gateway_stop(&g);
    }
}

static void test_accounts_off(void)
{
    gateway_t g;
    h_section("ACCOUNTS=off");
    const char *const env[] = {"ACCOUNTS=off", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    const char *routes[][2] = {{"POST", "/api/auth/register"}, {"POST", "/api/auth/signup"}, {"POST", "/api/auth/login"},
                               {"POST", "/api/auth/signin"},   {"POST", "/api/auth/logout"}, {"GET", "/api/auth/me"}};
    const char *user = h_uid("noacct");
    const char *tok = tok_user(user);
    for (size_t i = 0; i < sizeof routes / sizeof *routes; i++) {
        const char *body = strcmp(routes[i][0], "POST") == 0 && strstr(routes[i][1], "logout") == NULL
                               ? h_fmt("{\"email\": \"off.%s@example.com\", \"password\": \"long enough\"}", user)
                               : NULL;
        resp_t *r = h_send(&g, P_H1, routes[i][0], routes[i][1],
                           strstr(routes[i][1], "me") || strstr(routes[i][1], "logout") ? tok : NULL, body);
        EXPECT_ERROR(r, 404, "not_found");
        resp_free(r);
    }
    resp_t *r = h_get(&g, P_H1, h_fmt("/api/%s/tasks", user), tok);
    EXPECT_STATUS(r, 200);
    resp_free(r);
    gateway_stop(&g);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_accounts");
    if (gateway_start(&gw, NULL) == 0) {
        test_register_login();
        test_concurrent_register();
        test_logout();
        h_section("shutdown");
        gateway_stop(&gw);
    }
    test_ttl();
    test_accounts_off();
    return h_finish();
}
