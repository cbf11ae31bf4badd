/* auth.c: "Authorization: Bearer <JWT>" -> user id, and signing the gateway's own tokens.
 *
 * HS256 tokens are verified here with OpenSSL (HMAC-SHA-256 through EVP_MAC, keyed once per
 * thread), key-pair tokens by jwks.c; base64url is OpenSSL's (text.c), JSON jansson's. libjwt
 * 1.10 only signs (gw_auth_sign): it trusts a token more than we do (it accepts alg "none"
 * when given no key, HS384/HS512 with our secret, alg names in any case, never looks at exp,
 * nbf or iat nor at the types of claims) and sets up a fresh HMAC per call. So the header's
 * alg is read first, only HS256 or a configured key-pair alg goes on, and the claims are
 * read with jansson where their JSON types can be checked. The only state kept between calls
 * is per thread (the keyed HMAC; the cache, auth_cache.c): it is safe on any thread. */
#include "auth.h"

#include <jansson.h>
#include <jwt.h>
#include <limits.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "claims.h"
#include "jwk.h"
#include "jwks.h"
#include "text.h"

#define TOKEN_MAX GW_B64URL_MAX                 /* bytes; a longer token is refused before any decoding */
#define B64_DECODED_MAX (TOKEN_MAX / 4 * 3 + 3) /* room for any segment of a token of TOKEN_MAX bytes */
#define USER_ID_BYTES_MAX (sizeof(((gw_identity_t *)0)->user_id) - 1)

gw_auth_status_t gw_auth_split_bearer(const char *header, size_t len, const char **token, size_t *token_len)
{
    size_t i = 0;

    if (header == NULL)
        return GW_AUTH_MISSING;
    while (len > 0 && (header[len - 1] == ' ' || header[len - 1] == '\t')) /* surrounding whitespace is not the value */
        len--;
    while (i < len && (header[i] == ' ' || header[i] == '\t'))
        i++;
    if (len - i < 7 || strncasecmp(header + i, "Bearer", 6) != 0 || header[i + 6] != ' ')
        return GW_AUTH_MISSING;
    for (i += 6; i < len && header[i] == ' '; i++)
        ;
    if (i == len)
        return GW_AUTH_MISSING;
    *token = header + i;
    *token_len = len - i;
    return GW_AUTH_OK;
}

/* What the JOSE header says: the algorithm and, for key-pair tokens, which key. */
typedef struct jose {
    char alg[8];   /* "HS256", or a key-pair alg the JWK Set verifies */
    char kid[129]; /* the kid, when has_kid */
    int has_kid;
} jose_t;

/* Reads the JOSE header (the first segment) before libjwt does: only HS256, or a key-pair alg (EdDSA, ES256,
 * RS256, PS256) when a JWK Set is configured, goes further. libjwt's error codes do not tell "alg none" or
 * "HS384" from a bad signature; this does. */
static gw_auth_status_t check_jose_header(const char *seg, size_t len, jose_t *jose)
{
    unsigned char raw[B64_DECODED_MAX];
    json_t *head, *alg, *typ, *kid;
    gw_auth_status_t st = GW_AUTH_OK;
    long n = gw_text_b64url_decode(seg, len, raw, sizeof(raw));

    memset(jose, 0, sizeof(*jose));
    if (n <= 0 || (head = json_loadb((const char *)raw, (size_t)n, JSON_REJECT_DUPLICATES, NULL)) == NULL)
        return GW_AUTH_MALFORMED;
    alg = json_object_get(head, "alg");
    typ = json_object_get(head, "typ");
    kid = json_object_get(head, "kid");
    if (!json_is_object(head))
        st = GW_AUTH_MALFORMED;
    else if (!json_is_string(alg) || /* RFC 7515: alg names are case-sensitive */
             (strcmp(json_string_value(alg), "HS256") != 0 && !(gw_jwks_enabled() && gw_jwk_supports(json_string_value(alg)))))
        st = GW_AUTH_BAD_ALGORITHM;
    else if (json_is_string(typ) && strcmp(json_string_value(typ), "better-auth.session-cache+jwt") == 0)
        st = GW_AUTH_SESSION_CACHE; /* explicit typing (RFC 8725 3.11): that kind of JWT is not for us */
    else if (typ != NULL && (!json_is_string(typ) || strcasecmp(json_string_value(typ), "JWT") != 0))
        st = GW_AUTH_MALFORMED; /* libjwt refuses other types too, and would call it a bad signature */
    else if (json_object_get(head, "crit") != NULL)
        st = GW_AUTH_MALFORMED; /* RFC 7515 4.1.11: we understand no extension, so none may be critical */
    else if (kid != NULL && (!json_is_string(kid) || json_string_length(kid) >= sizeof(jose->kid)))
        st = GW_AUTH_MALFORMED;
    if (st == GW_AUTH_OK) {
        snprintf(jose->alg, sizeof(jose->alg), "%s", json_string_value(alg));
        if (kid != NULL) {
            memcpy(jose->kid, json_string_value(kid), json_string_length(kid) + 1);
            jose->has_kid = 1;
        }
    }
    json_decref(head);
    return st;
}

