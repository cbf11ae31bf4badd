-- The shape of the database: tables, row-level security, policies, indexes, constraints,
-- the api functions' signatures and who may call them. Catalog checks, run as postgres;
-- what the rules do to real users is the business of the files after this one.
BEGIN;
SELECT plan(153);

-- tables and columns ---------------------------------------------------------------------

SELECT has_schema('todo', 'the private schema todo exists');
SELECT has_schema('api', 'the exposed schema api exists');
SELECT tables_are('todo', ARRAY['tasks', 'users', 'revocations', 'idempotency_keys', 'events', 'event_counters'],
                  'schema todo holds exactly tasks, users, revocations, idempotency_keys, events and event_counters');
SELECT tables_are('api', ARRAY[]::name[], 'schema api holds no table, only functions');

SELECT columns_are('todo', 'tasks',
                   ARRAY['id', 'user_id', 'title', 'description', 'completed', 'created_at', 'updated_at', 'due_date',
                         'priority', 'tags', 'recurrence', 'month_day', 'previous_id', 'json'],
                   'todo.tasks has exactly the columns of a task, the two that link a recurring series, and its JSON');
SELECT col_type_is('todo', 'tasks', 'id', 'bigint', 'a task id is a bigint');
SELECT col_type_is('todo', 'tasks', 'user_id', 'text', 'a task''s user_id is text (Better Auth ids are strings)');
SELECT col_type_is('todo', 'tasks', 'title', 'text', 'a task title is text');
SELECT col_type_is('todo', 'tasks', 'description', 'text', 'a task description is text');
SELECT col_type_is('todo', 'tasks', 'completed', 'boolean', 'a task''s completed flag is a boolean');
SELECT col_type_is('todo', 'tasks', 'created_at', 'timestamp with time zone', 'a task''s created_at is a timestamptz');
SELECT col_type_is('todo', 'tasks', 'updated_at', 'timestamp with time zone', 'a task''s updated_at is a timestamptz');
SELECT col_is_pk('todo', 'tasks', ARRAY['user_id', 'id'], 'todo.tasks is keyed by (user_id, id), the distribution column first');
SELECT col_not_null('todo', 'tasks', 'user_id', 'every task belongs to a user');
SELECT col_not_null('todo', 'tasks', 'title', 'every task has a title');
SELECT col_is_null('todo', 'tasks', 'description', 'a task''s description may be null');
SELECT col_not_null('todo', 'tasks', 'completed', 'a task is completed or not, never null');
SELECT col_type_is('todo', 'tasks', 'due_date', 'timestamp with time zone', 'a task''s due_date is a timestamptz');
SELECT col_is_null('todo', 'tasks', 'due_date', 'a task''s due_date may be null');
SELECT col_type_is('todo', 'tasks', 'priority', 'text', 'a task''s priority is text');
SELECT col_not_null('todo', 'tasks', 'priority', 'every task has a priority');
SELECT col_default_is('todo', 'tasks', 'priority', 'medium', 'a task''s priority is medium unless said otherwise');
SELECT col_type_is('todo', 'tasks', 'tags', 'text[]', 'a task''s tags are a text[]');
SELECT col_not_null('todo', 'tasks', 'tags', 'a task''s tags are never null (none is {})');
SELECT col_default_is('todo', 'tasks', 'tags', '{}', 'a task has no tags unless said otherwise');
SELECT col_type_is('todo', 'tasks', 'recurrence', 'text', 'a task''s recurrence is text');
SELECT col_is_null('todo', 'tasks', 'recurrence', 'a task''s recurrence may be null (it does not recur)');
SELECT col_type_is('todo', 'tasks', 'month_day', 'smallint', 'the day of month a monthly series keeps is a smallint');
SELECT col_type_is('todo', 'tasks', 'previous_id', 'bigint', 'the occurrence a task follows is a task id');
SELECT fk_ok('todo', 'tasks', ARRAY['user_id', 'previous_id'], 'todo', 'tasks', ARRAY['user_id', 'id'],
             'a task''s previous occurrence is a task of the same user');

