-- The title and description rules at their edges, twice: through the api (PT422, the
-- field named in the error body) and through a plain INSERT/UPDATE as todo_gateway, which
-- the named CHECK constraints stop (23514), so psql users hit the same rules.
-- Titles count Unicode characters, not bytes, after trimming surrounding whitespace.
-- Non-ASCII characters are written as escapes: E'\u00e9' is e-acute (2 bytes in UTF-8),
-- E'\U0001F600' a grinning face (4 bytes).
BEGIN;
SELECT plan(76);

-- a clean slate for alice and bob, as postgres
\ir clean_slate.psql

-- error_body(sql): the DETAIL of the error sql raises, which is the JSON body the gateway
-- sends as it is; null when sql raises nothing.
CREATE FUNCTION pg_temp.error_body(sql text) RETURNS jsonb
    LANGUAGE plpgsql
    AS $$
DECLARE
    body text;
BEGIN
    EXECUTE sql;
    RETURN NULL;
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS body = PG_EXCEPTION_DETAIL;
    RETURN body::jsonb;
END
$$;

-- as alice
SET LOCAL ROLE todo_gateway;
SELECT api.begin_request('alice');

-- titles through api.create_task ------------------------------------------------------

SELECT throws_ok($$SELECT api.create_task('{"title": ""}')$$, 'PT422', NULL,
                 'alice cannot create a task with an empty title');
SELECT is(api.create_task('{"title": "a"}')->>'title', 'a', 'alice can create a task with a 1-character title');
SELECT is(char_length(api.create_task(json_build_object('title', repeat('a', 200))::text)->>'title'), 200,
          'alice can create a task with a 200-character title');
SELECT throws_ok(format('SELECT api.create_task(%L)', json_build_object('title', repeat('a', 201))), 'PT422', NULL,
                 'alice cannot create a task with a 201-character title');
SELECT throws_ok($$SELECT api.create_task('{"title": "   "}')$$, 'PT422', NULL,
                 'alice cannot create a task whose title is only spaces');
SELECT throws_ok(format('SELECT api.create_task(%L)', json_build_object('title', E'\t\n\r \t')), 'PT422', NULL,
                 'alice cannot create a task whose title is only tabs, newlines and spaces');
SELECT throws_ok(format('SELECT api.create_task(%L)', json_build_object('title', E'\u00a0\u2003\u3000')), 'PT422', NULL,
                 'alice cannot create a task whose title is only Unicode spaces (no-break, em, ideographic)');
SELECT throws_ok(format('SELECT api.create_task(%L)', json_build_object('title', E'\u001c\u001d\u001e\u001f')), 'PT422', NULL,
                 'alice cannot create a task whose title is only the separators U+001C..U+001F (Python''s strip removes them)');
SELECT is(octet_length(api.create_task(json_build_object('title', repeat(E'\u00e9', 200))::text)->>'title'), 400,
          'alice can create a task with a title of 200 two-byte characters (400 bytes)');
SELECT throws_ok(format('SELECT api.create_task(%L)', json_build_object('title', repeat(E'\u00e9', 201))), 'PT422', NULL,
                 'alice cannot create a task with a title of 201 two-byte characters');
SELECT is(char_length(api.create_task(json_build_object('title', repeat(E'\U0001F600', 200))::text)->>'title'), 200,
          'alice can create a task with a title of 200 emoji (800 bytes)');
SELECT throws_ok(format('SELECT api.create_task(%L)', json_build_object('title', repeat(E'\U0001F600', 201))), 'PT422', NULL,
                 'alice cannot create a task with a title of 201 emoji');

SELECT api.create_task('{"title": "  Buy   milk \t\n"}') AS created \gset
SELECT is(:'created'::json->>'title', 'Buy   milk', 'alice''s title comes back trimmed, inner spaces kept');
SELECT is((SELECT title FROM todo.tasks WHERE id = (:'created'::json->>'id')::bigint), 'Buy   milk',
          'alice''s title is stored trimmed');
SELECT is(api.create_task(json_build_object('title', E'\u3000 ' || repeat('b', 200) || E' \u00a0')::text)->>'title',
          repeat('b', 200), 'alice can create a task whose title is 200 characters once trimmed');

-- descriptions through api.create_task -----------------------------------------------

