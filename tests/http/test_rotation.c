/* test_rotation: Better Auth key rotation without logouts. Keys are made here; a local JWKS
 * endpoint serves a file the test rewrites, as Better Auth's set changes.
 *   - BETTER_AUTH_URL alone: the set is fetched from <it>/api/auth/jwks, iss and aud must be it;
 *     a fresh Better Auth publishes an empty set, then a first key as it first signs: accepted at
 *     once, not after the next retry.
 *   - A new key published as it first signs: 24 requests with it at once all get 200, for one
 *     fetch; then unknown kids within the minute: 401 at once, no fetch (the bound stays).
 *   - A removed key: with JWT_JWKS_REFRESH=1 its token, cached a moment before, is refused once
 *     a periodic fetch has brought the set without it; the key kept is still accepted.
 *   - The wait never blocks the event loop: with the fetch held by the endpoint, a one-thread
 *     gateway answers other requests; the waiting one gets 200 when the fetch ends. A kid that
 *     stays unknown gets 401 when the 2 s bound runs out, the fetch still held; a client leaving
 *     while its request waits harms nothing.
 *   - Better Auth's session-cache JWT (typ better-auth.session-cache+jwt), signed by a key of the
 *     set, is refused, and the log says why; the same claims as a JWT are accepted. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "keys.h"

static const char *dir, *file;
static long long now;

/* Claims as Better Auth's JWT plugin sets them (iss, aud when not NULL), for a new user whose
 * tasks path goes to *path. */
static const char *claims(const char *iss, const char *aud, const char **path)
{
    const char *user = h_uid("rot");
    *path = h_fmt("/api/%s/tasks", user);
    return h_fmt("{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld%s%s}", user, now, now + 900, iss ? h_fmt(",\"iss\":\"%s\"", iss) : "",
                 aud ? h_fmt(",\"aud\":\"%s\"", aud) : "");
}

/* A token of a new user signed by k (typ JWT, iss = aud = base when not NULL); its path in *path. */
static const char *user_token(const jkey_t *k, const char *base, const char **path)
{
    return key_token(k, k->alg, k->kid, "JWT", claims(base, base, path));
}

static long get(gateway_t *g, const char *path, const char *tok)
{
    resp_t *r = h_get(g, P_H1, path, tok);
    long st = r->status;
    resp_free(r);
    return st;
}

/* The endpoint serves these keys from now on. */
static void publish(int n, const jkey_t *const *keys)
{
    const char *set = "";
    for (int i = 0; i < n; i++)
        set = h_fmt("%s%s%s", set, i ? "," : "", keys[i]->jwk);
    CHECK(key_write_file(file, h_fmt("{\"keys\":[%s]}", set)), "the set is written: %s", strerror(errno));
}

/* Polls (100 ms steps, max_ms at most) until dir/name reaches want; returns its value. */
static long wait_number(const char *name, long want, long max_ms)
{
    long v = jwks_number(dir, name);
    for (long t = 0; v < want && t < max_ms; t += 100, v = jwks_number(dir, name))
        h_sleep_ms(100);
    return v;
}

/* While held, the endpoint receives requests and answers none (keys.h). */
static void hold(int on)
{
    const char *path = h_fmt("%s/hold", dir);
    if (on)
        CHECK(key_write_file(path, "held\n"), "the endpoint holds its answers");
    else
        unlink(path);
}

static void first_key_after_start(const char *base, const jkey_t *a)
{
    const char *const env[] = {h_fmt("BETTER_AUTH_URL=%s", base), NULL};
    const char *path, *pl;
    gateway_t g;
    h_section("BETTER_AUTH_URL alone; a fresh Better Auth's empty set, then its first key");
    key_write_file(file, "{\"keys\":[]}");
    if (gateway_start(&g, env) != 0)
        return;
    CHECK(strcmp(jwks_read(dir, "path"), "GET /api/auth/jwks HTTP/1.1") == 0,
          "the set is fetched from BETTER_AUTH_URL/api/auth/jwks (%s)", jwks_read(dir, "path"));
    publish(1, &a);
    const char *tok = user_token(a, base, &path);
    CHECK(get(&g, path, tok) == 200, "the first key, published after start-up, is accepted at once");
    pl = claims("https://other.example", base, &path);
    CHECK(get(&g, path, key_token(a, a->alg, a->kid, "JWT", pl)) == 401, "iss must be BETTER_AUTH_URL: 401");
    pl = claims(base, "https://other.example", &path);
    CHECK(get(&g, path, key_token(a, a->alg, a->kid, "JWT", pl)) == 401, "aud must name BETTER_AUTH_URL: 401");
    gateway_stop(&g);
}

