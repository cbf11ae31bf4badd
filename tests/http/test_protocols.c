/* test_protocols: the core task flow (create, read, list, replace, patch, complete,
 * delete) over every transport the contract promises: HTTP/1.1, h2c with prior knowledge,
 * Upgrade: h2c, TLS with ALPN h2, TLS with http/1.1 only and TLS without ALPN; checking
 * the HTTP version each answer came over. Then the same flow with DB_PREPARED=off; raw
 * HTTP/1.0 and pipelined HTTP/1.1; and junk on both ports, after which the gateway still
 * serves. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p += strlen(needle))
        n++;
    return n;
}

static size_t sink(char *d, size_t s, size_t n, void *u)
{
    (void)d, (void)u;
    return s * n;
}

static void test_no_alpn(gateway_t *g)
{
    h_section("TLS without ALPN");
    CURL *h = curl_easy_init();
    curl_easy_setopt(h, CURLOPT_URL, h_fmt("https://127.0.0.1:%d/healthz", g->tls_port));
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
    curl_easy_setopt(h, CURLOPT_SSL_ENABLE_ALPN, 0L);
    curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
    long code = 0, version = 0;
    CURLcode rc = curl_easy_perform(h);
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
    CHECK(rc == CURLE_OK && code == 200 && version == CURL_HTTP_VERSION_1_1,
          "a TLS client without ALPN gets HTTP/1.1 200 (%s, %ld, version %ld)", curl_easy_strerror(rc), code, version);
    curl_easy_cleanup(h);

    h_section("TLS 1.2 and TLS 1.3");
    const long versions[] = {CURL_SSLVERSION_TLSv1_2 | CURL_SSLVERSION_MAX_TLSv1_2,
                             CURL_SSLVERSION_TLSv1_3 | CURL_SSLVERSION_MAX_TLSv1_3};
    for (int i = 0; i < 2; i++) {
        h = curl_easy_init();
        curl_easy_setopt(h, CURLOPT_URL, h_fmt("https://127.0.0.1:%d/healthz", g->tls_port));
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
        curl_easy_setopt(h, CURLOPT_SSLVERSION, versions[i]);
        curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
        curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 5000L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, sink);
        code = version = 0;
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_getinfo(h, CURLINFO_HTTP_VERSION, &version);
        CHECK(rc == CURLE_OK && code == 200 && version == CURL_HTTP_VERSION_2_0, "TLS 1.%d with h2 answers 200 (%s, %ld)", i + 2,
              curl_easy_strerror(rc), code);
        curl_easy_cleanup(h);
    }
}

static void test_raw(gateway_t *g)
{
    h_section("raw HTTP/1.0 and pipelined HTTP/1.1");
    const char *r10 = "GET /healthz HTTP/1.0\r\n\r\n";
    const char *got = h_raw_exchange(g->port, r10, strlen(r10), 5000);
    CHECK(strncmp(got, "HTTP/1.", 7) == 0 && strstr(got, " 200 ") != NULL,
          "an HTTP/1.0 request gets 200 and the server closes: %.80s", got);
    const char *piped = "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\nGET /nope HTTP/1.1\r\nHost: a\r\n\r\n"
                        "GET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    got = h_raw_exchange(g->port, piped, strlen(piped), 5000);
    CHECK(count(got, "HTTP/1.1 200") == 2 && count(got, "HTTP/1.1 404") == 1 &&
              strstr(got, "HTTP/1.1 404") > strstr(got, "HTTP/1.1 200"),
          "three pipelined requests get 200, 404, 200 in order: %.300s", got);
    const char *noh = "GET /healthz HTTP/1.1\r\n\r\n";
    got = h_raw_exchange(g->port, noh, strlen(noh), 2000);
    CHECK(strncmp(got, "HTTP/1.1 400", 12) == 0 && strstr(got, "\"code\":\"bad_request\"") != NULL,
          "an HTTP/1.1 request without Host is 400 bad_request (RFC 9112 3.2): %.200s", got);
    const char *twoh = "GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n";
    got = h_raw_exchange(g->port, twoh, strlen(twoh), 2000);
    CHECK(strncmp(got, "HTTP/1.1 400", 12) == 0, "an HTTP/1.1 request with two Host fields is 400: %.200s", got);

    h_section("junk on the cleartext and TLS ports");
    static const char junk1[] = "HELLO THERE\r\n\r\n";
    static const char junk2[] = "\x16\x03\x01\x00\x05hello";
    static const char junk3[] = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\x00\x00\x04\xff\x00\x00\x00\x00\x00junkjunk";
    static const char junk4[] = "GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -5\r\n\r\n";
    static const char junk5[] = "GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\nzz\r\n";
    const struct {
        const char *data;
        size_t len;
    } junk[] = {{junk1, sizeof junk1 - 1},
                {junk2, sizeof junk2 - 1},
                {junk3, sizeof junk3 - 1},
                {junk4, sizeof junk4 - 1},
                {junk5, sizeof junk5 - 1}};
    for (size_t i = 0; i < sizeof junk / sizeof *junk; i++) {
        h_raw_exchange(g->port, junk[i].data, junk[i].len, 1000);
        h_raw_exchange(g->tls_port, junk[i].data, junk[i].len, 1000);
    }
    for (int i = 0; i < 20; i++) { /* connect and hang up at once */
        int fd = h_tcp_connect(i % 2 ? g->tls_port : g->port);
        if (fd >= 0)
            close(fd);
    }
    for (proto_t p = P_H1; p <= P_H1TLS; p++) {
        resp_t *r = h_get(g, p, "/healthz", NULL);
        CHECK(r->status == 200, "after the junk, %s still serves: %s", h_proto_name[p], resp_brief(r));
        resp_free(r);
    }
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_protocols");
    const char *dir = h_make_cert();
    gateway_t g;
    if (dir != NULL) {
        const char *const env[] = {h_fmt("TLS_CERT=%s/cert.pem", dir), h_fmt("TLS_KEY=%s/key.pem", dir), NULL};
        if (gateway_start(&g, env) == 0) {
            h_section("core flow over HTTP/1.1");
            h_flow_crud(&g, P_H1, CURL_HTTP_VERSION_1_1);
            h_section("core flow over h2c (prior knowledge)");
            h_flow_crud(&g, P_H2C, CURL_HTTP_VERSION_2_0);
            h_section("core flow over TLS h2 (ALPN)");
            h_flow_crud(&g, P_H2TLS, CURL_HTTP_VERSION_2_0);
            h_section("core flow over TLS http/1.1 (ALPN)");
            h_flow_crud(&g, P_H1TLS, CURL_HTTP_VERSION_1_1);
            h_section("core flow over HTTP/1.1 with Upgrade: h2c");
            h_flow_crud(&g, P_UPGRADE, CURL_HTTP_VERSION_2_0);
            test_no_alpn(&g);
            test_raw(&g);
            h_section("shutdown (TLS)");
            gateway_stop(&g);
        }
    }
    const char *const env2[] = {"DB_PREPARED=off", NULL};
    if (gateway_start(&g, env2) == 0) {
        h_section("DB_PREPARED=off: core flow over HTTP/1.1");
        h_flow_crud(&g, P_H1, CURL_HTTP_VERSION_1_1);
        h_section("DB_PREPARED=off: core flow over h2c");
        h_flow_crud(&g, P_H2C, CURL_HTTP_VERSION_2_0);
        h_section("shutdown (DB_PREPARED=off)");
        gateway_stop(&g);
    }
    return h_finish();
}