SELECT is(char_length(api.create_task(json_build_object('title', 'd', 'description', repeat('d', 1000))::text)->>'description'),
          1000, 'alice can create a task with a 1000-character description');
SELECT throws_ok(format('SELECT api.create_task(%L)', json_build_object('title', 'd', 'description', repeat('d', 1001))),
                 'PT422', NULL, 'alice cannot create a task with a 1001-character description');
SELECT is(char_length(api.create_task(json_build_object('title', 'd', 'description', repeat(E'\u00e9', 1000))::text)->>'description'),
          1000, 'alice can create a task with a description of 1000 two-byte characters');
SELECT throws_ok(format('SELECT api.create_task(%L)', json_build_object('title', 'd', 'description', repeat(E'\u00e9', 1001))),
                 'PT422', NULL, 'alice cannot create a task with a description of 1001 two-byte characters');
SELECT is(json_typeof(api.create_task('{"title": "d", "description": null}')->'description'), 'null',
          'alice can create a task with a null description');
SELECT is(json_typeof(api.create_task('{"title": "d"}')->'description'), 'null',
          'alice''s task created without a description has a null one');
SELECT is(api.create_task('{"title": "d", "description": "  keep my spaces  "}')->>'description', '  keep my spaces  ',
          'alice''s description is stored as sent, not trimmed');

-- wrong types and bodies that are not JSON objects -------------------------------------

SELECT throws_ok($$SELECT api.create_task('{"title": 42}')$$, 'PT422', NULL,
                 'alice cannot create a task whose title is a number');
SELECT throws_ok($$SELECT api.create_task('{"title": null}')$$, 'PT422', NULL,
                 'alice cannot create a task whose title is null');
SELECT throws_ok($$SELECT api.create_task('{"title": ["Buy milk"]}')$$, 'PT422', NULL,
                 'alice cannot create a task whose title is an array');
SELECT throws_ok($$SELECT api.create_task('{"description": "no title"}')$$, 'PT422', NULL,
                 'alice cannot create a task without a title');
SELECT throws_ok($$SELECT api.create_task('{"title": "Buy milk", "completed": "yes"}')$$, 'PT422', NULL,
                 'alice cannot create a task whose completed is a string');
SELECT throws_ok($$SELECT api.create_task('{"title": "Buy milk", "description": 5}')$$, 'PT422', NULL,
                 'alice cannot create a task whose description is a number');
SELECT throws_ok($$SELECT api.create_task('[{"title": "Buy milk"}]')$$, 'PT400', NULL,
                 'alice cannot create a task from a JSON array');
SELECT throws_ok($$SELECT api.create_task('"Buy milk"')$$, 'PT400', NULL,
                 'alice cannot create a task from a JSON string');
SELECT throws_ok($$SELECT api.create_task('null')$$, 'PT400', NULL,
                 'alice cannot create a task from JSON null');
SELECT throws_ok('SELECT api.create_task(NULL)', 'PT400', NULL,
                 'alice cannot create a task from no body at all');
SELECT throws_ok($$SELECT api.create_task('{"title": "\u0000"}')$$, 'PT400', NULL,
                 'alice cannot create a task from JSON the database cannot hold (a \u0000 escape)');
SELECT throws_ok($$SELECT api.create_task('{"title": "Buy milk"')$$, 'PT400', NULL,
                 'alice cannot create a task from a body that is not JSON: the function that parses it says so (PT400)');

-- the error bodies the gateway sends as they are -----------------------------------------

SELECT is(pg_temp.error_body(format('SELECT api.create_task(%L)', json_build_object('title', repeat('a', 201)))),
          '{"code": "validation_failed", "message": "title: must be 1 to 200 characters",
            "detail": [{"loc": ["body", "title"], "msg": "must be 1 to 200 characters", "type": "string_too_long"}]}'::jsonb,
          'alice''s 201-character title gets a validation_failed body naming body.title');
SELECT is(pg_temp.error_body($$SELECT api.create_task('{"title": 42, "completed": "yes"}')$$)->'detail',
          '[{"loc": ["body", "title"], "msg": "must be a string", "type": "string_type"},
            {"loc": ["body", "completed"], "msg": "must be a boolean", "type": "bool_type"}]'::jsonb,
          'alice''s body with two wrong fields gets both listed in one error');
