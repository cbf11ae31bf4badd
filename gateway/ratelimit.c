/*
 * ratelimit.c: token buckets in a fixed-size table split into locked shards. A client's
 * bucket lives in one of PROBE slots after its hash; when none is free the least recently
 * used of them is taken over (a forgotten client starts with a full bucket, which errs
 * toward letting requests through). Memory is fixed: SHARDS * SLOTS buckets.
 */
#include "ratelimit.h"

#include <netinet/in.h>
#include <pthread.h>
#include <string.h>

#include "text.h"

#define SHARDS 64
#define SLOTS 1024
#define PROBE 8
#define KEY_MAX 16

typedef struct bucket {
    unsigned char key[KEY_MAX];
    uint8_t key_len;
    double tokens;
    uint64_t last_ms;
} bucket_t;

static struct shard {
    pthread_mutex_t lock;
    bucket_t slots[SLOTS];
} shards[SHARDS];

static double rate_per_ms, depth;

void gw_ratelimit_init(int per_second, int burst)
{
    rate_per_ms = per_second / 1000.0;
    depth = burst > 0 ? burst : per_second;
    for (size_t i = 0; i < SHARDS; i++)
        pthread_mutex_init(&shards[i].lock, NULL);
}

int gw_ratelimit_take(const void *key, size_t key_len, uint64_t now_ms)
{
    if (rate_per_ms <= 0)
        return 0;
    if (key_len > KEY_MAX)
        key_len = KEY_MAX;
    uint64_t h = gw_text_fnv1a(key, key_len);
    struct shard *sh = &shards[h % SHARDS];
    size_t start = (size_t)(h / SHARDS) % SLOTS;
    bucket_t *b = NULL, *oldest = NULL;
    int wait = 0;

    pthread_mutex_lock(&sh->lock);
    for (size_t i = 0; i < PROBE; i++) {
        bucket_t *c = &sh->slots[(start + i) % SLOTS];
        if (c->key_len == key_len && memcmp(c->key, key, key_len) == 0) {
            b = c;
            break;
        }
        if (oldest == NULL || c->last_ms < oldest->last_ms)
            oldest = c;
    }
    if (b == NULL) {
        b = oldest;
        memcpy(b->key, key, key_len);
        b->key_len = (uint8_t)key_len;
        b->tokens = depth;
        b->last_ms = now_ms;
    }
    if (now_ms > b->last_ms) {
        b->tokens += (double)(now_ms - b->last_ms) * rate_per_ms;
        if (b->tokens > depth)
            b->tokens = depth;
        b->last_ms = now_ms;
    }
    if (b->tokens >= 1) {
        b->tokens -= 1;
    } else {
        wait = (int)((1 - b->tokens) / rate_per_ms / 1000.0) + 1;
    }
    pthread_mutex_unlock(&sh->lock);
    return wait;
}
