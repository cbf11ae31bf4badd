-- 0007: the prune of todo.record_event reads only the events it may delete. Applied once by
-- db/migrate (as todo_owner); earlier migrations are never edited again.
--
-- 0005's prune looked for the user's two oldest events from the start of their index range.
-- Rows deleted by the transaction still running stay in that index until a vacuum after its
-- commit, so one transaction writing n tasks of one user (an admin's bulk INSERT or UPDATE
-- in psql) walked, on each write, every event it had already pruned: O(n²). Measured on a
-- scratch cluster, one INSERT of n tasks for one user: n = 10,000 took 7.0 s, 20,000 26.2 s
-- (the benchmark's seeding of one user with 100,000 tasks ran for over 20 minutes).
-- Now the scan starts at the first event the window keeps (event_id - 1000: ids are per user,
-- 1, 2, 3, ... without gaps, and each write prunes the one that leaves the window, so nothing
-- older is left) and the delete is a lookup of those two ids: 20,000 tasks in 3.3 s, 50,000
-- in 16.9 s. What remains superlinear is the counter row: each write of the transaction
-- adds a version of the user's todo.event_counters row, which the next write's lookup walks
-- (db/README.md, "Bulk writes").
--
-- todo.record_event(user_id text, kind text, task_id bigint, data json) returns bigint: as in
-- 0005 (the user's next event id; inserted, announced with pg_notify on todo_events), keeping
-- the user's events within the last 1,000 and the last 24 hours; the oldest two are looked at
-- per write (bounded work). Raises what the inserts raise (a CHECK on kind). Called by the
-- trigger tasks_events only.
create or replace function todo.record_event(user_id text, kind text, task_id bigint, data json) returns bigint
    language plpgsql
    set search_path = ''
    as $$
declare
    event_id bigint;
begin
    insert into todo.event_counters as c (user_id, last_event_id) values (record_event.user_id, 1)
        on conflict on constraint event_counters_pkey do update set last_event_id = c.last_event_id + 1
        returning c.last_event_id into event_id;
    insert into todo.events (user_id, id, kind, task_id, data)
        values (record_event.user_id, event_id, record_event.kind, record_event.task_id, record_event.data);
    delete from todo.events e
     where e.user_id = record_event.user_id
       and e.id = any (array(select o.id from todo.events o
                              where o.user_id = record_event.user_id and o.id >= event_id - 1000
                              order by o.id limit 2))
       and (e.id <= event_id - 1000 or e.created_at < now() - interval '24 hours');
    perform pg_notify('todo_events', json_build_object('user_id', record_event.user_id, 'id', event_id)::text);
    return event_id;
end
$$;

revoke all on function todo.record_event(text, text, bigint, json) from public;
