-- The databases and roles whose statements were collected in a range ($1, $2), sorted.
SELECT array_agg(DISTINCT dbname ORDER BY dbname) AS databases, array_agg(DISTINCT username ORDER BY username) AS roles
FROM metrics.statements
WHERE at >= $1 AND at < $2
