-- tusk's metrics database belongs to the monitoring role, which is read-only everywhere else: only
-- here may it write. Nobody else may connect.
ALTER ROLE :"monitor" IN DATABASE :"metrics_database" SET default_transaction_read_only = off;
REVOKE CONNECT, TEMPORARY ON DATABASE :"metrics_database" FROM PUBLIC;
GRANT CONNECT ON DATABASE :"metrics_database" TO :"monitor";
