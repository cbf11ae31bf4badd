#include "metrics.h"

#include <stdio.h>
#include <string.h>

static const int statuses[GW_METRICS_STATUSES] = {200, 201, 204, 304, 400, 401, 403, 404, 405, 409,
                                                  412, 413, 415, 422, 429, 500, 503, 504, 0 /* other */};
static const double bounds[GW_METRICS_BUCKETS] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

void gw_metrics_record(gw_metrics_t *m, const gw_route_t *route, int status, uint64_t ns)
{
    size_t r = route != NULL ? (size_t)(route - gw_routes) : GW_METRICS_ROUTES, s = 0, b = 0;
    while (s < GW_METRICS_STATUSES - 1 && statuses[s] != status)
        s++;
    while (b < GW_METRICS_BUCKETS && ns > bounds[b] * 1e9)
        b++;
    atomic_fetch_add_explicit(r < GW_METRICS_ROUTES ? &m->requests[r][s] : &m->unrouted[s], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_ns, ns, memory_order_relaxed);
}

static uint64_t sum(gw_metrics_t *const *all, size_t n, size_t offset)
{
    uint64_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += atomic_load_explicit((atomic_uint_fast64_t *)((char *)all[i] + offset), memory_order_relaxed);
    return total;
}

#define SUM(field) sum(all, n, offsetof(gw_metrics_t, field))

/* One line of todo_gateway_requests_total (none when v is 0) at buf + len; returns the new length. */
static size_t out_requests(char *buf, size_t len, size_t cap, const char *route, int status, uint64_t v)
{
    char code[8];
    if (v == 0)
        return len;
    snprintf(code, sizeof(code), status ? "%d" : "other", status);
    return len + (size_t)snprintf(buf + len, len < cap ? cap - len : 0,
                                  "todo_gateway_requests_total{route=\"%s\",status=\"%s\"} %llu\n", route, code,
                                  (unsigned long long)v);
}

/* The event streams' lines (events.c) at buf + len; returns the new length. */
static size_t out_events(char *buf, size_t len, size_t cap, gw_metrics_t *const *all, size_t n)
{
#define OUT(...) (len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, __VA_ARGS__))
    OUT("# HELP todo_gateway_event_streams Event streams (GET /api/{user_id}/events) open.\n"
        "# TYPE todo_gateway_event_streams gauge\ntodo_gateway_event_streams %llu\n",
        (unsigned long long)SUM(events_streams));
    OUT("# HELP todo_gateway_event_streams_refused_total Event streams refused (503) by a cap, by cap.\n"
        "# TYPE todo_gateway_event_streams_refused_total counter\n"
        "todo_gateway_event_streams_refused_total{cap=\"per_user\"} %llu\n"
        "todo_gateway_event_streams_refused_total{cap=\"per_process\"} %llu\n",
        (unsigned long long)SUM(events_refused_user), (unsigned long long)SUM(events_refused_process));
    OUT("# HELP todo_gateway_events_sent_total Events written to event streams.\n"
        "# TYPE todo_gateway_events_sent_total counter\ntodo_gateway_events_sent_total %llu\n",
        (unsigned long long)SUM(events_sent));
#undef OUT
    return len;
}

h2o_iovec_t gw_metrics_render(h2o_mem_pool_t *pool, gw_metrics_t *const *all, size_t n)
{
    size_t cap = 64 * 1024, len = 0;
    char *buf = h2o_mem_alloc_pool(pool, cap);
#define OUT(...) (len += (size_t)snprintf(buf + len, len < cap ? cap - len : 0, __VA_ARGS__))

    OUT("# HELP todo_gateway_requests_total Responses sent, by route and status.\n"
        "# TYPE todo_gateway_requests_total counter\n");
    for (size_t s = 0; s < GW_METRICS_STATUSES; s++)
        len = out_requests(buf, len, cap, "none", statuses[s], SUM(unrouted[s]));
    for (size_t r = 0; r < gw_routes_count && r < GW_METRICS_ROUTES; r++)
        for (size_t s = 0; s < GW_METRICS_STATUSES; s++)
            len = out_requests(buf, len, cap, gw_routes[r].name, statuses[s], SUM(requests[r][s]));

    OUT("# HELP todo_gateway_request_duration_seconds Time from a request's arrival to its response.\n"
        "# TYPE todo_gateway_request_duration_seconds histogram\n");
    uint64_t cumulative = 0;
    for (size_t b = 0; b <= GW_METRICS_BUCKETS; b++) {
        cumulative += SUM(latency[b]);
        if (b < GW_METRICS_BUCKETS)
            OUT("todo_gateway_request_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds[b], (unsigned long long)cumulative);
        else
            OUT("todo_gateway_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cumulative);
    }
    OUT("todo_gateway_request_duration_seconds_sum %.6f\n", SUM(latency_sum_ns) / 1e9);
    OUT("todo_gateway_request_duration_seconds_count %llu\n", (unsigned long long)cumulative);

    OUT("# HELP todo_gateway_db_connections Database connections up.\n# TYPE todo_gateway_db_connections gauge\n"
        "todo_gateway_db_connections %llu\n",
        (unsigned long long)SUM(pool_connections));
    OUT("# HELP todo_gateway_db_pool_in_use Database connections with requests in flight.\n"
        "# TYPE todo_gateway_db_pool_in_use gauge\ntodo_gateway_db_pool_in_use %llu\n",
        (unsigned long long)SUM(pool_in_use));
    OUT("# HELP todo_gateway_db_pool_waiting Requests waiting for a database connection.\n"
        "# TYPE todo_gateway_db_pool_waiting gauge\ntodo_gateway_db_pool_waiting %llu\n",
        (unsigned long long)SUM(pool_waiting));
    OUT("# HELP todo_gateway_db_errors_total Requests the database layer failed (5xx: unavailable, timeout, error).\n"
        "# TYPE todo_gateway_db_errors_total counter\ntodo_gateway_db_errors_total %llu\n",
        (unsigned long long)SUM(db_errors));
    OUT("# HELP todo_gateway_connections Client connections open.\n# TYPE todo_gateway_connections gauge\n"
        "todo_gateway_connections %llu\n",
        (unsigned long long)gw_conns_open());
    OUT("# HELP todo_gateway_connections_refused_total Connections closed at once because MAX_CONNECTIONS were open.\n"
        "# TYPE todo_gateway_connections_refused_total counter\ntodo_gateway_connections_refused_total %llu\n",
        (unsigned long long)SUM(conns.refused));
    OUT("# HELP todo_gateway_connections_calmed_total HTTP/2 connections sent GOAWAY ENHANCE_YOUR_CALM for cancelling too many "
        "streams (Rapid Reset).\n"
        "# TYPE todo_gateway_connections_calmed_total counter\ntodo_gateway_connections_calmed_total %llu\n",
        (unsigned long long)SUM(conns.calmed));
    OUT("# HELP todo_gateway_requests_cancelled_total Requests whose client went away before an answer was started (not those of a connection already cut for cancelling too many).\n"
        "# TYPE todo_gateway_requests_cancelled_total counter\ntodo_gateway_requests_cancelled_total %llu\n",
        (unsigned long long)SUM(conns.cancelled));
    len = out_events(buf, len, cap, all, n);
#undef OUT
    if (len >= cap) { /* never with today's routes (~27 KB at most); if ever, whole lines only */
        len = cap - 1;
        while (len > 0 && buf[len - 1] != '\n')
            len--;
    }
    return h2o_iovec_init(buf, len);
}
