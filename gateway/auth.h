/* auth.h: bearer token -> user id, or the reason for a 401; and signing our own tokens. */
#ifndef GW_AUTH_H
#define GW_AUTH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define GW_USER_ID_MAX 255

typedef enum {
    GW_AUTH_OK = 0,
    GW_AUTH_MISSING,       /* no Authorization header, or not "Bearer <token>" */
    GW_AUTH_MALFORMED,     /* not three base64url parts, not JSON, or too long */
    GW_AUTH_BAD_ALGORITHM, /* alg other than HS256 (none, HS384, ...), or a key-pair alg with no JWK Set */
    GW_AUTH_UNKNOWN_KEY,   /* a key-pair token whose kid is not in the JWK Set */
    GW_AUTH_BAD_SIGNATURE, /* signature does not verify with BETTER_AUTH_SECRET */
    GW_AUTH_EXPIRED,       /* exp missing, not an integer, or in the past beyond the leeway */
    GW_AUTH_NOT_YET_VALID, /* nbf or iat in the future beyond the leeway */
    GW_AUTH_BAD_SUBJECT,   /* no sub / id / user.id string, empty, or over 255 characters */
    GW_AUTH_BAD_ISSUER,    /* JWT_ISSUER set and iss differs */
    GW_AUTH_BAD_AUDIENCE,  /* JWT_AUDIENCE set and aud (string or array) does not name it */
    GW_AUTH_SESSION_CACHE, /* typ better-auth.session-cache+jwt: Better Auth's cookie for itself, not a bearer token */
} gw_auth_status_t;

typedef struct gw_identity {
    char user_id[GW_USER_ID_MAX * 4 + 1]; /* NUL-terminated UTF-8, at most 255 characters */
    int64_t issued_at;                    /* the token's iat in seconds */
    int has_issued_at;                    /* 0 when the token carried no integer iat */
    int64_t expires_at;                   /* the token's exp in whole seconds since the epoch (rounded down) */
    uint64_t jwks_serial;                 /* the JWK Set that verified it (gw_jwks_serial), 0 for HS256 */
} gw_identity_t;

/* Verifies the value of an Authorization header (header, header_len: not NUL-terminated;
 * header may be NULL for "no header") at time now (seconds since the epoch).
 * Returns GW_AUTH_OK and fills *out, or the reason the token is refused. Thread-safe. */
gw_auth_status_t gw_auth_verify(const gw_config_t *cfg, const char *header, size_t header_len, int64_t now, gw_identity_t *out);

/* Finds the token in a "Bearer <token>" header value (scheme in any case, then one or more
 * spaces; surrounding whitespace ignored): GW_AUTH_OK with *token, *token_len pointing into
 * header, or GW_AUTH_MISSING. */
gw_auth_status_t gw_auth_split_bearer(const char *header, size_t len, const char **token, size_t *token_len);

/* gw_auth_verify with a per-thread cache (auth_cache.c) of tokens that verified (JWT_CACHE_SIZE slots, each
 * a token's SHA-256, its identity and time claims; 0 slots: no cache): a token seen again is
 * known by its SHA-256 (compared in constant time) and its time claims (exp, nbf, iat) checked
 * again at now; an entry is used for at most 60 s, and a key-pair token's only while the
 * JWK Set that verified it is the current one (a fetched set may have dropped its key: it is
 * verified again). Revocation is not affected (the database checks it on every request).
 * cfg must be the same for every call on a thread (the server's). */
gw_auth_status_t gw_auth_verify_cached(const gw_config_t *cfg, const char *header, size_t header_len, int64_t now,
                                       gw_identity_t *out);

/* A short static English reason for a status, for logs (never sent with the token). */
const char *gw_auth_reason(gw_auth_status_t status);

/* Signs an HS256 token with BETTER_AUTH_SECRET: sub = user_id, iat = issued_at,
 * exp = issued_at + JWT_TTL, plus iss / aud when JWT_ISSUER / JWT_AUDIENCE are set.
 * Returns a malloc'd NUL-terminated token the caller frees, or NULL on failure. */
char *gw_auth_sign(const gw_config_t *cfg, const char *user_id, int64_t issued_at);

#endif
