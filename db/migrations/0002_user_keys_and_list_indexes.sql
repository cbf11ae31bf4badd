-- 0002: every key of a user table holds user_id (ready to distribute by user_id on Citus),
-- and one index per sort the list offers, so that every page is an index scan that stops
-- at the page. Applied once by db/migrate (as todo_owner); 0001 is never edited again.

-- Citus requires that every primary key and unique constraint of a distributed table
-- contains the distribution column. tasks was keyed by id alone; it is now keyed by
-- (user_id, id). ids stay unique by construction: `id` is `generated always as identity`,
-- so every id comes from the table's one sequence (an INSERT cannot supply its own id
-- without OVERRIDING SYSTEM VALUE, which no role of the project uses), and on Citus the
-- sequence of a distributed table is a cluster-wide one (bigint identity columns are
-- allowed). A lookup by id alone is still a single index descent: every query on tasks
-- also carries user_id, from the row-level security policies.
-- revocations is already keyed by user_id; users is keyed by id, which is the user id
-- (see docs/scaling.md: users is a reference table, not a distributed one).
alter table todo.tasks drop constraint tasks_pkey;
alter table todo.tasks add constraint tasks_pkey primary key (user_id, id);

-- The list: the current user's tasks, filtered by status, in one of three orders, paged.
-- Each index is led by user_id, then completed, then the sort key and the id (the
-- tie-breaker), so that status=pending and status=completed are one range each, and
-- status=all is the merge of the two ranges (a Merge Append of two index scans). Every
-- order, ascending or descending, reads the index forward or backward and stops after
-- offset + limit + 1 rows, however many tasks the user has.
create index tasks_user_id_completed_created_at_idx on todo.tasks (user_id, completed, created_at, id);
create index tasks_user_id_completed_updated_at_idx on todo.tasks (user_id, completed, updated_at, id);
create index tasks_user_id_completed_title_idx on todo.tasks (user_id, completed, lower(title), id);
drop index todo.tasks_user_id_created_at_idx;
