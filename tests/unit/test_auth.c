/* test_auth.c: gw_auth_verify against tokens made by libjwt and attacks crafted by hand with OpenSSL. */
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "check.h"

#define SECRET "a-secret-of-at-least-thirty-two-bytes!"
#define NOW 1767225600LL /* 2026-01-01T00:00:00Z */

static gw_config_t cfg;

static void reset_config(void)
{
    memset(&cfg, 0, sizeof(cfg));
    cfg.jwt_secret = SECRET;
    cfg.jwt_secret_len = strlen(SECRET);
    cfg.jwt_leeway = 60;
    cfg.jwt_ttl = 3600;
}

/* base64url without padding, malloc'd; the encoding is OpenSSL's, only the alphabet is changed here. */
static char *b64url(const void *data, size_t len)
{
    char *out = malloc(4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    int i;

    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (i = 0; i < n; i++)
        out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
    return out;
}

/* header.payload.signature, malloc'd, from JSON texts taken as they are; the signature is an HMAC with md and
 * key over the first two parts, or empty when md is NULL. */
static char *craft(const char *header, const char *payload, const EVP_MD *md, const char *key)
{
    char *h = b64url(header, strlen(header)), *p = b64url(payload, strlen(payload)), *s, *token;
    size_t signing_len = strlen(h) + 1 + strlen(p);
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int mac_len = 0;

    token = malloc(signing_len + 2 + 4 * (EVP_MAX_MD_SIZE / 3 + 1) + 1);
    sprintf(token, "%s.%s", h, p);
    if (md != NULL)
        HMAC(md, key, (int)strlen(key), (unsigned char *)token, signing_len, mac, &mac_len);
    s = b64url(mac, mac_len);
    sprintf(token + signing_len, ".%s", s);
    free(h);
    free(p);
    free(s);
    return token;
}

/* A token made by libjwt: alg with key, the grants given as JSON. malloc'd. */
static char *libjwt_token(jwt_alg_t alg, const char *key, const char *grants)
{
    jwt_t *jwt = NULL;
    char *token = NULL;

    if (jwt_new(&jwt) == 0 && jwt_add_grants_json(jwt, grants) == 0 &&
        jwt_set_alg(jwt, alg, (const unsigned char *)key, key ? (int)strlen(key) : 0) == 0)
        token = jwt_encode_str(jwt);
    jwt_free(jwt);
    return token;
}

/* Verifies "Bearer <token>" at now; frees token. */
static gw_auth_status_t verify_at(char *token, long long now, gw_identity_t *id)
{
    gw_identity_t scratch;
    size_t len = strlen(token) + 7;
    char *header = malloc(len + 1);
    gw_auth_status_t st;

    snprintf(header, len + 1, "Bearer %s", token);
    st = gw_auth_verify(&cfg, header, len, now, id != NULL ? id : &scratch);
    free(header);
    free(token);
    return st;
}

static gw_auth_status_t verify(char *token, gw_identity_t *id)
{
    return verify_at(token, NOW, id);
}

static gw_auth_status_t verify_header(const char *header)
{
    gw_identity_t id;
    return gw_auth_verify(&cfg, header, header != NULL ? strlen(header) : 0, NOW, &id);
}

/* An HS256 token signed with SECRET over the given claims, made by hand. */
static char *hs256(const char *payload)
{
    return craft("{\"alg\":\"HS256\",\"typ\":\"JWT\"}", payload, EVP_sha256(), SECRET);
}

static char *fmt(const char *format, long long a)
{
    static char buf[4][512];
    static int next;
    char *b = buf[next++ % 4];
    snprintf(b, sizeof(buf[0]), format, a);
    return b;
}

static void test_valid(void)
{
    gw_identity_t id;
    char grants[128], *token;

    snprintf(grants, sizeof(grants), "{\"sub\":\"u_123\",\"iat\":%lld,\"exp\":%lld}", NOW - 10, NOW + 600);
    token = libjwt_token(JWT_ALG_HS256, SECRET, grants);
    CHECK(token != NULL);
    CHECK_EQ(verify(token, &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "u_123") == 0);
    CHECK_EQ(id.has_issued_at, 1);
    CHECK_EQ(id.issued_at, NOW - 10);

    /* no iat */
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u_9\",\"exp\":%lld}", NOW + 600)), &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "u_9") == 0);
    CHECK_EQ(id.has_issued_at, 0);

    /* a UUID-like id with nbf in the past, extra claims of any type */
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"2f1c0b7e-8d1e-4d2a-9b0e-6c1f1f0a7e11\",\"exp\":%lld,\"nbf\":1,"
                              "\"roles\":[\"a\"],\"n\":1.5,\"o\":{\"x\":null}}",
                              NOW + 1)),
                    &id),
             GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "2f1c0b7e-8d1e-4d2a-9b0e-6c1f1f0a7e11") == 0);
}

