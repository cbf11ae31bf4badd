-- The task features of issue 11, as alice and bob meet them through the api and in plain SQL:
-- due_date (RFC 3339 or a bare date, stored and shown in UTC), priority, tags and recurrence;
-- their rules as 422s naming the field and as named CHECK constraints (23514); what PUT keeps
-- and PATCH changes; the next occurrence of a recurring task, created in the same transaction
-- when it becomes completed (once per occurrence, monthly keeping its day of month); and the
-- list's filters and orders. bob never sees, completes or multiplies alice's recurring task.
BEGIN;
SELECT plan(45);

-- a clean slate for alice and bob, as postgres
\ir clean_slate.psql

\ir outcome.psql

-- problem(sql): the fields the 422 sql raises names ('title, due_date'), or the SQLSTATE of
-- another error, or null when sql raises none.
CREATE FUNCTION pg_temp.problem(sql text) RETURNS text
    LANGUAGE sql
    AS $$ SELECT coalesce(o.problems, o.error) FROM pg_temp.outcome(sql) o $$;

-- fields(task): a task's JSON without what the database chooses (id, user_id, timestamps).
CREATE FUNCTION pg_temp.fields(task json) RETURNS jsonb
    LANGUAGE sql
    AS $$ SELECT task::jsonb - 'id' - 'user_id' - 'created_at' - 'updated_at' $$;

-- titles(page): the titles of a list's page, in order, space separated.
CREATE FUNCTION pg_temp.titles(page json) RETURNS text
    LANGUAGE sql
    AS $$ SELECT string_agg(t->>'title', ' ' ORDER BY n) FROM json_array_elements(page) WITH ORDINALITY a(t, n) $$;

-- as alice
SET LOCAL ROLE todo_gateway;
SELECT api.begin_request('alice');
SET LOCAL TimeZone = 'Asia/Kolkata'; -- +05:30: what alice's session says of time changes nothing below

-- the fields, as the api stores and shows them ---------------------------------------------

SELECT is(pg_temp.fields(api.create_task('{"title": "plain", "description": "d"}')),
          '{"title": "plain", "description": "d", "completed": false, "due_date": null, "priority": "medium", "tags": [],
            "recurrence": null}'::jsonb,
          'alice''s task made of a title and a description has no due date, medium priority, no tags, no recurrence');
SELECT is(pg_temp.fields(api.create_task('{"title": "full", "due_date": "2026-01-10T09:30:00.5+02:00", "priority": "high",
                                           "tags": [" Work ", "work", "Home", "HOME", "errands"], "recurrence": "weekly"}')),
          '{"title": "full", "description": null, "completed": false, "due_date": "2026-01-10T07:30:00.500000Z",
            "priority": "high", "tags": ["Work", "Home", "errands"], "recurrence": "weekly"}'::jsonb,
          'alice''s due date comes back in UTC with Z, her tags trimmed, merged ignoring case into the first spelling, in order');
SELECT is(api.create_task('{"title": "bare", "due_date": "2026-01-10"}')->>'due_date', '2026-01-10T00:00:00.000000Z',
          'alice''s bare date is 00:00 UTC of that day');
SELECT is(api.create_task('{"title": "far west", "due_date": "2026-01-10 23:59:60-15:59"}')->>'due_date',
          '2026-01-11T15:59:00.000000Z',
          'a space for T, a leap second and the widest offset PostgreSQL knows (-15:59) are read too');
SELECT is((SELECT due_date FROM todo.tasks WHERE user_id = 'alice' AND title = 'bare'), '2026-01-10T00:00:00Z'::timestamptz,
          'and is stored as that instant');
SELECT is(json_array_length(api.create_task('{"title": "ten", "tags": ["a","b","c","d","e","f","g","h","i","j","J"]}')->'tags'),
          10, 'alice''s ten tags and an eleventh spelling of one of them are ten tags');

