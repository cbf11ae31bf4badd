-- Roles, created when missing (roles are cluster-wide, so this runs on every deploy).
-- todo_owner   NOLOGIN, owns every object of the project.
-- todo_gateway LOGIN, the gateway's role: not superuser, not BYPASSRLS, owns nothing.
-- todo_admin   NOLOGIN group for people in psql: grant it to a person's login role.
do $$
begin
    if not exists (select from pg_roles where rolname = 'todo_owner') then
        create role todo_owner nologin;
    end if;
    if not exists (select from pg_roles where rolname = 'todo_gateway') then
        create role todo_gateway login;
    end if;
    if not exists (select from pg_roles where rolname = 'todo_admin') then
        create role todo_admin nologin;
    end if;
end
$$;

alter role todo_owner nologin nosuperuser nobypassrls nocreatedb nocreaterole;
alter role todo_gateway login nosuperuser nobypassrls nocreatedb nocreaterole noinherit;
alter role todo_admin nologin nosuperuser nobypassrls nocreatedb nocreaterole;

create schema if not exists extensions;
create extension if not exists pgcrypto with schema extensions;
grant usage on schema extensions to todo_owner;

create schema if not exists todo_meta;
create table if not exists todo_meta.schema_migrations (
    version    text primary key,
    applied_at timestamptz not null default now()
);
revoke all on schema todo_meta from public;

create schema if not exists todo authorization todo_owner;

-- todo_owner creates the api schema on each deploy.
do $$ begin execute format('grant create on database %I to todo_owner', current_database()); end $$;
