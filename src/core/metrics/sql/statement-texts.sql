-- The text of statements seen for the first time, by their userid:dbid:queryid key.
SELECT s.userid::text || ':' || s.dbid::text || ':' || s.queryid::text AS key, s.query
FROM pg_stat_statements(true) s
WHERE s.userid::text || ':' || s.dbid::text || ':' || s.queryid::text = ANY($1)
