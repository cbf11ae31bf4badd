-- What the roles may do besides the api: todo_gateway holds only what the api needs, owns
-- nothing, cannot switch row-level security off or become another role, and never reads a
-- password hash; todo_admin reads every task and account but no hash, and writes only as a
-- user. Denials stand beside a control: the owner, or another column, that may.
BEGIN;
SELECT plan(65);

-- a clean slate for alice and bob, as postgres
\ir clean_slate.psql

-- the roles themselves --------------------------------------------------------------------

SELECT isnt_superuser('todo_gateway', 'todo_gateway is not a superuser');
SELECT ok(NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'todo_gateway'),
          'todo_gateway does not bypass row-level security');
SELECT ok((SELECT rolcanlogin FROM pg_roles WHERE rolname = 'todo_gateway'), 'todo_gateway can log in');
SELECT ok(NOT (SELECT rolcreaterole OR rolcreatedb FROM pg_roles WHERE rolname = 'todo_gateway'),
          'todo_gateway can create neither roles nor databases');
SELECT is_empty($$SELECT roleid::regrole FROM pg_auth_members WHERE member = 'todo_gateway'::regrole$$,
                'todo_gateway is a member of no role');
SELECT isnt_superuser('todo_owner', 'todo_owner is not a superuser');
SELECT ok(NOT (SELECT rolbypassrls OR rolcanlogin FROM pg_roles WHERE rolname = 'todo_owner'),
          'todo_owner neither bypasses row-level security nor logs in');
SELECT isnt_superuser('todo_admin', 'todo_admin is not a superuser');
SELECT ok(NOT (SELECT rolbypassrls FROM pg_roles WHERE rolname = 'todo_admin'), 'todo_admin does not bypass row-level security');

-- ownership: todo_owner owns everything, todo_gateway nothing ------------------------------

SELECT table_owner_is('todo', 'tasks', 'todo_owner', 'todo_owner owns todo.tasks');
SELECT schema_owner_is('api', 'todo_owner', 'todo_owner owns schema api');
SELECT is_empty($$SELECT oid::regclass FROM pg_class
                   WHERE relnamespace IN ('todo'::regnamespace, 'api'::regnamespace) AND relowner <> 'todo_owner'::regrole$$,
                'todo_owner owns every table, index and sequence of schemas todo and api');
SELECT is_empty($$SELECT oid::regprocedure FROM pg_proc
                   WHERE pronamespace IN ('todo'::regnamespace, 'api'::regnamespace) AND proowner <> 'todo_owner'::regrole$$,
                'todo_owner owns every function of schemas todo and api');
SELECT is_empty($$SELECT oid::regclass FROM pg_class WHERE relowner = 'todo_gateway'::regrole$$,
                'todo_gateway owns no table, index, sequence or view');
SELECT is_empty($$SELECT oid::regprocedure FROM pg_proc WHERE proowner = 'todo_gateway'::regrole$$,
                'todo_gateway owns no function');
SELECT is_empty($$SELECT nspname FROM pg_namespace WHERE nspowner = 'todo_gateway'::regrole$$,
                'todo_gateway owns no schema');
SELECT is_empty($$SELECT oid::regtype FROM pg_type WHERE typowner = 'todo_gateway'::regrole$$,
                'todo_gateway owns no type');
SELECT is_empty($$SELECT datname FROM pg_database WHERE datdba = 'todo_gateway'::regrole$$,
                'todo_gateway owns no database');

-- grants -------------------------------------------------------------------------------------

SELECT schema_privs_are('api', 'todo_gateway', ARRAY['USAGE'], 'todo_gateway may use schema api, not create in it');
SELECT schema_privs_are('todo', 'todo_gateway', ARRAY['USAGE'], 'todo_gateway may use schema todo, not create in it');
SELECT schema_privs_are('api', 'public', ARRAY[]::name[], 'PUBLIC may not use schema api');
SELECT schema_privs_are('todo', 'public', ARRAY[]::name[], 'PUBLIC may not use schema todo');
SELECT schema_privs_are('public', 'todo_gateway', ARRAY['USAGE'], 'todo_gateway may not create in schema public');
SELECT ok(NOT has_database_privilege('todo_gateway', current_database(), 'CREATE'),
          'todo_gateway may not create schemas in the database');
