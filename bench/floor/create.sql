-- Floor for POST /api/{user}/tasks: the cheapest plain SQL storing the same task and
-- returning the same bytes as api.create_task, run as a superuser (no row-level security)
-- with no function of ours (the table's CHECK constraints still run). pgbench variables:
-- uid, title, description.
with t as (
    insert into todo.tasks (user_id, title, description)
    values (:uid, :title, :description)
    returning id, user_id, title, description, completed,
              to_char(created_at at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as created_at,
              to_char(updated_at at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as updated_at,
               to_char(due_date at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as due_date, priority, tags, recurrence)
select row_to_json(t)::text from t;
