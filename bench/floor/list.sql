-- Floor for GET /api/{user}/tasks, newest first (workloads list50 and list): the cheapest
-- plain SQL returning the same bytes as api.list_tasks, run as a superuser (no row-level
-- security) with no function of ours: one index scan that stops at the page, one json_agg
-- of json values (of records it would put a line break between them). pgbench variable:
-- uid; bench/run writes the workload's page size (the request's limit) for :page_size, a
-- constant, as the cheapest plan wants.
select coalesce(json_agg(row_to_json(t)), '[]')::text
  from (select id, user_id, title, description, completed,
               to_char(created_at at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as created_at,
               to_char(updated_at at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as updated_at,
               to_char(due_date at time zone 'UTC', E'YYYY-MM-DD"T"HH24\x3aMI\x3aSS.US"Z"') as due_date, priority, tags, recurrence
          from todo.tasks
         where user_id = :uid
         order by tasks.created_at desc, tasks.id desc -- qualified: bare, they would name the to_char columns
         limit :page_size) t;
