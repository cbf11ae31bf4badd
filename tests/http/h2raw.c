#include "h2raw.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

size_t h2_frame(unsigned char *out, int type, int flags, unsigned stream, const unsigned char *payload, size_t len)
{
    out[0] = (unsigned char)(len >> 16);
    out[1] = (unsigned char)(len >> 8);
    out[2] = (unsigned char)len;
    out[3] = (unsigned char)type;
    out[4] = (unsigned char)flags;
    out[5] = (unsigned char)(stream >> 24 & 0x7f);
    out[6] = (unsigned char)(stream >> 16);
    out[7] = (unsigned char)(stream >> 8);
    out[8] = (unsigned char)stream;
    if (len)
        memcpy(out + 9, payload, len);
    return 9 + len;
}

size_t h2_preface(unsigned char *out)
{
    size_t n = 24;
    memcpy(out, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 24);
    n += h2_frame(out + n, H2_SETTINGS, 0, 0, NULL, 0);
    n += h2_frame(out + n, H2_SETTINGS, 1, 0, NULL, 0);
    return n;
}

size_t hpack_literal(unsigned char *out, int name_index, const char *value)
{
    size_t n = 0, len = strlen(value);
    if (name_index < 15) {
        out[n++] = (unsigned char)name_index;
    } else {
        out[n++] = 0x0f;
        out[n++] = (unsigned char)(name_index - 15);
    }
    if (len < 127) {
        out[n++] = (unsigned char)len;
    } else {
        out[n++] = 0x7f;
        size_t rest = len - 127;
        while (rest >= 128) {
            out[n++] = (unsigned char)(0x80 | (rest & 0x7f));
            rest >>= 7;
        }
        out[n++] = (unsigned char)rest;
    }
    memcpy(out + n, value, len);
    return n + len;
}

size_t h2_request_block(unsigned char *out, int post, const char *path, const char *token)
{
    size_t n = 0;
    out[n++] = post ? 0x83 : 0x82; /* :method POST / GET */
    out[n++] = 0x86;               /* :scheme http */
    n += hpack_literal(out + n, 4, path);
    n += hpack_literal(out + n, 1, "127.0.0.1");
    if (token != NULL) {
        char value[1024 + 16];
        size_t tl = strlen(token);
        memcpy(value, "Bearer ", 7);
        memcpy(value + 7, token, tl < 1024 ? tl : 1024);
        value[7 + (tl < 1024 ? tl : 1024)] = '\0';
        n += hpack_literal(out + n, 23, value);
    }
    if (post)
        n += hpack_literal(out + n, 31, "application/json");
    return n;
}

static long ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1000 + (t.tv_nsec - t0->tv_nsec) / 1000000;
}

size_t h2_drain(int fd, long timeout_ms, int *closed, long *goaway_error, int *headers)
{
    static unsigned char in[1 << 20];
    size_t have = 0, total = 0, off = 0;
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!*closed) {
        long left = timeout_ms - ms_since(&t0);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left > 0 ? (int)left : 0) <= 0)
            break;
        ssize_t k = recv(fd, in + have, sizeof in - have, MSG_DONTWAIT);
        if (k == 0 || (k < 0 && errno != EAGAIN && errno != EINTR)) {
            *closed = 1;
            break;
        }
        if (k < 0)
            continue;
        have += (size_t)k, total += (size_t)k;
        while (off + 9 <= have) {
            size_t len = (size_t)in[off] << 16 | (size_t)in[off + 1] << 8 | in[off + 2];
            if (off + 9 + len > have)
                break;
            if (in[off + 3] == H2_HEADERS)
                ++*headers;
            if (in[off + 3] == H2_GOAWAY && len >= 8)
                *goaway_error = (long)in[off + 13] << 24 | (long)in[off + 14] << 16 | (long)in[off + 15] << 8 | in[off + 16];
            off += 9 + len;
        }
        if (off == have) {
            have = off = 0;
        } else if (have > sizeof in / 2) { /* keep the unfinished frame, drop the rest */
            memmove(in, in + off, have - off);
            have -= off, off = 0;
        }
    }
    return total;
}
