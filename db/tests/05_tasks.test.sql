-- What alice's writes do to her own tasks: the shape of a task, POST, PUT (a description
-- left out becomes null, a completed left out keeps its value), PATCH (only the named
-- fields), the completion route (no body toggles, a body sets), DELETE, and the timestamps
-- the tasks_touch trigger keeps. now() is constant inside a transaction, so the tasks under
-- test are inserted as postgres with timestamps of 2020: a write shows as updated_at = now().
BEGIN;
SELECT plan(53);

-- a clean slate for alice and bob, as postgres
\ir clean_slate.psql

-- fixtures, as postgres: alice's tasks last touched in 2020
INSERT INTO todo.tasks (user_id, title, description, completed, created_at, updated_at)
VALUES ('alice', 'Buy milk', 'two litres', true, '2020-01-01Z', '2020-01-02Z') RETURNING id AS put_task \gset
INSERT INTO todo.tasks (user_id, title, description, completed, created_at, updated_at)
VALUES ('alice', 'Call mum', 'about Sunday', false, '2020-01-01Z', '2020-01-02Z') RETURNING id AS patch_task \gset
INSERT INTO todo.tasks (user_id, title, description, completed, created_at, updated_at)
VALUES ('alice', 'Water the plants', NULL, false, '2020-01-01Z', '2020-01-02Z') RETURNING id AS done_task \gset
INSERT INTO todo.tasks (user_id, title, description, completed, created_at, updated_at)
VALUES ('alice', 'Pay rent', NULL, false, '2020-01-01Z', '2020-01-02Z') RETURNING id AS old_task \gset
INSERT INTO todo.tasks (user_id, title, description, completed, created_at, updated_at)
VALUES ('alice', 'Leave alone', 'as it is', false, '2020-01-01Z', '2020-01-02Z') RETURNING id AS untouched_task \gset

-- as alice
SET LOCAL ROLE todo_gateway;
SELECT api.begin_request('alice');

-- POST and GET ---------------------------------------------------------------------------

SELECT api.create_task('{"title": "Buy bread", "description": "rye", "user_id": "bob", "id": 1}') AS created \gset
SELECT is((SELECT array_agg(k ORDER BY k) FROM json_object_keys(:'created'::json) k),
          ARRAY['completed', 'created_at', 'description', 'due_date', 'id', 'priority', 'recurrence', 'tags', 'title',
                'updated_at', 'user_id'],
          'alice''s new task has exactly the fields of a task');
SELECT is(json_typeof(:'created'::json->'id'), 'number', 'a task id is a JSON number');
SELECT is(:'created'::json->>'user_id', 'alice', 'alice''s task is hers even when the body names bob');
SELECT isnt((:'created'::json->>'id')::bigint, 1::bigint, 'an id in the body is ignored');
SELECT is(:'created'::json->>'title', 'Buy bread', 'alice''s task has the title she sent');
SELECT is(:'created'::json->>'description', 'rye', 'alice''s task has the description she sent');
SELECT is(:'created'::json->>'completed', 'false', 'alice''s new task is not completed');
SELECT matches(:'created'::json->>'created_at', '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$',
               'created_at is RFC 3339 in UTC with Z');
SELECT matches(:'created'::json->>'updated_at', '^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$',
               'updated_at is RFC 3339 in UTC with Z');
SELECT is((:'created'::json->>'created_at')::timestamptz, now(), 'created_at is the time of the request');
SELECT is(current_setting('response.location', true), :'created'::json->>'id',
          'creating sets response.location to the new task''s id, for the 201''s Location header (the gateway prefixes the request''s path)');
SELECT is(api.get_task((:'created'::json->>'id')::bigint)::jsonb, :'created'::jsonb,
          'alice reads back exactly the task she created');

-- PUT: replaces the text ------------------------------------------------------------------

