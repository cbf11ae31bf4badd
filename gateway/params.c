/* params.c: a route's query parameters and request header fields, as its statement's
 * arguments (params.h). */
#include "params.h"

#include <string.h>

#include "text.h"

char *gw_params_array_literal(h2o_mem_pool_t *pool, const char *const *values, size_t n)
{
    size_t len = 3; /* "{}" and the NUL */
    for (size_t i = 0; i < n; i++) {
        len += 3 + strlen(values[i]); /* the quotes and a comma */
        for (const char *c = values[i]; *c != '\0'; c++)
            len += *c == '"' || *c == '\\';
    }
    char *out = h2o_mem_alloc_pool(pool, len), *o = out;
    *o++ = '{';
    for (size_t i = 0; i < n; i++) {
        if (i > 0)
            *o++ = ',';
        *o++ = '"';
        for (const char *c = values[i]; *c != '\0'; c++) {
            if (*c == '"' || *c == '\\')
                *o++ = '\\';
            *o++ = *c;
        }
        *o++ = '"';
    }
    *o++ = '}';
    *o = '\0';
    return out;
}

/* A query value percent-decoded ('+' a space) into pool, or NULL when it is not
 * percent-encoded UTF-8. */
static const char *decode(h2o_mem_pool_t *pool, gw_str_t raw)
{
    char *buf = h2o_mem_alloc_pool(pool, raw.len + 1);
    long n = gw_text_unescape(raw.base, raw.len, buf, 1);
    if (n < 0 || gw_text_utf8_length(buf, (size_t)n, 0) < 0)
        return NULL;
    buf[n] = '\0';
    return buf;
}

/* The value of one declared query parameter: its last value, as FastAPI (Starlette's
 * QueryParams) takes a repeated scalar, or every value as an array literal when the
 * declaration ends in "[]"; *value NULL when absent. Every occurrence is decoded: returns -1
 * when any value is not percent-encoded UTF-8. */
static int query_value(h2o_mem_pool_t *pool, gw_str_t query, const char *decl, const char **value)
{
    size_t len = strlen(decl), n = 0, count = 0;
    int repeatable = len > 2 && strcmp(decl + len - 2, "[]") == 0;
    gw_str_t rest = query, pair, name, raw;

    len -= repeatable ? 2 : 0;
    while (gw_text_query_next(&rest, &pair, &name, &raw))
        count += name.len == len && memcmp(name.base, decl, len) == 0;
    *value = NULL;
    if (count == 0)
        return 0;
    const char **values = h2o_mem_alloc_pool(pool, count * sizeof(*values));
    while (n < count && gw_text_query_next(&query, &pair, &name, &raw)) {
        if (name.len != len || memcmp(name.base, decl, len) != 0)
            continue;
        if ((values[n++] = decode(pool, raw)) == NULL)
            return -1;
    }
    *value = repeatable ? gw_params_array_literal(pool, values, n) : values[n - 1];
    return 0;
}

const char *gw_params_query(h2o_mem_pool_t *pool, gw_str_t query, const gw_route_t *route, gw_db_call_t *call)
{
    const char *values[GW_ROUTE_MAX_QUERY];
    size_t n = 0;
    for (; n < GW_ROUTE_MAX_QUERY && route->query[n] != NULL; n++)
        if (query_value(pool, query, route->query[n], &values[n]) != 0)
            return route->query[n];
    for (size_t i = 0; i < n; i++)
        call->params[call->nparams++] = values[i];
    return NULL;
}

const char *gw_params_headers(h2o_mem_pool_t *pool, const h2o_headers_t *headers, const gw_route_t *route, gw_db_call_t *call)
{
    const char *values[GW_ROUTE_MAX_HEADERS];
    size_t n = 0;
    for (; n < GW_ROUTE_MAX_HEADERS && route->headers[n] != NULL; n++) {
        const char *name = route->headers[n];
        h2o_iovec_t joined = {NULL, 0};
        for (ssize_t i = -1; (i = h2o_find_header_by_str(headers, name, strlen(name), i)) != -1;) {
            h2o_iovec_t v = headers->entries[i].value;
            if (memchr(v.base, '\0', v.len) != NULL || gw_text_utf8_length(v.base, v.len, 0) < 0)
                return name;
            joined = joined.base == NULL ? h2o_strdup(pool, v.base, v.len)
                                         : h2o_concat(pool, joined, h2o_iovec_init(H2O_STRLIT(", ")), v);
        }
        values[n] = joined.base;
    }
    for (size_t i = 0; i < n; i++)
        call->params[call->nparams++] = values[i];
    return NULL;
}
