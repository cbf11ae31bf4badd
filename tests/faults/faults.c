/* faults.c: see faults.h. */
#define _GNU_SOURCE
#include "faults.h"

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <time.h>

#include "pgadmin.h"

extern char **environ;

/* --- the cluster ---------------------------------------------------------------------- */

pid_t fault_cluster_spawn(const char *action, const char *mode)
{
    const char *script = getenv("FAULT_CLUSTER");
    char *argv[] = {(char *)script, (char *)action, (char *)mode, NULL};
    pid_t pid;
    if (script == NULL || posix_spawn(&pid, script, NULL, NULL, argv, environ) != 0)
        return -1;
    return pid;
}

int fault_cluster_done(pid_t pid, int *ok)
{
    int st;
    if (pid < 0) {
        *ok = 0;
        return 1;
    }
    if (waitpid(pid, &st, WNOHANG) != pid)
        return 0;
    *ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    return 1;
}

int fault_cluster(const char *action, const char *mode)
{
    pid_t pid = fault_cluster_spawn(action, mode);
    int st;
    if (pid < 0 || waitpid(pid, &st, 0) != pid)
        return CHECK(0, "cluster %s %s could not be run (FAULT_CLUSTER=%s)", action, mode ? mode : "", getenv("FAULT_CLUSTER"));
    return CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "cluster %s %s", action, mode ? mode : "");
}

/* --- shots ---------------------------------------------------------------------------- */

void fault_shots_free(shots_t *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

static shot_t *shot_add(shots_t *s)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 256;
        s->v = realloc(s->v, s->cap * sizeof(*s->v));
    }
    shot_t *x = &s->v[s->n++];
    memset(x, 0, sizeof(*x));
    return x;
}

/* A shot on the wire: its easy handle and answer. */
typedef struct flight {
    shot_t *shot;
    size_t index;
    CURL *h;
    resp_t *r;
    struct curl_slist *hl;
    struct timespec t0;
} flight_t;

static void flight_start(CURLM *m, gateway_t *g, flight_t *f, shot_t *shot, size_t index, const struct timespec *origin)
{
    f->shot = shot;
    f->index = index;
    f->h = curl_easy_init();
    f->r = h_resp_new();
    shot->rq.raw = 1;
    f->hl = h_setup_easy(f->h, g, &shot->rq, f->r);
    curl_easy_setopt(f->h, CURLOPT_PRIVATE, (void *)f);
    clock_gettime(CLOCK_MONOTONIC, &f->t0);
    shot->sent_at_ms = h_ms_since(origin);
    curl_multi_add_handle(m, f->h);
}

