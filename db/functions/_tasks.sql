-- todo.task_json: a task as the contract shows it; timestamps RFC 3339 in UTC with Z.
create or replace function todo.task_json(t todo.tasks)
    returns json
    language sql stable
    as $$
    select row_to_json(task)
      from (select t.id, t.user_id, t.title, t.description, t.completed,
                   to_char(t.created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as created_at,
                   to_char(t.updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') as updated_at) task
$$;

-- todo.task_problems: what is wrong with the fields a body names (title, description,
-- completed), as validation problems; title_required for POST and PUT.
create or replace function todo.task_problems(b jsonb, title_required boolean)
    returns jsonb
    language plpgsql immutable
    as $$
declare
    problems jsonb := '[]';
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

-- todo.check_task_body: the body as a JSON object whose task fields are valid, or the error.
create or replace function todo.check_task_body(body json, title_required boolean)
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
    t todo.tasks;
begin
    if b ?| array['title', 'description', 'completed'] or toggle then
        update todo.tasks
           set title = case when b ? 'title' then todo.trim_ws(b->>'title') else tasks.title end,
               description = case when b ? 'description' then b->>'description' else tasks.description end,
               completed = case when b ? 'completed' then (b->>'completed')::boolean
                                when toggle then not tasks.completed
                                else tasks.completed end
         where tasks.id = change_task.id
        returning * into t;
    else
        select * into t from todo.tasks where tasks.id = change_task.id;
    end if;
    if not found then
        perform todo.task_not_found(id);
    end if;
    return todo.task_json(t);
end
$$;

revoke all on function todo.change_task(bigint, jsonb, boolean) from public;
grant execute on function todo.change_task(bigint, jsonb, boolean) to todo_gateway, todo_admin;
revoke all on function todo.task_json(todo.tasks) from public;
revoke all on function todo.task_problems(jsonb, boolean) from public;
revoke all on function todo.check_task_body(json, boolean) from public;
revoke all on function todo.task_not_found(bigint) from public;
grant execute on function todo.task_json(todo.tasks) to todo_gateway, todo_admin;
grant execute on function todo.task_problems(jsonb, boolean) to todo_gateway, todo_admin;
grant execute on function todo.check_task_body(json, boolean) to todo_gateway, todo_admin;
grant execute on function todo.task_not_found(bigint) to todo_gateway, todo_admin;
