-- Two users trying each other's rows. alice and bob act exactly as the gateway does:
-- SET LOCAL ROLE todo_gateway, then api.begin_request(<user>) (one request = one
-- transaction; here one file is one transaction and begin_request switches the user).
-- bob tries every way to reach alice's task: through each api function and with plain
-- SQL. Each denial stands beside alice's positive control on the same row. A control that
-- writes runs inside a savepoint that is rolled back afterwards, so alice's rows stay
-- exactly as they were and the comparison at the end sees any write of bob's.
-- throws_ok(sql, sqlstate, NULL, description) checks the SQLSTATE alone (the NULL is the
-- message, left unchecked); in the three-argument form the description would be taken for
-- the message.
BEGIN;
SELECT plan(63);

-- a clean slate for alice and bob, as postgres
\ir clean_slate.psql

-- fixtures, as postgres: alice's and bob's accounts
INSERT INTO todo.users (id, email, name, password_hash) VALUES
    ('alice', 'alice@example.com', 'Alice', extensions.crypt('alice-password', extensions.gen_salt('bf', 4))),
    ('bob', 'bob@example.com', 'Bob', extensions.crypt('bob-password', extensions.gen_salt('bf', 4)));

-- as alice
SET LOCAL ROLE todo_gateway;
SELECT api.begin_request('alice');
SELECT (api.create_task('{"title": "Buy milk", "description": "two litres"}')->>'id')::bigint AS alice_task \gset
SELECT (api.create_task('{"title": "Call mum"}')->>'id')::bigint AS alice_other_task \gset

-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT (api.create_task('{"title": "Mow the lawn"}')->>'id')::bigint AS bob_task \gset

-- as postgres: age alice's tasks (bypassing the tasks_touch trigger for this one statement)
-- and keep a copy, so that any write to them would show, in updated_at too.
RESET ROLE;
SET LOCAL session_replication_role = replica;
UPDATE todo.tasks SET created_at = '2020-01-01 08:00Z', updated_at = '2020-01-02 08:00Z' WHERE user_id = 'alice';
SET LOCAL session_replication_role = DEFAULT;
CREATE TEMP TABLE alice_before AS SELECT * FROM todo.tasks WHERE user_id = 'alice';
SELECT is((SELECT count(*) FROM alice_before), 2::bigint, 'alice has two tasks to defend');
SET LOCAL ROLE todo_gateway;

-- reading through the api ------------------------------------------------------------

-- as alice
SELECT api.begin_request('alice');
SELECT is(api.get_task(:alice_task)->>'title', 'Buy milk', 'alice can read her task');
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT throws_ok(format('SELECT api.get_task(%s)', :alice_task), 'PT404', NULL, 'bob cannot read alice''s task');
SELECT throws_ok('SELECT api.get_task(0)', 'PT404', NULL,
                 'bob gets the same PT404 for a task that does not exist at all');

-- as alice
SELECT api.begin_request('alice');
SELECT is((SELECT array_agg((t->>'id')::bigint ORDER BY (t->>'id')::bigint) FROM json_array_elements(api.list_tasks()) t),
          ARRAY[:alice_task, :alice_other_task]::bigint[], 'alice lists her two tasks');
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT is((SELECT array_agg((t->>'id')::bigint) FROM json_array_elements(api.list_tasks()) t),
          ARRAY[:bob_task]::bigint[], 'bob lists his own task and none of alice''s');
SELECT is(api.list_tasks(q => 'milk')::text, '[]', 'bob cannot find alice''s task by searching for its title');

-- writing through the api ------------------------------------------------------------

SAVEPOINT alice_control;
-- as alice
SELECT api.begin_request('alice');
SELECT is(api.update_task(:alice_task, '{"title": "Buy oat milk"}')->>'title', 'Buy oat milk',
          'alice can replace her task (PUT)');
ROLLBACK TO SAVEPOINT alice_control;
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT throws_ok(format($$SELECT api.update_task(%s, '{"title": "pwned"}')$$, :alice_task), 'PT404', NULL,
                 'bob cannot replace alice''s task (PUT)');

SAVEPOINT alice_control;
-- as alice
SELECT api.begin_request('alice');
SELECT is(api.patch_task(:alice_task, '{"description": "three litres"}')->>'description', 'three litres',
          'alice can patch her task');
ROLLBACK TO SAVEPOINT alice_control;
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT throws_ok(format($$SELECT api.patch_task(%s, '{"description": "pwned"}')$$, :alice_task), 'PT404', NULL,
                 'bob cannot patch alice''s task');

SAVEPOINT alice_control;
-- as alice
SELECT api.begin_request('alice');
SELECT is(api.set_task_completion(:alice_task)->>'completed', 'true', 'alice can toggle her task''s completion');
ROLLBACK TO SAVEPOINT alice_control;
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT throws_ok(format('SELECT api.set_task_completion(%s)', :alice_task), 'PT404', NULL,
                 'bob cannot toggle alice''s task''s completion');

