/* test_auth_cache: gw_auth_verify_cached answers exactly what gw_auth_verify would, at every time. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "check.h"

static gw_auth_status_t verify(const gw_config_t *cfg, const char *token, int64_t now, gw_identity_t *id)
{
    char header[4096];
    snprintf(header, sizeof(header), "Bearer %s", token);
    return gw_auth_verify_cached(cfg, header, strlen(header), now, id);
}

/* JWT_CACHE_SIZE on a fresh thread (its cache is made at the first call): token a, then b,
 * are verified; then each again with another secret, which only a cache hit can pass. */
typedef struct probe {
    int slots;
    int a_hit, b_hit;
} probe_t;

static void *run_probe(void *arg)
{
    probe_t *p = arg;
    gw_config_t cfg = {.jwt_secret = "probe-secret", .jwt_secret_len = 12, .jwt_leeway = 60, .jwt_ttl = 600, .jwt_cache_size = p->slots};
    gw_config_t other = cfg;
    other.jwt_secret = "not-the-secret", other.jwt_secret_len = 14;
    const int64_t t0 = 1800000000;
    gw_identity_t id;
    char *a = gw_auth_sign(&cfg, "alice", t0), *b = gw_auth_sign(&cfg, "bob", t0);
    CHECK(verify(&cfg, a, t0, &id) == GW_AUTH_OK && verify(&cfg, b, t0, &id) == GW_AUTH_OK);
    p->a_hit = verify(&other, a, t0, &id) == GW_AUTH_OK && strcmp(id.user_id, "alice") == 0;
    p->b_hit = verify(&other, b, t0, &id) == GW_AUTH_OK && strcmp(id.user_id, "bob") == 0;
    free(a);
    free(b);
    return NULL;
}

static probe_t probe(int slots)
{
    probe_t p = {.slots = slots};
    pthread_t t;
    if (pthread_create(&t, NULL, run_probe, &p) == 0)
        pthread_join(t, NULL);
    return p;
}

int main(void)
{
    /* JWT_CACHE_SIZE=0: no cache, every token verified; 1: one token remembered (b replaced a);
     * the default: both remembered */
    probe_t none = probe(0), one = probe(1), many = probe(16384);
    CHECK(!none.a_hit && !none.b_hit);
    CHECK(!one.a_hit && one.b_hit);
    CHECK(many.a_hit && many.b_hit);

    gw_config_t cfg = {.jwt_secret = "cache-test-secret", .jwt_secret_len = 17, .jwt_leeway = 60, .jwt_ttl = 600, .jwt_cache_size = 64};
    const int64_t t0 = 1800000000;
    gw_identity_t id;
    char *tok = gw_auth_sign(&cfg, "ada", t0);
    CHECK(tok != NULL);

    CHECK_EQ(verify(&cfg, tok, t0, &id), GW_AUTH_OK);
    CHECK(strcmp(id.user_id, "ada") == 0 && id.issued_at == t0 && id.expires_at == t0 + 600);
    memset(&id, 0, sizeof(id));
    CHECK_EQ(verify(&cfg, tok, t0 + 1, &id), GW_AUTH_OK); /* from the cache: the same identity */
    CHECK(strcmp(id.user_id, "ada") == 0 && id.has_issued_at && id.issued_at == t0);
    CHECK_EQ(id.expires_at, t0 + 600); /* an event stream opened with a cached token ends at its exp too */

    /* time claims are checked again on every hit */
    CHECK_EQ(verify(&cfg, tok, t0 + 600 + 61, &id), GW_AUTH_EXPIRED); /* exp + leeway passed */
    CHECK_EQ(verify(&cfg, tok, t0 - 61, &id), GW_AUTH_NOT_YET_VALID); /* iat beyond the leeway ahead */
    CHECK_EQ(verify(&cfg, tok, t0 + 600 + 59, &id), GW_AUTH_OK);      /* within the leeway */

    /* one byte off is verified afresh, not matched by hash */
    char *tampered = strdup(tok);
    char *last = tampered + strlen(tampered) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    CHECK_EQ(verify(&cfg, tampered, t0, &id), GW_AUTH_BAD_SIGNATURE);
    CHECK_EQ(verify(&cfg, tampered, t0, &id), GW_AUTH_BAD_SIGNATURE); /* failures are never cached */
    CHECK_EQ(verify(&cfg, tok, t0, &id), GW_AUTH_OK);

    /* a prefix or an extension of a cached token is another token */
    char prefix[4096];
    snprintf(prefix, sizeof(prefix), "%.*s", (int)strlen(tok) - 1, tok);
    CHECK(verify(&cfg, prefix, t0, &id) != GW_AUTH_OK);
    snprintf(prefix, sizeof(prefix), "%sA", tok);
    CHECK(verify(&cfg, prefix, t0, &id) != GW_AUTH_OK);

    /* many tokens: each answers for its own user */
    int right = 0;
    for (int i = 0; i < 600; i++) {
        char user[32];
        snprintf(user, sizeof(user), "user-%d", i);
        char *t = gw_auth_sign(&cfg, user, t0);
        right += verify(&cfg, t, t0, &id) == GW_AUTH_OK && strcmp(id.user_id, user) == 0;
        right += verify(&cfg, t, t0, &id) == GW_AUTH_OK && strcmp(id.user_id, user) == 0;
        free(t);
    }
    CHECK_EQ(right, 1200);
    /* an entry is used for at most 60 s: then the token is verified again (still valid here) */
    CHECK_EQ(verify(&cfg, tok, t0 + 120, &id), GW_AUTH_OK);

    free(tampered);
    free(tok);
    return check_report("test_auth_cache");
}
