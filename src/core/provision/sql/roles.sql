-- The three roles applications use. Run as superuser; idempotent (ALTER converges attributes and
-- passwords every time). CREATE ROLE for a missing role is issued by provision.ts first.
--   owner:   owns the application schema; migrations run as it. LOGIN, not superuser.
--   app:     the application's login: not superuser, not owner, so row-level security applies to it.
--   monitor: read-only statistics through pg_monitor, nothing else.
ALTER ROLE :"owner" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'owner_password';
ALTER ROLE :"app" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'app_password';
ALTER ROLE :"monitor" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'monitor_password';
ALTER ROLE :"monitor" SET default_transaction_read_only = on;
GRANT pg_monitor TO :"monitor";
