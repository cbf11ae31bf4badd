/* keys.c: key pairs, the tokens they sign, and a local JWKS endpoint (see keys.h). */
#define _GNU_SOURCE
#include "keys.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/rsa.h>

#include "harness.h"

static const char *b64_bn(EVP_PKEY *pk, const char *param, int pad)
{
    BIGNUM *bn = NULL;
    if (EVP_PKEY_get_bn_param(pk, param, &bn) != 1)
        return "";
    unsigned char buf[1024];
    int n = pad ? BN_bn2binpad(bn, buf, pad) : BN_bn2bin(bn, buf);
    BN_free(bn);
    return b64url_encode(buf, (size_t)n);
}

void key_make(jkey_t *k, const char *kid, const char *alg)
{
    k->kid = kid;
    k->alg = alg;
    if (strcmp(alg, "EdDSA") == 0) {
        k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        unsigned char raw[32];
        size_t n = sizeof raw;
        EVP_PKEY_get_raw_public_key(k->pk, raw, &n);
        k->jwk = h_fmt("{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"%s\",\"kid\":\"%s\",\"alg\":\"EdDSA\",\"use\":\"sig\"}",
                       b64url_encode(raw, n), kid);
    } else if (strcmp(alg, "ES256") == 0) {
        k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        k->jwk =
            h_fmt("{\"kty\":\"EC\",\"crv\":\"P-256\",\"x\":\"%s\",\"y\":\"%s\",\"kid\":\"%s\",\"alg\":\"ES256\",\"use\":\"sig\"}",
                  b64_bn(k->pk, OSSL_PKEY_PARAM_EC_PUB_X, 32), b64_bn(k->pk, OSSL_PKEY_PARAM_EC_PUB_Y, 32), kid);
    } else {
        k->pk = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
        k->jwk = h_fmt("{\"kty\":\"RSA\",\"n\":\"%s\",\"e\":\"%s\",\"kid\":\"%s\",\"alg\":\"%s\",\"use\":\"sig\"}",
                       b64_bn(k->pk, OSSL_PKEY_PARAM_RSA_N, 0), b64_bn(k->pk, OSSL_PKEY_PARAM_RSA_E, 0), kid, alg);
    }
    if (k->pk == NULL)
        CHECK(0, "OpenSSL made a %s key", alg);
}

void key_free(jkey_t *k)
{
    EVP_PKEY_free(k->pk);
    k->pk = NULL;
}

/* The JWS signature of input with key k under alg, base64url (kept). */
static const char *sign(const jkey_t *k, const char *alg, const char *input)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    unsigned char sig[1024];
    size_t n = sizeof sig;
    const char *out = "";
    int eddsa = strcmp(alg, "EdDSA") == 0;
    if (EVP_DigestSignInit(ctx, &pctx, eddsa ? NULL : EVP_sha256(), NULL, k->pk) != 1)
        goto done;
    if (strcmp(alg, "PS256") == 0) {
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
    }
    if (EVP_DigestSign(ctx, sig, &n, (const unsigned char *)input, strlen(input)) != 1)
        goto done;
    if (strcmp(alg, "ES256") == 0) { /* DER to the JWS form: r and s, 32 bytes each */
        const unsigned char *p = sig;
        ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)n);
        unsigned char rs[64];
        BN_bn2binpad(ECDSA_SIG_get0_r(es), rs, 32);
        BN_bn2binpad(ECDSA_SIG_get0_s(es), rs + 32, 32);
        ECDSA_SIG_free(es);
        out = b64url_encode(rs, 64);
    } else {
        out = b64url_encode(sig, n);
    }
done:
    EVP_MD_CTX_free(ctx);
    return out;
}

const char *key_token(const jkey_t *k, const char *alg, const char *kid, const char *typ, const char *payload)
{
    const char *hdr = kid ? h_fmt("{\"alg\":\"%s\",\"kid\":\"%s\",\"typ\":\"%s\"}", alg, kid, typ)
                          : h_fmt("{\"alg\":\"%s\",\"typ\":\"%s\"}", alg, typ);
    const char *input = h_fmt("%s.%s", b64url_encode((const unsigned char *)hdr, strlen(hdr)),
                              b64url_encode((const unsigned char *)payload, strlen(payload)));
    return h_fmt("%s.%s", input, sign(k, alg, input));
}

int key_write_file(const char *path, const char *text)
{
    const char *tmp = h_fmt("%s.new", path);
    FILE *f = fopen(tmp, "w");
    if (f == NULL)
        return 0;
    fputs(text, f);
    return fclose(f) == 0 && rename(tmp, path) == 0;
}

static void write_number(const char *dir, const char *name, long n, const char *text)
{
    char path[512], tmp[520];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s.new", path);
    FILE *f = fopen(tmp, "w");
    if (f != NULL) {
        if (text != NULL)
            fprintf(f, "%s\n", text);
        else
            fprintf(f, "%ld\n", n);
        if (fclose(f) == 0)
            rename(tmp, path);
    }
}

/* The child: one request at a time, answered with the file's content (Connection: close). */
static void serve_loop(int fd, const char *file, const char *dir)
{
    char hold[512];
    snprintf(hold, sizeof hold, "%s/hold", dir);
    for (long served = 0, seen = 0;;) {
        int c = accept(fd, NULL, NULL);
        if (c < 0)
            continue;
        char req[4096];
        size_t got = 0;
        while (got < sizeof req - 1) {
            ssize_t k = recv(c, req + got, sizeof req - 1 - got, 0);
            if (k <= 0)
                break;
            got += (size_t)k;
            req[got] = '\0';
            if (strstr(req, "\r\n\r\n"))
                break;
        }
        req[strcspn(req, "\r\n")] = '\0';
        write_number(dir, "path", 0, req);
        write_number(dir, "seen", ++seen, NULL);
        struct stat st;
        for (int i = 0; i < 1000 && stat(hold, &st) == 0; i++)
            usleep(10000);
        char body[16384];
        FILE *f = fopen(file, "r");
        size_t n = f ? fread(body, 1, sizeof body, f) : 0;
        if (f)
            fclose(f);
        char head[256];
        int hn =
            snprintf(head, sizeof head,
                     "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", n);
        if (send(c, head, (size_t)hn, MSG_NOSIGNAL) < 0 || send(c, body, n, MSG_NOSIGNAL) < 0) {
        }
        close(c);
        write_number(dir, "count", ++served, NULL);
    }
}

pid_t jwks_serve(const char *file, const char *dir, int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &l) != 0)
        return -1;
    *port = ntohs(a.sin_port);
    pid_t pid = fork();
    if (pid != 0) {
        close(fd);
        return pid;
    }
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    serve_loop(fd, file, dir);
    _exit(0);
}

const char *jwks_read(const char *dir, const char *name)
{
    char path[512], line[1024] = "";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "r");
    if (f != NULL) {
        if (fgets(line, sizeof line, f) == NULL)
            line[0] = '\0';
        fclose(f);
    }
    line[strcspn(line, "\n")] = '\0';
    return h_fmt("%s", line);
}

long jwks_number(const char *dir, const char *name)
{
    return atol(jwks_read(dir, name));
}