SELECT api.update_task(:put_task, '{"title": "  Buy oat milk "}') AS put \gset
SELECT is(:'put'::json->>'title', 'Buy oat milk', 'alice''s PUT replaces the title, trimmed');
SELECT is(json_typeof(:'put'::json->'description'), 'null', 'alice''s PUT without a description clears it');
SELECT is(:'put'::json->>'completed', 'true', 'alice''s PUT without completed keeps it (true stays true)');
SELECT is((:'put'::json->>'updated_at')::timestamptz, now(), 'alice''s PUT stamps updated_at with the time of the request');
SELECT is((:'put'::json->>'created_at')::timestamptz, '2020-01-01Z'::timestamptz, 'alice''s PUT leaves created_at alone');
SELECT results_eq(format('SELECT title, description, completed, created_at, updated_at FROM todo.tasks WHERE id = %s', :put_task),
                  $$VALUES ('Buy oat milk', NULL::text, true, '2020-01-01Z'::timestamptz, now())$$,
                  'alice''s PUT is stored as answered');
SELECT is(api.update_task(:put_task, '{"title": "Buy oat milk", "description": "one litre", "completed": false}')::jsonb
              - 'created_at' - 'updated_at' - 'id' - 'user_id',
          '{"title": "Buy oat milk", "description": "one litre", "completed": false,
           "due_date": null, "priority": "medium", "tags": [], "recurrence": null}'::jsonb,
          'alice''s PUT with every field sets every field');
SELECT throws_ok($$SELECT api.update_task(0, '{"title": "Ghost"}')$$, 'PT404', NULL,
                 'alice cannot replace a task that does not exist');

-- PATCH: only the named fields ------------------------------------------------------------

SELECT is(api.patch_task(:patch_task, '{"completed": true}')::jsonb - 'created_at' - 'updated_at' - 'id' - 'user_id',
          '{"title": "Call mum", "description": "about Sunday", "completed": true,
           "due_date": null, "priority": "medium", "tags": [], "recurrence": null}'::jsonb,
          'alice''s PATCH of completed changes completed alone');
SELECT is(api.patch_task(:patch_task, '{"title": " Call dad "}')::jsonb - 'created_at' - 'updated_at' - 'id' - 'user_id',
          '{"title": "Call dad", "description": "about Sunday", "completed": true,
           "due_date": null, "priority": "medium", "tags": [], "recurrence": null}'::jsonb,
          'alice''s PATCH of the title changes the title alone, trimmed');
SELECT is(api.patch_task(:patch_task, '{"description": "and Monday"}')::jsonb - 'created_at' - 'updated_at' - 'id' - 'user_id',
          '{"title": "Call dad", "description": "and Monday", "completed": true,
           "due_date": null, "priority": "medium", "tags": [], "recurrence": null}'::jsonb,
          'alice''s PATCH of the description changes the description alone');
SELECT is(api.patch_task(:patch_task, '{"description": null}')::jsonb - 'created_at' - 'updated_at' - 'id' - 'user_id',
          '{"title": "Call dad", "description": null, "completed": true,
           "due_date": null, "priority": "medium", "tags": [], "recurrence": null}'::jsonb,
          'alice''s PATCH with "description": null clears the description alone');
SELECT is(api.patch_task(:patch_task, '{}')::jsonb - 'created_at' - 'updated_at' - 'id' - 'user_id',
          '{"title": "Call dad", "description": null, "completed": true,
           "due_date": null, "priority": "medium", "tags": [], "recurrence": null}'::jsonb,
          'alice''s empty PATCH changes nothing');
SELECT is(api.patch_task(:patch_task, '{"title": "Call mum", "description": "x", "completed": false}')::jsonb
              - 'created_at' - 'updated_at' - 'id' - 'user_id',
          '{"title": "Call mum", "description": "x", "completed": false,
           "due_date": null, "priority": "medium", "tags": [], "recurrence": null}'::jsonb,
          'alice''s PATCH of every field changes every field');
SELECT results_eq(format('SELECT created_at, updated_at - now() < interval ''1 ms'' AND updated_at > now() FROM todo.tasks WHERE id = %s',
                         :patch_task),
                  $$VALUES ('2020-01-01Z'::timestamptz, true)$$,
                  'alice''s PATCH stamps updated_at with the time of the request, a microsecond past her earlier writes '
                  'of the task in this transaction, and leaves created_at alone');
SELECT throws_ok($$SELECT api.patch_task(0, '{}')$$, 'PT404', NULL, 'alice cannot patch a task that does not exist');

-- the completion route: no body toggles, a body sets ---------------------------------------

