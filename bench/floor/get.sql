-- Floor for GET /api/{user}/tasks/{id}: the cheapest plain SQL returning the same bytes as
-- api.get_task, run as a superuser (no row-level security) with no function of ours; the
-- user check the policies make is the plain "and user_id = :uid". The task's JSON is stored
-- with it (the generated column json, migration 0006), as the API reads it. pgbench
-- variables: uid, tid.
select json::text from todo.tasks where id = :tid and user_id = :uid;
