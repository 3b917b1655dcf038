-- Each replica as the primary sees it (application_name is the node's name; Patroni sets it): WAL
-- not yet replayed in bytes, the replay position, PostgreSQL's own replay_lag, and whether it is
-- synchronous. replay_lag only moves when the standby replays, so a standby whose replay or
-- receiver stalls keeps showing its last figure; the collector derives the lag in seconds from the
-- replay position and the primary's WAL position over time (see Collector.replicationLag).
-- A standby that has not yet reported a replay position (a new one, or one whose receiver froze
-- before its first reply) counts as replayed up to the furthest position it did report, else what
-- was sent to it.
SELECT m.name, jsonb_build_object('node', r.application_name, 'sync_state', r.sync_state) AS labels, m.value
FROM pg_stat_replication r
CROSS JOIN LATERAL (SELECT coalesce(r.replay_lsn, r.flush_lsn, r.write_lsn, r.sent_lsn) AS replayed) p
CROSS JOIN LATERAL (VALUES
  ('pg_replication_lag_bytes', coalesce(pg_wal_lsn_diff(pg_current_wal_lsn(), p.replayed), 0)::float8),
  ('pg_replication_replay_lsn_bytes', coalesce(pg_wal_lsn_diff(p.replayed, '0/0'), 0)::float8),
  ('pg_replication_replay_lag_reported_seconds', coalesce(extract(epoch FROM r.replay_lag), 0)::float8)
) AS m(name, value)
WHERE NOT pg_is_in_recovery()
UNION ALL
SELECT 'pg_current_wal_lsn_bytes', '{}', pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::float8
WHERE NOT pg_is_in_recovery()
