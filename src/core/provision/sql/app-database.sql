-- Privileges in the application database. The owner role owns schema public and creates tables;
-- the application role reads and writes them through default privileges but cannot change schema.
ALTER SCHEMA public OWNER TO :"owner";
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO :"app", :"monitor";
REVOKE ALL ON DATABASE :"database" FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE :"database" TO :"app", :"owner";
GRANT CONNECT ON DATABASE :"database" TO :"monitor";
GRANT ALL ON DATABASE :"database" TO :"owner";

GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO :"app";
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO :"app";
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO :"app";
-- Default privileges without IN SCHEMA apply in every schema the owner creates (migrations, imports).
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" GRANT USAGE ON SCHEMAS TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" GRANT EXECUTE ON FUNCTIONS TO :"app";
ALTER DEFAULT PRIVILEGES FOR ROLE :"owner" GRANT USAGE ON TYPES TO :"app";

-- pg_partman (4.x) maintains partitions for the owner: its configuration tables and functions.
GRANT USAGE, CREATE ON SCHEMA partman TO :"owner";
GRANT ALL ON ALL TABLES IN SCHEMA partman TO :"owner";
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA partman TO :"owner";
GRANT EXECUTE ON ALL PROCEDURES IN SCHEMA partman TO :"owner";
GRANT USAGE ON SCHEMA partman TO :"app";
