-- 0001: tables, row-level security and privileges.
-- Applied once by db/migrate (running as todo_owner), recorded in todo_meta.schema_migrations.

-- The current user of this transaction, as set by api.begin_request.
-- Once set on a connection the setting reads '' rather than NULL, so '' is "nobody".
create function todo.current_user_id() returns text
    language sql stable parallel safe
    as $$ select nullif(current_setting('app.user_id', true), '') $$;

-- Trims surrounding whitespace, Unicode spaces included: what Python's str.strip() removes
-- (\s alone misses U+001C..U+001F, U+0085, U+00A0 and U+202F, so they are listed), and a
-- stray byte-order mark (U+FEFF).
create function todo.trim_ws(s text) returns text
    language sql immutable strict parallel safe
    as $$ select regexp_replace(s, '^[\s\u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+|[\s\u001c-\u001f\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]+$', '', 'g') $$;

create table todo.tasks (
    id          bigint generated always as identity primary key,
    user_id     text not null default todo.current_user_id(),
    title       text not null,
    description text,
    completed   boolean not null default false,
    created_at  timestamptz not null default now(),
    updated_at  timestamptz not null default now(),
    constraint tasks_user_id_valid check (char_length(user_id) between 1 and 255),
    constraint tasks_title_length check (char_length(todo.trim_ws(title)) between 1 and 200),
    constraint tasks_description_length check (description is null or char_length(description) <= 1000)
);

-- Serves every list query: one user's tasks in creation order (and the id tie-breaker).
create index tasks_user_id_created_at_idx on todo.tasks (user_id, created_at, id);

-- updated_at is the database's to keep; id, user_id and created_at never change.
create function todo.tasks_touch() returns trigger
    language plpgsql
    as $$
begin
    new.updated_at := now();
    new.created_at := old.created_at;
    return new;
end
$$;

create trigger tasks_touch before update on todo.tasks
    for each row execute function todo.tasks_touch();

create table todo.users (
    id            text primary key,
    email         text not null,
    name          text,
    password_hash text not null,
    created_at    timestamptz not null default now(),
    constraint users_id_valid check (id ~ '^[A-Za-z0-9_-]{1,255}$'),
    constraint users_email_valid check (char_length(email) <= 254 and email ~ '^[^@\s]+@[^@\s]+$'),
    constraint users_name_length check (name is null or char_length(name) <= 255),
    constraint users_password_hash_is_bcrypt check (password_hash ~ '^\$2[abxy]\$')
);

create unique index users_email_key on todo.users (lower(email));

-- Logout: every token of the user issued at or before tokens_valid_after (in whole
-- seconds, as JWT iat is) is revoked. Kept apart from users so that users of an
-- external identity provider (Better Auth) can be revoked too.
create table todo.revocations (
    user_id            text primary key,
    tokens_valid_after timestamptz not null default now()
);

alter table todo.tasks enable row level security;
alter table todo.tasks force row level security;
alter table todo.users enable row level security;
alter table todo.users force row level security;
alter table todo.revocations enable row level security;
alter table todo.revocations force row level security;

-- tasks: a user reaches only their own rows; nobody set, nothing reached.
create policy "users see their own tasks" on todo.tasks
    for select to todo_gateway, todo_admin using (user_id = (select todo.current_user_id()));
create policy "users add tasks only for themselves" on todo.tasks
    for insert to todo_gateway, todo_admin with check (user_id = (select todo.current_user_id()));
create policy "users change only their own tasks" on todo.tasks
    for update to todo_gateway, todo_admin using (user_id = (select todo.current_user_id()))
    with check (user_id = (select todo.current_user_id()));
create policy "users delete only their own tasks" on todo.tasks
    for delete to todo_gateway, todo_admin using (user_id = (select todo.current_user_id()));
create policy "admins read every task" on todo.tasks
    for select to todo_admin using (true);

-- users: a user reads their own account; accounts are created and checked only by
-- the SECURITY DEFINER functions api.register and api.login, which run as todo_owner.
create policy "users see their own account" on todo.users
    for select to todo_gateway, todo_admin using (id = (select todo.current_user_id()));
create policy "admins read every account" on todo.users
    for select to todo_admin using (true);
create policy "the account functions look up any account" on todo.users
    for select to todo_owner using (true);
create policy "the account functions create accounts" on todo.users
    for insert to todo_owner with check (true);

-- revocations: a user revokes their own tokens and reads their own revocation.
create policy "users see their own revocation" on todo.revocations
    for select to todo_gateway, todo_admin using (user_id = (select todo.current_user_id()));
create policy "users revoke only their own tokens" on todo.revocations
    for insert to todo_gateway, todo_admin with check (user_id = (select todo.current_user_id()));
create policy "users move only their own revocation" on todo.revocations
    for update to todo_gateway, todo_admin using (user_id = (select todo.current_user_id()))
    with check (user_id = (select todo.current_user_id()));
create policy "the account functions read any revocation" on todo.revocations
    for select to todo_owner using (true);

-- Privileges: only what the API needs. The password hash column is never granted.
revoke all on all tables in schema todo from public;
revoke all on all functions in schema todo from public;
grant usage on schema todo to todo_gateway, todo_admin;
grant execute on function todo.current_user_id() to todo_gateway, todo_admin;
grant execute on function todo.trim_ws(text) to todo_gateway, todo_admin;
grant select, insert, update, delete on todo.tasks to todo_gateway, todo_admin;
grant select (id, email, name, created_at) on todo.users to todo_gateway, todo_admin;
grant select, insert, update on todo.revocations to todo_gateway, todo_admin;
