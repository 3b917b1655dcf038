-- Each replica's lag as the primary sees it (bytes not yet replayed; seconds of replay lag) and
-- whether it is synchronous. application_name is the node's name (Patroni sets it). PostgreSQL
-- measures replay_lag from the standby's replies, so a standby that stopped replying keeps showing
-- its last figure: while it is behind, the time since its last reply counts too.
SELECT m.name, jsonb_build_object('node', r.application_name, 'sync_state', r.sync_state) AS labels, m.value
FROM pg_stat_replication r
CROSS JOIN LATERAL (SELECT coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), r.replay_lsn), 0)::float8 AS behind) b
CROSS JOIN LATERAL (VALUES
  ('pg_replication_lag_bytes', b.behind),
  ('pg_replication_lag_seconds', CASE
     WHEN b.behind > 0 THEN greatest(coalesce(extract(epoch FROM r.replay_lag), 0), coalesce(extract(epoch FROM now() - r.reply_time), 0))
     ELSE coalesce(extract(epoch FROM r.replay_lag), 0)
   END::float8)
) AS m(name, value)
WHERE NOT pg_is_in_recovery()
