/* helpers.c: small helpers: ids, time, regular expressions, JSON members, ports, certificates, raw TCP (see harness.h). */
#define _GNU_SOURCE
#include "harness_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static char *cert_dir;

/* --- helpers ------------------------------------------------------------------------ */
char *h_uid(const char *prefix)
{
    unsigned char b[8];
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, b, sizeof b) != (ssize_t)sizeof b)
        abort();
    close(fd);
    return h_fmt("%s-%02x%02x%02x%02x%02x%02x%02x%02x", prefix, b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]);
}

char *h_repeat(const char *s, int n)
{
    size_t l = strlen(s);
    char *p = malloc(l * (size_t)n + 1);
    for (int i = 0; i < n; i++)
        memcpy(p + l * (size_t)i, s, l);
    p[l * (size_t)n] = '\0';
    return h_keep(p);
}

int64_t h_now(void)
{
    return (int64_t)time(NULL);
}

void h_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

long h_ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

int h_match(const char *s, const char *re)
{
    regex_t rx;
    if (s == NULL || regcomp(&rx, re, REG_EXTENDED | REG_NOSUB) != 0)
        return 0;
    int ok = regexec(&rx, s, 0, NULL, 0) == 0;
    regfree(&rx);
    return ok;
}

const char *h_jstr(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

long h_jlen(const resp_t *r)
{
    return r && json_is_array(r->json) ? (long)json_array_size(r->json) : -1;
}

int h_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t l = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || getsockname(fd, (struct sockaddr *)&a, &l) != 0)
        abort();
    close(fd);
    return ntohs(a.sin_port);
}

void h_remove_cert(void)
{
    if (cert_dir != NULL) {
        char *p;
        if (asprintf(&p, "rm -rf '%s'", cert_dir) >= 0) {
            if (system(p) != 0)
                printf("# could not remove %s\n", cert_dir);
            free(p);
        }
        free(cert_dir);
        cert_dir = NULL;
    }
}

const char *h_make_cert(void)
{
    if (cert_dir != NULL)
        return cert_dir;
    char tmpl[] = "/tmp/gw-http-cert.XXXXXX";
    if (mkdtemp(tmpl) == NULL) {
        CHECK(0, "mkdtemp: %s", strerror(errno));
        return NULL;
    }
    char *cmd = h_fmt("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout %s/key.pem "
                      "-out %s/cert.pem -days 1 -subj /CN=localhost >/dev/null 2>&1",
                      tmpl, tmpl);
    cert_dir = strdup(tmpl);
    if (!CHECK(system(cmd) == 0, "openssl made a self-signed certificate in %s", tmpl))
        return NULL;
    return cert_dir;
}
