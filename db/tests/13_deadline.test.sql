-- The request's deadline, as api.begin_request enforces it: the gateway passes the instant
-- (in the database's clock) by which it must have the answer, its arrival plus
-- DB_STATEMENT_TIMEOUT. Past: PT503, nothing runs (the request waited too long in the
-- gateway's queue or behind a slow statement on its connection; certainly not executed).
-- Ahead: statement_timeout becomes what remains, for the rest of the transaction, so the
-- route's statement fails at the request's own deadline (57014, HTTP 504), not a whole
-- DB_STATEMENT_TIMEOUT after it started. Routes without a token pass a null user.
BEGIN;
SELECT plan(9);

-- the SQLSTATE a statement ends with, or null; unlike pgTAP's throws_ok, it also catches
-- query_canceled (57014), which PL/pgSQL's WHEN OTHERS leaves alone
CREATE FUNCTION pg_temp.sqlstate_of(sql text) RETURNS text
    LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION
    WHEN query_canceled THEN RETURN '57014';
    WHEN OTHERS THEN RETURN SQLSTATE;
END $$;

CREATE FUNCTION pg_temp.statement_timeout_ms() RETURNS integer
    LANGUAGE sql AS $$ SELECT setting::integer FROM pg_settings WHERE name = 'statement_timeout' $$;

SET LOCAL statement_timeout = '1min';
SET LOCAL ROLE todo_gateway;

-- as alice
SELECT is(pg_temp.sqlstate_of($$SELECT api.begin_request('alice', NULL, clock_timestamp() - interval '1 ms')$$), 'PT503',
          'a request whose deadline has passed is refused with 503 before anything runs');
SELECT throws_like($$SELECT api.begin_request('alice', NULL, clock_timestamp() - interval '1 ms')$$,
                   '%deadline passed%', '... saying the deadline passed');
SELECT is(pg_temp.statement_timeout_ms(), 60000, '... and leaves statement_timeout as it was');

SELECT api.begin_request('alice');
SELECT is(pg_temp.statement_timeout_ms(), 60000, 'a request without a deadline leaves statement_timeout alone');

SELECT api.begin_request('alice', NULL, clock_timestamp() + interval '10 s');
SELECT ok(pg_temp.statement_timeout_ms() BETWEEN 1 AND 10000,
          'a deadline 10 s ahead makes statement_timeout what remains of it: ' || pg_temp.statement_timeout_ms() || ' ms');
SELECT is(todo.current_user_id(), 'alice', '... and sets the user as always');

SELECT api.begin_request('alice', NULL, clock_timestamp() + interval '200 ms');
SELECT is(pg_temp.sqlstate_of('SELECT pg_sleep(5)'), '57014',
          'a statement after begin_request is cancelled at the request''s deadline (57014, HTTP 504)');
SET LOCAL statement_timeout = '1min';

-- as nobody: register, login and readyz have no user but a deadline all the same
SELECT api.begin_request(NULL, NULL, clock_timestamp() + interval '10 s');
SELECT is(todo.current_user_id(), NULL, 'a request without a token is begun with no user');
SELECT ok(pg_temp.statement_timeout_ms() BETWEEN 1 AND 10000, '... and its deadline bounds it too');

SELECT * FROM finish();
ROLLBACK;