SELECT table_privs_are('todo', 'tasks', 'todo_gateway', ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE'],
                       'todo_gateway may select, insert, update and delete on todo.tasks, and no more (no TRUNCATE)');
SELECT table_privs_are('todo', 'revocations', 'todo_gateway', ARRAY['SELECT', 'INSERT', 'UPDATE'],
                       'todo_gateway may select, insert and update on todo.revocations, never delete one');
SELECT table_privs_are('todo', 'users', 'todo_gateway', ARRAY[]::name[],
                       'todo_gateway holds no table-wide privilege on todo.users (only columns)');
SELECT table_privs_are('todo', 'tasks', 'public', ARRAY[]::name[], 'PUBLIC holds nothing on todo.tasks');
SELECT table_privs_are('todo', 'users', 'public', ARRAY[]::name[], 'PUBLIC holds nothing on todo.users');
SELECT table_privs_are('todo', 'revocations', 'public', ARRAY[]::name[], 'PUBLIC holds nothing on todo.revocations');
SELECT column_privs_are('todo', 'users', 'email', 'todo_gateway', ARRAY['SELECT'],
                        'todo_gateway may select todo.users.email');
SELECT column_privs_are('todo', 'users', 'password_hash', 'todo_gateway', ARRAY[]::name[],
                        'todo_gateway holds no privilege on todo.users.password_hash');
SELECT ok(NOT has_column_privilege('todo_gateway', 'todo.users', 'password_hash', 'SELECT'),
          'todo_gateway may not select todo.users.password_hash');
SELECT ok(NOT has_column_privilege('todo_admin', 'todo.users', 'password_hash', 'SELECT'),
          'todo_admin may not select todo.users.password_hash');

-- as alice, through the gateway's role ---------------------------------------------------------

INSERT INTO todo.users (id, email, name, password_hash) VALUES
    ('alice', 'alice@example.com', 'Alice', extensions.crypt('alice-password', extensions.gen_salt('bf', 4))),
    ('bob', 'bob@example.com', 'Bob', extensions.crypt('bob-password', extensions.gen_salt('bf', 4)));
INSERT INTO todo.tasks (user_id, title) VALUES ('alice', 'Buy milk'), ('bob', 'Mow the lawn');

-- as alice
SET LOCAL ROLE todo_gateway;
SELECT api.begin_request('alice');
SELECT results_eq('SELECT id, email, name FROM todo.users', $$VALUES ('alice', 'alice@example.com', 'Alice')$$,
                  'alice can read her own id, email and name');
SELECT throws_ok('SELECT password_hash FROM todo.users', '42501', NULL, 'alice cannot read even her own password hash');
SELECT throws_ok('SELECT * FROM todo.users', '42501', NULL, 'alice cannot SELECT * from todo.users (it names the hash)');
SELECT throws_ok($$SELECT id FROM todo.users WHERE password_hash LIKE '$2%'$$, '42501', NULL,
                 'alice cannot probe password hashes in a WHERE clause');
SELECT throws_ok($$INSERT INTO todo.users (id, email, password_hash) VALUES ('eve', 'eve@example.com', '$2a$')$$, '42501', NULL,
                 'alice cannot create accounts directly (only api.register can)');
SELECT throws_ok($$UPDATE todo.users SET name = 'Alicia' WHERE id = 'alice'$$, '42501', NULL,
                 'alice cannot change account rows directly');
SELECT throws_ok('TRUNCATE todo.tasks', '42501', NULL, 'alice cannot truncate todo.tasks');
SELECT throws_ok('SELECT todo.session_json(''alice'', ''a@b.c'', NULL)', '42501', NULL,
                 'alice cannot call the helper that mints session iats');

-- the gateway's role cannot take row-level security apart ----------------------------------------

SELECT throws_ok('ALTER TABLE todo.tasks DISABLE ROW LEVEL SECURITY', '42501', NULL,
                 'todo_gateway cannot disable row-level security on todo.tasks');
SELECT throws_ok('ALTER TABLE todo.tasks NO FORCE ROW LEVEL SECURITY', '42501', NULL,
                 'todo_gateway cannot stop forcing row-level security on todo.tasks');
SELECT throws_ok('ALTER TABLE todo.users DISABLE ROW LEVEL SECURITY', '42501', NULL,
                 'todo_gateway cannot disable row-level security on todo.users');
