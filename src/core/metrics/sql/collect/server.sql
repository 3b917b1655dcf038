-- Checkpoints, WAL, archiving (counters, and the age of the last archived and failed segment), and
-- this server's role and timeline. The WAL position (pg_current_wal_lsn as bytes) is read on a
-- primary only (it errors in recovery; the one-time filter keeps it from being called), and with
-- max_wal_size and checkpoint_completion_target it tells checkpoints forced by WAL volume apart
-- from the ones a backup, a promotion, DROP DATABASE or CHECKPOINT requested.
SELECT 'pg_checkpoints_timed_total' AS name, '{}'::jsonb AS labels, checkpoints_timed::float8 AS value FROM pg_stat_bgwriter
UNION ALL SELECT 'pg_checkpoints_requested_total', '{}', checkpoints_req::float8 FROM pg_stat_bgwriter
UNION ALL SELECT 'pg_wal_bytes_total', '{}', wal_bytes::float8 FROM pg_stat_wal
UNION ALL SELECT 'pg_wal_position_bytes', '{}', (pg_current_wal_lsn() - '0/0'::pg_lsn)::float8 WHERE NOT pg_is_in_recovery()
UNION ALL SELECT 'pg_setting_max_wal_size_bytes', '{}', pg_size_bytes(current_setting('max_wal_size'))::float8
UNION ALL SELECT 'pg_setting_checkpoint_completion_target', '{}', current_setting('checkpoint_completion_target')::float8
UNION ALL SELECT 'pg_archived_total', '{}', archived_count::float8 FROM pg_stat_archiver
UNION ALL SELECT 'pg_archive_failed_total', '{}', failed_count::float8 FROM pg_stat_archiver
UNION ALL SELECT 'pg_last_archived_age_seconds', '{}', extract(epoch FROM now() - last_archived_time)::float8 FROM pg_stat_archiver WHERE last_archived_time IS NOT NULL
UNION ALL SELECT 'pg_last_archive_failure_age_seconds', '{}', extract(epoch FROM now() - last_failed_time)::float8 FROM pg_stat_archiver WHERE last_failed_time IS NOT NULL
UNION ALL SELECT 'pg_archive_failing', '{}', (last_failed_time IS NOT NULL AND (last_archived_time IS NULL OR last_failed_time > last_archived_time))::int::float8 FROM pg_stat_archiver
UNION ALL SELECT 'pg_wal_dir_bytes', '{}', coalesce(sum(size), 0)::float8 FROM pg_ls_waldir()
UNION ALL SELECT 'pg_uptime_seconds', '{}', extract(epoch FROM now() - pg_postmaster_start_time())::float8
