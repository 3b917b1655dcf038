-- A named restore point in the WAL, for recovery_target_name; returns where and when.
SELECT pg_create_restore_point($1)::text AS lsn, now() AS created_at;
