-- api.begin_request: the first statement of every authenticated request. Sets app.user_id
-- for this transaction only and rejects a token issued at or before the user's last logout
-- (PT401). issued_at is the token's iat in seconds since the epoch, null when it had none.
-- SECURITY INVOKER: the revocation row it reads is the user's own, visible once the user is set.
create or replace function api.begin_request(user_id text, issued_at bigint default null)
    returns void
    language plpgsql
    set search_path = ''
    as $$
declare
    valid_after timestamptz;
begin
    if user_id is null or user_id = '' or char_length(user_id) > 255 then
        perform todo.fail(401, 'unauthorized', 'invalid token');
    end if;
    perform set_config('app.user_id', user_id, true);
    select r.tokens_valid_after into valid_after from todo.revocations r where r.user_id = begin_request.user_id;
    if found and (issued_at is null or issued_at <= floor(extract(epoch from valid_after))) then
        perform todo.fail(401, 'unauthorized', 'token has been revoked');
    end if;
end
$$;

revoke all on function api.begin_request(text, bigint) from public;
grant execute on function api.begin_request(text, bigint) to todo_gateway, todo_admin;
