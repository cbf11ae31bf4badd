/*
 * jwks.c: key-pair token verification against a JWK Set (RFC 7517); one key is jwk.c's.
 *
 * The set is immutable once built and shared by every thread through a reference count:
 * a reader takes a reference under the lock, verifies without it, and drops it. A fresh
 * set from JWT_JWKS_URL replaces the pointer (and the serial, which tells the token cache
 * that what it verified against is gone); the old one goes when its last reader does.
 *
 * Fetching happens on its own thread (libcurl, bounded in time and size), never on an event
 * loop: at start-up, every JWT_JWKS_REFRESH seconds (every 5 s until a fetch has succeeded),
 * and when a token names a kid the set lacks (gw_jwks_fetch_for_unknown_kid): at once until
 * a fetch has succeeded, then at most once a minute. Whoever waits for a fetch (keywait.c)
 * listens: the fetcher calls every listener when a fetch ends, whatever its outcome.
 */
#include "jwks.h"

#include <curl/curl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "jwk.h"
#include "log.h"
#include "text.h"

#define FETCH_MAX_BYTES (1024 * 1024)
#define FETCH_TIMEOUT_S 5
#define UNKNOWN_KID_INTERVAL_S 60 /* fetches asked for by unknown kids, once a set is loaded */
#define RETRY_INTERVAL_S 5        /* until a fetch has succeeded */

typedef struct keyset {
    atomic_int refs;
    uint64_t serial;
    size_t n;
    gw_jwk_t keys[];
} keyset_t;

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    keyset_t *set;
    uint64_t serials;            /* sets made so far: the next one's serial is serials + 1 */
    atomic_uint_fast64_t serial; /* the current set's, 0 when none */
    int enabled;
    const char *url;
    int64_t refresh; /* JWT_JWKS_REFRESH, seconds */
    pthread_t fetcher;
    int fetcher_running, stopping, want_fetch, fetching;
    time_t last_success, last_attempt, last_kid_fetch; /* CLOCK_MONOTONIC seconds; 0: never */
    gw_jwks_listener_t *listeners;
} jwks = {.lock = PTHREAD_MUTEX_INITIALIZER};

static time_t mono_now(void)
{
    return (time_t)(gw_monotonic_ns() / 1000000000u) + 1; /* seconds, never 0, which means "never" */
}

/* ---- the set ---- */

static void keyset_release(keyset_t *ks)
{
    if (ks == NULL || atomic_fetch_sub(&ks->refs, 1) != 1)
        return;
    for (size_t i = 0; i < ks->n; i++)
        gw_jwk_free(&ks->keys[i]);
    free(ks);
}

static keyset_t *keyset_acquire(void)
{
    pthread_mutex_lock(&jwks.lock);
    keyset_t *ks = jwks.set;
    if (ks != NULL)
        atomic_fetch_add(&ks->refs, 1);
    pthread_mutex_unlock(&jwks.lock);
    return ks;
}

static void keyset_replace(keyset_t *ks)
{
    pthread_mutex_lock(&jwks.lock);
    keyset_t *old = jwks.set;
    if (ks != NULL)
        ks->serial = ++jwks.serials;
    jwks.set = ks;
    atomic_store(&jwks.serial, ks != NULL ? ks->serial : 0);
    pthread_mutex_unlock(&jwks.lock);
    keyset_release(old);
}

uint64_t gw_jwks_serial(void)
{
    return atomic_load(&jwks.serial);
}

