-- api.patch_task (PATCH): changes only the fields the body names (title, description,
-- completed, due_date, priority, tags, recurrence); an explicit null clears description,
-- due_date or recurrence; {} changes nothing. if_match and if_none_match: the If-Match and
-- If-None-Match header fields (null when absent), checked under the row's lock (PT412). Sets
-- response.etag to the task's new tag (RFC 5789: it names the patched task).
create or replace function api.patch_task(id bigint, body text, if_match text default null,
                                          if_none_match text default null)
    returns json
    language plpgsql
    set search_path = ''
    as $$
begin
    return todo.change_task(id, todo.check_task_body(body, false), false, if_match, if_none_match);
end
$$;

revoke all on function api.patch_task(bigint, text, text, text) from public;
grant execute on function api.patch_task(bigint, text, text, text) to todo_gateway, todo_admin;
