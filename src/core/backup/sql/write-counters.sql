-- Cumulative writes per table (pg_stat_user_tables), to tell whether a table changed while counted.
SELECT format('%I.%I', schemaname, relname) AS table_name, n_tup_ins + n_tup_upd + n_tup_del AS writes
FROM pg_stat_user_tables;
