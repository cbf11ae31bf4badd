-- api.create_task: adds a task for the current user from {"title", "description"?,
-- "completed"?, "due_date"?, "priority"?, "tags"?, "recurrence"?} (PT400, PT422 as
-- todo.check_task_body says; PT422 for a recurrence without a due date); returns it, sets
-- response.location (transaction-local) to its id, for the 201, and response.etag to its tag.
create or replace function api.create_task(body text)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    b jsonb := todo.check_task_body(body, true);
    t todo.tasks;
    result json;
    etag text;
begin
    if todo.current_user_id() is null then
        perform todo.fail(401, 'unauthorized', 'no user is set for this transaction');
    end if;
    t.completed := false; -- the table's defaults, for the fields the body leaves out
    t.priority := 'medium';
    t.tags := '{}';
    t := todo.apply_task_body(t, b, false);
    perform todo.check_recurrence(t, b);
    insert into todo.tasks (user_id, title, description, completed, due_date, priority, tags, recurrence)
    values (todo.current_user_id(), t.title, t.description, t.completed, t.due_date, t.priority, t.tags, t.recurrence)
    returning tasks.id, todo.task_json(tasks), todo.task_etag(tasks) into t.id, result, etag;
    -- the new task's id: the gateway answers Location: <the request's path>/<id>, encoded
    perform set_config('response.location', t.id::text, true);
    perform set_config('response.etag', etag, true);
    return result;
end
$$;

revoke all on function api.create_task(text) from public;
grant execute on function api.create_task(text) to todo_gateway, todo_admin;
