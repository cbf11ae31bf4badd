-- bench/seed.sql: adds :users users with :tasks tasks each to todo.tasks, at bulk speed
-- (one INSERT ... SELECT from generate_series), not through the API.
--
--   psql -v first_user=N -v users=N -v tasks=N -f bench/seed.sql   (as a superuser)
--
-- User k (first_user <= k < first_user + users) has the id k as decimal text (bench/run
-- uses 19-digit numbers, close to the length of Better Auth's ids, and which pgbench can
-- compute), and task ids first_id(k) .. first_id(k) + tasks - 1, contiguous, users in
-- ascending order: bench/run checks that after seeding. Every second user also gets a
-- revocation row from a day ago (a logout before today's tokens), so api.begin_request
-- meets both of its paths.
--
-- Runs as a superuser: todo.tasks forces row-level security and its policies are for the
-- gateway's role only, so even its owner cannot insert for arbitrary users. The table's
-- constraints and defaults apply as usual. The secondary indexes (whichever the migrations
-- define, read from the catalog) are dropped for the load and rebuilt after it, sorted,
-- which is much faster than maintaining them row by row for millions of rows; then VACUUM
-- ANALYZE leaves the statistics and visibility map of a settled table.
\set ON_ERROR_STOP on
set client_min_messages = warning;

begin;
-- No event per seeded task: a bulk load, not writes anyone follows (todo.events would get a
-- row and the gateway a NOTIFY for each of millions of rows; db/README.md, "Bulk writes").
-- replica skips ordinary triggers (tasks_events; the others fire on UPDATE only) and foreign
-- key checks, for this transaction only.
set local session_replication_role = replica;
create temp table seed_indexes on commit drop as
    select i.indexrelid::regclass::text as name, pg_get_indexdef(i.indexrelid) as definition
      from pg_index i
     where i.indrelid = 'todo.tasks'::regclass
       and not exists (select from pg_constraint c where c.conindid = i.indexrelid);
select format('drop index %s', name) from seed_indexes \gexec

-- Titles and descriptions of realistic length (a list of 50 is ~10-12 KB of JSON); one
-- task in four has no description, one in three is completed; created a few minutes apart,
-- newest last, and a completed task updated an hour after its creation.
insert into todo.tasks (user_id, title, description, completed, created_at, updated_at)
select k::text,
       (array['Buy milk', 'Call the bank', 'Book the dentist', 'Renew the passport', 'Water the plants',
              'Pay the electricity bill', 'Send the quarterly report', 'Fix the bike''s back brake'])[1 + (k + n) % 8]
           || ' (' || n || ')',
       case when n % 4 <> 0
            then (array['Before Friday, and ask about the discount.', 'Bring the paperwork from the blue folder.',
                        'Check the calendar first; Tuesday might be too busy.', 'Not urgent, but do not forget it again.'])[1 + n % 4]
       end,
       (n * 7 + k) % 3 = 0,
       created,
       created + case when (n * 7 + k) % 3 = 0 then interval '1 hour' else interval '0' end
  from generate_series(:first_user::bigint, :first_user::bigint + :users - 1) k,
       generate_series(1, :tasks) n,
       lateral (select timestamptz '2026-01-01 00:00:00+00' + make_interval(secs => n * 300 + k % 300)) c(created)
 order by k, n;

insert into todo.revocations (user_id, tokens_valid_after)
select k::text, now() - interval '1 day'
  from generate_series(:first_user::bigint, :first_user::bigint + :users - 1) k
 where k % 2 = 0
on conflict (user_id) do nothing;

select definition from seed_indexes \gexec
commit;

vacuum (analyze) todo.tasks;
vacuum (analyze) todo.revocations;
checkpoint;