SELECT columns_are('todo', 'users', ARRAY['id', 'email', 'name', 'password_hash', 'created_at'],
                   'todo.users has exactly the columns of an account');
SELECT col_type_is('todo', 'users', 'id', 'text', 'an account id is text');
SELECT col_type_is('todo', 'users', 'email', 'text', 'an account email is text');
SELECT col_type_is('todo', 'users', 'name', 'text', 'an account name is text');
SELECT col_type_is('todo', 'users', 'password_hash', 'text', 'an account''s password hash is text');
SELECT col_type_is('todo', 'users', 'created_at', 'timestamp with time zone', 'an account''s created_at is a timestamptz');
SELECT col_is_pk('todo', 'users', 'id', 'todo.users is keyed by id');

SELECT columns_are('todo', 'revocations', ARRAY['user_id', 'tokens_valid_after'],
                   'todo.revocations has exactly user_id and tokens_valid_after');
SELECT col_type_is('todo', 'revocations', 'user_id', 'text', 'a revocation''s user_id is text');
SELECT col_type_is('todo', 'revocations', 'tokens_valid_after', 'timestamp with time zone',
                   'a revocation''s tokens_valid_after is a timestamptz');
SELECT col_is_pk('todo', 'revocations', 'user_id', 'todo.revocations holds one row per user');

-- row-level security: enabled AND forced (forced binds the owner, todo_owner, too) -----

SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'todo.tasks'::regclass),
          'row-level security is enabled on todo.tasks');
SELECT ok((SELECT relforcerowsecurity FROM pg_class WHERE oid = 'todo.tasks'::regclass),
          'row-level security is forced on todo.tasks');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'todo.users'::regclass),
          'row-level security is enabled on todo.users');
SELECT ok((SELECT relforcerowsecurity FROM pg_class WHERE oid = 'todo.users'::regclass),
          'row-level security is forced on todo.users');
SELECT ok((SELECT relrowsecurity FROM pg_class WHERE oid = 'todo.revocations'::regclass),
          'row-level security is enabled on todo.revocations');
SELECT ok((SELECT relforcerowsecurity FROM pg_class WHERE oid = 'todo.revocations'::regclass),
          'row-level security is forced on todo.revocations');
SELECT is_empty($$SELECT c.relname FROM pg_class c
                   WHERE c.relnamespace = 'todo'::regnamespace AND c.relkind IN ('r', 'p')
                     AND NOT (c.relrowsecurity AND c.relforcerowsecurity)$$,
                'no table of schema todo, present or future, goes without enabled and forced row-level security');

-- policies: one per command, named as sentences ------------------------------------------

SELECT policies_are('todo', 'tasks', ARRAY[
    'users see their own tasks', 'users add tasks only for themselves', 'users change only their own tasks',
    'users delete only their own tasks', 'admins read every task'], 'todo.tasks has exactly its five policies');
SELECT policy_cmd_is('todo', 'tasks', 'users see their own tasks', 'select',
                     'users see their own tasks applies to SELECT');
SELECT policy_roles_are('todo', 'tasks', 'users see their own tasks', ARRAY['todo_gateway', 'todo_admin'],
                        'users see their own tasks binds todo_gateway and todo_admin');
SELECT policy_cmd_is('todo', 'tasks', 'users add tasks only for themselves', 'insert',
                     'users add tasks only for themselves applies to INSERT');
SELECT policy_roles_are('todo', 'tasks', 'users add tasks only for themselves', ARRAY['todo_gateway', 'todo_admin'],
                        'users add tasks only for themselves binds todo_gateway and todo_admin');
SELECT policy_cmd_is('todo', 'tasks', 'users change only their own tasks', 'update',
                     'users change only their own tasks applies to UPDATE');
SELECT policy_roles_are('todo', 'tasks', 'users change only their own tasks', ARRAY['todo_gateway', 'todo_admin'],
                        'users change only their own tasks binds todo_gateway and todo_admin');
SELECT policy_cmd_is('todo', 'tasks', 'users delete only their own tasks', 'delete',
                     'users delete only their own tasks applies to DELETE');