/* Better Auth's session-cache JWT (its cookie cache signed with the JWT plugin's key) for a
 * new user, with typ as given; its path in *path. */
static const char *session_cache_token(const jkey_t *k, const char *typ, const char **path)
{
    const char *user = h_uid("rot-cookie");
    *path = h_fmt("/api/%s/tasks", user);
    const char *pl = h_fmt("{\"session\":{\"id\":\"s1\",\"token\":\"tok1\",\"userId\":\"%s\"},\"user\":{\"id\":\"%s\"},"
                           "\"updatedAt\":%lld,\"sid\":\"tok1\",\"iat\":%lld,\"exp\":%lld,\"iss\":\"http://127.0.0.1\","
                           "\"aud\":\"better-auth:session-cache\",\"sub\":\"%s\"}",
                           user, user, now * 1000, now, now + 300, user);
    return key_token(k, k->alg, k->kid, typ, pl);
}

static void new_key_rotation(const char *url, const jkey_t *a, const jkey_t *b)
{
    enum { N = 24 };
    const char *const env[] = {h_fmt("JWT_JWKS_URL=%s", url), "LOG_LEVEL=info", NULL};
    const char *path, *tok;
    gateway_t g;
    h_section("a new key, published as Better Auth first signs with it: %d requests at once", N);
    publish(1, &a);
    if (gateway_start(&g, env) != 0)
        return;
    tok = user_token(a, NULL, &path);
    CHECK(get(&g, path, tok) == 200, "the first key's token: 200");
    publish(2, (const jkey_t *const[]){a, b});
    long before = jwks_number(dir, "count");
    req_t rqs[N];
    for (int i = 0; i < N; i++) {
        const char *pi, *ti = user_token(b, NULL, &pi);
        rqs[i] = (req_t){.token = ti, .path = pi, .proto = P_H1, .timeout_ms = 15000};
    }
    resp_t **rs = h_multi(&g, rqs, N, 0, N, 20000);
    int ok = 0;
    for (int i = 0; i < N; i++) {
        ok += rs[i]->status == 200;
        resp_free(rs[i]);
    }
    free(rs);
    CHECK(ok == N, "every token of the new key: 200, no 401 (%d of %d)", ok, N);
    CHECK(jwks_number(dir, "count") - before == 1, "they all waited for one fetch (%ld)", jwks_number(dir, "count") - before);
    CHECK(get(&g, path, tok) == 200, "the first key's token still: 200");

    h_section("unknown kids within the minute: 401 at once, no fetch");
    before = jwks_number(dir, "count");
    int refused = 0;
    for (int i = 0; i < 10; i++) {
        const char *pi, *pl = claims(NULL, NULL, &pi);
        refused += get(&g, pi, key_token(b, b->alg, h_fmt("unknown-%d", i), "JWT", pl)) == 401;
    }
    CHECK(refused == 10, "ten unknown kids: 401 (%d)", refused);
    CHECK(jwks_number(dir, "count") == before, "and no fetch (%ld)", jwks_number(dir, "count") - before);

    h_section("Better Auth's session-cache JWT");
    tok = session_cache_token(a, "better-auth.session-cache+jwt", &path);
    CHECK(get(&g, path, tok) == 401, "typ better-auth.session-cache+jwt, signed by a key of the set: 401");
    h_sleep_ms(100);
    CHECK(strstr(gateway_output(&g), "session-cache token") != NULL, "the log says it is a session-cache token");
    tok = session_cache_token(a, "JWT", &path);
    CHECK(get(&g, path, tok) == 200, "the same claims and key as a JWT: 200");
    gateway_stop(&g);
}

