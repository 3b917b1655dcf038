-- Each replica's lag as the primary sees it (bytes not yet replayed; seconds of replay lag) and
-- whether it is synchronous. application_name is the node's name (Patroni sets it).
SELECT m.name, jsonb_build_object('node', r.application_name, 'sync_state', r.sync_state) AS labels, m.value
FROM pg_stat_replication r
CROSS JOIN LATERAL (VALUES
  ('pg_replication_lag_bytes', coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn), 0)::float8),
  ('pg_replication_lag_seconds', coalesce(extract(epoch FROM r.replay_lag), 0)::float8)
) AS m(name, value)
WHERE NOT pg_is_in_recovery()
