-- api.list_tasks: the current user's tasks as a JSON array, filtered, sorted and paged.
-- Parameters are the query string's text as it came (null when absent): each is checked
-- here, and a bad value is a 422 naming it (loc ["query", name]); nothing a client sends
-- can raise any other error. When more rows exist past this page, sets
-- response.next_offset (transaction-local) so the gateway can send Link: rel="next".
--   status  all (default), pending, completed
--   (status, sort and order are matched exactly, lower-case as the OpenAPI enums say: `ALL`
--   is a 422 like any other unknown value, as FastAPI's enums answer)
--   sort    created (alias created_at; default), updated (alias updated_at), title
--   order   asc, desc; default desc for the dates, asc for the title
--   q       text searched in title and description, case-insensitively (at most 1000)
--   limit   1..1000 (default 1000), offset 0.. : ASCII digits only (todo.query_integer)
-- The parameters carry the query string's own names, so that a psql user calls the function
-- with the API's words; "order", "limit" and "offset" are SQL keywords, the one warning
-- tests/db/test_plpgsql_check allows (by name, for this function alone).
-- Each sort and order is a static query of its own, so that PL/pgSQL plans it once per
-- session (a CASE in ORDER BY can use no index). The pending and the completed tasks are
-- each one range of an index led by (user_id, completed, sort key, id) (migration 0002):
-- each range is read in order and stops after offset + limit + 1 rows, whatever the number
-- of the user's tasks, under a custom plan and a generic one alike; for status=all the two
-- short lists are merged (Merge Append; docs/performance.md has the plans). For a user of
-- a few tasks the planner would rather read them all through a bitmap and sort them:
-- enable_bitmapscan = off, for this function only, keeps every plan the ordered index scan
-- that stops at the page (it disables one kind of path; the plan chosen costs as usual). The
-- page's JSON is built once, by one json_agg over the page's rows in order; one row more
-- than asked tells whether a next page exists.
create or replace function api.list_tasks(status text default null, sort text default null,
                                          "order" text default null, q text default null,
                                          "limit" text default null, "offset" text default null)
    returns json
    language plpgsql stable
    set search_path = ''
    set enable_bitmapscan = off
    as $$
declare
    problems jsonb := '[]'::jsonb;
    sort_key text := coalesce(sort, 'created');
    descending boolean;
    page_size int := 1000;
    skip bigint := 0;
    needle text := lower(nullif(q, ''));
    me text := todo.current_user_id();
    pending boolean;
    done boolean;
    result json;
    rows_seen bigint;
begin
    status := coalesce(status, 'all');
    if status not in ('all', 'pending', 'completed') then
        problems := problems || todo.problem('query', 'status', 'must be one of all, pending, completed', 'enum');
    end if;
    sort_key := case sort_key when 'created_at' then 'created' when 'updated_at' then 'updated' else sort_key end;
    if sort_key not in ('created', 'updated', 'title') then
        problems := problems || todo.problem('query', 'sort', 'must be one of created, updated, title', 'enum');
    end if;
    if "order" is null then
        descending := sort_key <> 'title';
    elsif "order" in ('asc', 'desc') then
        descending := "order" = 'desc';
    else
        problems := problems || todo.problem('query', 'order', 'must be asc or desc', 'enum');
    end if;
    if "limit" is not null then
        page_size := todo.query_integer("limit", 1, 1000);
        if page_size is null then
            problems := problems || todo.problem('query', 'limit', 'must be an integer from 1 to 1000', 'int_parsing');
        end if;
    end if;
    if "offset" is not null then
        skip := todo.query_integer("offset", 0, 999999999999999999);
        if skip is null then
            problems := problems || todo.problem('query', 'offset', 'must be a non-negative integer', 'int_parsing');
        end if;
    end if;
    if char_length(q) > 1000 then
        problems := problems || todo.problem('query', 'q', 'must be at most 1000 characters', 'string_too_long');
    end if;
    if jsonb_array_length(problems) > 0 then
        perform todo.fail_validation(problems);
    end if;
    pending := status in ('all', 'pending');
    done := status in ('all', 'completed');

    if sort_key = 'created' and descending then
        select json_agg(todo.task_json(p.t)) filter (where p.n <= skip + page_size), count(*) into result, rows_seen
          from (select u.t, row_number() over (order by u.k desc, u.i desc) n
                  from ((select t, t.created_at k, t.id i from todo.tasks t
                          where t.user_id = me and not t.completed and pending and todo.task_matches(t, needle)
                          order by k desc, i desc limit skip + page_size + 1)
                        union all
                        (select t, t.created_at k, t.id i from todo.tasks t
                          where t.user_id = me and t.completed and done and todo.task_matches(t, needle)
                          order by k desc, i desc limit skip + page_size + 1)
                        order by k desc, i desc limit skip + page_size + 1) u) p
         where p.n > skip;
    elsif sort_key = 'created' then
        select json_agg(todo.task_json(p.t)) filter (where p.n <= skip + page_size), count(*) into result, rows_seen
          from (select u.t, row_number() over (order by u.k, u.i) n
                  from ((select t, t.created_at k, t.id i from todo.tasks t
                          where t.user_id = me and not t.completed and pending and todo.task_matches(t, needle)
                          order by k, i limit skip + page_size + 1)
                        union all
                        (select t, t.created_at k, t.id i from todo.tasks t
                          where t.user_id = me and t.completed and done and todo.task_matches(t, needle)
                          order by k, i limit skip + page_size + 1)
                        order by k, i limit skip + page_size + 1) u) p
         where p.n > skip;
    elsif sort_key = 'updated' and descending then
        select json_agg(todo.task_json(p.t)) filter (where p.n <= skip + page_size), count(*) into result, rows_seen
          from (select u.t, row_number() over (order by u.k desc, u.i desc) n
                  from ((select t, t.updated_at k, t.id i from todo.tasks t
                          where t.user_id = me and not t.completed and pending and todo.task_matches(t, needle)
                          order by k desc, i desc limit skip + page_size + 1)
                        union all
                        (select t, t.updated_at k, t.id i from todo.tasks t
                          where t.user_id = me and t.completed and done and todo.task_matches(t, needle)
                          order by k desc, i desc limit skip + page_size + 1)
                        order by k desc, i desc limit skip + page_size + 1) u) p
         where p.n > skip;
    elsif sort_key = 'updated' then
        select json_agg(todo.task_json(p.t)) filter (where p.n <= skip + page_size), count(*) into result, rows_seen
          from (select u.t, row_number() over (order by u.k, u.i) n
                  from ((select t, t.updated_at k, t.id i from todo.tasks t
                          where t.user_id = me and not t.completed and pending and todo.task_matches(t, needle)
                          order by k, i limit skip + page_size + 1)
                        union all
                        (select t, t.updated_at k, t.id i from todo.tasks t
                          where t.user_id = me and t.completed and done and todo.task_matches(t, needle)
                          order by k, i limit skip + page_size + 1)
                        order by k, i limit skip + page_size + 1) u) p
         where p.n > skip;
    elsif descending then
        select json_agg(todo.task_json(p.t)) filter (where p.n <= skip + page_size), count(*) into result, rows_seen
          from (select u.t, row_number() over (order by u.k desc, u.i desc) n
                  from ((select t, lower(t.title) k, t.id i from todo.tasks t
                          where t.user_id = me and not t.completed and pending and todo.task_matches(t, needle)
                          order by k desc, i desc limit skip + page_size + 1)
                        union all
                        (select t, lower(t.title) k, t.id i from todo.tasks t
                          where t.user_id = me and t.completed and done and todo.task_matches(t, needle)
                          order by k desc, i desc limit skip + page_size + 1)
                        order by k desc, i desc limit skip + page_size + 1) u) p
         where p.n > skip;
    else
        select json_agg(todo.task_json(p.t)) filter (where p.n <= skip + page_size), count(*) into result, rows_seen
          from (select u.t, row_number() over (order by u.k, u.i) n
                  from ((select t, lower(t.title) k, t.id i from todo.tasks t
                          where t.user_id = me and not t.completed and pending and todo.task_matches(t, needle)
                          order by k, i limit skip + page_size + 1)
                        union all
                        (select t, lower(t.title) k, t.id i from todo.tasks t
                          where t.user_id = me and t.completed and done and todo.task_matches(t, needle)
                          order by k, i limit skip + page_size + 1)
                        order by k, i limit skip + page_size + 1) u) p
         where p.n > skip;
    end if;
    if rows_seen > page_size then
        perform set_config('response.next_offset', (skip + page_size)::text, true);
    end if;
    return coalesce(result, '[]');
end
$$;

revoke all on function api.list_tasks(text, text, text, text, text, text) from public;
grant execute on function api.list_tasks(text, text, text, text, text, text) to todo_gateway, todo_admin;
