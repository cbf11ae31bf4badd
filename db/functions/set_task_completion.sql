-- api.set_task_completion: with no body (null) or a body without "completed", toggles the
-- task's completion; with {"completed": bool}, sets it.
create or replace function api.set_task_completion(id bigint, body json default null)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    b jsonb := '{}';
    t todo.tasks;
begin
    if body is not null then
        b := todo.parse_body(body);
        if b ? 'completed' and jsonb_typeof(b->'completed') <> 'boolean' then
            perform todo.fail_validation(jsonb_build_array(
                todo.problem('body', 'completed', 'must be a boolean', 'bool_type')));
        end if;
    end if;
    update todo.tasks
       set completed = case when b ? 'completed' then (b->>'completed')::boolean else not tasks.completed end
     where tasks.id = set_task_completion.id
    returning * into t;
    if not found then
        perform todo.task_not_found(id);
    end if;
    return todo.task_json(t);
end
$$;

revoke all on function api.set_task_completion(bigint, json) from public;
grant execute on function api.set_task_completion(bigint, json) to todo_gateway, todo_admin;