static void test_header_forms(void)
{
    gw_identity_t id;
    char *token = hs256(fmt("{\"sub\":\"u_1\",\"exp\":%lld}", NOW + 600));
    char buf[1024];

    CHECK_EQ(gw_auth_verify(&cfg, NULL, 0, NOW, &id), GW_AUTH_MISSING);
    CHECK_EQ(verify_header(""), GW_AUTH_MISSING);
    CHECK_EQ(verify_header("Basic dXNlcjpwYXNz"), GW_AUTH_MISSING);
    CHECK_EQ(verify_header("Basic x"), GW_AUTH_MISSING);
    CHECK_EQ(verify_header("Bearer"), GW_AUTH_MISSING);
    CHECK_EQ(verify_header("Bearer "), GW_AUTH_MISSING);
    CHECK_EQ(verify_header("Bearer     "), GW_AUTH_MISSING);
    snprintf(buf, sizeof(buf), "Bearer%s", token);
    CHECK_EQ(verify_header(buf), GW_AUTH_MISSING);
    snprintf(buf, sizeof(buf), "Bearer\t%s", token);
    CHECK_EQ(verify_header(buf), GW_AUTH_MISSING);
    snprintf(buf, sizeof(buf), "Token %s", token);
    CHECK_EQ(verify_header(buf), GW_AUTH_MISSING);

    snprintf(buf, sizeof(buf), "Bearer %s", token);
    CHECK_EQ(verify_header(buf), GW_AUTH_OK);
    snprintf(buf, sizeof(buf), "bearer %s", token);
    CHECK_EQ(verify_header(buf), GW_AUTH_OK);
    snprintf(buf, sizeof(buf), "BEARER    %s", token);
    CHECK_EQ(verify_header(buf), GW_AUTH_OK);
    /* header_len counts, not a NUL: junk after the value is not read */
    snprintf(buf, sizeof(buf), "Bearer %sJUNK", token);
    CHECK_EQ(gw_auth_verify(&cfg, buf, strlen(buf) - 4, NOW, &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "u_1") == 0);
    CHECK_EQ(verify_header(buf), GW_AUTH_BAD_SIGNATURE);

    CHECK_EQ(verify_header("Bearer garbage"), GW_AUTH_MALFORMED);
    CHECK_EQ(verify_header("Bearer a.b"), GW_AUTH_MALFORMED);
    CHECK_EQ(verify_header("Bearer a.b.c.d"), GW_AUTH_MALFORMED);
    CHECK_EQ(verify_header("Bearer ..."), GW_AUTH_MALFORMED);
    CHECK_EQ(verify_header("Bearer .."), GW_AUTH_MALFORMED);
    CHECK_EQ(verify_header("Bearer a b.c.d"), GW_AUTH_MALFORMED);
    CHECK_EQ(verify_header("Bearer eyJhbGciOiJIUzI1NiJ9.e30=.c2ln"), GW_AUTH_MALFORMED); /* padding is not base64url */
    CHECK_EQ(verify_header("Bearer bm90IGpzb24.e30.c2ln"), GW_AUTH_MALFORMED);           /* header "not json" */
    CHECK_EQ(verify_header("Bearer WzFd.e30.c2ln"), GW_AUTH_MALFORMED);                  /* header [1] */
    CHECK_EQ(verify_header("Bearer e30.e30.c2ln"), GW_AUTH_BAD_ALGORITHM);               /* header {} */
    {
        /* the first two parts of a good token without its signature */
        char two[1024];
        snprintf(two, sizeof(two), "Bearer %s", token);
        *strrchr(two, '.') = '\0';
        CHECK_EQ(verify_header(two), GW_AUTH_MALFORMED);
    }
    free(token);
}

