/* sse.c: the tests' text/event-stream client (sse.h). */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

static CURLM *multi;
static struct timespec t_start;

void sse_init(void)
{
    clock_gettime(CLOCK_MONOTONIC, &t_start);
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
}

void sse_cleanup(void)
{
    curl_multi_cleanup(multi);
}

long sse_now_ms(void)
{
    return h_ms_since(&t_start);
}

/* The blocks of text/event-stream received since the last call: events, and comment lines. */
static void parse(stream_t *s)
{
    char *end;
    while (s->r->body != NULL && (end = strstr(s->r->body + s->parsed, "\n\n")) != NULL) {
        char *block = h_keep(strndup(s->r->body + s->parsed, (size_t)(end - (s->r->body + s->parsed)) + 1));
        s->parsed = (size_t)(end - s->r->body) + 2;
        if (block[0] == ':') {
            s->comments++;
            s->heartbeats += strncmp(block, ": heartbeat", 11) == 0;
            continue;
        }
        if (s->nevents == SSE_MAX_EVENTS)
            continue;
        event_t *e = &s->ev[s->nevents++];
        memset(e, 0, sizeof(*e));
        e->arrived_ms = sse_now_ms();
        for (char *line = block, *nl; (nl = strchr(line, '\n')) != NULL; line = nl + 1) {
            *nl = '\0';
            if (strncmp(line, "id: ", 4) == 0)
                e->id = atoll(line + 4);
            else if (strncmp(line, "event: ", 7) == 0)
                snprintf(e->name, sizeof(e->name), "%s", line + 7);
            else if (strncmp(line, "data: ", 6) == 0)
                e->data = line + 6;
        }
    }
}

int sse_pump(long ms, int (*until)(void *), void *arg, stream_t **all, size_t n)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int running, left;
        curl_multi_perform(multi, &running);
        CURLMsg *m;
        /* a transfer's end is told once: record it on its stream, listed here or not */
        while ((m = curl_multi_info_read(multi, &left)) != NULL) {
            stream_t *s = NULL;
            if (m->msg == CURLMSG_DONE && curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s) == CURLE_OK && s != NULL)
                s->done = 1, s->rc = m->data.result, s->done_ms = sse_now_ms();
        }
        for (size_t i = 0; i < n; i++)
            if (all[i] != NULL)
                parse(all[i]);
        if (until != NULL && until(arg))
            return 1;
        if (h_ms_since(&t0) >= ms)
            return until == NULL;
        curl_multi_poll(multi, NULL, 0, 20, NULL);
    }
}

stream_t *sse_open_path(gateway_t *gw, proto_t p, const char *path, const char *token, const char *const *headers)
{
    stream_t *s = calloc(1, sizeof(*s));
    req_t rq = {.path = path, .token = token, .proto = p, .raw = 1, .timeout_ms = 60000, .headers = headers};
    s->h = curl_easy_init();
    s->r = h_resp_new();
    s->hl = h_setup_easy(s->h, gw, &rq, s->r);
    curl_easy_setopt(s->h, CURLOPT_PRIVATE, (char *)s);
    curl_multi_add_handle(multi, s->h);
    return s;
}

stream_t *sse_open(gateway_t *gw, proto_t p, const char *user, const char *token, const char *const *headers)
{
    return sse_open_path(gw, p, h_fmt("/api/%s/events", user), token, headers);
}

void sse_close(stream_t *s)
{
    if (s == NULL)
        return;
    curl_multi_remove_handle(multi, s->h);
    curl_easy_cleanup(s->h);
    curl_slist_free_all(s->hl);
    resp_free(s->r);
    free(s);
}

long sse_status(const stream_t *s)
{
    long st = 0;
    curl_easy_getinfo(s->h, CURLINFO_RESPONSE_CODE, &st);
    return st;
}

int sse_has_status(void *arg)
{
    for (stream_t **s = arg; *s != NULL; s++) {
        long st = sse_status(*s);
        if (st == 0 || (st == 200 && (*s)->comments == 0 && (*s)->nevents == 0 && !(*s)->done))
            return 0;
    }
    return 1;
}

int sse_have_events(void *arg)
{
    want_t *w = arg;
    for (stream_t **s = w->streams; *s != NULL; s++)
        if ((*s)->nevents < w->n)
            return 0;
    return 1;
}

int sse_is_done(void *arg)
{
    return ((stream_t *)arg)->done;
}