SELECT policy_roles_are('todo', 'tasks', 'users delete only their own tasks', ARRAY['todo_gateway', 'todo_admin'],
                        'users delete only their own tasks binds todo_gateway and todo_admin');
SELECT policy_cmd_is('todo', 'tasks', 'admins read every task', 'select',
                     'admins read every task applies to SELECT only');
SELECT policy_roles_are('todo', 'tasks', 'admins read every task', ARRAY['todo_admin'],
                        'admins read every task binds todo_admin alone, never the gateway');

SELECT policies_are('todo', 'users', ARRAY[
    'users see their own account', 'admins read every account', 'the account functions look up any account',
    'the account functions create accounts'], 'todo.users has exactly its four policies');
SELECT policy_cmd_is('todo', 'users', 'users see their own account', 'select',
                     'users see their own account applies to SELECT');
SELECT policy_roles_are('todo', 'users', 'users see their own account', ARRAY['todo_gateway', 'todo_admin'],
                        'users see their own account binds todo_gateway and todo_admin');
SELECT policy_cmd_is('todo', 'users', 'admins read every account', 'select',
                     'admins read every account applies to SELECT');
SELECT policy_roles_are('todo', 'users', 'admins read every account', ARRAY['todo_admin'],
                        'admins read every account binds todo_admin alone');
SELECT policy_cmd_is('todo', 'users', 'the account functions look up any account', 'select',
                     'the account functions look up any account applies to SELECT');
SELECT policy_roles_are('todo', 'users', 'the account functions look up any account', ARRAY['todo_owner'],
                        'the account functions look up any account binds todo_owner alone');
SELECT policy_cmd_is('todo', 'users', 'the account functions create accounts', 'insert',
                     'the account functions create accounts applies to INSERT');
SELECT policy_roles_are('todo', 'users', 'the account functions create accounts', ARRAY['todo_owner'],
                        'the account functions create accounts binds todo_owner alone');

SELECT policies_are('todo', 'revocations', ARRAY[
    'users see their own revocation', 'users revoke only their own tokens', 'users move only their own revocation',
    'the account functions read any revocation'], 'todo.revocations has exactly its four policies');
SELECT policy_cmd_is('todo', 'revocations', 'users see their own revocation', 'select',
                     'users see their own revocation applies to SELECT');
SELECT policy_roles_are('todo', 'revocations', 'users see their own revocation', ARRAY['todo_gateway', 'todo_admin'],
                        'users see their own revocation binds todo_gateway and todo_admin');
SELECT policy_cmd_is('todo', 'revocations', 'users revoke only their own tokens', 'insert',
                     'users revoke only their own tokens applies to INSERT');
SELECT policy_roles_are('todo', 'revocations', 'users revoke only their own tokens', ARRAY['todo_gateway', 'todo_admin'],
                        'users revoke only their own tokens binds todo_gateway and todo_admin');
SELECT policy_cmd_is('todo', 'revocations', 'users move only their own revocation', 'update',
                     'users move only their own revocation applies to UPDATE');
SELECT policy_roles_are('todo', 'revocations', 'users move only their own revocation', ARRAY['todo_gateway', 'todo_admin'],
                        'users move only their own revocation binds todo_gateway and todo_admin');
SELECT policy_cmd_is('todo', 'revocations', 'the account functions read any revocation', 'select',
                     'the account functions read any revocation applies to SELECT');
SELECT policy_roles_are('todo', 'revocations', 'the account functions read any revocation', ARRAY['todo_owner'],
                        'the account functions read any revocation binds todo_owner alone');

SELECT is_empty($$SELECT polrelid::regclass, polname FROM pg_policy
                   WHERE polcmd = '*' AND polrelid::regclass::text LIKE 'todo.%'$$,
                'no policy in schema todo is FOR ALL: one policy per command');
SELECT is_empty($$SELECT polrelid::regclass, polname FROM pg_policy
                   WHERE polrelid::regclass::text LIKE 'todo.%'
                     AND (coalesce(pg_get_expr(polqual, polrelid), '') || coalesce(pg_get_expr(polwithcheck, polrelid), ''))
                         ~ '(?<!SELECT )todo\.current_user_id\(\)'$$,
                'every policy compares against (select todo.current_user_id()), evaluated once per query');
