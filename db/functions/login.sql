-- api.login: checks {"email", "password"}; returns {"user": {...}, "iat": n} like
-- api.register. A wrong email and a wrong password are the same PT401
-- invalid_credentials, and take the same time: an unknown email is hashed too. So is an
-- email or password that breaks a registration rule (todo.email_problem,
-- todo.password_problem): it could never have been registered, so it never matches, even
-- when bcrypt, which reads 72 bytes, would say it does (a registered 72-byte password with
-- anything appended). PT422 only when email or password is missing or not a string.
-- SECURITY DEFINER: reads the password hash, which the gateway role cannot.
create or replace function api.login(body text)
    returns json
    language plpgsql
    security definer
    set search_path = ''
    as $$
declare
    b jsonb := todo.parse_body(body);
    u todo.users;
    problems jsonb;
    -- A bcrypt hash of cost 10 that matches no password: the work an unknown email costs.
    decoy constant text := '$2a$10$CwTycUXWue0Thq9StjUM0uJ8.Vd/FJL0e3ZQFi3V1xZkq1VdvC6mG';
begin
    problems := (select jsonb_agg(p) from unnest(array['email', 'password']) f, todo.string_problem(b, f) p
                  where p is not null);
    if problems is not null then
        perform todo.fail_validation(problems);
    end if;
    select * into u from todo.users where lower(email) = lower(todo.trim_ws(b->>'email'));
    if extensions.crypt(b->>'password', coalesce(u.password_hash, decoy)) is distinct from u.password_hash
       or todo.email_problem(b) is not null or todo.password_problem(b) is not null then
        perform todo.fail(401, 'invalid_credentials', 'invalid email or password');
    end if;
    return todo.session_json(u.id, u.email, u.name);
end
$$;

revoke all on function api.login(text) from public;
grant execute on function api.login(text) to todo_gateway, todo_admin;