static void test_size_limit(void)
{
    /* a valid token of exactly 8192 bytes passes; one byte more is refused before any decoding */
    char payload[8192], *token;
    size_t fill = 6000, len;
    int k;

    for (k = 0; k < 8; k++) {
        memset(payload, 0, sizeof(payload));
        snprintf(payload, sizeof(payload), "{\"sub\":\"u_1\",\"exp\":%lld,\"pad\":\"%*s\"}", NOW + 600, (int)fill, "");
        token = hs256(payload);
        len = strlen(token);
        free(token);
        if (len == 8192)
            break;
        fill = fill + (8192 - len) * 3 / 4; /* approach 8192 */
        if (len < 8192 && (8192 - len) * 3 / 4 == 0)
            fill++;
        if (len > 8192 && (len - 8192) * 3 / 4 == 0)
            fill--;
    }
    snprintf(payload, sizeof(payload), "{\"sub\":\"u_1\",\"exp\":%lld,\"pad\":\"%*s\"}", NOW + 600, (int)fill, "");
    token = hs256(payload);
    len = strlen(token);
    CHECK(len <= 8192 && len > 8180);
    CHECK_EQ(verify(token, NULL), GW_AUTH_OK);
    snprintf(payload, sizeof(payload), "{\"sub\":\"u_1\",\"exp\":%lld,\"pad\":\"%*s\"}", NOW + 600, (int)fill + 12, "");
    token = hs256(payload);
    CHECK(strlen(token) > 8192);
    CHECK_EQ(verify(token, NULL), GW_AUTH_MALFORMED);
}