/* A user id: a non-empty string of at most GW_USER_ID_MAX characters, no control characters. */
static int valid_user_id(const char *s, size_t len)
{
    long chars = gw_text_utf8_length(s, len, GW_UTF8_NO_CONTROLS); /* no control characters */
    return chars >= 1 && chars <= GW_USER_ID_MAX && len <= USER_ID_BYTES_MAX;
}

/* The user id claim: sub when present; otherwise id; otherwise user.id (Better Auth's cookie-cache token). */
static json_t *find_subject(json_t *claims)
{
    json_t *v, *user;

    if ((v = json_object_get(claims, "sub")) != NULL || (v = json_object_get(claims, "id")) != NULL)
        return v;
    user = json_object_get(claims, "user");
    return json_is_object(user) ? json_object_get(user, "id") : NULL;
}

static int audience_matches(json_t *aud, const char *want)
{
    size_t i;
    json_t *v;

    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (json_is_array(aud)) {
        json_array_foreach(aud, i, v)
        {
            if (json_is_string(v) && strcmp(json_string_value(v), want) == 0)
                return 1;
        }
    }
    return 0;
}

/* The checks libjwt 1.10 does not make, on claims whose JSON types are known. */
static gw_auth_status_t check_claims(const gw_config_t *cfg, json_t *claims, int64_t now, gw_identity_t *out)
{
    json_t *exp = json_object_get(claims, "exp");
    json_t *nbf = json_object_get(claims, "nbf");
    json_t *iat = json_object_get(claims, "iat");
    json_t *sub, *iss;
    const char *id;
    size_t id_len;
    double t_exp, t_nbf, t_iat = 0;

    if (!gw_claims_numeric_date(exp, &t_exp) || gw_claims_is_past(t_exp, cfg->jwt_leeway, now))
        return GW_AUTH_EXPIRED;
    if (nbf != NULL) {
        if (!gw_claims_numeric_date(nbf, &t_nbf))
            return GW_AUTH_MALFORMED;
        if (gw_claims_is_future(t_nbf, cfg->jwt_leeway, now))
            return GW_AUTH_NOT_YET_VALID;
    }
    if (iat != NULL) {
        if (!gw_claims_numeric_date(iat, &t_iat))
            return GW_AUTH_MALFORMED;
        if (gw_claims_is_future(t_iat, cfg->jwt_leeway, now))
            return GW_AUTH_NOT_YET_VALID;
    }

    sub = find_subject(claims);
    if (!json_is_string(sub))
        return GW_AUTH_BAD_SUBJECT;
    id = json_string_value(sub);
    id_len = json_string_length(sub);
    if (!valid_user_id(id, id_len))
        return GW_AUTH_BAD_SUBJECT;

    if (cfg->jwt_issuer != NULL) {
        iss = json_object_get(claims, "iss");
        if (!json_is_string(iss) || strcmp(json_string_value(iss), cfg->jwt_issuer) != 0)
            return GW_AUTH_BAD_ISSUER;
    }
    if (cfg->jwt_audience != NULL && !audience_matches(json_object_get(claims, "aud"), cfg->jwt_audience))
        return GW_AUTH_BAD_AUDIENCE;

    memcpy(out->user_id, id, id_len);
    out->user_id[id_len] = '\0';
    out->expires_at = gw_claims_whole_seconds(t_exp); /* an event stream ends then (events.c) */
    if (iat != NULL) {
        out->issued_at = gw_claims_whole_seconds(t_iat); /* revocation compares whole seconds */
        out->has_issued_at = 1;
    }
    return GW_AUTH_OK;
}

