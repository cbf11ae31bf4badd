/*
 * events.c: the event streams of one thread (events.h), and the process's registry of threads
 * and per-user counts that the LISTEN thread (db_listen.c) and the caps use.
 *
 * A stream is a request that never finishes on its own: its first fetch (api.events_since with
 * the client's Last-Event-ID) decides its status (200, or the failure: 401 for a revoked token,
 * 503...); then each notification of its user fetches what the stream has not had, and h2o's
 * generator sends it. Only one h2o_send is outstanding per stream: what comes meanwhile waits
 * in `pending`, bounded (STREAM_PENDING_MAX: a client that reads too slowly is ended; it
 * reconnects with its Last-Event-ID and loses nothing kept). A stream ends, with the end of its
 * response (H2O_SEND_STATE_FINAL), when its token expires, when a fetch fails (the connection
 * was lost with it, the token was revoked: the client reconnects and resumes; a fetch that
 * certainly did not run, 503, is tried again at the next tick instead), at shutdown, or after
 * STREAM_FETCHES_MAX fetches: each fetch's reply lives in the request's pool until the request
 * ends, so a stream is recycled before its pool grows without bound (EventSource reconnects by
 * itself, with Last-Event-ID).
 *
 * Ownership: a stream lives in its request's pool (h2o_mem_alloc_shared); its dispose, run
 * whenever the request goes (the client may leave at any time), unlinks it and frees its two
 * malloc'd buffers. A fetch in flight when the client leaves is dropped by the database layer's
 * guard (db_pool.c). Notifications cross threads as malloc'd messages in h2o's multithread
 * queues, freed by the receiving thread.
 */
#include "events.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "text.h"

#define BUCKETS 1024                     /* streams by user, per thread; users' counts, per process */
#define MAX_THREADS 256                  /* GATEWAY_THREADS' limit */
#define STREAM_PENDING_MAX (256 * 1024)  /* bytes waiting for a client that does not read */
#define STREAM_FETCHES_MAX 1000          /* then the stream ends and the client resumes on a fresh one */
#define TICK_MS 1000                     /* heartbeats and token expiry are checked this often */

typedef struct stream stream_t;

struct gw_events {
    h2o_loop_t *loop;
    gw_db_t *db;
    const gw_config_t *cfg;
    gw_metrics_t *metrics;
    const gw_route_t *route; /* "events" of gw_routes */
    h2o_linklist_t buckets[BUCKETS];
    h2o_linklist_t all;
    atomic_size_t count; /* streams linked; read by the LISTEN thread */
    int shutting_down;
    h2o_timeout_t tick_timeout;
    h2o_timeout_entry_t tick;
    h2o_multithread_queue_t *queue;
    h2o_multithread_receiver_t receiver;
};

struct stream {
    h2o_generator_t gen; /* first: proceed and stop find the stream from it */
    gw_events_t *ev;
    gw_exchange_t *x;
    h2o_linklist_t by_user, in_all;
    uint64_t hash;
    const char *user_id, *issued_at, *resume; /* in the request's pool; resume: the first fetch's last_event_id */
    int64_t last_id;                          /* the last event fetched; -1 until the first fetch answered */
    int64_t expires_at;                       /* seconds since the epoch */
    uint64_t last_write_ms;
    char *pending, *sending; /* malloc'd; sending: the one h2o_send outstanding */
    size_t pending_len, pending_cap;
    unsigned fetches;
    int started, fetching, again, retry, ending, done, counted;
};

/* A notification crossing threads: a user's new event, or (user_id "") catch up. */
typedef struct notice {
    h2o_multithread_message_t super;
    int64_t id;
    char user_id[];
} notice_t;

/* ---- the process's registry: threads, and open streams per user ---- */

typedef struct user_count {
    struct user_count *next;
    int n;
    char user_id[];
} user_count_t;

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static gw_events_t *threads[MAX_THREADS];
static size_t nthreads;
static user_count_t *users[BUCKETS];
static int streams_total;

/* Takes a place for one more stream of user_id: 0, or the cap that refuses it (1: per user, 2: per process). */
static int registry_acquire(const char *user_id, uint64_t hash, const gw_config_t *cfg)
{
    int refused = 0;
    pthread_mutex_lock(&registry_lock);
    user_count_t **p = &users[hash % BUCKETS];
    while (*p != NULL && strcmp((*p)->user_id, user_id) != 0)
        p = &(*p)->next;
    if (streams_total >= cfg->events_max_streams)
        refused = 2;
    else if (*p != NULL && (*p)->n >= cfg->events_max_per_user)
        refused = 1;
    else if (*p == NULL && (*p = calloc(1, sizeof(**p) + strlen(user_id) + 1)) != NULL)
        strcpy((*p)->user_id, user_id);
    if (refused == 0 && *p == NULL)
        refused = 2; /* out of memory */
    if (refused == 0)
        (*p)->n++, streams_total++;
    pthread_mutex_unlock(&registry_lock);
    return refused;
}

