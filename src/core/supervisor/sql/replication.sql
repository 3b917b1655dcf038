-- Each streaming replica as the primary sees it: Patroni names the walreceiver after the node
-- (application_name), so rows join to nodes by name.
SELECT application_name AS name,
       state,
       sync_state,
       pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)::bigint AS lag_bytes,
       extract(epoch FROM coalesce(replay_lag, interval '0'))::float8 AS lag_seconds
FROM pg_stat_replication
ORDER BY application_name
