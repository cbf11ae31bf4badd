-- Floor for PATCH /api/{user}/tasks/{id}/complete: the cheapest plain SQL making the same
-- change and returning the same bytes as api.set_task_completion, run as a superuser (no
-- row-level security) with session_replication_role = replica, so no trigger fires
-- (todo.tasks_touch, the event): the statement sets updated_at itself, and PostgreSQL
-- computes the stored JSON (migration 0006) from the new row. pgbench variables: uid, tid.
update todo.tasks
   set completed = not completed, updated_at = now()
 where id = :tid and user_id = :uid
returning json::text;