static void registry_release(const char *user_id, uint64_t hash)
{
    pthread_mutex_lock(&registry_lock);
    user_count_t **p = &users[hash % BUCKETS];
    while (*p != NULL && strcmp((*p)->user_id, user_id) != 0)
        p = &(*p)->next;
    if (*p != NULL && --(*p)->n == 0) {
        user_count_t *gone = *p;
        *p = gone->next;
        free(gone);
    }
    streams_total--;
    pthread_mutex_unlock(&registry_lock);
}

/* Sends a copy of a notice to every thread with streams (all: to every thread). */
static void broadcast(const char *user_id, int64_t id, int all)
{
    size_t len = strlen(user_id) + 1;
    pthread_mutex_lock(&registry_lock);
    for (size_t i = 0; i < nthreads; i++) {
        if (!all && atomic_load_explicit(&threads[i]->count, memory_order_relaxed) == 0)
            continue;
        notice_t *n = malloc(sizeof(*n) + len);
        if (n == NULL)
            continue; /* out of memory: that thread's streams catch up at their next notification */
        memset(&n->super, 0, sizeof(n->super));
        n->id = id;
        memcpy(n->user_id, user_id, len);
        h2o_multithread_send_message(&threads[i]->receiver, &n->super);
    }
    pthread_mutex_unlock(&registry_lock);
}

void gw_events_notify(const char *user_id, int64_t id)
{
    if (user_id[0] != '\0')
        broadcast(user_id, id, 0);
}

void gw_events_catch_up(void)
{
    broadcast("", 0, 1);
}

/* ---- one stream's bytes ---- */

static void stream_unlink(stream_t *s)
{
    if (h2o_linklist_is_linked(&s->by_user)) {
        h2o_linklist_unlink(&s->by_user);
        h2o_linklist_unlink(&s->in_all);
        atomic_fetch_sub_explicit(&s->ev->count, 1, memory_order_relaxed);
        atomic_fetch_sub_explicit(&s->ev->metrics->events_streams, 1, memory_order_relaxed);
    }
    if (s->counted)
        registry_release(s->user_id, s->hash), s->counted = 0;
}

/* Sends what waits, when nothing is outstanding; once ending and nothing waits, the end. */
static void flush(stream_t *s)
{
    h2o_req_t *req = s->x->req;
    if (!s->started || s->sending != NULL || s->done)
        return;
    if (s->pending_len > 0) {
        h2o_iovec_t buf = h2o_iovec_init(s->pending, s->pending_len);
        s->sending = s->pending;
        s->pending = NULL, s->pending_len = s->pending_cap = 0;
        s->last_write_ms = h2o_now(s->ev->loop);
        h2o_send(req, &buf, 1, H2O_SEND_STATE_IN_PROGRESS);
        return;
    }
    if (s->ending) {
        s->done = 1;
        stream_unlink(s);
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL); /* the request may be gone after this */
    }
}

/* Appends bytes to what waits; a client that lets more than STREAM_PENDING_MAX wait is ended. */
static void append(stream_t *s, const char *bytes, size_t len)
{
    if (s->ending || len == 0)
        return;
    if (s->pending_len + len > STREAM_PENDING_MAX) {
        gw_log_info("events: a client of %s reads too slowly: stream ended id=%.*s", s->user_id, (int)s->x->request_id.len,
                    s->x->request_id.base);
        free(s->pending);
        s->pending = NULL, s->pending_len = s->pending_cap = 0;
        s->ending = 1;
        return;
    }
    if (s->pending_len + len > s->pending_cap) {
        size_t cap = (s->pending_len + len) * 2;
        char *p = realloc(s->pending, cap);
        if (p == NULL) {
            s->ending = 1;
            return;
        }
        s->pending = p, s->pending_cap = cap;
    }
    memcpy(s->pending + s->pending_len, bytes, len);
    s->pending_len += len;
}

static void on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    stream_t *s = (stream_t *)gen;
    (void)req;
    free(s->sending);
    s->sending = NULL;
    flush(s);
}

static void on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    (void)req;
    ((stream_t *)gen)->done = 1; /* h2o ends the response; the pool's dispose frees the rest */
}

static void on_stream_dispose(void *p)
{
    stream_t *s = p;
    stream_unlink(s);
    free(s->pending);
    free(s->sending);
}

/* ---- fetching a user's events, as that user ---- */

static void fetch(stream_t *s);

