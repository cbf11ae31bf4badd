/* test_jwks: tokens signed with key pairs (what Better Auth's JWT plugin issues), checked
 * against a JWK Set from JWT_JWKS_FILE or JWT_JWKS_URL and chosen by kid: EdDSA (Ed25519),
 * ES256, RS256 and PS256 are accepted beside HS256; an unknown kid, another key, a tampered
 * payload, alg none and HS256 keyed with the public key are 401; an unreadable set stops
 * start-up; unknown kids do not make the gateway fetch the URL more than once a minute. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "harness.h"

typedef struct jkey {
    const char *kid, *alg;
    EVP_PKEY *pk;
    const char *jwk; /* the public key as a JWK, kept */
} jkey_t;

static const char *b64_bn(EVP_PKEY *pk, const char *param, int pad)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pk, param, &bn) != 1)
        return "";
    unsigned char buf[1024];
    int n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64url_encode(buf, (size_t)n);
}

static void make_key(jkey_t *k, const char *kid, const char *alg)
{
    k->kid = kid;
    k->alg = alg;
    if (strcmp(alg, "EdDSA") == 0) {
        k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        unsigned char raw[32];
        size_t n = sizeof raw;
        EVP_PKEY_get_raw_public_key(k->pk, raw, &n);
        k->jwk = h_fmt("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"%s\",\"alg\":\"EdDSA\",\"use\":\"sig\"}",
                       b64url_encode(raw, n), kid);
    } else if (strcmp(alg, "ES256") == 0) {
        k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        k->jwk =
            h_fmt("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"%s\",\"alg\":\"ES256\",\"use\":\"sig\"}",
                  b64_bn(k->pk, OSSL_PKEY_PARAM_EC_PUB_X, 32), b64_bn(k->pk, OSSL_PKEY_PARAM_EC_PUB_Y, 32), kid);
    } else {
        k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        k->jwk = h_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\",\"kid\":\"%s\",\"alg\":\"%s\",\"use\":\"sig\"}",
                       b64_bn(k->pk, OSSL_PKEY_PARAM_RSA_N, 0), b64_bn(k->pk, OSSL_PKEY_PARAM_RSA_E, 0), kid, alg);
    }
    if (k->pk == NULL)
        CHECK(0, "OpenSSL made a %s key", alg);
}

/* The JWS signature of input with key k under alg, base64url (kept). */
static const char *sign(const jkey_t *k, const char *alg, const char *input)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[1024];
    size_t n = sizeof sig;
    const char *out = "";
    int eddsa = strcmp(alg, "EdDSA") == 0;
    if (EVP_DigestSignInit(ctx, &pctx, eddsa ? NULL : EVP_sha256(), NULL, k->pk) != 1)
        goto done;
    if (strcmp(alg, "PS256") == 0) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    if (EVP_DigestSign(ctx, sig, &n, (const unsigned char *)input, strlen(input)) != 1)
        goto done;
    if (strcmp(alg, "ES256") == 0) { /* DER to the JWS form: r and s, 32 bytes each */
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
        unsigned char rs[64];
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
        ECDSA_SIG_free(es);
        out = b64url_encode(rs, 64);
    } else {
        out = b64url_encode(sig, n);
    }
done:
    EVP_MD_CTX_free(ctx);
    return out;
}

static const char *token(const jkey_t *k, const char *alg, const char *kid, const char *payload)
{
    const char *hdr =
        kid ? h_fmt("{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"JWT\"}", alg, kid) : h_fmt("{\"alg\":\"%s\",\"typ\":\"JWT\"}", alg);
    const char *input = h_fmt("%s.%s", b64url_encode((const unsigned char *)hdr, strlen(hdr)),
                              b64url_encode((const unsigned char *)payload, strlen(payload)));
    return h_fmt("%s.%s", input, sign(k, alg, input));
}

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

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return 0;
    fputs(text, f);
    return fclose(f) == 0;
}

/* A JWKS endpoint: a child process answering every request with the file's content,
 * counting the requests in count_path. Returns its pid; *port is where it listens. */
