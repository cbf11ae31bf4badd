/* db_status.c: the single SQLSTATE -> HTTP status mapping of db.h (db/README.md's table), and
 * the one SQLSTATE that is not a failure: the replay of an Idempotency-Key. */
#include "db.h"

#include <jansson.h>
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
        {"57014", 504}, /* query_canceled: statement_timeout, the request's deadline */
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

/* A JSON string member copied into pool (NULL stays a NULL column); -1 for another type. */
static int copy_string(json_t *obj, const char *name, h2o_mem_pool_t *pool, h2o_iovec_t *out)
{
    json_t *v = json_object_get(obj, name);
    if (json_is_null(v)) {
        *out = h2o_iovec_init(NULL, 0);
        return 0;
    }
    if (!json_is_string(v))
        return -1;
    *out = h2o_strdup(pool, json_string_value(v), json_string_length(v));
    return 0;
}

int gw_db_replay_decode(const char *detail, h2o_mem_pool_t *pool, gw_db_reply_t *reply)
{
    json_t *d = detail != NULL ? json_loads(detail, JSON_REJECT_DUPLICATES, NULL) : NULL;
    json_t *status = json_object_get(d, "status");
    h2o_iovec_t body, location, etag;
    int ok = json_is_integer(status) && json_integer_value(status) >= 200 && json_integer_value(status) <= 299 &&
             copy_string(d, "body", pool, &body) == 0 && copy_string(d, "location", pool, &location) == 0 &&
             copy_string(d, "etag", pool, &etag) == 0;
    if (ok) {
        memset(reply->cols, 0, sizeof(reply->cols));
        reply->status = 0;
        reply->replayed = (int)json_integer_value(status);
        reply->cols[0] = body;
        reply->cols[1] = location;
        reply->cols[3] = etag;
    }
    json_decref(d);
    return ok ? 0 : -1;
}
