/* print_routes: the route table (gateway/routes.c) as "METHOD /path" lines, the path as the
 * OpenAPI document spells it ({user} is {user_id}), for the browser test of /docs. */
#include <stdio.h>
#include <string.h>

#include "routes.h"

int main(void)
{
    for (size_t i = 0; i < gw_routes_count; i++) {
        const gw_route_t *r = &gw_routes[i];
        char methods[64];
        const char *user = strstr(r->pattern, "{user}");
        gw_routes_allow(r->method, methods, sizeof(methods));
        methods[strcspn(methods, ",")] = '\0'; /* the route's own method: "GET, HEAD" is GET */
        if (user != NULL)
            printf("%s %.*s{user_id}%s\n", methods, (int)(user - r->pattern), r->pattern, user + 6);
        else
            printf("%s %s\n", methods, r->pattern);
    }
    return 0;
}
