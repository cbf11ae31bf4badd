-- api.delete_task: deletes one task of the current user; returns JSON null (the HTTP
-- answer is 204 with no body). PT404 when there is no such task for this user. if_match and
-- if_none_match: the If-Match and If-None-Match header fields (null when absent), checked
-- under the row's lock (PT412, nothing deleted). The next occurrence of a recurring task
-- stays when its predecessor goes (its link, previous_id, is cleared).
create or replace function api.delete_task(id bigint, if_match text default null, if_none_match text default null)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    etag text;
begin
    select todo.task_etag(t) into etag from todo.tasks t where t.id = delete_task.id for update;
    if not found then
        perform todo.task_not_found(id);
    end if;
    perform todo.check_preconditions(etag, if_match, if_none_match, format('task %s', id));
    delete from todo.tasks where tasks.id = delete_task.id;
    return 'null'::json;
end
$$;

revoke all on function api.delete_task(bigint, text, text) from public;
grant execute on function api.delete_task(bigint, text, text) to todo_gateway, todo_admin;
