-- Heap and index block hits and reads of this database's tables (counters): the collector turns
-- the difference between two collections into the cache hit ratio of that interval.
SELECT 'pg_heap_blks_hit_total' AS name, '{}'::jsonb AS labels, coalesce(sum(heap_blks_hit), 0)::float8 AS value FROM pg_statio_user_tables
UNION ALL SELECT 'pg_heap_blks_read_total', '{}', coalesce(sum(heap_blks_read), 0)::float8 FROM pg_statio_user_tables
UNION ALL SELECT 'pg_idx_blks_hit_total', '{}', coalesce(sum(idx_blks_hit), 0)::float8 FROM pg_statio_user_tables
UNION ALL SELECT 'pg_idx_blks_read_total', '{}', coalesce(sum(idx_blks_read), 0)::float8 FROM pg_statio_user_tables
