/* auth.c: "Authorization: Bearer <JWT>" -> user id, and signing the gateway's own tokens.
 *
 * libjwt 1.10 does the base64url, the JSON and the HMAC, but it trusts the token more than we do: it accepts
 * alg "none" when given no key, HS384/HS512 with our secret, alg names in any case, and never looks at exp,
 * nbf or iat nor at the types of claims. So the header's alg is read before libjwt sees the token, the key is
 * always passed, the algorithm is checked again after decoding, and the claims are re-read with jansson
 * where their JSON types can be checked. Nothing here keeps state between calls: it is safe on any thread. */
#include "auth.h"

#include <jansson.h>
#include <jwt.h>
#include <limits.h>
#include <math.h>
#include <openssl/crypto.h>
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

/* Finds the token in "Bearer <token>" (scheme in any case, then one or more spaces). */
static gw_auth_status_t split_bearer(const char *header, size_t len, const char **token, size_t *token_len)
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

/* An HS256 token: libjwt checks the signature with BETTER_AUTH_SECRET, then the claims are checked here. */
static gw_auth_status_t verify_hs256(const gw_config_t *cfg, const char *tok, size_t tok_len, int64_t now, gw_identity_t *out)
{
    char token[TOKEN_MAX + 1];
    jwt_t *jwt = NULL;
    char *grants = NULL;
    json_t *claims = NULL;
    gw_auth_status_t st;

    /* Never decode without the key: with key_len 0, libjwt 1.10 takes alg "none" as valid. */
    if (cfg->jwt_secret == NULL || cfg->jwt_secret_len == 0 || cfg->jwt_secret_len > INT_MAX)
        return GW_AUTH_BAD_SIGNATURE;
    memcpy(token, tok, tok_len);
    token[tok_len] = '\0';
    if (jwt_decode(&jwt, token, (const unsigned char *)cfg->jwt_secret, (int)cfg->jwt_secret_len) != 0 || jwt == NULL)
        return GW_AUTH_BAD_SIGNATURE; /* also an undecodable payload: libjwt says EINVAL for both */
    if (jwt_get_alg(jwt) != JWT_ALG_HS256) {
        st = GW_AUTH_BAD_ALGORITHM;
        goto done;
    }

    /* jwt_get_grant_int() reads a float or a string as 0 with no error: read the claims as JSON instead */
    if ((grants = jwt_get_grants_json(jwt, NULL)) == NULL || (claims = json_loads(grants, 0, NULL)) == NULL ||
        !json_is_object(claims)) {
        st = GW_AUTH_MALFORMED;
        goto done;
    }
    st = check_claims(cfg, claims, now, out);

done:
    json_decref(claims);
    free(grants); /* json_dumps' malloc'd string, handed over by libjwt */
    jwt_free(jwt);
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
    if ((st = split_bearer(header, header_len, &tok, &tok_len)) != GW_AUTH_OK)
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
    if ((st = verify_hs256(cfg, tok, tok_len, now, out)) != GW_AUTH_OK)
        memset(out, 0, sizeof(*out));
    return st;
}

/* ---- the per-thread cache of verified tokens ---- */

#define CACHE_SLOTS 256
#define CACHE_TOKEN_MAX 2048 /* longer tokens are verified every time */
#define CACHE_AGE_MAX 60

typedef struct cached {
    size_t len; /* 0: empty */
    char token[CACHE_TOKEN_MAX];
    gw_identity_t id;
    int64_t exp, not_before, stored_at; /* not_before: the later of nbf and iat, or INT64_MIN */
} cached_t;

static _Thread_local cached_t *cache; /* CACHE_SLOTS entries, allocated on first use, freed when the thread ends */
static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;

static void make_cache_key(void)
{
    pthread_key_create(&cache_key, free); /* the destructor frees a thread's cache as it exits */
}

static cached_t *thread_cache(void)
{
    if (cache == NULL) {
        pthread_once(&cache_key_once, make_cache_key);
        if ((cache = calloc(CACHE_SLOTS, sizeof(*cache))) != NULL)
            pthread_setspecific(cache_key, cache);
    }
    return cache;
}

/* The time claims of a token that verified, to check again on each hit. */
static int time_claims(const char *tok, size_t len, int64_t *exp, int64_t *not_before)
{
    const char *dot1 = memchr(tok, '.', len), *dot2 = dot1 ? memchr(dot1 + 1, '.', (size_t)(tok + len - dot1 - 1)) : NULL;
    unsigned char raw[B64_DECODED_MAX];
    long n;
    json_t *claims, *v;

    if (dot2 == NULL || (n = gw_text_b64url_decode(dot1 + 1, (size_t)(dot2 - dot1 - 1), raw, sizeof(raw))) <= 0 ||
        (claims = json_loadb((const char *)raw, (size_t)n, 0, NULL)) == NULL)
        return -1;
    double t = 0;
    gw_claims_numeric_date(json_object_get(claims, "exp"), &t);
    *exp = gw_claims_whole_seconds(t); /* rounded down: expires no later than the claim says */
    *not_before = INT64_MIN;
    if (gw_claims_numeric_date(v = json_object_get(claims, "nbf"), &t))
        *not_before = gw_claims_whole_seconds(ceil(t));
    if (gw_claims_numeric_date(v = json_object_get(claims, "iat"), &t) && gw_claims_whole_seconds(ceil(t)) > *not_before)
        *not_before = gw_claims_whole_seconds(ceil(t));
    json_decref(claims);
    return 0;
}

gw_auth_status_t gw_auth_verify_cached(const gw_config_t *cfg, const char *header, size_t header_len, int64_t now,
                                       gw_identity_t *out)
{
    const char *tok;
    size_t tok_len;
    gw_auth_status_t st;

    if (split_bearer(header, header_len, &tok, &tok_len) != GW_AUTH_OK || tok_len > CACHE_TOKEN_MAX)
        return gw_auth_verify(cfg, header, header_len, now, out);
    cached_t *slots = thread_cache();
    if (slots == NULL)
        return gw_auth_verify(cfg, header, header_len, now, out);
    cached_t *c = &slots[gw_text_fnv1a(tok, tok_len) % CACHE_SLOTS];
    /* constant time: the slot may hold another user's token */
    if (c->len == tok_len && CRYPTO_memcmp(c->token, tok, tok_len) == 0 && now - c->stored_at < CACHE_AGE_MAX &&
        !gw_claims_is_past(c->exp, cfg->jwt_leeway, now) && !gw_claims_is_future(c->not_before, cfg->jwt_leeway, now) &&
        (c->id.jwks_serial == 0 || c->id.jwks_serial == gw_jwks_serial())) {
        *out = c->id;
        return GW_AUTH_OK;
    }
    if ((st = gw_auth_verify(cfg, header, header_len, now, out)) == GW_AUTH_OK &&
        time_claims(tok, tok_len, &c->exp, &c->not_before) == 0) {
        memcpy(c->token, tok, tok_len);
        c->len = tok_len;
        c->id = *out;
        c->stored_at = now;
    }
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
