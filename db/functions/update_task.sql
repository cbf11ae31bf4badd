-- api.update_task (PUT): replaces the task's text. title is required, a description left
-- out becomes null; completed, due_date, priority, tags and recurrence left out keep their
-- values (a client that knows only title and description changes nothing else). if_match and
-- if_none_match: the If-Match and If-None-Match header fields (null when absent), checked
-- under the row's lock (PT412). No ETag in the answer: the stored task is not the body sent
-- (RFC 9110 9.3.4); a client gets the new tag by GET, or from PATCH.
create or replace function api.update_task(id bigint, body text, if_match text default null,
                                           if_none_match text default null)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    b jsonb := todo.check_task_body(body, true);
    result json := todo.change_task(id, jsonb_build_object('description', null) || b, false, if_match, if_none_match);
begin
    perform set_config('response.etag', '', true);
    return result;
end
$$;

revoke all on function api.update_task(bigint, text, text, text) from public;
grant execute on function api.update_task(bigint, text, text, text) to todo_gateway, todo_admin;