SELECT throws_ok('ALTER TABLE todo.revocations NO FORCE ROW LEVEL SECURITY', '42501', NULL,
                 'todo_gateway cannot stop forcing row-level security on todo.revocations');
SELECT throws_ok('DROP POLICY "users see their own tasks" ON todo.tasks', '42501', NULL,
                 'todo_gateway cannot drop a policy of todo.tasks');
SELECT throws_ok('CREATE POLICY "everything for everyone" ON todo.tasks USING (true)', '42501', NULL,
                 'todo_gateway cannot add a policy to todo.tasks');
SELECT throws_ok('ALTER POLICY "users see their own tasks" ON todo.tasks USING (true)', '42501', NULL,
                 'todo_gateway cannot loosen a policy of todo.tasks');
SELECT throws_ok($$CREATE OR REPLACE FUNCTION api.me() RETURNS json LANGUAGE sql AS 'SELECT null::json'$$, '42501', NULL,
                 'todo_gateway cannot replace an api function');
SELECT throws_ok('CREATE TABLE public.loot (x text)', '42501', NULL, 'todo_gateway cannot create tables in schema public');
RESET ROLE;

-- SET ROLE is checked against the session user, not the current role, and pg_prove's
-- session user is postgres, who may become anyone. So here the session itself becomes
-- todo_gateway, as when the gateway logs in.
SET LOCAL SESSION AUTHORIZATION todo_gateway;
SELECT is(session_user::text, 'todo_gateway', 'this part runs in a session of todo_gateway''s own');
SELECT throws_ok('SET ROLE todo_owner', '42501', NULL, 'todo_gateway cannot become todo_owner');
SELECT throws_ok('SET ROLE todo_admin', '42501', NULL, 'todo_gateway cannot become todo_admin');
SELECT throws_ok('SET ROLE postgres', '42501', NULL, 'todo_gateway cannot become postgres');
SELECT is(current_user::text, 'todo_gateway', 'todo_gateway is still itself after trying');
RESET SESSION AUTHORIZATION;

-- the control: the owner can do what the gateway cannot (rolled back at once)
SAVEPOINT owner_control;
SET LOCAL ROLE todo_owner;
SELECT lives_ok('ALTER TABLE todo.tasks NO FORCE ROW LEVEL SECURITY',
                'todo_owner, the owner, can stop forcing row-level security (what the gateway could not)');
SELECT lives_ok('DROP POLICY "users see their own tasks" ON todo.tasks',
                'todo_owner, the owner, can drop a policy (what the gateway could not)');
ROLLBACK TO SAVEPOINT owner_control;
SELECT ok((SELECT relforcerowsecurity FROM pg_class WHERE oid = 'todo.tasks'::regclass)
          AND EXISTS (SELECT FROM pg_policy WHERE polname = 'users see their own tasks'),
          'and row-level security is as it was once that is rolled back');

-- as an admin (a person in psql with todo_admin) ---------------------------------------------

SET LOCAL ROLE todo_admin;
SELECT set_config('app.user_id', '', true);
SELECT results_eq($$SELECT user_id, title FROM todo.tasks WHERE user_id IN ('alice', 'bob') ORDER BY user_id$$,
                  $$VALUES ('alice', 'Buy milk'), ('bob', 'Mow the lawn')$$,
                  'todo_admin reads every task, alice''s and bob''s (admins read every task)');
SELECT results_eq($$SELECT id, email FROM todo.users WHERE id IN ('alice', 'bob') ORDER BY id$$,
                  $$VALUES ('alice', 'alice@example.com'), ('bob', 'bob@example.com')$$,
                  'todo_admin reads every account''s email');
SELECT throws_ok('SELECT password_hash FROM todo.users', '42501', NULL, 'todo_admin cannot read password hashes');
SELECT is_empty($$UPDATE todo.tasks SET title = 'seen by admin' WHERE user_id = 'bob' RETURNING id$$,
                'todo_admin cannot change bob''s task: reading all is not writing all');
SELECT is_empty($$DELETE FROM todo.tasks WHERE user_id = 'alice' RETURNING id$$,
                'todo_admin cannot delete alice''s task');
SELECT throws_ok('ALTER TABLE todo.tasks NO FORCE ROW LEVEL SECURITY', '42501', NULL,
                 'todo_admin cannot stop forcing row-level security either');

SELECT * FROM finish();
ROLLBACK;
