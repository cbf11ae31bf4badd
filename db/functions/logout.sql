-- api.logout: revokes every token of the current user issued until now (see
-- api.begin_request). Returns JSON null (the HTTP answer is 204).
-- A login right after a logout, in the same second, issues a token whose iat is the next
-- second (todo.session_json), so a second logout moves the line at least one second past
-- the first: every token issued so far is revoked, that one too.
create or replace function api.logout()
    returns json
    language plpgsql
    set search_path = ''
    as $$
begin
    if todo.current_user_id() is null then
        perform todo.fail(401, 'unauthorized', 'no user is set for this transaction');
    end if;
    insert into todo.revocations as r (user_id, tokens_valid_after)
    values (todo.current_user_id(), now())
    on conflict (user_id) do update
        set tokens_valid_after = greatest(excluded.tokens_valid_after, r.tokens_valid_after + interval '1 second');
    return 'null'::json;
end
$$;

revoke all on function api.logout() from public;
grant execute on function api.logout() to todo_gateway, todo_admin;
