-- api.register: creates an account from {"email", "password", "name"?}; returns
-- {"user": {"id", "email", "name"}, "iat": n} (the gateway signs the token).
-- SECURITY DEFINER (runs as todo_owner) because the gateway may never touch password hashes.
-- PT409 email_taken when the email exists in any case; PT422 for invalid fields.
create or replace function api.register(body json)
    returns json
    language plpgsql
    security definer
    set search_path = ''
    as $$
declare
    b jsonb := todo.parse_body(body);
    problems jsonb := '[]';
    new_id text;
begin
    if jsonb_typeof(b->'email') is distinct from 'string' then
        problems := problems || todo.problem('body', 'email', 'field required', 'missing');
    elsif char_length(b->>'email') > 254 or (b->>'email') !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
        problems := problems || todo.problem('body', 'email', 'must be a valid email address', 'value_error');
    end if;
    if jsonb_typeof(b->'password') is distinct from 'string' then
        problems := problems || todo.problem('body', 'password', 'field required', 'missing');
    elsif char_length(b->>'password') < 8 then
        problems := problems || todo.problem('body', 'password', 'must be at least 8 characters', 'string_too_short');
    elsif octet_length(b->>'password') > 72 then
        problems := problems || todo.problem('body', 'password', 'must be at most 72 bytes', 'string_too_long');
    end if;
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

revoke all on function api.register(json) from public;
grant execute on function api.register(json) to todo_gateway, todo_admin;
