/* jwks.h: the JWK Set that key-pair tokens (Better Auth's JWT plugin: EdDSA by default, also
 * ES256, RS256, PS256) are verified against, from JWT_JWKS_FILE or JWT_JWKS_URL. */
#ifndef GW_JWKS_H
#define GW_JWKS_H

#include <stddef.h>

#include "config.h"

typedef enum {
    GW_JWKS_OK = 0,
    GW_JWKS_UNKNOWN_KEY,   /* no key of that kid (and type) in the set */
    GW_JWKS_BAD_SIGNATURE, /* the key exists and the signature does not verify with it */
} gw_jwks_status_t;

/* Loads JWT_JWKS_FILE, or fetches JWT_JWKS_URL (once now, at most 5 s; later in a background
 * thread when an unknown kid arrives, at most once a minute). Returns 0, or -1 with a
 * message naming the variable in err. With neither set, does nothing. Call once, before
 * the worker threads start. */
int gw_jwks_start(const gw_config_t *cfg, char *err, size_t errlen);

/* Whether key-pair tokens are accepted at all (a set is configured). */
int gw_jwks_enabled(void);

/* Verifies sig over input with the key named kid (NULL: any key of the set fitting alg).
 * Thread-safe. An unknown kid asks the fetcher (JWT_JWKS_URL) for a fresh set. */
gw_jwks_status_t gw_jwks_verify(const char *alg, const char *kid, const unsigned char *input, size_t input_len,
                                const unsigned char *sig, size_t sig_len);

/* Parses a JWK Set document; returns the number of usable keys (kept as the current set),
 * or -1 with the reason in err. Exposed for tests. */
int gw_jwks_load_json(const char *json, size_t len, char *err, size_t errlen);

/* Stops the fetcher and frees the set. */
void gw_jwks_stop(void);

#endif
