-- The statements of a time range, from the per-collection deltas: calls and time summed, the mean
-- over every call, the standard deviation combined from each interval's sum of squared deviations,
-- and the shared-buffer hit ratio, per statement, database and role. $4 and $5 narrow it to one
-- database and one role when not null. $ORDER is one of the output columns (quoted), chosen by the caller.
WITH s AS (
  SELECT queryid, dbname, username,
         sum(calls) AS calls, sum(total_ms) AS total_ms, max(max_ms) AS max_ms,
         sum(sum_sq_dev + calls * mean_ms * mean_ms) AS sum_sq, sum(rows) AS rows,
         sum(shared_blks_hit) AS hit, sum(shared_blks_read) AS read
  FROM metrics.statements
  WHERE at >= $1 AND at < $2 AND ($4::text IS NULL OR dbname = $4) AND ($5::text IS NULL OR username = $5)
  GROUP BY queryid, dbname, username
)
SELECT s.queryid::text AS queryid, s.dbname, s.username, coalesce(q.query, '') AS query, calls::float8 AS calls,
       total_ms AS "totalMs", total_ms / greatest(calls, 1) AS "meanMs", max_ms AS "maxMs",
       sqrt(greatest(sum_sq / greatest(calls, 1) - (total_ms / greatest(calls, 1)) ^ 2, 0)) AS "stddevMs",
       rows::float8 AS rows,
       CASE WHEN hit + read = 0 THEN NULL ELSE hit::float8 / (hit + read) END AS "hitRatio"
FROM s
LEFT JOIN metrics.queries q USING (queryid, dbname, username)
WHERE calls > 0
ORDER BY $ORDER DESC
LIMIT $3
