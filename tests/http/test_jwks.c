/* test_jwks: tokens signed with key pairs (what Better Auth's JWT plugin issues), checked
 * against a JWK Set from JWT_JWKS_FILE or JWT_JWKS_URL and chosen by kid: EdDSA (Ed25519),
 * ES256, RS256 and PS256 are accepted beside HS256; an unknown kid, another key, a tampered
 * payload, alg none and HS256 keyed with the public key are 401; an unreadable set stops
 * start-up; unknown kids do not make the gateway fetch the URL more than once a minute. */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "harness.h"
#include "keys.h"

static void expect(gateway_t *g, const char *what, const char *tok, const char *path, long status)
{
    resp_t *r = h_get(g, P_H1, path, tok);
    if (status == 401)
        CHECK(r->status == 401 && h_jstr(r->json, "code") && strcmp(h_jstr(r->json, "code"), "unauthorized") == 0,
              "%s: 401 unauthorized: %s", what, resp_brief(r));
    else
        CHECK(r->status == status, "%s: %ld: %s", what, status, resp_brief(r));
    resp_free(r);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_jwks");
    char dir[] = "/tmp/gw-http-jwks.XXXXXX";
    if (mkdtemp(dir) == NULL) {
        CHECK(0, "mkdtemp: %s", strerror(errno));
        return h_finish();
    }
    jkey_t ed, ec, rs, ps, other_ed, other_ec;
    key_make(&ed, "ed-1", "EdDSA");
    key_make(&ec, "ec-1", "ES256");
    key_make(&rs, "rsa-1", "RS256");
    key_make(&ps, "ps-1", "PS256");
    key_make(&other_ed, "ed-1", "EdDSA"); /* same kid, another key: not in the set */
    key_make(&other_ec, "ec-1", "ES256");
    const char *jwks = h_fmt("{\"keys\":[%s,%s,%s,%s]}", ed.jwk, ec.jwk, rs.jwk, ps.jwk);
    const char *file = h_fmt("%s/jwks.json", dir);
    key_write_file(file, jwks);

    const char *user = h_uid("jwks");
    const char *path = h_fmt("/api/%s/tasks", user);
    const long long now = h_now();
    /* What Better Auth's JWT plugin puts in a token. */
    const char *pl = h_fmt("{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"email\":\"a@b.example\"}", user, now, now + 900);

    if (getenv("JWKS_TEST_DUMP") != NULL) { /* the set and one token per alg, to check with another verifier */
        FILE *f = fopen(getenv("JWKS_TEST_DUMP"), "w");
        if (f != NULL) {
            fprintf(f, "%s\nEdDSA %s\nES256 %s\nRS256 %s\nPS256 %s\n", jwks, key_token(&ed, "EdDSA", "ed-1", "JWT", pl),
                    key_token(&ec, "ES256", "ec-1", "JWT", pl), key_token(&rs, "RS256", "rsa-1", "JWT", pl),
                    key_token(&ps, "PS256", "ps-1", "JWT", pl));
            fclose(f);
        }
    }

    gateway_t g;
    const char *const env[] = {h_fmt("JWT_JWKS_FILE=%s", file), NULL};
    h_section("JWT_JWKS_FILE: accepted tokens");
    if (gateway_start(&g, env) == 0) {
        expect(&g, "EdDSA (Ed25519), Better Auth's default", key_token(&ed, "EdDSA", "ed-1", "JWT", pl), path, 200);
        expect(&g, "ES256", key_token(&ec, "ES256", "ec-1", "JWT", pl), path, 200);
        expect(&g, "RS256", key_token(&rs, "RS256", "rsa-1", "JWT", pl), path, 200);
        expect(&g, "PS256", key_token(&ps, "PS256", "ps-1", "JWT", pl), path, 200);
        expect(&g, "HS256 with the secret still", tok_user(user), path, 200);

        h_section("JWT_JWKS_FILE: refused tokens");
        expect(&g, "an unknown kid", key_token(&ed, "EdDSA", "ed-9", "JWT", pl), path, 401);
        expect(&g, "the kid of a key in the set, signed by another key (EdDSA)", key_token(&other_ed, "EdDSA", "ed-1", "JWT", pl),
               path, 401);
        expect(&g, "the kid of a key in the set, signed by another key (ES256)", key_token(&other_ec, "ES256", "ec-1", "JWT", pl),
               path, 401);
        expect(&g, "the EdDSA key's kid with an ES256 signature", key_token(&ec, "ES256", "ed-1", "JWT", pl), path, 401);
        {
            const char *t = key_token(&ed, "EdDSA", "ed-1", "JWT", pl);
            const char *forged = key_token(&ed, "EdDSA", "ed-1", "JWT", h_fmt("{\"sub\":\"%s-x\",\"exp\":%lld}", user, now + 900));
            const char *tampered = h_fmt("%.*s%s", (int)(strrchr(forged, '.') - forged), forged, strrchr(t, '.'));
            expect(&g, "a tampered payload", tampered, h_fmt("/api/%s-x/tasks", user), 401);
        }
        expect(&g, "an expired EdDSA token",
               key_token(&ed, "EdDSA", "ed-1", "JWT", h_fmt("{\"sub\":\"%s\",\"exp\":%lld}", user, now - 3600)), path, 401);
        expect(&g, "an EdDSA token without exp", key_token(&ed, "EdDSA", "ed-1", "JWT", h_fmt("{\"sub\":\"%s\"}", user)), path,
               401);
        expect(&g, "alg none with a kid of the set",
               tok_craft("{\"alg\":\"none\",\"kid\":\"ed-1\",\"typ\":\"JWT\"}", pl, NULL, NULL), path, 401);
        {
            /* Key confusion: HS256 keyed with the RSA public key (PEM) and with the Ed25519 x. */
            BIO *b = BIO_new(BIO_s_mem());
            PEM_write_bio_PUBKEY(b, rs.pk);
            char *pem = NULL;
            long n = BIO_get_mem_data(b, &pem);
            const char *pem_s = h_fmt("%.*s", (int)n, pem);
            BIO_free(b);
            expect(&g, "HS256 keyed with the RSA public key, kid rsa-1",
                   tok_craft("{\"alg\":\"HS256\",\"kid\":\"rsa-1\",\"typ\":\"JWT\"}", pl, "sha256", pem_s), path, 401);
            const char *x = strstr(ed.jwk, "\"x\":\"") + 5;
            expect(&g, "HS256 keyed with the Ed25519 public x, kid ed-1",
                   tok_craft("{\"alg\":\"HS256\",\"kid\":\"ed-1\",\"typ\":\"JWT\"}", pl, "sha256", h_fmt("%.43s", x)), path, 401);
        }
        h_section("JWT_JWKS_FILE: shutdown");
        gateway_stop(&g);
    }

    h_section("an unreadable JWT_JWKS_FILE stops start-up");
    const char *broken = h_fmt("%s/broken.json", dir);
    key_write_file(broken, "{\"keys\": [ not json");
    const char *const bad[][2] = {{h_fmt("JWT_JWKS_FILE=%s/missing.json", dir), NULL}, {h_fmt("JWT_JWKS_FILE=%s", broken), NULL}};
    for (size_t i = 0; i < 2; i++) {
        if (gateway_spawn(&g, bad[i], NULL) != 0)
            continue;
        int st = 0;
        int ended = gateway_wait_exit(&g, 5000, &st);
        CHECK(ended && WIFEXITED(st) && WEXITSTATUS(st) != 0 && strstr(gateway_output(&g), "JWT_JWKS_FILE") != NULL,
              "%s: start-up fails naming JWT_JWKS_FILE (%s): %.200s", bad[i][0], ended ? "ended" : "still running",
              gateway_output(&g));
        gateway_kill(&g);
    }

    h_section("JWT_JWKS_URL");
    int port = 0;
    pid_t server = jwks_serve(file, dir, &port);
    if (CHECK(server > 0, "a JWKS endpoint started")) {
        const char *const env2[] = {h_fmt("JWT_JWKS_URL=http://127.0.0.1:%d/api/auth/jwks", port), NULL};
        if (gateway_start(&g, env2) == 0) {
            expect(&g, "EdDSA, the set fetched from the URL", key_token(&ed, "EdDSA", "ed-1", "JWT", pl), path, 200);
            expect(&g, "ES256, the set fetched from the URL", key_token(&ec, "ES256", "ec-1", "JWT", pl), path, 200);
            long before = jwks_number(dir, "count");
            CHECK(before >= 1, "the gateway fetched the set (%ld requests)", before);
            for (int i = 0; i < 10; i++)
                expect(&g, "an unknown kid", key_token(&ed, "EdDSA", h_fmt("unknown-%d", i), "JWT", pl), path, 401);
            long after = jwks_number(dir, "count");
            CHECK(after - before <= 1, "ten unknown kids in a row fetch the set at most once more (%ld fetches)", after - before);
            expect(&g, "the known kid still", key_token(&ed, "EdDSA", "ed-1", "JWT", pl), path, 200);
            gateway_stop(&g);
        }
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }

    key_free(&ed);
    key_free(&ec);
    key_free(&rs);
    key_free(&ps);
    key_free(&other_ed);
    key_free(&other_ec);
    if (system(h_fmt("rm -rf '%s'", dir)) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return h_finish();
}
