-- api.set_task_completion: with no body (null) or a body without "completed", toggles the
-- task's completion; with {"completed": bool}, sets it. Other fields are ignored. if_match
-- and if_none_match: the If-Match and If-None-Match header fields (null when absent),
-- checked under the row's lock (PT412). Sets response.etag to the task's new tag. A recurring
-- task that becomes completed gets its next occurrence (todo.tasks_recur).
create or replace function api.set_task_completion(id bigint, body text default null, if_match text default null,
                                                   if_none_match text default null)
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
    return todo.change_task(id, jsonb_strip_nulls(jsonb_build_object('completed', b->'completed')), true, if_match,
                            if_none_match);
end
$$;

revoke all on function api.set_task_completion(bigint, text, text, text) from public;
grant execute on function api.set_task_completion(bigint, text, text, text) to todo_gateway, todo_admin;
