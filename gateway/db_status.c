/* db_status.c: the single SQLSTATE -> HTTP status mapping of db.h (db/README.md's table). */
#include "db.h"

#include <string.h>

int gw_db_status_for_sqlstate(const char *s)
{
    if (s == NULL || strlen(s) != 5)
        return 500;
    if (s[0] == 'P' && s[1] == 'T') {
        int status = (s[2] - '0') * 100 + (s[3] - '0') * 10 + (s[4] - '0');
        if (s[2] >= '1' && s[2] <= '5' && s[3] >= '0' && s[3] <= '9' && s[4] >= '0' && s[4] <= '9')
            return status;
        return 500;
    }
    static const struct {
        const char *prefix;
        int status;
    } map[] = {
        {"23505", 409}, /* unique_violation */
        {"23514", 422}, /* check_violation: the title/description rules */
        {"23502", 422}, /* not_null_violation */
        {"42501", 403}, /* insufficient_privilege, row-level security */
        {"57014", 504}, /* query_canceled: statement_timeout */
        {"40001", 503}, /* serialization_failure, after one retry */
        {"40P01", 503}, /* deadlock_detected, after one retry */
        {"08", 503},    /* connection exceptions */
        {"53", 503},    /* insufficient resources (too many connections, ...) */
        {"57P", 503},   /* admin/crash shutdown, cannot connect now */
    };
    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strncmp(s, map[i].prefix, strlen(map[i].prefix)) == 0)
            return map[i].status;
    return 500;
}
