/* test_jwks: JWK Set parsing and key-pair token verification through gw_auth_verify. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "check.h"
#include "jwk.h"
#include "jwks.h"

static void b64url(const unsigned char *in, size_t len, char *out)
{
    int n = EVP_EncodeBlock((unsigned char *)out, in, (int)len);
    for (int i = 0; i < n; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
}

/* "Bearer header.payload.signature" signed with an Ed25519 key. */
static void ed_token(EVP_PKEY *pk, const char *header, const char *payload, char *out, size_t cap)
{
    char h[512], p[512], sig[128], input[1100];
    unsigned char raw[64];
    size_t raw_len = sizeof(raw);
    b64url((const unsigned char *)header, strlen(header), h);
    b64url((const unsigned char *)payload, strlen(payload), p);
    snprintf(input, sizeof(input), "%s.%s", h, p);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestSignInit(md, NULL, NULL, NULL, pk);
    EVP_DigestSign(md, raw, &raw_len, (const unsigned char *)input, strlen(input));
    EVP_MD_CTX_free(md);
    b64url(raw, raw_len, sig);
    snprintf(out, cap, "Bearer %s.%s", input, sig);
}

/* A JWK Set with one P-256 key (kid "ec") and one RSA key (kid "rsa") whose e is given. */
static int load_ec_and_rsa(EVP_PKEY *ec, EVP_PKEY *rsa, const char *rsa_e, char *err, size_t errlen)
{
    unsigned char buf[600];
    char x[64], y[64], n[800], jwks[2048];
    BIGNUM *bn = NULL;
    EVP_PKEY_get_bn_param(ec, OSSL_PKEY_PARAM_EC_PUB_X, &bn);
    BN_bn2binpad(bn, buf, 32);
    b64url(buf, 32, x);
    BN_free(bn), bn = NULL;
    EVP_PKEY_get_bn_param(ec, OSSL_PKEY_PARAM_EC_PUB_Y, &bn);
    BN_bn2binpad(bn, buf, 32);
    b64url(buf, 32, y);
    BN_free(bn), bn = NULL;
    EVP_PKEY_get_bn_param(rsa, OSSL_PKEY_PARAM_RSA_N, &bn);
    int nl = BN_bn2bin(bn, buf);
    b64url(buf, (size_t)nl, n);
    BN_free(bn);
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"ec\"},"
             "{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\",\"kid\":\"rsa\"}]}",
             x, y, n, rsa_e);
    return gw_jwks_load_json(jwks, strlen(jwks), err, errlen);
}

/* Signs input with the P-256 key; returns r || s (64 bytes), s taken high (n - s) when high. */
static void es256_raw(EVP_PKEY *ec, const char *input, int high, unsigned char out[64])
{
    unsigned char der[80];
    size_t der_len = sizeof(der);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, ec);
    EVP_DigestSign(md, der, &der_len, (const unsigned char *)input, strlen(input));
    EVP_MD_CTX_free(md);
    const unsigned char *p = der;
    ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)der_len);
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(sig, &r, &s);
    EC_GROUP *group = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
    BIGNUM *half = BN_dup(EC_GROUP_get0_order(group)), *other = BN_new();
    BN_rshift1(half, half);
    BN_sub(other, EC_GROUP_get0_order(group), s); /* the other spelling of s */
    const BIGNUM *low = BN_cmp(s, half) <= 0 ? s : other, *high_s = low == s ? other : s;
    BN_bn2binpad(r, out, 32);
    BN_bn2binpad(high ? high_s : low, out + 32, 32);
    BN_free(half), BN_free(other), EC_GROUP_free(group), ECDSA_SIG_free(sig);
}

