-- The 200 largest tables of this database: size, live and dead tuples, dead share, writes, and
-- seconds since the last (auto)vacuum and (auto)analyze; "never" counts from the server's start.
WITH t AS (
  SELECT s.*, pg_total_relation_size(s.relid) AS bytes
  FROM pg_stat_user_tables s
  -- Tables of extensions (pg_cron, pg_partman) are not the application's.
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = s.relid AND d.deptype = 'e')
  ORDER BY pg_total_relation_size(s.relid) DESC
  LIMIT 200
)
SELECT m.name, jsonb_build_object('schema', t.schemaname, 'table', t.relname) AS labels, m.value
FROM t
CROSS JOIN LATERAL (VALUES
  ('pg_table_size_bytes', t.bytes::float8),
  ('pg_table_live_tuples', t.n_live_tup::float8),
  ('pg_table_dead_tuples', t.n_dead_tup::float8),
  ('pg_table_dead_ratio', CASE WHEN t.n_live_tup + t.n_dead_tup = 0 THEN 0 ELSE t.n_dead_tup::float8 / (t.n_live_tup + t.n_dead_tup) END),
  ('pg_table_writes_total', (t.n_tup_ins + t.n_tup_upd + t.n_tup_del)::float8),
  ('pg_table_seq_scans_total', t.seq_scan::float8),
  ('pg_table_autovacuum_count_total', t.autovacuum_count::float8),
  ('pg_table_vacuum_age_seconds', extract(epoch FROM now() - coalesce(greatest(t.last_autovacuum, t.last_vacuum), pg_postmaster_start_time()))::float8),
  ('pg_table_analyze_age_seconds', extract(epoch FROM now() - coalesce(greatest(t.last_autoanalyze, t.last_analyze), pg_postmaster_start_time()))::float8)
) AS m(name, value)