SELECT results_eq(
    $$SELECT pg_temp.problem(format('SELECT api.create_task(%L)', body)) FROM (VALUES
        ('{"title": "t", "due_date": 5}'), ('{"title": "t", "due_date": "tomorrow"}'),
        ('{"title": "t", "due_date": "2026-02-30"}'), ('{"title": "t", "due_date": "2026-01-10T24:00:00Z"}'),
        ('{"title": "t", "due_date": "2026-01-10T10:00:00"}'), ('{"title": "t", "due_date": "0000-01-01"}'),
        ('{"title": "t", "due_date": "2026-01-10T10:00:00+16:00"}'), ('{"title": "t", "due_date": "9999-12-31T23:00:00-15:00"}'),
        ('{"title": "t", "priority": "urgent"}'), ('{"title": "t", "priority": null}'),
        ('{"title": "t", "tags": "work"}'), ('{"title": "t", "tags": ["a", 1]}'), ('{"title": "t", "tags": null}'),
        ('{"title": "t", "tags": ["  "]}'), ('{"title": "t", "tags": ["' || repeat('x', 51) || '"]}'),
        ('{"title": "t", "tags": ["1","2","3","4","5","6","7","8","9","10","11"]}'),
        ('{"title": "t", "recurrence": "yearly"}'), ('{"title": "t", "recurrence": "daily"}'),
        ('{"title": "", "priority": 1, "tags": {}, "recurrence": 1, "due_date": []}')) v(body)$$,
    $$VALUES ('due_date'), ('due_date'), ('due_date'), ('due_date'), ('due_date'), ('due_date'), ('due_date'), ('due_date'),
             ('priority'), ('priority'),
             ('tags'), ('tags'), ('tags'), ('tags'), ('tags'), ('tags'), ('recurrence'), ('recurrence'),
             ('title, due_date, priority, tags, recurrence')$$,
    'alice''s bad due dates, priorities, tags and recurrences are 422s naming the field (PT422), every one of them at once');
SELECT is((SELECT count(*) FROM todo.tasks WHERE user_id = 'alice' AND title = 't'), 0::bigint,
          'none of them was stored');

