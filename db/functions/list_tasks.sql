-- api.list_tasks: the current user's tasks as a JSON array, filtered, sorted and paged.
-- Parameters are the query string's text as it came (null when absent; tag the values of
-- every tag=, in order): each is checked here, and a bad value is a 422 naming it (loc
-- ["query", name]); nothing a client sends can raise any other error.
--   status      all (default), pending, completed
--   (status, sort, order and priority are matched exactly, lower-case as the OpenAPI enums
--   say: `ALL` is a 422 like any other unknown value, as FastAPI's enums answer)
--   sort        created (alias created_at; default), updated (alias updated_at), title,
--               due_date (tasks without a due date last, in either order), priority
--   order       asc, desc; default desc for created, updated and priority (high first), asc for
--               title and due_date (the soonest due first)
--   q           text searched in title and description, case-insensitively (at most 1000)
--   limit       1..1000 (default 1000), offset 0.. : ASCII digits only (todo.query_integer)
--   priority    low, medium, high: only the tasks of that priority
--   tag         each 1 to 50 characters once trimmed: only the tasks carrying every one of
--               them, compared case-insensitively
--   due_before, due_after   RFC 3339 date-times or dates (todo.parse_rfc3339): only the tasks
--               due in [due_after, due_before): due_after inclusive, due_before exclusive, so
--               consecutive windows never overlap; a task without a due date is left out
-- The page comes from todo.list_page (one index scan per order, stopping at the page). When
-- more rows exist past this page, sets response.next_offset (transaction-local) so the
-- gateway can send Link: rel="next". Sets response.etag to a weak entity tag of the answer (an
-- MD5 of the body and of whether a next page exists): if_none_match (the If-None-Match header
-- field, null when absent) naming it makes the answer 304 with no body (RFC 9110 13.1.2).
-- The parameters carry the query string's own names, so that a psql user calls the function
-- with the API's words; "order", "limit" and "offset" are SQL keywords, the one warning
-- tests/db/test_plpgsql_check allows (by name, for this function alone).
create or replace function api.list_tasks(status text default null, sort text default null,
                                          "order" text default null, q text default null,
                                          "limit" text default null, "offset" text default null,
                                          priority text default null, tag text[] default null,
                                          due_before text default null, due_after text default null,
                                          if_none_match text default null)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    problems jsonb := '[]'::jsonb;
    sort_key text := coalesce(sort, 'created');
    descending boolean;
    page_size int := 1000;
    skip bigint := 0;
    needle text := lower(nullif(q, ''));
    want_priority text := priority;
    want_tags text[];
    after_ts timestamptz := todo.parse_rfc3339(due_after);
    before_ts timestamptz := todo.parse_rfc3339(due_before);
    result json;
    rows_seen bigint;
begin
    status := coalesce(status, 'all');
    if status not in ('all', 'pending', 'completed') then
        problems := problems || todo.problem('query', 'status', 'must be one of all, pending, completed', 'enum');
    end if;
    sort_key := case sort_key when 'created_at' then 'created' when 'updated_at' then 'updated' else sort_key end;
    if sort_key not in ('created', 'updated', 'title', 'due_date', 'priority') then
        problems := problems || todo.problem('query', 'sort', 'must be one of created, updated, title, due_date, priority',
                                             'enum');
    end if;
    if "order" is null then
        descending := sort_key in ('created', 'updated', 'priority');
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
            problems := problems || todo.problem('query', 'offset', 'must be an integer from 0 to 999999999999999999', 'int_parsing');
        end if;
    end if;
    if char_length(q) > 1000 then
        problems := problems || todo.problem('query', 'q', 'must be at most 1000 characters', 'string_too_long');
    end if;
    if want_priority not in ('low', 'medium', 'high') then
        problems := problems || todo.problem('query', 'priority', 'must be one of low, medium, high', 'enum');
    end if;
    if cardinality(tag) > 0 then
        want_tags := (select array_agg(lower(todo.trim_ws(t))) from unnest(tag) t);
        if exists (select from unnest(want_tags) t where char_length(t) not between 1 and 50 or t is null) then
            problems := problems || todo.problem('query', 'tag', 'each tag must be 1 to 50 characters once trimmed',
                                                 'string_length');
        end if;
    end if;
    if due_before is not null and before_ts is null then
        problems := problems || todo.problem('query', 'due_before', 'must be an RFC 3339 date-time with an offset or a date',
                                             'datetime_parsing');
    end if;
    if due_after is not null and after_ts is null then
        problems := problems || todo.problem('query', 'due_after', 'must be an RFC 3339 date-time with an offset or a date',
                                             'datetime_parsing');
    end if;
    if jsonb_array_length(problems) > 0 then
        perform todo.fail_validation(problems);
    end if;

    select p.page, p.rows_seen into result, rows_seen
      from todo.list_page(sort_key, descending, todo.current_user_id(), status in ('all', 'pending'),
                          status in ('all', 'completed'), needle, want_priority, want_tags, after_ts, before_ts, skip,
                          page_size) p;
    result := coalesce(result, '[]');
    if todo.not_modified('W/"' || md5(result::text || case when rows_seen > page_size then ' next' else '' end) || '"',
                         if_none_match) then
        return null;
    end if;
    if rows_seen > page_size then
        perform set_config('response.next_offset', (skip + page_size)::text, true);
    end if;
    return result;
end
$$;

revoke all on function api.list_tasks(text, text, text, text, text, text, text, text[], text, text, text) from public;
grant execute on function api.list_tasks(text, text, text, text, text, text, text, text[], text, text, text)
    to todo_gateway, todo_admin;