static void test_algorithms(void)
{
    char claims[128];
    const char *none = "{\"alg\":\"none\",\"typ\":\"JWT\"}";

    snprintf(claims, sizeof(claims), "{\"sub\":\"u_1\",\"exp\":%lld}", NOW + 600);

    /* alg none, without and with a signature */
    CHECK_EQ(verify(craft(none, claims, NULL, NULL), NULL), GW_AUTH_BAD_ALGORITHM);
    CHECK_EQ(verify(craft(none, claims, EVP_sha256(), SECRET), NULL), GW_AUTH_BAD_ALGORITHM);
    CHECK_EQ(verify(craft("{\"alg\":\"None\"}", claims, NULL, NULL), NULL), GW_AUTH_BAD_ALGORITHM);
    CHECK_EQ(verify(libjwt_token(JWT_ALG_NONE, NULL, claims), NULL), GW_AUTH_BAD_ALGORITHM);
    /* no alg at all, alg of the wrong type */
    CHECK_EQ(verify(craft("{\"typ\":\"JWT\"}", claims, EVP_sha256(), SECRET), NULL), GW_AUTH_BAD_ALGORITHM);
    CHECK_EQ(verify(craft("{\"alg\":256}", claims, EVP_sha256(), SECRET), NULL), GW_AUTH_BAD_ALGORITHM);
    /* the same secret with stronger HMACs: libjwt 1.10 accepts them, we do not */
    CHECK_EQ(verify(libjwt_token(JWT_ALG_HS384, SECRET, claims), NULL), GW_AUTH_BAD_ALGORITHM);
    CHECK_EQ(verify(libjwt_token(JWT_ALG_HS512, SECRET, claims), NULL), GW_AUTH_BAD_ALGORITHM);
    CHECK_EQ(verify(craft("{\"alg\":\"HS384\"}", claims, EVP_sha384(), SECRET), NULL), GW_AUTH_BAD_ALGORITHM);
    CHECK_EQ(verify(craft("{\"alg\":\"HS512\"}", claims, EVP_sha512(), SECRET), NULL), GW_AUTH_BAD_ALGORITHM);
    /* key confusion: an asymmetric alg carrying an HMAC-SHA256 made with the secret */
    CHECK_EQ(verify(craft("{\"alg\":\"RS256\",\"typ\":\"JWT\"}", claims, EVP_sha256(), SECRET), NULL), GW_AUTH_BAD_ALGORITHM);
    CHECK_EQ(verify(craft("{\"alg\":\"ES256\"}", claims, EVP_sha256(), SECRET), NULL), GW_AUTH_BAD_ALGORITHM);
    CHECK_EQ(verify(craft("{\"alg\":\"EdDSA\"}", claims, EVP_sha256(), SECRET), NULL), GW_AUTH_BAD_ALGORITHM);
    /* libjwt reads alg names in any case; RFC 7515 does not */
    CHECK_EQ(verify(craft("{\"alg\":\"hs256\"}", claims, EVP_sha256(), SECRET), NULL), GW_AUTH_BAD_ALGORITHM);
    /* two algs: one must not hide the other */
    CHECK(verify(craft("{\"alg\":\"HS256\",\"alg\":\"none\"}", claims, NULL, NULL), NULL) != GW_AUTH_OK);
    CHECK(verify(craft("{\"alg\":\"none\",\"alg\":\"HS256\"}", claims, EVP_sha256(), SECRET), NULL) != GW_AUTH_OK);
    /* a plain HS256 header without typ is fine; other types and critical extensions are not */
    CHECK_EQ(verify(craft("{\"alg\":\"HS256\"}", claims, EVP_sha256(), SECRET), NULL), GW_AUTH_OK);
    CHECK_EQ(verify(craft("{\"alg\":\"HS256\",\"typ\":\"jwt\"}", claims, EVP_sha256(), SECRET), NULL), GW_AUTH_OK);
    CHECK_EQ(verify(craft("{\"alg\":\"HS256\",\"typ\":\"at+jwt\"}", claims, EVP_sha256(), SECRET), NULL), GW_AUTH_MALFORMED);
    CHECK_EQ(verify(craft("{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}", claims, EVP_sha256(), SECRET), NULL),
             GW_AUTH_MALFORMED);
}

static void test_signatures(void)
{
    char claims[128], *token, *evil, *dot;
    char *tampered_payload;

    snprintf(claims, sizeof(claims), "{\"sub\":\"alice\",\"exp\":%lld}", NOW + 600);

    CHECK_EQ(verify(craft("{\"alg\":\"HS256\"}", claims, EVP_sha256(), "another-secret"), NULL), GW_AUTH_BAD_SIGNATURE);
    CHECK_EQ(verify(libjwt_token(JWT_ALG_HS256, "another-secret", claims), NULL), GW_AUTH_BAD_SIGNATURE);
    CHECK_EQ(verify(craft("{\"alg\":\"HS256\"}", claims, NULL, NULL), NULL), GW_AUTH_BAD_SIGNATURE); /* no signature */

    /* change sub after signing: alice's signature on bob's claims */
    token = libjwt_token(JWT_ALG_HS256, SECRET, claims);
    snprintf(claims, sizeof(claims), "{\"sub\":\"bob\",\"exp\":%lld}", NOW + 600);
    tampered_payload = b64url(claims, strlen(claims));
    evil = malloc(strlen(token) + strlen(tampered_payload) + 1);
    dot = strchr(token, '.');
    sprintf(evil, "%.*s.%s%s", (int)(dot - token), token, tampered_payload, strrchr(token, '.'));
    CHECK_EQ(verify(evil, NULL), GW_AUTH_BAD_SIGNATURE);
    free(tampered_payload);

    /* the signature cut short, or one character changed */
    evil = strdup(token);
    evil[strlen(evil) - 2] = '\0';
    CHECK_EQ(verify(evil, NULL), GW_AUTH_BAD_SIGNATURE);
    evil = strdup(token);
    dot = strrchr(evil, '.') + 1;
    *dot = *dot == 'A' ? 'B' : 'A';
    CHECK_EQ(verify(evil, NULL), GW_AUTH_BAD_SIGNATURE);

    /* the key must always be passed: a config without a secret refuses everything, alg none included */
    cfg.jwt_secret = "";
    cfg.jwt_secret_len = 0;
    CHECK(verify(strdup(token), NULL) != GW_AUTH_OK);
    snprintf(claims, sizeof(claims), "{\"sub\":\"alice\",\"exp\":%lld}", NOW + 600);
    CHECK(verify(craft("{\"alg\":\"none\"}", claims, NULL, NULL), NULL) != GW_AUTH_OK);
    reset_config();
    CHECK_EQ(verify(token, NULL), GW_AUTH_OK);
}

