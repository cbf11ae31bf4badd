-- api.list_tasks: the current user's tasks as a JSON array, filtered, sorted and paged.
-- Parameters are the query string's text as it came (null when absent): each is checked
-- here, an unknown value is a 422. When more rows exist past this page, sets
-- response.next_offset (transaction-local) so the gateway can send Link: rel="next".
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
    result json;
    rows_seen int;
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
        if "limit" !~ '^\s*[0-9]{1,9}\s*$' or "limit"::int not between 1 and 1000 then
            problems := problems || todo.problem('query', 'limit', 'must be an integer from 1 to 1000', 'int_parsing');
        else
            page_size := "limit"::int;
        end if;
    end if;
    if "offset" is not null then
        if "offset" !~ '^\s*[0-9]{1,18}\s*$' then
            problems := problems || todo.problem('query', 'offset', 'must be a non-negative integer', 'int_parsing');
        else
            skip := "offset"::bigint;
        end if;
    end if;
    if q is not null and char_length(q) > 1000 then
        problems := problems || todo.problem('query', 'q', 'must be at most 1000 characters', 'string_too_long');
    end if;
    if jsonb_array_length(problems) > 0 then
        perform todo.fail_validation(problems);
    end if;

    -- One more row than asked tells whether a next page exists.
    select coalesce(json_agg(todo.task_json(t) order by n) filter (where n <= page_size), '[]'), count(*)
      into result, rows_seen
      from (select t, row_number() over () as n
              from (select t from todo.tasks t
                     where t.user_id = (select todo.current_user_id())
                       and (status = 'all' or t.completed = (status = 'completed'))
                       and (q is null or q = ''
                            or strpos(lower(t.title), lower(q)) > 0
                            or strpos(lower(coalesce(t.description, '')), lower(q)) > 0)
                     order by
                       case when sort_key = 'created' and not descending then t.created_at end asc,
                       case when sort_key = 'created' and descending then t.created_at end desc,
                       case when sort_key = 'updated' and not descending then t.updated_at end asc,
                       case when sort_key = 'updated' and descending then t.updated_at end desc,
                       case when sort_key = 'title' and not descending then lower(t.title) end asc,
                       case when sort_key = 'title' and descending then lower(t.title) end desc,
                       case when descending then t.id end desc,
                       t.id asc
                     offset skip limit page_size + 1) t) page;
    if rows_seen > page_size then
        perform set_config('response.next_offset', (skip + page_size)::text, true);
    end if;
    return result;
end
$$;

revoke all on function api.list_tasks(text, text, text, text, text, text) from public;
grant execute on function api.list_tasks(text, text, text, text, text, text) to todo_gateway, todo_admin;
