-- api.update_task (PUT): replaces the task's text. title is required, a description left
-- out becomes null, a completed left out keeps its value.
create or replace function api.update_task(id bigint, body json)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    b jsonb := todo.check_task_body(body, true);
    t todo.tasks;
begin
    update todo.tasks
       set title = todo.trim_ws(b->>'title'),
           description = b->>'description',
           completed = coalesce((b->>'completed')::boolean, tasks.completed)
     where tasks.id = update_task.id
    returning * into t;
    if not found then
        perform todo.task_not_found(id);
    end if;
    return todo.task_json(t);
end
$$;

revoke all on function api.update_task(bigint, json) from public;
grant execute on function api.update_task(bigint, json) to todo_gateway, todo_admin;