SELECT is_empty($$SELECT polrelid::regclass, polname FROM pg_policy
                   WHERE polrelid::regclass::text LIKE 'todo.%' AND 0::oid = ANY (polroles)$$,
                'no policy in schema todo applies to PUBLIC');

-- indexes and named CHECK constraints ----------------------------------------------------

SELECT has_index('todo', 'tasks', 'tasks_user_id_completed_created_at_idx', ARRAY['user_id', 'completed', 'created_at', 'id'],
                 'todo.tasks has an index on (user_id, completed, created_at, id) for the list by creation');
SELECT has_index('todo', 'tasks', 'tasks_user_id_completed_updated_at_idx', ARRAY['user_id', 'completed', 'updated_at', 'id'],
                 'todo.tasks has an index on (user_id, completed, updated_at, id) for the list by update');
SELECT has_index('todo', 'tasks', 'tasks_user_id_completed_title_idx', ARRAY['user_id', 'completed', 'lower(title)', 'id'],
                 'todo.tasks has an index on (user_id, completed, lower(title), id) for the list by title');
SELECT has_index('todo', 'tasks', 'tasks_user_id_completed_due_date_idx', ARRAY['user_id', 'completed', 'due_date', 'id'],
                 'todo.tasks has an index on (user_id, completed, due_date, id) for the list by due date, ascending');
SELECT is((SELECT pg_get_indexdef('todo.tasks_user_id_completed_due_date_desc_idx'::regclass)),
          'CREATE INDEX tasks_user_id_completed_due_date_desc_idx ON todo.tasks USING btree '
          '(user_id, completed, due_date DESC NULLS LAST, id DESC)',
          'todo.tasks has an index on (user_id, completed, due_date desc nulls last, id desc) for the list by due date, '
          'descending, tasks without one last');
SELECT has_index('todo', 'tasks', 'tasks_user_id_completed_priority_idx',
                 ARRAY['user_id', 'completed', 'todo.priority_rank(priority)', 'id'],
                 'todo.tasks has an index on (user_id, completed, todo.priority_rank(priority), id) for the list by priority');
SELECT is((SELECT pg_get_indexdef('todo.tasks_user_id_previous_id_key'::regclass)),
          'CREATE UNIQUE INDEX tasks_user_id_previous_id_key ON todo.tasks USING btree (user_id, previous_id) '
          'WHERE (previous_id IS NOT NULL)',
          'todo.tasks has a unique index on (user_id, previous_id): one next occurrence per occurrence');
SELECT ok(EXISTS (SELECT FROM pg_index i
                   WHERE i.indrelid = 'todo.tasks'::regclass
                     AND i.indkey[0] = (SELECT attnum FROM pg_attribute
                                         WHERE attrelid = 'todo.tasks'::regclass AND attname = 'user_id')),
          'todo.tasks has an index led by user_id');
SELECT has_index('todo', 'users', 'users_email_key', 'lower(email)',
                 'todo.users has an index on lower(email)');
SELECT index_is_unique('todo', 'users', 'users_email_key', 'emails are unique regardless of case');

SELECT results_eq($$SELECT conname::text COLLATE "default" FROM pg_constraint
                    WHERE conrelid = 'todo.tasks'::regclass AND contype = 'c' ORDER BY 1$$,
                  ARRAY['tasks_description_length', 'tasks_due_date_range', 'tasks_month_day_valid', 'tasks_priority_valid',
                        'tasks_recurrence_needs_due_date', 'tasks_recurrence_valid', 'tasks_tags_count', 'tasks_tags_valid',
                        'tasks_title_length', 'tasks_user_id_valid'],
                  'todo.tasks carries its named CHECK constraints: the title, description and user_id rules and those '
                  'of due_date, priority, tags and recurrence');
SELECT results_eq($$SELECT conname::text COLLATE "default" FROM pg_constraint
                    WHERE conrelid = 'todo.users'::regclass AND contype = 'c' ORDER BY 1$$,
                  ARRAY['users_email_valid', 'users_id_valid', 'users_name_length', 'users_password_hash_is_bcrypt'],
                  'todo.users carries its named CHECK constraints, the bcrypt one among them');
