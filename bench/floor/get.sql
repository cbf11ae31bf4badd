-- Floor for GET /api/{user}/tasks/{id}: the cheapest plain SQL returning the same bytes as
-- api.get_task, run as a superuser (no row-level security) with no function of ours; the
-- user check the policies make is the plain "and user_id = :uid". pgbench variables: uid,
-- tid. (The timestamp format spells ':' as \x3a: pgbench would read ":MI" as a variable.)
select row_to_json(t)::text
  from (select id, user_id, title, description, completed,
               to_char(created_at at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as created_at,
               to_char(updated_at at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as updated_at,
               to_char(due_date at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as due_date, priority, tags, recurrence
          from todo.tasks
         where id = :tid and user_id = :uid) t;
