-- The role Patroni's pg_rewind connects as. Not a superuser, so that it can be admitted from
-- other hosts where the superuser never is: pg_rewind needs only these four functions (PostgreSQL
-- docs, pg_rewind, "Notes"), the grants Patroni itself makes when it bootstraps a cluster with a
-- separate rewind role. Run as superuser; idempotent. CREATE ROLE is issued by provision.ts first.
ALTER ROLE :"rewind" WITH LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD :'rewind_password';
GRANT EXECUTE ON FUNCTION pg_catalog.pg_ls_dir(text, boolean, boolean) TO :"rewind";
GRANT EXECUTE ON FUNCTION pg_catalog.pg_stat_file(text, boolean) TO :"rewind";
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text) TO :"rewind";
GRANT EXECUTE ON FUNCTION pg_catalog.pg_read_binary_file(text, bigint, bigint, boolean) TO :"rewind";