SELECT has_trigger('todo', 'tasks', 'tasks_touch', 'todo.tasks has the tasks_touch trigger');
SELECT trigger_is('todo', 'tasks', 'tasks_touch', 'todo', 'tasks_touch',
                  'the tasks_touch trigger runs todo.tasks_touch()');
SELECT has_trigger('todo', 'tasks', 'tasks_recur', 'todo.tasks has the tasks_recur trigger');
SELECT trigger_is('todo', 'tasks', 'tasks_recur', 'todo', 'tasks_recur',
                  'the tasks_recur trigger runs todo.tasks_recur()');

-- the api functions: names, signatures, return types -------------------------------------

SELECT functions_are('api', ARRAY[
    'begin_request', 'create_task', 'delete_task', 'events_since', 'get_task', 'list_tasks', 'login', 'logout', 'me',
    'patch_task', 'register', 'set_task_completion', 'update_task'],
    'schema api holds exactly the thirteen api functions');
SELECT results_eq(
    $$SELECT p.oid::regprocedure::text, pg_get_function_arguments(p.oid), pg_get_function_result(p.oid)
        FROM pg_proc p WHERE p.pronamespace = 'api'::regnamespace ORDER BY 1$$,
    $$VALUES
      ('api.begin_request(text,bigint,timestamp with time zone,text,text,integer)',
       'user_id text, issued_at bigint DEFAULT NULL::bigint, deadline timestamp with time zone DEFAULT NULL::timestamp with time zone, '
       'idempotency_key text DEFAULT NULL::text, request_fingerprint text DEFAULT NULL::text, '
       'success_status integer DEFAULT NULL::integer', 'void'),
      ('api.create_task(text)', 'body text', 'json'),
      ('api.delete_task(bigint,text,text)',
       'id bigint, if_match text DEFAULT NULL::text, if_none_match text DEFAULT NULL::text', 'json'),
      ('api.events_since(bigint)', 'last_event_id bigint DEFAULT NULL::bigint', 'json'),
      ('api.get_task(bigint,text)', 'id bigint, if_none_match text DEFAULT NULL::text', 'json'),
      ('api.list_tasks(text,text,text,text,text,text,text,text[],text,text,text)',
       'status text DEFAULT NULL::text, sort text DEFAULT NULL::text, "order" text DEFAULT NULL::text, '
       'q text DEFAULT NULL::text, "limit" text DEFAULT NULL::text, "offset" text DEFAULT NULL::text, '
       'priority text DEFAULT NULL::text, tag text[] DEFAULT NULL::text[], due_before text DEFAULT NULL::text, '
       'due_after text DEFAULT NULL::text, if_none_match text DEFAULT NULL::text', 'json'),
      ('api.login(text)', 'body text', 'json'),
      ('api.logout()', '', 'json'),
      ('api.me()', '', 'json'),
      ('api.patch_task(bigint,text,text,text)',
       'id bigint, body text, if_match text DEFAULT NULL::text, if_none_match text DEFAULT NULL::text', 'json'),
      ('api.register(text)', 'body text', 'json'),
      ('api.set_task_completion(bigint,text,text,text)',
       'id bigint, body text DEFAULT NULL::text, if_match text DEFAULT NULL::text, if_none_match text DEFAULT NULL::text',
       'json'),
      ('api.update_task(bigint,text,text,text)',
       'id bigint, body text, if_match text DEFAULT NULL::text, if_none_match text DEFAULT NULL::text', 'json')$$,
    'every api function has the exact signature the gateway calls: argument names, types, defaults and result '
    '(a body is the client''s text, parsed by the function that checks it)');
SELECT function_returns('api', 'begin_request', ARRAY['text', 'bigint', 'timestamp with time zone', 'text', 'text', 'integer'], 'void',
                        'api.begin_request(text, bigint, timestamptz, text, text, integer) returns void');