SELECT is(pg_temp.error_body($$SELECT api.create_task('[]')$$)->>'code', 'invalid_json',
          'alice''s array body gets an invalid_json body');

-- the same rules through plain SQL: the CHECK constraints -------------------------------

SELECT throws_ok($$INSERT INTO todo.tasks (title) VALUES ('')$$, '23514', NULL,
                 'alice cannot insert a task row with an empty title (tasks_title_length)');
SELECT lives_ok($$INSERT INTO todo.tasks (title) VALUES ('a')$$, 'alice can insert a task row with a 1-character title');
SELECT lives_ok($$INSERT INTO todo.tasks (title) VALUES (repeat('a', 200))$$,
                'alice can insert a task row with a 200-character title');
SELECT throws_ok($$INSERT INTO todo.tasks (title) VALUES (repeat('a', 201))$$, '23514', NULL,
                 'alice cannot insert a task row with a 201-character title');
SELECT throws_ok($$INSERT INTO todo.tasks (title) VALUES ('   ')$$, '23514', NULL,
                 'alice cannot insert a task row whose title is only spaces');
SELECT throws_ok($$INSERT INTO todo.tasks (title) VALUES (E'\t\n\r ')$$, '23514', NULL,
                 'alice cannot insert a task row whose title is only tabs and newlines');
SELECT throws_ok($$INSERT INTO todo.tasks (title) VALUES (E'\u00a0\u3000')$$, '23514', NULL,
                 'alice cannot insert a task row whose title is only Unicode spaces');
SELECT lives_ok($$INSERT INTO todo.tasks (title) VALUES (repeat(E'\u00e9', 200))$$,
                'alice can insert a task row with a title of 200 two-byte characters');
SELECT throws_ok($$INSERT INTO todo.tasks (title) VALUES (repeat(E'\u00e9', 201))$$, '23514', NULL,
                 'alice cannot insert a task row with a title of 201 two-byte characters');
SELECT lives_ok($$INSERT INTO todo.tasks (title) VALUES (repeat(E'\U0001F600', 200))$$,
                'alice can insert a task row with a title of 200 emoji');
SELECT throws_ok($$INSERT INTO todo.tasks (title) VALUES (repeat(E'\U0001F600', 201))$$, '23514', NULL,
                 'alice cannot insert a task row with a title of 201 emoji');
SELECT lives_ok($$INSERT INTO todo.tasks (title) VALUES (' ' || repeat('a', 200) || E'\n')$$,
                'alice can insert a task row whose title is 200 characters once trimmed');
SELECT throws_ok($$INSERT INTO todo.tasks (title) VALUES (NULL)$$, '23502', NULL,
                 'alice cannot insert a task row without a title');
SELECT lives_ok($$INSERT INTO todo.tasks (title, description) VALUES ('d', repeat('d', 1000))$$,
                'alice can insert a task row with a 1000-character description');
SELECT throws_ok($$INSERT INTO todo.tasks (title, description) VALUES ('d', repeat('d', 1001))$$, '23514', NULL,
                 'alice cannot insert a task row with a 1001-character description (tasks_description_length)');
SELECT lives_ok($$INSERT INTO todo.tasks (title, description) VALUES ('d', NULL)$$,
                'alice can insert a task row with a null description');

SELECT (api.create_task('{"title": "Water the plants"}')->>'id')::bigint AS task \gset
SELECT throws_ok(format($$UPDATE todo.tasks SET title = ' ' WHERE id = %s$$, :task), '23514', NULL,
                 'alice cannot blank her task''s title with a plain UPDATE');
SELECT throws_ok(format($$UPDATE todo.tasks SET description = repeat('d', 1001) WHERE id = %s$$, :task), '23514', NULL,
                 'alice cannot give her task a 1001-character description with a plain UPDATE');

-- the same rules through PUT, PATCH and the completion route ----------------------------

SELECT throws_ok(format($$SELECT api.update_task(%s, '{"description": "no title"}')$$, :task), 'PT422', NULL,
                 'alice cannot replace her task (PUT) without a title');
SELECT throws_ok(format($$SELECT api.update_task(%s, '{"title": " \t "}')$$, :task), 'PT422', NULL,
                 'alice cannot replace her task''s title with whitespace');
SELECT throws_ok(format('SELECT api.update_task(%s, %L)', :task, json_build_object('title', repeat(E'\u00e9', 201))),
                 'PT422', NULL, 'alice cannot replace her task''s title with 201 characters');
