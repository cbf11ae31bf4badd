/* test_uri: Location and Link values are URI references a client can send back as they are
 * (RFC 3986): what a path or query may not hold is percent-encoded, escapes are kept. */
#include <string.h>

#include "check.h"
#include "uri.h"

static h2o_mem_pool_t pool;

static int location_is(const char *path, const char *id, const char *want)
{
    h2o_iovec_t v = gw_uri_location(&pool, path, strlen(path), h2o_iovec_init(id, strlen(id)));
    int ok = v.len == strlen(want) && memcmp(v.base, want, v.len) == 0;
    if (!ok)
        fprintf(stderr, "location(%s, %s) = %.*s, want %s\n", path, id, (int)v.len, v.base, want);
    return ok;
}

static int link_is(const char *path, const char *query, const char *offset, const char *want)
{
    h2o_iovec_t v =
        gw_uri_next_link(&pool, path, strlen(path), query, query ? strlen(query) : 0, h2o_iovec_init(offset, strlen(offset)));
    int ok = v.len == strlen(want) && memcmp(v.base, want, v.len) == 0;
    if (!ok)
        fprintf(stderr, "link(%s, %s) = %.*s, want %s\n", path, query ? query : "(none)", (int)v.len, v.base, want);
    return ok;
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    CHECK(location_is("/api/u_123/tasks", "118", "/api/u_123/tasks/118"));
    /* the client sent the user id escaped: the same escapes come back */
    CHECK(location_is("/api/a%3Fx%3D1%23y/tasks", "118", "/api/a%3Fx%3D1%23y/tasks/118"));
    CHECK(location_is("/api/a%20b/tasks", "7", "/api/a%20b/tasks/7"));
    /* raw bytes a URI cannot hold (a space, UTF-8, quotes, brackets) are escaped */
    CHECK(location_is("/api/a b/tasks", "7", "/api/a%20b/tasks/7"));
    CHECK(location_is("/api/jos\xc3\xa9/tasks", "7", "/api/jos%C3%A9/tasks/7"));
    CHECK(location_is("/api/\"<x>\"/tasks", "7", "/api/%22%3Cx%3E%22/tasks/7"));
    /* an id is one segment: its "/" and "?" are escaped */
    CHECK(location_is("/api/u/tasks", "a/b?c", "/api/u/tasks/a%2Fb%3Fc"));
    /* a user id "." or ".." is a dot segment a client would remove (RFC 3986 5.2.4): escaped;
     * dots inside a segment stay */
    CHECK(location_is("/api/../tasks", "55", "/api/%2E%2E/tasks/55"));
    CHECK(location_is("/api/./tasks", "56", "/api/%2E/tasks/56"));
    CHECK(location_is("/api/a.b/tasks", "7", "/api/a.b/tasks/7"));
    CHECK(location_is("/api/.../tasks", "7", "/api/.../tasks/7"));
    CHECK(link_is("/api/../tasks", "limit=1", "1", "</api/%2E%2E/tasks?limit=1&offset=1>; rel=\"next\""));

    CHECK(link_is("/api/u/tasks", NULL, "50", "</api/u/tasks?offset=50>; rel=\"next\""));
    CHECK(link_is("/api/u/tasks", "limit=50", "50", "</api/u/tasks?limit=50&offset=50>; rel=\"next\""));
    CHECK(link_is("/api/u/tasks", "limit=2&offset=2&sort=title", "4", "</api/u/tasks?limit=2&sort=title&offset=4>; rel=\"next\""));
    CHECK(link_is("/api/u/tasks", "offset&offset=3&offsets=1", "9", "</api/u/tasks?offsets=1&offset=9>; rel=\"next\""));
    /* what the client escaped stays escaped; + (a space in a query) stays +; raw bytes are escaped */
    CHECK(link_is("/api/u/tasks", "q=milk%20%26%20eggs&limit=1", "1",
                  "</api/u/tasks?q=milk%20%26%20eggs&limit=1&offset=1>; rel=\"next\""));
    CHECK(link_is("/api/u/tasks", "q=a+b&limit=1", "1", "</api/u/tasks?q=a+b&limit=1&offset=1>; rel=\"next\""));
    CHECK(link_is("/api/u/tasks", "q=<x> \"y\"&limit=1", "1", "</api/u/tasks?q=%3Cx%3E%20%22y%22&limit=1&offset=1>; rel=\"next\""));
    CHECK(link_is("/api/a b/tasks", "q=caf\xc3\xa9", "1", "</api/a%20b/tasks?q=caf%C3%A9&offset=1>; rel=\"next\""));
    h2o_mem_clear_pool(&pool);
    return check_report("test_uri");
}
