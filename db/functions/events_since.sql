-- api.events_since: the current user's events after last_event_id, oldest first, at most 100
-- (the SSE route asks again while "more" is true), as
--   {"last_event_id": n, "more": bool, "events": [{"id": n, "event": "task.created", "data": {...}}, ...]}
-- last_event_id: the id of the last event the client has (the Last-Event-ID header field of
-- WHATWG HTML 9.2 Server-Sent Events), or null for none: then nothing is replayed and the
-- answer's last_event_id is the user's newest (0 when they have none yet), where the stream
-- starts. When events after it are no longer kept (pruned: db/migrations/0005_events.sql), or
-- the id is not one this user has had (negative, or beyond their newest: the client's state is
-- not this database's), the one event is {"id": <newest>, "event": "reset", "data":
-- {"last_event_id": <newest>}}: the client reloads its list and goes on from there.
-- PT401 when no user is set. STABLE, so one snapshot serves all its reads: the counter and the
-- events agree. SECURITY INVOKER: row-level security shows only the user's own rows, so even a
-- wrongly routed call can never return another user's events.
create or replace function api.events_since(last_event_id bigint default null)
    returns json
    language plpgsql
    stable
    set search_path = ''
    as $$
declare
    page_size constant integer := 100;
    newest bigint;
    oldest bigint;
    page json;
    page_last bigint;
begin
    if todo.current_user_id() is null then
        perform todo.fail(401, 'unauthorized', 'no user is set for this transaction');
    end if;
    select coalesce(max(c.last_event_id), 0) into newest
      from todo.event_counters c where c.user_id = todo.current_user_id();
    if last_event_id is null or last_event_id = newest then
        return json_build_object('last_event_id', newest, 'more', false, 'events', '[]'::json);
    end if;
    select min(e.id) into oldest from todo.events e where e.user_id = todo.current_user_id();
    if last_event_id < 0 or last_event_id > newest or oldest is null or oldest > last_event_id + 1 then
        return json_build_object('last_event_id', newest, 'more', false, 'events',
                                 json_build_array(json_build_object('id', newest, 'event', 'reset',
                                                                    'data', json_build_object('last_event_id', newest))));
    end if;
    select json_agg(json_build_object('id', p.id, 'event', p.kind, 'data', p.data) order by p.id), max(p.id)
      into page, page_last
      from (select e.id, e.kind, e.data from todo.events e
             where e.user_id = todo.current_user_id() and e.id > last_event_id
             order by e.id limit page_size) p;
    return json_build_object('last_event_id', page_last, 'more', page_last < newest, 'events', page);
end
$$;

revoke all on function api.events_since(bigint) from public;
grant execute on function api.events_since(bigint) to todo_gateway, todo_admin;
