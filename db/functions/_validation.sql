-- Rules for input values, shared by every entry that reads the same value, so that a rule
-- enforced at one entry holds at the others. Plain SQL (validated when created, hence
-- this file comes after _errors.sql, whose todo.problem they use).

-- todo.query_integer: a query string value as an integer between lo and hi, or null when
-- it is anything else. Strict: ASCII digits only (leading zeros allowed), no sign, no
-- space of any kind (a Unicode space is not a digit: `\s` would have let U+3000 through to
-- the cast), no exponent; never raises, so the caller names the parameter in its 422.
-- Inlinable SQL; the AND is evaluated left to right, so the cast sees only digits, at
-- most 18 of them once leading zeros are gone (always within bigint).
create or replace function todo.query_integer(value text, lo bigint, hi bigint)
    returns bigint
    language sql immutable parallel safe
    as $$
    select case when value ~ '^[0-9]+$' and length(ltrim(value, '0')) <= 18 and value::bigint between lo and hi
                then value::bigint end
$$;

-- The account rules, defined once for every entry that reads them: api.register refuses
-- what breaks them (422), api.login lets nothing that breaks them match (401, the answer of
-- a wrong password), since such an email or password could never have been registered.

-- todo.email_problem: what is wrong with b's "email" (a JSON string, 1 to 254 characters
-- once surrounding whitespace is trimmed, local@domain.tld), as a validation problem, or
-- null. Emails are stored trimmed and compared case-insensitively.
create or replace function todo.email_problem(b jsonb)
    returns jsonb
    language sql immutable
    as $$
    select case
        when jsonb_typeof(b->'email') is distinct from 'string' then
            todo.problem('body', 'email', 'field required', 'missing')
        when char_length(todo.trim_ws(b->>'email')) > 254 or todo.trim_ws(b->>'email') !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
            todo.problem('body', 'email', 'must be a valid email address', 'value_error')
    end
$$;

-- todo.password_problem: what is wrong with b's "password" (a JSON string of 8 characters
-- to 72 bytes: bcrypt reads 72 bytes and ignores the rest, so a longer one is refused
-- rather than silently cut), as a validation problem, or null.
create or replace function todo.password_problem(b jsonb)
    returns jsonb
    language sql immutable
    as $$
    select case
        when jsonb_typeof(b->'password') is distinct from 'string' then
            todo.problem('body', 'password', 'field required', 'missing')
        when char_length(b->>'password') < 8 then
            todo.problem('body', 'password', 'must be at least 8 characters', 'string_too_short')
        when octet_length(b->>'password') > 72 then
            todo.problem('body', 'password', 'must be at most 72 bytes', 'string_too_long')
    end
$$;

revoke all on function todo.query_integer(text, bigint, bigint) from public;
revoke all on function todo.email_problem(jsonb) from public;
revoke all on function todo.password_problem(jsonb) from public;
grant execute on function todo.query_integer(text, bigint, bigint) to todo_gateway, todo_admin;