SAVEPOINT alice_control;
-- as alice
SELECT api.begin_request('alice');
SELECT is(api.set_task_completion(:alice_task, '{"completed": true}')->>'completed', 'true',
          'alice can set her task''s completion');
ROLLBACK TO SAVEPOINT alice_control;
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT throws_ok(format($$SELECT api.set_task_completion(%s, '{"completed": true}')$$, :alice_task), 'PT404', NULL,
                 'bob cannot set alice''s task''s completion');

SAVEPOINT alice_control;
-- as alice
SELECT api.begin_request('alice');
SELECT is(api.delete_task(:alice_task)::text, 'null', 'alice can delete her task');
ROLLBACK TO SAVEPOINT alice_control;
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT throws_ok(format('SELECT api.delete_task(%s)', :alice_task), 'PT404', NULL, 'bob cannot delete alice''s task');

-- plain SQL, as a gateway with a bug (or a psql user with the gateway's role) would send it

-- as alice
SELECT api.begin_request('alice');
SELECT results_eq(format('SELECT id FROM todo.tasks WHERE id = %s', :alice_task), ARRAY[:alice_task]::bigint[],
                  'alice can read her task row directly');
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT is_empty($$SELECT * FROM todo.tasks WHERE user_id = 'alice'$$, 'bob cannot read alice''s task rows directly');
SELECT results_eq('SELECT user_id FROM todo.tasks', ARRAY['bob'], 'bob reads exactly one task row: his own');

-- as bob (stranger)
SELECT lives_ok($$INSERT INTO todo.tasks (user_id, title) VALUES ('bob', 'Fix the fence')$$,
                'bob can add a task row for himself directly');
SELECT throws_ok($$INSERT INTO todo.tasks (user_id, title) VALUES ('alice', 'Send bob money')$$, '42501', NULL,
                 'bob cannot add a task row in alice''s name (row-level security violation)');

SAVEPOINT alice_control;
-- as alice
SELECT api.begin_request('alice');
SELECT results_eq(format($$UPDATE todo.tasks SET title = 'Buy oat milk' WHERE id = %s RETURNING id$$, :alice_task),
                  ARRAY[:alice_task]::bigint[], 'alice can update her task row directly');
ROLLBACK TO SAVEPOINT alice_control;
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT is_empty(format($$UPDATE todo.tasks SET title = 'pwned', completed = true WHERE id = %s RETURNING id$$, :alice_task),
                'bob cannot update alice''s task row directly: no row is affected');
SELECT is_empty($$UPDATE todo.tasks SET title = 'pwned' WHERE user_id = 'alice' RETURNING id$$,
                'bob cannot update any of alice''s task rows directly, even naming her');

SAVEPOINT alice_control;
-- as alice
SELECT api.begin_request('alice');
SELECT results_eq(format('DELETE FROM todo.tasks WHERE id = %s RETURNING id', :alice_task),
                  ARRAY[:alice_task]::bigint[], 'alice can delete her task row directly');
ROLLBACK TO SAVEPOINT alice_control;
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT is_empty($$DELETE FROM todo.tasks WHERE user_id = 'alice' RETURNING id$$,
                'bob cannot delete alice''s task rows directly: no row is affected');

-- as bob (stranger)
SELECT results_eq(format($$UPDATE todo.tasks SET title = 'Mow the lawn twice' WHERE id = %s RETURNING id$$, :bob_task),
                  ARRAY[:bob_task]::bigint[], 'bob can update his own task row directly');
SELECT throws_ok(format($$UPDATE todo.tasks SET user_id = 'alice' WHERE id = %s$$, :bob_task), '42501', NULL,
                 'bob cannot hand his task over to alice (row-level security violation)');
SELECT is(api.patch_task(:bob_task, '{"user_id": "alice"}')->>'user_id', 'bob',
          'bob''s patch naming user_id alice leaves his task his');
SELECT results_eq(format('SELECT user_id FROM todo.tasks WHERE id = %s', :bob_task), ARRAY['bob'],
                  'bob''s task is still his');

-- as bob (stranger), with statements that have no WHERE clause and read nothing: no SELECT
-- policy filters them, only the UPDATE and DELETE policies stand before alice's rows
SELECT throws_ok($$UPDATE todo.tasks SET user_id = 'alice'$$, '42501', NULL,
                 'bob cannot hand all his tasks over to alice in one blanket UPDATE');
SELECT lives_ok($$UPDATE todo.tasks SET completed = true$$, 'bob''s blanket UPDATE runs, on his own rows');
SELECT lives_ok('DELETE FROM todo.tasks', 'bob''s blanket DELETE runs, on his own rows');

-- as postgres: nothing of alice's moved
RESET ROLE;
SELECT results_eq(
    $$SELECT id, user_id, title, description, completed, created_at, updated_at FROM todo.tasks
       WHERE user_id = 'alice' ORDER BY id$$,
    $$SELECT id, user_id, title, description, completed, created_at, updated_at FROM alice_before ORDER BY id$$,
    'alice''s tasks are exactly as before bob tried: same rows, title, description, completed, created_at, updated_at');
SELECT is_empty($$SELECT * FROM todo.tasks WHERE user_id = 'bob'$$,
                'bob''s blanket DELETE did remove his own rows (so it was not refused outright)');
SET LOCAL ROLE todo_gateway;

-- accounts and revocations -----------------------------------------------------------

-- as alice
SELECT api.begin_request('alice');
SELECT results_eq('SELECT id, email FROM todo.users', $$VALUES ('alice', 'alice@example.com')$$,
                  'alice can read her own account row, and only hers');
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT is_empty($$SELECT id, email, name FROM todo.users WHERE id = 'alice'$$, 'bob cannot read alice''s account');
SELECT throws_ok($$INSERT INTO todo.revocations (user_id) VALUES ('alice')$$, '42501', NULL,
                 'bob cannot revoke alice''s tokens (row-level security violation)');

-- as alice
SELECT api.begin_request('alice');
SELECT is(api.logout()::text, 'null', 'alice can revoke her own tokens (log out)');
SELECT isnt_empty($$SELECT * FROM todo.revocations WHERE user_id = 'alice'$$, 'alice can read her revocation');
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT is_empty($$SELECT * FROM todo.revocations WHERE user_id = 'alice'$$, 'bob cannot read alice''s revocation');

SAVEPOINT alice_control;
-- as alice, with a token from a login after her logout (its iat is the next second)
SELECT api.begin_request('alice', floor(extract(epoch FROM now()))::bigint + 1);
SELECT isnt_empty($$UPDATE todo.revocations SET tokens_valid_after = now() WHERE user_id = 'alice' RETURNING user_id$$,
                  'alice can move her own revocation');
ROLLBACK TO SAVEPOINT alice_control;
-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT is_empty($$UPDATE todo.revocations SET tokens_valid_after = '2000-01-01Z' WHERE user_id = 'alice' RETURNING user_id$$,
                'bob cannot move alice''s revocation back to let her stolen tokens in again');
SELECT throws_ok($$DELETE FROM todo.revocations WHERE user_id = 'alice'$$, '42501', NULL,
                 'bob cannot delete alice''s revocation (nobody may delete revocations)');
SELECT lives_ok($$UPDATE todo.revocations SET tokens_valid_after = '2000-01-01Z'$$,
                'bob''s blanket UPDATE of revocations runs, on his own row (he has none)');
-- as postgres
RESET ROLE;
SELECT is((SELECT tokens_valid_after FROM todo.revocations WHERE user_id = 'alice'), now(),
          'alice''s revocation is where her logout put it');

-- nobody ------------------------------------------------------------------------------

-- as postgres: there is something to see
SELECT isnt_empty('SELECT * FROM todo.tasks', 'postgres sees task rows (so the emptiness below means something)');
SELECT isnt_empty('SELECT * FROM todo.users', 'postgres sees account rows');
SELECT isnt_empty('SELECT * FROM todo.revocations', 'postgres sees revocation rows');
SET LOCAL ROLE todo_gateway;

-- as nobody (the user setting reads '' once it has been set on a connection)
SELECT set_config('app.user_id', '', true);
SELECT is_empty('SELECT * FROM todo.tasks', 'nobody reads no task row');
SELECT is_empty('SELECT id, email, name FROM todo.users', 'nobody reads no account row');
SELECT is_empty('SELECT * FROM todo.revocations', 'nobody reads no revocation row');
SELECT is(api.list_tasks()::text, '[]', 'nobody lists no task');
SELECT throws_ok(format('SELECT api.get_task(%s)', :alice_other_task), 'PT404', NULL, 'nobody cannot read alice''s task');
SELECT throws_ok($$SELECT api.create_task('{"title": "Orphan"}')$$, 'PT401', NULL, 'nobody cannot create a task');
SELECT throws_ok($$INSERT INTO todo.tasks (user_id, title) VALUES ('alice', 'Orphan')$$, '42501', NULL,
                 'nobody cannot add a task row in alice''s name directly');
SELECT throws_ok('SELECT api.me()', 'PT401', NULL, 'nobody has no account');
SELECT throws_ok('SELECT api.logout()', 'PT401', NULL, 'nobody cannot log out');
SELECT throws_ok($$SELECT api.begin_request('')$$, 'PT401', NULL, 'a request with an empty user id is refused');
SELECT set_config('app.user_id', 'alice', true);
SELECT lives_ok('SELECT api.begin_request(NULL)', 'a request with no user id (register, login, readyz) is begun with no user');
SELECT is(todo.current_user_id(), NULL, 'begin_request(NULL) sets no user, even in a transaction where alice was set');
SELECT throws_ok(format('SELECT api.begin_request(%L)', repeat('x', 256)), 'PT401', NULL,
                 'a request with a user id over 255 characters is refused');

SELECT * FROM finish();
ROLLBACK;
