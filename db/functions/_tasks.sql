-- todo.task_out, the composite type todo.task_json used to build a task's JSON with, is gone
-- since migration 0006 (the JSON is stored with the row, built with todo.task_document).
drop type if exists todo.task_out cascade;

-- todo.task_json: a task as the contract shows it, {"id", "user_id", "title", "description",
-- "completed", "created_at", "updated_at", "due_date", "priority", "tags", "recurrence"}: the
-- row's own stored JSON (the generated column json of migration 0006, built by
-- todo.task_document whenever the row is written: timestamps in UTC with Z and six
-- fractional digits, due_date null when none, tags a JSON array of strings, [] when none).
-- Inlinable (plain SQL, no FROM, no SET clause, stable): a page of tasks reads the column.
create or replace function todo.task_json(t todo.tasks)
    returns json
    language sql stable parallel safe
    as $$ select t.json $$;

-- todo.task_etag: the task's entity tag (RFC 9110 8.8.3), a strong one: its id and updated_at
-- in microseconds since 1970, '"42.1767225600123456"'. updated_at moves forward at every write
-- (todo.tasks_touch), so every version of a task has a tag of its own. Inlinable.
create or replace function todo.task_etag(t todo.tasks)
    returns text
    language sql stable parallel safe
    as $$ select '"' || t.id || '.' || (extract(epoch from t.updated_at) * 1000000)::bigint || '"' $$;

-- todo.task_problems: what is wrong with the fields a body names (title, description,
-- completed, due_date, priority, tags, recurrence), as validation problems; title_required for
-- POST and PUT. Whether a recurrence has its due date depends on the stored task too: that is
-- todo.recurrence_problem's.
create or replace function todo.task_problems(b jsonb, title_required boolean)
    returns jsonb
    language plpgsql stable
    as $$
declare
    problems jsonb := '[]'::jsonb;
    n int;
begin
    if not b ? 'title' then
        if title_required then
            problems := problems || todo.problem('body', 'title', 'field required', 'missing');
        end if;
    elsif jsonb_typeof(b->'title') <> 'string' then
        problems := problems || todo.problem('body', 'title', 'must be a string', 'string_type');
    else
        n := char_length(todo.trim_ws(b->>'title'));
        if n < 1 then
            problems := problems || todo.problem('body', 'title', 'must be 1 to 200 characters', 'string_too_short');
        elsif n > 200 then
            problems := problems || todo.problem('body', 'title', 'must be 1 to 200 characters', 'string_too_long');
        end if;
    end if;

    if b ? 'description' then
        if jsonb_typeof(b->'description') not in ('string', 'null') then
            problems := problems || todo.problem('body', 'description', 'must be a string or null', 'string_type');
        elsif char_length(b->>'description') > 1000 then
            problems := problems || todo.problem('body', 'description', 'must be at most 1000 characters',
                                                 'string_too_long');
        end if;
    end if;

    if b ? 'completed' and jsonb_typeof(b->'completed') <> 'boolean' then
        problems := problems || todo.problem('body', 'completed', 'must be a boolean', 'bool_type');
    end if;

    if b ? 'due_date' and b->'due_date' <> 'null'
       and todo.parse_rfc3339(case when jsonb_typeof(b->'due_date') = 'string' then b->>'due_date' end) is null then
        problems := problems || todo.problem('body', 'due_date',
            'must be an RFC 3339 date-time with an offset (2026-01-10T09:00:00Z), a date (2026-01-10) or null',
            'datetime_parsing');
    end if;
    if b ? 'priority' and b->'priority' not in ('"low"', '"medium"', '"high"') then
        problems := problems || todo.problem('body', 'priority', 'must be one of low, medium, high', 'enum');
    end if;
    problems := problems || todo.tags_problems(b);
    if b ? 'recurrence' and b->'recurrence' not in ('null', '"daily"', '"weekly"', '"monthly"') then
        problems := problems || todo.problem('body', 'recurrence', 'must be one of daily, weekly, monthly, or null', 'enum');
    end if;
    return problems;
end
$$;

