-- 0008: a series ends where the calendar the table accepts ends. Applied once by db/migrate
-- (as todo_owner); earlier migrations are never edited again.
--
-- Completing a recurring task whose next occurrence would be due on or after 10000-01-01
-- (tasks_due_date_range) raised the CHECK violation from the trigger, so the task could not
-- be completed at all (and the API answered a 422 naming no field). Now it is completed and
-- the series ends there: no next occurrence (docs/api.md, "Recurring tasks").
--
-- todo.tasks_recur(): trigger tasks_recur (after update of completed, for each row becoming
-- completed with a recurrence): inserts the next occurrence as in 0003 (same user, title,
-- description, priority, tags and recurrence, due one interval later by todo.next_due_date,
-- the series' day of month kept, not completed; at most one per occurrence), unless that
-- due date is beyond the range tasks_due_date_range allows. Returns null (an AFTER trigger).
-- SECURITY INVOKER: the insert is the user's own, under the same policies as any other.
create or replace function todo.tasks_recur() returns trigger
    language plpgsql
    set search_path = ''
    as $$
declare
    anchor int := coalesce(new.month_day, extract(day from new.due_date at time zone 'UTC')::int);
    next_due timestamptz := todo.next_due_date(new.due_date, new.recurrence, anchor);
begin
    if next_due >= '10000-01-01T00:00:00Z' then
        return null;
    end if;
    insert into todo.tasks (user_id, title, description, priority, tags, recurrence, due_date, month_day, previous_id)
    values (new.user_id, new.title, new.description, new.priority, new.tags, new.recurrence, next_due, anchor, new.id)
    on conflict (user_id, previous_id) where previous_id is not null do nothing;
    return null;
end
$$;

revoke all on function todo.tasks_recur() from public;