static void test_times(void)
{
    gw_identity_t id;

    /* exp: required, a NumericDate (RFC 7519 section 2: a JSON number, integer or not), not more
     * than the leeway (60 s) in the past */
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":%lld}", NOW - 61)), NULL), GW_AUTH_EXPIRED);
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":%lld}", NOW - 3600)), NULL), GW_AUTH_EXPIRED);
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":%lld}", NOW - 60)), NULL), GW_AUTH_OK);
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":%lld}", NOW - 30)), NULL), GW_AUTH_OK);
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":%lld}", NOW)), NULL), GW_AUTH_OK);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\"}"), NULL), GW_AUTH_EXPIRED);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":1.5e9}"), NULL), GW_AUTH_EXPIRED);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":4.0e9}"), NULL), GW_AUTH_OK); /* a non-integer NumericDate, future */
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":%lld.5}", NOW - 60)), NULL), GW_AUTH_OK); /* fractions count */
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":%lld.5}", NOW - 61)), NULL), GW_AUTH_EXPIRED);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":1e300}"), NULL), GW_AUTH_OK); /* far future, no overflow */
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":\"4000000000\"}"), NULL), GW_AUTH_EXPIRED);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":null}"), NULL), GW_AUTH_EXPIRED);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":true}"), NULL), GW_AUTH_EXPIRED);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9223372036854775807}"), NULL), GW_AUTH_OK); /* no overflow */
    CHECK(verify_at(hs256("{\"sub\":\"u\",\"exp\":-9223372036854775807}"), NOW, NULL) == GW_AUTH_EXPIRED);
    CHECK_EQ(verify_at(hs256(fmt("{\"sub\":\"u\",\"exp\":%lld}", NOW)), NOW + 61, NULL), GW_AUTH_EXPIRED);

    /* with no leeway, one second late is late */
    cfg.jwt_leeway = 0;
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":%lld}", NOW - 1)), NULL), GW_AUTH_EXPIRED);
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":%lld}", NOW)), NULL), GW_AUTH_OK);
    reset_config();

    /* nbf: in the future beyond the leeway is not yet valid */
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":9999999999,\"nbf\":%lld}", NOW + 61)), NULL), GW_AUTH_NOT_YET_VALID);
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":9999999999,\"nbf\":%lld}", NOW + 60)), NULL), GW_AUTH_OK);
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":9999999999,\"nbf\":%lld}", NOW + 30)), NULL), GW_AUTH_OK);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"nbf\":1.5}"), NULL), GW_AUTH_OK); /* a NumericDate */
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":9999999999,\"nbf\":%lld.5}", NOW + 60)), NULL), GW_AUTH_NOT_YET_VALID);
    CHECK(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"nbf\":\"0\"}"), NULL) != GW_AUTH_OK);

    /* iat: in the future beyond the leeway is refused; of the wrong type, malformed */
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":9999999999,\"iat\":%lld}", NOW + 3600)), NULL), GW_AUTH_NOT_YET_VALID);
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":9999999999,\"iat\":%lld}", NOW + 61)), NULL), GW_AUTH_NOT_YET_VALID);
    CHECK_EQ(verify(hs256(fmt("{\"sub\":\"u\",\"exp\":9999999999,\"iat\":%lld}", NOW + 30)), &id), GW_AUTH_OK);
    CHECK_EQ(id.issued_at, NOW + 30);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"iat\":1700000000.75}"), &id), GW_AUTH_OK);
    CHECK_EQ(id.issued_at, 1700000000); /* whole seconds, rounded down, for revocation */
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"iat\":\"1700000000\"}"), NULL), GW_AUTH_MALFORMED);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"iat\":0}"), &id), GW_AUTH_OK);
    CHECK_EQ(id.has_issued_at, 1);
    CHECK_EQ(id.issued_at, 0);
}

