/* test_jwks: JWK Set parsing and key-pair token verification through gw_auth_verify. */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth.h"
#include "check.h"
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
    CHECK(gw_jwks_supports("EdDSA") && gw_jwks_supports("ES256") && gw_jwks_supports("RS256") && gw_jwks_supports("PS256"));
    CHECK(!gw_jwks_supports("HS256") && !gw_jwks_supports("none") && !gw_jwks_supports("eddsa"));

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
