-- api.patch_task (PATCH): changes only the fields the body names (title, description,
-- completed); an explicit "description": null clears it.
create or replace function api.patch_task(id bigint, body json)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    b jsonb := todo.check_task_body(body, false);
    t todo.tasks;
begin
    update todo.tasks
       set title = case when b ? 'title' then todo.trim_ws(b->>'title') else tasks.title end,
           description = case when b ? 'description' then b->>'description' else tasks.description end,
           completed = case when b ? 'completed' then (b->>'completed')::boolean else tasks.completed end
     where tasks.id = patch_task.id
    returning * into t;
    if not found then
        perform todo.task_not_found(id);
    end if;
    return todo.task_json(t);
end
$$;

revoke all on function api.patch_task(bigint, json) from public;
grant execute on function api.patch_task(bigint, json) to todo_gateway, todo_admin;
