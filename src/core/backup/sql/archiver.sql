-- WAL archiving health (pg_stat_archiver) and the current WAL position. A node in recovery (a
-- replica of a primary on another host) archives nothing: the primary's figures are not here.
SELECT archived_count,
       last_archived_wal,
       last_archived_time,
       failed_count,
       last_failed_wal,
       last_failed_time,
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_lsn,
       pg_is_in_recovery() AS in_recovery
FROM pg_stat_archiver;