int gw_jwks_load_json(const char *json, size_t len, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *doc = json_loadb(json, len, 0, &jerr), *keys = json_object_get(doc, "keys"), *item;
    size_t i;

    if (!json_is_array(keys)) {
        snprintf(err, errlen, "not a JWK Set (%s)", doc == NULL ? jerr.text : "no \"keys\" array");
        json_decref(doc);
        return -1;
    }
    keyset_t *ks = calloc(1, sizeof(*ks) + json_array_size(keys) * sizeof(gw_jwk_t));
    if (ks == NULL) {
        json_decref(doc);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    atomic_init(&ks->refs, 1);
    json_array_foreach(keys, i, item)
    {
        if (gw_jwk_parse(item, &ks->keys[ks->n]) == 0)
            ks->n++;
    }
    json_decref(doc);
    if (ks->n == 0) {
        keyset_release(ks);
        snprintf(err, errlen, "the set has no usable key (Ed25519, P-256 or RSA of 2048+ bits, for signing)");
        return -1;
    }
    int n = (int)ks->n;
    keyset_replace(ks);
    return n;
}

/* ---- verification ---- */

gw_jwks_status_t gw_jwks_verify(const char *alg, const char *kid, const unsigned char *input, size_t input_len,
                                const unsigned char *sig, size_t sig_len, uint64_t *serial)
{
    keyset_t *ks = keyset_acquire();
    gw_jwks_status_t st = GW_JWKS_UNKNOWN_KEY;

    for (size_t i = 0; ks != NULL && i < ks->n && st != GW_JWKS_OK; i++) {
        const gw_jwk_t *k = ks->keys + i;
        if (kid != NULL && (!k->has_kid || strcmp(k->kid, kid) != 0))
            continue;
        if (!gw_jwk_fits(k, alg))
            continue;
        st = gw_jwk_verify(k, alg, input, input_len, sig, sig_len) ? GW_JWKS_OK : GW_JWKS_BAD_SIGNATURE;
    }
    if (serial != NULL)
        *serial = ks != NULL ? ks->serial : 0;
    keyset_release(ks);
    return st;
}

int gw_jwks_fetch_for_unknown_kid(void)
{
    int coming = 0;
    if (jwks.url == NULL)
        return 0;
    pthread_mutex_lock(&jwks.lock);
    time_t now = mono_now();
    if (jwks.fetching || jwks.want_fetch) {
        coming = 1; /* its end is what the caller waits for */
    } else if (jwks.last_success == 0 || jwks.last_kid_fetch == 0 || now - jwks.last_kid_fetch >= UNKNOWN_KID_INTERVAL_S) {
        jwks.want_fetch = coming = 1;
        jwks.last_kid_fetch = now;
        pthread_cond_signal(&jwks.wake);
    }
    pthread_mutex_unlock(&jwks.lock);
    return coming;
}

void gw_jwks_listen(gw_jwks_listener_t *l)
{
    pthread_mutex_lock(&jwks.lock);
    l->next = jwks.listeners;
    jwks.listeners = l;
    pthread_mutex_unlock(&jwks.lock);
}

int gw_jwks_enabled(void)
{
    return jwks.enabled;
}

/* ---- fetching ---- */

typedef struct {
    char *data;
    size_t len;
} buffer_t;

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    buffer_t *b = arg;
    size_t add = size * n;
    if (b->len + add > FETCH_MAX_BYTES)
        return 0; /* too large: abort */
    char *grown = realloc(b->data, b->len + add + 1);
    if (grown == NULL)
        return 0;
    memcpy(grown + b->len, p, add);
    b->data = grown;
    b->len += add;
    b->data[b->len] = '\0';
    return add;
}

/* Fetches and installs the set from the URL; returns 0, or -1 with the reason in err. */
static int fetch(const char *url, char *err, size_t errlen)
{
    CURL *curl = curl_easy_init();
    buffer_t body = {NULL, 0};
    long status = 0;
    int rc = -1;

    if (curl == NULL) {
        snprintf(err, errlen, "libcurl unavailable");
        return -1;
    }
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)FETCH_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "todo-gateway/" GW_VERSION);
    CURLcode res = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (res != CURLE_OK)
        snprintf(err, errlen, "%s", curl_easy_strerror(res));
    else if (status != 200)
        snprintf(err, errlen, "HTTP status %ld", status);
    else if (gw_jwks_load_json(body.data ? body.data : "", body.len, err, errlen) >= 0)
        rc = 0;
    free(body.data);
    curl_easy_cleanup(curl);
    return rc;
}

/* When the next fetch is due: asked for now, or the retry or the refresh period after the last. */
static time_t next_fetch(void)
{
    if (jwks.want_fetch)
        return 0;
    return jwks.last_attempt + (jwks.last_success ? (time_t)jwks.refresh : RETRY_INTERVAL_S);
}