/* The first reply starts the response (or answers the failure); later ones add their events. */
static void on_fetched(h2o_req_t *req, const gw_db_reply_t *reply, void *data)
{
    stream_t *s = data;
    s->fetching = 0;
    if (s->done)
        return;
    if (reply->status != 0) {
        if (!s->started) {
            s->done = 1;
            stream_unlink(s);
            gw_respond_error(s->x, reply->status, reply->body); /* 401 revoked, 503 unavailable, ... */
            return;
        }
        if (reply->status == 503 && !s->ev->shutting_down) {
            s->retry = 1; /* certainly not run (the database is away, or the queue full): again at the next tick */
            return;
        }
        gw_log_info("events: a fetch failed (%d): stream ended for the client to resume id=%.*s", reply->status,
                    (int)s->x->request_id.len, s->x->request_id.base);
        s->ending = 1;
        flush(s);
        return;
    }
    if (!s->started) {
        s->started = 1;
        gw_respond_stream(s->x, 200, "text/event-stream; charset=utf-8", &s->gen);
        append(s, H2O_STRLIT(": ok\n\n")); /* the headers leave with the first bytes */
        if (h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
            s->ending = 1;
    }
    size_t n = 0;
    for (const char *c = reply->cols[0].base; c != NULL && c < reply->cols[0].base + reply->cols[0].len; c++)
        n += c[0] == '\n' && c + 1 < reply->cols[0].base + reply->cols[0].len && c[1] == '\n'; /* one blank line per event */
    atomic_fetch_add_explicit(&s->ev->metrics->events_sent, n, memory_order_relaxed);
    append(s, reply->cols[0].base, reply->cols[0].len);
    if (reply->cols[1].base != NULL)
        s->last_id = strtoll(reply->cols[1].base, NULL, 10);
    int more = reply->cols[2].base != NULL && strcmp(reply->cols[2].base, "true") == 0;
    if (++s->fetches >= STREAM_FETCHES_MAX || s->ev->shutting_down)
        s->ending = 1;
    flush(s);
    if (!s->done && !s->ending && (more || s->again))
        fetch(s);
}

/* One call: api.begin_request as the stream's user (its token's iat: a revoked token fails
 * here), then the events after the last one this stream has. One in flight per stream: a
 * notification meanwhile asks for another when it answers. */
static void fetch(stream_t *s)
{
    if (s->done || s->ending)
        return;
    if (s->fetching) {
        s->again = 1;
        return;
    }
    gw_db_call_t call = {.user_id = s->user_id, .issued_at = s->issued_at, .route = s->ev->route, .nparams = 1};
    if (s->last_id >= 0) {
        char id[24];
        int n = snprintf(id, sizeof(id), "%lld", (long long)s->last_id);
        call.params[0] = h2o_strdup(&s->x->req->pool, id, (size_t)n).base;
    } else {
        call.params[0] = s->resume;
    }
    s->fetching = 1, s->again = 0;
    gw_db_submit(s->ev->db, s->x->req, &call, on_fetched, s);
}

/* ---- the thread's streams ---- */

static void on_tick(h2o_timeout_entry_t *entry)
{
    gw_events_t *ev = H2O_STRUCT_FROM_MEMBER(gw_events_t, tick, entry);
    int64_t now = (int64_t)time(NULL);
    uint64_t now_ms = h2o_now(ev->loop), beat_ms = (uint64_t)ev->cfg->events_heartbeat * 1000;
    h2o_linklist_t *node = ev->all.next;
    while (node != &ev->all) {
        stream_t *s = H2O_STRUCT_FROM_MEMBER(stream_t, in_all, node);
        node = node->next; /* flush may unlink s */
        if (!s->started)
            continue;
        if (s->retry)
            s->retry = 0, fetch(s);
        if (now >= s->expires_at)
            s->ending = 1; /* the token expired: the client reconnects with a fresh one */
        else if (s->pending_len == 0 && s->sending == NULL && now_ms - s->last_write_ms + TICK_MS / 2 >= beat_ms)
            append(s, H2O_STRLIT(": heartbeat\n\n")); /* a comment line: keeps proxies from closing an idle stream */
        flush(s);
    }
    if (!h2o_linklist_is_empty(&ev->all))
        h2o_timeout_link(ev->loop, &ev->tick_timeout, &ev->tick);
}

/* Notifications from the LISTEN thread: the streams of that user fetch what they have not had. */
static void on_notices(h2o_multithread_receiver_t *receiver, h2o_linklist_t *messages)
{
    gw_events_t *ev = H2O_STRUCT_FROM_MEMBER(gw_events_t, receiver, receiver);
    while (!h2o_linklist_is_empty(messages)) {
        notice_t *n = H2O_STRUCT_FROM_MEMBER(notice_t, super.link, messages->next);
        h2o_linklist_unlink(&n->super.link);
        int all = n->user_id[0] == '\0';
        h2o_linklist_t *anchor = all ? &ev->all : &ev->buckets[gw_text_fnv1a(n->user_id, strlen(n->user_id)) % BUCKETS];
        h2o_linklist_t *node = anchor->next;
        while (node != anchor) {
            stream_t *s = all ? H2O_STRUCT_FROM_MEMBER(stream_t, in_all, node) : H2O_STRUCT_FROM_MEMBER(stream_t, by_user, node);
            node = node->next;
            if (all || (strcmp(s->user_id, n->user_id) == 0 && n->id > s->last_id))
                fetch(s);
        }
        free(n);
    }
}

/* The Last-Event-ID the first fetch resumes after: as sent when it is 1 to 18 digits; any other
 * value is an id this server never gave, "-1", which api.events_since answers with reset. */
static const char *resume_after(const char *last_event_id)
{
    if (last_event_id == NULL)
        return NULL;
    size_t n = strlen(last_event_id);
    return n > 0 && n <= 18 && strspn(last_event_id, "0123456789") == n ? last_event_id : "-1";
}

void gw_events_open(gw_events_t *ev, gw_exchange_t *x, const gw_db_call_t *call, int64_t expires_at)
{
    uint64_t hash = gw_text_fnv1a(call->user_id, strlen(call->user_id));
    int refused = ev->shutting_down ? 2 : registry_acquire(call->user_id, hash, ev->cfg);
    if (refused) {
        atomic_fetch_add_explicit(refused == 1 ? &ev->metrics->events_refused_user : &ev->metrics->events_refused_process, 1,
                                  memory_order_relaxed);
        gw_respond_error_literal(x, 503, "unavailable",
                                 refused == 1 ? "too many event streams are open for this user (EVENTS_MAX_PER_USER)"
                                              : "too many event streams are open (EVENTS_MAX_STREAMS)");
        return;
    }
    stream_t *s = h2o_mem_alloc_shared(&x->req->pool, sizeof(*s), on_stream_dispose);
    memset(s, 0, sizeof(*s));
    s->gen = (h2o_generator_t){on_proceed, on_stop};
    s->ev = ev, s->x = x, s->hash = hash, s->counted = 1;
    s->user_id = call->user_id, s->issued_at = call->issued_at;
    s->resume = resume_after(call->nparams > 0 ? call->params[0] : NULL);
    s->last_id = -1, s->expires_at = expires_at;
    /* linked before the first fetch: an event committed while it runs is fetched after it */
    h2o_linklist_insert(&ev->buckets[hash % BUCKETS], &s->by_user);
    h2o_linklist_insert(&ev->all, &s->in_all);
    atomic_fetch_add_explicit(&ev->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&ev->metrics->events_streams, 1, memory_order_relaxed);
    if (!h2o_timeout_is_linked(&ev->tick))
        h2o_timeout_link(ev->loop, &ev->tick_timeout, &ev->tick);
    fetch(s);
}

void gw_events_shutdown(gw_events_t *ev)
{
    ev->shutting_down = 1;
    h2o_linklist_t *node = ev->all.next;
    while (node != &ev->all) {
        stream_t *s = H2O_STRUCT_FROM_MEMBER(stream_t, in_all, node);
        node = node->next;
        s->ending = 1;
        flush(s); /* a stream whose first fetch is in flight ends when it answers */
    }
}

gw_events_t *gw_events_create(h2o_loop_t *loop, gw_db_t *db, const gw_config_t *cfg, gw_metrics_t *metrics)
{
    gw_events_t *ev = calloc(1, sizeof(*ev));
    if (ev == NULL)
        return NULL;
    ev->loop = loop, ev->db = db, ev->cfg = cfg, ev->metrics = metrics;
    for (size_t i = 0; i < gw_routes_count; i++)
        if (gw_routes[i].kind == GW_ROUTE_EVENTS)
            ev->route = &gw_routes[i];
    for (size_t i = 0; i < BUCKETS; i++)
        h2o_linklist_init_anchor(&ev->buckets[i]);
    h2o_linklist_init_anchor(&ev->all);
    h2o_timeout_init(loop, &ev->tick_timeout, TICK_MS);
    ev->tick.cb = on_tick;
    ev->queue = h2o_multithread_create_queue(loop);
    h2o_multithread_register_receiver(ev->queue, &ev->receiver, on_notices);
    pthread_mutex_lock(&registry_lock);
    if (nthreads < MAX_THREADS)
        threads[nthreads++] = ev;
    pthread_mutex_unlock(&registry_lock);
    return ev;
}
