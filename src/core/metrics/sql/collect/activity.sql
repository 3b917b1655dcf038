-- Long transactions, idle-in-transaction sessions and lock waits, across every database. tusk's
-- own sessions (application_name 'tusk…') are left out.
WITH a AS (
  SELECT * FROM pg_stat_activity
  WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() AND application_name NOT LIKE 'tusk%'
)
SELECT 'pg_longest_transaction_seconds' AS name, '{}'::jsonb AS labels, coalesce(max(extract(epoch FROM now() - xact_start)), 0)::float8 AS value FROM a WHERE xact_start IS NOT NULL
UNION ALL
SELECT 'pg_longest_idle_in_transaction_seconds', '{}', coalesce(max(extract(epoch FROM now() - state_change)), 0)::float8 FROM a WHERE state LIKE 'idle in transaction%'
UNION ALL
SELECT 'pg_lock_waiting_sessions', '{}', count(*)::float8 FROM a WHERE cardinality(pg_blocking_pids(pid)) > 0
UNION ALL
SELECT 'pg_idle_in_transaction_session_timeout_seconds', '{}', (SELECT setting::float8 / 1000 FROM pg_settings WHERE name = 'idle_in_transaction_session_timeout')