/* {"sub": <n copies of ch>, "exp": ...} */
static char *repeated_sub(const char *key, const char *ch, int n)
{
    size_t chlen = strlen(ch);
    char *payload = malloc(64 + chlen * (size_t)n), *p, *token;
    int i;

    p = payload + sprintf(payload, "{\"%s\":\"", key);
    for (i = 0; i < n; i++, p += chlen)
        memcpy(p, ch, chlen);
    sprintf(p, "\",\"exp\":9999999999}");
    token = hs256(payload);
    free(payload);
    return token;
}

static void test_subjects(void)
{
    gw_identity_t id;
    char expect[2048];
    int i;

    /* sub first, then id, then user.id */
    CHECK_EQ(verify(hs256("{\"id\":\"from-id\",\"exp\":9999999999}"), &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "from-id") == 0);
    CHECK_EQ(verify(hs256("{\"user\":{\"id\":\"from-user\",\"email\":\"a@b.c\"},\"exp\":9999999999}"), &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "from-user") == 0);
    CHECK_EQ(verify(hs256("{\"sub\":\"s\",\"id\":\"i\",\"user\":{\"id\":\"u\"},\"exp\":9999999999}"), &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "s") == 0);
    CHECK_EQ(verify(hs256("{\"id\":\"i\",\"user\":{\"id\":\"u\"},\"exp\":9999999999}"), &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "i") == 0);

    /* nothing usable */
    CHECK_EQ(verify(hs256("{\"exp\":9999999999}"), &id), GW_AUTH_BAD_SUBJECT);
    CHECK(id.user_id[0] == '\0');
    CHECK_EQ(verify(hs256("{\"sub\":\"\",\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(hs256("{\"sub\":\"\",\"id\":\"i\",\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT); /* no fallback */
    CHECK_EQ(verify(hs256("{\"sub\":42,\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(hs256("{\"sub\":null,\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(hs256("{\"sub\":[\"a\"],\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(hs256("{\"id\":7,\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(hs256("{\"user\":{\"id\":7},\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(hs256("{\"user\":\"u\",\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(hs256("{\"sub\":\"a\\u0001b\",\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(hs256("{\"sub\":\"a\\nb\",\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(hs256("{\"sub\":\"a\\u007fb\",\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(hs256("{\"sub\":\"a\\u0085b\",\"exp\":9999999999}"), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK(verify(hs256("{\"sub\":\"a\\u0000b\",\"exp\":9999999999}"), &id) != GW_AUTH_OK);
    CHECK(verify(hs256("{\"sub\":\"a\xff\",\"exp\":9999999999}"), NULL) != GW_AUTH_OK);     /* invalid UTF-8 */
    CHECK(verify(hs256("{\"sub\":\"a\xc0\xaf\",\"exp\":9999999999}"), NULL) != GW_AUTH_OK); /* overlong '/' */
    CHECK(verify(hs256("{\"sub\":\"\\ud800\",\"exp\":9999999999}"), NULL) != GW_AUTH_OK);   /* lone surrogate */

    /* length in characters: 255 accepted, 256 refused, in ASCII and in multi-byte characters */
    CHECK_EQ(verify(repeated_sub("sub", "a", 255), &id), GW_AUTH_OK);
    CHECK_EQ(strlen(id.user_id), 255);
    CHECK_EQ(verify(repeated_sub("sub", "a", 256), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(repeated_sub("sub", "\xc3\xa9", 255), &id), GW_AUTH_OK); /* é: 510 bytes */
    for (i = 0; i < 255; i++)
        memcpy(expect + 2 * i, "\xc3\xa9", 2);
    expect[510] = '\0';
    CHECK(strcmp(id.user_id, expect) == 0);
    CHECK_EQ(verify(repeated_sub("sub", "\xc3\xa9", 256), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(repeated_sub("sub", "\xe2\x82\xac", 255), NULL), GW_AUTH_OK);    /* €: 765 bytes */
    CHECK_EQ(verify(repeated_sub("sub", "\xf0\x9f\x98\x80", 255), &id), GW_AUTH_OK); /* U+1F600: 1020 bytes */
    CHECK_EQ(strlen(id.user_id), 1020);
    CHECK_EQ(verify(repeated_sub("sub", "\xf0\x9f\x98\x80", 256), NULL), GW_AUTH_BAD_SUBJECT);
    CHECK_EQ(verify(repeated_sub("id", "b", 256), NULL), GW_AUTH_BAD_SUBJECT);
}

static void test_issuer_audience(void)
{
    gw_identity_t id;

    /* unset: not checked */
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"iss\":\"anyone\",\"aud\":5}"), NULL), GW_AUTH_OK);

    cfg.jwt_issuer = "https://auth.example";
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"iss\":\"https://auth.example\"}"), &id), GW_AUTH_OK);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"iss\":\"https://evil.example\"}"), NULL), GW_AUTH_BAD_ISSUER);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"iss\":\"https://auth.example/\"}"), NULL), GW_AUTH_BAD_ISSUER);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999}"), NULL), GW_AUTH_BAD_ISSUER);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"iss\":[\"https://auth.example\"]}"), NULL), GW_AUTH_BAD_ISSUER);
    reset_config();

    cfg.jwt_audience = "todo-api";
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"aud\":\"todo-api\"}"), NULL), GW_AUTH_OK);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"aud\":[\"other\",\"todo-api\"]}"), NULL), GW_AUTH_OK);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"aud\":[\"other\"]}"), NULL), GW_AUTH_BAD_AUDIENCE);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"aud\":[]}"), NULL), GW_AUTH_BAD_AUDIENCE);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"aud\":\"todo-api-2\"}"), NULL), GW_AUTH_BAD_AUDIENCE);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"aud\":1}"), NULL), GW_AUTH_BAD_AUDIENCE);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999}"), NULL), GW_AUTH_BAD_AUDIENCE);
    CHECK_EQ(verify(hs256("{\"sub\":\"u\",\"exp\":9999999999,\"aud\":[[\"todo-api\"]]}"), NULL), GW_AUTH_BAD_AUDIENCE);
    reset_config();
}