SELECT function_returns('api', 'create_task', ARRAY['text'], 'json', 'api.create_task(text) returns json');
SELECT function_returns('api', 'delete_task', ARRAY['bigint', 'text', 'text'], 'json', 'api.delete_task(bigint, text, text) returns json');
SELECT function_returns('api', 'get_task', ARRAY['bigint', 'text'], 'json', 'api.get_task(bigint, text) returns json');
SELECT function_returns('api', 'list_tasks', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text[]', 'text', 'text', 'text'], 'json',
                        'api.list_tasks(text x 7, text[], text x 3) returns json');
SELECT function_returns('api', 'login', ARRAY['text'], 'json', 'api.login(text) returns json');
SELECT function_returns('api', 'logout', ARRAY[]::name[], 'json', 'api.logout() returns json');
SELECT function_returns('api', 'me', ARRAY[]::name[], 'json', 'api.me() returns json');
SELECT function_returns('api', 'patch_task', ARRAY['bigint', 'text', 'text', 'text'], 'json', 'api.patch_task(bigint, text, text, text) returns json');
SELECT function_returns('api', 'register', ARRAY['text'], 'json', 'api.register(text) returns json');
SELECT function_returns('api', 'set_task_completion', ARRAY['bigint', 'text', 'text', 'text'], 'json',
                        'api.set_task_completion(bigint, text, text, text) returns json');
SELECT function_returns('api', 'update_task', ARRAY['bigint', 'text', 'text', 'text'], 'json', 'api.update_task(bigint, text, text, text) returns json');

-- SECURITY DEFINER: only the two account functions and the cleanup of expired Idempotency-Keys,
-- each with a pinned search_path -----------------------------------------------------------