-- todo.tags_problems: what is wrong with the body's "tags" when it names them, as a list of at
-- most one problem: not an array of strings; a tag of fewer than 1 or more than 50 characters
-- once trimmed; more than 10 tags once those equal but for case are merged.
create or replace function todo.tags_problems(b jsonb)
    returns jsonb
    language plpgsql immutable
    as $$
begin
    if not b ? 'tags' then
        return '[]'::jsonb;
    elsif jsonb_typeof(b->'tags') <> 'array' or jsonb_path_exists(b->'tags', '$[*] ? (@.type() != "string")') then
        return jsonb_build_array(todo.problem('body', 'tags', 'must be an array of strings', 'list_type'));
    elsif exists (select from jsonb_array_elements_text(b->'tags') tag where char_length(todo.trim_ws(tag)) not between 1 and 50) then
        return jsonb_build_array(todo.problem('body', 'tags', 'each tag must be 1 to 50 characters once trimmed', 'string_length'));
    elsif cardinality(todo.tags_from_json(b->'tags')) > 10 then
        return jsonb_build_array(todo.problem('body', 'tags', 'must be at most 10 tags', 'too_long'));
    end if;
    return '[]'::jsonb;
end
$$;

-- todo.tags_from_json: a JSON array of strings (already checked) as the tags a task stores:
-- each trimmed, those equal but for case (lower) merged into the first spelling, in the order
-- given.
create or replace function todo.tags_from_json(tags jsonb)
    returns text[]
    language sql immutable
    as $$
    select coalesce(array_agg(tag order by n), '{}')
      from (select distinct on (lower(todo.trim_ws(e))) todo.trim_ws(e) as tag, n
              from jsonb_array_elements_text(tags) with ordinality as elements(e, n)
             order by lower(todo.trim_ws(e)), n) first_spellings
$$;

