/* uri.h: header values built from a request's URI and data from the database (Location,
 * Link), percent-encoded per RFC 3986 so a client can send them back exactly as they are.
 * Pure (h2o's memory pool and its RFC 3986 escaper only); unit-tested in test_uri.c. */
#ifndef GW_URI_H
#define GW_URI_H

#include <h2o.h>

/* Location of a resource created under the collection the request named (RFC 9110
 * 10.2.2): the request's path (path, len: without the query; the bytes as the client sent
 * them, which may hold characters a URI cannot, e.g. raw UTF-8), then "/" and the new
 * resource's id as one path segment. Every byte a path may not hold is percent-encoded;
 * escapes already there are kept. In pool. */
h2o_iovec_t gw_uri_location(h2o_mem_pool_t *pool, const char *path, size_t len, h2o_iovec_t id);

/* The value of a Link header to the next page (RFC 8288): "<path?query&offset=N>;
 * rel=\"next\"", where query is the request's own without its offset parameters (query may
 * be NULL), encoded as gw_uri_location does, and N the next offset. In pool. */
h2o_iovec_t gw_uri_next_link(h2o_mem_pool_t *pool, const char *path, size_t path_len, const char *query, size_t query_len,
                             h2o_iovec_t offset);

/* Both for an answer to req: *location for the created resource's id (empty id: none) and
 * *link for the next page's offset (empty offset: none); base NULL when there is none. */
void gw_uri_answer_headers(h2o_req_t *req, h2o_iovec_t id, h2o_iovec_t offset, h2o_iovec_t *location, h2o_iovec_t *link);

#endif