-- the rules as named CHECK constraints: a plain INSERT as alice meets them too
SELECT results_eq(
    $$SELECT (pg_temp.outcome(format('INSERT INTO todo.tasks (title, %s) VALUES (''psql'', %s)', cols, vals))).constraint_name
        FROM (VALUES
        ('priority', '''urgent'''), ('tags', 'ARRAY[''a'',''b'',''c'',''d'',''e'',''f'',''g'',''h'',''i'',''j'',''k'']'),
        ('tags', 'ARRAY[''Work'', ''work'']'), ('tags', 'ARRAY['' padded'']'), ('tags', 'ARRAY['''']'),
        ('tags', 'ARRAY[NULL]::text[]'), ('recurrence, due_date', '''yearly'', now()'), ('recurrence', '''daily'''),
        ('due_date', '''infinity'''), ('month_day', '32')) v(cols, vals)$$,
    $$VALUES ('tasks_priority_valid'), ('tasks_tags_count'), ('tasks_tags_valid'), ('tasks_tags_valid'), ('tasks_tags_valid'),
             ('tasks_tags_valid'), ('tasks_recurrence_valid'), ('tasks_recurrence_needs_due_date'), ('tasks_due_date_range'),
             ('tasks_month_day_valid')$$,
    'alice''s plain INSERTs breaking a rule are refused by its named CHECK constraint (23514)');
SELECT lives_ok($$INSERT INTO todo.tasks (title, priority, tags, due_date, recurrence)
                  VALUES ('psql', 'low', ARRAY['Work', 'home'], '2026-01-10Z', 'monthly')$$,
                'alice can INSERT a task that keeps every rule');
SELECT is((pg_temp.outcome($$UPDATE todo.tasks SET due_date = NULL WHERE user_id = 'alice' AND title = 'psql'$$))
              .constraint_name, 'tasks_recurrence_needs_due_date', 'alice cannot clear a recurring task''s due date with a plain UPDATE');

-- PUT keeps what it does not name; PATCH changes what it names ---------------------------

SELECT (api.create_task('{"title": "kept", "due_date": "2026-06-01T08:00:00Z", "priority": "low", "tags": ["x"],
                          "recurrence": "monthly"}')->>'id')::bigint AS kept \gset
SELECT is(pg_temp.fields(api.update_task(:kept, '{"title": "kept, renamed"}')),
          '{"title": "kept, renamed", "description": null, "completed": false, "due_date": "2026-06-01T08:00:00.000000Z",
            "priority": "low", "tags": ["x"], "recurrence": "monthly"}'::jsonb,
          'alice''s PUT of a title keeps the due date, priority, tags and recurrence (a frontend that knows only title '
          'and description changes nothing else)');
SELECT is(pg_temp.fields(api.patch_task(:kept, '{"priority": "high", "tags": [], "recurrence": null, "due_date": null}')),
          '{"title": "kept, renamed", "description": null, "completed": false, "due_date": null, "priority": "high",
            "tags": [], "recurrence": null}'::jsonb,
          'alice''s PATCH sets the priority, empties the tags and clears the recurrence and the due date together');
SELECT is(pg_temp.problem(format($$SELECT api.patch_task(%s, '{"recurrence": "daily"}')$$, :kept)), 'recurrence',
          'alice cannot PATCH a recurrence onto a task without a due date (422 naming recurrence)');
SELECT is(pg_temp.fields(api.update_task(:kept, '{"title": "k", "due_date": "2026-07-01", "recurrence": "daily"}'))->>'recurrence',
          'daily', 'alice''s PUT naming a due date and a recurrence sets both');
SELECT is(pg_temp.problem(format($$SELECT api.patch_task(%s, '{"due_date": null}')$$, :kept)), 'due_date',
          'alice cannot PATCH away the due date of a recurring task (422 naming due_date)');
SELECT is(pg_temp.problem(format($$SELECT api.update_task(%s, '{"title": "k", "due_date": null}')$$, :kept)), 'due_date',
          'nor PUT it away');
SELECT is((SELECT due_date FROM todo.tasks WHERE id = :kept), '2026-07-01Z'::timestamptz, 'and her due date stays');

-- recurring tasks: the next occurrence --------------------------------------------------

SELECT (api.create_task('{"title": "Water", "description": "the ferns", "due_date": "2026-03-28T08:00:00Z",
                          "recurrence": "daily", "priority": "high", "tags": ["home"]}')->>'id')::bigint AS water \gset
SELECT is(api.set_task_completion(:water)->>'completed', 'true', 'alice completes her daily task');
SELECT is((SELECT pg_temp.fields(todo.task_json(t)) FROM todo.tasks t WHERE t.previous_id = :water),
          '{"title": "Water", "description": "the ferns", "completed": false, "due_date": "2026-03-29T08:00:00.000000Z",
            "priority": "high", "tags": ["home"], "recurrence": "daily"}'::jsonb,
          'which made its next occurrence in the same transaction: the same task, due a day later, not completed');
SELECT is(api.set_task_completion(:water)->>'completed', 'false', 'alice un-completes it');
SELECT is((SELECT count(*) FROM todo.tasks WHERE previous_id = :water), 1::bigint, 'the next occurrence stays');
SELECT is(api.patch_task(:water, '{"completed": true}')->>'completed', 'true', 'alice completes it again');
SELECT is((SELECT count(*) FROM todo.tasks WHERE user_id = 'alice' AND title = 'Water'), 2::bigint,
          'completing the same occurrence twice made one next occurrence, not two');
SELECT lives_ok(format('UPDATE todo.tasks SET completed = true WHERE previous_id = %s', :water),
                'alice completes the next occurrence with a plain UPDATE');
SELECT is((SELECT due_date FROM todo.tasks t WHERE t.previous_id = (SELECT id FROM todo.tasks WHERE previous_id = :water)),
          '2026-03-30T08:00:00Z'::timestamptz, 'the rule lives in the database: that made the third occurrence');

-- monthly keeps the day of month where the month has it; the arithmetic is UTC's
SELECT (api.create_task('{"title": "Pay rent", "due_date": "2026-01-31T10:00:00Z", "recurrence": "monthly"}')->>'id')::bigint
    AS rent \gset
SELECT is(api.update_task(:rent, '{"title": "Pay rent", "completed": true}')->>'completed', 'true',
          'alice completes her monthly task by PUT');
CREATE TEMP TABLE rent_dues (due timestamptz);
DO $$
DECLARE
    next_id bigint := (SELECT id FROM todo.tasks WHERE user_id = 'alice' AND title = 'Pay rent' AND NOT completed);
BEGIN
    FOR i IN 1 .. 3 LOOP
        INSERT INTO rent_dues SELECT due_date FROM todo.tasks WHERE id = next_id;
        PERFORM api.patch_task(next_id, '{"completed": true}');
        next_id := (SELECT id FROM todo.tasks WHERE previous_id = next_id);
    END LOOP;
    INSERT INTO rent_dues SELECT due_date FROM todo.tasks WHERE id = next_id;
END
$$;
SELECT results_eq('SELECT due FROM rent_dues',
                  $$VALUES ('2026-02-28T10:00:00Z'::timestamptz), ('2026-03-31T10:00:00Z'), ('2026-04-30T10:00:00Z'),
                           ('2026-05-31T10:00:00Z')$$,
                  'a monthly series due on Jan 31 is due on Feb 28, then on Mar 31 again: the 31st where a month has one');
SELECT is(todo.next_due_date('2028-01-31T23:00:00Z', 'monthly', 31), '2028-02-29T23:00:00Z'::timestamptz,
          'in a leap year, on Feb 29');
SELECT is(todo.next_due_date('2026-12-15T00:00:00Z', 'monthly', 15), '2027-01-15T00:00:00Z'::timestamptz,
          'and across the year''s end');
SET LOCAL TimeZone = 'America/New_York';
SELECT is(todo.next_due_date('2026-03-07T12:00:00Z', 'daily', NULL), '2026-03-08T12:00:00Z'::timestamptz,
          'a day is 24 hours even across a daylight saving change of the session''s time zone');
SELECT is(todo.next_due_date('2026-12-31T23:30:00Z', 'weekly', NULL), '2027-01-07T23:30:00Z'::timestamptz,
          'a week is 7 days on');
SET LOCAL TimeZone = 'Asia/Kolkata';
SELECT (api.create_task('{"title": "Once", "due_date": "2026-03-01"}')->>'id')::bigint AS once \gset
SELECT is(api.set_task_completion(:once)->>'completed', 'true', 'alice completes a task that does not recur');
SELECT is((SELECT count(*) FROM todo.tasks WHERE previous_id = :once), 0::bigint, 'which has no next occurrence');
SELECT (api.create_task('{"title": "Far", "due_date": "9999-12-31", "recurrence": "daily"}')->>'id')::bigint AS far \gset
SELECT is(api.set_task_completion(:far)->>'completed', 'true',
          'alice completes a daily task due 9999-12-31 (migration 0008: before, the next occurrence broke tasks_due_date_range)');
SELECT is((SELECT count(*) FROM todo.tasks WHERE previous_id = :far), 0::bigint,
          'and the series ends there: no occurrence beyond the dates the table accepts');

-- as bob (stranger)
SELECT api.begin_request('bob');
SELECT is_empty(format('SELECT id FROM todo.tasks WHERE previous_id = %s', :water),
                'bob cannot see the next occurrence of alice''s recurring task');
SELECT is(pg_temp.problem(format('SELECT api.set_task_completion(%s)', :rent)), 'PT404',
          'bob cannot complete alice''s recurring task');
SELECT is(pg_temp.problem(format($$SELECT api.patch_task(%s, '{"completed": false}')$$, :water)), 'PT404',
          'nor un-complete it');
SELECT is(api.list_tasks()::text, '[]', 'bob''s list holds none of alice''s occurrences');
RESET ROLE;
SELECT is((SELECT count(*) FROM todo.tasks WHERE title = 'Pay rent' AND user_id IN ('alice', 'bob')), 5::bigint,
          'bob''s attempts made no occurrence: alice''s five rent tasks are all there are');
SET LOCAL ROLE todo_gateway;

-- as alice: deleting an occurrence keeps the next one
SELECT api.begin_request('alice');
SELECT is(api.delete_task(:water)::text, 'null', 'alice deletes the first Water');
SELECT is((SELECT count(*) FROM todo.tasks WHERE title = 'Water' AND previous_id IS NULL), 1::bigint,
          'its next occurrence stays, unlinked');

-- the list: priority=, tag=, due_before=, due_after=, sort=due_date, sort=priority ------------

RESET ROLE;
DELETE FROM todo.tasks WHERE user_id = 'alice';
SET LOCAL ROLE todo_gateway;
SELECT api.create_task(body) FROM (VALUES
    ('{"title": "A", "priority": "high", "tags": ["Work", "Urgent"], "due_date": "2026-01-10"}'),
    ('{"title": "B", "priority": "low", "tags": ["work"], "due_date": "2026-01-12"}'),
    ('{"title": "C", "tags": ["Home"]}'),
    ('{"title": "D", "priority": "high", "due_date": "2026-01-11T12:00:00Z", "completed": true}'),
    ('{"title": "E", "priority": "low"}')) v(body) ORDER BY body \g /dev/null
SELECT results_eq(
    $$SELECT pg_temp.titles(page) FROM (VALUES
        (api.list_tasks(priority => 'high', sort => 'title')), (api.list_tasks(priority => 'low', sort => 'title')),
        (api.list_tasks(tag => '{WORK}', sort => 'title')), (api.list_tasks(tag => '{work, urgent}', sort => 'title')),
        (api.list_tasks(tag => '{work,home}')), (api.list_tasks(tag => '{" home "}')),
        (api.list_tasks(due_after => '2026-01-11', due_before => '2026-01-12', sort => 'title')),
        (api.list_tasks(due_after => '2026-01-12T00:00:00Z')), (api.list_tasks(due_before => '2026-01-11T12:00:00Z')),
        (api.list_tasks(sort => 'due_date')), (api.list_tasks(sort => 'due_date', "order" => 'desc')),
        (api.list_tasks(sort => 'due_date', status => 'pending')), (api.list_tasks(sort => 'priority')),
        (api.list_tasks(sort => 'priority', "order" => 'asc'))) v(page)$$,
    $$VALUES ('A D'), ('B E'), ('A B'), ('A'), (NULL), ('C'), ('D'), ('B'), ('A'), ('A D B C E'), ('B D A E C'), ('A B C E'),
             ('D A C E B'), ('B E C A D')$$,
    'alice lists by priority, by every tag named (ignoring case), due in [due_after, due_before), by due date with the '
    'tasks without one last in both orders, and by priority, high first unless asked otherwise');
SELECT results_eq(
    $$SELECT pg_temp.problem(call) FROM (VALUES
        ('SELECT api.list_tasks(priority => ''urgent'')'), ('SELECT api.list_tasks(tag => ''{""}'')'),
        ('SELECT api.list_tasks(tag => ''{ok," "}'')'), ('SELECT api.list_tasks(tag => ARRAY[repeat(''x'', 51)])'),
        ('SELECT api.list_tasks(due_before => ''tomorrow'')'), ('SELECT api.list_tasks(due_after => ''2026-13-01'')'),
        ('SELECT api.list_tasks(sort => ''due'')'), ('SELECT api.list_tasks(priority => ''1'', due_after => ''x'')'),
        ('SELECT api.list_tasks(priority => ''LOW'')')) v(call)$$,
    $$VALUES ('priority'), ('tag'), ('tag'), ('tag'), ('due_before'), ('due_after'), ('sort'), ('priority, due_after'),
             ('priority')$$,
    'alice''s bad priority (upper case too, as for status and sort), tag, due_before, due_after and sort values are 422s '
    'naming the query parameter');

SELECT * FROM finish();
ROLLBACK;
