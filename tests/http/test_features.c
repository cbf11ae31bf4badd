/* test_features: the task features of issue 11, over HTTP/1.1 and h2c: due_date, priority,
 * tags and recurrence in bodies and answers (422 naming each field), a recurring task's next
 * occurrence, the list's priority=, tag=, due_before=, due_after=, sort=due_date and
 * sort=priority; conditional requests (ETag, If-None-Match -> 304, If-Match -> 412) and their
 * CORS headers; and writers racing with the same If-Match: one 200, the others 412. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "pgadmin.h"

static gateway_t gw;
static proto_t P;

/* A request over P with one extra header line (NULL: none). */
static resp_t *call(const char *method, const char *path, const char *tok, const char *body, const char *header)
{
    const char *const hdr[] = {header, NULL};
    req_t rq = {.method = method, .path = path, .token = tok, .body = body, .proto = P, .headers = header ? hdr : NULL};
    return h_req(&gw, &rq);
}

/* Every member of want (a JSON object's text) is in obj with that value. */
static int has_fields(const resp_t *r, const json_t *obj, const char *want)
{
    json_t *w = json_loads(want, 0, NULL), *v;
    const char *key;
    int ok = w != NULL;
    json_object_foreach(w, key, v) ok &= json_equal(json_object_get(obj, key), v);
    char *got = json_dumps(obj, JSON_COMPACT);
    CHECK(ok, "the task has %s: %s (%s)", want, got ? got : "(none)", r->what);
    free(got);
    json_decref(w);
    return ok;
}

/* POSTs body; returns the new task's id, or 0 after a failure. */
static long long create(const char *tok, const char *base, const char *body)
{
    resp_t *r = call("POST", base, tok, body, NULL);
    long long id = EXPECT_STATUS(r, 201) && EXPECT_TASK(r, r->json, NULL) ? json_integer_value(json_object_get(r->json, "id")) : 0;
    resp_free(r);
    return id;
}

/* GET path lists tasks whose member key, in order, makes want (a JSON array). */
static void expect_members(const char *tok, const char *path, const char *key, const char *want)
{
    resp_t *r = call("GET", path, tok, NULL, NULL);
    if (EXPECT_STATUS(r, 200) && CHECK(json_is_array(r->json), "a list: %s", resp_brief(r))) {
        json_t *got = json_array(), *t, *w = json_loads(want, 0, NULL);
        size_t i;
        json_array_foreach(r->json, i, t) json_array_append(got, json_object_get(t, key));
        char *text = json_dumps(got, JSON_COMPACT);
        CHECK(w && json_equal(got, w), "GET %s lists the %s %s, got %s", path, key, want, text);
        free(text);
        json_decref(got);
        json_decref(w);
    }
    resp_free(r);
}

/* GET base + query lists exactly the titles of want, in that order. */
static void expect_titles(const char *tok, const char *base, const char *query, const char *want)
{
    expect_members(tok, h_fmt("%s%s", base, query), "title", want);
}

/* GET path is a 422 naming the query parameter f1 (and f2, when not NULL), and no other. */
static void expect_bad_query(const char *tok, const char *path, const char *f1, const char *f2)
{
    const char *const fields[] = {f1, f2, NULL};
    resp_t *r = call("GET", path, tok, NULL, NULL);
    h_expect_validation_at(r, "query", fields, __FILE__, __LINE__);
    resp_free(r);
}

/* --- the fields ------------------------------------------------------------------------ */

/* The new fields of the task "full" as test_fields creates it. */
#define FULL                                                                                                                       \
    "{\"due_date\": \"2026-01-10T07:30:00.250000Z\", \"priority\": \"high\", \"tags\": [\"Work\", \"Home\", \"café\"], "          \
    "\"recurrence\": \"weekly\"}"

