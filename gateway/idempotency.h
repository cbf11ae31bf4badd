/* idempotency.h: the Idempotency-Key request header (IETF httpapi draft "The
 * Idempotency-Key HTTP Header Field"; Stripe's API works the same way), as far as the gateway
 * goes: which requests take it, its syntax, and the request's fingerprint. The rules (replay,
 * 409 in flight, 422 reused, 24 hours) live in the database (db/functions/_idempotency.sql). */
#ifndef GW_IDEMPOTENCY_H
#define GW_IDEMPOTENCY_H

#include "db.h"
#include "respond.h"

/* For a request whose route takes an Idempotency-Key (gw_routes_takes_idempotency_key): with
 * no such header, returns 0; with one of 1 to 255 printable ASCII characters (taken as it is:
 * the draft's quoted Structured Field string keeps its quotes), sets call->idempotency_key and
 * call->fingerprint (SHA-256 of the method, the request target as sent and the body, hex; in
 * req->pool) and returns 0; with a malformed key, or two of them, answers 422
 * validation_failed (loc ["header", "Idempotency-Key"]) and returns 1. */
int gw_idempotency_check(gw_exchange_t *x, gw_db_call_t *call);

#endif
