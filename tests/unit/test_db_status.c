/* test_db_status: the single SQLSTATE -> HTTP mapping (db/README.md's table). */
#include "check.h"
#include "db.h"

int main(void)
{
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
