/* keys.h: key pairs made in the test (OpenSSL), the tokens they sign (what Better Auth's JWT
 * plugin issues), and a local JWKS endpoint that serves a file, for test_jwks and
 * test_rotation. Strings returned are kept by the harness (freed by h_finish). */
#ifndef TEST_KEYS_H
#define TEST_KEYS_H

#include <sys/types.h>

#include <openssl/evp.h>

typedef struct jkey {
    const char *kid, *alg;
    EVP_PKEY *pk;    /* freed by key_free */
    const char *jwk; /* the public key as a JWK, kept */
} jkey_t;

/* A new key pair for alg (EdDSA: Ed25519, ES256: P-256, RS256 and PS256: RSA 2048) named kid. */
void key_make(jkey_t *k, const char *kid, const char *alg);
void key_free(jkey_t *k);

/* A JWS of payload signed by k under alg, with kid (NULL: none) and typ in its header. Kept. */
const char *key_token(const jkey_t *k, const char *alg, const char *kid, const char *typ, const char *payload);

/* Writes text to path; returns 1 when it did (a rename from a temporary file: a reader sees the
 * old content or the new, never half). */
int key_write_file(const char *path, const char *text);

/* A JWKS endpoint: a child process on 127.0.0.1 answering every request with the content of
 * file as it is then. In dir it keeps: "count" (answers sent), "seen" (requests received) and
 * "path" (the last request's target). While dir/hold exists it receives but does not answer
 * (10 s at most). Returns its pid (kill it with SIGKILL), -1 on failure; *port: its port. */
pid_t jwks_serve(const char *file, const char *dir, int *port);

/* The first line of dir/name (path), kept; "" when none. */
const char *jwks_read(const char *dir, const char *name);
/* The number in dir/name (count, seen), 0 when none. */
long jwks_number(const char *dir, const char *name);

#endif
