-- Floor for PATCH /api/{user}/tasks/{id}/complete: the cheapest plain SQL making the same
-- change and returning the same bytes as api.set_task_completion, run as a superuser (no
-- row-level security) with session_replication_role = replica, so the PL/pgSQL trigger
-- todo.tasks_touch does not fire: the statement sets updated_at itself. pgbench
-- variables: uid, tid.
with t as (
    update todo.tasks
       set completed = not completed, updated_at = now()
     where id = :tid and user_id = :uid
    returning id, user_id, title, description, completed,
              to_char(created_at at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as created_at,
              to_char(updated_at at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as updated_at,
               to_char(due_date at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as due_date, priority, tags, recurrence)
select row_to_json(t)::text from t;
