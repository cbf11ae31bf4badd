/* test_openapi_routes: the OpenAPI document (gateway/openapi.json, the source of truth for
 * clients) and the route table (gateway/routes.c, what the gateway serves) name the same set
 * of (method, path): every operation of the document is a route, and every route is an
 * operation. The document spells the path's user {user_id}, the table {user}.
 * argv[1]: the source tree. */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "routes.h"

static const char *const methods[] = {"get", "post", "put", "patch", "delete", "head", "options", "trace", NULL};

/* The route table's pattern as the document writes it. */
static void doc_path(const char *pattern, char *out, size_t cap)
{
    const char *user = strstr(pattern, "{user}");
    if (user == NULL)
        snprintf(out, cap, "%s", pattern);
    else
        snprintf(out, cap, "%.*s{user_id}%s", (int)(user - pattern), pattern, user + 6);
}

static const gw_route_t *find_route(const char *method, const char *path)
{
    char upper[8] = {0};
    for (size_t i = 0; method[i] != '\0' && i < sizeof(upper) - 1; i++)
        upper[i] = (char)(method[i] - 'a' + 'A');
    unsigned bit = gw_routes_method(upper, strlen(upper));
    for (size_t i = 0; i < gw_routes_count; i++) {
        char want[256];
        doc_path(gw_routes[i].pattern, want, sizeof(want));
        if (strcmp(want, path) == 0 && bit != 0 && gw_routes[i].method == bit)
            return &gw_routes[i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    char file[4096];
    json_error_t err;
    int seen[64] = {0};
    size_t operations = 0;

    if (!CHECK(argc == 2 && gw_routes_count < 64))
        return check_report("test_openapi_routes");
    snprintf(file, sizeof(file), "%s/gateway/openapi.json", argv[1]);
    json_t *doc = json_load_file(file, 0, &err), *paths = json_object_get(doc, "paths"), *item;
    if (!CHECK(json_is_object(paths)))
        check_diag("%s: %s (line %d)", file, err.text, err.line);
    const char *path;
    json_object_foreach(paths, path, item)
    {
        for (size_t m = 0; methods[m] != NULL; m++) {
            if (json_object_get(item, methods[m]) == NULL)
                continue;
            operations++;
            const gw_route_t *r = find_route(methods[m], path);
            if (!CHECK(r != NULL))
                check_diag("the document's %s %s is not a route of gateway/routes.c", methods[m], path);
            else
                seen[r - gw_routes]++;
        }
    }
    for (size_t i = 0; i < gw_routes_count; i++) {
        char want[256], name[64];
        doc_path(gw_routes[i].pattern, want, sizeof(want));
        gw_routes_allow(gw_routes[i].method, name, sizeof(name));
        if (!CHECK(seen[i] == 1))
            check_diag("route %s (%s %s) is an operation of the document %d times, not once", gw_routes[i].name, name, want,
                       seen[i]);
    }
    CHECK_EQ(operations, gw_routes_count);
    json_decref(doc);
    return check_report("test_openapi_routes");
}
