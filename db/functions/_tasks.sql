-- todo.task_out: the fields of a task as the contract shows them, in the contract's order;
-- row_to_json of it is a task's JSON. A type rather than a subquery so that todo.task_json
-- has no FROM and can be inlined (see below). Re-created on every deploy with the helpers
-- that use it: add a field here and in todo.task_json, nowhere else.
drop type if exists todo.task_out cascade;
create type todo.task_out as (id bigint, user_id text, title text, description text, completed boolean,
                              created_at text, updated_at text);

-- todo.rfc3339: a timestamp as RFC 3339 text in UTC with "Z" and always six fractional
-- digits, e.g. 2024-01-05T09:30:00.000000Z, whatever the session's TimeZone and DateStyle.
-- to_char was measured against the cheaper-looking alternatives (to_json(timestamp) or a
-- cast to text, then padding the fraction and adding the Z): they were slower, and the cast
-- depends on DateStyle. Inlinable: one SELECT of one expression, no FROM.
create or replace function todo.rfc3339(ts timestamptz)
    returns text
    language sql stable parallel safe
    as $$ select to_char(ts at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') $$;

-- todo.task_json: a task as the contract shows it, {"id", "user_id", "title", "description",
-- "completed", "created_at", "updated_at"}, the bytes row_to_json gives. Inlinable (plain
-- SQL, no FROM, no SET clause, stable): PostgreSQL substitutes its body into the calling
-- query, so a page of tasks is one plan, not a function call planned and run per row.
create or replace function todo.task_json(t todo.tasks)
    returns json
    language sql stable parallel safe
    as $$
    select row_to_json(row(t.id, t.user_id, t.title, t.description, t.completed,
                           todo.rfc3339(t.created_at), todo.rfc3339(t.updated_at))::todo.task_out)
$$;

-- todo.task_matches: whether the task's title or description holds needle (already in
-- lower case; null matches every task): the list's q. Inlinable.
create or replace function todo.task_matches(t todo.tasks, needle text)
    returns boolean
    language sql immutable parallel safe
    as $$ select needle is null or strpos(lower(t.title), needle) > 0 or strpos(lower(t.description), needle) > 0 $$;

-- todo.task_problems: what is wrong with the fields a body names (title, description,
-- completed), as validation problems; title_required for POST and PUT.
create or replace function todo.task_problems(b jsonb, title_required boolean)
    returns jsonb
    language plpgsql immutable
    as $$
declare
    problems jsonb := '[]'::jsonb;
    n int;
begin
    if not b ? 'title' then
        if title_required then
            problems := problems || todo.problem('body', 'title', 'field required', 'missing');
        end if;
    elsif jsonb_typeof(b->'title') <> 'string' then
        problems := problems || todo.problem('body', 'title', 'must be a string', 'string_type');
    else
        n := char_length(todo.trim_ws(b->>'title'));
        if n < 1 then
            problems := problems || todo.problem('body', 'title', 'must be 1 to 200 characters', 'string_too_short');
        elsif n > 200 then
            problems := problems || todo.problem('body', 'title', 'must be 1 to 200 characters', 'string_too_long');
        end if;
    end if;

    if b ? 'description' then
        if jsonb_typeof(b->'description') not in ('string', 'null') then
            problems := problems || todo.problem('body', 'description', 'must be a string or null', 'string_type');
        elsif char_length(b->>'description') > 1000 then
            problems := problems || todo.problem('body', 'description', 'must be at most 1000 characters',
                                                 'string_too_long');
        end if;
    end if;

    if b ? 'completed' and jsonb_typeof(b->'completed') <> 'boolean' then
        problems := problems || todo.problem('body', 'completed', 'must be a boolean', 'bool_type');
    end if;
    return problems;
end
$$;

-- todo.check_task_body: the body (the client's text) as a JSON object whose task fields are
-- valid, or the error: PT400 (todo.parse_body) or PT422 naming the fields. POST, PUT and
-- PATCH share it, so a field's rule is the same at every entry.
drop function if exists todo.check_task_body(json, boolean);
create or replace function todo.check_task_body(body text, title_required boolean)
    returns jsonb
    language plpgsql immutable
    as $$
declare
    b jsonb := todo.parse_body(body);
    problems jsonb := todo.task_problems(b, title_required);
begin
    if jsonb_array_length(problems) > 0 then
        perform todo.fail_validation(problems);
    end if;
    return b;
end
$$;

-- todo.task_not_found: the one 404 for a missing task and another user's task alike.
create or replace function todo.task_not_found(id bigint)
    returns void
    language sql
    as $$ select todo.fail(404, 'not_found', format('task %s not found', id)) $$;

-- todo.change_task: the one update of a task. Sets the fields b names (title, description,
-- completed; already validated); with toggle, flips completed when b does not name it.
-- Returns the task as JSON, or PT404 when the current user has no task id. With nothing
-- to change, nothing is written (updated_at stays). SECURITY INVOKER: row-level security
-- decides which rows "the current user's" are.
create or replace function todo.change_task(id bigint, b jsonb, toggle boolean default false)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    result json;
begin
    if b ?| array['title', 'description', 'completed'] or toggle then
        update todo.tasks
           set title = case when b ? 'title' then todo.trim_ws(b->>'title') else tasks.title end,
               description = case when b ? 'description' then b->>'description' else tasks.description end,
               completed = case when b ? 'completed' then (b->>'completed')::boolean
                                when toggle then not tasks.completed
                                else tasks.completed end
         where tasks.id = change_task.id
        returning todo.task_json(tasks) into result;
    else
        select todo.task_json(t) into result from todo.tasks t where t.id = change_task.id;
    end if;
    if result is null then
        perform todo.task_not_found(id);
    end if;
    return result;
end
$$;

revoke all on function todo.change_task(bigint, jsonb, boolean) from public;
grant execute on function todo.change_task(bigint, jsonb, boolean) to todo_gateway, todo_admin;
revoke all on function todo.rfc3339(timestamptz) from public;
revoke all on function todo.task_json(todo.tasks) from public;
revoke all on function todo.task_matches(todo.tasks, text) from public;
revoke all on function todo.task_problems(jsonb, boolean) from public;
revoke all on function todo.check_task_body(text, boolean) from public;
revoke all on function todo.task_not_found(bigint) from public;
grant execute on function todo.rfc3339(timestamptz) to todo_gateway, todo_admin;
grant execute on function todo.task_json(todo.tasks) to todo_gateway, todo_admin;
grant execute on function todo.task_matches(todo.tasks, text) to todo_gateway, todo_admin;
grant execute on function todo.task_problems(jsonb, boolean) to todo_gateway, todo_admin;
grant execute on function todo.check_task_body(text, boolean) to todo_gateway, todo_admin;
grant execute on function todo.task_not_found(bigint) to todo_gateway, todo_admin;