-- todo.check_task_body: the body (the client's text) as a JSON object whose task fields are
-- valid, or the error: PT400 (todo.parse_body) or PT422 naming the fields. POST, PUT and
-- PATCH share it, so a field's rule is the same at every entry.
drop function if exists todo.check_task_body(json, boolean);
create or replace function todo.check_task_body(body text, title_required boolean)
    returns jsonb
    language plpgsql stable
    as $$
declare
    b jsonb := todo.parse_body(body);
    problems jsonb := todo.task_problems(b, title_required);
begin
    if jsonb_array_length(problems) > 0 then
        perform todo.fail_validation(problems);
    end if;
    return b;
end
$$;

-- todo.check_recurrence: PT422 when t, the task as a write leaves it, recurs without a due
-- date (tasks_recurrence_needs_due_date), naming the field the body b set: recurrence when it
-- named one, else due_date (a due date cleared under a recurrence).
create or replace function todo.check_recurrence(t todo.tasks, b jsonb)
    returns void
    language plpgsql stable
    as $$
begin
    if t.recurrence is not null and t.due_date is null then
        perform todo.fail_validation(jsonb_build_array(
            case when b->'recurrence' <> 'null' then todo.problem('body', 'recurrence', 'needs a due_date', 'missing')
                 else todo.problem('body', 'due_date', 'a recurring task needs a due_date', 'missing') end));
    end if;
end
$$;

-- todo.apply_task_body: t with the fields b names (already checked) set as the API stores
-- them: the title and tags trimmed, the tags merged (todo.tags_from_json), due_date read
-- as RFC 3339 (todo.parse_rfc3339); with toggle, completed flipped when b does not name it.
create or replace function todo.apply_task_body(t todo.tasks, b jsonb, toggle boolean)
    returns todo.tasks
    language plpgsql stable
    as $$
begin
    if b ? 'title' then t.title := todo.trim_ws(b->>'title'); end if;
    if b ? 'description' then t.description := b->>'description'; end if;
    if b ? 'completed' then t.completed := (b->>'completed')::boolean;
    elsif toggle then t.completed := not t.completed; end if;
    if b ? 'due_date' then t.due_date := todo.parse_rfc3339(b->>'due_date'); end if;
    if b ? 'priority' then t.priority := b->>'priority'; end if;
    if b ? 'tags' then t.tags := todo.tags_from_json(b->'tags'); end if;
    if b ? 'recurrence' then t.recurrence := b->>'recurrence'; end if;
    return t;
end
$$;

-- todo.task_not_found: the one 404 for a missing task and another user's task alike.
create or replace function todo.task_not_found(id bigint)
    returns void
    language sql
    as $$ select todo.fail(404, 'not_found', format('task %s not found', id)) $$;

-- todo.change_task: the one update of a task (PUT, PATCH, the completion route). Locks the
-- current user's task id (PT404 when there is none), then checks the client's If-Match and
-- If-None-Match against its entity tag under that lock (PT412, nothing written: a writer who
-- read an older version loses, however close the race), then sets the fields b names
-- (todo.apply_task_body; toggle: flips completed when b does not name it) and checks that a
-- recurrence keeps its due date (PT422). Returns the task as JSON and sets response.etag
-- (transaction-local) to its new tag. With nothing to change, nothing is written (updated_at
-- stays). Becoming completed, a recurring task gets its next occurrence (the trigger
-- tasks_recur). SECURITY INVOKER: row-level security decides which rows "the current user's" are.
create or replace function todo.change_task(id bigint, b jsonb, toggle boolean, if_match text, if_none_match text)
    returns json
    language plpgsql
    set search_path = ''
    as $$
declare
    t todo.tasks;
    result json;
    etag text;
begin
    select * into t from todo.tasks where tasks.id = change_task.id for update;
    if not found then
        perform todo.task_not_found(id);
    end if;
    perform todo.check_preconditions(todo.task_etag(t), if_match, if_none_match, format('task %s', id));
    if b ?| array['title', 'description', 'completed', 'due_date', 'priority', 'tags', 'recurrence'] or toggle then
        t := todo.apply_task_body(t, b, toggle);
        perform todo.check_recurrence(t, b);
        update todo.tasks
           set title = t.title, description = t.description, completed = t.completed, due_date = t.due_date,
               priority = t.priority, tags = t.tags, recurrence = t.recurrence
         where tasks.id = change_task.id
        returning todo.task_json(tasks), todo.task_etag(tasks) into result, etag;
    else
        select todo.task_json(t), todo.task_etag(t) into result, etag;
    end if;
    perform set_config('response.etag', etag, true);
    return result;
end
$$;

revoke all on function todo.change_task(bigint, jsonb, boolean, text, text) from public;
grant execute on function todo.change_task(bigint, jsonb, boolean, text, text) to todo_gateway, todo_admin;
revoke all on function todo.task_json(todo.tasks) from public;
revoke all on function todo.task_etag(todo.tasks) from public;
revoke all on function todo.task_problems(jsonb, boolean) from public;
revoke all on function todo.tags_problems(jsonb) from public;
revoke all on function todo.tags_from_json(jsonb) from public;
revoke all on function todo.check_task_body(text, boolean) from public;
revoke all on function todo.check_recurrence(todo.tasks, jsonb) from public;
revoke all on function todo.apply_task_body(todo.tasks, jsonb, boolean) from public;
revoke all on function todo.task_not_found(bigint) from public;
grant execute on function todo.task_json(todo.tasks) to todo_gateway, todo_admin;
grant execute on function todo.task_etag(todo.tasks) to todo_gateway, todo_admin;
grant execute on function todo.task_problems(jsonb, boolean) to todo_gateway, todo_admin;
grant execute on function todo.tags_problems(jsonb) to todo_gateway, todo_admin;
grant execute on function todo.tags_from_json(jsonb) to todo_gateway, todo_admin;
grant execute on function todo.check_task_body(text, boolean) to todo_gateway, todo_admin;
grant execute on function todo.check_recurrence(todo.tasks, jsonb) to todo_gateway, todo_admin;
grant execute on function todo.apply_task_body(todo.tasks, jsonb, boolean) to todo_gateway, todo_admin;
grant execute on function todo.task_not_found(bigint) to todo_gateway, todo_admin;
