-- api.me: the current user's account {"id", "email", "name"}; PT401 when the token's
-- user has no account here (e.g. it was issued by another identity provider).
create or replace function api.me()
    returns json
    language plpgsql stable
    set search_path = ''
    as $$
declare
    result json;
begin
    select todo.account_json(u.id, u.email, u.name) into result
      from todo.users u where u.id = (select todo.current_user_id());
    if result is null then
        perform todo.fail(401, 'unauthorized', 'no account for this token');
    end if;
    return result;
end
$$;

revoke all on function api.me() from public;
grant execute on function api.me() to todo_gateway, todo_admin;
