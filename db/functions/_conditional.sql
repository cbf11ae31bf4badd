-- Conditional requests (RFC 9110 section 13): the entity tags a client sends back in If-Match
-- and If-None-Match, compared by the function that reads or writes the resource, in the
-- transaction that does it (for a write, under the row's lock). The gateway passes the
-- header fields as they came (declared in its route table); it never compares them itself.

-- todo.etag_matches: whether a field value of If-Match or If-None-Match ("*", or a list of
-- entity-tags: "a", W/"b") names etag, the resource's current tag (RFC 9110 13.1.1, 13.1.2).
-- "*" names any current representation. weak: the weak comparison of RFC 9110 8.8.3.2 (the
-- opaque tags equal, W/ or not: If-None-Match); otherwise the strong one (neither weak and the
-- opaque tags equal: If-Match). A member that is not an entity-tag names nothing. Inlinable.
create or replace function todo.etag_matches(field text, etag text, weak boolean)
    returns boolean
    language sql immutable parallel safe
    as $$
    select todo.trim_ws(field) = '*'
        or exists (select from regexp_matches(field, '(W/)?("[^"]*")', 'g') tag
                    where tag[2] = regexp_replace(etag, '^W/', '') and (weak or (tag[1] is null and etag !~ '^W/')))
$$;

-- todo.check_preconditions: the preconditions of a write to the resource `what` (for the
-- message, e.g. 'task 42'), whose current tag is etag, in RFC 9110 13.2.2's order: PT412
-- precondition_failed when If-Match (if_match, null when absent) names no current tag, or
-- when If-None-Match names it; nothing otherwise. Raised before anything is written.
create or replace function todo.check_preconditions(etag text, if_match text, if_none_match text, what text)
    returns void
    language plpgsql stable
    as $$
begin
    if if_match is not null and not todo.etag_matches(if_match, etag, false) then
        perform todo.fail(412, 'precondition_failed', format('%s has changed since the version If-Match names', what));
    elsif if_none_match is not null and todo.etag_matches(if_none_match, etag, true) then
        perform todo.fail(412, 'precondition_failed', format('%s matches If-None-Match', what));
    end if;
end
$$;

-- todo.not_modified: for a GET: sets response.etag (transaction-local; the gateway sends it as
-- ETag) to the representation's tag, and, when If-None-Match (if_none_match, null when absent)
-- names it (weak comparison), response.status to 304; returns whether it did, and then the
-- caller returns no body (RFC 9110 13.1.2, 15.4.5).
create or replace function todo.not_modified(etag text, if_none_match text)
    returns boolean
    language plpgsql
    as $$
begin
    perform set_config('response.etag', etag, true);
    if if_none_match is not null and todo.etag_matches(if_none_match, etag, true) then
        perform set_config('response.status', '304', true);
        return true;
    end if;
    return false;
end
$$;

revoke all on function todo.etag_matches(text, text, boolean) from public;
revoke all on function todo.check_preconditions(text, text, text, text) from public;
revoke all on function todo.not_modified(text, text) from public;
grant execute on function todo.etag_matches(text, text, boolean) to todo_gateway, todo_admin;
grant execute on function todo.check_preconditions(text, text, text, text) to todo_gateway, todo_admin;
grant execute on function todo.not_modified(text, text) to todo_gateway, todo_admin;
