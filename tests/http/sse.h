/* sse.h: a client of text/event-stream (WHATWG HTML 9.2 Server-Sent Events) for the tests:
 * streams driven together by one libcurl multi handle (HTTP/2 streams multiplexed on one
 * connection where the protocol allows), each one's events parsed as they arrive, with the
 * time they arrived. Used by tests/http/test_events.c and tests/faults/test_events_restart.c.
 *
 * Ownership: a stream belongs to the caller (sse_close); its events' data are kept by the
 * harness (h_keep) until h_finish. */
#ifndef TEST_SSE_H
#define TEST_SSE_H

#include <time.h>

#include "harness.h"

#define SSE_MAX_EVENTS 64

typedef struct event {
    long long id;
    char name[32];
    char *data;      /* the data line, kept */
    long arrived_ms; /* since sse_init */
} event_t;

typedef struct stream {
    CURL *h;
    resp_t *r;
    struct curl_slist *hl;
    size_t parsed;                    /* bytes of r->body read into events */
    int nevents, comments, heartbeats; /* events (up to SSE_MAX_EVENTS kept), comment lines, ": heartbeat" ones */
    int done;                         /* the transfer ended (at done_ms, since sse_init); rc says how */
    long done_ms;
    CURLcode rc;
    event_t ev[SSE_MAX_EVENTS];
} stream_t;

/* Once per program, before the first stream; sse_cleanup at the end. */
void sse_init(void);
void sse_cleanup(void);
/* Milliseconds since sse_init. */
long sse_now_ms(void);

/* Opens GET path (a user's "/api/{user}/events", query included) with the token (NULL: no
 * Authorization) and extra header lines (NULL-terminated, or NULL), over p; nothing is
 * read until sse_pump. */
stream_t *sse_open_path(gateway_t *gw, proto_t p, const char *path, const char *token, const char *const *headers);
/* ... the events of user. */
stream_t *sse_open(gateway_t *gw, proto_t p, const char *user, const char *token, const char *const *headers);
void sse_close(stream_t *s);
/* The stream's response status, 0 before it came. */
long sse_status(const stream_t *s);

/* Drives every stream for up to ms, parsing what arrives into all[0..n) (NULL entries
 * skipped), or until until(arg) holds; returns whether it does (until NULL: 1 after ms). */
int sse_pump(long ms, int (*until)(void *), void *arg, stream_t **all, size_t n);

/* until functions: every stream of a NULL-terminated list has its status line (and, for a
 * 200, its first bytes); ... has at least n events (arg: a want_t); the one stream ended. */
int sse_has_status(void *streams);
typedef struct want {
    stream_t **streams; /* NULL-terminated */
    int n;
} want_t;
int sse_have_events(void *want);
int sse_is_done(void *stream);

#endif
