-- Every valid B-tree index, for amcheck's bt_index_check.
SELECT format('%I.%I', n.nspname, ci.relname) AS index_name
FROM pg_index i
JOIN pg_class ci ON ci.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = ci.relnamespace
JOIN pg_am am ON am.oid = ci.relam
WHERE am.amname = 'btree' AND i.indisvalid AND ci.relpersistence <> 't'
ORDER BY 1;
