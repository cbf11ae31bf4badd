-- api.list_tasks: filters, sort orders and their defaults, search, paging and the
-- transaction-local response.next_offset the gateway turns into Link: rel="next", and the
-- 422 for every unknown query value. alice's tasks are inserted as postgres with fixed
-- timestamps, so every expected order is known without a clock.
BEGIN;
SELECT plan(51);

-- a clean slate for alice and bob, as postgres
\ir clean_slate.psql

-- ids(list): the task ids of a list_tasks answer, in the order given.
CREATE FUNCTION pg_temp.ids(tasks json) RETURNS bigint[]
    LANGUAGE sql IMMUTABLE
    AS $$ SELECT coalesce(array_agg((t->>'id')::bigint ORDER BY n), '{}')
            FROM json_array_elements(tasks) WITH ORDINALITY AS e(t, n) $$;

-- fixtures, as postgres
--   title          description          completed  created     updated
--   banana bread   -                    no         2024-01-01  2024-01-05
--   Apple pie      grandma's RECIPE     yes        2024-01-02  2024-01-03
--   cherry jam     buy jars             no         2024-01-03  2024-01-04
--   Date night     -                    yes        2024-01-04  2024-01-06
-- and bob's "Apple crumble", which alice must never see.
INSERT INTO todo.tasks (user_id, title, description, completed, created_at, updated_at)
VALUES ('alice', 'banana bread', NULL, false, '2024-01-01Z', '2024-01-05Z') RETURNING id AS banana \gset
INSERT INTO todo.tasks (user_id, title, description, completed, created_at, updated_at)
VALUES ('alice', 'Apple pie', 'grandma''s RECIPE', true, '2024-01-02Z', '2024-01-03Z') RETURNING id AS apple \gset
INSERT INTO todo.tasks (user_id, title, description, completed, created_at, updated_at)
VALUES ('alice', 'cherry jam', 'buy jars', false, '2024-01-03Z', '2024-01-04Z') RETURNING id AS cherry \gset
INSERT INTO todo.tasks (user_id, title, description, completed, created_at, updated_at)
VALUES ('alice', 'Date night', NULL, true, '2024-01-04Z', '2024-01-06Z') RETURNING id AS date \gset
INSERT INTO todo.tasks (user_id, title, description, completed, created_at, updated_at)
VALUES ('bob', 'Apple crumble', 'apple recipe', false, '2024-01-05Z', '2024-01-07Z') RETURNING id AS crumble \gset

-- as alice
SET LOCAL ROLE todo_gateway;
SELECT api.begin_request('alice');

-- sorting --------------------------------------------------------------------------------

SELECT is(pg_temp.ids(api.list_tasks()), ARRAY[:date, :cherry, :apple, :banana]::bigint[],
          'alice''s list is newest first by default (sort=created, order=desc)');
SELECT is(pg_temp.ids(api.list_tasks(sort => 'created', "order" => 'asc')), ARRAY[:banana, :apple, :cherry, :date]::bigint[],
          'alice can list her tasks oldest first');
SELECT is(pg_temp.ids(api.list_tasks(sort => 'created_at')), ARRAY[:date, :cherry, :apple, :banana]::bigint[],
          'alice can say sort=created_at for sort=created');
SELECT is(pg_temp.ids(api.list_tasks(sort => 'updated')), ARRAY[:date, :banana, :cherry, :apple]::bigint[],
          'alice can list her tasks most recently updated first (desc is the default for dates)');
SELECT is(pg_temp.ids(api.list_tasks(sort => 'updated_at', "order" => 'asc')), ARRAY[:apple, :cherry, :banana, :date]::bigint[],
          'alice can say sort=updated_at for sort=updated, and order=asc');
SELECT is(pg_temp.ids(api.list_tasks(sort => 'title')), ARRAY[:apple, :banana, :cherry, :date]::bigint[],
          'alice''s list by title is A to Z by default, ignoring case');
