-- Sessions holding tusk's schema-migration advisory lock (pg_advisory_lock($1::bigint)) in any
-- database: a bigint key shows in pg_locks as classid (high 32 bits), objid (low 32 bits), objsubid 1.
SELECT l.pid,
       d.datname AS database,
       coalesce(a.xact_start, a.backend_start) AS since,
       a.usename AS role
FROM pg_locks l
JOIN pg_database d ON d.oid = l.database
LEFT JOIN pg_stat_activity a ON a.pid = l.pid
WHERE l.locktype = 'advisory'
  AND l.granted
  AND l.objsubid = 1
  AND l.classid::bigint = ($1::bigint >> 32)
  AND l.objid::bigint = ($1::bigint & 4294967295)
ORDER BY l.pid;
