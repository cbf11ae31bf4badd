-- 0003: the task features users reach for next (issue 11): a due date, a priority, tags and a
-- recurrence, with their rules as named CHECK constraints (a DBA in psql meets them too); the
-- next occurrence of a recurring task, created by the database when one becomes completed;
-- updated_at moving forward at every write, so that (id, updated_at) is a strong entity tag
-- (RFC 9110 8.8.3); and the list's indexes for the new orders. Applied once by db/migrate (as
-- todo_owner); 0001 and 0002 are never edited again. The helpers a constraint, an index or a
-- trigger uses live here, not in db/functions/ (which is re-applied on every deploy).

-- todo.priority_rank: a priority's place in the order low < medium < high (1, 2, 3), or null
-- for any other text. The list sorts by it (sort=priority); inlinable SQL.
create function todo.priority_rank(priority text) returns int
    language sql immutable strict parallel safe
    as $$ select case priority when 'low' then 1 when 'medium' then 2 when 'high' then 3 end $$;

-- todo.tags_valid: whether a list of tags is as the API stores it: one-dimensional, no null,
-- each tag 1 to 50 characters with no surrounding whitespace (todo.trim_ws), no two equal
-- once lower-cased. (How many there may be is tasks_tags_count's rule.) PL/pgSQL, a loop
-- over the array: every write of a task runs it, and this costs a few microseconds where a
-- SQL function of subqueries over unnest costs 20 (no tags, the usual case, returns at once).
create function todo.tags_valid(tags text[]) returns boolean
    language plpgsql immutable strict parallel safe
    as $$
declare
    tag text;
    seen text[] := '{}'::text[];
begin
    if cardinality(tags) = 0 then
        return true;
    elsif array_ndims(tags) <> 1 then
        return false;
    end if;
    foreach tag in array tags loop
        if tag is null or tag <> todo.trim_ws(tag) or char_length(tag) not between 1 and 50 or lower(tag) = any (seen) then
            return false;
        end if;
        seen := seen || lower(tag);
    end loop;
    return true;
end
$$;

-- todo.next_due_date: the due date of the occurrence after one due at `due`, for a recurrence
-- of 'daily', 'weekly' or 'monthly' (null for anything else). The arithmetic is done in UTC,
-- whatever the session's TimeZone: daily is 24 hours on, weekly 7 days. Monthly keeps the
-- series' day of month, month_day (1 to 31; RFC 5545's BYMONTHDAY), clamped to the last day
-- of a shorter month, and keeps the time of day: a series anchored on the 31st is due on
-- Jan 31, Feb 28 (29), Mar 31, Apr 30, ... (the anchor is kept: Feb 28 is followed by Mar 31).
create function todo.next_due_date(due timestamptz, recurrence text, month_day int) returns timestamptz
    language sql immutable parallel safe
    as $$
    select (case recurrence
                when 'daily' then u + interval '1 day'
                when 'weekly' then u + interval '7 days'
                when 'monthly' then
                    date_trunc('month', u) + interval '1 month'
                    + (least(month_day, extract(day from date_trunc('month', u) + interval '2 months' - interval '1 day'))::int - 1)
                      * interval '1 day'
                    + (u - date_trunc('day', u))
            end) at time zone 'UTC'
      from (select due at time zone 'UTC' as u) utc
$$;