SELECT is(pg_temp.ids(api.list_tasks(sort => 'title', "order" => 'desc')), ARRAY[:date, :cherry, :banana, :apple]::bigint[],
          'alice can list her tasks by title Z to A');

-- filtering and searching ----------------------------------------------------------------

SELECT is(pg_temp.ids(api.list_tasks(status => 'all')), ARRAY[:date, :cherry, :apple, :banana]::bigint[],
          'alice''s status=all lists every task of hers');
SELECT is(pg_temp.ids(api.list_tasks(status => 'pending')), ARRAY[:cherry, :banana]::bigint[],
          'alice''s status=pending lists her open tasks');
SELECT is(pg_temp.ids(api.list_tasks(status => 'completed')), ARRAY[:date, :apple]::bigint[],
          'alice''s status=completed lists her done tasks');
SELECT is(pg_temp.ids(api.list_tasks(status => 'completed', sort => 'title')), ARRAY[:apple, :date]::bigint[],
          'alice can filter and sort at once');
SELECT is(pg_temp.ids(api.list_tasks(q => 'APPLE')), ARRAY[:apple]::bigint[],
          'alice''s search finds titles whatever the case, and never bob''s "Apple crumble"');
SELECT is(pg_temp.ids(api.list_tasks(q => 'recipe')), ARRAY[:apple]::bigint[],
          'alice''s search finds descriptions whatever the case');
SELECT is(pg_temp.ids(api.list_tasks(q => 'Jars')), ARRAY[:cherry]::bigint[],
          'alice''s search finds a word of a description');
SELECT is(pg_temp.ids(api.list_tasks(q => 'a', status => 'pending')), ARRAY[:cherry, :banana]::bigint[],
          'alice can search and filter at once');
SELECT is(pg_temp.ids(api.list_tasks(q => '')), ARRAY[:date, :cherry, :apple, :banana]::bigint[],
          'alice''s empty search lists everything');
SELECT is(api.list_tasks(q => 'kiwi')::text, '[]', 'alice''s search for nothing of hers is an empty JSON array');
SELECT is(api.list_tasks(q => '%')::text, '[]', 'alice''s search takes % literally, not as a LIKE pattern');

-- paging -------------------------------------------------------------------------------

SET LOCAL response.next_offset = '';
SELECT is(pg_temp.ids(api.list_tasks("limit" => '2')), ARRAY[:date, :cherry]::bigint[], 'alice''s first page of two');
SELECT is(current_setting('response.next_offset', true), '2', 'alice''s first page says the next starts at offset 2');
SET LOCAL response.next_offset = '';
SELECT is(pg_temp.ids(api.list_tasks("limit" => '2', "offset" => '2')), ARRAY[:apple, :banana]::bigint[],
          'alice''s second page of two');
SELECT is(current_setting('response.next_offset', true), '', 'alice''s last page names no next page');
SET LOCAL response.next_offset = '';
SELECT is(pg_temp.ids(api.list_tasks("limit" => '4')), ARRAY[:date, :cherry, :apple, :banana]::bigint[],
          'alice''s page as long as her list holds it all');
SELECT is(current_setting('response.next_offset', true), '', 'a page that holds exactly every row names no next page');
SET LOCAL response.next_offset = '';
SELECT is(pg_temp.ids(api.list_tasks(sort => 'title', "limit" => '1', "offset" => '1')), ARRAY[:banana]::bigint[],
          'alice can page through a sorted list');
SELECT is(current_setting('response.next_offset', true), '2', 'alice''s page of one at offset 1 names offset 2 next');
SET LOCAL response.next_offset = '';
SELECT is(pg_temp.ids(api.list_tasks("offset" => '3')), ARRAY[:banana]::bigint[],
          'alice''s offset without a limit skips that many rows');
SELECT is(current_setting('response.next_offset', true), '', 'the default limit (1000) leaves no next page here');
SELECT is(api.list_tasks("offset" => '10')::text, '[]', 'alice''s offset past the end is an empty JSON array');
SELECT is(pg_temp.ids(api.list_tasks("limit" => '1000')), ARRAY[:date, :cherry, :apple, :banana]::bigint[],
          'alice can ask for the largest page, 1000');

