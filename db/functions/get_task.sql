-- api.get_task: one task of the current user; PT404 for a missing task and for another
-- user's task alike (row-level security hides it).
create or replace function api.get_task(id bigint)
    returns json
    language plpgsql stable
    set search_path = ''
    as $$
declare
    result json;
begin
    select todo.task_json(t) into result from todo.tasks t where t.id = get_task.id;
    if result is null then
        perform todo.task_not_found(id);
    end if;
    return result;
end
$$;

revoke all on function api.get_task(bigint) from public;
grant execute on function api.get_task(bigint) to todo_gateway, todo_admin;
