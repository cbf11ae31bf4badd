/* test_isolation: two users trying each other's rows through the API. Bob, with his own
 * token, gets the same 404 not_found for alice's task as for a task that never existed
 * (GET, PUT, PATCH, DELETE, complete on his own path), 403 user_id_mismatch on alice's
 * path; a user_id in a body or query changes nothing; afterwards alice's task is unchanged
 * (the whole JSON, and the row as the database holds it) and bob's list, search and paging
 * show none of alice's tasks. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgadmin.h"

static gateway_t gw;

static char *dump(const json_t *j)
{
    return h_keep(json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS));
}

/* The body of a 404 with the task id replaced by N, to compare two 404s. */
static const char *masked(const resp_t *r, long long id)
{
    const char *idtext = h_fmt("%lld", id);
    const char *b = r->body ? r->body : "";
    char *out = h_fmt("%s", "");
    const char *at;
    while ((at = strstr(b, idtext)) != NULL) {
        out = h_fmt("%s%.*sN", out, (int)(at - b), b);
        b = at + strlen(idtext);
    }
    return h_fmt("%s%s", out, b);
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_isolation");
    if (gateway_start(&gw, NULL) != 0)
        return h_finish();
    PGconn *db = pg_admin();
    const char *alice = h_uid("alice"), *bob = h_uid("bob");
    const char *ta = tok_user(alice), *tb = tok_user(bob);
    const char *abase = h_fmt("/api/%s/tasks", alice), *bbase = h_fmt("/api/%s/tasks", bob);

    h_section("setup: alice's tasks, bob's task");
    long long aid = 0, bid = 0;
    const char *alice_json = NULL;
    resp_t *r = h_send(&gw, P_H1, "POST", abase, ta, "{\"title\": \"alice secret plan\", \"description\": \"only alice\"}");
    if (EXPECT_STATUS(r, 201))
        aid = json_integer_value(json_object_get(r->json, "id"));
    resp_free(r);
    for (int i = 0; i < 4; i++) {
        r = h_send(&gw, P_H1, "POST", abase, ta, h_fmt("{\"title\": \"alice extra %d\"}", i));
        EXPECT_STATUS(r, 201);
        resp_free(r);
    }
    r = h_send(&gw, P_H1, "PATCH", h_fmt("%s/%lld/complete", abase, aid), ta, NULL);
    EXPECT_STATUS(r, 200);
    resp_free(r);
    r = h_get(&gw, P_H1, h_fmt("%s/%lld", abase, aid), ta);
    if (EXPECT_STATUS(r, 200))
        alice_json = dump(r->json);
    resp_free(r);
    r = h_send(&gw, P_H1, "POST", bbase, tb, "{\"title\": \"bob's own\"}");
    if (EXPECT_STATUS(r, 201))
        bid = json_integer_value(json_object_get(r->json, "id"));
    resp_free(r);
    if (aid == 0 || bid == 0 || alice_json == NULL) {
        gateway_stop(&gw);
        if (db)
            PQfinish(db);
        return h_finish();
    }
    const char *db_before =
        pg_text(db, "select row_to_json(t)::text from todo.tasks t where id = $1::bigint", h_fmt("%lld", aid), NULL);
    long long never = aid + 1000000000LL;

    for (proto_t p = P_H1; p <= P_H2C; p++) {
        h_section("%s: bob on his own path with alice's id: 404 like a missing task", h_proto_name[p]);
        static const struct {
            const char *method, *suffix, *body;
        } ops[] = {
            {"GET", "", NULL},
            {"PUT", "", "{\"title\": \"bob was here\", \"completed\": false}"},
            {"PATCH", "", "{\"description\": \"bob was here\"}"},
            {"PATCH", "/complete", NULL},
            {"PATCH", "/complete", "{\"completed\": false}"},
            {"DELETE", "", NULL},
        };
        for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
            resp_t *theirs = h_send(&gw, p, ops[i].method, h_fmt("%s/%lld%s", bbase, aid, ops[i].suffix), tb, ops[i].body);
            resp_t *none = h_send(&gw, p, ops[i].method, h_fmt("%s/%lld%s", bbase, never, ops[i].suffix), tb, ops[i].body);
            EXPECT_ERROR(theirs, 404, "not_found");
            EXPECT_ERROR(none, 404, "not_found");
            CHECK(strcmp(masked(theirs, aid), masked(none, never)) == 0, "%s: alice's task and a missing one answer alike: %s / %s",
                  theirs->what, theirs->body, none->body);
            CHECK(strstr(theirs->body, "alice") == NULL && strstr(theirs->body, "secret") == NULL,
                  "the 404 shows nothing of alice's: %s", resp_brief(theirs));
            resp_free(theirs);
            resp_free(none);
        }

        h_section("%s: bob on alice's path: 403", h_proto_name[p]);
        static const struct {
            const char *method, *suffix, *body;
        } ops2[] = {
            {"GET", "", NULL},
            {"POST", "", "{\"title\": \"planted by bob\"}"},
            {"GET", "/ID", NULL},
            {"PUT", "/ID", "{\"title\": \"bob was here\"}"},
            {"PATCH", "/ID", "{\"title\": \"bob was here\"}"},
            {"PATCH", "/ID/complete", NULL},
            {"DELETE", "/ID", NULL},
        };
        for (size_t i = 0; i < sizeof ops2 / sizeof *ops2; i++) {
            const char *path = ops2[i].suffix[0] ? h_fmt("%s/%lld%s", abase, aid, ops2[i].suffix + 3) : abase;
            r = h_send(&gw, p, ops2[i].method, path, tb, ops2[i].body);
            EXPECT_ERROR(r, 403, "user_id_mismatch");
            CHECK(strstr(r->body, "secret") == NULL, "the 403 shows nothing of alice's: %s", resp_brief(r));
            resp_free(r);
        }
    }

    h_section("a user_id in a body or the query changes nothing");
    int bob_count = 1;
    r = h_send(&gw, P_H1, "POST", bbase, tb, h_fmt("{\"title\": \"bob claims another\", \"user_id\": \"%s\"}", alice));
    if (CHECK(r->status == 201 || r->status == 422, "a body naming another user_id is refused or ignored: %s", resp_brief(r)) &&
        r->status == 201) {
        EXPECT_JSTR(r, r->json, "user_id", bob);
        bob_count++;
    }
    resp_free(r);
    r = h_send(&gw, P_H1, "PATCH", h_fmt("%s/%lld", bbase, bid), tb, h_fmt("{\"user_id\": \"%s\", \"id\": %lld}", alice, aid));
    if (CHECK(r->status == 200 || r->status == 422, "a PATCH naming user_id and id is refused or ignored: %s", resp_brief(r)) &&
        r->status == 200) {
        EXPECT_JSTR(r, r->json, "user_id", bob);
        CHECK(json_integer_value(json_object_get(r->json, "id")) == bid, "the id stays bob's: %s", resp_brief(r));
    }
    resp_free(r);
    r = h_send(&gw, P_H1, "PUT", h_fmt("%s/%lld", bbase, bid), tb,
               h_fmt("{\"title\": \"bob's own\", \"user_id\": \"%s\", \"id\": %lld}", alice, aid));
    if (CHECK(r->status == 200 || r->status == 422, "a PUT naming user_id and id is refused or ignored: %s", resp_brief(r)) &&
        r->status == 200)
        EXPECT_JSTR(r, r->json, "user_id", bob);
    resp_free(r);

    h_section("bob's list, search and paging show nothing of alice's");
    const char *const queries[] = {"",
                                   "?q=alice",
                                   "?q=secret",
                                   "?status=completed",
                                   "?sort=title",
                                   "?limit=1",
                                   h_fmt("?user_id=%s", alice),
                                   "?limit=1000&offset=0"};
    for (size_t i = 0; i < sizeof queries / sizeof *queries; i++) {
        r = h_get(&gw, P_H2C, h_fmt("%s%s", bbase, queries[i]), tb);
        if (EXPECT_STATUS(r, 200) && CHECK(json_is_array(r->json), "a list: %s", resp_brief(r))) {
            size_t k;
            json_t *t;
            int all_bobs = 1;
            json_array_foreach(r->json, k, t) all_bobs &= h_jstr(t, "user_id") && strcmp(h_jstr(t, "user_id"), bob) == 0;
            CHECK(all_bobs, "every task in bob's list is bob's: %s", resp_brief(r));
            CHECK(strstr(r->body, "alice") == NULL && strstr(r->body, "secret") == NULL, "nothing of alice's in %s", resp_brief(r));
            if (strcmp(queries[i], "?limit=1") == 0)
                CHECK((resp_header(r, "Link") != NULL) == (bob_count > 1), "bob has %d tasks: ?limit=1 has %s next page", bob_count,
                      bob_count > 1 ? "a" : "no");
        }
        resp_free(r);
    }
    r = h_get(&gw, P_H1, h_fmt("%s?limit=%d", bbase, bob_count), tb);
    (void)(EXPECT_STATUS(r, 200) &&
           CHECK(h_jlen(r) == bob_count && resp_header(r, "Link") == NULL,
                 "alice's rows are not counted in bob's paging (no Link after bob's %d): %s", bob_count, resp_brief(r)));
    resp_free(r);

    h_section("alice's task is unchanged");
    r = h_get(&gw, P_H1, h_fmt("%s/%lld", abase, aid), ta);
    (void)(EXPECT_STATUS(r, 200) &&
           CHECK(strcmp(dump(r->json), alice_json) == 0, "alice's task is exactly as before: %s vs %s", dump(r->json), alice_json));
    resp_free(r);
    r = h_get(&gw, P_H1, abase, ta);
    (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 5, "alice still has her 5 tasks and nothing planted: %s", resp_brief(r)));
    resp_free(r);
    const char *db_after =
        pg_text(db, "select row_to_json(t)::text from todo.tasks t where id = $1::bigint", h_fmt("%lld", aid), NULL);
    CHECK(db_before && db_after && strcmp(db_before, db_after) == 0, "alice's row is unchanged in the database: %s vs %s",
          db_before ? db_before : "(none)", db_after ? db_after : "(none)");
    CHECK(pg_number(db, "select count(*) from todo.tasks where user_id = $1", alice, NULL) == 5,
          "the database holds exactly alice's 5 tasks for her");
    CHECK(pg_number(db, "select count(*) from todo.tasks where user_id = $1", bob, NULL) == bob_count,
          "the database holds exactly bob's %d tasks for him", bob_count);

    h_section("user ids with quotes and SQL in them are just ids");
    const char *const odd_users[] = {h_fmt("o'hara;--%s", alice + 6), h_fmt("x'or'1'='1-%s", alice + 6)};
    for (size_t i = 0; i < 2; i++) {
        const char *t = tok_user(odd_users[i]);
        const char *base = h_fmt("/api/%s/tasks", odd_users[i]);
        r = h_send(&gw, P_H1, "POST", base, t, "{\"title\": \"odd\"}");
        (void)(EXPECT_STATUS(r, 201) && EXPECT_JSTR(r, r->json, "user_id", odd_users[i]));
        resp_free(r);
        r = h_get(&gw, P_H1, base, t);
        (void)(EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 1, "%s sees exactly its one task: %s", odd_users[i], resp_brief(r)));
        resp_free(r);
    }

    if (db)
        PQfinish(db);
    h_section("shutdown");
    gateway_stop(&gw);
    return h_finish();
}