-- unknown values: 422 --------------------------------------------------------------------

SELECT throws_ok($$SELECT api.list_tasks(status => 'done')$$, 'PT422', NULL, 'alice cannot filter by status=done');
SELECT throws_ok($$SELECT api.list_tasks(sort => 'importance')$$, 'PT422', NULL, 'alice cannot sort by a key the list lacks');
SELECT throws_ok($$SELECT api.list_tasks(sort => 'id')$$, 'PT422', NULL, 'alice cannot sort by id');
SELECT throws_ok($$SELECT api.list_tasks("order" => 'up')$$, 'PT422', NULL, 'alice cannot order up');
SELECT throws_ok($$SELECT api.list_tasks(status => 'ALL')$$, 'PT422', NULL, 'alice cannot filter by status=ALL (the enums are lower-case)');
SELECT throws_ok($$SELECT api.list_tasks(sort => 'UPDATED')$$, 'PT422', NULL, 'alice cannot sort by UPDATED (the enums are lower-case)');
SELECT throws_ok($$SELECT api.list_tasks("order" => 'Desc')$$, 'PT422', NULL, 'alice cannot order Desc (the enums are lower-case)');
SELECT throws_ok($$SELECT api.list_tasks("limit" => '0')$$, 'PT422', NULL, 'alice cannot ask for limit=0');
SELECT throws_ok($$SELECT api.list_tasks("limit" => '1001')$$, 'PT422', NULL, 'alice cannot ask for limit=1001');
SELECT throws_ok($$SELECT api.list_tasks("limit" => 'abc')$$, 'PT422', NULL, 'alice cannot ask for limit=abc');
SELECT throws_ok($$SELECT api.list_tasks("limit" => '-1')$$, 'PT422', NULL, 'alice cannot ask for limit=-1');
SELECT throws_ok($$SELECT api.list_tasks("limit" => '2.5')$$, 'PT422', NULL, 'alice cannot ask for limit=2.5');
SELECT throws_ok($$SELECT api.list_tasks("limit" => '')$$, 'PT422', NULL, 'alice cannot ask for an empty limit');
SELECT throws_ok($$SELECT api.list_tasks("limit" => '99999999999999999999')$$, 'PT422', NULL,
                 'alice cannot ask for a limit too large for any integer');
SELECT throws_ok($$SELECT api.list_tasks("offset" => '-1')$$, 'PT422', NULL, 'alice cannot ask for offset=-1');
SELECT throws_ok($$SELECT api.list_tasks("offset" => 'abc')$$, 'PT422', NULL, 'alice cannot ask for offset=abc');
SELECT throws_ok(format('SELECT api.list_tasks(q => %L)', repeat('q', 1001)), 'PT422', NULL,
                 'alice cannot search for 1001 characters');

-- ties: tasks created in one transaction share created_at; the id breaks the tie ---------

SELECT (api.create_task('{"title": "fig"}')->>'id')::bigint AS fig \gset
SELECT (api.create_task('{"title": "grape"}')->>'id')::bigint AS grape \gset
SELECT is((pg_temp.ids(api.list_tasks()))[1:2], ARRAY[:grape, :fig]::bigint[],
          'alice''s tasks created in the same instant come newest id first');
SELECT is((pg_temp.ids(api.list_tasks("order" => 'asc')))[5:6], ARRAY[:fig, :grape]::bigint[],
          'and oldest id first in ascending order');

-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT is(pg_temp.ids(api.list_tasks()), ARRAY[:crumble]::bigint[], 'bob lists only his own task');
SELECT is(pg_temp.ids(api.list_tasks(q => 'apple')), ARRAY[:crumble]::bigint[],
          'bob''s search for apple finds his crumble and not alice''s pie');

SELECT * FROM finish();
ROLLBACK;
