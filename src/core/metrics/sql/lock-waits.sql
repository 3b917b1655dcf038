-- Who blocks whom, now: every session waiting on a lock, with the sessions it waits for
-- (pg_blocking_pids), what each is running and for how long.
SELECT w.pid,
       w.usename AS "user",
       w.datname AS database,
       extract(epoch FROM now() - w.query_start)::float8 AS "waitingSeconds",
       w.wait_event_type AS "waitEventType",
       w.query,
       coalesce(json_agg(json_build_object(
         'pid', b.pid, 'user', b.usename, 'state', b.state, 'query', b.query,
         'transactionSeconds', extract(epoch FROM now() - b.xact_start)::float8
       )) FILTER (WHERE b.pid IS NOT NULL), '[]') AS "blockedBy"
FROM pg_stat_activity w
CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS blocker(pid)
LEFT JOIN pg_stat_activity b ON b.pid = blocker.pid
WHERE cardinality(pg_blocking_pids(w.pid)) > 0
GROUP BY w.pid, w.usename, w.datname, w.query_start, w.wait_event_type, w.query
ORDER BY "waitingSeconds" DESC
