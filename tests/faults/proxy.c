/* proxy.c: see proxy.h. */
#define _GNU_SOURCE
#include "proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "harness.h"

#define MAX_PAIRS 64

typedef struct pair {
    int client, server; /* -1 when unused */
    int stalled;
} pair_t;

struct proxy {
    int listen_fd, port;
    char unix_path[108];
    pthread_t tid;
    atomic_int stop, cut_armed, stall_requested, cuts;
    pair_t pairs[MAX_PAIRS];
};

static void pair_close(pair_t *pr)
{
    shutdown(pr->client, SHUT_RDWR), shutdown(pr->server, SHUT_RDWR);
    close(pr->client), close(pr->server);
    pr->client = pr->server = -1;
}

static void accept_pair(proxy_t *p)
{
    int c = accept4(p->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (c < 0)
        return;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p->unix_path);
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
        close(c);
        if (s >= 0)
            close(s);
        return;
    }
    for (int i = 0; i < MAX_PAIRS; i++)
        if (p->pairs[i].client < 0) {
            p->pairs[i] = (pair_t){.client = c, .server = s};
            return;
        }
    close(c), close(s);
}

/* Passes what is readable on from (a side of pr) to the other side; 0 when the pair is done. */
static int relay(proxy_t *p, pair_t *pr, int from_server)
{
    char buf[65536];
    ssize_t n = read(from_server ? pr->server : pr->client, buf, sizeof(buf));
    if (n <= 0)
        return 0;
    if (from_server && atomic_exchange(&p->cut_armed, 0)) {
        atomic_fetch_add(&p->cuts, 1);
        return 0; /* the answer is dropped with the connection */
    }
    for (ssize_t off = 0; off < n;) {
        ssize_t w = write(from_server ? pr->client : pr->server, buf + off, (size_t)(n - off));
        if (w <= 0)
            return 0;
        off += w;
    }
    return 1;
}

static void *proxy_main(void *arg)
{
    proxy_t *p = arg;
    while (!atomic_load(&p->stop)) {
        struct pollfd fds[1 + 2 * MAX_PAIRS];
        int who[1 + 2 * MAX_PAIRS], nfds = 1;
        if (atomic_exchange(&p->stall_requested, 0))
            for (int i = 0; i < MAX_PAIRS; i++)
                p->pairs[i].stalled = p->pairs[i].client >= 0;
        fds[0] = (struct pollfd){.fd = p->listen_fd, .events = POLLIN};
        for (int i = 0; i < MAX_PAIRS; i++) {
            if (p->pairs[i].client < 0 || p->pairs[i].stalled)
                continue;
            who[nfds] = i, fds[nfds++] = (struct pollfd){.fd = p->pairs[i].client, .events = POLLIN};
            who[nfds] = i, fds[nfds++] = (struct pollfd){.fd = p->pairs[i].server, .events = POLLIN};
        }
        if (poll(fds, (nfds_t)nfds, 50) <= 0)
            continue;
        if (fds[0].revents & POLLIN)
            accept_pair(p);
        for (int k = 1; k < nfds; k++) {
            pair_t *pr = &p->pairs[who[k]];
            if (pr->client < 0 || !(fds[k].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (!relay(p, pr, fds[k].fd == pr->server))
                pair_close(pr);
        }
    }
    return NULL;
}

proxy_t *proxy_start(const char *unix_path)
{
    proxy_t *p = calloc(1, sizeof(*p));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(a);
    snprintf(p->unix_path, sizeof(p->unix_path), "%s", unix_path ? unix_path : "");
    for (int i = 0; i < MAX_PAIRS; i++)
        p->pairs[i].client = p->pairs[i].server = -1;
    p->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (!CHECK(unix_path != NULL && p->listen_fd >= 0 && bind(p->listen_fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
                   listen(p->listen_fd, 16) == 0 && getsockname(p->listen_fd, (struct sockaddr *)&a, &len) == 0 &&
                   pthread_create(&p->tid, NULL, proxy_main, p) == 0,
               "the proxy listens on 127.0.0.1 (to %s)", unix_path ? unix_path : "(FAULT_SOCKET unset)")) {
        if (p->listen_fd >= 0)
            close(p->listen_fd);
        free(p);
        return NULL;
    }
    p->port = ntohs(a.sin_port);
    return p;
}

int proxy_port(const proxy_t *p)
{
    return p->port;
}

void proxy_cut_next_answer(proxy_t *p)
{
    atomic_store(&p->cut_armed, 1);
}

void proxy_stall(proxy_t *p)
{
    atomic_store(&p->stall_requested, 1);
    while (atomic_load(&p->stall_requested)) /* taken at the loop's next turn */
        h_sleep_ms(10);
}

int proxy_cuts(proxy_t *p)
{
    return atomic_load(&p->cuts);
}

void proxy_stop(proxy_t *p)
{
    if (p == NULL)
        return;
    atomic_store(&p->stop, 1);
    pthread_join(p->tid, NULL);
    for (int i = 0; i < MAX_PAIRS; i++)
        if (p->pairs[i].client >= 0)
            pair_close(&p->pairs[i]);
    close(p->listen_fd);
    free(p);
}
