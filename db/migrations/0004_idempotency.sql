-- 0004: Idempotency-Key (IETF httpapi draft "The Idempotency-Key HTTP Header Field"; Stripe's
-- API works the same way). The first successful answer to a task write that carried the
-- header is stored here, in the same transaction as the write itself, so that a retry with
-- the same key gets that answer again (with Idempotent-Replayed: true) and changes nothing.
-- Applied once by db/migrate (as todo_owner); 0001 and 0002 are never edited again.
--
-- The rules are PL/pgSQL (db/functions/_idempotency.sql, called by api.begin_request and by
-- the gateway's statement wrapper): this file only holds the state.

-- One row per (user, key): a key is the user's own, so alice's key never replays for bob,
-- and the key holds user_id like every key of a user table (tests/09_citus_keys.test.sql).
-- request_fingerprint: what the gateway computed from the method, the request target and the
-- body (SHA-256, hex): the same key with another request is refused (422). status, body and
-- location: the answer as the gateway sent it (the JSON body's text, 'null' for a 204; the new
-- task's id for Location). Only successful answers are stored: an error rolls the effect back
-- with the rest of the transaction, and a retry runs again and meets the same error.
-- created_at: a key expires 24 hours after it (Stripe's rule); expired rows are forgotten by
-- todo.forget_expired_idempotency_keys, a few per keyed request, and never replayed meanwhile.
create table todo.idempotency_keys (
    user_id             text not null default todo.current_user_id(),
    key                 text not null,
    request_fingerprint text not null,
    status              integer not null,
    body                text,
    location            text,
    etag                text,
    created_at          timestamptz not null default now(),
    constraint idempotency_keys_pkey primary key (user_id, key),
    constraint idempotency_keys_key_valid check (key ~ '^[\x20-\x7e]{1,255}$'),
    constraint idempotency_keys_status_success check (status between 200 and 299)
);

-- The cleanup takes the oldest expired rows first, whoever they belong to.
create index idempotency_keys_created_at_idx on todo.idempotency_keys (created_at);

alter table todo.idempotency_keys enable row level security;
alter table todo.idempotency_keys force row level security;

-- A user reaches only their own keys; nobody set, nothing reached.
create policy "users see their own idempotency keys" on todo.idempotency_keys
    for select to todo_gateway, todo_admin using (user_id = (select todo.current_user_id()));
create policy "users store answers only under their own keys" on todo.idempotency_keys
    for insert to todo_gateway, todo_admin with check (user_id = (select todo.current_user_id()));
create policy "users reuse only their own keys" on todo.idempotency_keys
    for update to todo_gateway, todo_admin using (user_id = (select todo.current_user_id()))
    with check (user_id = (select todo.current_user_id()));
-- The cleanup (SECURITY DEFINER, runs as todo_owner) finds and deletes expired keys of any
-- user, and nothing else.
create policy "the cleanup finds expired keys" on todo.idempotency_keys
    for select to todo_owner using (created_at < now() - interval '24 hours');
create policy "the cleanup deletes expired keys" on todo.idempotency_keys
    for delete to todo_owner using (created_at < now() - interval '24 hours');

revoke all on todo.idempotency_keys from public;
grant select, insert, update on todo.idempotency_keys to todo_gateway, todo_admin;
