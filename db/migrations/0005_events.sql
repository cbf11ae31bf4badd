-- 0005: live updates (issue 12). Every change of a task is recorded as an event of its user,
-- in the same transaction as the change, and announced with pg_notify; the gateway streams a
-- user's events as Server-Sent Events (GET /api/{user_id}/events) and a client that reconnects
-- with Last-Event-ID is replayed what it missed (api.events_since, db/functions/events_since.sql).
-- Applied once by db/migrate (as todo_owner); earlier migrations are never edited again.

-- One row per user who ever had an event: the id of their last one. The trigger takes the
-- next id by updating this row, whose lock it holds until its transaction ends, so one user's
-- writes take their ids one after the other and commit in id order: a reader who sees event n
-- sees every event before it (a global sequence would let an id committed late be skipped by
-- a reader that had already gone past it). Ids start at 1; 0 means "no event yet".
create table todo.event_counters (
    user_id       text not null,
    last_event_id bigint not null,
    constraint event_counters_pkey primary key (user_id),
    constraint event_counters_last_event_id_positive check (last_event_id >= 1)
);

-- The events kept: at least the user's last 1,000, or those of the last 24 hours (pruned by the
-- trigger a row or two per write: bounded work; see todo.record_task_event). id: per user,
-- 1, 2, 3, ... with no gap in commit order. kind: task.created, task.updated, task.deleted.
-- data: what the event carries, the task's JSON as the task routes return it (todo.task_json),
-- or {"id": n} for a deletion.
create table todo.events (
    user_id    text not null,
    id         bigint not null,
    kind       text not null,
    task_id    bigint not null,
    data       json not null,
    created_at timestamptz not null default now(),
    constraint events_pkey primary key (user_id, id),
    constraint events_kind_valid check (kind in ('task.created', 'task.updated', 'task.deleted'))
);

alter table todo.events enable row level security;
alter table todo.events force row level security;
alter table todo.event_counters enable row level security;
alter table todo.event_counters force row level security;

-- A user reads only their own events and their own counter; nobody set, nothing. Nobody but
-- the trigger (SECURITY DEFINER, running as todo_owner) writes either table.
create policy "users see their own events" on todo.events
    for select to todo_gateway, todo_admin using (user_id = (select todo.current_user_id()));
create policy "users see their own event counter" on todo.event_counters
    for select to todo_gateway, todo_admin using (user_id = (select todo.current_user_id()));
create policy "the task trigger records events" on todo.events
    for insert to todo_owner with check (true);
create policy "the task trigger finds events to prune" on todo.events
    for select to todo_owner using (true);
create policy "the task trigger prunes events" on todo.events
    for delete to todo_owner using (true);
create policy "the task trigger reads event counters" on todo.event_counters
    for select to todo_owner using (true);
create policy "the task trigger starts event counters" on todo.event_counters
    for insert to todo_owner with check (true);
create policy "the task trigger advances event counters" on todo.event_counters
    for update to todo_owner using (true) with check (true);

revoke all on todo.events, todo.event_counters from public;
grant select on todo.events, todo.event_counters to todo_gateway, todo_admin;

-- todo.record_event: records one event of user_id (kind, the task's id, data) with the user's
-- next id, prunes their oldest event when it is beyond the last 1,000 or older than 24 hours
-- (looking at their two oldest rows only: bounded work per write), and notifies channel
-- todo_events with {"user_id": ..., "id": ...} (no task data: the gateway fetches the events as
-- the user, api.events_since). Returns the event's id. Called by the trigger below only, as
-- todo_owner: nobody else may execute it (a caller could forge another user's events).
create function todo.record_event(user_id text, kind text, task_id bigint, data json) returns bigint
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
       and e.id in (select o.id from todo.events o where o.user_id = record_event.user_id order by o.id limit 2)
       and (e.id <= event_id - 1000 or e.created_at < now() - interval '24 hours');
    perform pg_notify('todo_events', json_build_object('user_id', record_event.user_id, 'id', event_id)::text);
    return event_id;
end
$$;

-- todo.record_task_event: the trigger tasks_events, after each row inserted, updated or deleted
-- in todo.tasks, by the API or by anyone in psql: task.created / task.updated with the task's
-- JSON, task.deleted with {"id": n}. A task moved to another user (only a superuser can) is a
-- deletion for the one and a creation for the other. SECURITY DEFINER (todo_owner): the
-- writer of a task cannot write events or counters itself (a trigger function needs no
-- EXECUTE grant to fire, and cannot be called any other way).
create function todo.record_task_event() returns trigger
    language plpgsql
    security definer
    set search_path = ''
    as $$
begin
    if tg_op = 'INSERT' then
        perform todo.record_event(new.user_id, 'task.created', new.id, todo.task_json(new));
    elsif tg_op = 'DELETE' or old.user_id <> new.user_id then
        perform todo.record_event(old.user_id, 'task.deleted', old.id, json_build_object('id', old.id));
    end if;
    if tg_op = 'UPDATE' then
        perform todo.record_event(new.user_id, case when old.user_id = new.user_id then 'task.updated' else 'task.created' end,
                                  new.id, todo.task_json(new));
    end if;
    return null;
end
$$;

create trigger tasks_events after insert or update or delete on todo.tasks
    for each row execute function todo.record_task_event();

revoke all on function todo.record_event(text, text, bigint, json) from public;
revoke all on function todo.record_task_event() from public;
