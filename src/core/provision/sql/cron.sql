-- pg_cron in the application database (cron.database_name). The owner schedules jobs; they run as
-- the role that scheduled them, in background workers.
CREATE EXTENSION IF NOT EXISTS pg_cron;
GRANT USAGE ON SCHEMA cron TO :"owner";
