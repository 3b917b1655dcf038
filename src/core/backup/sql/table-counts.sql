-- Exact row counts of every user table, as one snapshot sees them (run inside REPEATABLE READ).
-- The per-table count(*) statements are built from this list by drill-baseline.ts.
SELECT format('%I.%I', n.nspname, c.relname) AS table_name
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'partman', 'cron')
  AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1;
