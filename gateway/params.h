/* params.h: the arguments a route's statement takes from the request beyond its {id} and its
 * body: the query parameters and the request header fields its row of the route table names
 * (routes.h), bound as text, in that order. The values go to the database as they came
 * (percent-decoded for the query); the function that reads them checks them. */
#ifndef GW_PARAMS_H
#define GW_PARAMS_H

#include <h2o.h>

#include "db.h"
#include "routes.h"

/* Appends to call one argument per query parameter the route names, in the table's order:
 * the parameter's first value, percent-decoded ('+' a space), or NULL when absent; for a
 * repeatable one (a name ending in "[]": `tag[]` is the parameter tag), every value of it,
 * in order, as one PostgreSQL array literal (gw_params_array_literal), NULL when absent.
 * query: the request target's query (gw_text_target_query). Returns 0, or the name of the
 * first parameter whose value is not percent-encoded UTF-8 (nothing then appended).
 * Strings in pool. */
const char *gw_params_query(h2o_mem_pool_t *pool, gw_str_t query, const gw_route_t *route, gw_db_call_t *call);

/* Appends to call one argument per request header field the route names, in the table's
 * order: its value, several field lines of that name joined by ", " (RFC 9110 5.3), or NULL
 * when absent. Returns 0, or the name of the first field whose value is not UTF-8 or holds a
 * NUL (nothing then appended). Strings in pool. */
const char *gw_params_headers(h2o_mem_pool_t *pool, const h2o_headers_t *headers, const gw_route_t *route, gw_db_call_t *call);

/* A PostgreSQL array literal of n strings (PostgreSQL's "Array Value Input" syntax): each
 * element between double quotes, a double quote or a backslash in it preceded by a
 * backslash: {"a","b \"c\""}. The strings are NUL-terminated text; "{}" when n is 0. In pool. */
char *gw_params_array_literal(h2o_mem_pool_t *pool, const char *const *values, size_t n);

#endif