static void removed_key(const char *url, const jkey_t *a, const jkey_t *b)
{
    const char *const env[] = {h_fmt("JWT_JWKS_URL=%s", url), "JWT_JWKS_REFRESH=1", NULL};
    const char *pa, *pb;
    gateway_t g;
    h_section("a removed key, JWT_JWKS_REFRESH=1");
    publish(2, (const jkey_t *const[]){a, b});
    if (gateway_start(&g, env) != 0)
        return;
    const char *ta = user_token(a, NULL, &pa), *tb = user_token(b, NULL, &pb);
    int ok = 0;
    for (int i = 0; i < 3; i++)
        ok += get(&g, pa, ta) == 200;
    CHECK(ok == 3 && get(&g, pb, tb) == 200, "both keys' tokens: 200 (the first one cached)");
    publish(1, &b);
    /* the first request received after this reads the new set; once a second one is received,
     * the first one's set is installed (the fetcher runs one at a time) */
    long s0 = jwks_number(dir, "seen"), s = wait_number("seen", s0 + 2, 10000);
    CHECK(s >= s0 + 2, "the set is fetched every second (%ld fetches in up to 10 s)", s - s0);
    CHECK(get(&g, pa, ta) == 401, "the removed key's token, cached a moment before: 401");
    CHECK(get(&g, pb, tb) == 200, "the kept key's token: 200");
    gateway_stop(&g);
}

/* One request sent through a multi handle, left running while the test does other things. */
typedef struct pending {
    CURLM *m;
    CURL *h;
    req_t rq;
    resp_t *r;
    struct curl_slist *hl;
    int done;
    CURLcode rc;
} pending_t;

static void pending_start(pending_t *p, gateway_t *g, const char *path, const char *tok)
{
    *p = (pending_t){.m = curl_multi_init(), .h = curl_easy_init(), .r = h_resp_new()};
    p->rq = (req_t){.path = path, .token = tok, .proto = P_H1, .timeout_ms = 15000};
    p->hl = h_setup_easy(p->h, g, &p->rq, p->r);
    curl_multi_add_handle(p->m, p->h);
}

