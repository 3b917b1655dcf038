-- Client connections by state (every state listed, zero included), against max_connections.
SELECT 'pg_connections' AS name, jsonb_build_object('state', s.state) AS labels, count(a.pid)::float8 AS value
FROM (VALUES ('active'), ('idle'), ('idle in transaction'), ('idle in transaction (aborted)'), ('fastpath function call'), ('disabled')) AS s(state)
LEFT JOIN pg_stat_activity a ON a.state = s.state AND a.backend_type = 'client backend'
GROUP BY s.state
UNION ALL
SELECT 'pg_max_connections', '{}', current_setting('max_connections')::float8
UNION ALL
SELECT 'pg_superuser_reserved_connections', '{}', current_setting('superuser_reserved_connections')::float8
