/* flow.c: the core flow every protocol runs, and the shape of a task (see harness.h). */
#define _GNU_SOURCE
#include "harness_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int h_expect_task_at(const resp_t *r, const json_t *t, const char *user_id, const char *file, int line)
{
    static const char *ts = "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]+)?Z$";
    const char *why = NULL;
    if (!json_is_object(t))
        why = "not an object";
    else if (json_object_size(t) != 11)
        why = "not exactly the 11 members";
    else if (!json_is_integer(json_object_get(t, "id")) || json_integer_value(json_object_get(t, "id")) <= 0)
        why = "id is not a positive integer";
    else if (!json_is_string(json_object_get(t, "user_id")))
        why = "user_id is not a string";
    else if (user_id != NULL && strcmp(h_jstr(t, "user_id"), user_id) != 0)
        why = h_fmt("user_id is not %s", user_id);
    else if (!json_is_string(json_object_get(t, "title")))
        why = "title is not a string";
    else if (!json_is_string(json_object_get(t, "description")) && !json_is_null(json_object_get(t, "description")))
        why = "description is neither a string nor null";
    else if (!json_is_boolean(json_object_get(t, "completed")))
        why = "completed is not a boolean";
    else if (!json_is_string(json_object_get(t, "created_at")) || !h_match(h_jstr(t, "created_at"), ts))
        why = "created_at is not an RFC 3339 UTC timestamp";
    else if (!json_is_string(json_object_get(t, "updated_at")) || !h_match(h_jstr(t, "updated_at"), ts))
        why = "updated_at is not an RFC 3339 UTC timestamp";
    else if (!json_is_null(json_object_get(t, "due_date")) && !h_match(h_jstr(t, "due_date") ? h_jstr(t, "due_date") : "", ts))
        why = "due_date is neither null nor an RFC 3339 UTC timestamp";
    else if (!h_jstr(t, "priority") || !h_match(h_jstr(t, "priority"), "^(low|medium|high)$"))
        why = "priority is not low, medium or high";
    else if (!json_is_array(json_object_get(t, "tags")))
        why = "tags is not an array";
    else if (!json_is_null(json_object_get(t, "recurrence")) &&
             !h_match(h_jstr(t, "recurrence") ? h_jstr(t, "recurrence") : "", "^(daily|weekly|monthly)$"))
        why = "recurrence is neither null nor daily, weekly or monthly";
    char *dump = t ? json_dumps(t, JSON_COMPACT) : NULL;
    int ok =
        h_check_at(why == NULL, file, line, "task shape: %s: %s (%s)", why ? why : "ok", dump ? dump : "null", r ? r->what : "");
    free(dump);
    return ok;
}

void h_flow_crud(gateway_t *gw, proto_t p, long want)
{
    const char *user = h_uid("flow");
    const char *tok = tok_user(user);
    const char *base = h_fmt("/api/%s/tasks", user);
    resp_t *r;
    long n_version_ok = 0, n = 0;
#define SEEN(r) (n++, n_version_ok += (r)->http_version == want)

    r = h_get(gw, p, base, tok);
    SEEN(r);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 0, "a new user's list is []: %s", resp_brief(r)));
    resp_free(r);

    r = h_send(gw, p, "POST", base, tok, "{\"title\": \"  Flow task  \", \"description\": \"first\"}");
    SEEN(r);
    long long id = 0;
    char *created = NULL;
    if (EXPECT_STATUS(r, 201) && EXPECT_TASK(r, r->json, user)) {
        id = json_integer_value(json_object_get(r->json, "id"));
        EXPECT_JSTR(r, r->json, "title", "Flow task");
        EXPECT_JSTR(r, r->json, "description", "first");
        CHECK(json_is_false(json_object_get(r->json, "completed")), "a new task is not completed: %s", resp_brief(r));
        EXPECT_HEADER(r, "Location", h_fmt("%s/%lld", base, id));
        created = json_dumps(r->json, JSON_COMPACT | JSON_SORT_KEYS);
    }
    resp_free(r);
    if (id == 0)
        return;
    const char *item = h_fmt("%s/%lld", base, id);

    r = h_get(gw, p, item, tok);
    SEEN(r);
    if (EXPECT_STATUS(r, 200)) {
        char *got = json_dumps(r->json, JSON_COMPACT | JSON_SORT_KEYS);
        CHECK(got && created && strcmp(got, created) == 0, "GET returns the task POST returned: %s vs %s", got, created);
        free(got);
    }
    free(created);
    resp_free(r);

    r = h_send(gw, p, "PUT", item, tok, "{\"title\": \"Flow task 2\"}");
    SEEN(r);
    if (EXPECT_STATUS(r, 200) && EXPECT_TASK(r, r->json, user)) {
        EXPECT_JSTR(r, r->json, "title", "Flow task 2");
        EXPECT_JSTR(r, r->json, "description", NULL);
    }
    resp_free(r);

    r = h_send(gw, p, "PATCH", item, tok, "{\"description\": \"patched\"}");
    SEEN(r);
    if (EXPECT_STATUS(r, 200)) {
        EXPECT_JSTR(r, r->json, "title", "Flow task 2");
        EXPECT_JSTR(r, r->json, "description", "patched");
    }
    resp_free(r);

    r = h_send(gw, p, "PATCH", h_fmt("%s/complete", item), tok, NULL);
    SEEN(r);
    (void)(EXPECT_STATUS(r, 200) &&
           CHECK(json_is_true(json_object_get(r->json, "completed")), "complete with no body toggles to true: %s", resp_brief(r)));
    resp_free(r);

    r = h_send(gw, p, "PATCH", h_fmt("%s/complete", item), tok, "{\"completed\": false}");
    SEEN(r);
    (void)(EXPECT_STATUS(r, 200) && CHECK(json_is_false(json_object_get(r->json, "completed")),
                                          "complete with {\"completed\": false} sets false: %s", resp_brief(r)));
    resp_free(r);

    r = h_get(gw, p, base, tok);
    SEEN(r);
    (void)(EXPECT_STATUS(r, 200) &&
           CHECK(h_jlen(r) == 1 && json_integer_value(json_object_get(json_array_get(r->json, 0), "id")) == id,
                 "the list holds the one task: %s", resp_brief(r)));
    resp_free(r);

    r = h_send(gw, p, "DELETE", item, tok, NULL);
    SEEN(r);
    EXPECT_STATUS(r, 204);
    resp_free(r);

    r = h_get(gw, p, item, tok);
    SEEN(r);
    EXPECT_ERROR(r, 404, "not_found");
    resp_free(r);

    r = h_get(gw, p, base, tok);
    SEEN(r);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 0, "the list is empty after DELETE: %s", resp_brief(r)));
    resp_free(r);
#undef SEEN
    CHECK(n_version_ok == n, "all %ld answers of the flow came over HTTP version %s (%ld did)", n,
          want == CURL_HTTP_VERSION_2_0 ? "2" : "1.1", n_version_ok);
}
