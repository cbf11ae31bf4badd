/* test_processes: many gateways, one database. Two gateway processes listen on one port
 * (SO_REUSEPORT) against the same database; requests over many connections, from four users,
 * are answered correctly whichever process takes them, and both processes serve: each
 * request carries its own X-Request-Id, and every id is in exactly one process's access log. */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#define USERS 4
#define CREATES 160 /* tasks created, spread over the users */
#define CONNECTIONS 24

/* Waits (10 s at most) until a gateway that shares a port with another says it listens: its
 * /healthz may be answered by the other, so gateway_start alone does not prove it is up. */
static int wait_listening(gateway_t *g)
{
    for (int i = 0; i < 200; i++) {
        if (strstr(gateway_output(g), "listening on") != NULL)
            return 1;
        int st;
        if (gateway_wait_exit(g, 50, &st))
            return 0;
    }
    return 0;
}

/* The header list of request i: X-Request-Id rid-<i> (kept until the end). */
static const char *const *rid_header(int i)
{
    const char **h = (const char **)h_keep(calloc(2, sizeof *h));
    h[0] = h_fmt("X-Request-Id: rid-%d", i);
    return h;
}

/* How many of the request ids rid-<0..n-1> the access log shows; marks them in seen. */
static int count_ids(const char *log, int n, int *seen)
{
    int found = 0;
    for (int i = 0; i < n; i++) {
        const char *id = h_fmt("id=rid-%d", i); /* then a space (the plain line goes on) or the line's end */
        const char *at = log;
        while ((at = strstr(at, id)) != NULL && at[strlen(id)] != ' ' && at[strlen(id)] != '\n')
            at += strlen(id);
        if (at != NULL) {
            found++;
            seen[i]++;
        }
    }
    return found;
}

int main(int argc, char **argv)
{
    h_init(argc, argv, "test_processes");
    int port = h_free_port();
    const char *const env[] = {h_fmt("PORT=%d", port), "GATEWAY_THREADS=1", "LOG_LEVEL=info", NULL};
    gateway_t a, b;

    h_section("two processes on one port");
    if (gateway_start(&a, env) != 0)
        return h_finish();
    if (!CHECK(wait_listening(&a), "the first process listens on %d: %.300s", port, gateway_output(&a)) ||
        gateway_start(&b, env) != 0) {
        gateway_kill(&a);
        return h_finish();
    }
    CHECK(b.port == a.port && wait_listening(&b), "the second process listens on the same port %d too: %.300s", port,
          gateway_output(&b));

    const char *users[USERS], *tokens[USERS];
    for (int u = 0; u < USERS; u++)
        users[u] = h_uid("proc"), tokens[u] = tok_user(users[u]);

    h_section("%d creates from %d users over %d connections", CREATES, USERS, CONNECTIONS);
    int total = CREATES + USERS;
    req_t *reqs = calloc((size_t)total, sizeof *reqs);
    for (int i = 0; i < CREATES; i++) {
        int u = i % USERS;
        reqs[i] = (req_t){.method = "POST",
                          .path = h_fmt("/api/%s/tasks", users[u]),
                          .token = tokens[u],
                          .body = h_fmt("{\"title\":\"%s task %d\"}", users[u], i),
                          .headers = rid_header(i),
                          .proto = P_H1};
    }
    resp_t **rs = h_multi(&a, reqs, CREATES, 0, CONNECTIONS, 60000);
    int right = 0;
    for (int i = 0; i < CREATES; i++) {
        int u = i % USERS;
        right += rs[i]->status == 201 && h_jstr(rs[i]->json, "user_id") != NULL &&
                 strcmp(h_jstr(rs[i]->json, "user_id"), users[u]) == 0 &&
                 strcmp(h_jstr(rs[i]->json, "title"), h_fmt("%s task %d", users[u], i)) == 0;
        if (rs[i]->status != 201)
            CHECK(0, "create %d: 201: %s", i, resp_brief(rs[i]));
        resp_free(rs[i]);
    }
    free(rs);
    CHECK(right == CREATES, "every create is 201 with its own user and title (%d of %d)", right, CREATES);

    h_section("each user's list, whichever process answers");
    for (int u = 0; u < USERS; u++)
        reqs[CREATES + u] = (req_t){.path = h_fmt("/api/%s/tasks?limit=1000", users[u]),
                                    .token = tokens[u],
                                    .headers = rid_header(CREATES + u),
                                    .proto = P_H1};
    rs = h_multi(&a, reqs + CREATES, USERS, 0, USERS, 30000);
    for (int u = 0; u < USERS; u++) {
        long n = h_jlen(rs[u]), own = 0;
        for (long k = 0; k < n; k++)
            own += strcmp(h_jstr(json_array_get(rs[u]->json, (size_t)k), "user_id"), users[u]) == 0;
        CHECK(rs[u]->status == 200 && n == CREATES / USERS && own == n, "user %d sees exactly its %d tasks (%ld, %ld its own): %s",
              u, CREATES / USERS, n, own, resp_brief(rs[u]));
        resp_free(rs[u]);
    }
    free(rs);
    free(reqs);

    h_section("both processes served");
    h_sleep_ms(200); /* the access-log lines are written as the answers leave */
    int *seen = calloc((size_t)total, sizeof *seen);
    int by_a = count_ids(gateway_output(&a), total, seen), by_b = count_ids(gateway_output(&b), total, seen);
    int once = 0;
    for (int i = 0; i < total; i++)
        once += seen[i] == 1;
    free(seen);
    CHECK(by_a > 0 && by_b > 0, "both processes answered requests (%d and %d of %d)", by_a, by_b, total);
    CHECK(once == total, "every request was answered by exactly one process (%d of %d)", once, total);

    h_section("one process stops, the other serves on");
    gateway_stop(&a);
    for (int i = 0; i < 8; i++) {
        resp_t *r = h_get(&b, P_H1, h_fmt("/api/%s/tasks?limit=1", users[0]), tokens[0]);
        EXPECT_STATUS(r, 200);
        resp_free(r);
    }
    gateway_stop(&b);
    return h_finish();
}
