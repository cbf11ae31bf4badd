/* auth_cache.c: the per-thread cache of verified tokens in front of gw_auth_verify (auth.h:
 * gw_auth_verify_cached). JWT_CACHE_SIZE slots per thread, direct-mapped by the token's
 * SHA-256; a slot holds the digest (not the token: ~150 bytes with the user id, whatever the
 * token's length), the identity and the time claims, checked again on every hit. */
#include "auth.h"

#include <jansson.h>
#include <math.h>
#include <openssl/crypto.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "claims.h"
#include "jwks.h"
#include "text.h"

#define B64_DECODED_MAX (GW_B64URL_MAX / 4 * 3 + 3)

#define CACHE_TOKEN_MAX 2048 /* longer tokens are verified every time */
#define CACHE_AGE_MAX 60

/* One verified token, known by its SHA-256 (equal digests: equal tokens), and what it proved. */
typedef struct cached {
    unsigned char digest[32];
    int used;
    int has_issued_at;
    int64_t issued_at, exp, not_before, stored_at; /* not_before: the later of nbf and iat, or INT64_MIN */
    uint64_t jwks_serial;
    char *user_id; /* malloc'd */
} cached_t;

typedef struct cache {
    size_t slots; /* JWT_CACHE_SIZE */
    cached_t entry[];
} cache_t;

static _Thread_local cache_t *cache; /* allocated on first use, freed when the thread ends */
static pthread_key_t cache_key;
static pthread_once_t cache_key_once = PTHREAD_ONCE_INIT;

static void free_cache(void *p)
{
    cache_t *c = p;
    for (size_t i = 0; i < c->slots; i++)
        free(c->entry[i].user_id);
    free(c);
}

static void make_cache_key(void)
{
    pthread_key_create(&cache_key, free_cache); /* the destructor frees a thread's cache as it exits */
}

static cache_t *thread_cache(const gw_config_t *cfg)
{
    if (cache == NULL && cfg->jwt_cache_size > 0) {
        pthread_once(&cache_key_once, make_cache_key);
        if ((cache = calloc(1, sizeof(*cache) + (size_t)cfg->jwt_cache_size * sizeof(cached_t))) != NULL) {
            cache->slots = (size_t)cfg->jwt_cache_size;
            pthread_setspecific(cache_key, cache);
        }
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

/* Remembers a token that verified (its digest, identity and time claims) in slot c. */
static void remember(cached_t *c, const unsigned char digest[32], const char *tok, size_t tok_len, const gw_identity_t *id,
                     int64_t now)
{
    size_t n = strlen(id->user_id);
    char *user_id = malloc(n + 1);
    if (user_id == NULL || time_claims(tok, tok_len, &c->exp, &c->not_before) != 0) {
        free(user_id);
        return;
    }
    free(c->user_id);
    c->user_id = memcpy(user_id, id->user_id, n + 1);
    memcpy(c->digest, digest, 32);
    c->used = 1;
    c->has_issued_at = id->has_issued_at;
    c->issued_at = id->issued_at;
    c->jwks_serial = id->jwks_serial;
    c->stored_at = now;
}

gw_auth_status_t gw_auth_verify_cached(const gw_config_t *cfg, const char *header, size_t header_len, int64_t now,
                                       gw_identity_t *out)
{
    const char *tok;
    size_t tok_len;
    gw_auth_status_t st;
    unsigned char digest[32];
    cache_t *slots;

    if (gw_auth_split_bearer(header, header_len, &tok, &tok_len) != GW_AUTH_OK || tok_len > CACHE_TOKEN_MAX ||
        (slots = thread_cache(cfg)) == NULL || SHA256((const unsigned char *)tok, tok_len, digest) == NULL)
        return gw_auth_verify(cfg, header, header_len, now, out);
    uint64_t h;
    memcpy(&h, digest, sizeof(h));
    cached_t *c = &slots->entry[h % slots->slots];
    /* constant time: the slot may hold another user's token */
    if (c->used && CRYPTO_memcmp(c->digest, digest, 32) == 0 && now - c->stored_at < CACHE_AGE_MAX &&
        !gw_claims_is_past(c->exp, cfg->jwt_leeway, now) && !gw_claims_is_future(c->not_before, cfg->jwt_leeway, now) &&
        (c->jwks_serial == 0 || c->jwks_serial == gw_jwks_serial())) {
        memset(out, 0, sizeof(*out));
        memcpy(out->user_id, c->user_id, strlen(c->user_id) + 1);
        out->has_issued_at = c->has_issued_at;
        out->issued_at = c->issued_at;
        out->expires_at = c->exp; /* the same whole seconds gw_auth_verify gives (an event stream ends then) */
        out->jwks_serial = c->jwks_serial;
        return GW_AUTH_OK;
    }
    if ((st = gw_auth_verify(cfg, header, header_len, now, out)) == GW_AUTH_OK)
        remember(c, digest, tok, tok_len, out, now);
    return st;
}