static void test_sign(void)
{
    gw_identity_t id;
    char *token, *again;
    jwt_t *jwt = NULL;
    char long_id[300];

    token = gw_auth_sign(&cfg, "u_42", NOW);
    CHECK(token != NULL);
    again = strdup(token);
    CHECK_EQ(verify(token, &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "u_42") == 0);
    CHECK_EQ(id.has_issued_at, 1);
    CHECK_EQ(id.issued_at, NOW);
    /* what is inside, read by libjwt itself */
    CHECK(jwt_decode(&jwt, again, (const unsigned char *)SECRET, (int)strlen(SECRET)) == 0);
    CHECK(jwt != NULL && jwt_get_alg(jwt) == JWT_ALG_HS256);
    CHECK(jwt != NULL && jwt_get_grant_int(jwt, "iat") == NOW);
    CHECK(jwt != NULL && jwt_get_grant_int(jwt, "exp") == NOW + 3600);
    CHECK(jwt != NULL && jwt_get_grant(jwt, "iss") == NULL && jwt_get_grant(jwt, "aud") == NULL);
    jwt_free(jwt);
    jwt = NULL;
    /* and it ends after the TTL plus the leeway */
    CHECK_EQ(verify_at(strdup(again), NOW + 3600 + 60, NULL), GW_AUTH_OK);
    CHECK_EQ(verify_at(again, NOW + 3600 + 61, NULL), GW_AUTH_EXPIRED);

    /* iss and aud are stamped when configured, and then pass the checks */
    cfg.jwt_issuer = "https://todo.example";
    cfg.jwt_audience = "todo-api";
    cfg.jwt_ttl = 7 * 86400;
    token = gw_auth_sign(&cfg, "\xc3\xa9l\xc3\xa8ve", NOW);
    CHECK(token != NULL);
    again = strdup(token);
    CHECK_EQ(verify(token, &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "\xc3\xa9l\xc3\xa8ve") == 0);
    CHECK(jwt_decode(&jwt, again, (const unsigned char *)SECRET, (int)strlen(SECRET)) == 0);
    CHECK(jwt != NULL && jwt_get_grant_int(jwt, "exp") == NOW + 7 * 86400);
    CHECK(jwt != NULL && jwt_get_grant(jwt, "iss") != NULL && strcmp(jwt_get_grant(jwt, "iss"), "https://todo.example") == 0);
    CHECK(jwt != NULL && jwt_get_grant(jwt, "aud") != NULL && strcmp(jwt_get_grant(jwt, "aud"), "todo-api") == 0);
    jwt_free(jwt);
    free(again);
    reset_config();

    /* ids verify would refuse are not signed */
    memset(long_id, 'a', 256);
    long_id[256] = '\0';
    CHECK(gw_auth_sign(&cfg, long_id, NOW) == NULL);
    CHECK(gw_auth_sign(&cfg, "", NOW) == NULL);
    CHECK(gw_auth_sign(&cfg, NULL, NOW) == NULL);
    CHECK(gw_auth_sign(&cfg, "a\nb", NOW) == NULL);
    CHECK(gw_auth_sign(&cfg, "a\xff", NOW) == NULL);
    long_id[255] = '\0';
    token = gw_auth_sign(&cfg, long_id, NOW);
    CHECK(token != NULL && verify(token, &id) == GW_AUTH_OK && strcmp(id.user_id, long_id) == 0);
    /* nor with no secret, nor past the end of time */
    cfg.jwt_secret = "";
    cfg.jwt_secret_len = 0;
    CHECK(gw_auth_sign(&cfg, "u", NOW) == NULL);
    reset_config();
    CHECK(gw_auth_sign(&cfg, "u", INT64_MAX - 10) == NULL);
}

