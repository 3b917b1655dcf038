-- WAL archiving health (pg_stat_archiver) and the current WAL position.
SELECT archived_count,
       last_archived_wal,
       last_archived_time,
       failed_count,
       last_failed_wal,
       last_failed_time,
       pg_current_wal_lsn()::text AS current_lsn
FROM pg_stat_archiver;