SELECT is_definer('api', 'login', ARRAY['text'], 'api.login is SECURITY DEFINER (it reads password hashes)');
SELECT is_definer('api', 'register', ARRAY['text'], 'api.register is SECURITY DEFINER (it writes password hashes)');
SELECT results_eq($$SELECT p.oid::regprocedure::text FROM pg_proc p
                    WHERE p.pronamespace IN ('api'::regnamespace, 'todo'::regnamespace) AND p.prosecdef ORDER BY 1$$,
                  ARRAY['api.login(text)', 'api.register(text)', 'todo.forget_expired_idempotency_keys(integer)',
                        'todo.record_task_event()'],
                  'api.login, api.register, todo.forget_expired_idempotency_keys and todo.record_task_event (the trigger '
                  'that writes events) are the only SECURITY DEFINER '
                  'functions in schemas api and todo');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace IN ('api'::regnamespace, 'todo'::regnamespace) AND p.prosecdef
                     AND NOT EXISTS (SELECT FROM unnest(p.proconfig) c WHERE c LIKE 'search_path=%')$$,
                'every SECURITY DEFINER function in schemas api and todo pins its search_path');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace = 'api'::regnamespace
                     AND NOT ('search_path=""' = ANY (coalesce(p.proconfig, '{}')))$$,
                'every api function runs with search_path = '''' and qualified names');

-- who may execute what ------------------------------------------------------------------

SELECT function_privs_are('api', 'begin_request', ARRAY['text', 'bigint', 'timestamp with time zone', 'text', 'text', 'integer'], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.begin_request');
SELECT function_privs_are('api', 'begin_request', ARRAY['text', 'bigint', 'timestamp with time zone', 'text', 'text', 'integer'], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.begin_request');
SELECT function_privs_are('api', 'begin_request', ARRAY['text', 'bigint', 'timestamp with time zone', 'text', 'text', 'integer'], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.begin_request');
SELECT function_privs_are('api', 'create_task', ARRAY['text'], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.create_task');
SELECT function_privs_are('api', 'create_task', ARRAY['text'], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.create_task');
SELECT function_privs_are('api', 'create_task', ARRAY['text'], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.create_task');
SELECT function_privs_are('api', 'delete_task', ARRAY['bigint', 'text', 'text'], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.delete_task');
SELECT function_privs_are('api', 'delete_task', ARRAY['bigint', 'text', 'text'], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.delete_task');
SELECT function_privs_are('api', 'delete_task', ARRAY['bigint', 'text', 'text'], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.delete_task');
SELECT function_privs_are('api', 'get_task', ARRAY['bigint', 'text'], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.get_task');
SELECT function_privs_are('api', 'get_task', ARRAY['bigint', 'text'], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.get_task');
SELECT function_privs_are('api', 'get_task', ARRAY['bigint', 'text'], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.get_task');
SELECT function_privs_are('api', 'list_tasks', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text[]', 'text', 'text', 'text'], 'todo_gateway',
                          ARRAY['EXECUTE'], 'todo_gateway may execute api.list_tasks');
SELECT function_privs_are('api', 'list_tasks', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text[]', 'text', 'text', 'text'], 'todo_admin',
                          ARRAY['EXECUTE'], 'todo_admin may execute api.list_tasks');
SELECT function_privs_are('api', 'list_tasks', ARRAY['text', 'text', 'text', 'text', 'text', 'text', 'text', 'text[]', 'text', 'text', 'text'], 'public',
                          ARRAY[]::name[], 'PUBLIC may not execute api.list_tasks');
SELECT function_privs_are('api', 'login', ARRAY['text'], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.login');
SELECT function_privs_are('api', 'login', ARRAY['text'], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.login');
SELECT function_privs_are('api', 'login', ARRAY['text'], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.login');
SELECT function_privs_are('api', 'logout', ARRAY[]::name[], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.logout');
SELECT function_privs_are('api', 'logout', ARRAY[]::name[], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.logout');
SELECT function_privs_are('api', 'logout', ARRAY[]::name[], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.logout');
SELECT function_privs_are('api', 'me', ARRAY[]::name[], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.me');
SELECT function_privs_are('api', 'me', ARRAY[]::name[], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.me');
SELECT function_privs_are('api', 'me', ARRAY[]::name[], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.me');
SELECT function_privs_are('api', 'patch_task', ARRAY['bigint', 'text', 'text', 'text'], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.patch_task');
SELECT function_privs_are('api', 'patch_task', ARRAY['bigint', 'text', 'text', 'text'], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.patch_task');
SELECT function_privs_are('api', 'patch_task', ARRAY['bigint', 'text', 'text', 'text'], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.patch_task');
SELECT function_privs_are('api', 'register', ARRAY['text'], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.register');
SELECT function_privs_are('api', 'register', ARRAY['text'], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.register');
SELECT function_privs_are('api', 'register', ARRAY['text'], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.register');
SELECT function_privs_are('api', 'set_task_completion', ARRAY['bigint', 'text', 'text', 'text'], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.set_task_completion');
SELECT function_privs_are('api', 'set_task_completion', ARRAY['bigint', 'text', 'text', 'text'], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.set_task_completion');
SELECT function_privs_are('api', 'set_task_completion', ARRAY['bigint', 'text', 'text', 'text'], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.set_task_completion');
SELECT function_privs_are('api', 'update_task', ARRAY['bigint', 'text', 'text', 'text'], 'todo_gateway', ARRAY['EXECUTE'],
                          'todo_gateway may execute api.update_task');
SELECT function_privs_are('api', 'update_task', ARRAY['bigint', 'text', 'text', 'text'], 'todo_admin', ARRAY['EXECUTE'],
                          'todo_admin may execute api.update_task');
SELECT function_privs_are('api', 'update_task', ARRAY['bigint', 'text', 'text', 'text'], 'public', ARRAY[]::name[],
                          'PUBLIC may not execute api.update_task');

SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace IN ('api'::regnamespace, 'todo'::regnamespace)
                     AND has_function_privilege('public', p.oid, 'EXECUTE')$$,
                'PUBLIC may execute no function of schemas api and todo, present or future');
SELECT is_empty($$SELECT p.oid::regprocedure FROM pg_proc p
                   WHERE p.pronamespace = 'todo'::regnamespace AND p.proname IN ('session_json', 'tasks_touch', 'tasks_recur')
                     AND has_function_privilege('todo_gateway', p.oid, 'EXECUTE')$$,
                'todo_gateway may not execute todo.session_json (the iat minting helper) nor the trigger functions');

SELECT * FROM finish();
ROLLBACK;
