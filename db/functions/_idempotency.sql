-- Idempotency-Key (IETF httpapi draft "The Idempotency-Key HTTP Header Field"): the rules.
-- api.begin_request calls todo.claim_idempotency_key with the key and the request's
-- fingerprint; the gateway's statement wrapper passes the route's answer through
-- todo.keep_answer, which stores it when the transaction claimed a key. The state is the
-- table todo.idempotency_keys (migration 0004). Transaction-local settings carry the claim
-- from the first statement of a request to the second:
--   idempotency.key, idempotency.fingerprint, idempotency.status ('' when no key).

-- todo.forget_expired_idempotency_keys: deletes at most max_rows keys older than 24 hours,
-- oldest first, of any user; returns how many. Bounded work, no wait: when another
-- transaction is cleaning already (a transaction-level advisory lock), it does nothing.
-- SECURITY DEFINER (runs as todo_owner, whose policies reach expired keys and nothing
-- else): a user's request cleans up after users who never come back, so no cron is needed.
create or replace function todo.forget_expired_idempotency_keys(max_rows integer default 8)
    returns integer
    language plpgsql
    security definer
    set search_path = ''
    as $$
declare
    forgotten integer;
begin
    if not pg_catalog.pg_try_advisory_xact_lock(pg_catalog.hashtextextended('todo.forget_expired_idempotency_keys', 0)) then
        return 0;
    end if;
    delete from todo.idempotency_keys k
     where k.ctid = any (array(select e.ctid from todo.idempotency_keys e
                                where e.created_at < pg_catalog.now() - interval '24 hours'
                                order by e.created_at limit max_rows));
    get diagnostics forgotten = row_count;
    return forgotten;
end
$$;

-- todo.claim_idempotency_key: the Idempotency-Key rules, for the current user and transaction.
--   key null: no key; the transaction stores nothing (requests without the header behave as
--   if the feature did not exist).
--   Otherwise, in this order:
--   - PT401 when no user is set (a key is always some user's);
--   - PT422 validation_failed (loc ["header", "Idempotency-Key"]) unless 1 to 255 printable
--     ASCII characters (the gateway checks it first; this is the same rule for psql users);
--   - PT409 idempotency_key_in_flight when another transaction holds the same user's key:
--     pg_try_advisory_xact_lock, never a wait (the lock is held until this transaction ends);
--   - a stored answer, less than 24 hours old: with another fingerprint, PT422
--     idempotency_key_reused; with the same one, SQLSTATE IDRPL ("replay") whose DETAIL is
--     {"status": n, "body": "<the JSON text>", "location": "<id>" or null, "etag": "<ETag>" or
--     null} (gw_db_replay_decode reads it): the error ends
--     the transaction, so the route's statement after begin_request never runs;
--   - else the claim is recorded for todo.keep_answer (status: the HTTP status the gateway
--     answers on success, stored with the answer).
-- fingerprint and status come from the gateway; a key without them is a bug (22004, HTTP 500).
-- Each call also forgets a few expired keys (todo.forget_expired_idempotency_keys).
create or replace function todo.claim_idempotency_key(key text, fingerprint text, status integer)
    returns void
    language plpgsql
    set search_path = ''
    as $$
declare
    uid text := todo.current_user_id();
    stored todo.idempotency_keys;
begin
    perform pg_catalog.set_config('idempotency.key', '', true);
    perform pg_catalog.set_config('idempotency.fingerprint', '', true);
    perform pg_catalog.set_config('idempotency.status', '', true);
    if key is null then
        return;
    end if;
    if uid is null then
        perform todo.fail(401, 'unauthorized', 'an Idempotency-Key needs a user');
    end if;
    if key !~ '^[\x20-\x7e]{1,255}$' then
        perform todo.fail_validation(jsonb_build_array(todo.problem('header', 'Idempotency-Key',
            'must be 1 to 255 printable ASCII characters', 'value_error')));
    end if;
    if fingerprint is null or fingerprint = '' or status is null then
        raise exception using errcode = 'null_value_not_allowed',
            message = 'todo.claim_idempotency_key: a key needs the request''s fingerprint and success status';
    end if;
    perform todo.forget_expired_idempotency_keys();
    if not pg_catalog.pg_try_advisory_xact_lock(
            pg_catalog.hashtextextended(char_length(uid)::text || ':' || uid || key, 0)) then
        perform todo.fail(409, 'idempotency_key_in_flight',
            'a request with this Idempotency-Key is still running; retry when it has finished');
    end if;
    select * into stored from todo.idempotency_keys k
     where k.user_id = uid and k.key = claim_idempotency_key.key
       and k.created_at >= pg_catalog.now() - interval '24 hours';
    if found and stored.request_fingerprint <> fingerprint then
        perform todo.fail(422, 'idempotency_key_reused',
            'this Idempotency-Key was used with another request (method, path or body)');
    elsif found then
        raise exception using errcode = 'IDRPL',
            message = 'replayed: the answer stored for this Idempotency-Key',
            detail = json_build_object('status', stored.status, 'body', stored.body, 'location', stored.location,
                                       'etag', stored.etag)::text;
    end if;
    perform pg_catalog.set_config('idempotency.key', key, true);
    perform pg_catalog.set_config('idempotency.fingerprint', fingerprint, true);
    perform pg_catalog.set_config('idempotency.status', status::text, true);
end
$$;

-- todo.keep_answer: body, unchanged; when the transaction claimed an Idempotency-Key
-- (todo.claim_idempotency_key), it also stores the answer under it: the status claimed,
-- body (the JSON text the gateway sends), location (the new task's id, '' or null when
-- none) and etag (the ETag the answer carries, '' or null when none), in this same
-- transaction, so the answer is kept exactly when the write commits. An expired answer
-- still under the key (not yet forgotten) is replaced. The gateway's statement wrapper calls
-- it only when idempotency.key is set (routes.c), so requests without a key never call it.
create or replace function todo.keep_answer(body text, location text, etag text)
    returns text
    language plpgsql
    set search_path = ''
    as $$
declare
    claimed text := pg_catalog.current_setting('idempotency.key', true);
begin
    if claimed is null or claimed = '' then
        return body;
    end if;
    insert into todo.idempotency_keys as k (user_id, key, request_fingerprint, status, body, location, etag)
    values (todo.current_user_id(), claimed, pg_catalog.current_setting('idempotency.fingerprint'),
            pg_catalog.current_setting('idempotency.status')::integer, keep_answer.body, nullif(keep_answer.location, ''),
            nullif(keep_answer.etag, ''))
    on conflict on constraint idempotency_keys_pkey do update
        set request_fingerprint = excluded.request_fingerprint, status = excluded.status, body = excluded.body,
            location = excluded.location, etag = excluded.etag, created_at = pg_catalog.now()
        where k.created_at < pg_catalog.now() - interval '24 hours';
    return body;
end
$$;

revoke all on function todo.forget_expired_idempotency_keys(integer) from public;
revoke all on function todo.claim_idempotency_key(text, text, integer) from public;
revoke all on function todo.keep_answer(text, text, text) from public;
grant execute on function todo.forget_expired_idempotency_keys(integer) to todo_gateway, todo_admin;
grant execute on function todo.claim_idempotency_key(text, text, integer) to todo_gateway, todo_admin;
grant execute on function todo.keep_answer(text, text, text) to todo_gateway, todo_admin;
