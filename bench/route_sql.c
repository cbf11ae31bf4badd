/* todo-bench-sql: prints, byte for byte, the SQL the gateway runs for one route, taken from
 * the gateway's own route table (gateway/routes.c), so that bench/run's pgbench scripts run
 * exactly the gateway's statements and no copy of them can drift.
 *
 *   todo-bench-sql NAME     the statement of the route named NAME (e.g. list_tasks)
 *   todo-bench-sql --begin  gw_routes_begin_sql, run first by every route that takes a token
 *   todo-bench-sql --list   the names of the routes that have a statement, one a line
 *
 * Only a route's name and sql fields are read. Exit status 0, or 1 with a message on
 * stderr when no route of that name has a statement, 2 on bad usage. */
#include <stdio.h>
#include <string.h>

#include "routes.h"

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s NAME | --begin | --list\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "--begin") == 0) {
        fputs(gw_routes_begin.sql, stdout);
        return 0;
    }
    int list = strcmp(argv[1], "--list") == 0;
    for (size_t i = 0; i < gw_routes_count; i++) {
        const gw_route_t *r = gw_routes + i;
        if (r->sql == NULL || r->name == NULL)
            continue;
        if (list) {
            printf("%s\n", r->name);
        } else if (strcmp(r->name, argv[1]) == 0) {
            fputs(r->sql, stdout);
            return 0;
        }
    }
    if (list)
        return 0;
    fprintf(stderr, "%s: no route named '%s' has a statement (see --list)\n", argv[0], argv[1]);
    return 1;
}
