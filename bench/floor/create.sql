-- Floor for POST /api/{user}/tasks: the cheapest plain SQL storing the same task and
-- returning the same bytes as api.create_task, run as a superuser (no row-level security)
-- with session_replication_role = replica (no trigger fires: the event the API's write
-- records is the functions' cost) and no function of ours (the table's CHECK constraints
-- still run; PostgreSQL computes the stored JSON, migration 0006, for every insert).
-- pgbench variables: uid, title, description.
insert into todo.tasks (user_id, title, description)
values (:uid, :title, :description)
returning json::text;
