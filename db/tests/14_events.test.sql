-- Live updates (issue 12): the events table (forced row-level security, keyed by (user_id,
-- id)), the trigger tasks_events that records every change of a task with the user's next id,
-- the pruning it does, and api.events_since, acted as the gateway acts (SET LOCAL ROLE
-- todo_gateway, then api.begin_request). bob never reads alice's events; ids increase by one
-- per user; a client too far behind gets the event reset; a DBA's write in psql is recorded
-- too. (The notification itself, delivered at commit, is told by tests/http/test_events.)
BEGIN;
SELECT plan(35);

-- a clean slate for alice and bob, as postgres
\ir clean_slate.psql

-- the tables ---------------------------------------------------------------------------------

SELECT columns_are('todo', 'events', ARRAY['user_id', 'id', 'kind', 'task_id', 'data', 'created_at'],
                   'todo.events has exactly the columns of an event');
SELECT col_is_pk('todo', 'events', ARRAY['user_id', 'id'], 'an event is keyed by (user_id, id): ids are per user');
SELECT col_is_pk('todo', 'event_counters', ARRAY['user_id'], 'one event counter per user');
SELECT ok((SELECT bool_and(relrowsecurity AND relforcerowsecurity) FROM pg_class
            WHERE oid IN ('todo.events'::regclass, 'todo.event_counters'::regclass)),
          'row-level security is enabled and forced on todo.events and todo.event_counters');
SELECT table_privs_are('todo', 'events', 'todo_gateway', ARRAY['SELECT'], 'todo_gateway may only read events');
SELECT table_privs_are('todo', 'event_counters', 'todo_gateway', ARRAY['SELECT'], 'todo_gateway may only read event counters');
SELECT trigger_is('todo', 'tasks', 'tasks_events', 'todo', 'record_task_event', 'the tasks_events trigger runs todo.record_task_event()');
SELECT is(todo.event_stream_text('[{"id": 7, "event": "task.deleted", "data": {"id": 3}}, {"id": 8, "event": "reset", "data": {}}]'),
          E'id: 7\nevent: task.deleted\ndata: {"id": 3}\n\nid: 8\nevent: reset\ndata: {}\n\n',
          'todo.event_stream_text writes each event as an id, event and data block (text/event-stream)');

SET LOCAL ROLE todo_gateway;

-- as alice: every change of a task is an event, ids 1, 2, 3 ---------------------------------

SELECT api.begin_request('alice');
SELECT is(api.events_since(NULL)::jsonb, '{"last_event_id": 0, "more": false, "events": []}',
          'alice without events starts at 0 with nothing to replay');
SELECT api.create_task('{"title": "Buy milk"}') AS created \gset
SELECT api.patch_task((:'created'::json->>'id')::bigint, '{"completed": true}') AS patched \gset
SELECT api.create_task('{"title": "Call mum"}') AS second \gset
SELECT api.delete_task((:'second'::json->>'id')::bigint);
SELECT is(api.events_since(0)::jsonb,
          jsonb_build_object('last_event_id', 4, 'more', false, 'events', jsonb_build_array(
              jsonb_build_object('id', 1, 'event', 'task.created', 'data', :'created'::jsonb),
              jsonb_build_object('id', 2, 'event', 'task.updated', 'data', :'patched'::jsonb),
              jsonb_build_object('id', 3, 'event', 'task.created', 'data', :'second'::jsonb),
              jsonb_build_object('id', 4, 'event', 'task.deleted', 'data', jsonb_build_object('id', (:'second'::json->>'id')::bigint)))),
          'alice''s four changes are events 1 to 4, in order, each with the task as the routes returned it (a deletion: its id)');
SELECT is((SELECT data::text FROM todo.events WHERE id = 1), :'created',
          'an event''s data is the very text the task route answered');
SELECT is(api.events_since(2)::jsonb->'events'->0->>'id', '3', 'alice resuming after event 2 gets event 3 first');
SELECT is(json_array_length(api.events_since(4)->'events'), 0, 'alice resuming after her newest event gets nothing');
SELECT is(api.events_since(NULL)::jsonb->>'last_event_id', '4', 'a stream without Last-Event-ID starts at alice''s newest event');

-- as bob (stranger): his own ids, and none of alice's events ---------------------------------

SELECT api.begin_request('bob');
SELECT api.create_task('{"title": "Bob''s"}') AS bobs \gset
SELECT is((SELECT array_agg(id) FROM todo.events), ARRAY[1::bigint], 'bob''s first event is his own id 1: ids are per user');
SELECT is((SELECT count(*) FROM todo.events WHERE user_id = 'alice'), 0::bigint, 'bob cannot read alice''s events');
SELECT is((SELECT count(*) FROM todo.event_counters WHERE user_id = 'alice'), 0::bigint, 'bob cannot read alice''s counter');
SELECT is(api.events_since(0)::jsonb->'events', jsonb_build_array(jsonb_build_object('id', 1, 'event', 'task.created', 'data', :'bobs'::jsonb)),
          'bob replaying from 0 gets his one event, none of alice''s');
