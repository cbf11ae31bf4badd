-- Accounts in standalone mode: api.register, api.login, api.me, api.logout and the
-- revocation check in api.begin_request, as the gateway calls them (register and login come
-- with no token, so no user is set). Tokens are the gateway's to sign: the database hands
-- out the iat to stamp on them and refuses, in begin_request, an iat at or before the user's
-- last logout.
BEGIN;
SELECT plan(53);

-- a clean slate, as postgres: accounts left in this database with the emails used here stay
-- out of the way until the ROLLBACK at the end
DELETE FROM todo.users WHERE lower(email) IN ('alice@example.com', 'bob@example.com', 'carol@example.com',
                                              'dave@example.com', 'mallory@example.com');

-- as nobody: registering needs no token
SET LOCAL ROLE todo_gateway;
SELECT r->'user'->>'id' AS alice, (r->>'iat')::bigint AS alice_iat, r AS alice_session
  FROM api.register('{"email": "Alice@Example.com", "password": "correct horse", "name": "Alice"}') r \gset
SELECT r->'user'->>'id' AS bob, (r->>'iat')::bigint AS bob_iat
  FROM api.register('{"email": "bob@example.com", "password": "battery staple"}') r \gset

-- api.register ------------------------------------------------------------------------------

SELECT is((SELECT array_agg(k ORDER BY k) FROM json_object_keys(:'alice_session'::json) k), ARRAY['iat', 'user'],
          'alice''s registration answers {"user", "iat"}');
SELECT is(:'alice_session'::jsonb->'user', jsonb_build_object('id', :'alice', 'email', 'Alice@Example.com', 'name', 'Alice'),
          'alice''s registration answers her account: {"id", "email", "name"}');
SELECT is(json_typeof(:'alice_session'::json->'iat'), 'number', 'the iat alice''s token gets is a JSON number');
SELECT is(:alice_iat::bigint, floor(extract(epoch FROM now()))::bigint, 'the iat is now, in whole seconds');
SELECT matches(:'alice'::text, '^[A-Za-z0-9_-]+$', 'alice''s user id is URL-safe ASCII');
SELECT matches(:'bob'::text, '^[A-Za-z0-9_-]+$', 'bob''s user id is URL-safe ASCII');
SELECT isnt(:'alice'::text, :'bob'::text, 'alice and bob get different ids');
SELECT is(api.register('{"email": "carol@example.com", "password": "12345678"}')->'user'->>'name', NULL,
          'carol can register without a name, with a password of exactly 8 characters');

-- as postgres: what was stored
RESET ROLE;
SELECT matches((SELECT password_hash FROM todo.users WHERE id = :'alice'), '^\$2[abxy]\$\d\d\$.{53}$',
               'alice''s password is stored as a bcrypt hash');
SELECT is((SELECT extensions.crypt('correct horse', password_hash) = password_hash FROM todo.users WHERE id = :'alice'), true,
          'alice''s stored hash is the hash of her password');
SELECT is_empty($$SELECT id FROM todo.users u WHERE strpos(u::text, 'correct horse') > 0$$,
                'alice''s plain password is stored nowhere in todo.users');
SELECT is((SELECT email FROM todo.users WHERE id = :'alice'), 'Alice@Example.com', 'alice''s email is stored as she typed it');
SET LOCAL ROLE todo_gateway;

SELECT throws_ok($$SELECT api.register('{"email": "alice@example.com", "password": "another one"}')$$, 'PT409', NULL,
                 'nobody can register alice''s email again in another case');
SELECT throws_ok($$SELECT api.register('{"email": "Alice@Example.com", "password": "another one"}')$$, 'PT409', NULL,
                 'nobody can register alice''s email again as she typed it');
SELECT throws_ok($$SELECT api.register('{"email": "dave@example.com", "password": "1234567"}')$$, 'PT422', NULL,
                 'dave cannot register with a 7-character password');
SELECT throws_ok(format('SELECT api.register(%L)', json_build_object('email', 'dave@example.com', 'password', repeat('p', 73))),
                 'PT422', NULL, 'dave cannot register with a password over 72 bytes (bcrypt would ignore the rest)');
SELECT throws_ok($$SELECT api.register('{"email": "dave@example.com"}')$$, 'PT422', NULL,
                 'dave cannot register without a password');
SELECT throws_ok($$SELECT api.register('{"password": "long enough"}')$$, 'PT422', NULL,
                 'dave cannot register without an email');
SELECT throws_ok($$SELECT api.register('{"email": "dave", "password": "long enough"}')$$, 'PT422', NULL,
                 'dave cannot register with something that is no email address');
SELECT throws_ok($$SELECT api.register('{"email": 42, "password": "long enough"}')$$, 'PT422', NULL,
                 'dave cannot register with a number for an email');
SELECT throws_ok($$SELECT api.register('{"email": "dave@example.com", "password": 12345678}')$$, 'PT422', NULL,
                 'dave cannot register with a number for a password');
SELECT throws_ok($$SELECT api.register('{"email": "dave@example.com", "password": "long enough", "name": 5}')$$, 'PT422', NULL,
                 'dave cannot register with a number for a name');
SELECT throws_ok($$SELECT api.register('["dave@example.com", "long enough"]')$$, 'PT400', NULL,
                 'dave cannot register with a JSON array');
RESET ROLE;
SELECT is_empty($$SELECT id FROM todo.users WHERE lower(email) = 'dave@example.com'$$,
                'none of dave''s refused registrations created an account');
SET LOCAL ROLE todo_gateway;

-- api.login -------------------------------------------------------------------------------

SELECT is(api.login('{"email": "Alice@Example.com", "password": "correct horse"}')::jsonb->'user',
          :'alice_session'::jsonb->'user', 'alice can log in with her password, and gets her account');
