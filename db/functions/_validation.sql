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

-- todo.parse_rfc3339: a date-time of RFC 3339 (section 5.6: a full-date, "T" (or "t" or a
-- space), a full-time with seconds, an optional fraction, and "Z" or an offset of +hh:mm /
-- -hh:mm) as a timestamptz, or a bare full-date (2026-01-10, what <input type="date"> sends)
-- as 00:00 UTC of that day; null for anything else: another shape, a field out of its range
-- (month 13, hour 24), a day the calendar lacks (Feb 30, year 0000), an offset beyond
-- +-15:59 (PostgreSQL's limit; every real offset lies within +-14:00), or an instant outside
-- the years 0001 to 9999 in UTC (which RFC 3339's four-digit year could not show). Never
-- raises, so the caller names the field in its 422 (strict: null in, null out, without the
-- subtransaction of the exception block). The fraction keeps microseconds (rounded); a leap
-- second (:60) is the next minute's first second, as PostgreSQL reads it.
create or replace function todo.parse_rfc3339(value text)
    returns timestamptz
    language plpgsql stable strict
    as $$
declare
    ts timestamptz;
begin
    if value ~ '^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$' then
        ts := (value || 'T00:00:00Z')::timestamptz;
    elsif value ~ ('^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt ]([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)'
                   '(\.[0-9]+)?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$') then
        ts := value::timestamptz;
    end if;
    if ts >= '0001-01-01T00:00:00Z' and ts < '10000-01-01T00:00:00Z' then
        return ts;
    end if;
    return null;
exception
    when datetime_field_overflow or invalid_datetime_format or invalid_time_zone_displacement_value then
        return null;
end
$$;

-- The account rules, defined once for every entry that reads them: api.register refuses
-- what breaks them (422), api.login lets nothing that breaks them match (401, the answer of
-- a wrong password), since such an email or password could never have been registered.

-- todo.string_problem: b's field "name" as a required JSON string: a 'missing' problem when
-- b has no such key, 'string_type' when its value is anything but a string (null included),
-- as FastAPI answers a required str field and as the task fields do; null when it is a string.
create or replace function todo.string_problem(b jsonb, name text)
    returns jsonb
    language sql immutable
    as $$
    select case
        when not coalesce(b ? name, false) then todo.problem('body', name, 'field required', 'missing')
        when jsonb_typeof(b->name) <> 'string' then todo.problem('body', name, 'must be a string', 'string_type')
    end
$$;

-- todo.email_problem: what is wrong with b's "email" (a JSON string, 1 to 254 characters
-- once surrounding whitespace is trimmed, local@domain.tld), as a validation problem, or
-- null. Emails are stored trimmed and compared case-insensitively.
create or replace function todo.email_problem(b jsonb)
    returns jsonb
    language sql immutable
    as $$
    select coalesce(todo.string_problem(b, 'email'), case
        when char_length(todo.trim_ws(b->>'email')) > 254 or todo.trim_ws(b->>'email') !~ '^[^@\s]+@[^@\s]+\.[^@\s]+$' then
            todo.problem('body', 'email', 'must be a valid email address', 'value_error')
    end)
$$;

-- todo.password_problem: what is wrong with b's "password" (a JSON string of 8 characters
-- to 72 bytes: bcrypt reads 72 bytes and ignores the rest, so a longer one is refused
-- rather than silently cut), as a validation problem, or null.
create or replace function todo.password_problem(b jsonb)
    returns jsonb
    language sql immutable
    as $$
    select coalesce(todo.string_problem(b, 'password'), case
        when char_length(b->>'password') < 8 then
            todo.problem('body', 'password', 'must be at least 8 characters', 'string_too_short')
        when octet_length(b->>'password') > 72 then
            todo.problem('body', 'password', 'must be at most 72 bytes', 'string_too_long')
    end)
$$;

revoke all on function todo.query_integer(text, bigint, bigint) from public;
revoke all on function todo.parse_rfc3339(text) from public;
revoke all on function todo.string_problem(jsonb, text) from public;
revoke all on function todo.email_problem(jsonb) from public;
revoke all on function todo.password_problem(jsonb) from public;
grant execute on function todo.query_integer(text, bigint, bigint) to todo_gateway, todo_admin;
grant execute on function todo.parse_rfc3339(text) to todo_gateway, todo_admin;
