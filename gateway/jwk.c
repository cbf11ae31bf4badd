/* jwk.c: one JSON Web Key as an OpenSSL 3 key, and a JWS signature checked with it (see jwk.h). */
#include "jwk.h"

#include <openssl/core_names.h>
#include <openssl/ecdsa.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>

#include "text.h"

/* A base64url member decoded into out (cap bytes); returns its length, or -1. */
static long member_bytes(json_t *jwk, const char *name, unsigned char *out, size_t cap)
{
    json_t *v = json_object_get(jwk, name);
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) / 4 * 3 + 3 > cap)
        return -1;
    return gw_text_b64url_decode(json_string_value(v), json_string_length(v), out, cap);
}

static EVP_PKEY *from_params(const char *type, OSSL_PARAM_BLD *bld)
{
    EVP_PKEY *pkey = NULL;
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    EVP_PKEY_CTX_free(ctx);
    OSSL_PARAM_free(params);
    return pkey;
}

static EVP_PKEY *ec_p256_key(json_t *jwk)
{
    unsigned char x[64], y[64], point[65];
    if (member_bytes(jwk, "x", x, sizeof(x)) != 32 || member_bytes(jwk, "y", y, sizeof(y)) != 32)
        return NULL;
    point[0] = 0x04; /* uncompressed */
    memcpy(point + 1, x, 32);
    memcpy(point + 33, y, 32);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    if (bld != NULL && OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) == 1 &&
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof(point)) == 1)
        pkey = from_params("EC", bld);
    OSSL_PARAM_BLD_free(bld);
    return pkey;
}

static EVP_PKEY *rsa_key(json_t *jwk)
{
    unsigned char n[1024], e[16];
    long n_len = member_bytes(jwk, "n", n, sizeof(n)), e_len = member_bytes(jwk, "e", e, sizeof(e));
    if (n_len < 256 || e_len < 1)
        return NULL;
    BIGNUM *bn_n = BN_bin2bn(n, (int)n_len, NULL), *bn_e = BN_bin2bn(e, (int)e_len, NULL);
    OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
    EVP_PKEY *pkey = NULL;
    /* a modulus of at least 2048 bits (not bytes: leading zeros count for nothing), an odd
     * exponent of at least 3 (e = 1 would make every signature verify) */
    if (bn_n != NULL && bn_e != NULL && bld != NULL && BN_num_bits(bn_n) >= 2048 && BN_is_odd(bn_e) && BN_num_bits(bn_e) >= 2 &&
        BN_num_bits(bn_e) <= 64 && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) == 1 &&
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) == 1)
        pkey = from_params("RSA", bld);
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn_n);
    BN_free(bn_e);
    return pkey;
}

int gw_jwk_parse(json_t *jwk, gw_jwk_t *k)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    const char *use = json_string_value(json_object_get(jwk, "use"));
    json_t *kid = json_object_get(jwk, "kid"), *alg = json_object_get(jwk, "alg");

    memset(k, 0, sizeof(*k));
    if (!json_is_object(jwk) || kty == NULL || (use != NULL && strcmp(use, "sig") != 0))
        return -1;
    if (kid != NULL) {
        if (!json_is_string(kid) || json_string_length(kid) > GW_JWK_KID_MAX)
            return -1;
        memcpy(k->kid, json_string_value(kid), json_string_length(kid) + 1);
        k->has_kid = 1;
    }
    if (alg != NULL) {
        if (!json_is_string(alg) || !gw_jwk_supports(json_string_value(alg)))
            return -1;
        snprintf(k->alg, sizeof(k->alg), "%s", json_string_value(alg));
    }
    if (strcmp(kty, "OKP") == 0 && crv != NULL && strcmp(crv, "Ed25519") == 0) {
        unsigned char x[64];
        if (member_bytes(jwk, "x", x, sizeof(x)) == 32)
            k->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);
        k->type = GW_JWK_ED25519;
    } else if (strcmp(kty, "EC") == 0 && crv != NULL && strcmp(crv, "P-256") == 0) {
        k->pkey = ec_p256_key(jwk);
        k->type = GW_JWK_P256;
    } else if (strcmp(kty, "RSA") == 0) {
        k->pkey = rsa_key(jwk);
        k->type = GW_JWK_RSA;
    }
    return k->pkey != NULL ? 0 : -1;
}

int gw_jwk_fits(const gw_jwk_t *k, const char *alg)
{
    if (k->alg[0] != '\0' && strcmp(k->alg, alg) != 0)
        return 0;
    switch (k->type) {
    case GW_JWK_ED25519:
        return strcmp(alg, "EdDSA") == 0;
    case GW_JWK_P256:
        return strcmp(alg, "ES256") == 0;
    case GW_JWK_RSA:
        return strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0;
    }
    return 0;
}

int gw_jwk_supports(const char *alg)
{
    return strcmp(alg, "EdDSA") == 0 || strcmp(alg, "ES256") == 0 || strcmp(alg, "RS256") == 0 || strcmp(alg, "PS256") == 0;
}

/* JWS carries an ECDSA signature as r || s; OpenSSL wants DER. Returns the DER length, or -1. */
static int ecdsa_der(const unsigned char *sig, size_t len, unsigned char *der, size_t cap)
{
    /* no low-S rule: JWS does not have one, and WebCrypto (Better Auth's jose) signs with a
     * high s half of the time */
    if (len != 64)
        return -1;
    ECDSA_SIG *es = ECDSA_SIG_new();
    BIGNUM *r = BN_bin2bn(sig, 32, NULL), *s = BN_bin2bn(sig + 32, 32, NULL);
    int n = -1;
    if (es != NULL && r != NULL && s != NULL && ECDSA_SIG_set0(es, r, s) == 1) {
        r = s = NULL; /* owned by es now */
        if (i2d_ECDSA_SIG(es, NULL) <= (int)cap)
            n = i2d_ECDSA_SIG(es, &der);
    }
    BN_free(r);
    BN_free(s);
    ECDSA_SIG_free(es);
    return n;
}

int gw_jwk_verify(const gw_jwk_t *k, const char *alg, const unsigned char *input, size_t input_len, const unsigned char *sig,
                  size_t sig_len)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char der[80];
    int ok = 0;

    if (md == NULL)
        return 0;
    if (k->type == GW_JWK_ED25519) {
        ok = EVP_DigestVerifyInit(md, NULL, NULL, NULL, k->pkey) == 1 && EVP_DigestVerify(md, sig, sig_len, input, input_len) == 1;
    } else if (k->type == GW_JWK_P256) {
        int der_len = ecdsa_der(sig, sig_len, der, sizeof(der));
        ok = der_len > 0 && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, k->pkey) == 1 &&
             EVP_DigestVerify(md, der, (size_t)der_len, input, input_len) == 1;
    } else if (EVP_DigestVerifyInit(md, &pctx, EVP_sha256(), NULL, k->pkey) == 1) {
        int pss = strcmp(alg, "PS256") == 0;
        ok = (!pss || (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) == 1 &&
                       EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) == 1)) &&
             EVP_DigestVerify(md, sig, sig_len, input, input_len) == 1;
    }
    EVP_MD_CTX_free(md);
    return ok;
}

void gw_jwk_free(gw_jwk_t *k)
{
    EVP_PKEY_free(k->pkey);
    k->pkey = NULL;
}
