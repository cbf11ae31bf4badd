/* test_db_status: the single SQLSTATE -> HTTP mapping (db/README.md's table). */
#include "check.h"
#include "db.h"

/* The replay of an Idempotency-Key: the stored answer, decoded from the error's DETAIL. */
static void test_replay(void)
{
    h2o_mem_pool_t pool;
    gw_db_reply_t reply = {.status = 500};
    h2o_mem_init_pool(&pool);
    CHECK(strcmp(GW_DB_SQLSTATE_REPLAY, "IDRPL") == 0);
    CHECK_EQ(gw_db_status_for_sqlstate(GW_DB_SQLSTATE_REPLAY), 500); /* never mapped as a failure: db.c decodes it */
    CHECK_EQ(gw_db_replay_decode("{\"status\": 201, \"body\": \"{\\\"id\\\": 42}\", \"location\": \"42\", \"etag\": \"\\\"abc\\\"\"}",
                                 &pool, &reply),
             0);
    CHECK_EQ(reply.status, 0);
    CHECK_EQ(reply.replayed, 201);
    CHECK(reply.cols[0].len == 10 && memcmp(reply.cols[0].base, "{\"id\": 42}", 10) == 0); /* the very text stored */
    CHECK(reply.cols[1].len == 2 && memcmp(reply.cols[1].base, "42", 2) == 0);
    CHECK(reply.cols[2].base == NULL);
    CHECK(reply.cols[3].len == 5 && memcmp(reply.cols[3].base, "\"abc\"", 5) == 0); /* the ETag kept with it */
    CHECK_EQ(gw_db_replay_decode("{\"status\": 204, \"body\": \"null\", \"location\": null, \"etag\": null}", &pool, &reply), 0);
    CHECK(reply.replayed == 204 && reply.cols[1].base == NULL && reply.cols[3].base == NULL);
    /* anything else is not a replay (db.c then answers 500) */
    gw_db_reply_t untouched = {.status = 500};
    CHECK_EQ(gw_db_replay_decode(NULL, &pool, &untouched), -1);
    CHECK_EQ(gw_db_replay_decode("not json", &pool, &untouched), -1);
    CHECK_EQ(gw_db_replay_decode("{\"status\": 404, \"body\": \"{}\", \"location\": null}", &pool, &untouched), -1);
    CHECK_EQ(gw_db_replay_decode("{\"status\": \"201\", \"body\": \"{}\", \"location\": null}", &pool, &untouched), -1);
    CHECK_EQ(gw_db_replay_decode("{\"status\": 200, \"body\": {}, \"location\": null}", &pool, &untouched), -1);
    CHECK_EQ(gw_db_replay_decode("{\"status\": 200, \"body\": \"{}\"}", &pool, &untouched), -1);
    /* todo.keep_answer always stores the ETag, null or not: without it, it is not a stored answer */
    CHECK_EQ(gw_db_replay_decode("{\"status\": 200, \"body\": \"{}\", \"location\": null}", &pool, &untouched), -1);
    CHECK_EQ(gw_db_replay_decode("{\"status\": 200, \"body\": \"{}\", \"location\": null, \"etag\": 7}", &pool, &untouched), -1);
    CHECK_EQ(untouched.status, 500);
    CHECK_EQ(untouched.replayed, 0);
    h2o_mem_clear_pool(&pool);
}

int main(void)
{
    test_replay();
    /* PTnnn is HTTP nnn */
    CHECK_EQ(gw_db_status_for_sqlstate("PT400"), 400);
    CHECK_EQ(gw_db_status_for_sqlstate("PT401"), 401);
    CHECK_EQ(gw_db_status_for_sqlstate("PT404"), 404);
    CHECK_EQ(gw_db_status_for_sqlstate("PT409"), 409);
    CHECK_EQ(gw_db_status_for_sqlstate("PT422"), 422);
    CHECK_EQ(gw_db_status_for_sqlstate("PT503"), 503);
    CHECK_EQ(gw_db_status_for_sqlstate("PT600"), 500); /* not an HTTP status */
    CHECK_EQ(gw_db_status_for_sqlstate("PT099"), 500);
    CHECK_EQ(gw_db_status_for_sqlstate("PTabc"), 500);
    /* standard codes */
    /* input that does not parse is named by the function that parses it (PT400, PT422):
     * a cast error reaching the gateway is a bug, never blamed on the body */
    CHECK_EQ(gw_db_status_for_sqlstate("22P02"), 500);
    CHECK_EQ(gw_db_status_for_sqlstate("22P05"), 500);
    CHECK_EQ(gw_db_status_for_sqlstate("22021"), 500);
    CHECK_EQ(gw_db_status_for_sqlstate("54001"), 500);
    CHECK_EQ(gw_db_status_for_sqlstate("23505"), 409);
    CHECK_EQ(gw_db_status_for_sqlstate("23514"), 422);
    CHECK_EQ(gw_db_status_for_sqlstate("23502"), 422);
    CHECK_EQ(gw_db_status_for_sqlstate("42501"), 403);
    CHECK_EQ(gw_db_status_for_sqlstate("57014"), 504);
    CHECK_EQ(gw_db_status_for_sqlstate("40001"), 503);
    CHECK_EQ(gw_db_status_for_sqlstate("40P01"), 503);
    CHECK_EQ(gw_db_status_for_sqlstate("08006"), 503);
    CHECK_EQ(gw_db_status_for_sqlstate("08001"), 503);
    CHECK_EQ(gw_db_status_for_sqlstate("53300"), 503);
    CHECK_EQ(gw_db_status_for_sqlstate("57P01"), 503);
    /* anything else is a 500, never a client status */
    CHECK_EQ(gw_db_status_for_sqlstate("P0001"), 500); /* a bare raise exception */
    CHECK_EQ(gw_db_status_for_sqlstate("42883"), 500); /* undefined function */
    CHECK_EQ(gw_db_status_for_sqlstate("42P01"), 500);
    CHECK_EQ(gw_db_status_for_sqlstate("XX000"), 500);
    CHECK_EQ(gw_db_status_for_sqlstate(""), 500);
    CHECK_EQ(gw_db_status_for_sqlstate(NULL), 500);
    CHECK_EQ(gw_db_status_for_sqlstate("PT4040"), 500);
    return check_report("test_db_status");
}
