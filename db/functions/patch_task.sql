-- api.patch_task (PATCH): changes only the fields the body names (title, description,
-- completed); an explicit "description": null clears it; {} changes nothing.
create or replace function api.patch_task(id bigint, body text)
    returns json
    language plpgsql
    set search_path = ''
    as $$
begin
    return todo.change_task(id, todo.check_task_body(body, false));
end
$$;

revoke all on function api.patch_task(bigint, text) from public;
grant execute on function api.patch_task(bigint, text) to todo_gateway, todo_admin;