alter table todo.tasks
    add column due_date timestamptz,
    add column priority text not null default 'medium',
    add column tags text[] not null default '{}',
    add column recurrence text,
    -- the day of month a monthly series keeps (todo.next_due_date); null: the due date's own
    add column month_day smallint,
    -- the occurrence this task was created to follow (todo.tasks_recur); null for the others
    add column previous_id bigint,
    -- the years RFC 3339 can show (four digits, in UTC); infinity is outside them
    add constraint tasks_due_date_range check (due_date >= '0001-01-01T00:00:00Z' and due_date < '10000-01-01T00:00:00Z'),
    add constraint tasks_priority_valid check (priority in ('low', 'medium', 'high')),
    add constraint tasks_tags_count check (cardinality(tags) <= 10),
    add constraint tasks_tags_valid check (todo.tags_valid(tags)),
    add constraint tasks_recurrence_valid check (recurrence in ('daily', 'weekly', 'monthly')),
    add constraint tasks_recurrence_needs_due_date check (recurrence is null or due_date is not null),
    add constraint tasks_month_day_valid check (month_day between 1 and 31),
    -- deleting an occurrence unlinks its successor (keeps user_id: a column list, PostgreSQL 15)
    add constraint tasks_previous_id_fkey foreign key (user_id, previous_id) references todo.tasks (user_id, id)
        on delete set null (previous_id);

-- One next occurrence per occurrence, however often it is completed: the arbiter of
-- todo.tasks_recur's ON CONFLICT, and the index the foreign key's ON DELETE looks through.
create unique index tasks_user_id_previous_id_key on todo.tasks (user_id, previous_id) where previous_id is not null;

-- The list's new orders, each an ordered index scan that stops at the page, as in 0002: the
-- pending and the completed tasks are one range each. Tasks without a due date come last in
-- both orders, so due_date has an index per direction (a backward scan would put them first).
create index tasks_user_id_completed_due_date_idx on todo.tasks (user_id, completed, due_date, id);
create index tasks_user_id_completed_due_date_desc_idx
    on todo.tasks (user_id, completed, due_date desc nulls last, id desc);
create index tasks_user_id_completed_priority_idx on todo.tasks (user_id, completed, todo.priority_rank(priority), id);

-- updated_at moves forward at every write, even twice in one transaction (now() is the
-- transaction's start), so that no two versions of a task share it: the ETag is made of the
-- id and updated_at. A due date that moves anchors a monthly series on its new day.
create or replace function todo.tasks_touch() returns trigger
    language plpgsql
    as $$
begin
    new.updated_at := greatest(now(), old.updated_at + interval '1 microsecond');
    new.created_at := old.created_at;
    if new.due_date is distinct from old.due_date then
        new.month_day := null;
    end if;
    return new;
end
$$;

-- todo.tasks_recur: a recurring task became completed: its next occurrence, in the same
-- transaction: same user, title, description, priority, tags and recurrence, due one interval
-- later (todo.next_due_date, the series' day of month kept), not completed. At most one per
-- occurrence (tasks_user_id_previous_id_key): completing it again, after un-completing it,
-- adds nothing while that next occurrence exists; un-completing never removes it. SECURITY
-- INVOKER: the insert is the user's own, under the same policies as any other.
create function todo.tasks_recur() returns trigger
    language plpgsql
    set search_path = ''
    as $$
declare
    anchor int := coalesce(new.month_day, extract(day from new.due_date at time zone 'UTC')::int);
begin
    insert into todo.tasks (user_id, title, description, priority, tags, recurrence, due_date, month_day, previous_id)
    values (new.user_id, new.title, new.description, new.priority, new.tags, new.recurrence,
            todo.next_due_date(new.due_date, new.recurrence, anchor), anchor, new.id)
    on conflict (user_id, previous_id) where previous_id is not null do nothing;
    return null;
end
$$;

create trigger tasks_recur after update of completed on todo.tasks
    for each row when (new.completed and not old.completed and new.recurrence is not null)
    execute function todo.tasks_recur();

revoke all on function todo.priority_rank(text) from public;
revoke all on function todo.tags_valid(text[]) from public;
revoke all on function todo.next_due_date(timestamptz, text, int) from public;
revoke all on function todo.tasks_recur() from public;
grant execute on function todo.priority_rank(text) to todo_gateway, todo_admin;
grant execute on function todo.tags_valid(text[]) to todo_gateway, todo_admin;
grant execute on function todo.next_due_date(timestamptz, text, int) to todo_gateway, todo_admin;