static void flight_end(CURLM *m, flight_t *f, CURLcode rc)
{
    shot_t *s = f->shot;
    curl_multi_remove_handle(m, f->h);
    h_complete(f->h, &s->rq, f->r, rc);
    /* from the moment its bytes went out (the connection made: waiting for our own connect() is
     * not the gateway's time) to the answer */
    curl_off_t total = 0, pretransfer = 0;
    curl_easy_getinfo(f->h, CURLINFO_TOTAL_TIME_T, &total);
    curl_easy_getinfo(f->h, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
    s->ms = rc == CURLE_OK ? (long)((total - pretransfer) / 1000) : h_ms_since(&f->t0);
    s->status = f->r->status;
    s->body = h_fmt("%s", f->r->body ? f->r->body : "");
    const char *code = h_jstr(f->r->json, "code");
    s->code = code ? h_fmt("%s", code) : NULL;
    s->retry_after = resp_header(f->r, "Retry-After") != NULL;
    const char *replayed = resp_header(f->r, "Idempotent-Replayed");
    s->replayed = replayed != NULL && strcmp(replayed, "true") == 0;
    snprintf(s->err, sizeof(s->err), "%s", f->r->err);
    curl_easy_cleanup(f->h);
    curl_slist_free_all(f->hl);
    resp_free(f->r);
    f->h = NULL;
}

/* Drives m until one transfer ends (or wait_ms pass); ends it and returns its flight, or NULL. */
static flight_t *next_done(CURLM *m, long wait_ms)
{
    for (int round = 0; round < 2; round++) {
        int running, left;
        curl_multi_perform(m, &running);
        CURLMsg *msg;
        while ((msg = curl_multi_info_read(m, &left)) != NULL) {
            if (msg->msg != CURLMSG_DONE)
                continue;
            flight_t *f;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
            flight_end(m, f, msg->data.result);
            return f;
        }
        if (round == 0)
            curl_multi_poll(m, NULL, 0, (int)wait_ms, NULL);
    }
    return NULL;
}

static CURLM *multi_new(void)
{
    CURLM *m = curl_multi_init();
    curl_multi_setopt(m, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
    return m;
}

void fault_write_load(gateway_t *g, proto_t p, const char *user, const char *token, const char *prefix, int writers, long ms,
                      int (*done)(long elapsed_ms, void *arg), void *arg, shots_t *out)
{
    CURLM *m = multi_new();
    flight_t *fl = calloc((size_t)writers, sizeof(*fl));
    int *seq = calloc((size_t)writers, sizeof(*seq)), busy = 0, stop = 0;
    long *resume = calloc((size_t)writers, sizeof(*resume)); /* a writer pauses 50 ms after a failure */
    struct timespec origin;
    const char *path = h_fmt("/api/%s/tasks", user);
    clock_gettime(CLOCK_MONOTONIC, &origin);
    /* each writer's shot is added when it starts: index into out, as out->v moves when it grows */
    while (busy > 0 || !stop) {
        for (int w = 0; w < writers && !stop; w++) {
            if (fl[w].h != NULL || h_ms_since(&origin) < resume[w])
                continue;
            shot_t *s = shot_add(out);
            s->title = h_fmt("%s w%d #%d", prefix, w, seq[w]++);
            s->rq = (req_t){.method = "POST",
                            .path = path,
                            .token = token,
                            .proto = p,
                            .timeout_ms = 30000,
                            .body = h_fmt("{\"title\": \"%s\"}", s->title)};
            flight_start(m, g, &fl[w], s, out->n - 1, &origin);
            busy++;
        }
        for (int w = 0; w < writers; w++) /* out->v may have moved: point each flight at its shot again */
            if (fl[w].h != NULL)
                fl[w].shot = &out->v[fl[w].index];
        flight_t *f = next_done(m, 20);
        if (f != NULL) {
            busy--;
            if (f->shot->status < 200 || f->shot->status > 299)
                resume[f - fl] = h_ms_since(&origin) + 50;
        }
        long elapsed = h_ms_since(&origin);
        stop = stop || elapsed >= ms || (done != NULL && done(elapsed, arg));
    }
    free(fl);
    free(seq);
    free(resume);
    curl_multi_cleanup(m);
}

void fault_burst(gateway_t *g, shots_t *s, size_t max_active, long timeout_ms)
{
    CURLM *m = multi_new();
    flight_t *fl = calloc(s->n, sizeof(*fl));
    size_t next = 0, active = 0, done = 0;
    struct timespec origin;
    clock_gettime(CLOCK_MONOTONIC, &origin);
    if (max_active == 0)
        max_active = s->n;
    while (done < s->n && h_ms_since(&origin) < timeout_ms) {
        while (next < s->n && active < max_active) {
            flight_start(m, g, &fl[next], &s->v[next], next, &origin);
            next++, active++;
        }
        if (next_done(m, 20) != NULL)
            active--, done++;
    }
    for (size_t i = 0; i < next; i++)
        if (fl[i].h != NULL)
            flight_end(m, &fl[i], CURLE_OPERATION_TIMEDOUT);
    free(fl);
    curl_multi_cleanup(m);
}

/* --- counting ------------------------------------------------------------------------- */

const char *fault_by_status(const shots_t *s)
{
    long seen[600] = {0};
    for (size_t i = 0; i < s->n; i++)
        seen[s->v[i].status >= 0 && s->v[i].status < 600 ? s->v[i].status : 0]++;
    const char *out = "";
    for (int st = 0; st < 600; st++)
        if (seen[st] > 0)
            out = h_fmt("%s%s%s x %ld", out, *out ? ", " : "", st == 0 ? "no answer" : h_fmt("%d", st), seen[st]);
    return out;
}

long fault_slowest_ms(const shots_t *s)
{
    long worst = 0;
    for (size_t i = 0; i < s->n; i++)
        if (s->v[i].ms > worst)
            worst = s->v[i].ms;
    return worst;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

void fault_check_writes(PGconn *db, const char *user, const shots_t *s, int allow_no_answer, const char *what)
{
    const char *params[1] = {user};
    PGresult *res = PQexecParams(db, "select title from todo.tasks where user_id = $1", 1, NULL, params, NULL, NULL, 0);
    if (!CHECK(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: the rows can be read: %s", what, PQerrorMessage(db))) {
        PQclear(res);
        return;
    }
    size_t nrows = (size_t)PQntuples(res), found = 0;
    const char **rows = calloc(nrows + 1, sizeof(*rows));
    for (size_t i = 0; i < nrows; i++)
        rows[i] = PQgetvalue(res, (int)i, 0);
    qsort(rows, nrows, sizeof(*rows), cmp_str);
    long acked = 0, lost = 0, refused = 0, refused_ran = 0, unknown = 0, unknown_ran = 0, none = 0, none_ran = 0, odd = 0;
    long no_retry_after = 0, retry_after_on_502 = 0;
    const char *first_odd = NULL;
    for (size_t i = 0; i < s->n; i++) {
        const shot_t *x = &s->v[i];
        if (x->title == NULL)
            continue;
        int ran = bsearch(&x->title, rows, nrows, sizeof(*rows), cmp_str) != NULL;
        found += ran;
        if (x->status >= 200 && x->status < 300) {
            acked++, lost += !ran;
        } else if (x->status == 503 || x->status == 504) {
            refused++, refused_ran += ran;
            no_retry_after += x->status == 503 && !x->retry_after;
        } else if (x->status == 502 && x->code && strcmp(x->code, "outcome_unknown") == 0) {
            unknown++, unknown_ran += ran, retry_after_on_502 += x->retry_after;
        } else if (x->status == 0) {
            none++, none_ran += ran;
        } else if (odd++ == 0) {
            first_odd = h_fmt("%ld %s", x->status, x->body);
        }
    }
    h_diag("%s: %zu answers: %s; slowest %ld ms", what, s->n, fault_by_status(s), fault_slowest_ms(s));
    h_diag("%s: writes acknowledged %ld, rows found for them %ld; 502 %ld (%ld committed); 503/504 %ld (%ld committed); rows in "
           "all %zu",
           what, acked, acked - lost, unknown, unknown_ran, refused, refused_ran, nrows);
    CHECK(lost == 0, "%s: no acknowledged write is lost (%ld of %ld missing)", what, lost, acked);
    CHECK(refused_ran == 0, "%s: no write answered 503/504 was committed (%ld of %ld were)", what, refused_ran, refused);
    CHECK(found == nrows, "%s: every row is one of the writes sent (%zu rows, %zu matched)", what, nrows, found);
    CHECK(odd == 0, "%s: every answer is 2xx, 502 outcome_unknown, 503 or 504 (%ld others; first: %s)", what, odd,
          first_odd ? first_odd : "");
    CHECK(no_retry_after == 0 && retry_after_on_502 == 0, "%s: 503 carries Retry-After (%ld without), 502 does not (%ld with)",
          what, no_retry_after, retry_after_on_502);
    if (!allow_no_answer)
        CHECK(none == 0, "%s: every request got an answer (%ld did not)", what, none);
    else
        CHECK(none_ran == 0, "%s: no request the server closed the connection on without an answer was run (%ld of %ld were)", what,
              none_ran, none);
    free(rows);
    PQclear(res);
}