SELECT throws_ok(format($$SELECT api.update_task(%s, '{"title": 7}')$$, :task), 'PT422', NULL,
                 'alice cannot replace her task''s title with a number');
SELECT throws_ok(format('SELECT api.update_task(%s, %L)', :task, json_build_object('title', 't', 'description', repeat('d', 1001))),
                 'PT422', NULL, 'alice cannot replace her task''s description with 1001 characters');
SELECT throws_ok(format($$SELECT api.update_task(%s, '{"title": "t", "completed": "no"}')$$, :task), 'PT422', NULL,
                 'alice cannot replace her task''s completed with a string');
SELECT throws_ok(format($$SELECT api.update_task(%s, '[]')$$, :task), 'PT400', NULL,
                 'alice cannot replace her task with a JSON array');
SELECT throws_ok(format($$SELECT api.patch_task(%s, '{"title": ""}')$$, :task), 'PT422', NULL,
                 'alice cannot patch her task''s title to empty');
SELECT throws_ok(format('SELECT api.patch_task(%s, %L)', :task, json_build_object('title', repeat('a', 201))),
                 'PT422', NULL, 'alice cannot patch her task''s title to 201 characters');
SELECT throws_ok(format($$SELECT api.patch_task(%s, '{"title": null}')$$, :task), 'PT422', NULL,
                 'alice cannot patch her task''s title to null');
SELECT throws_ok(format('SELECT api.patch_task(%s, %L)', :task, json_build_object('description', repeat('d', 1001))),
                 'PT422', NULL, 'alice cannot patch her task''s description to 1001 characters');
SELECT throws_ok(format($$SELECT api.patch_task(%s, '{"completed": "true"}')$$, :task), 'PT422', NULL,
                 'alice cannot patch her task''s completed with a string');
SELECT throws_ok(format($$SELECT api.patch_task(%s, '"done"')$$, :task), 'PT400', NULL,
                 'alice cannot patch her task with a JSON string');
SELECT throws_ok(format($$SELECT api.set_task_completion(%s, '{"completed": "yes"}')$$, :task), 'PT422', NULL,
                 'alice cannot set her task''s completion to a string');
SELECT throws_ok(format($$SELECT api.set_task_completion(%s, '{"completed": null}')$$, :task), 'PT422', NULL,
                 'alice cannot set her task''s completion to null');
SELECT throws_ok(format($$SELECT api.set_task_completion(%s, '[true]')$$, :task), 'PT400', NULL,
                 'alice cannot set her task''s completion with a JSON array');

-- as postgres: none of the refused writes left a trace
RESET ROLE;
SELECT results_eq(format('SELECT title, description, completed FROM todo.tasks WHERE id = %s', :task),
                  $$VALUES ('Water the plants', NULL::text, false)$$,
                  'alice''s task is untouched by every refused PUT, PATCH and completion');
SELECT is_empty($$SELECT id, title FROM todo.tasks
                   WHERE char_length(todo.trim_ws(title)) NOT BETWEEN 1 AND 200
                      OR char_length(description) > 1000$$,
                'no task row breaks the title and description rules');

-- a wrong type is not a missing field: email and password answer as the task fields do
-- (todo.string_problem): 'missing' only when the key is absent, else 'string_type'
CREATE FUNCTION pg_temp.problem_types(sql text) RETURNS text LANGUAGE sql AS $$
    SELECT string_agg((p->'loc'->>1) || ':' || (p->>'type'), ' ' ORDER BY p->'loc'->>1)
      FROM jsonb_array_elements(pg_temp.error_body(sql)->'detail') p
$$;
SELECT is(pg_temp.problem_types($$SELECT api.register('{"email": "x@example.com", "password": 12345678}')$$),
          'password:string_type', 'register: a password that is a number is string_type, not missing');
SELECT is(pg_temp.problem_types($$SELECT api.register('{"email": 5, "password": null}')$$),
          'email:string_type password:string_type', 'register: an email number and a null password are string_type');
SELECT is(pg_temp.problem_types($$SELECT api.login('{"email": true}')$$),
          'email:string_type password:missing', 'login: a boolean email is string_type, an absent password missing');

SELECT * FROM finish();
ROLLBACK;
