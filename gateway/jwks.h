/* jwks.h: the JWK Set that key-pair tokens (Better Auth's JWT plugin: EdDSA by default, also
 * ES256, RS256, PS256) are verified against, from JWT_JWKS_FILE or JWT_JWKS_URL. */
#ifndef GW_JWKS_H
#define GW_JWKS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

typedef enum {
    GW_JWKS_OK = 0,
    GW_JWKS_UNKNOWN_KEY,   /* no key of that kid (and type) in the set */
    GW_JWKS_BAD_SIGNATURE, /* the key exists and the signature does not verify with it */
} gw_jwks_status_t;

/* Loads JWT_JWKS_FILE, or fetches JWT_JWKS_URL (once now, at most 5 s; then in a background
 * thread every JWT_JWKS_REFRESH seconds, every 5 s until a fetch has succeeded, and when an
 * unknown kid asks: gw_jwks_fetch_for_unknown_kid). Returns 0, or -1 with a message naming
 * the variable in err. With neither set, does nothing. Call once, before the worker threads
 * start. */
int gw_jwks_start(const gw_config_t *cfg, char *err, size_t errlen);

/* Whether key-pair tokens are accepted at all (a set is configured). */
int gw_jwks_enabled(void);

/* Verifies sig over input with the key named kid (NULL: any key of the set fitting alg); sets
 * *serial (when not NULL) to the serial of the set it looked in. Thread-safe. */
gw_jwks_status_t gw_jwks_verify(const char *alg, const char *kid, const unsigned char *input, size_t input_len,
                                const unsigned char *sig, size_t sig_len, uint64_t *serial);

/* The serial of the current set: another one each time the set is replaced (every fetch that
 * succeeds), 0 while there is none. What was verified against an older serial may have been
 * signed by a key that left the set. Thread-safe. */
uint64_t gw_jwks_serial(void);

/* A token names a kid the set lacks: asks for a fetch of JWT_JWKS_URL when one may run (at
 * once until a fetch has succeeded; then at most once a minute for unknown kids; periodic
 * fetches do not count). Returns 1 when a fetch is running or was just asked for, so that
 * waiting for its end (gw_jwks_listen) may bring the key; 0 when none will (no URL, or an
 * unknown kid already had its fetch this minute). Thread-safe. */
int gw_jwks_fetch_for_unknown_kid(void);

/* Someone waiting for fetches: on_fetched runs on the fetcher's thread, with the set's lock
 * held, after each fetch ends (the new set installed, or the old one kept after a failure);
 * it must only wake its owner (keywait.c writes an eventfd). */
typedef struct gw_jwks_listener {
    void (*on_fetched)(struct gw_jwks_listener *self);
    struct gw_jwks_listener *next;
} gw_jwks_listener_t;

/* Adds a listener, which must live until gw_jwks_stop. Thread-safe. */
void gw_jwks_listen(gw_jwks_listener_t *listener);

/* Parses a JWK Set document; returns the number of usable keys (kept as the current set),
 * or -1 with the reason in err. Exposed for tests. */
int gw_jwks_load_json(const char *json, size_t len, char *err, size_t errlen);

/* Stops the fetcher and frees the set. */
void gw_jwks_stop(void);

#endif