static pid_t serve_jwks(const char *file, const char *count_path, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    pid_t pid = fork();
    if (pid != 0) {
        close(fd);
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    for (long served = 1;; served++) {
        int c = accept(fd, NULL, NULL);
        if (c < 0)
            continue;
        char req[4096];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t k = recv(c, req + got, sizeof req - 1 - got, 0);
            if (k <= 0)
                break;
            got += (size_t)k;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        char body[16384];
        FILE *f = fopen(file, "r");
        size_t n = f ? fread(body, 1, sizeof body, f) : 0;
        if (f)
            fclose(f);
        char head[256];
        int hn =
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", n);
        if (send(c, head, (size_t)hn, MSG_NOSIGNAL) < 0 || send(c, body, n, MSG_NOSIGNAL) < 0) {
        }
        close(c);
        FILE *cf = fopen(count_path, "w");
        if (cf) {
            fprintf(cf, "%ld\n", served);
            fclose(cf);
        }
    }
}

static long read_count(const char *path)
{
    FILE *f = fopen(path, "r");
    long n = 0;
    if (f) {
        if (fscanf(f, "%ld", &n) != 1)
            n = 0;
        fclose(f);
    }
    return n;
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
    make_key(&ed, "ed-1", "EdDSA");
    make_key(&ec, "ec-1", "ES256");
    make_key(&rs, "rsa-1", "RS256");
    make_key(&ps, "ps-1", "PS256");
    make_key(&other_ed, "ed-1", "EdDSA"); /* same kid, another key: not in the set */
    make_key(&other_ec, "ec-1", "ES256");
    const char *jwks = h_fmt("{\"keys\":[%s,%s,%s,%s]}", ed.jwk, ec.jwk, rs.jwk, ps.jwk);
    const char *file = h_fmt("%s/jwks.json", dir);
    write_file(file, jwks);

    const char *user = h_uid("jwks");
    const char *path = h_fmt("/api/%s/tasks", user);
    const long long now = h_now();
    /* What Better Auth's JWT plugin puts in a token. */
    const char *pl = h_fmt("{\"sub\":\"%s\",\"iat\":%lld,\"exp\":%lld,\"email\":\"a@b.example\"}", user, now, now + 900);

    if (getenv("JWKS_TEST_DUMP") != NULL) { /* the set and one token per alg, to check with another verifier */
        FILE *f = fopen(getenv("JWKS_TEST_DUMP"), "w");
        if (f != NULL) {
            fprintf(f, "%s\nEdDSA %s\nES256 %s\nRS256 %s\nPS256 %s\n", jwks, token(&ed, "EdDSA", "ed-1", pl),
                    token(&ec, "ES256", "ec-1", pl), token(&rs, "RS256", "rsa-1", pl), token(&ps, "PS256", "ps-1", pl));
            fclose(f);
        }
    }

    gateway_t g;
    const char *const env[] = {h_fmt("JWT_JWKS_FILE=%s", file), NULL};
    h_section("JWT_JWKS_FILE: accepted tokens");
    if (gateway_start(&g, env) == 0) {
        expect(&g, "EdDSA (Ed25519), Better Auth's default", token(&ed, "EdDSA", "ed-1", pl), path, 200);
        expect(&g, "ES256", token(&ec, "ES256", "ec-1", pl), path, 200);
        expect(&g, "RS256", token(&rs, "RS256", "rsa-1", pl), path, 200);
        expect(&g, "PS256", token(&ps, "PS256", "ps-1", pl), path, 200);
        expect(&g, "HS256 with the secret still", tok_user(user), path, 200);

        h_section("JWT_JWKS_FILE: refused tokens");
        expect(&g, "an unknown kid", token(&ed, "EdDSA", "ed-9", pl), path, 401);
        expect(&g, "the kid of a key in the set, signed by another key (EdDSA)", token(&other_ed, "EdDSA", "ed-1", pl), path, 401);
        expect(&g, "the kid of a key in the set, signed by another key (ES256)", token(&other_ec, "ES256", "ec-1", pl), path, 401);
        expect(&g, "the EdDSA key's kid with an ES256 signature", token(&ec, "ES256", "ed-1", pl), path, 401);
        {
            const char *t = token(&ed, "EdDSA", "ed-1", pl);
            const char *forged = token(&ed, "EdDSA", "ed-1", h_fmt("{\"sub\":\"%s-x\",\"exp\":%lld}", user, now + 900));
            const char *tampered = h_fmt("%.*s%s", (int)(strrchr(forged, '.') - forged), forged, strrchr(t, '.'));
            expect(&g, "a tampered payload", tampered, h_fmt("/api/%s-x/tasks", user), 401);
        }
        expect(&g, "an expired EdDSA token", token(&ed, "EdDSA", "ed-1", h_fmt("{\"sub\":\"%s\",\"exp\":%lld}", user, now - 3600)),
               path, 401);
        expect(&g, "an EdDSA token without exp", token(&ed, "EdDSA", "ed-1", h_fmt("{\"sub\":\"%s\"}", user)), path, 401);
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
    write_file(broken, "{\"keys\": [ not json");
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
    const char *counter = h_fmt("%s/count", dir);
    int port = 0;
    pid_t server = serve_jwks(file, counter, &port);
    if (CHECK(server > 0, "a JWKS endpoint started")) {
        const char *const env2[] = {h_fmt("JWT_JWKS_URL=http://127.0.0.1:%d/api/auth/jwks", port), NULL};
        if (gateway_start(&g, env2) == 0) {
            expect(&g, "EdDSA, the set fetched from the URL", token(&ed, "EdDSA", "ed-1", pl), path, 200);
            expect(&g, "ES256, the set fetched from the URL", token(&ec, "ES256", "ec-1", pl), path, 200);
            long before = read_count(counter);
            CHECK(before >= 1, "the gateway fetched the set (%ld requests)", before);
            for (int i = 0; i < 10; i++)
                expect(&g, "an unknown kid", token(&ed, "EdDSA", h_fmt("unknown-%d", i), pl), path, 401);
            long after = read_count(counter);
            CHECK(after - before <= 1, "ten unknown kids in a row fetch the set at most once more (%ld fetches)", after - before);
            expect(&g, "the known kid still", token(&ed, "EdDSA", "ed-1", pl), path, 200);
            gateway_stop(&g);
        }
        kill(server, SIGKILL);
        waitpid(server, NULL, 0);
    }

    EVP_PKEY_free(ed.pk);
    EVP_PKEY_free(ec.pk);
    EVP_PKEY_free(rs.pk);
    EVP_PKEY_free(ps.pk);
    EVP_PKEY_free(other_ed.pk);
    EVP_PKEY_free(other_ec.pk);
    if (system(h_fmt("rm -rf '%s'", dir)) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return h_finish();
}