SELECT is(api.login('{"email": "ALICE@example.COM", "password": "correct horse"}')::jsonb->'user'->>'id', :'alice',
          'alice can log in with her email in another case');
SELECT is((api.login('{"email": "Alice@Example.com", "password": "correct horse"}')->>'iat')::bigint,
          floor(extract(epoch FROM now()))::bigint, 'alice''s login hands out now as the iat');
SELECT throws_ok($$SELECT api.login('{"email": "Alice@Example.com", "password": "wrong horse"}')$$, 'PT401', NULL,
                 'nobody can log in as alice with a wrong password');
SELECT throws_ok($$SELECT api.login('{"email": "Alice@Example.com", "password": "CORRECT HORSE"}')$$, 'PT401', NULL,
                 'nobody can log in as alice with her password in another case');
SELECT throws_ok($$SELECT api.login('{"email": "mallory@example.com", "password": "correct horse"}')$$, 'PT401', NULL,
                 'nobody can log in with an unknown email: the same PT401 as a wrong password');
SELECT throws_ok($$SELECT api.login('{"email": "Alice@Example.com"}')$$, 'PT422', NULL,
                 'nobody can log in without a password');
SELECT throws_ok($$SELECT api.login('"Alice@Example.com"')$$, 'PT400', NULL,
                 'nobody can log in with a JSON string');

-- api.me ----------------------------------------------------------------------------------

-- as alice
SELECT api.begin_request(:'alice', :alice_iat);
SELECT is(api.me()::jsonb, jsonb_build_object('id', :'alice', 'email', 'Alice@Example.com', 'name', 'Alice'),
          'alice''s me is her account');
-- as bob
SELECT api.begin_request(:'bob', :bob_iat);
SELECT is(api.me()::jsonb, jsonb_build_object('id', :'bob', 'email', 'bob@example.com', 'name', NULL),
          'bob''s me is his account, not alice''s');
-- as erin, a user of an external identity provider: a valid token, no account here
SELECT api.begin_request('erin-from-better-auth');
SELECT throws_ok('SELECT api.me()', 'PT401', NULL, 'erin has no account here, so her me is a 401');
SELECT is(api.list_tasks()::text, '[]', 'but erin can use the task routes');

-- api.logout and api.begin_request's revocation check ---------------------------------------

-- as alice
SELECT lives_ok(format('SELECT api.begin_request(%L, %s)', :'alice', :alice_iat),
                'alice''s token from her registration is accepted before she logs out');
SELECT lives_ok(format('SELECT api.begin_request(%L)', :'alice'),
                'a token of alice''s without iat is accepted before she ever logs out');
SELECT api.begin_request(:'alice', :alice_iat);
SELECT is(api.logout()::text, 'null', 'alice can log out (JSON null: 204, no body)');
SELECT throws_ok(format('SELECT api.begin_request(%L, %s)', :'alice', :alice_iat), 'PT401', NULL,
                 'alice''s token from before her logout is refused');
SELECT throws_ok(format('SELECT api.begin_request(%L, %s)', :'alice', floor(extract(epoch FROM now()))::bigint), 'PT401', NULL,
                 'alice''s token issued in the very second of her logout is refused');
SELECT throws_ok(format('SELECT api.begin_request(%L, %s)', :'alice', 1), 'PT401', NULL,
                 'alice''s token from 1970 is refused');
SELECT throws_ok(format('SELECT api.begin_request(%L)', :'alice'), 'PT401', NULL,
                 'alice''s token without an iat is refused once she has logged out');
-- as bob
SELECT lives_ok(format('SELECT api.begin_request(%L, %s)', :'bob', :bob_iat),
                'bob''s token is unaffected by alice''s logout');
SELECT lives_ok(format('SELECT api.begin_request(%L)', :'bob'), 'bob''s token without iat is unaffected too');

-- as nobody: alice logs in again, in the same second as her logout
SELECT (api.login('{"email": "alice@example.com", "password": "correct horse"}')->>'iat')::bigint AS alice_iat2 \gset
SELECT cmp_ok(:alice_iat2::bigint, '>', floor(extract(epoch FROM now()))::bigint,
              'alice''s new login hands out an iat strictly after the second of her logout');
SELECT lives_ok(format('SELECT api.begin_request(%L, %s)', :'alice', :alice_iat2),
                'alice''s token from her new login is accepted');
-- as alice, with her new token
SELECT api.begin_request(:'alice', :alice_iat2);
SELECT is(api.me()->>'id', :'alice', 'alice''s new token reaches her account');
SELECT is(api.logout()::text, 'null', 'alice can log out again, still in the same second');
SELECT throws_ok(format('SELECT api.begin_request(%L, %s)', :'alice', :alice_iat2), 'PT401', NULL,
                 'alice''s second logout revokes the token of her login in between, though its iat is in the next second');
SELECT (api.login('{"email": "alice@example.com", "password": "correct horse"}')->>'iat')::bigint AS alice_iat3 \gset
SELECT cmp_ok(:alice_iat3::bigint, '>', :alice_iat2::bigint, 'alice''s third login hands out a later iat still');
SELECT lives_ok(format('SELECT api.begin_request(%L, %s)', :'alice', :alice_iat3),
                'alice''s token from her third login is accepted');

-- as postgres: the revocation rows
RESET ROLE;
SELECT results_eq(format('SELECT user_id FROM todo.revocations WHERE user_id IN (%L, %L)', :'alice', :'bob'),
                  ARRAY[:'alice'],
                  'only alice has a revocation; bob''s tokens were never touched');

SELECT * FROM finish();
ROLLBACK;