static void test_fields(void)
{
    h_section("%s: due_date, priority, tags, recurrence", h_proto_name[P]);
    const char *user = h_uid("fields"), *tok = tok_user(user), *base = h_fmt("/api/%s/tasks", user);

    /* what a frontend that knows only title and description sees: the defaults */
    resp_t *r = call("POST", base, tok, "{\"title\": \"plain\", \"description\": \"d\"}", NULL);
    (void)(EXPECT_STATUS(r, 201) && EXPECT_TASK(r, r->json, user) &&
           has_fields(r, r->json, "{\"due_date\": null, \"priority\": \"medium\", \"tags\": [], \"recurrence\": null}"));
    resp_free(r);

    r = call("POST", base, tok,
             "{\"title\": \"full\", \"due_date\": \"2026-01-10T09:30:00.25+02:00\", \"priority\": \"high\","
             " \"tags\": [\" Work \", \"work\", \"Home\", \"HOME\", \"caf\\u00e9\"], \"recurrence\": \"weekly\"}",
             NULL);
    long long full = 0;
    if (EXPECT_STATUS(r, 201) && EXPECT_TASK(r, r->json, user)) {
        full = json_integer_value(json_object_get(r->json, "id"));
        /* the due date in UTC with Z; the tags trimmed, one per spelling ignoring case (the first), in order */
        has_fields(r, r->json, FULL);
        resp_t *g = call("GET", h_fmt("%s/%lld", base, full), tok, NULL, NULL);
        (void)(EXPECT_STATUS(g, 200) && CHECK(json_equal(g->json, r->json), "GET returns what POST did: %s", resp_brief(g)));
        resp_free(g);
    }
    resp_free(r);

    r = call("POST", base, tok, "{\"title\": \"bare date\", \"due_date\": \"2026-01-10\"}", NULL);
    (void)(EXPECT_STATUS(r, 201) && has_fields(r, r->json, "{\"due_date\": \"2026-01-10T00:00:00.000000Z\"}"));
    resp_free(r);
    r = call("POST", base, tok,
             "{\"title\": \"ten\", \"tags\": [\"a\", \"b\", \"c\", \"d\", \"e\", \"f\", \"g\", \"h\", \"i\", \"j\", \"A\"]}", NULL);
    (void)(EXPECT_STATUS(r, 201) && CHECK(json_array_size(json_object_get(r->json, "tags")) == 10,
                                          "ten tags, and an eleventh spelling of one of them, are ten tags: %s", resp_brief(r)));
    resp_free(r);

    /* PUT without the new fields keeps them; PATCH changes the ones it names */
    const char *item = h_fmt("%s/%lld", base, full);
    r = call("PUT", item, tok, "{\"title\": \"full, renamed\"}", NULL);
    (void)(EXPECT_STATUS(r, 200) && has_fields(r, r->json, FULL));
    resp_free(r);
    r = call("PATCH", item, tok, "{\"priority\": \"low\", \"tags\": [], \"recurrence\": null}", NULL);
    (void)(EXPECT_STATUS(r, 200) && EXPECT_TASK(r, r->json, user) &&
           has_fields(r, r->json, "{\"priority\": \"low\", \"tags\": [], \"recurrence\": null, \"title\": \"full, renamed\"}"));
    resp_free(r);
    r = call("PATCH", item, tok, "{\"due_date\": null}", NULL);
    (void)(EXPECT_STATUS(r, 200) && has_fields(r, r->json, "{\"due_date\": null}"));
    resp_free(r);
    r = call("PUT", item, tok, "{\"title\": \"t\", \"due_date\": \"2027-03-01T12:00:00Z\", \"recurrence\": \"daily\"}", NULL);
    (void)(EXPECT_STATUS(r, 200) &&
           has_fields(r, r->json, "{\"recurrence\": \"daily\", \"due_date\": \"2027-03-01T12:00:00.000000Z\"}"));
    resp_free(r);
}

