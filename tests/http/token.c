/* token.c: tokens: made with libjwt, or assembled by hand to attack the gateway; base64url with OpenSSL (see harness.h). */
#define _GNU_SOURCE
#include "harness_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

/* base64url (RFC 4648 5) without padding, by OpenSSL's base64 and a change of alphabet. Kept. */
char *b64url_encode(const unsigned char *data, size_t len)
{
    char *out = malloc((len + 2) / 3 * 4 + 1);
    int n = EVP_EncodeBlock((unsigned char *)out, data, (int)len);
    while (n > 0 && out[n - 1] == '=')
        n--;
    out[n] = '\0';
    for (char *p = out; *p != '\0'; p++)
        *p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
    return h_keep(out);
}

/* Decodes base64url or base64, padded or not (what the gateway sent, or what a test made);
 * malloc'd, or NULL. */
static unsigned char *b64url_decode(const char *s, size_t len, size_t *outlen)
{
    while (len > 0 && s[len - 1] == '=')
        len--;
    if (len % 4 == 1)
        return NULL;
    size_t padded = (len + 3) / 4 * 4;
    unsigned char *in = malloc(padded + 1), *out = malloc(padded / 4 * 3 + 1);
    for (size_t i = 0; i < padded; i++)
        in[i] = i >= len ? '=' : s[i] == '-' ? '+' : s[i] == '_' ? '/' : (unsigned char)s[i];
    int n = EVP_DecodeBlock(out, in, (int)padded);
    free(in);
    if (n < 0) {
        free(out);
        return NULL;
    }
    *outlen = len / 4 * 3 + (len % 4 == 0 ? 0 : len % 4 - 1); /* EVP_DecodeBlock counts the padding too */
    return out;
}

static json_t *tok_part(const char *token, int part)
{
    if (token == NULL)
        return NULL;
    const char *a = token, *b;
    for (int i = 0; i < part; i++) {
        a = strchr(a, '.');
        if (a == NULL)
            return NULL;
        a++;
    }
    b = strchr(a, '.');
    if (b == NULL)
        b = a + strlen(a);
    size_t n;
    unsigned char *raw = b64url_decode(a, (size_t)(b - a), &n);
    if (raw == NULL)
        return NULL;
    json_t *j = json_loadb((const char *)raw, n, 0, NULL);
    free(raw);
    return j;
}

json_t *tok_payload(const char *token)
{
    return tok_part(token, 1);
}

json_t *tok_header(const char *token)
{
    return tok_part(token, 0);
}

char *tok_craft(const char *header_json, const char *payload_json, const char *hmac, const char *key)
{
    char *h = b64url_encode((const unsigned char *)header_json, strlen(header_json));
    char *p = b64url_encode((const unsigned char *)payload_json, strlen(payload_json));
    char *input = h_fmt("%s.%s", h, p);
    const char *sig = "";
    if (hmac != NULL) {
        const EVP_MD *md = strcmp(hmac, "sha384") == 0 ? EVP_sha384() : strcmp(hmac, "sha512") == 0 ? EVP_sha512() : EVP_sha256();
        unsigned char mac[EVP_MAX_MD_SIZE];
        unsigned int maclen = 0;
        HMAC(md, key, (int)strlen(key), (const unsigned char *)input, strlen(input), mac, &maclen);
        sig = b64url_encode(mac, maclen);
    }
    return h_fmt("%s.%s", input, sig);
}

char *tok_user(const char *sub)
{
    jwt_t *j = NULL;
    if (jwt_new(&j) != 0)
        abort();
    int64_t now = h_now();
    jwt_add_grant(j, "sub", sub);
    jwt_add_grant_int(j, "iat", (long)now);
    jwt_add_grant_int(j, "exp", (long)(now + 3600));
    jwt_set_alg(j, JWT_ALG_HS256, (const unsigned char *)H_SECRET, (int)strlen(H_SECRET));
    char *s = jwt_encode_str(j);
    jwt_free(j);
    if (s == NULL)
        abort();
    return h_keep(s);
}
