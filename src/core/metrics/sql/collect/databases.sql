-- Per database: transactions, rows, deadlocks, temporary files, block I/O (counters since the last
-- statistics reset) and size.
SELECT m.name, jsonb_build_object('database', d.datname) AS labels, m.value
FROM pg_stat_database d
CROSS JOIN LATERAL (VALUES
  ('pg_xact_commit_total', d.xact_commit::float8),
  ('pg_xact_rollback_total', d.xact_rollback::float8),
  ('pg_tup_returned_total', d.tup_returned::float8),
  ('pg_tup_fetched_total', d.tup_fetched::float8),
  ('pg_tup_inserted_total', d.tup_inserted::float8),
  ('pg_tup_updated_total', d.tup_updated::float8),
  ('pg_tup_deleted_total', d.tup_deleted::float8),
  ('pg_deadlocks_total', d.deadlocks::float8),
  ('pg_temp_files_total', d.temp_files::float8),
  ('pg_temp_bytes_total', d.temp_bytes::float8),
  ('pg_blks_hit_total', d.blks_hit::float8),
  ('pg_blks_read_total', d.blks_read::float8),
  ('pg_database_size_bytes', pg_database_size(d.datid)::float8)
) AS m(name, value)
WHERE d.datname IS NOT NULL AND d.datname NOT IN ('template0', 'template1')