/* Runs the transfer for up to ms; returns 1 once it has finished. */
static int pending_run(pending_t *p, long ms)
{
    for (long t = 0; !p->done && t < ms; t += 20) {
        int running;
        curl_multi_perform(p->m, &running);
        CURLMsg *msg;
        int left;
        while ((msg = curl_multi_info_read(p->m, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE)
                p->done = 1, p->rc = msg->data.result;
        if (!p->done)
            curl_multi_poll(p->m, NULL, 0, 20, NULL);
    }
    return p->done;
}

/* Finishes it (10 s at most); returns its status (0: no answer). */
static long pending_finish(pending_t *p)
{
    pending_run(p, 10000);
    curl_multi_remove_handle(p->m, p->h);
    h_complete(p->h, &p->rq, p->r, p->done ? p->rc : CURLE_OPERATION_TIMEDOUT);
    long st = p->r->status;
    resp_free(p->r);
    curl_easy_cleanup(p->h);
    curl_slist_free_all(p->hl);
    curl_multi_cleanup(p->m);
    return st;
}

static void wait_does_not_block(const char *url, const jkey_t *a, const jkey_t *c)
{
    const char *const env[] = {h_fmt("JWT_JWKS_URL=%s", url), "GATEWAY_THREADS=1", NULL};
    const char *path, *pc;
    gateway_t g;
    pending_t p;
    h_section("the wait does not block the event loop (one thread, the fetch held)");
    publish(1, &a);
    if (gateway_start(&g, env) != 0)
        return;
    const char *ta = user_token(a, NULL, &path);
    CHECK(get(&g, path, ta) == 200, "the first key's token: 200");
    hold(1);
    publish(2, (const jkey_t *const[]){a, c});
    long s0 = jwks_number(dir, "seen");
    const char *tc = user_token(c, NULL, &pc);
    pending_start(&p, &g, pc, tc);
    for (int i = 0; i < 250 && jwks_number(dir, "seen") == s0; i++)
        pending_run(&p, 20);
    CHECK(jwks_number(dir, "seen") > s0 && !p.done, "a token of a new key waits, its fetch held");
    const char *user = h_uid("rot-hs");
    CHECK(get(&g, h_fmt("/api/%s/tasks", user), tok_user(user)) == 200, "meanwhile an HS256 request: 200");
    CHECK(get(&g, path, ta) == 200 && get(&g, "/healthz", NULL) == 200, "and a known key's token, and /healthz: 200");
    CHECK(!pending_run(&p, 50), "the token of the new key still waits");
    hold(0);
    CHECK(pending_finish(&p) == 200, "the fetch ends: the waiting request gets 200");
    gateway_stop(&g);
}

static void bound_and_leaving(const char *url, const jkey_t *a)
{
    const char *const env[] = {h_fmt("JWT_JWKS_URL=%s", url), "GATEWAY_THREADS=1", NULL};
    const char *path, *tok;
    gateway_t g;
    h_section("a kid that stays unknown, the fetch held: 401 when the bound runs out");
    publish(1, &a);
    if (gateway_start(&g, env) != 0)
        return;
    hold(1);
    long c0 = jwks_number(dir, "count"), s0 = jwks_number(dir, "seen");
    const char *pl = claims(NULL, NULL, &path);
    tok = key_token(a, a->alg, "never-published", "JWT", pl);
    CHECK(get(&g, path, tok) == 401, "an unknown kid: 401");
    CHECK(jwks_number(dir, "seen") == s0 + 1 && jwks_number(dir, "count") == c0,
          "it asked for a fetch and was answered while the fetch was still held");

    h_section("clients leaving while their requests wait");
    for (int i = 0; i < 3; i++) { /* the held fetch is still running: these wait for it too */
        const char *pl = claims(NULL, NULL, &path);
        req_t rq = {.path = path,
                    .token = key_token(a, a->alg, h_fmt("gone-%d", i), "JWT", pl),
                    .proto = i == 0 ? P_H1 : h_mux_proto(&g),
                    .timeout_ms = 300,
                    .raw = 1};
        resp_t *r = h_req(&g, &rq);
        CHECK(r->status == 0, "the client gave up after 300 ms (%s)", resp_brief(r));
        resp_free(r);
    }
    hold(0);
    wait_number("count", c0 + 1, 10000);
    const char *user = h_uid("rot-hs");
    CHECK(get(&g, h_fmt("/api/%s/tasks", user), tok_user(user)) == 200, "the gateway serves on");
    tok = user_token(a, NULL, &path);
    CHECK(get(&g, path, tok) == 200, "a known key's token: 200");
    gateway_stop(&g);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_rotation");
    char tmp[] = "/tmp/gw-http-rotation.XXXXXX";
    if (mkdtemp(tmp) == NULL) {
        CHECK(0, "mkdtemp: %s", strerror(errno));
        return h_finish();
    }
    dir = tmp;
    file = h_fmt("%s/jwks.json", dir);
    now = h_now();
    jkey_t a, b, c;
    key_make(&a, "key-a", "EdDSA");
    key_make(&b, "key-b", "EdDSA");
    key_make(&c, "key-c", "ES256");
    key_write_file(file, "{\"keys\":[]}");
    int port = 0;
    pid_t server = jwks_serve(file, dir, &port);
    if (CHECK(server > 0, "a JWKS endpoint started")) {
        const char *base = h_fmt("http://127.0.0.1:%d", port), *url = h_fmt("%s/api/auth/jwks", base);
        first_key_after_start(base, &a);
        new_key_rotation(url, &a, &b);
        removed_key(url, &a, &b);
        wait_does_not_block(url, &a, &c);
        bound_and_leaving(url, &a);
        hold(0);
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }
    key_free(&a);
    key_free(&b);
    key_free(&c);
    if (system(h_fmt("rm -rf '%s'", dir)) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return h_finish();
}
