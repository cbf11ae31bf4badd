-- Kinds of input that once got the wrong answer (issue 6.4), as whole kinds:
--   * a rule enforced at one entry and not at another: a password registration refuses
--     (over 72 bytes, under 8 characters) never logs in, even where bcrypt, which reads 72
--     bytes, would say it matches; the answer is that of a wrong password;
--   * an error blamed on the wrong source: a query value with any Unicode space (or
--     anything but ASCII digits) is a 422 naming that query parameter, never a parser's
--     SQLSTATE; a body that does not parse is a PT400 raised by the function that parses
--     it, at every entry that takes a body.
-- Acting as the gateway does: todo_gateway, then api.begin_request for the task routes.
BEGIN;
SELECT plan(80);

-- a clean slate, as postgres
DELETE FROM todo.tasks WHERE user_id IN ('alice', 'bob');
DELETE FROM todo.users WHERE lower(email) IN ('long@example.com', 'pad@example.com');

-- error_of(sql): the SQLSTATE sql raises, then the "code" of its JSON error body and, for
-- a 422, the loc of each problem; 'none' when it raises nothing.
CREATE FUNCTION pg_temp.error_of(sql text) RETURNS text
    LANGUAGE plpgsql
    AS $$
DECLARE
    state text;
    body text;
BEGIN
    EXECUTE sql;
    RETURN 'none';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, body = PG_EXCEPTION_DETAIL;
    IF state NOT LIKE 'PT%' THEN
        RETURN state;
    END IF;
    RETURN state || ' ' || (body::jsonb->>'code')
        || coalesce(' ' || (SELECT string_agg(p->>'loc', ' ') FROM jsonb_array_elements(
                               CASE WHEN jsonb_typeof(body::jsonb->'detail') = 'array' THEN body::jsonb->'detail' END) p), '');
END
$$;

-- fixtures, as postgres: ten tasks of alice's
INSERT INTO todo.tasks (user_id, title) SELECT 'alice', 'task ' || i FROM generate_series(1, 10) i;
INSERT INTO todo.tasks (user_id, title) VALUES ('alice', 'the target') RETURNING id AS task \gset

-- register and login share the password and email rules ---------------------------------

