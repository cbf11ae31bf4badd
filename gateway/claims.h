/* claims.h: JWT claim values (RFC 7519): NumericDate, and the comparisons of a moment with
 * the current time under a leeway. Pure; unit-tested through tests/unit/test_auth.c. */
#ifndef GW_CLAIMS_H
#define GW_CLAIMS_H

#include <jansson.h>
#include <stdint.h>

/* A NumericDate (RFC 7519 section 2): a JSON number of seconds since the epoch, an integer
 * or not ("non-integer values can be represented"). Returns 1 and the value in *out, or 0
 * when v is not a number (a string, null, a boolean, absent). */
int gw_claims_numeric_date(const json_t *v, double *out);

/* t + leeway < now: the moment has passed, beyond the leeway (in doubles: no overflow). */
int gw_claims_is_past(double t, int64_t leeway, int64_t now);

/* t > now + leeway: the moment is still to come, beyond the leeway. */
int gw_claims_is_future(double t, int64_t leeway, int64_t now);

/* A NumericDate as whole seconds, rounded down and kept within int64_t. */
int64_t gw_claims_whole_seconds(double t);

#endif
