#include "uri.h"

#include <string.h>

#include "text.h"

/* h2o_uri_escape keeps unreserved characters and sub-delims; these are the other
 * characters a path (pchar and "/") or a query ("/" and "?") may hold as they are, and
 * "%", since an escape the client made stands for the same byte either way. */
#define PATH_KEEP "/:@%"
#define QUERY_KEEP "/?:@%"

/* path percent-encoded (PATH_KEEP), and a segment that is "." or ".." (a user id can be
 * either) as "%2E" or "%2E%2E": RFC 3986 5.2.4 would remove it as a dot segment, and the
 * reference would name another resource. */
static h2o_iovec_t escape_path(h2o_mem_pool_t *pool, const char *path, size_t len)
{
    h2o_iovec_t p = h2o_uri_escape(pool, path, len, PATH_KEEP);
    size_t dots = 0;
    for (size_t i = 0; i < p.len; i++)
        dots += p.base[i] == '.';
    if (dots == 0)
        return p;
    char *out = h2o_mem_alloc_pool(pool, p.len + 2 * dots + 1), *o = out;
    for (size_t i = 0; i < p.len;) {
        size_t end = i;
        while (end < p.len && p.base[end] != '/')
            end++;
        size_t seg = end - i;
        if ((seg == 1 || seg == 2) && memcmp(p.base + i, "..", seg) == 0)
            for (size_t k = 0; k < seg; k++)
                memcpy(o, "%2E", 3), o += 3;
        else
            memcpy(o, p.base + i, seg), o += seg;
        if (end < p.len)
            *o++ = '/';
        i = end + 1;
    }
    return h2o_iovec_init(out, (size_t)(o - out));
}

h2o_iovec_t gw_uri_location(h2o_mem_pool_t *pool, const char *path, size_t len, h2o_iovec_t id)
{
    h2o_iovec_t p = escape_path(pool, path, len);
    h2o_iovec_t segment = h2o_uri_escape(pool, id.base, id.len, NULL); /* a "/" in an id is %2F */
    return h2o_concat(pool, p, h2o_iovec_init(H2O_STRLIT("/")), segment);
}

h2o_iovec_t gw_uri_next_link(h2o_mem_pool_t *pool, const char *path, size_t path_len, const char *query, size_t query_len,
                             h2o_iovec_t offset)
{
    h2o_iovec_t kept = h2o_iovec_init(NULL, 0);
    if (query != NULL) {
        char *buf = h2o_mem_alloc_pool(pool, query_len + 1);
        size_t n = 0;
        gw_str_t rest = {query, query_len}, pair, name, value;
        while (gw_text_query_next(&rest, &pair, &name, &value)) {
            if (pair.len > 0 && !(name.len == 6 && memcmp(name.base, "offset", 6) == 0)) {
                memcpy(buf + n, pair.base, pair.len), n += pair.len;
                buf[n++] = '&';
            }
        }
        kept = h2o_uri_escape(pool, buf, n, QUERY_KEEP);
    }
    return h2o_concat(pool, h2o_iovec_init(H2O_STRLIT("<")), escape_path(pool, path, path_len),
                      h2o_iovec_init(H2O_STRLIT("?")), kept, h2o_iovec_init(H2O_STRLIT("offset=")),
                      h2o_uri_escape(pool, offset.base, offset.len, NULL), h2o_iovec_init(H2O_STRLIT(">; rel=\"next\"")));
}

void gw_uri_answer_headers(h2o_req_t *req, h2o_iovec_t id, h2o_iovec_t offset, h2o_iovec_t *location, h2o_iovec_t *link)
{
    gw_str_t path = gw_text_target_path(req->input.path.base, req->input.path.len);
    gw_str_t query = gw_text_target_query(req->input.path.base, req->input.path.len);
    *location = id.len > 0 ? gw_uri_location(&req->pool, path.base, path.len, id) : h2o_iovec_init(NULL, 0);
    *link =
        offset.len > 0 ? gw_uri_next_link(&req->pool, path.base, path.len, query.base, query.len, offset) : h2o_iovec_init(NULL, 0);
}