/* A key-pair token: the signature checked against the JWK Set (OpenSSL, in jwks.c), then the payload decoded
 * and its claims checked exactly as for HS256. */
static gw_auth_status_t verify_keypair(const gw_config_t *cfg, const jose_t *jose, const char *tok, const char *dot1,
                                       const char *dot2, const char *end, int64_t now, gw_identity_t *out)
{
    unsigned char sig[B64_DECODED_MAX], payload[B64_DECODED_MAX];
    long sig_len = gw_text_b64url_decode(dot2 + 1, (size_t)(end - dot2 - 1), sig, sizeof(sig));
    long payload_len = gw_text_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, sizeof(payload));
    json_t *claims;
    gw_auth_status_t st;

    /* the one canonical spelling of the signature only, or a token would have several that all verify */
    if (sig_len <= 0 || payload_len <= 0 || !gw_text_b64url_is_canonical(dot2 + 1, (size_t)(end - dot2 - 1), sig, (size_t)sig_len))
        return GW_AUTH_MALFORMED;
    switch (gw_jwks_verify(jose->alg, jose->has_kid ? jose->kid : NULL, (const unsigned char *)tok, (size_t)(dot2 - tok), sig,
                           (size_t)sig_len, &out->jwks_serial)) {
    case GW_JWKS_OK:
        break;
    case GW_JWKS_UNKNOWN_KEY:
        return GW_AUTH_UNKNOWN_KEY;
    default:
        return GW_AUTH_BAD_SIGNATURE;
    }
    if ((claims = json_loadb((const char *)payload, (size_t)payload_len, JSON_REJECT_DUPLICATES, NULL)) == NULL)
        return GW_AUTH_MALFORMED;
    st = json_is_object(claims) ? check_claims(cfg, claims, now, out) : GW_AUTH_MALFORMED;
    json_decref(claims);
    if (st != GW_AUTH_OK)
        memset(out, 0, sizeof(*out));
    return st;
}

/* header.payload.signature: base64url segments, the first two not empty (an empty signature is a
 * bad signature, told after the header). This also keeps NULs and spaces away from libjwt. */
static gw_auth_status_t split_token(const char *tok, size_t len, const char **dot1, const char **dot2)
{
    size_t a = gw_text_b64url_span(tok, len), b, c;
    if (a == 0 || a == len || tok[a] != '.')
        return GW_AUTH_MALFORMED;
    b = a + 1 + gw_text_b64url_span(tok + a + 1, len - a - 1);
    if (b == a + 1 || b == len || tok[b] != '.')
        return GW_AUTH_MALFORMED;
    c = b + 1 + gw_text_b64url_span(tok + b + 1, len - b - 1);
    if (c != len)
        return GW_AUTH_MALFORMED;
    *dot1 = tok + a;
    *dot2 = tok + b;
    return GW_AUTH_OK;
}

/* ---- HS256: HMAC-SHA-256 (RFC 7518 3.2) with a key set once per thread ---- */

/* The thread's HMAC-SHA-256 context keyed with BETTER_AUTH_SECRET (OpenSSL's EVP_MAC), re-keyed
 * when another secret is asked for (tests); each use re-initialises it with the same key
 * (EVP_MAC_init without a key), which skips the key schedule. Freed when the thread ends. */
typedef struct keyed_hmac {
    EVP_MAC_CTX *ctx;
    char *secret; /* a copy of the key it holds */
    size_t secret_len;
} keyed_hmac_t;

static _Thread_local keyed_hmac_t *hmac;
static pthread_key_t hmac_key;
static pthread_once_t hmac_key_once = PTHREAD_ONCE_INIT;

static void free_hmac(void *p)
{
    keyed_hmac_t *h = p;
    EVP_MAC_CTX_free(h->ctx);
    free(h->secret);
    free(h);
}

