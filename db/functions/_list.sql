-- The list's pages: the filters every order shares, and todo.list_page, one static query per
-- order, made from one template and the table of orders below (each order is data, written
-- once). api.list_tasks checks the query parameters and calls todo.list_page.

-- todo.lower_tags: the tags in lower case, for a case-insensitive comparison; null for none.
create or replace function todo.lower_tags(tags text[])
    returns text[]
    language sql immutable strict parallel safe
    as $$ select array_agg(lower(tag)) from unnest(tags) tag $$;

-- todo.task_filter: whether the task passes the list's filters; each filter null passes every
-- task. needle: text the title or the description holds (already in lower case; the list's q);
-- want_priority: 'low', 'medium' or 'high'; want_tags: tags in lower case, all of which the
-- task carries, case-insensitively; due_after, due_before: the due date lies in [due_after,
-- due_before) (a task without one then fails). Inlinable: PostgreSQL folds the filters that
-- are null away under a custom plan, and a due date range on sort=due_date becomes the index
-- scan's bound.
create or replace function todo.task_filter(t todo.tasks, needle text, want_priority text, want_tags text[],
                                            due_after timestamptz, due_before timestamptz)
    returns boolean
    language sql immutable parallel safe
    as $$
    select (needle is null or strpos(lower(t.title), needle) > 0 or strpos(lower(t.description), needle) > 0)
       and (want_priority is null or t.priority = want_priority)
       and (want_tags is null or want_tags <@ todo.lower_tags(t.tags))
       and (due_after is null or t.due_date >= due_after)
       and (due_before is null or t.due_date < due_before)
$$;

-- todo.list_page(sort, descending, me, pending, done, needle, want_priority, want_tags,
-- due_after, due_before, skip, page_size): the page of me's tasks (the pending ones when
-- pending, the completed ones when done) that pass todo.task_filter, in the order sort
-- (created, updated, title, due_date, priority) and descending name, skipping skip rows and
-- taking page_size; returns page, the JSON array (null when empty), and rows_seen, the rows
-- read past skip (one more than page_size when a next page exists). Unknown sort: no page.
--
-- Each order is a static query of its own, so that PL/pgSQL plans it once per session (a
-- CASE in ORDER BY can use no index). The pending and the completed tasks are each one range
-- of an index led by (user_id, completed, sort key, id) (migrations 0002 and 0003): each range
-- is read in order and stops after skip + page_size + 1 rows, whatever the number of the
-- user's tasks, under a custom plan and a generic one alike; the two short lists are merged
-- (Merge Append; docs/performance.md has the plans). For a user of a few tasks the planner
-- would rather read them all through a bitmap and sort them: enable_bitmapscan = off, for this
-- function only, keeps every plan the ordered index scan that stops at the page (it disables
-- one kind of path; the plan chosen costs as usual). plan_cache_mode = force_generic_plan:
-- each query is planned once per session, not on every call. (Left to choose, PL/pgSQL's plan
-- cache compares the generic plan's estimate with the custom plans' and, the filters' estimate
-- being poor, planned every call anew: ~0.7 ms of a list of 50 that costs ~0.3 ms in all; the
-- generic plan is the same ordered index scan, with the absent filters evaluated per row as
-- "parameter is null".) The page's JSON is one json_agg over the page's rows in order, of
-- each row's stored JSON (the column json, migration 0006: no row's JSON is built on a read,
-- and no whole row is carried through the plan); one row more than asked tells whether a next page exists. Ties are broken by id, in
-- the order's direction.
--
-- The orders: the sort key, and the ORDER BY of each direction over k (the key) and i (the
-- id). A due date sorts its tasks without one last in both directions (so due_date has an
-- index per direction); priority sorts by todo.priority_rank, low < medium < high.
do $generate$
declare
    template constant text := $template$
    %1$s sort = %2$L and descending = %3$s then
        select json_agg(p.json) filter (where p.n <= skip + page_size), count(*) into page, rows_seen
          from (select u.json, row_number() over (order by %4$s) n
                  from ((select t.json, %5$s k, t.id i from todo.tasks t
                          where t.user_id = me and not t.completed and pending
                            and todo.task_filter(t, needle, want_priority, want_tags, due_after, due_before)
                          order by %4$s limit skip + page_size + 1)
                        union all
                        (select t.json, %5$s k, t.id i from todo.tasks t
                          where t.user_id = me and t.completed and done
                            and todo.task_filter(t, needle, want_priority, want_tags, due_after, due_before)
                          order by %4$s limit skip + page_size + 1)
                        order by %4$s limit skip + page_size + 1) u) p
         where p.n > skip;$template$;
    branches text := '';
    o record;
begin
    for o in
        select orders.*, d.descending
          from (values ('created',  't.created_at',                   'k, i', 'k desc, i desc'),
                       ('updated',  't.updated_at',                   'k, i', 'k desc, i desc'),
                       ('title',    'lower(t.title)',                 'k, i', 'k desc, i desc'),
                       ('due_date', 't.due_date',                     'k, i', 'k desc nulls last, i desc'),
                       ('priority', 'todo.priority_rank(t.priority)', 'k, i', 'k desc, i desc'))
               as orders(sort, key, ascending, descending_order),
               (values (false), (true)) as d(descending)
    loop
        branches := branches || format(template, case when branches = '' then 'if' else 'elsif' end, o.sort, o.descending::text,
                                       case when o.descending then o.descending_order else o.ascending end, o.key);
    end loop;
    execute format($function$
create or replace function todo.list_page(sort text, descending boolean, me text, pending boolean, done boolean,
                                          needle text, want_priority text, want_tags text[], due_after timestamptz,
                                          due_before timestamptz, skip bigint, page_size int,
                                          out page json, out rows_seen bigint)
    language plpgsql stable
    set search_path = ''
    set enable_bitmapscan = off
    set plan_cache_mode = force_generic_plan
    as $body$
begin
%s
    end if;
end
$body$;
$function$, branches);
end
$generate$;

revoke all on function todo.lower_tags(text[]) from public;
revoke all on function todo.task_filter(todo.tasks, text, text, text[], timestamptz, timestamptz) from public;
revoke all on function todo.list_page(text, boolean, text, boolean, boolean, text, text, text[], timestamptz,
                                      timestamptz, bigint, int) from public;
grant execute on function todo.lower_tags(text[]) to todo_gateway, todo_admin;
grant execute on function todo.task_filter(todo.tasks, text, text, text[], timestamptz, timestamptz) to todo_gateway,
    todo_admin;
grant execute on function todo.list_page(text, boolean, text, boolean, boolean, text, text, text[], timestamptz,
                                         timestamptz, bigint, int) to todo_gateway, todo_admin;
