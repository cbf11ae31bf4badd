-- Floor for GET /api/{user}/tasks, newest first (workloads list50 and list): the cheapest
-- plain SQL returning the same bytes as api.list_tasks, run as a superuser (no row-level
-- security) with no function of ours. Each task's JSON is stored with it (the generated
-- column json, migration 0006), so the floor reads it as the API does. The two index scans
-- of the API's plan, pending and completed tasks (the list indexes lead with user_id,
-- completed), each stopping at the page, merged: a plain ORDER BY over the user's rows has
-- no index to follow and sorts them all (the heavy user's 100,000: ~0.2-0.9 s). One json_agg
-- of json values. pgbench variable: uid; bench/run writes the workload's page size (the
-- request's limit) for :page_size, a constant, as the cheapest plan wants.
select coalesce(json_agg(u.json), '[]')::text
  from ((select json, created_at, id from todo.tasks
          where user_id = :uid and not completed
          order by created_at desc, id desc limit :page_size)
        union all
        (select json, created_at, id from todo.tasks
          where user_id = :uid and completed
          order by created_at desc, id desc limit :page_size)
        order by created_at desc, id desc limit :page_size) u;
