-- Ready to distribute by user_id (Citus): every primary key, unique constraint, unique
-- index and exclusion constraint of every table holding a user_id column contains
-- user_id, and so does every foreign key between two such tables. The tables are found
-- in the catalog (every schema todo_owner owns), so a table added later is checked too;
-- a table of the project without user_id must be named here, as a reference table
-- (docs/scaling.md). Catalog checks, run as postgres, with a positive control: a table
-- that breaks the rule, created in this transaction, is caught.
BEGIN;
SELECT plan(10);

DELETE FROM todo.tasks WHERE user_id IN ('alice', 'bob');

-- citus_key_violations(): each key of a user_id table that lacks user_id, as
-- "table: constraint or index".
CREATE FUNCTION pg_temp.citus_key_violations() RETURNS SETOF text
    LANGUAGE sql STABLE
    AS $$
    WITH user_tables AS (
        SELECT c.oid AS rel, a.attnum AS user_col
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id' AND NOT a.attisdropped
         WHERE c.relkind IN ('r', 'p') AND n.nspowner = 'todo_owner'::regrole)
    SELECT format('%s: %s', i.indrelid::regclass, i.indexrelid::regclass) COLLATE "C"
      FROM user_tables t JOIN pg_index i ON i.indrelid = t.rel
     WHERE (i.indisunique OR i.indisprimary OR i.indisexclusion) AND NOT (t.user_col = ANY (i.indkey))
    UNION ALL
    SELECT format('%s: %s', k.conrelid::regclass, k.conname) COLLATE "C"
      FROM pg_constraint k
      JOIN user_tables f ON f.rel = k.conrelid
      JOIN user_tables r ON r.rel = k.confrelid
     WHERE k.contype = 'f' AND NOT (f.user_col = ANY (k.conkey) AND r.user_col = ANY (k.confkey))
     ORDER BY 1
$$;

SELECT is_empty('SELECT * FROM pg_temp.citus_key_violations()',
                'every key of every table holding user_id contains user_id');
SELECT results_eq($$SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'p') AND n.nspowner = 'todo_owner'::regrole
                       AND EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id')
                     ORDER BY 1$$,
                  ARRAY['todo.event_counters', 'todo.events', 'todo.idempotency_keys', 'todo.revocations', 'todo.tasks'],
                  'the check above sees the tables holding user_id: todo.event_counters, todo.events, '
                  'todo.idempotency_keys, todo.revocations and todo.tasks');
SELECT results_eq($$SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                     WHERE c.relkind IN ('r', 'p') AND n.nspowner = 'todo_owner'::regrole
                       AND NOT EXISTS (SELECT FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'user_id')
                     ORDER BY 1$$,
                  ARRAY['todo.users'],
                  'todo.users, keyed by the user id itself, is the one table without user_id (a reference table on Citus)');
SELECT is_empty($$SELECT c.oid::regclass FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                   JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'user_id'
                  WHERE c.relkind IN ('r', 'p') AND n.nspowner = 'todo_owner'::regrole AND NOT a.attnotnull$$,
                'user_id, the distribution column, is NOT NULL in every table holding it');
SELECT col_is_pk('todo', 'tasks', ARRAY['user_id', 'id'], 'todo.tasks is keyed by (user_id, id)');

-- ids stay unique without a key of their own: they come from the identity sequence only
SELECT is((SELECT attidentity FROM pg_attribute WHERE attrelid = 'todo.tasks'::regclass AND attname = 'id'), 'a',
          'todo.tasks.id is GENERATED ALWAYS AS IDENTITY: every id comes from its one sequence');
-- as alice
SET LOCAL ROLE todo_gateway;
SELECT api.begin_request('alice');
SELECT throws_ok($$INSERT INTO todo.tasks (id, user_id, title) VALUES (1, 'alice', 'my own id')$$, '428C9', NULL,
                 'alice cannot choose a task id: it only comes from the sequence');
SELECT lives_ok($$INSERT INTO todo.tasks (user_id, title) VALUES ('alice', 'an id from the sequence')$$,
                'alice can insert a task that takes its id from the sequence');
RESET ROLE;

-- positive control, as the owner: a table keyed without user_id is caught, one keyed with it is not
SET LOCAL ROLE todo_owner;
CREATE TABLE todo.citus_probe_bad (id bigint PRIMARY KEY, user_id text NOT NULL, email text UNIQUE);
CREATE TABLE todo.citus_probe_good (id bigint, user_id text NOT NULL, email text, PRIMARY KEY (user_id, id),
                                    UNIQUE (user_id, email));
CREATE TABLE todo.citus_probe_child (user_id text NOT NULL, probe_id bigint, parent_id bigint, PRIMARY KEY (user_id, probe_id),
                                     FOREIGN KEY (user_id, parent_id) REFERENCES todo.citus_probe_good (user_id, id),
                                     CONSTRAINT citus_probe_child_bad_fkey FOREIGN KEY (parent_id) REFERENCES todo.citus_probe_bad (id));
RESET ROLE;
SELECT results_eq('SELECT v COLLATE "default" FROM pg_temp.citus_key_violations() v ORDER BY 1',
                  ARRAY['todo.citus_probe_bad: todo.citus_probe_bad_email_key',
                        'todo.citus_probe_bad: todo.citus_probe_bad_pkey',
                        'todo.citus_probe_child: citus_probe_child_bad_fkey'],
                  'a table keyed by id alone, a unique email without user_id and a foreign key without it are caught');
SELECT is_empty($$SELECT * FROM pg_temp.citus_key_violations() v WHERE v LIKE 'todo.citus_probe_good%'$$,
                'a table keyed by (user_id, id) with unique (user_id, email) is not');

SELECT * FROM finish();
ROLLBACK;