SELECT is(api.events_since(3)::jsonb->'events'->0->>'event', 'reset',
          'bob asking after alice''s id 3 is told reset (not an id he had), never shown alice''s event 4');
SELECT throws_ok($$INSERT INTO todo.events (user_id, id, kind, task_id, data) VALUES ('bob', 99, 'task.created', 1, '{}')$$,
                 '42501', NULL, 'bob cannot write an event, not even his own: only the trigger does');
SELECT throws_ok($$SELECT todo.record_event('alice', 'task.deleted', 1, '{}')$$, '42501', NULL,
                 'bob cannot call the trigger''s helper to forge alice''s events');
SELECT api.begin_request('alice');
SELECT is((SELECT count(*) FROM todo.events), 4::bigint, 'alice still sees her four events (the control of the denials above)');

-- as nobody
SELECT api.begin_request(NULL);
SELECT is_empty('SELECT * FROM todo.events', 'nobody reads no event');
SELECT throws_ok('SELECT api.events_since(0)', 'PT401', NULL, 'api.events_since needs a user');

-- reset: a client whose next event is no longer kept ------------------------------------------

-- as alice: 1,000 more writes; the last 1,000 events are kept, the older ones pruned
SELECT api.begin_request('alice');
SELECT count(api.patch_task((:'created'::json->>'id')::bigint, format('{"title": "Milk %s"}', i))) FROM generate_series(1, 1000) i;
SELECT is((SELECT min(id) || '..' || max(id) || ' ' || count(*) FROM todo.events), '5..1004 1000',
          'after 1,004 events alice keeps her last 1,000 (5 to 1004): one pruned per write');
SELECT is(api.events_since(3)::jsonb,
          '{"last_event_id": 1004, "more": false, "events": [{"id": 1004, "event": "reset", "data": {"last_event_id": 1004}}]}',
          'alice resuming after event 3 (event 4 pruned) gets the one event reset, at her newest id');
SELECT is(api.events_since(4)::jsonb - 'events', '{"last_event_id": 104, "more": true}',
          'alice resuming after event 4 gets a page: events 5 to 104, and more to come');
SELECT is(api.events_since(-1)::jsonb->'events'->0->>'event', 'reset', 'a negative id is a reset');
SELECT is(api.events_since(5000)::jsonb->'events'->0->>'event', 'reset', 'an id beyond alice''s newest is a reset');

-- pruning by age: the two oldest rows looked at per write, bounded work
RESET ROLE;
UPDATE todo.events SET created_at = now() - interval '25 hours' WHERE user_id = 'bob';
SET LOCAL ROLE todo_gateway;
SELECT api.begin_request('bob');
SELECT api.create_task('{"title": "Bob 2"}');
SELECT api.create_task('{"title": "Bob 3"}');
SELECT is((SELECT array_agg(id ORDER BY id) FROM todo.events), ARRAY[2::bigint, 3],
          'bob''s event older than 24 hours is pruned by his next write; the fresh ones stay');

-- a DBA in psql: the trigger records their writes too ----------------------------------------

RESET ROLE;
UPDATE todo.tasks SET title = 'Milk (by the DBA)' WHERE id = (:'created'::json->>'id')::bigint;
SELECT is((SELECT kind || ' ' || (data->>'title') FROM todo.events WHERE user_id = 'alice' ORDER BY id DESC LIMIT 1),
          'task.updated Milk (by the DBA)', 'a superuser''s update in psql is an event of the task''s user');
UPDATE todo.tasks SET user_id = 'bob' WHERE id = (:'created'::json->>'id')::bigint;
SELECT is((SELECT kind FROM todo.events WHERE user_id = 'alice' ORDER BY id DESC LIMIT 1), 'task.deleted',
          'a task moved to bob is deleted for alice...');
SELECT is((SELECT kind || ' ' || id FROM todo.events WHERE user_id = 'bob' ORDER BY id DESC LIMIT 1), 'task.created 4',
          '... and created for bob, with his next id');
SET LOCAL ROLE todo_admin;
SELECT api.begin_request('bob');
SELECT api.delete_task((:'created'::json->>'id')::bigint);
SELECT is((SELECT kind || ' ' || id FROM todo.events ORDER BY id DESC LIMIT 1), 'task.deleted 5',
          'a DBA acting as bob (todo_admin, api.begin_request) records bob''s event');
SELECT is((SELECT count(*) FROM todo.events WHERE user_id = 'alice'), 0::bigint,
          'todo_admin acting as bob reads none of alice''s events');

SELECT * FROM finish();
ROLLBACK;
