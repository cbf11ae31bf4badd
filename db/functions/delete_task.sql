-- api.delete_task: deletes one task of the current user; returns JSON null (the HTTP
-- answer is 204 with no body). PT404 when there is no such task for this user.
create or replace function api.delete_task(id bigint)
    returns json
    language plpgsql
    set search_path = ''
    as $$
begin
    delete from todo.tasks where tasks.id = delete_task.id;
    if not found then
        perform todo.task_not_found(id);
    end if;
    return 'null'::json;
end
$$;

revoke all on function api.delete_task(bigint) from public;
grant execute on function api.delete_task(bigint) to todo_gateway, todo_admin;