static void test_reasons(void)
{
    int a, b;

    for (a = GW_AUTH_OK; a <= GW_AUTH_BAD_AUDIENCE; a++) {
        CHECK(gw_auth_reason((gw_auth_status_t)a) != NULL && gw_auth_reason((gw_auth_status_t)a)[0] != '\0');
        for (b = GW_AUTH_OK; b < a; b++)
            CHECK(strcmp(gw_auth_reason((gw_auth_status_t)a), gw_auth_reason((gw_auth_status_t)b)) != 0);
    }
}

/* Several threads verify and sign at once, as the event-loop threads do. */
static void *hammer(void *arg)
{
    const char *user = arg;
    long ok = 0;
    int i;

    for (i = 0; i < 500; i++) {
        char *token = gw_auth_sign(&cfg, user, NOW);
        char header[1024];
        gw_identity_t id;
        if (token == NULL)
            continue;
        snprintf(header, sizeof(header), "Bearer %s", token);
        free(token);
        if (gw_auth_verify(&cfg, header, strlen(header), NOW, &id) == GW_AUTH_OK && strcmp(id.user_id, user) == 0)
            ok++;
    }
    return (void *)ok;
}

static void test_threads(void)
{
    static const char *const users[] = {"alice", "bob", "carol", "dave"};
    pthread_t threads[4];
    int i, started[4];

    for (i = 0; i < 4; i++)
        started[i] = pthread_create(&threads[i], NULL, hammer, (void *)users[i]) == 0;
    for (i = 0; i < 4; i++) {
        void *ok = NULL;
        CHECK(started[i]);
        if (started[i])
            pthread_join(threads[i], &ok);
        CHECK_EQ((long)ok, 500);
    }
}

int main(void)
{
    reset_config();
    test_valid();
    test_header_forms();
    test_size_limit();
    test_algorithms();
    test_signatures();
    test_times();
    test_subjects();
    test_issuer_audience();
    test_sign();
    test_reasons();
    test_threads();
    return check_report("test_auth");
}
