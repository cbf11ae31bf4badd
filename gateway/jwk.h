/* jwk.h: one JSON Web Key (RFC 7517) as a key that verifies, and a JWS signature (RFC 7515)
 * checked with it, by OpenSSL 3: Ed25519 for EdDSA (RFC 8037), P-256 for ES256, RSA of 2048+
 * bits with an odd exponent of at least 3 for RS256 and PS256 (RFC 7518 3.3-3.5). The set of
 * keys, and where it comes from, is jwks.c's. */
#ifndef GW_JWK_H
#define GW_JWK_H

#include <jansson.h>
#include <openssl/evp.h>
#include <stddef.h>

#define GW_JWK_KID_MAX 128

typedef enum { GW_JWK_ED25519, GW_JWK_P256, GW_JWK_RSA } gw_jwk_type_t;

typedef struct gw_jwk {
    char kid[GW_JWK_KID_MAX + 1];
    int has_kid;
    gw_jwk_type_t type;
    char alg[8];    /* the JWK's "alg", "" when it named none */
    EVP_PKEY *pkey; /* owned; gw_jwk_free */
} gw_jwk_t;

/* Whether alg names an algorithm verified here: EdDSA, ES256, RS256, PS256 (case-sensitive). */
int gw_jwk_supports(const char *alg);

/* Reads one member of a set's "keys": returns 0 and fills *k when it is a signing key ("use"
 * absent or "sig") of a type above, with a supported "alg" if any; -1 otherwise. */
int gw_jwk_parse(json_t *jwk, gw_jwk_t *k);

/* Whether k may verify a token of alg: its key type, and its own "alg" when it named one. */
int gw_jwk_fits(const gw_jwk_t *k, const char *alg);

/* Whether sig is alg's signature of input[0..input_len) by k (ES256: r || s, as JWS carries
 * it; no low-S rule). Thread-safe: k is only read. */
int gw_jwk_verify(const gw_jwk_t *k, const char *alg, const unsigned char *input, size_t input_len, const unsigned char *sig,
                  size_t sig_len);

/* Frees k's key. */
void gw_jwk_free(gw_jwk_t *k);

#endif
