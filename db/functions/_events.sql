-- todo.event_stream_text: events as api.events_since returns them ([{"id", "event", "data"}, ...])
-- in the text/event-stream format of WHATWG HTML 9.2 (Server-Sent Events), one block each:
--   id: <id>\nevent: <event>\ndata: <data as JSON on one line>\n\n
-- '' for none. JSON as PostgreSQL writes it carries no raw line break (a newline in a string is
-- the escape \n), so each data fits the one data: line the format needs.
create or replace function todo.event_stream_text(events json)
    returns text
    language sql immutable parallel safe
    as $$
    select coalesce(string_agg(format(E'id: %s\nevent: %s\ndata: %s\n\n', e.value->>'id', e.value->>'event', e.value->'data'),
                               '' order by e.n), '')
      from json_array_elements(coalesce(events, '[]'::json)) with ordinality e(value, n)
$$;

revoke all on function todo.event_stream_text(json) from public;
grant execute on function todo.event_stream_text(json) to todo_gateway, todo_admin;
