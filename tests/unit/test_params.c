/* test_params: a route's query parameters and request header fields as its statement's
 * arguments (gateway/params.c): last values (as FastAPI), repeatable ones as PostgreSQL array literals,
 * header fields joined, and what is refused. */
#include <string.h>

#include "check.h"
#include "params.h"
#include "text.h"

static h2o_mem_pool_t pool;

static int is(const char *got, const char *want)
{
    if (got == NULL || want == NULL ? got == want : strcmp(got, want) == 0)
        return 1;
    check_diag("got %s, want %s", got ? got : "(NULL)", want ? want : "(NULL)");
    return 0;
}

static void test_array_literal(void)
{
    const char *none[] = {NULL};
    CHECK(is(gw_params_array_literal(&pool, none, 0), "{}"));
    const char *two[] = {"work", "Home"};
    CHECK(is(gw_params_array_literal(&pool, two, 2), "{\"work\",\"Home\"}"));
    /* what the array syntax gives meaning to is quoted, and only " and \ are escaped */
    const char *odd[] = {"a \"b\"", "c\\d", "{e,f}", "", "NULL", " g "};
    CHECK(is(gw_params_array_literal(&pool, odd, 6), "{\"a \\\"b\\\"\",\"c\\\\d\",\"{e,f}\",\"\",\"NULL\",\" g \"}"));
}

/* A route declaring a plain, a repeatable and another plain parameter. */
static const gw_route_t route = {.name = "probe", .query = {"status", "tag[]", "q"}, .headers = {"if-match", "if-none-match"}};

static gw_db_call_t query(const char *q, const char **bad)
{
    gw_db_call_t call = {0};
    *bad = gw_params_query(&pool, (gw_str_t){q, strlen(q)}, &route, &call);
    return call;
}

static void test_query(void)
{
    const char *bad;
    gw_db_call_t c = query("tag=Work&status=pending&tag=a%22b&q=x+y&tag=%C3%A9t%C3%A9&status=all", &bad);
    CHECK(bad == NULL && c.nparams == 3);
    CHECK(is(c.params[0], "all"));                           /* a plain parameter: its last value, as FastAPI */
    CHECK(is(c.params[1], "{\"Work\",\"a\\\"b\",\"été\"}")); /* every value, decoded, in order */
    CHECK(is(c.params[2], "x y"));
    c = query("status=%ff&status=all", &bad); /* every value is decoded, the ones not used included */
    CHECK(bad != NULL);
    c = query("other=1", &bad);
    CHECK(bad == NULL && c.nparams == 3 && c.params[0] == NULL && c.params[1] == NULL && c.params[2] == NULL);
    c = query("tag=&tag", &bad); /* present and empty: the function decides */
    CHECK(bad == NULL && is(c.params[1], "{\"\",\"\"}"));
    c = query("tag[]=a", &bad); /* the name is tag; tag[] is another parameter */
    CHECK(bad == NULL && c.params[1] == NULL);
    c = query("q=ok&tag=a&tag=%FF", &bad); /* not UTF-8: refused whole, nothing appended */
    CHECK(bad != NULL && strcmp(bad, "tag[]") == 0 && c.nparams == 0);
    c = query("status=%2", &bad);
    CHECK(bad != NULL && strcmp(bad, "status") == 0 && c.nparams == 0);
    c = query("tag=%00", &bad);
    CHECK(bad != NULL && c.nparams == 0);
}

static void add(h2o_headers_t *h, const char *name, const char *value, size_t len)
{
    h2o_add_header_by_str(&pool, h, name, strlen(name), 1, NULL, value, len);
}

static void test_headers(void)
{
    h2o_headers_t h = {NULL, 0, 0};
    gw_db_call_t c = {0};
    CHECK(gw_params_headers(&pool, &h, &route, &c) == NULL && c.nparams == 2 && c.params[0] == NULL && c.params[1] == NULL);
    add(&h, "if-match", "\"a\"", 3);
    add(&h, "x-other", "1", 1);
    add(&h, "if-match", "W/\"b\", \"c\"", 10);
    add(&h, "if-none-match", "*", 1);
    c = (gw_db_call_t){0};
    CHECK(gw_params_headers(&pool, &h, &route, &c) == NULL && c.nparams == 2);
    CHECK(is(c.params[0], "\"a\", W/\"b\", \"c\"")); /* field lines joined (RFC 9110 5.3) */
    CHECK(is(c.params[1], "*"));
    add(&h, "if-none-match", "\"\xff\"", 3); /* obs-text that is not UTF-8 */
    c = (gw_db_call_t){0};
    const char *bad = gw_params_headers(&pool, &h, &route, &c);
    CHECK(bad != NULL && strcmp(bad, "if-none-match") == 0 && c.nparams == 0);
    h2o_headers_t nul = {NULL, 0, 0};
    add(&nul, "if-match", "\"a\0b\"", 5);
    CHECK(gw_params_headers(&pool, &nul, &route, &c) != NULL);
}

int main(void)
{
    h2o_mem_init_pool(&pool);
    test_array_literal();
    test_query();
    test_headers();
    h2o_mem_clear_pool(&pool);
    return check_report("test_params");
}
