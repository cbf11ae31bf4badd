-- api.create_task: adds a task for the current user from {"title", "description"?,
-- "completed"?}; returns it and sets response.location (transaction-local) to its id, for the 201.
create or replace function api.create_task(body text)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    b jsonb := todo.check_task_body(body, true);
    new_id bigint;
    result json;
begin
    if todo.current_user_id() is null then
        perform todo.fail(401, 'unauthorized', 'no user is set for this transaction');
    end if;
    insert into todo.tasks (user_id, title, description, completed)
    values (todo.current_user_id(), todo.trim_ws(b->>'title'), b->>'description',
            coalesce((b->>'completed')::boolean, false))
    returning tasks.id, todo.task_json(tasks) into new_id, result;
    -- the new task's id: the gateway answers Location: <the request's path>/<id>, encoded
    perform set_config('response.location', new_id::text, true);
    return result;
end
$$;

revoke all on function api.create_task(text) from public;
grant execute on function api.create_task(text) to todo_gateway, todo_admin;