/* One fetch, the lock released meanwhile; then every listener is told it ended. */
static void fetch_now(time_t now)
{
    int asked = jwks.want_fetch;
    char err[256];

    jwks.want_fetch = 0;
    jwks.fetching = 1;
    jwks.last_attempt = now;
    pthread_mutex_unlock(&jwks.lock);
    int rc = fetch(jwks.url, err, sizeof(err));
    if (rc != 0)
        gw_log_warn("JWT_JWKS_URL: fetching the key set failed: %s", err);
    else if (asked)
        gw_log_info("JWT_JWKS_URL: key set fetched again for an unknown kid");
    else
        gw_log_debug("JWT_JWKS_URL: key set fetched again (JWT_JWKS_REFRESH)");
    pthread_mutex_lock(&jwks.lock);
    jwks.fetching = 0;
    if (rc == 0)
        jwks.last_success = mono_now();
    for (gw_jwks_listener_t *l = jwks.listeners; l != NULL; l = l->next)
        l->on_fetched(l);
}

static void *fetcher_main(void *arg)
{
    (void)arg;
    gw_log_set_thread("jwks");
    pthread_mutex_lock(&jwks.lock);
    while (!jwks.stopping) {
        time_t now = mono_now(), due = next_fetch();
        if (now >= due) {
            fetch_now(now);
            continue;
        }
        struct timespec until; /* wake up when due, or when asked */
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_sec += due - now;
        pthread_cond_timedwait(&jwks.wake, &jwks.lock, &until);
    }
    pthread_mutex_unlock(&jwks.lock);
    return NULL;
}

static int load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    buffer_t b = {NULL, 0};
    char chunk[4096], why[200];
    size_t n;
    int rc;

    if (f == NULL) {
        snprintf(err, errlen, "JWT_JWKS_FILE: cannot read '%s'", path);
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0 && on_body(chunk, 1, n, &b) == n)
        ;
    fclose(f);
    rc = gw_jwks_load_json(b.data ? b.data : "", b.len, why, sizeof(why));
    free(b.data);
    if (rc < 0)
        snprintf(err, errlen, "JWT_JWKS_FILE: '%s': %s", path, why);
    return rc < 0 ? -1 : 0;
}

int gw_jwks_start(const gw_config_t *cfg, char *err, size_t errlen)
{
    if (cfg->jwks_file != NULL) {
        if (load_file(cfg->jwks_file, err, errlen) != 0)
            return -1;
        jwks.enabled = 1;
    }
    if (cfg->jwks_url != NULL) {
        char why[256];
        jwks.url = cfg->jwks_url;
        jwks.refresh = cfg->jwks_refresh;
        jwks.enabled = 1;
        curl_global_init(CURL_GLOBAL_DEFAULT);
        if (strncmp(jwks.url, "http://", 7) == 0 && strncmp(jwks.url, "http://127.", 11) != 0 &&
            strncmp(jwks.url, "http://localhost", 16) != 0 && strncmp(jwks.url, "http://[::1]", 12) != 0)
            gw_log_warn("JWT_JWKS_URL is plain http: whoever can alter that traffic can sign tokens for any user; use https");
        pthread_condattr_t attr;
        pthread_condattr_init(&attr);
        pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
        pthread_cond_init(&jwks.wake, &attr);
        pthread_condattr_destroy(&attr);
        jwks.last_attempt = mono_now();
        if (fetch(jwks.url, why, sizeof(why)) == 0) /* the identity provider may start after us: then retried */
            jwks.last_success = jwks.last_attempt;
        else
            gw_log_warn("JWT_JWKS_URL: fetching the key set failed (retried every %d s): %s", RETRY_INTERVAL_S, why);
        if (pthread_create(&jwks.fetcher, NULL, fetcher_main, NULL) != 0) {
            snprintf(err, errlen, "JWT_JWKS_URL: cannot start the fetcher thread");
            return -1;
        }
        jwks.fetcher_running = 1;
    }
    return 0;
}

void gw_jwks_stop(void)
{
    if (jwks.fetcher_running) {
        pthread_mutex_lock(&jwks.lock);
        jwks.stopping = 1;
        pthread_cond_signal(&jwks.wake);
        pthread_mutex_unlock(&jwks.lock);
        pthread_join(jwks.fetcher, NULL);
        pthread_cond_destroy(&jwks.wake);
        jwks.fetcher_running = 0;
        jwks.stopping = 0;
        jwks.last_success = jwks.last_attempt = jwks.last_kid_fetch = 0;
        jwks.want_fetch = 0;
        jwks.listeners = NULL;
        curl_global_cleanup();
    }
    keyset_replace(NULL);
    jwks.enabled = 0;
    jwks.url = NULL;
}
