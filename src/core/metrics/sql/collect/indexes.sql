-- The 500 largest indexes of this database: size and scans (an index never scanned costs writes
-- and space for nothing). Unique indexes are labelled: they enforce a constraint even unscanned.
SELECT m.name, jsonb_build_object('schema', s.schemaname, 'table', s.relname, 'index', s.indexrelname, 'unique', i.indisunique::text) AS labels, m.value
FROM (
  SELECT * FROM pg_stat_user_indexes x
  WHERE NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = x.relid AND d.deptype = 'e')
  ORDER BY pg_relation_size(indexrelid) DESC LIMIT 500
) s
JOIN pg_index i ON i.indexrelid = s.indexrelid
CROSS JOIN LATERAL (VALUES
  ('pg_index_size_bytes', pg_relation_size(s.indexrelid)::float8),
  ('pg_index_scans_total', s.idx_scan::float8)
) AS m(name, value)
