-- 0006 (issue 8 part 1): each task keeps its own JSON, as the API shows it, in a stored
-- generated column, so that reading a task or a page of tasks copies text instead of
-- building it. Building a task's JSON (row_to_json over eleven fields, three to_char) was
-- most of what a list costs PostgreSQL: ~8 µs a row, ~400 µs of a list of 50 and ~10 ms of
-- the default page of 1,000 (docs/performance.md). PostgreSQL computes a stored generated
-- column after the BEFORE triggers (tasks_touch sets updated_at first) and on every INSERT
-- and UPDATE, whoever writes (the API, tasks_recur, an admin in psql): the JSON cannot drift
-- from the row. Applied once by db/migrate (as todo_owner); earlier migrations are never
-- edited again.
--
-- The shape lives here, not in db/functions/ (re-applied on every deploy): the stored values
-- are computed with the function as it is when a row is written, so changing the shape means
-- a new migration that replaces the function and recomputes the column (ALTER TABLE ...
-- DROP COLUMN json, ADD COLUMN json ... GENERATED ... STORED).

-- todo.task_document: the fields of a task as the contract shows them, in the contract's
-- order (the fields of issue 11 after the first seven); row_to_json of it is a task's JSON.
create type todo.task_document as (id bigint, user_id text, title text, description text, completed boolean,
                                   created_at text, updated_at text, due_date text, priority text, tags text[],
                                   recurrence text);

-- todo.task_document(id, user_id, ..., recurrence): a task as the contract shows it, {"id",
-- "user_id", "title", "description", "completed", "created_at", "updated_at", "due_date",
-- "priority", "tags", "recurrence"}: the bytes of row_to_json, timestamps as RFC 3339 text
-- in UTC with "Z" and six fractional digits (2024-01-05T09:30:00.000000Z, whatever the
-- session's TimeZone or DateStyle), due_date null when none, tags a JSON array of strings.
-- to_char was measured against the cheaper-looking alternatives (to_json(timestamp) or a cast
-- to text, then padding the fraction and adding the Z): they were slower, and the cast
-- depends on DateStyle. (This replaces todo.rfc3339, which db/functions/ no longer defines.)
-- Declared immutable, as a generated column requires, and it is: to_char is only stable
-- because of its locale-dependent patterns (TMMonth ...), none of which this format uses;
-- the time zone is named; the output of bigint, text, boolean and text[] depends on no
-- setting. Every name is qualified (no SET search_path: the function runs for every row
-- written, whoever writes it).
create function todo.task_document(id bigint, user_id text, title text, description text, completed boolean,
                                   created_at timestamptz, updated_at timestamptz, due_date timestamptz,
                                   priority text, tags text[], recurrence text)
    returns json
    language sql immutable parallel safe
    as $$
    select pg_catalog.row_to_json(row(id, user_id, title, description, completed,
        pg_catalog.to_char(created_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        pg_catalog.to_char(updated_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        pg_catalog.to_char(due_date at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        priority, tags, recurrence)::todo.task_document)
$$;

revoke all on function todo.task_document(bigint, text, text, text, boolean, timestamptz, timestamptz, timestamptz,
                                          text, text[], text) from public;
-- whoever writes a task computes its JSON (the generated column runs as the writer)
grant execute on function todo.task_document(bigint, text, text, text, boolean, timestamptz, timestamptz, timestamptz,
                                             text, text[], text) to todo_gateway, todo_admin;

alter table todo.tasks add column json json not null
    generated always as (todo.task_document(id, user_id, title, description, completed, created_at, updated_at, due_date,
                                            priority, tags, recurrence)) stored;
