-- todo.account_json: an account as the contract shows it.
create or replace function todo.account_json(id text, email text, name text)
    returns json
    language sql immutable
    as $$ select row_to_json(account) from (select account_json.id, account_json.email, account_json.name) account $$;

-- todo.session_json: what register and login return: the account, and the iat the
-- gateway must stamp on the token it signs. That iat is strictly after the user's last
-- logout, so a token issued in the same second as a logout is not born revoked.
create or replace function todo.session_json(id text, email text, name text)
    returns json
    language sql stable
    set search_path = ''
    as $$
    select json_build_object(
        'user', todo.account_json(session_json.id, session_json.email, session_json.name),
        'iat', greatest(floor(extract(epoch from now()))::bigint,
                        (select floor(extract(epoch from r.tokens_valid_after))::bigint + 1
                           from todo.revocations r where r.user_id = session_json.id)))
$$;

revoke all on function todo.account_json(text, text, text) from public;
revoke all on function todo.session_json(text, text, text) from public;
grant execute on function todo.account_json(text, text, text) to todo_gateway, todo_admin;
