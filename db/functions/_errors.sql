-- todo.fail: raises the error every API function uses. SQLSTATE 'PT' || status (PostgREST's
-- convention: PT404 is HTTP 404), MESSAGE the client message, DETAIL the whole JSON error
-- body of ../CONTRACT.md, which the gateway sends as it is:
--   {"detail": <detail or message>, "code": <code>, "message": <message>}
create or replace function todo.fail(status int, code text, message text, detail json default null)
    returns void
    language plpgsql
    as $$
begin
    raise exception using
        errcode = 'PT' || status::text,
        message = message,
        detail = (select row_to_json(body)::text
                    from (select coalesce(fail.detail, to_json(fail.message)) as detail, fail.code as code,
                                 fail.message as message) body);
end
$$;

-- todo.fail_validation: one 422 from a list of problems, each {"loc", "msg", "type"}
-- (FastAPI's shape); the message sums them up as "field: msg; field: msg".
create or replace function todo.fail_validation(problems jsonb)
    returns void
    language plpgsql
    as $$
begin
    perform todo.fail(422, 'validation_failed',
        (select string_agg((p->'loc'->>(jsonb_array_length(p->'loc') - 1)) || ': ' || (p->>'msg'), '; ')
           from jsonb_array_elements(problems) p),
        problems::json);
end
$$;

-- todo.problem: one entry of a validation list.
create or replace function todo.problem(place text, field text, msg text, kind text)
    returns jsonb
    language sql immutable
    as $$ select jsonb_build_object('loc', jsonb_build_array(place, field), 'msg', msg, 'type', kind) $$;

-- todo.parse_body: the request body, as the text the client sent, parsed into a JSON
-- object, or PT400 invalid_json: text that is not JSON (22P02), a \u0000 escape, which
-- PostgreSQL cannot store (22P05), nesting too deep to parse (54001), a document too large
-- for jsonb (54000), or JSON that is not an object. The body is parsed here, inside the
-- function that checks it, never by a cast in the gateway's statement: so the error names
-- the body, and no SQLSTATE of the parser reaches the gateway, which could not tell where
-- the input came from. Another error is a bug of ours, and stays one (HTTP 500).
-- (ECMA-404 / RFC 8259 JSON, as PostgreSQL's jsonb input reads it.)
drop function if exists todo.parse_body(json);
create or replace function todo.parse_body(body text)
    returns jsonb
    language plpgsql immutable
    as $$
declare
    b jsonb;
begin
    begin
        b := body::jsonb;
    exception
        when invalid_text_representation or untranslatable_character or character_not_in_repertoire
             or statement_too_complex or program_limit_exceeded then
            perform todo.fail(400, 'invalid_json', 'request body is not valid JSON');
    end;
    if b is null or jsonb_typeof(b) <> 'object' then
        perform todo.fail(400, 'invalid_json', 'request body must be a JSON object');
    end if;
    return b;
end
$$;

revoke all on function todo.fail(int, text, text, json) from public;
revoke all on function todo.fail_validation(jsonb) from public;
revoke all on function todo.problem(text, text, text, text) from public;
revoke all on function todo.parse_body(text) from public;
grant execute on function todo.fail(int, text, text, json) to todo_gateway, todo_admin;
grant execute on function todo.fail_validation(jsonb) to todo_gateway, todo_admin;
grant execute on function todo.problem(text, text, text, text) to todo_gateway, todo_admin;
grant execute on function todo.parse_body(text) to todo_gateway, todo_admin;