static void make_hmac_key(void)
{
    pthread_key_create(&hmac_key, free_hmac);
}

static EVP_MAC_CTX *thread_hmac(const gw_config_t *cfg)
{
    if (hmac != NULL && hmac->secret_len == cfg->jwt_secret_len && memcmp(hmac->secret, cfg->jwt_secret, hmac->secret_len) == 0)
        return hmac->ctx;
    pthread_once(&hmac_key_once, make_hmac_key);
    if (hmac == NULL && (hmac = calloc(1, sizeof(*hmac))) != NULL)
        pthread_setspecific(hmac_key, hmac);
    if (hmac == NULL)
        return NULL;
    EVP_MAC_CTX_free(hmac->ctx);
    free(hmac->secret);
    hmac->secret = malloc(cfg->jwt_secret_len);
    hmac->secret_len = cfg->jwt_secret_len;
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    hmac->ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac); /* the context holds its own reference */
    OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0), OSSL_PARAM_construct_end()};
    if (hmac->secret == NULL || hmac->ctx == NULL ||
        !EVP_MAC_init(hmac->ctx, (const unsigned char *)cfg->jwt_secret, cfg->jwt_secret_len, params)) {
        EVP_MAC_CTX_free(hmac->ctx);
        free(hmac->secret);
        memset(hmac, 0, sizeof(*hmac));
        return NULL;
    }
    memcpy(hmac->secret, cfg->jwt_secret, cfg->jwt_secret_len);
    return hmac->ctx;
}

/* An HS256 token: the HMAC of "header.payload" under BETTER_AUTH_SECRET compared in constant
 * time with the signature (its one canonical base64url spelling only), then the payload
 * decoded and its claims checked, as for key-pair tokens. (libjwt 1.10's jwt_decode did the
 * same with a fresh HMAC and a JSON round trip per call; it still signs, gw_auth_sign.) */
static gw_auth_status_t verify_hs256(const gw_config_t *cfg, const char *tok, const char *dot1, const char *dot2, const char *end,
                                     int64_t now, gw_identity_t *out)
{
    unsigned char sig[B64_DECODED_MAX], payload[B64_DECODED_MAX], mac[EVP_MAX_MD_SIZE];
    size_t mac_len = 0;
    long sig_len = gw_text_b64url_decode(dot2 + 1, (size_t)(end - dot2 - 1), sig, sizeof(sig)), payload_len;
    EVP_MAC_CTX *ctx;
    json_t *claims;

    /* Never without the key: an empty key would make every forger's HMAC right. */
    if (cfg->jwt_secret == NULL || cfg->jwt_secret_len == 0 || cfg->jwt_secret_len > INT_MAX)
        return GW_AUTH_BAD_SIGNATURE;
    if (sig_len <= 0 || !gw_text_b64url_is_canonical(dot2 + 1, (size_t)(end - dot2 - 1), sig, (size_t)sig_len) ||
        (ctx = thread_hmac(cfg)) == NULL || !EVP_MAC_init(ctx, NULL, 0, NULL) ||
        !EVP_MAC_update(ctx, (const unsigned char *)tok, (size_t)(dot2 - tok)) || !EVP_MAC_final(ctx, mac, &mac_len, sizeof(mac)) ||
        (size_t)sig_len != mac_len || CRYPTO_memcmp(sig, mac, mac_len) != 0)
        return GW_AUTH_BAD_SIGNATURE;
    payload_len = gw_text_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, sizeof(payload));
    if (payload_len <= 0 || (claims = json_loadb((const char *)payload, (size_t)payload_len, 0, NULL)) == NULL)
        return GW_AUTH_MALFORMED;
    gw_auth_status_t st = json_is_object(claims) ? check_claims(cfg, claims, now, out) : GW_AUTH_MALFORMED;
    json_decref(claims);
    return st;
}

/* Verifies an Authorization header value at time now; GW_AUTH_OK fills *out. Thread-safe, allocates nothing
 * that outlives the call. */