static void test_hardening(void)
{
    char err[256], input[256], h[64], p[128], sigtxt[128], tok[512];
    unsigned char raw[64];
    EVP_PKEY *ec = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256"), *rsa = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);

    CHECK_EQ(load_ec_and_rsa(ec, rsa, "AQ", err, sizeof(err)), 1); /* e = 1: the RSA key is refused, the EC one kept */
    CHECK_EQ(load_ec_and_rsa(ec, rsa, "Ag", err, sizeof(err)), 1); /* e = 2: even */
    CHECK_EQ(load_ec_and_rsa(ec, rsa, "AQAB", err, sizeof(err)), 2);

    /* an ES256 signature of the wrong length is refused without reading past it */
    unsigned char *short_sig = malloc(8);
    memset(short_sig, 0, 8);
    CHECK_EQ(gw_jwks_verify("ES256", "ec", (const unsigned char *)"a.b", 3, short_sig, 8, NULL), GW_JWKS_BAD_SIGNATURE);
    free(short_sig);

    /* ES256: both spellings of s verify. JWS has no low-S rule and WebCrypto (Better Auth's
     * jose library) signs with a high s half of the time: refusing those would refuse them. */
    int64_t now = (int64_t)time(NULL);
    gw_config_t cfg = {.jwt_secret = "unit-test-secret", .jwt_secret_len = 16, .jwt_leeway = 60, .jwt_ttl = 3600};
    char payload[128];
    snprintf(payload, sizeof(payload), "{\"sub\":\"ada\",\"exp\":%lld}", (long long)now + 600);
    const char *header = "{\"alg\":\"ES256\",\"kid\":\"ec\"}";
    b64url((const unsigned char *)header, strlen(header), h);
    b64url((const unsigned char *)payload, strlen(payload), p);
    snprintf(input, sizeof(input), "%s.%s", h, p);
    for (int high = 0; high <= 1; high++) {
        es256_raw(ec, input, high, raw);
        b64url(raw, 64, sigtxt);
        snprintf(tok, sizeof(tok), "Bearer %s.%s", input, sigtxt);
        gw_identity_t id;
        gw_auth_status_t st = gw_auth_verify(&cfg, tok, strlen(tok), now, &id);
        CHECK_EQ(st, GW_AUTH_OK);
        (void)high;
    }
    EVP_PKEY_free(ec);
    EVP_PKEY_free(rsa);
}

