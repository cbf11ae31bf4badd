/* ratelimit.h: a token bucket per client address (RATE_LIMIT per second, RATE_LIMIT_BURST deep),
 * shared by every thread. Off when RATE_LIMIT is 0 (the default). */
#ifndef GW_RATELIMIT_H
#define GW_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Sets the rate (tokens per second) and the bucket depth; 0 turns limiting off. Call once,
 * before the worker threads start. */
void gw_ratelimit_init(int per_second, int burst);

/* Takes one token for the client key (an address's bytes) at now_ms. Returns 0 when the
 * request may go on, else the seconds to wait (for Retry-After, at least 1). Thread-safe. */
int gw_ratelimit_take(const void *key, size_t key_len, uint64_t now_ms);

#endif