static void test_field_validation(void)
{
    h_section("%s: due_date, priority, tags, recurrence (422)", h_proto_name[P]);
    const char *user = h_uid("fieldrules"), *tok = tok_user(user), *base = h_fmt("/api/%s/tasks", user);
    static const struct {
        const char *fields, *field; /* the body's members after the title; the field the 422 names */
    } bad[] = {
        {"\"due_date\": 5", "due_date"},
        {"\"due_date\": \"tomorrow\"", "due_date"},
        {"\"due_date\": \"2026-02-30\"", "due_date"},
        {"\"due_date\": \"2026-01-10T24:00:00Z\"", "due_date"},
        {"\"due_date\": \"2026-01-10T10:00:00\"", "due_date"}, /* no offset */
        {"\"due_date\": \"2026-01-10T10:00:00+24:00\"", "due_date"},
        {"\"priority\": \"urgent\"", "priority"},
        {"\"priority\": \"HIGH\"", "priority"},
        {"\"priority\": null", "priority"},
        {"\"tags\": \"work\"", "tags"},
        {"\"tags\": [\"a\", 1]", "tags"},
        {"\"tags\": null", "tags"},
        {"\"tags\": [\" \\u3000 \"]", "tags"},
        {"\"tags\": [\"a\", \"\"]", "tags"},
        {"\"recurrence\": \"yearly\"", "recurrence"},
        {"\"recurrence\": true", "recurrence"},
        {"\"recurrence\": \"daily\"", "recurrence"}, /* without a due date */
        {"\"recurrence\": \"daily\", \"due_date\": null", "recurrence"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        resp_t *r = call("POST", base, tok, h_fmt("{\"title\": \"t\", %s}", bad[i].fields), NULL);
        EXPECT_VALIDATION(r, "body", bad[i].field);
        resp_free(r);
    }
    resp_t *r = call("POST", base, tok, h_fmt("{\"title\": \"t\", \"tags\": [\"%s\"]}", h_repeat("\xc3\xa9", 51)), NULL);
    EXPECT_VALIDATION(r, "body", "tags");
    resp_free(r);
    r = call("POST", base, tok,
             "{\"title\": \"t\", \"tags\": [\"1\",\"2\",\"3\",\"4\",\"5\",\"6\",\"7\",\"8\",\"9\",\"10\",\"11\"]}", NULL);
    EXPECT_VALIDATION(r, "body", "tags");
    resp_free(r);
    r = call("POST", base, tok, "{\"title\": \"\", \"priority\": \"no\", \"due_date\": \"no\", \"tags\": 1, \"recurrence\": 1}",
             NULL);
    EXPECT_VALIDATION(r, "body", "title", "due_date", "priority", "tags", "recurrence"); /* every problem listed */
    resp_free(r);

    /* a recurring task keeps its due date: clearing it is a 422 naming due_date, and changes nothing */
    long long id = create(tok, base, "{\"title\": \"recurring\", \"due_date\": \"2026-05-01\", \"recurrence\": \"monthly\"}");
    r = call("PATCH", h_fmt("%s/%lld", base, id), tok, "{\"due_date\": null}", NULL);
    EXPECT_VALIDATION(r, "body", "due_date");
    resp_free(r);
    r = call("PUT", h_fmt("%s/%lld", base, id), tok, "{\"title\": \"recurring\", \"due_date\": null}", NULL);
    EXPECT_VALIDATION(r, "body", "due_date");
    resp_free(r);
    expect_titles(tok, base, "", "[\"recurring\"]"); /* nothing else was stored */
    r = call("GET", h_fmt("%s/%lld", base, id), tok, NULL, NULL);
    (void)(EXPECT_STATUS(r, 200) && has_fields(r, r->json, "{\"due_date\": \"2026-05-01T00:00:00.000000Z\"}"));
    resp_free(r);
}

/* --- recurring tasks ------------------------------------------------------------------- */

/* Completes the task at item by method (PATCH .../complete with no body, PATCH or PUT with
 * completed true) and checks the answer is the task, completed. */
static void complete(const char *tok, const char *item, const char *method)
{
    resp_t *r = strcmp(method, "complete") == 0 ? call("PATCH", h_fmt("%s/complete", item), tok, NULL, NULL)
                : strcmp(method, "PUT") == 0    ? call("PUT", item, tok, "{\"title\": \"Pay rent\", \"completed\": true}", NULL)
                                                : call("PATCH", item, tok, "{\"completed\": true}", NULL);
    (void)(EXPECT_STATUS(r, 200) && has_fields(r, r->json, "{\"completed\": true}"));
    resp_free(r);
}

/* The pending tasks' due dates, soonest first, make want (a JSON array of strings). */
static void expect_pending_due(const char *tok, const char *base, const char *want)
{
    expect_members(tok, h_fmt("%s?status=pending&sort=due_date", base), "due_date", want);
}

static void test_recurrence(void)
{
    h_section("%s: recurring tasks", h_proto_name[P]);
    const char *user = h_uid("recur"), *tok = tok_user(user), *base = h_fmt("/api/%s/tasks", user);
    long long id = create(tok, base,
                          "{\"title\": \"Water\", \"description\": \"the ferns\", \"due_date\": \"2026-03-28T08:00:00Z\","
                          " \"recurrence\": \"daily\", \"priority\": \"high\", \"tags\": [\"home\"]}");
    const char *item = h_fmt("%s/%lld", base, id);
    complete(tok, item, "complete");
    resp_t *r = call("GET", h_fmt("%s?status=pending", base), tok, NULL, NULL);
    if (EXPECT_STATUS(r, 200) && CHECK(h_jlen(r) == 1, "completing a daily task adds its next occurrence: %s", resp_brief(r))) {
        json_t *next = json_array_get(r->json, 0);
        EXPECT_TASK(r, next, user);
        CHECK(json_integer_value(json_object_get(next, "id")) != id, "the next occurrence is a task of its own");
        has_fields(r, next,
                   "{\"due_date\": \"2026-03-29T08:00:00.000000Z\", \"title\": \"Water\", \"description\": \"the ferns\","
                   " \"priority\": \"high\", \"tags\": [\"home\"], \"recurrence\": \"daily\", \"completed\": false}");
    }
    resp_free(r);
    /* un-completing keeps the next occurrence; completing again adds no second one */
    r = call("PATCH", h_fmt("%s/complete", item), tok, "{\"completed\": false}", NULL);
    EXPECT_STATUS(r, 200);
    resp_free(r);
    complete(tok, item, "complete");
    expect_pending_due(tok, base, "[\"2026-03-29T08:00:00.000000Z\"]");

    /* monthly, completed by PUT then by PATCH: the 31st is kept where the month has one */
    const char *rent_user = h_uid("rent"), *rent_tok = tok_user(rent_user), *rent = h_fmt("/api/%s/tasks", rent_user);
    id = create(rent_tok, rent, "{\"title\": \"Pay rent\", \"due_date\": \"2026-01-31T10:00:00Z\", \"recurrence\": \"monthly\"}");
    complete(rent_tok, h_fmt("%s/%lld", rent, id), "PUT");
    expect_pending_due(rent_tok, rent, "[\"2026-02-28T10:00:00.000000Z\"]");
    r = call("GET", h_fmt("%s?status=pending", rent), rent_tok, NULL, NULL);
    long long feb =
        EXPECT_STATUS(r, 200) && h_jlen(r) == 1 ? json_integer_value(json_object_get(json_array_get(r->json, 0), "id")) : 0;
    resp_free(r);
    complete(rent_tok, h_fmt("%s/%lld", rent, feb), "PATCH");
    expect_pending_due(rent_tok, rent, "[\"2026-03-31T10:00:00.000000Z\"]");

    /* weekly by PATCH; a task without a recurrence adds nothing */
    const char *week_user = h_uid("weekly"), *week_tok = tok_user(week_user), *week = h_fmt("/api/%s/tasks", week_user);
    id = create(week_tok, week, "{\"title\": \"Review\", \"due_date\": \"2026-12-31T23:30:00-01:00\", \"recurrence\": \"weekly\"}");
    long long once = create(week_tok, week, "{\"title\": \"Once\", \"due_date\": \"2026-12-01\"}");
    complete(week_tok, h_fmt("%s/%lld", week, id), "PATCH");
    complete(week_tok, h_fmt("%s/%lld", week, once), "complete");
    expect_pending_due(week_tok, week, "[\"2027-01-08T00:30:00.000000Z\"]");
    expect_titles(week_tok, week, "?sort=title", "[\"Once\", \"Review\", \"Review\"]");
}

/* --- the list ---------------------------------------------------------------------------- */

static void test_list(void)
{
    h_section("%s: list by priority, tag, due date", h_proto_name[P]);
    const char *user = h_uid("listing"), *tok = tok_user(user), *base = h_fmt("/api/%s/tasks", user);
    create(tok, base, "{\"title\": \"A\", \"priority\": \"high\", \"tags\": [\"Work\", \"Urgent\"], \"due_date\": \"2026-01-10\"}");
    create(tok, base, "{\"title\": \"B\", \"priority\": \"low\", \"tags\": [\"work\"], \"due_date\": \"2026-01-12T00:00:00Z\"}");
    create(tok, base, "{\"title\": \"C\", \"tags\": [\"Home\"]}");
    create(tok, base, "{\"title\": \"D\", \"priority\": \"high\", \"due_date\": \"2026-01-11T12:00:00Z\"}");
    create(tok, base, "{\"title\": \"E\", \"priority\": \"low\", \"tags\": [\"a\\\"b,c\\\\d {x}\", \"caf\\u00e9\"]}");

    expect_titles(tok, base, "?priority=high", "[\"D\", \"A\"]");
    expect_titles(tok, base, "?priority=low&sort=title", "[\"B\", \"E\"]");
    expect_titles(tok, base, "?tag=work", "[\"B\", \"A\"]");     /* case-insensitive */
    expect_titles(tok, base, "?tag=WORK&tag=urgent", "[\"A\"]"); /* every tag named */
    expect_titles(tok, base, "?tag=work&tag=home", "[]");
    expect_titles(tok, base, "?tag=%20home%20", "[\"C\"]");
    expect_titles(tok, base, "?tag=a%22b%2Cc%5Cd+%7Bx%7D&tag=CAF%C3%89", "[\"E\"]");    /* quotes, commas, backslashes */
    expect_titles(tok, base, "?due_after=2026-01-11&due_before=2026-01-12", "[\"D\"]"); /* [after, before) */
    expect_titles(tok, base, "?due_after=2026-01-12T00:00:00Z", "[\"B\"]");
    expect_titles(tok, base, "?due_before=2026-01-11T13:00:00.000001%2B01:00", "[\"D\", \"A\"]");
    expect_titles(tok, base, "?sort=due_date", "[\"A\", \"D\", \"B\", \"C\", \"E\"]"); /* no due date: last */
    expect_titles(tok, base, "?sort=due_date&order=desc", "[\"B\", \"D\", \"A\", \"E\", \"C\"]");
    expect_titles(tok, base, "?sort=priority", "[\"D\", \"A\", \"C\", \"E\", \"B\"]"); /* high first, then newest */
    expect_titles(tok, base, "?sort=priority&order=asc", "[\"B\", \"E\", \"C\", \"A\", \"D\"]");
    expect_titles(tok, base, "?sort=due_date&priority=high&status=pending", "[\"A\", \"D\"]");
    resp_t *r = call("GET", h_fmt("%s?sort=due_date&limit=2", base), tok, NULL, NULL);
    (void)(EXPECT_STATUS(r, 200) && CHECK(resp_header(r, "Link") && strstr(resp_header(r, "Link"), "sort=due_date&limit=2"),
                                          "a page of due dates links to the next: %s", resp_brief(r)));
    resp_free(r);

    /* bad values: 422 naming each query parameter */
    expect_bad_query(tok, h_fmt("%s?priority=urgent", base), "priority", NULL);
    expect_bad_query(tok, h_fmt("%s?priority=LOW", base), "priority", NULL); /* lower-case, as status and sort */
    expect_bad_query(tok, h_fmt("%s?tag=", base), "tag", NULL);
    expect_bad_query(tok, h_fmt("%s?tag=ok&tag=%%20", base), "tag", NULL);
    expect_bad_query(tok, h_fmt("%s?tag=%s", base, h_repeat("x", 51)), "tag", NULL);
    expect_bad_query(tok, h_fmt("%s?due_before=tomorrow", base), "due_before", NULL);
    expect_bad_query(tok, h_fmt("%s?due_after=2026-13-01", base), "due_after", NULL);
    expect_bad_query(tok, h_fmt("%s?due_after=2026-01-01T00:00:00", base), "due_after", NULL); /* no offset */
    expect_bad_query(tok, h_fmt("%s?sort=due", base), "sort", NULL);
    expect_bad_query(tok, h_fmt("%s?priority=1&due_before=x", base), "priority", "due_before");
}

/* --- conditional requests ---------------------------------------------------------------- */

/* The ETag of the answer, kept; "" when there is none. */
static const char *etag_of(const resp_t *r)
{
    const char *e = resp_header(r, "ETag");
    return h_fmt("%s", e ? e : "");
}

/* A request with one conditional header field answers status (304: no body, the same ETag). */
static void expect_conditional(const char *method, const char *path, const char *tok, const char *body, const char *header,
                               long status, const char *etag)
{
    resp_t *r = call(method, path, tok, body, header);
    if (status == 412)
        EXPECT_ERROR(r, 412, "precondition_failed");
    else if (EXPECT_STATUS(r, status) && status == 304)
        (void)(CHECK(r->len == 0, "a 304 has no body: %s", resp_brief(r)) && EXPECT_HEADER(r, "ETag", etag));
    resp_free(r);
}

static void test_conditional(void)
{
    h_section("%s: ETag, If-None-Match, If-Match", h_proto_name[P]);
    const char *user = h_uid("cond"), *tok = tok_user(user), *base = h_fmt("/api/%s/tasks", user);
    resp_t *r = call("POST", base, tok, "{\"title\": \"v1\"}", NULL);
    const char *etag = etag_of(r), *item = h_fmt("%s/%lld", base, (long long)json_integer_value(json_object_get(r->json, "id")));
    CHECK(h_match(etag, "^\"[0-9]+\\.[0-9]+\"$"), "201 carries a strong ETag: %s", etag);
    resp_free(r);
    r = call("GET", item, tok, NULL, NULL);
    (void)(EXPECT_STATUS(r, 200) && EXPECT_HEADER(r, "ETag", etag));
    resp_free(r);

    /* If-None-Match: 304 when it names the current version (weak comparison, lists, "*") */
    expect_conditional("GET", item, tok, NULL, h_fmt("If-None-Match: %s", etag), 304, etag);
    expect_conditional("GET", item, tok, NULL, h_fmt("If-None-Match: W/%s", etag), 304, etag);
    expect_conditional("GET", item, tok, NULL, h_fmt("If-None-Match: \"x\", %s", etag), 304, etag);
    expect_conditional("GET", item, tok, NULL, "If-None-Match: *", 304, etag);
    expect_conditional("HEAD", item, tok, NULL, h_fmt("If-None-Match: %s", etag), 304, etag);
    expect_conditional("GET", item, tok, NULL, "If-None-Match: \"1.1\"", 200, NULL);

    /* the list's tag is weak, and changes with the list */
    r = call("GET", base, tok, NULL, NULL);
    const char *list_tag = etag_of(r);
    CHECK(h_match(list_tag, "^W/\"[0-9a-f]{32}\"$"), "the list carries a weak ETag: %s", list_tag);
    resp_free(r);
    expect_conditional("GET", base, tok, NULL, h_fmt("If-None-Match: %s", list_tag), 304, list_tag);

    /* If-Match: a stale tag is 412 and writes nothing; the current one writes */
    static const char *const methods[] = {"PATCH", "PUT", "PATCH", "DELETE"};
    for (size_t i = 0; i < 4; i++) {
        const char *path = i == 2 ? h_fmt("%s/complete", item) : item;
        const char *body = i < 2 ? "{\"title\": \"stale\"}" : NULL;
        expect_conditional(methods[i], path, tok, body, "If-Match: \"1.1\"", 412, NULL);
        expect_conditional(methods[i], path, tok, body, h_fmt("If-Match: W/%s", etag), 412, NULL); /* strong comparison */
        expect_conditional(methods[i], path, tok, body, "If-None-Match: *", 412, NULL);
    }
    r = call("GET", item, tok, NULL, NULL);
    (void)(EXPECT_STATUS(r, 200) && EXPECT_JSTR(r, r->json, "title", "v1") && EXPECT_HEADER(r, "ETag", etag));
    resp_free(r);

    r = call("PATCH", item, tok, "{\"title\": \"v2\"}", h_fmt("If-Match: \"x\", %s", etag));
    const char *etag2 = etag_of(r);
    (void)(EXPECT_STATUS(r, 200) && CHECK(etag2[0] == '"' && strcmp(etag2, etag) != 0, "PATCH answers the new ETag: %s", etag2));
    resp_free(r);
    expect_conditional("PATCH", item, tok, "{\"title\": \"lost update\"}", h_fmt("If-Match: %s", etag), 412, NULL);
    expect_conditional("GET", base, tok, NULL, h_fmt("If-None-Match: %s", list_tag), 200, NULL); /* the list changed */
    r = call("PUT", item, tok, "{\"title\": \"v3\"}", h_fmt("If-Match: %s", etag2));
    (void)(EXPECT_STATUS(r, 200) && EXPECT_HEADER(r, "ETag", NULL)); /* RFC 9110 9.3.4: the stored task is not the body */
    resp_free(r);
    r = call("PATCH", h_fmt("%s/complete", item), tok, NULL, "If-Match: *");
    const char *etag4 = etag_of(r);
    (void)(EXPECT_STATUS(r, 200) && CHECK(etag4[0] == '"', "the completion answers the new ETag: %s", etag4));
    resp_free(r);

    /* bob, with alice's task id and its current tag, meets the 404 of a task that is not there */
    const char *bob = h_uid("bob"), *id = strrchr(item, '/') + 1;
    r = call("PATCH", h_fmt("/api/%s/tasks/%s", bob, id), tok_user(bob), "{\"title\": \"bob's\"}", h_fmt("If-Match: %s", etag4));
    EXPECT_ERROR(r, 404, "not_found");
    resp_free(r);
    expect_conditional("DELETE", item, tok, NULL, h_fmt("If-Match: %s", etag4), 204, NULL);
    expect_conditional("DELETE", item, tok, NULL, h_fmt("If-Match: %s", etag4), 404, NULL); /* gone: 404, not 412 */

    /* a field that is not UTF-8 text */
    r = call("GET", item, tok, NULL, "If-None-Match: \"\xff\"");
    EXPECT_ERROR(r, 400, "bad_request");
    resp_free(r);
}

/* --- CORS: the conditional fields may be sent and ETag read ---------------------------- */

static void test_cors(void)
{
    h_section("CORS for conditional requests");
    gateway_t g;
    const char *const env[] = {"CORS_ORIGINS=http://app.example", NULL};
    if (gateway_start(&g, env) != 0)
        return;
    const char *user = h_uid("cors"), *tok = tok_user(user), *base = h_fmt("/api/%s/tasks", user);
    const char *const pre[] = {"Origin: http://app.example", "Access-Control-Request-Method: PATCH",
                               "Access-Control-Request-Headers: if-match,if-none-match", NULL};
    req_t rq = {.method = "OPTIONS", .path = h_fmt("%s/1", base), .proto = P_H1, .headers = pre};
    resp_t *r = h_req(&g, &rq);
    const char *allowed = resp_header(r, "Access-Control-Allow-Headers");
    (void)(EXPECT_STATUS(r, 204) && CHECK(allowed && strstr(allowed, "If-Match") && strstr(allowed, "If-None-Match"),
                                          "a preflight allows If-Match and If-None-Match: %s", allowed ? allowed : "(none)"));
    resp_free(r);
    const char *const origin[] = {"Origin: http://app.example", NULL};
    rq = (req_t){.method = "GET", .path = base, .token = tok, .proto = P_H1, .headers = origin};
    r = h_req(&g, &rq);
    const char *exposed = resp_header(r, "Access-Control-Expose-Headers");
    (void)(EXPECT_STATUS(r, 200) && CHECK(exposed && strstr(exposed, "ETag"), "ETag is exposed: %s", exposed ? exposed : "(none)"));
    resp_free(r);
    gateway_stop(&g);
}

/* --- writers racing with the same If-Match ------------------------------------------------ */

/* N writers send PATCH with the same If-Match at once, over connections of their own, while the
 * database holds the task's row locked, so that all of them wait on it together: one wins (200),
 * every other finds, under the lock, a newer version (412), and the stored title is the
 * winner's. */
static void test_race(PGconn *db)
{
    enum { N = 6 };
    h_section("%d writers racing with the same If-Match", N);
    const char *user = h_uid("race"), *tok = tok_user(user), *base = h_fmt("/api/%s/tasks", user);
    P = P_H1;
    resp_t *r = call("POST", base, tok, "{\"title\": \"v1\"}", NULL);
    const char *etag = etag_of(r), *id = h_fmt("%lld", (long long)json_integer_value(json_object_get(r->json, "id")));
    resp_free(r);
    /* the lock is held for a while by a statement sent without waiting for it */
    if (!CHECK(
            PQsendQuery(db, h_fmt("begin; select id from todo.tasks where id = %s for update; select pg_sleep(0.5); commit", id)),
            "the admin connection holds the row: %s", PQerrorMessage(db)))
        return;
    h_sleep_ms(100);
    req_t rqs[N];
    const char *headers[N][2];
    for (int i = 0; i < N; i++) {
        headers[i][0] = h_fmt("If-Match: %s", etag), headers[i][1] = NULL;
        rqs[i] = (req_t){.method = "PATCH",
                         .path = h_fmt("%s/%s", base, id),
                         .token = tok,
                         .proto = P_H1,
                         .body = h_fmt("{\"title\": \"writer %d\"}", i),
                         .headers = headers[i]};
    }
    resp_t **rs = h_multi(&gw, rqs, N, 0, N, 30000);
    int won = -1, lost = 0;
    for (int i = 0; i < N; i++) {
        if (rs[i]->status == 200)
            won = won == -1 ? i : -2;
        else
            lost += rs[i]->status == 412 && h_jstr(rs[i]->json, "code") &&
                    strcmp(h_jstr(rs[i]->json, "code"), "precondition_failed") == 0;
    }
    CHECK(won >= 0 && lost == N - 1, "one writer wins and %d get 412 precondition_failed: %d won, %d lost", N - 1, won, lost);
    for (PGresult *res; (res = PQgetResult(db)) != NULL;)
        PQclear(res);
    r = call("GET", h_fmt("%s/%s", base, id), tok, NULL, NULL);
    if (won >= 0)
        (void)(EXPECT_STATUS(r, 200) && EXPECT_JSTR(r, r->json, "title", h_fmt("writer %d", won)));
    resp_free(r);
    for (int i = 0; i < N; i++)
        resp_free(rs[i]);
    free(rs);
}

/* The sections every protocol runs, in order. */
static void (*const sections[])(void) = {test_fields, test_field_validation, test_recurrence, test_list, test_conditional};

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_features");
    PGconn *db = pg_admin();
    if (gateway_start(&gw, NULL) == 0) {
        for (P = P_H1; P <= P_H2C; P++)
            for (size_t i = 0; i < sizeof sections / sizeof *sections; i++)
                sections[i]();
        if (db != NULL)
            test_race(db);
        h_section("shutdown");
        gateway_stop(&gw);
    }
    test_cors();
    if (db != NULL)
        PQfinish(db);
    return h_finish();
}
