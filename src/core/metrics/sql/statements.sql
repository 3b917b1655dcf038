-- pg_stat_statements' figures, cumulative, for the 500 statements with the most total time, without
-- their text (showtext => false spares reading the query text file every collection; texts are
-- fetched only for statements not seen before). The collector keeps the previous snapshot and
-- stores the difference. tusk's own traffic is left out: the monitoring role's queries, the metrics
-- database, and the postgres database (Patroni's checks).
SELECT s.queryid::text AS queryid, d.datname AS dbname, r.rolname AS username,
       s.calls, s.total_exec_time AS total_ms, s.max_exec_time AS max_ms,
       s.stddev_exec_time AS stddev_ms, s.mean_exec_time AS mean_ms, s.rows,
       s.shared_blks_hit, s.shared_blks_read, s.userid::text || ':' || s.dbid::text || ':' || s.queryid::text AS key
FROM pg_stat_statements(false) s
JOIN pg_database d ON d.oid = s.dbid
JOIN pg_roles r ON r.oid = s.userid
WHERE s.queryid IS NOT NULL
  AND r.rolname <> 'tusk_monitor'
  AND d.datname NOT IN ('postgres', 'tusk_metrics', 'template0', 'template1')
ORDER BY s.total_exec_time DESC
LIMIT 500
