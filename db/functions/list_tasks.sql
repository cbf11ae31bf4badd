-- api.list_tasks: the current user's tasks as a JSON array, filtered, sorted and paged.
-- Parameters are the query string's text as it came (null when absent): each is checked
-- here, and a bad value is a 422 naming it (loc ["query", name]); nothing a client sends
-- can raise any other error. When more rows exist past this page, sets
-- response.next_offset (transaction-local) so the gateway can send Link: rel="next".
--   status  all (default), pending, completed
--   sort    created (alias created_at; default), updated (alias updated_at), title
--   order   asc, desc; default desc for the dates, asc for the title
--   q       text searched in title and description, case-insensitively (at most 1000)
--   limit   1..1000 (default 1000), offset 0.. : ASCII digits only (todo.query_integer)
-- Each sort and order is a static query of its own, so that PL/pgSQL plans it once per
-- session, and each is an index scan (two, merged, for status=all) that stops after
-- offset + limit + 1 rows, under a custom plan and a generic one alike (docs/performance.md).
-- The page's JSON is built by one json_agg; one row more than asked tells whether a next
-- page exists.
create or replace function api.list_tasks(status text default null, sort text default null,
                                          "order" text default null, q text default null,
                                          "limit" text default null, "offset" text default null)
    returns json
    language plpgsql stable
    set search_path = ''
    as $$
declare
    problems jsonb := '[]';
    sort_key text := lower(coalesce(sort, 'created'));
    descending boolean;
    page_size int := 1000;
    skip bigint := 0;
    needle text := lower(nullif(q, ''));
    result json;
    rows_seen bigint;
begin
    status := lower(coalesce(status, 'all'));
    if status not in ('all', 'pending', 'completed') then
        problems := problems || todo.problem('query', 'status', 'must be one of all, pending, completed', 'enum');
    end if;
    sort_key := case sort_key when 'created_at' then 'created' when 'updated_at' then 'updated' else sort_key end;
    if sort_key not in ('created', 'updated', 'title') then
        problems := problems || todo.problem('query', 'sort', 'must be one of created, updated, title', 'enum');
    end if;
    if "order" is null then
        descending := sort_key <> 'title';
    elsif lower("order") in ('asc', 'desc') then
        descending := lower("order") = 'desc';
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

    if sort_key = 'created' and descending then
        select json_agg(j) filter (where n <= page_size), count(*) into result, rows_seen
          from (select j, row_number() over () n from (select todo.task_json(t) j from todo.user_tasks(status <> 'completed', status <> 'pending', needle) t
                 order by t.created_at desc, t.id desc offset skip limit page_size + 1) page) numbered;
    elsif sort_key = 'created' then
        select json_agg(j) filter (where n <= page_size), count(*) into result, rows_seen
          from (select j, row_number() over () n from (select todo.task_json(t) j from todo.user_tasks(status <> 'completed', status <> 'pending', needle) t
                 order by t.created_at, t.id offset skip limit page_size + 1) page) numbered;
    elsif sort_key = 'updated' and descending then
        select json_agg(j) filter (where n <= page_size), count(*) into result, rows_seen
          from (select j, row_number() over () n from (select todo.task_json(t) j from todo.user_tasks(status <> 'completed', status <> 'pending', needle) t
                 order by t.updated_at desc, t.id desc offset skip limit page_size + 1) page) numbered;
    elsif sort_key = 'updated' then
        select json_agg(j) filter (where n <= page_size), count(*) into result, rows_seen
          from (select j, row_number() over () n from (select todo.task_json(t) j from todo.user_tasks(status <> 'completed', status <> 'pending', needle) t
                 order by t.updated_at, t.id offset skip limit page_size + 1) page) numbered;
    elsif descending then
        select json_agg(j) filter (where n <= page_size), count(*) into result, rows_seen
          from (select j, row_number() over () n from (select todo.task_json(t) j from todo.user_tasks(status <> 'completed', status <> 'pending', needle) t
                 order by lower(t.title) desc, t.id desc offset skip limit page_size + 1) page) numbered;
    else
        select json_agg(j) filter (where n <= page_size), count(*) into result, rows_seen
          from (select j, row_number() over () n from (select todo.task_json(t) j from todo.user_tasks(status <> 'completed', status <> 'pending', needle) t
                 order by lower(t.title), t.id offset skip limit page_size + 1) page) numbered;
    end if;
    if rows_seen > page_size then
        perform set_config('response.next_offset', (skip + page_size)::text, true);
    end if;
    return coalesce(result, '[]');
end
$$;

revoke all on function api.list_tasks(text, text, text, text, text, text) from public;
grant execute on function api.list_tasks(text, text, text, text, text, text) to todo_gateway, todo_admin;
