-- Conditional requests (RFC 9110 section 13), as alice and bob make them through the api: the
-- entity tag each answer sets (response.etag: strong for a task, made of its id and updated_at;
-- weak for a list, made of the body), If-None-Match on a read (response.status 304, no body),
-- and If-Match / If-None-Match on PUT, PATCH, the completion route and DELETE: a stale tag is
-- PT412 and nothing is written. Two writers holding the same tag: the first wins, the second
-- meets PT412 (the stale case; the two truly racing, in two transactions, is test_features'
-- HTTP test: the comparison happens under the row's lock). One file is one transaction, so
-- each check resets the response.* settings it reads, as a new request would find them.
BEGIN;
SELECT plan(24);

-- a clean slate for alice and bob, as postgres
\ir clean_slate.psql

\ir outcome.psql

-- as alice
SET LOCAL ROLE todo_gateway;
SELECT api.begin_request('alice');
SELECT (api.create_task('{"title": "v1"}')->>'id')::bigint AS task \gset
SELECT etag AS tag1 FROM pg_temp.outcome(format('SELECT api.get_task(%s)', :task)) \gset

-- the tags --------------------------------------------------------------------------------

SELECT is(:'tag1'::text, (SELECT todo.task_etag(t) FROM todo.tasks t WHERE id = :task),
          'alice''s GET of a task sets response.etag to its entity tag');
SELECT matches(:'tag1'::text, format('^"%s\.[0-9]+"$', :task), 'a strong tag made of the id and updated_at in microseconds');
SELECT etag AS created_tag FROM pg_temp.outcome('SELECT api.create_task(''{"title": "other"}'')') \gset
SELECT is(:'created_tag'::text, (SELECT todo.task_etag(t) FROM todo.tasks t WHERE user_id = 'alice' AND title = 'other'),
          'creating a task sets the new task''s tag too (the 201''s ETag)');
SELECT matches((SELECT etag FROM pg_temp.outcome('SELECT api.list_tasks()')), '^W/"[0-9a-f]{32}"$',
               'alice''s list sets a weak tag, an MD5 of the answer');
SELECT isnt((SELECT etag FROM pg_temp.outcome('SELECT api.list_tasks("limit" => ''1'')')),
            (SELECT etag FROM pg_temp.outcome('SELECT api.list_tasks()')), 'another page of the list has another tag');

-- If-None-Match on a read: 304 and no body when it names the current version -----------------

SELECT results_eq(
    format($$SELECT a.result IS NULL, a.status, a.etag FROM (VALUES (%1$L), ('W/' || %1$L), ('"x", ' || %1$L), ('*'))
                        v(field), pg_temp.outcome(format('SELECT api.get_task(%2$s, %%L)', field)) a$$, :'tag1', :task),
    format('VALUES (true, %1$L, %2$L), (true, %1$L, %2$L), (true, %1$L, %2$L), (true, %1$L, %2$L)', '304', :'tag1'),
    'alice''s GET with If-None-Match naming the task''s tag (weakly, in a list, or *) answers 304, no body, the tag');
SELECT results_eq(
    format($$SELECT a.result->>'title', a.status FROM pg_temp.outcome(format('SELECT api.get_task(%s, ''"1.1"'')', %s)) a$$,
           :task, :task),
    $$VALUES ('v1', NULL::text)$$, 'with another tag, the task and no status: 200');
SELECT etag AS list_tag FROM pg_temp.outcome('SELECT api.list_tasks()') \gset
SELECT results_eq(format($$SELECT result, status FROM pg_temp.outcome(format('SELECT api.list_tasks(if_none_match => %%L)', %L))$$,
                         :'list_tag'),
                  $$VALUES (NULL::jsonb, '304')$$, 'alice''s list with If-None-Match naming its tag answers 304');

-- If-Match on a write: PT412 for a stale tag, nothing written ------------------------------

CREATE TEMP TABLE before AS SELECT * FROM todo.tasks WHERE id = :task;
SELECT results_eq(
    format($$SELECT (pg_temp.outcome(format(call, %s, field))).error FROM (VALUES
        ('SELECT api.update_task(%%s, ''{"title": "stale"}'', %%L)'), ('SELECT api.patch_task(%%s, ''{"title": "stale"}'', %%L)'),
        ('SELECT api.set_task_completion(%%s, NULL, %%L)'), ('SELECT api.delete_task(%%s, %%L)')) c(call),
        (VALUES ('"1.1"'), ('W/' || %L), ('"x", "y"'), ('not a tag')) f(field)$$, :task, :'tag1'),
    $$SELECT 'PT412' FROM generate_series(1, 16)$$,
    'alice''s PUT, PATCH, completion and DELETE with If-Match naming no current tag (an old one, a weak one: the '
    'comparison is strong, a list of others, no tag at all) are PT412');
SELECT results_eq(
    format($$SELECT (pg_temp.outcome(format(call, %s))).error FROM (VALUES
        ('SELECT api.update_task(%%s, ''{"title": "stale"}'', if_none_match => ''*'')'),
        ('SELECT api.patch_task(%%s, ''{"title": "stale"}'', if_none_match => ''*'')'),
        ('SELECT api.set_task_completion(%%s, NULL, if_none_match => ''*'')'),
        ('SELECT api.delete_task(%%s, if_none_match => ''*'')')) c(call)$$, :task),
    $$SELECT 'PT412' FROM generate_series(1, 4)$$,
    'and with If-None-Match naming the current version (*): PT412');
-- (as text: the row holds its JSON, and json has no equality operator)
SELECT results_eq('SELECT t::text FROM todo.tasks t WHERE id = ' || :task, 'SELECT b::text FROM before b',
                  'none of them wrote anything: alice''s task is as it was');

SELECT a.result->>'title' AS patched, a.etag AS patched_tag
  FROM pg_temp.outcome(format('SELECT api.patch_task(%s, ''{"title": "v2"}'', %L)', :task, '"x", ' || :'tag1')) a \gset
SELECT is(:'patched'::text, 'v2', 'alice''s PATCH with If-Match naming the current tag (in a list) writes');
SELECT is(:'patched_tag'::text, (SELECT todo.task_etag(t) FROM todo.tasks t WHERE id = :task),
          'and sets the task''s new tag (RFC 5789)');
SELECT isnt(:'patched_tag'::text, :'tag1', 'which is not the old one');
SELECT etag AS tag2 FROM pg_temp.outcome(format('SELECT api.get_task(%s)', :task)) \gset
SELECT results_eq(
    format($$SELECT a.result->>'title', a.etag FROM pg_temp.outcome(format('SELECT api.update_task(%s, ''{"title": "v3"}'', %%L)', %L)) a$$,
           :task, :'tag2'),
    $$VALUES ('v3', NULL::text)$$,
    'alice''s PUT with the current tag writes, and sets no tag: the stored task is not the body sent (RFC 9110 9.3.4)');
SELECT results_eq(
    format($$SELECT a.result->>'completed', a.etag IS NOT NULL
               FROM pg_temp.outcome(format('SELECT api.set_task_completion(%s, NULL, ''*'')')) a$$, :task),
    $$VALUES ('true', true)$$, 'alice''s completion with If-Match: * writes (the task exists) and sets the new tag');

-- every write makes a new tag, even two in one transaction (updated_at moves on) ------------

SELECT etag AS tag4 FROM pg_temp.outcome(format('SELECT api.get_task(%s)', :task)) \gset
SELECT api.patch_task(:task, '{"title": "v5"}') \g /dev/null
SELECT isnt((SELECT etag FROM pg_temp.outcome(format('SELECT api.get_task(%s)', :task))), :'tag4',
            'a second write in the same transaction still changes the tag');
SELECT cmp_ok((SELECT updated_at FROM todo.tasks WHERE id = :task), '>', now(),
              'updated_at moved a microsecond past the transaction''s earlier write, beyond now()');

-- two writers holding the same tag: the first wins, the second meets PT412 ----------------

SELECT etag AS shared FROM pg_temp.outcome(format('SELECT api.get_task(%s)', :task)) \gset
SELECT results_eq(
    format($$SELECT (pg_temp.outcome(format('SELECT api.patch_task(%s, ''{"title": "%%s"}'', %%L)', w, %L))).error
               FROM (VALUES ('phone'), ('laptop')) v(w)$$, :task, :'shared'),
    $$VALUES (NULL::text), ('PT412')$$,
    'alice''s phone and laptop both send the tag they read: the phone''s write wins, the laptop''s is PT412');
SELECT is((SELECT title FROM todo.tasks WHERE id = :task), 'phone', 'and the task holds the phone''s change');

-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT is_empty(format('SELECT todo.task_etag(t) FROM todo.tasks t WHERE id = %s', :task), 'bob cannot read alice''s tag');
RESET ROLE;
SELECT todo.task_etag(t) AS alice_tag FROM todo.tasks t WHERE id = :task \gset
SET LOCAL ROLE todo_gateway;
SELECT results_eq(
    format($$SELECT (pg_temp.outcome(format(call, %s, %L))).error FROM (VALUES
        ('SELECT api.get_task(%%s, %%L)'), ('SELECT api.update_task(%%s, ''{"title": "bob"}'', %%L)'),
        ('SELECT api.patch_task(%%s, ''{"title": "bob"}'', %%L)'), ('SELECT api.set_task_completion(%%s, NULL, %%L)'),
        ('SELECT api.delete_task(%%s, %%L)'), ('SELECT api.delete_task(%%s, ''*'')')) c(call)$$, :task, :'alice_tag'),
    $$SELECT 'PT404' FROM generate_series(1, 6)$$,
    'bob, even holding alice''s current tag, meets PT404 at every route: a tag tells nothing of a task he cannot see');

-- as alice: her task is still hers, as the phone left it
SELECT api.begin_request('alice');
SELECT is((SELECT result->>'title' FROM pg_temp.outcome(format('SELECT api.get_task(%s)', :task))), 'phone',
          'alice''s task is as her phone left it');
SELECT results_eq(
    format($$SELECT (pg_temp.outcome(format('SELECT api.delete_task(%s, %%L)', %L))).error$$, :task, :'alice_tag'),
    $$VALUES (NULL::text)$$, 'alice deletes it with its current tag');

SELECT * FROM finish();
ROLLBACK;
