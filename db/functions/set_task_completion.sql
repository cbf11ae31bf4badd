-- api.set_task_completion: with no body (null) or a body without "completed", toggles the
-- task's completion; with {"completed": bool}, sets it. Other fields are ignored.
create or replace function api.set_task_completion(id bigint, body text default null)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    b jsonb := '{}'::jsonb;
begin
    if body is not null then
        b := todo.parse_body(body);
        if b ? 'completed' and jsonb_typeof(b->'completed') <> 'boolean' then
            perform todo.fail_validation(jsonb_build_array(
                todo.problem('body', 'completed', 'must be a boolean', 'bool_type')));
        end if;
    end if;
    return todo.change_task(id, b - 'title' - 'description', true);
end
$$;

revoke all on function api.set_task_completion(bigint, text) from public;
grant execute on function api.set_task_completion(bigint, text) to todo_gateway, todo_admin;
