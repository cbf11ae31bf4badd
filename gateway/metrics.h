/* metrics.h: Prometheus counters. Each thread owns one gw_metrics_t and is the only writer
 * of it (relaxed atomics); /metrics sums every thread's when scraped. */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <h2o.h>
#include <stdatomic.h>
#include <stdint.h>

#include "conns.h"
#include "routes.h"

#define GW_METRICS_ROUTES 32 /* >= gw_routes_count */
#define GW_METRICS_STATUSES 19
#define GW_METRICS_BUCKETS 13

typedef struct gw_metrics {
    atomic_uint_fast64_t requests[GW_METRICS_ROUTES][GW_METRICS_STATUSES]; /* by route, in gw_routes' order */
    atomic_uint_fast64_t unrouted[GW_METRICS_STATUSES];                    /* no route matched */
    atomic_uint_fast64_t latency[GW_METRICS_BUCKETS + 1];                  /* per bucket, not cumulative; last: +Inf */
    atomic_uint_fast64_t latency_sum_ns;
    atomic_uint_fast64_t db_errors;        /* replies of 5xx from the database layer */
    atomic_uint_fast64_t pool_connections; /* gauges, refreshed by the owning thread */
    atomic_uint_fast64_t pool_in_use;
    atomic_uint_fast64_t pool_waiting;
    atomic_uint_fast64_t events_streams;         /* gauge: event streams open */
    atomic_uint_fast64_t events_refused_user;    /* 503: EVENTS_MAX_PER_USER streams of that user were open */
    atomic_uint_fast64_t events_refused_process; /* 503: EVENTS_MAX_STREAMS streams were open */
    atomic_uint_fast64_t events_sent;            /* events written to streams */
    gw_conns_stats_t conns; /* connections refused, calmed; requests cancelled */
} gw_metrics_t;

/* Counts one response: route (NULL when none matched), status, duration in nanoseconds. */
void gw_metrics_record(gw_metrics_t *m, const gw_route_t *route, int status, uint64_t ns);

/* Renders the sum of n threads' metrics in Prometheus text format into pool. */
h2o_iovec_t gw_metrics_render(h2o_mem_pool_t *pool, gw_metrics_t *const *all, size_t n);

#endif