int main(void)
{
    gw_config_t cfg = {.jwt_secret = "unit-test-secret", .jwt_secret_len = 16, .jwt_leeway = 60, .jwt_ttl = 3600};
    char err[256], jwks[512], x[64], tok[2048], payload[256];
    unsigned char raw[32];
    size_t raw_len = sizeof(raw);
    gw_identity_t id;
    int64_t now = (int64_t)time(NULL);

    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), *other = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    EVP_PKEY_get_raw_public_key(key, raw, &raw_len);
    b64url(raw, raw_len, x);

    /* before any set is configured, EdDSA is simply not an accepted algorithm */
    snprintf(payload, sizeof(payload), "{\"sub\":\"ada\",\"iat\":%lld,\"exp\":%lld}", (long long)now, (long long)now + 600);
    ed_token(key, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", payload, tok, sizeof(tok));
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_BAD_ALGORITHM);

    /* parsing */
    CHECK_EQ(gw_jwks_load_json("not json", 8, err, sizeof(err)), -1);
    CHECK_EQ(gw_jwks_load_json("{\"keys\": 1}", 11, err, sizeof(err)), -1);
    CHECK_EQ(gw_jwks_load_json("{\"keys\": []}", 12, err, sizeof(err)), -1); /* no usable key */
    const char *unusable = "{\"keys\":[{\"kty\":\"oct\",\"k\":\"c2VjcmV0\"},{\"kty\":\"OKP\",\"crv\":\"X25519\",\"x\":\"AAAA\"}]}";
    CHECK_EQ(gw_jwks_load_json(unusable, strlen(unusable), err, sizeof(err)), -1);
    snprintf(jwks, sizeof(jwks),
             "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"k1\",\"alg\":\"EdDSA\"},"
             "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"enc\",\"use\":\"enc\"}]}",
             x, x);
    CHECK_EQ(gw_jwks_load_json(jwks, strlen(jwks), err, sizeof(err)), 1); /* the "enc" key is skipped */
    CHECK(gw_jwk_supports("EdDSA") && gw_jwk_supports("ES256") && gw_jwk_supports("RS256") && gw_jwk_supports("PS256"));
    CHECK(!gw_jwk_supports("HS256") && !gw_jwk_supports("none") && !gw_jwk_supports("eddsa"));

    /* gw_jwks_enabled() is set by gw_jwks_start; with a file it loads and enables */
    FILE *f = fopen("/tmp/gw-unit-jwks.json", "w");
    fputs(jwks, f);
    fclose(f);
    cfg.jwks_file = "/tmp/gw-unit-jwks.json";
    CHECK_EQ(gw_jwks_start(&cfg, err, sizeof(err)), 0);
    CHECK(gw_jwks_enabled());

    ed_token(key, "{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"typ\":\"JWT\"}", payload, tok, sizeof(tok));
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "ada") == 0 && id.has_issued_at && id.issued_at == now);
    ed_token(key, "{\"alg\":\"EdDSA\"}", payload, tok, sizeof(tok)); /* no kid: any fitting key */
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_OK);
    ed_token(key, "{\"alg\":\"EdDSA\",\"kid\":\"k2\"}", payload, tok, sizeof(tok));
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_UNKNOWN_KEY);
    ed_token(key, "{\"alg\":\"EdDSA\",\"kid\":\"enc\"}", payload, tok, sizeof(tok)); /* not a signing key */
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_UNKNOWN_KEY);
    ed_token(other, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", payload, tok, sizeof(tok));
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_BAD_SIGNATURE);
    ed_token(key, "{\"alg\":\"ES256\",\"kid\":\"k1\"}", payload, tok, sizeof(tok)); /* the key's alg is EdDSA */
    CHECK(gw_auth_verify(&cfg, tok, strlen(tok), now, &id) != GW_AUTH_OK);
    ed_token(key, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", "{\"sub\":\"ada\"}", tok, sizeof(tok)); /* no exp */
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_EXPIRED);
    snprintf(payload, sizeof(payload), "{\"sub\":\"ada\",\"exp\":%lld}", (long long)now - 3600);
    ed_token(key, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", payload, tok, sizeof(tok));
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_EXPIRED);
    /* a signature over another payload */
    snprintf(payload, sizeof(payload), "{\"sub\":\"bob\",\"exp\":%lld}", (long long)now + 600);
    char forged[2048];
    ed_token(key, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", payload, forged, sizeof(forged));
    snprintf(payload, sizeof(payload), "{\"sub\":\"eve\",\"exp\":%lld}", (long long)now + 600);
    ed_token(key, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", payload, tok, sizeof(tok));
    strcpy(strrchr(tok, '.'), strrchr(forged, '.'));
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_BAD_SIGNATURE);
    /* HS256 still works beside the set */
    char *hs = gw_auth_sign(&cfg, "ada", now);
    snprintf(tok, sizeof(tok), "Bearer %s", hs);
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_OK);
    free(hs);

    /* the unused bits of the signature's last character must be zero: one spelling per token */
    snprintf(payload, sizeof(payload), "{\"sub\":\"ada\",\"exp\":%lld}", (long long)now + 600);
    ed_token(key, "{\"alg\":\"EdDSA\",\"kid\":\"k1\"}", payload, tok, sizeof(tok));
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_OK);
    {
        static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        char *last = tok + strlen(tok) - 1; /* 64 bytes: 86 characters, the last carries 2 bits + 4 unused */
        int v = (int)(strchr(alphabet, *last) - alphabet);
        for (int bits = 1; bits < 16; bits++) {
            *last = alphabet[(v & ~15) | bits];
            CHECK(gw_auth_verify(&cfg, tok, strlen(tok), now, &id) != GW_AUTH_OK);
        }
    }

    test_hardening();

    /* The verified-token cache keeps a key-pair token only while the set that verified it is
     * the current one: once a set without its key replaces it, the token is refused at once. */
    CHECK_EQ(gw_jwks_load_json(jwks, strlen(jwks), err, sizeof(err)), 1); /* k1 again (test_hardening loaded others) */
    snprintf(payload, sizeof(payload), "{\"sub\":\"ada\",\"iat\":%lld,\"exp\":%lld}", (long long)now, (long long)now + 600);
    ed_token(key, "{\"alg\":\"EdDSA\",\"kid\":\"k1\",\"typ\":\"JWT\"}", payload, tok, sizeof(tok));
    CHECK_EQ(gw_auth_verify_cached(&cfg, tok, strlen(tok), now, &id), GW_AUTH_OK);
    CHECK(id.jwks_serial != 0 && id.jwks_serial == gw_jwks_serial());
    CHECK_EQ(gw_auth_verify_cached(&cfg, tok, strlen(tok), now, &id), GW_AUTH_OK); /* a hit */
    uint64_t before = gw_jwks_serial();
    CHECK_EQ(gw_jwks_load_json(jwks, strlen(jwks), err, sizeof(err)), 1); /* the same keys again: a new set */
    CHECK(gw_jwks_serial() > before);
    CHECK_EQ(gw_auth_verify_cached(&cfg, tok, strlen(tok), now, &id), GW_AUTH_OK); /* verified again */
    CHECK(id.jwks_serial == gw_jwks_serial());
    char other_jwks[512], ox[64];
    raw_len = sizeof(raw);
    EVP_PKEY_get_raw_public_key(other, raw, &raw_len);
    b64url(raw, raw_len, ox);
    snprintf(other_jwks, sizeof(other_jwks), "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"k2\"}]}", ox);
    CHECK_EQ(gw_jwks_load_json(other_jwks, strlen(other_jwks), err, sizeof(err)), 1); /* k1 left the set */
    CHECK_EQ(gw_auth_verify_cached(&cfg, tok, strlen(tok), now, &id), GW_AUTH_UNKNOWN_KEY);
    char *hs_cached = gw_auth_sign(&cfg, "ada", now); /* HS256 tokens do not depend on the set */
    snprintf(tok, sizeof(tok), "Bearer %s", hs_cached);
    CHECK_EQ(gw_auth_verify_cached(&cfg, tok, strlen(tok), now, &id), GW_AUTH_OK);
    CHECK(id.jwks_serial == 0);
    free(hs_cached);

    /* Better Auth's session-cache JWT, signed by a key of the set, is refused for its type
     * (RFC 8725 3.11), and the reason says what it is */
    snprintf(payload, sizeof(payload),
             "{\"sub\":\"ada\",\"user\":{\"id\":\"ada\"},\"aud\":\"better-auth:session-cache\",\"exp\":%lld}",
             (long long)now + 300);
    ed_token(other, "{\"alg\":\"EdDSA\",\"kid\":\"k2\",\"typ\":\"better-auth.session-cache+jwt\"}", payload, tok, sizeof(tok));
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_SESSION_CACHE);
    CHECK(strstr(gw_auth_reason(GW_AUTH_SESSION_CACHE), "session-cache") != NULL);
    ed_token(other, "{\"alg\":\"EdDSA\",\"kid\":\"k2\",\"typ\":\"JWT\"}", payload, tok, sizeof(tok));
    CHECK_EQ(gw_auth_verify(&cfg, tok, strlen(tok), now, &id), GW_AUTH_OK); /* the same claims as a JWT */

    /* an unreadable file fails naming the variable */
    gw_jwks_stop();
    cfg.jwks_file = "/nonexistent/jwks.json";
    CHECK_EQ(gw_jwks_start(&cfg, err, sizeof(err)), -1);
    CHECK(strstr(err, "JWT_JWKS_FILE") != NULL);
    gw_jwks_stop();
    remove("/tmp/gw-unit-jwks.json");
    EVP_PKEY_free(key);
    EVP_PKEY_free(other);
    return check_report("test_jwks");
}
