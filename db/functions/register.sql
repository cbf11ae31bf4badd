-- api.register: creates an account from {"email", "password", "name"?}; returns
-- {"user": {"id", "email", "name"}, "iat": n} (the gateway signs the token).
-- SECURITY DEFINER (runs as todo_owner) because the gateway may never touch password hashes.
-- PT409 email_taken when the email exists in any case; PT422 for invalid fields (the rules
-- of todo.email_problem and todo.password_problem, which api.login applies too); PT400 for
-- a body that is not a JSON object.
create or replace function api.register(body text)
    returns json
    language plpgsql
    security definer
    set search_path = ''
    as $$
declare
    b jsonb := todo.parse_body(body);
    problems jsonb := '[]'::jsonb;
    new_id text;
begin
    problems := problems || coalesce(todo.email_problem(b), '[]') || coalesce(todo.password_problem(b), '[]');
    if b ? 'name' and jsonb_typeof(b->'name') not in ('string', 'null') then
        problems := problems || todo.problem('body', 'name', 'must be a string or null', 'string_type');
    elsif char_length(b->>'name') > 255 then
        problems := problems || todo.problem('body', 'name', 'must be at most 255 characters', 'string_too_long');
    end if;
    if jsonb_array_length(problems) > 0 then
        perform todo.fail_validation(problems);
    end if;

    -- URL-safe ASCII ids: 16 random bytes in base64url, 22 characters.
    new_id := translate(encode(extensions.gen_random_bytes(16), 'base64'), '+/=', '-_');
    begin
        insert into todo.users (id, email, name, password_hash)
        values (new_id, todo.trim_ws(b->>'email'), b->>'name',
                extensions.crypt(b->>'password', extensions.gen_salt('bf', 10)));
    exception when unique_violation then
        perform todo.fail(409, 'email_taken', 'an account with this email already exists');
    end;
    return todo.session_json(new_id, todo.trim_ws(b->>'email'), b->>'name');
end
$$;

revoke all on function api.register(text) from public;
grant execute on function api.register(text) to todo_gateway, todo_admin;
