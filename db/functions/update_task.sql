-- api.update_task (PUT): replaces the task's text. title is required, a description left
-- out becomes null, a completed left out keeps its value.
create or replace function api.update_task(id bigint, body text)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    b jsonb := todo.check_task_body(body, true);
begin
    return todo.change_task(id, jsonb_build_object('description', null) || b);
end
$$;

revoke all on function api.update_task(bigint, text) from public;
grant execute on function api.update_task(bigint, text) to todo_gateway, todo_admin;
