-- api.begin_request: the first statement of every request the gateway sends to the database
-- (one transaction per request). In this order:
--   deadline: the instant, in this database's clock, by which the gateway must have the answer
--     (its arrival + DB_STATEMENT_TIMEOUT; null: none). Already past: PT503 unavailable, and
--     nothing runs (the request waited in the gateway's queue or behind a slow statement on its
--     connection; certainly not executed, safe to retry). Otherwise statement_timeout becomes
--     what remains (in milliseconds, at least 1) for the rest of this transaction, so a request
--     queued behind a slow one fails at its own deadline, not a full timeout after it started.
--   user_id: sets app.user_id for this transaction only; null sets no user (the routes without
--     a token: register, login, readyz), '' or more than 255 characters is PT401. issued_at is
--     the token's iat in seconds since the epoch, null when it had none: a token issued at or
--     before the user's last logout is PT401.
--   idempotency_key, request_fingerprint, success_status: the Idempotency-Key rules
--     (todo.claim_idempotency_key: PT409 in flight, PT422 reused, SQLSTATE IDRPL replay); all
--     null when the request carried no key.
-- SECURITY INVOKER: the revocation row it reads is the user's own, visible once the user is set.
create or replace function api.begin_request(
        user_id text,
        issued_at bigint default null,
        deadline timestamptz default null,
        idempotency_key text default null,
        request_fingerprint text default null,
        success_status integer default null)
    returns void
    language plpgsql
    set search_path = ''
    as $$
declare
    valid_after timestamptz;
    remaining interval;
begin
    if deadline is not null then
        remaining := deadline - clock_timestamp();
        if remaining <= interval '0' then
            perform todo.fail(503, 'unavailable', 'the request''s deadline passed before the database could start it');
        end if;
        perform set_config('statement_timeout', greatest(1, ceil(extract(epoch from remaining) * 1000))::bigint::text, true);
    end if;
    if user_id is null then
        perform set_config('app.user_id', '', true);
    else
        if user_id = '' or char_length(user_id) > 255 then
            perform todo.fail(401, 'unauthorized', 'invalid token');
        end if;
        perform set_config('app.user_id', user_id, true);
        select r.tokens_valid_after into valid_after from todo.revocations r where r.user_id = begin_request.user_id;
        if found and (issued_at is null or issued_at <= floor(extract(epoch from valid_after))) then
            perform todo.fail(401, 'unauthorized', 'token has been revoked');
        end if;
    end if;
    -- (without a key, and none claimed earlier in this transaction, there is nothing to do)
    if idempotency_key is not null or current_setting('idempotency.key', true) <> '' then
        perform todo.claim_idempotency_key(idempotency_key, request_fingerprint, success_status);
    end if;
end
$$;

revoke all on function api.begin_request(text, bigint, timestamptz, text, text, integer) from public;
grant execute on function api.begin_request(text, bigint, timestamptz, text, text, integer) to todo_gateway, todo_admin;
