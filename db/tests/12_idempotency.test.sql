-- Idempotency-Key: the table (forced row-level security, keyed by (user_id, key)) and the
-- stories, acted as the gateway acts: one request is api.begin_request with the key, the
-- request's fingerprint and the status it answers on success, then the route's function
-- through the gateway's wrapper (todo.keep_answer when a key was claimed), as one unit that
-- an error undoes whole (pg_temp.request below: a subtransaction stands in for the
-- gateway's one transaction per request). alice's key never replays for bob; a retry
-- replays the stored answer and runs nothing; the same key with another request is 422; an
-- error stores nothing; keys expire after 24 hours and are forgotten a few at a time.
-- "In flight" (409) needs a second session holding the key and is told by tests/http
-- (test_idempotency): a session never conflicts with its own locks.
BEGIN;
SELECT plan(40);

-- a clean slate for alice and bob, as postgres
\ir clean_slate.psql

-- pg_temp.request: one request as the gateway sends it. Returns {"answer": <what the
-- gateway would send>} or, when a statement raised, {"sqlstate", "detail"} and nothing of
-- the request stays.
CREATE FUNCTION pg_temp.request(user_id text, key text, fingerprint text, status integer, call text) RETURNS jsonb
    LANGUAGE plpgsql AS $$
DECLARE
    answer text;
    state text;
    detail text;
BEGIN
    PERFORM api.begin_request(user_id, NULL, NULL, key, fingerprint, status);
    EXECUTE format($q$SELECT CASE WHEN current_setting('idempotency.key', true) > ''
                                  THEN todo.keep_answer(b::text, current_setting('response.location', true),
                                                        current_setting('response.etag', true))
                                  ELSE b::text END
                        FROM %s b$q$, call) INTO answer;
    RETURN jsonb_build_object('answer', answer);
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, detail = PG_EXCEPTION_DETAIL;
    RETURN jsonb_build_object('sqlstate', state, 'detail', detail);
END $$;

-- the table ----------------------------------------------------------------------------------

SELECT columns_are('todo', 'idempotency_keys',
                   ARRAY['user_id', 'key', 'request_fingerprint', 'status', 'body', 'location', 'etag', 'created_at'],
                   'todo.idempotency_keys has exactly the columns of a stored answer');
SELECT col_is_pk('todo', 'idempotency_keys', ARRAY['user_id', 'key'], 'a key is keyed by (user_id, key): a key is one user''s');
SELECT ok((SELECT relrowsecurity AND relforcerowsecurity FROM pg_class WHERE oid = 'todo.idempotency_keys'::regclass),
          'row-level security is enabled and forced on todo.idempotency_keys');
SELECT policies_are('todo', 'idempotency_keys', ARRAY[
    'users see their own idempotency keys', 'users store answers only under their own keys', 'users reuse only their own keys',
    'the cleanup finds expired keys', 'the cleanup deletes expired keys'], 'todo.idempotency_keys has exactly its five policies');
SELECT policy_roles_are('todo', 'idempotency_keys', 'the cleanup deletes expired keys', ARRAY['todo_owner'],
                        'only todo_owner (the cleanup) deletes keys');
SELECT table_privs_are('todo', 'idempotency_keys', 'todo_gateway', ARRAY['SELECT', 'INSERT', 'UPDATE'],
                       'todo_gateway may select, insert and update keys, never delete one');
SELECT has_index('todo', 'idempotency_keys', 'idempotency_keys_created_at_idx', 'created_at',
                 'the cleanup finds the oldest keys by an index on created_at');
SELECT is_definer('todo', 'forget_expired_idempotency_keys', ARRAY['integer'],
                  'todo.forget_expired_idempotency_keys is SECURITY DEFINER: it forgets the keys of any user');

SET LOCAL ROLE todo_gateway;

-- as alice: a keyed create, and its retry ----------------------------------------------------

SELECT pg_temp.request('alice', 'order-1', 'fp-milk', 201, $$api.create_task('{"title": "Buy milk"}')$$)->>'answer' AS first \gset
SELECT api.begin_request('alice');
SELECT is((SELECT count(*) FROM todo.tasks WHERE title = 'Buy milk'), 1::bigint, 'alice''s keyed create made one task');
SELECT results_eq($$SELECT status, body, location FROM todo.idempotency_keys WHERE key = 'order-1'$$,
                  format($$VALUES (201, %L::text, %L::text)$$, :'first', :'first'::json->>'id'),
                  'the answer is stored with the task, in the same transaction: status 201, the body, the id for Location');

SELECT pg_temp.request('alice', 'order-1', 'fp-milk', 201, $$api.create_task('{"title": "Buy milk"}')$$) AS retry \gset
SELECT is(:'retry'::jsonb->>'sqlstate', 'IDRPL', 'alice''s retry with the same key and request is a replay (SQLSTATE IDRPL)');
SELECT is((:'retry'::jsonb->>'detail')::jsonb,
          jsonb_build_object('status', 201, 'body', :'first', 'location', :'first'::json->>'id',
                             'etag', format('"%s.', :'first'::json->>'id')
                                     || (SELECT split_part(etag, '.', 2) FROM todo.idempotency_keys WHERE key = 'order-1')),
          'the replay carries the stored status, body (the very text), location and the task''s ETag');
SELECT api.begin_request('alice');
SELECT is((SELECT count(*) FROM todo.tasks WHERE title = 'Buy milk'), 1::bigint,
          'the retry ran nothing: alice still has one such task');

SELECT pg_temp.request('alice', 'order-1', 'fp-bread', 201, $$api.create_task('{"title": "Buy bread"}')$$) AS reused \gset
SELECT is(:'reused'::jsonb->>'sqlstate', 'PT422', 'alice''s key with another request is refused with 422');
SELECT is((:'reused'::jsonb->>'detail')::jsonb->>'code', 'idempotency_key_reused', '... code idempotency_key_reused');
SELECT api.begin_request('alice');
SELECT is((SELECT count(*) FROM todo.tasks WHERE title = 'Buy bread'), 0::bigint, 'the reused key created nothing');

-- as bob (stranger): the same key is his own ------------------------------------------------

SELECT pg_temp.request('bob', 'order-1', 'fp-milk', 201, $$api.create_task('{"title": "Buy milk"}')$$) AS bob_first \gset
SELECT ok(:'bob_first'::jsonb ? 'answer', 'bob''s request with alice''s key and the very same request runs: not a replay');
SELECT is((:'bob_first'::jsonb->>'answer')::json->>'user_id', 'bob', '... and makes bob''s own task');
SELECT is(((pg_temp.request('bob', 'order-1', 'fp-milk', 201, $$api.create_task('{"title": "Buy milk"}')$$)
            ->>'detail')::jsonb->>'body'), :'bob_first'::jsonb->>'answer',
          'bob''s retry replays bob''s answer, never alice''s');
SELECT api.begin_request('bob');
SELECT is((SELECT count(*) FROM todo.idempotency_keys), 1::bigint, 'bob sees his one key, not alice''s');
SELECT throws_ok($$INSERT INTO todo.idempotency_keys (user_id, key, request_fingerprint, status, body)
                  VALUES ('alice', 'planted', 'fp', 200, '{}')$$, '42501', NULL,
                 'bob cannot store an answer under alice''s name');
SELECT is((SELECT count(*) FROM todo.idempotency_keys WHERE user_id = 'alice'), 0::bigint, 'bob cannot read alice''s keys');
SELECT api.begin_request('alice');
SELECT is((SELECT count(*) FROM todo.idempotency_keys), 1::bigint, 'alice sees her one key');

-- as nobody
SELECT api.begin_request(NULL);
SELECT is_empty('SELECT * FROM todo.idempotency_keys', 'nobody reads no key');
SELECT is(pg_temp.request(NULL, 'order-1', 'fp-milk', 201, 'api.me()')->>'sqlstate', 'PT401', 'a key needs a user');

-- errors are not stored; without a key nothing is stored ------------------------------------

SELECT is(pg_temp.request('alice', 'order-2', 'fp-put', 200, $$api.update_task(0, '{"title": "x"}')$$)->>'sqlstate', 'PT404',
          'alice''s keyed update of a task that does not exist is a 404');
SELECT is(pg_temp.request('alice', 'order-2', 'fp-put', 200, $$api.update_task(0, '{"title": "x"}')$$)->>'sqlstate', 'PT404',
          'its retry runs again and meets the same 404: only successful answers are stored');
SELECT ok(pg_temp.request('alice', NULL, NULL, NULL, $$api.create_task('{"title": "No key"}')$$) ? 'answer',
          'a request without a key runs as it always did');
SELECT api.begin_request('alice');
SELECT is((SELECT array_agg(key) FROM todo.idempotency_keys), ARRAY['order-1'], 'the failed request and the keyless one stored nothing');

SELECT is(pg_temp.request('alice', repeat('k', 256), 'fp', 201, $$api.create_task('{"title": "x"}')$$)->>'sqlstate', 'PT422',
          'a key of 256 characters is refused (422)');
SELECT is((pg_temp.request('alice', E'tab\there', 'fp', 201, $$api.create_task('{"title": "x"}')$$)->>'detail')::jsonb
            #>> '{detail,0,loc}', '["header", "Idempotency-Key"]', 'a key with a control character is refused, naming the header');
SELECT is(pg_temp.request('alice', '', 'fp', 201, $$api.create_task('{"title": "x"}')$$)->>'sqlstate', 'PT422',
          'an empty key is refused (422)');

-- expiry: 24 hours ---------------------------------------------------------------------------

RESET ROLE;
UPDATE todo.idempotency_keys SET created_at = now() - interval '25 hours' WHERE user_id = 'alice' AND key = 'order-1';
SET LOCAL ROLE todo_gateway;
SELECT pg_temp.request('alice', 'order-1', 'fp-tea', 201, $$api.create_task('{"title": "Buy tea"}')$$) AS after_expiry \gset
SELECT ok(:'after_expiry'::jsonb ? 'answer', 'after 24 hours alice''s key is new again: another request with it runs');
SELECT api.begin_request('alice');
SELECT results_eq($$SELECT request_fingerprint, body, created_at = now() FROM todo.idempotency_keys WHERE key = 'order-1'$$,
                  format($$VALUES ('fp-tea'::text, %L::text, true)$$, :'after_expiry'::jsonb->>'answer'),
                  'the expired answer is replaced by the new one');
SELECT is(((pg_temp.request('alice', 'order-1', 'fp-tea', 201, $$api.create_task('{"title": "Buy tea"}')$$)
            ->>'detail')::jsonb->>'body'), :'after_expiry'::jsonb->>'answer', 'and it is the new answer that replays');

-- the cleanup: expired keys of any user, a few per keyed request -----------------------------

RESET ROLE;
INSERT INTO todo.idempotency_keys (user_id, key, request_fingerprint, status, body, created_at)
SELECT 'bob', 'old-' || i, 'fp', 200, '{}', now() - interval '2 days' - i * interval '1 minute' FROM generate_series(1, 20) i;
SET LOCAL ROLE todo_gateway;
SELECT ok(pg_temp.request('alice', 'order-3', 'fp-cleanup', 201, $$api.create_task('{"title": "Clean"}')$$) ? 'answer',
          'alice''s keyed request runs');
RESET ROLE;
SELECT is((SELECT count(*) FROM todo.idempotency_keys WHERE user_id = 'bob' AND key LIKE 'old-%'), 12::bigint,
          'and forgets 8 of bob''s 20 expired keys on the way: bounded work');
SELECT is((SELECT array_agg(key ORDER BY created_at DESC) FROM todo.idempotency_keys WHERE user_id = 'bob' AND key LIKE 'old-%'),
          (SELECT array_agg('old-' || i ORDER BY i) FROM generate_series(1, 12) i),
          '... the oldest first (old-13 to old-20 are gone)');
SET LOCAL ROLE todo_gateway;
SELECT is(todo.forget_expired_idempotency_keys(100), 12, 'the cleanup, called by the gateway''s role, forgets any user''s expired keys');
SELECT api.begin_request('bob');
SELECT is((SELECT count(*) FROM todo.idempotency_keys), 1::bigint, 'and nothing else: bob''s live key is still there');

SELECT * FROM finish();
ROLLBACK;
