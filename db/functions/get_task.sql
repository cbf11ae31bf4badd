-- api.get_task: one task of the current user; PT404 for a missing task and for another
-- user's task alike (row-level security hides it). Sets response.etag to the task's entity
-- tag (todo.task_etag); when if_none_match (the If-None-Match header field, null when absent)
-- names it, sets response.status to 304 and returns null: the client's copy is current
-- (RFC 9110 13.1.2).
create or replace function api.get_task(id bigint, if_none_match text default null)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    result json;
    etag text;
begin
    select t.json, todo.task_etag(t) into result, etag from todo.tasks t where t.id = get_task.id;
    if result is null then
        perform todo.task_not_found(id);
    end if;
    if todo.not_modified(etag, if_none_match) then
        return null;
    end if;
    return result;
end
$$;

revoke all on function api.get_task(bigint, text) from public;
grant execute on function api.get_task(bigint, text) to todo_gateway, todo_admin;
