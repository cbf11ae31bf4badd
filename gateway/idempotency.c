/* idempotency.c: see idempotency.h. */
#include "idempotency.h"

#include <string.h>

#include "text.h"

#define HEADER "idempotency-key"
#define PROBLEM "must be 1 to 255 printable ASCII characters"

int gw_idempotency_check(gw_exchange_t *x, gw_db_call_t *call)
{
    static const char invalid[] = "{\"detail\":[{\"loc\":[\"header\",\"Idempotency-Key\"],\"msg\":\"" PROBLEM "\","
                                  "\"type\":\"value_error\"}],\"code\":\"validation_failed\","
                                  "\"message\":\"Idempotency-Key: " PROBLEM "\"}";
    h2o_req_t *req = x->req;
    ssize_t i = h2o_find_header_by_str(&req->headers, H2O_STRLIT(HEADER), -1);
    if (i < 0)
        return 0;
    h2o_iovec_t key = req->headers.entries[i].value;
    if (!gw_text_is_idempotency_key(key.base, key.len) || h2o_find_header_by_str(&req->headers, H2O_STRLIT(HEADER), i) >= 0) {
        gw_respond_error(x, 422, h2o_iovec_init(invalid, sizeof(invalid) - 1));
        return 1;
    }
    /* method and target hold no line feed (HTTP forbids it), so the parts cannot run into each other */
    gw_str_t parts[] = {{req->input.method.base, req->input.method.len},
                        {"\n", 1},
                        {req->input.path.base, req->input.path.len},
                        {"\n", 1},
                        {req->entity.base, req->entity.len}};
    char fingerprint[65];
    if (gw_text_sha256_hex(parts, sizeof(parts) / sizeof(parts[0]), fingerprint) != 0) {
        gw_respond_error(x, 500, h2o_iovec_init(NULL, 0));
        return 1;
    }
    call->idempotency_key = h2o_strdup(&req->pool, key.base, key.len).base;
    call->fingerprint = h2o_strdup(&req->pool, fingerprint, 64).base;
    return 0;
}