SELECT is(api.set_task_completion(:done_task)->>'completed', 'true', 'alice''s completion without a body toggles false to true');
SELECT is(api.set_task_completion(:done_task)->>'completed', 'false', 'and toggles true back to false');
SELECT is(api.set_task_completion(:done_task, NULL)->>'completed', 'true', 'a NULL body toggles too');
SELECT is(api.set_task_completion(:done_task, '{}')->>'completed', 'false', 'a body without completed toggles too');
SELECT is(api.set_task_completion(:done_task, '{"completed": true}')->>'completed', 'true',
          'alice''s {"completed": true} sets it');
SELECT is(api.set_task_completion(:done_task, '{"completed": true}')->>'completed', 'true',
          'alice''s {"completed": true} again keeps it true: a body sets, it does not toggle');
SELECT is(api.set_task_completion(:done_task, '{"completed": false}')->>'completed', 'false',
          'alice''s {"completed": false} sets it back');
SELECT is(api.set_task_completion(:done_task, '{"completed": false}')->>'title', 'Water the plants',
          'the completion route leaves the title alone');
SELECT results_eq(format('SELECT created_at, updated_at - now() < interval ''1 ms'' AND updated_at > now() FROM todo.tasks WHERE id = %s',
                         :done_task),
                  $$VALUES ('2020-01-01Z'::timestamptz, true)$$,
                  'alice''s completion stamps updated_at with the time of the request, a microsecond past her earlier '
                  'writes of the task in this transaction, and leaves created_at alone');
SELECT throws_ok('SELECT api.set_task_completion(0)', 'PT404', NULL,
                 'alice cannot complete a task that does not exist');

-- the tasks_touch trigger: the database keeps the timestamps --------------------------------

SELECT is(api.get_task(:old_task)->>'updated_at', '2020-01-02T00:00:00.000000Z', 'alice''s untouched task still shows 2020');
SELECT lives_ok(format($$UPDATE todo.tasks SET created_at = '1999-01-01Z', updated_at = '1999-01-01Z' WHERE id = %s$$, :old_task),
                'alice may run a plain UPDATE naming the timestamps');
SELECT results_eq(format('SELECT created_at, updated_at FROM todo.tasks WHERE id = %s', :old_task),
                  $$VALUES ('2020-01-01Z'::timestamptz, now())$$,
                  'but created_at keeps its value and updated_at becomes now(): the trigger decides');
SELECT throws_ok(format('UPDATE todo.tasks SET id = 1 WHERE id = %s', :old_task), '428C9', NULL,
                 'alice cannot change a task''s id');

-- DELETE ------------------------------------------------------------------------------------

SELECT is(api.delete_task(:old_task)::text, 'null', 'alice''s delete answers JSON null (204, no body)');
SELECT throws_ok(format('SELECT api.get_task(%s)', :old_task), 'PT404', NULL, 'alice cannot read her deleted task');
SELECT throws_ok(format('SELECT api.delete_task(%s)', :old_task), 'PT404', NULL, 'alice cannot delete it twice');
SELECT throws_ok(format($$SELECT api.update_task(%s, '{"title": "Pay rent"}')$$, :old_task), 'PT404', NULL,
                 'alice cannot replace her deleted task');
SELECT throws_ok(format($$SELECT api.patch_task(%s, '{}')$$, :old_task), 'PT404', NULL,
                 'alice cannot patch her deleted task');
SELECT throws_ok(format('SELECT api.set_task_completion(%s)', :old_task), 'PT404', NULL,
                 'alice cannot complete her deleted task');
SELECT ok(NOT (api.list_tasks()::jsonb @> jsonb_build_array(jsonb_build_object('id', :old_task))),
          'alice''s deleted task is gone from her list');
SELECT ok(api.list_tasks()::jsonb @> jsonb_build_array(jsonb_build_object('id', :put_task)),
          'while her other tasks are still listed');
RESET ROLE;
SELECT is_empty(format('SELECT * FROM todo.tasks WHERE id = %s', :old_task), 'the deleted row is gone for postgres too');
SET LOCAL ROLE todo_gateway;

-- as alice: a PATCH that names no field writes nothing
SELECT is((api.patch_task(:untouched_task, '{}')->>'updated_at')::timestamptz, '2020-01-02Z'::timestamptz,
          'alice''s empty PATCH returns the task with updated_at untouched');
SELECT is((api.patch_task(:untouched_task, '{"unknown": 1}')->>'description'), 'as it is',
          'alice''s PATCH of unknown fields changes nothing');

SELECT * FROM finish();
ROLLBACK;
