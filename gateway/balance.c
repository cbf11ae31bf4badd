/*
 * balance.c: hand-over of accepted connections between the event-loop threads (balance.h).
 *
 * A thread's load is the client connections it serves (stats->open, kept by conns.c) plus
 * those handed to it and not yet received (incoming). A connection goes to another thread
 * only when that one's load is lower than the accepting thread's, so a burst of connections
 * alternates between the threads, whichever thread the kernel woke for each. Keep-alive
 * clients keep their connection on the thread it landed on: balancing at accept is what
 * spreads a benchmark's (or a frontend's) few long-lived connections over every thread.
 */
#include "balance.h"

#include <stdatomic.h>
#include <stdlib.h>

typedef struct slot {
    h2o_multithread_receiver_t receiver;
    h2o_loop_t *loop;
    gw_conns_stats_t *stats;
    atomic_size_t incoming; /* handed over, not yet received */
    atomic_int ready;       /* its receiver is registered: connections may be handed to it */
    gw_balance_adopt_cb adopt;
    void *data;
} slot_t;

typedef struct handed {
    h2o_multithread_message_t super;
    h2o_socket_export_t info;
    size_t listener;
} handed_t;

static slot_t *slots;
static size_t nslots;
static atomic_int stopped;

int gw_balance_init(size_t n)
{
    slots = calloc(n, sizeof(*slots));
    nslots = slots != NULL ? n : 0;
    return slots != NULL ? 0 : -1;
}

/* Runs on the receiving thread, in its loop: each socket handed to it joins that loop. */
static void on_handed(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    slot_t *s = H2O_STRUCT_FROM_MEMBER(slot_t, receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        handed_t *m = H2O_STRUCT_FROM_MEMBER(handed_t, super.link, messages->next);
        h2o_linklist_unlink(&m->super.link);
        h2o_socket_t *sock = h2o_socket_import(s->loop, &m->info);
        atomic_fetch_sub_explicit(&s->incoming, 1, memory_order_relaxed);
        s->adopt(s->data, sock, m->listener);
        free(m);
    }
}

void gw_balance_register(size_t i, h2o_context_t *ctx, gw_conns_stats_t *stats, gw_balance_adopt_cb cb, void *data)
{
    slot_t *s = slots + i;
    s->loop = ctx->loop;
    s->stats = stats;
    s->adopt = cb;
    s->data = data;
    h2o_multithread_register_receiver(ctx->queue, &s->receiver, on_handed);
    atomic_store_explicit(&s->ready, 1, memory_order_release);
}

static size_t load(slot_t *s)
{
    return (size_t)atomic_load_explicit(&s->stats->open, memory_order_relaxed) +
           atomic_load_explicit(&s->incoming, memory_order_relaxed);
}

int gw_balance_hand_off(size_t self, h2o_socket_t *sock, size_t listener)
{
    size_t best = self, least;
    if (nslots < 2 || atomic_load_explicit(&stopped, memory_order_relaxed))
        return 0;
    least = load(slots + self);
    for (size_t i = 0; i < nslots; i++) {
        if (atomic_load_explicit(&slots[i].ready, memory_order_acquire) && load(slots + i) < least)
            best = i, least = load(slots + i);
    }
    handed_t *m = best != self ? calloc(1, sizeof(*m)) : NULL;
    if (m == NULL)
        return 0;
    m->listener = listener;
    if (h2o_socket_export(sock, &m->info) != 0) { /* cannot happen with a socket just accepted; then serve it here */
        free(m);
        return 0;
    }
    atomic_fetch_add_explicit(&slots[best].incoming, 1, memory_order_relaxed);
    h2o_multithread_send_message(&slots[best].receiver, &m->super);
    return 1;
}

void gw_balance_stop(void)
{
    atomic_store(&stopped, 1);
}
