#include "claims.h"

#include <math.h>

int gw_claims_numeric_date(const json_t *v, double *out)
{
    if (!json_is_number(v))
        return 0;
    *out = json_number_value(v);
    return 1;
}

int gw_claims_is_past(double t, int64_t leeway, int64_t now)
{
    return t + (double)leeway < (double)now;
}

int gw_claims_is_future(double t, int64_t leeway, int64_t now)
{
    return t > (double)now + (double)leeway;
}

int64_t gw_claims_whole_seconds(double t)
{
    return t >= 9.2e18 ? INT64_MAX : t <= -9.2e18 ? INT64_MIN : (int64_t)floor(t);
}