gw_auth_status_t gw_auth_verify(const gw_config_t *cfg, const char *header, size_t header_len, int64_t now, gw_identity_t *out)
{
    const char *tok = NULL, *dot1 = NULL, *dot2 = NULL;
    size_t tok_len = 0;
    gw_auth_status_t st;
    jose_t jose;

    memset(out, 0, sizeof(*out));
    if ((st = gw_auth_split_bearer(header, header_len, &tok, &tok_len)) != GW_AUTH_OK)
        return st;
    if (tok_len > TOKEN_MAX)
        return GW_AUTH_MALFORMED;
    if ((st = split_token(tok, tok_len, &dot1, &dot2)) != GW_AUTH_OK)
        return st;
    if ((st = check_jose_header(tok, (size_t)(dot1 - tok), &jose)) != GW_AUTH_OK)
        return st;
    if (dot2 + 1 == tok + tok_len)
        return GW_AUTH_BAD_SIGNATURE; /* no signature */
    if (strcmp(jose.alg, "HS256") != 0)
        return verify_keypair(cfg, &jose, tok, dot1, dot2, tok + tok_len, now, out);
    if ((st = verify_hs256(cfg, tok, dot1, dot2, tok + tok_len, now, out)) != GW_AUTH_OK)
        memset(out, 0, sizeof(*out));
    return st;
}

/* A static English reason for logs. */
const char *gw_auth_reason(gw_auth_status_t status)
{
    switch (status) {
    case GW_AUTH_OK:
        return "ok";
    case GW_AUTH_MISSING:
        return "no bearer token";
    case GW_AUTH_MALFORMED:
        return "malformed token";
    case GW_AUTH_BAD_ALGORITHM:
        return "algorithm is not HS256 (nor a key-pair algorithm of a configured JWK Set)";
    case GW_AUTH_UNKNOWN_KEY:
        return "no key of that kid in the JWK Set";
    case GW_AUTH_BAD_SIGNATURE:
        return "bad signature";
    case GW_AUTH_EXPIRED:
        return "token expired or without an integer exp";
    case GW_AUTH_NOT_YET_VALID:
        return "token not yet valid (nbf or iat in the future)";
    case GW_AUTH_BAD_SUBJECT:
        return "no valid user id (sub, id or user.id)";
    case GW_AUTH_BAD_ISSUER:
        return "wrong issuer";
    case GW_AUTH_BAD_AUDIENCE:
        return "wrong audience";
    case GW_AUTH_SESSION_CACHE:
        return "a Better Auth session-cache token (typ better-auth.session-cache+jwt), a cookie for Better Auth itself: "
               "send the JWT plugin's token (authClient.token(), /api/auth/token)";
    }
    return "unknown";
}

/* Signs an HS256 token for user_id issued at issued_at; returns a malloc'd string the caller free()s, or NULL.
 * libjwt 1.10 builds the string with malloc (it has no jwt_free_str or allocator hooks), so it is returned as is. */
char *gw_auth_sign(const gw_config_t *cfg, const char *user_id, int64_t issued_at)
{
    jwt_t *jwt = NULL;
    char *token = NULL;
    int64_t exp;

    if (user_id == NULL || !valid_user_id(user_id, strlen(user_id)) || cfg->jwt_secret == NULL || cfg->jwt_secret_len == 0 ||
        cfg->jwt_secret_len > INT_MAX || cfg->jwt_ttl <= 0 || __builtin_add_overflow(issued_at, cfg->jwt_ttl, &exp) ||
        issued_at < LONG_MIN || exp > LONG_MAX)
        return NULL;
    if (jwt_new(&jwt) != 0)
        return NULL;
    if (jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)cfg->jwt_secret, (int)cfg->jwt_secret_len) != 0 ||
        jwt_add_grant(jwt, "sub", user_id) != 0 || jwt_add_grant_int(jwt, "iat", (long)issued_at) != 0 ||
        jwt_add_grant_int(jwt, "exp", (long)exp) != 0 ||
        (cfg->jwt_issuer != NULL && jwt_add_grant(jwt, "iss", cfg->jwt_issuer) != 0) ||
        (cfg->jwt_audience != NULL && jwt_add_grant(jwt, "aud", cfg->jwt_audience) != 0))
        goto done;
    token = jwt_encode_str(jwt);

done:
    jwt_free(jwt);
    return token;
}
