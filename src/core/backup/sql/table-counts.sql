-- Every user table with its size: drill-baseline.ts counts the rows of those small enough to count
-- after each backup, inside one REPEATABLE READ snapshot.
SELECT format('%I.%I', n.nspname, c.relname) AS table_name,
       pg_total_relation_size(c.oid) AS total_bytes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'partman', 'cron')
  AND n.nspname NOT LIKE 'pg_toast%'
ORDER BY 1;
