/* test_events_restart: the database restarted three ways (pg_ctl stop -m fast, -m immediate,
 * kill -9 of the postmaster) under two event streams of one user, one over HTTP/1.1 and one
 * over HTTP/2, each client behaving as EventSource does: when its stream ends it reconnects with
 * Last-Event-ID (and again after a refusal: a fetch-based client retries a 503). Writes are
 * made before the restart and right after it. Checked: each client has every event the
 * database kept for the user exactly once, in id order, with no gap: nothing kept is lost,
 * whether the gateway ended the stream (the client resumed) or kept it open (the stream caught
 * up after the LISTEN connection came back). How many reconnections it took is printed. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"
#include "pgadmin.h"
#include "sse.h"

#define MAX_SEEN 64

typedef struct client {
    proto_t p;
    stream_t *s;
    int consumed; /* events of s already taken into seen */
    long long seen[MAX_SEEN], last;
    int nseen, reconnects, resets;
} client_t;

static void client_open(gateway_t *g, client_t *c, const char *user, const char *tok)
{
    const char *const with_id[] = {h_fmt("Last-Event-ID: %lld", c->last), NULL};
    c->s = sse_open(g, c->p, user, tok, c->last > 0 ? with_id : NULL);
    c->consumed = 0;
}

/* Takes the stream's new events; a stream that ended is reopened with Last-Event-ID. */
static void client_step(gateway_t *g, client_t *c, const char *user, const char *tok)
{
    for (; c->consumed < c->s->nevents; c->consumed++) {
        event_t *e = &c->s->ev[c->consumed];
        if (strcmp(e->name, "reset") == 0)
            c->resets++;
        else if (c->nseen < MAX_SEEN)
            c->seen[c->nseen++] = e->id;
        c->last = e->id;
    }
    if (c->s->done) {
        sse_close(c->s);
        c->reconnects++;
        h_sleep_ms(100);
        client_open(g, c, user, tok);
    }
}

/* POSTs a task until the gateway acknowledges it (the database may still be coming back). */
static int write_task(gateway_t *g, const char *user, const char *tok, const char *title)
{
    for (int i = 0; i < 100; i++) {
        req_t rq = {.method = "POST", .path = h_fmt("/api/%s/tasks", user), .token = tok, .body = h_fmt("{\"title\": \"%s\"}", title),
                    .proto = P_H1, .raw = 1};
        resp_t *r = h_req(g, &rq);
        long st = r->status;
        resp_free(r);
        if (st == 201)
            return 1;
        h_sleep_ms(200);
    }
    return 0;
}

typedef struct until_last {
    client_t *c;
    long long last;
} until_last_t;

static void scenario(gateway_t *g, const char *how)
{
    h_section("event streams across a database restart (%s)", how);
    const char *user = h_uid("events"), *tok = tok_user(user);
    client_t cs[2] = {{.p = P_H1}, {.p = h_mux_proto(g)}}; /* HTTP/2: TLS h2 where libcurl cannot reuse h2c (harness.h) */
    for (int i = 0; i < 2; i++)
        client_open(g, &cs[i], user, tok);
    CHECK(sse_pump(10000, sse_has_status, (stream_t *[]){cs[0].s, cs[1].s, NULL}, (stream_t *[]){cs[0].s, cs[1].s}, 2),
          "the two streams are open");
    CHECK(write_task(g, user, tok, "before"), "a task is written before the restart");
    want_t one = {(stream_t *[]){cs[0].s, cs[1].s, NULL}, 1};
    CHECK(sse_pump(10000, sse_have_events, &one, (stream_t *[]){cs[0].s, cs[1].s}, 2), "both clients have its event");
    int kill = strcmp(how, "kill") == 0;
    CHECK(fault_cluster(kill ? "kill" : "stop", kill ? NULL : how) && fault_cluster("start", NULL), "the database restarted (%s)", how);
    CHECK(write_task(g, user, tok, "after 1") && write_task(g, user, tok, "after 2"), "two tasks are written after it");
    PGconn *db = pg_admin();
    long long last = db ? pg_number(db, "select last_event_id from todo.event_counters where user_id = $1", user, NULL) : -1;
    if (db != NULL)
        PQfinish(db);
    CHECK(last >= 3, "the database kept %lld events of the user", last);
    for (int round = 0; round < 200 && (cs[0].last < last || cs[1].last < last); round++) {
        sse_pump(100, NULL, NULL, (stream_t *[]){cs[0].s, cs[1].s}, 2);
        for (int i = 0; i < 2; i++)
            client_step(g, &cs[i], user, tok);
    }
    for (int i = 0; i < 2; i++) {
        client_t *c = &cs[i];
        int in_order = c->nseen == last;
        for (int k = 0; in_order && k < c->nseen; k++)
            in_order = c->seen[k] == k + 1;
        CHECK(in_order && c->resets == 0, "%s, %s: every kept event exactly once, in order (%d events of %lld, %d resets)", how,
              h_proto_name[c->p], c->nseen, last, c->resets);
        h_diag("%s, %s: the client reconnected %d times (0: the stream stayed open and caught up)", how, h_proto_name[c->p],
               c->reconnects);
        sse_close(c->s);
    }
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_events_restart");
    sse_init();
    gateway_t g;
    const char *dir = h_make_cert();
    const char *const env[] = {"GATEWAY_THREADS=2", "DB_POOL_SIZE=2", dir ? h_fmt("TLS_CERT=%s/cert.pem", dir) : "TLS_CERT",
                               dir ? h_fmt("TLS_KEY=%s/key.pem", dir) : "TLS_KEY", NULL};
    if (gateway_start(&g, env) != 0)
        return h_finish();
    scenario(&g, "fast");
    scenario(&g, "immediate");
    scenario(&g, "kill");
    gateway_stop(&g);
    sse_cleanup();
    return h_finish();
}