-- as nobody: long registers with a password of exactly 72 bytes (bcrypt's limit)
SET LOCAL ROLE todo_gateway;
SELECT lives_ok(format('SELECT api.register(%L)', json_build_object('email', 'long@example.com', 'password', repeat('p', 72))),
                'long can register with a password of exactly 72 bytes');
SELECT is(api.login(json_build_object('email', 'long@example.com', 'password', repeat('p', 72))::text)->'user'->>'email',
          'long@example.com', 'long can log in with his 72-byte password');
-- as postgres: what bcrypt alone would say
RESET ROLE;
SELECT is((SELECT extensions.crypt(repeat('p', 72) || 'anything', password_hash) = password_hash
             FROM todo.users WHERE email = 'long@example.com'), true,
          'bcrypt alone matches long''s hash with anything appended to his password (it reads 72 bytes)');
SET LOCAL ROLE todo_gateway;
-- as nobody
SELECT is(pg_temp.error_of(format('SELECT api.login(%L)', json_build_object('email', 'long@example.com', 'password', repeat('p', 72) || 'x'))),
          'PT401 invalid_credentials', 'nobody can log in as long with his password and one byte more (73 bytes)');
SELECT is(pg_temp.error_of(format('SELECT api.login(%L)', json_build_object('email', 'long@example.com', 'password', repeat('p', 72) || repeat('x', 100)))),
          'PT401 invalid_credentials', 'nobody can log in as long with his password and 100 bytes more');
SELECT is(pg_temp.error_of(format('SELECT api.login(%L)', json_build_object('email', 'long@example.com', 'password', repeat('p', 71) || E'\u00e9'))),
          'PT401 invalid_credentials', 'nobody can log in as long with 71 bytes of his password and a two-byte character (73 bytes)');
SELECT is(pg_temp.error_of(format('SELECT api.login(%L)', json_build_object('email', 'long@example.com', 'password', repeat('p', 72) || 'x'))),
          pg_temp.error_of(format('SELECT api.login(%L)', json_build_object('email', 'long@example.com', 'password', repeat('q', 72))))
          , 'a password that is too long gets exactly the answer of a wrong one (no oracle)');
SELECT is(pg_temp.error_of(format('SELECT api.login(%L)', json_build_object('email', 'nobody@example.com', 'password', repeat('p', 73)))),
          'PT401 invalid_credentials', 'nobody can log in with an unknown email and a 73-byte password: 401, not 422');
SELECT is(pg_temp.error_of($$SELECT api.login('{"email": "long@example.com", "password": "short"}')$$),
          'PT401 invalid_credentials', 'nobody can log in as long with a password under 8 characters: 401, as a wrong one');
SELECT is(pg_temp.error_of(format('SELECT api.register(%L)', json_build_object('email', 'pad@example.com', 'password', repeat('p', 73)))),
          'PT422 validation_failed ["body", "password"]', 'pad cannot register the 73-byte password long cannot log in with');
SELECT is(pg_temp.error_of($$SELECT api.login('{"email": "long@example.com", "password": 12345678}')$$),
          'PT422 validation_failed ["body", "password"]', 'a password that is not a string is still a 422 at login');
-- the email: trimmed, then checked, at both entries
SELECT is(api.register('{"email": " pad@example.com\t", "password": "long enough"}')->'user'->>'email', 'pad@example.com',
          'pad can register with spaces around her email, stored trimmed, as login compares it');
SELECT is(api.login('{"email": "  PAD@example.com ", "password": "long enough"}')->'user'->>'email', 'pad@example.com',
          'pad can log in with spaces around her email, in another case');
SELECT is(pg_temp.error_of($$SELECT api.register('{"email": " ", "password": "long enough"}')$$),
          'PT422 validation_failed ["body", "email"]', 'nobody can register a blank email');
SELECT is(pg_temp.error_of(format('SELECT api.login(%L)', json_build_object('email', repeat('e', 250) || '@example.com', 'password', 'long enough'))),
          'PT401 invalid_credentials', 'nobody can log in with an email longer than registration allows');

-- query values: ASCII digits only, a bad one named in the 422 ------------------------------

-- as alice
SELECT api.begin_request('alice');
SELECT is(json_array_length(api.list_tasks("limit" => '5')), 5, 'alice can ask for limit=5');
SELECT is(json_array_length(api.list_tasks("limit" => '007')), 7, 'alice can ask for limit=007 (leading zeros are digits)');
SELECT is(json_array_length(api.list_tasks("offset" => '0009')), 2, 'alice can ask for offset=0009');
SELECT is(json_array_length(api.list_tasks("limit" => '0000000000000000000005')), 5,
          'alice can ask for a limit of 5 written with 21 leading zeros');
SELECT is(pg_temp.error_of(format('SELECT api.list_tasks(%I => %L)', param, value)),
          format('PT422 validation_failed ["query", "%s"]', param),
          format('alice cannot ask for %s=%s', param, label))
  FROM (VALUES ('limit'), ('offset')) params(param),
       (VALUES (E'5\u3000', '5 + U+3000 IDEOGRAPHIC SPACE'), (E'5\u2003', '5 + U+2003 EM SPACE'),
               (E'5\u1680', '5 + U+1680 OGHAM SPACE MARK'), (E'5\u2028', '5 + U+2028 LINE SEPARATOR'),
               (E'5\u00a0', '5 + U+00A0 NO-BREAK SPACE'), (E'5\u0085', '5 + U+0085 NEXT LINE'),
               (E'\u30005', 'U+3000 + 5'), (E'5\uFEFF', '5 + U+FEFF BYTE ORDER MARK'),
               (' 5', 'space + 5'), (E'5\t', '5 + tab'), ('+5', '+5'), ('5e0', '5e0'), ('0x5', '0x5'),
               (E'\u0665', 'U+0665 ARABIC-INDIC DIGIT FIVE'), (E'\uFF15', 'U+FF15 FULLWIDTH DIGIT FIVE'),
               ('99999999999999999999', 'twenty nines')) bad(value, label);
SELECT is(pg_temp.error_of($$SELECT api.list_tasks("limit" => E'5\u3000', "offset" => E'1\u2003', sort => 'nope')$$),
          'PT422 validation_failed ["query", "sort"] ["query", "limit"] ["query", "offset"]',
          'alice''s three bad query values are one 422 naming all three');

-- bodies: parsed by the function that checks them, PT400 invalid_json at every entry ----

SELECT is(pg_temp.error_of(format(entry, body)), 'PT400 invalid_json',
          format('alice cannot %s with %s', what, kind))
  FROM (VALUES ('SELECT api.create_task(%L)', 'create a task'),
               ('SELECT api.update_task(' || :task || ', %L)', 'replace a task (PUT)'),
               ('SELECT api.patch_task(' || :task || ', %L)', 'change a task (PATCH)'),
               ('SELECT api.set_task_completion(' || :task || ', %L)', 'complete a task'),
               ('SELECT api.register(%L)', 'register'),
               ('SELECT api.login(%L)', 'log in')) entries(entry, what),
       (VALUES ('{"title": "a"', 'a body that is not JSON'),
               ('{"title": "a\u0000b", "email": "x@example.com", "password": "long enough"}', 'a \u0000 escape in the body'),
               (repeat('[', 100000) || repeat(']', 100000), 'a body nested 100000 arrays deep'),
               ('[{"title": "a"}]', 'a JSON array for a body')) bodies(body, kind);
SELECT is(pg_temp.error_of($$SELECT api.create_task('{"title": "a\ud800b"}')$$), 'PT400 invalid_json',
          'alice cannot create a task with a lone surrogate escape');
SELECT is(api.create_task('{"title": "parsed"}')->>'title', 'parsed', 'alice can create a task from a well-formed body');
SELECT is(api.patch_task(:task, '{"title": "still parsed"}')->>'title', 'still parsed', 'alice can change a task from a well-formed body');
SELECT is(api.set_task_completion(:task, NULL)->>'completed', 'true', 'alice can complete a task with no body at all');

SELECT * FROM finish();
ROLLBACK;
